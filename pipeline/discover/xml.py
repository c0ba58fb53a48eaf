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


class UnsafeXML(Exception):
    """The document declares entities or external references (billion laughs, XXE)."""


class BadDocument(Exception):
    """The document is not a feed or sitemap we can read."""


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
