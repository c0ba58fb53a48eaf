"""Decode page bytes: charset from the HTTP header, then <meta>, then detection."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE
)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Browsers decode these labels with the superset codec; so do we.
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
                   "ascii": "cp1252", "us-ascii": "cp1252", "iso-8859-9": "cp1254",
                   "tis-620": "cp874", "gb2312": "gb18030", "gbk": "gb18030"}


def normalise_codec(label: str | None) -> str | None:
    """Return a Python codec name for a charset label, or None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    label = _WHATWG_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """Charset declared in a Content-Type header value."""
    match = _HEADER_CHARSET.search(content_type or "")
    return normalise_codec(match.group(1)) if match else None


def meta_charset(body: bytes) -> str | None:
    """Charset declared by <meta charset> or <meta http-equiv> in the first 4 KiB."""
    match = _META_CHARSET.search(body[:4096])
    return normalise_codec(match.group(1).decode("ascii", "ignore")) if match else None


def detect_charset(body: bytes) -> str:
    """Best guess of the encoding by statistics (charset-normalizer)."""
    best = from_bytes(body[:200_000]).best()
    return normalise_codec(best.encoding if best else None) or "utf-8"


def _decodes_cleanly(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def choose_charset(body: bytes, content_type: str | None = None) -> str:
    """Pick the codec: BOM, HTTP header, <meta>, then detection; a declared one that
    cannot decode the bytes (a wrong declaration) falls through to the next signal."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    for declared in (header_charset(content_type), meta_charset(body)):
        if declared and _decodes_cleanly(body, declared):
            return declared
    if _decodes_cleanly(body, "utf-8"):
        return "utf-8"
    return detect_charset(body)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode page bytes to text; returns (text, codec). Never raises on bad bytes."""
    codec = choose_charset(body, content_type)
    text = body.decode(codec, errors="replace")
    return text.lstrip("\ufeff"), codec
