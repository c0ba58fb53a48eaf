"""XML safety for feeds and sitemaps: entity attacks refused, gzip bombs capped, the root element sniffed."""

from __future__ import annotations

import re
import zlib

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

GZIP_MAGIC = b"\x1f\x8b"
FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_ROOT_TAG = re.compile(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
# Bytes XML 1.0 forbids anywhere (C0 controls but tab, LF, CR): one in a title would fail the whole document.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")


class UnsafeXML(Exception):
    """The document declares entities or external references (billion laughs, XXE)."""


class BadDocument(Exception):
    """The document is not a feed or sitemap we can read."""


def scrub(body: bytes) -> bytes:
    """Remove what XML 1.0 forbids and one item can carry (a NUL or lone-surrogate character reference,
    a control byte), so that one bad entry costs only its character, not the whole feed or sitemap."""
    body = _CHAR_REF.sub(_allowed_ref, body)
    if not body.startswith(_UTF16_STARTS):  # in UTF-16 every other byte may be NUL
        body = _CONTROL_BYTES.sub(b"", body)
    return body


def _allowed_ref(match: re.Match[bytes]) -> bytes:
    hex_digits, decimal = match.groups()
    if len((hex_digits or decimal).lstrip(b"0")) > 8:  # past U+10FFFF whatever it says (and no 4,300-digit int())
        return b""
    code = int(hex_digits, 16) if hex_digits else int(decimal)
    allowed = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or (
        0x10000 <= code <= 0x10FFFF)
    return match.group() if allowed else b""


def check_xml_safe(body: bytes) -> bool:
    """Raise UnsafeXML on entity declarations or external references; True if well-formed XML."""
    try:
        SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXML(f"{type(exc).__name__}: {exc}") from None
    except SafeET.ParseError:
        return False
    return True


def sniff_root(body: bytes) -> str | None:
    """Local name of the root element of an (optionally gzipped) XML document, lowercased."""
    if body.startswith(GZIP_MAGIC):
        try:
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, 4096)
        except zlib.error:
            return None
    head = re.sub(rb"<!--.*?-->|<!DOCTYPE[^>]*>", b"", body[:4096], flags=re.DOTALL)
    match = _ROOT_TAG.search(head)
    return match.group(1).decode("ascii", "ignore").lower() if match else None


def gunzip(body: bytes, cap: int) -> bytes:
    """Decompress a gzip document, refusing more than `cap` bytes of output (gzip bombs)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        raise BadDocument(f"bad gzip: {exc}") from None
    if len(out) > cap:
        raise BadDocument(f"gzip sitemap expands beyond {cap} bytes")
    return out
