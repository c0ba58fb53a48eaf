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


def _python_codec(name: str | None) -> str | None:
    """A Python codec name as `choose_charset` returns it, checked (no WHATWG aliasing: already applied)."""
    try:
        return codecs.lookup(name).name if name else None
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


_LANG = re.compile(rb"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})""", re.IGNORECASE)
# Languages written in windows-1252: browsers' default legacy encoding for them.
_WESTERN = {"en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "nn", "fi", "is", "ga", "ca",
            "eu", "gl", "af", "id", "ms", "sw", "la", "oc", "br", "cy", "gd", "fo", "lb", "rm", "wa"}


def detect_charset(body: bytes) -> str:
    """Best guess for undeclared legacy bytes: windows-1252 for Western (or unmarked) pages when it
    decodes them, as browsers do, else statistics (charset-normalizer)."""
    lang = _LANG.search(body[:4096])
    western = lang is None or lang.group(1).decode("ascii").lower() in _WESTERN
    if western and _decodes_cleanly(body, "cp1252"):
        statistical = _statistical_guess(body)
        if statistical is None or _single_byte(statistical):
            return "cp1252"
        return statistical
    return _statistical_guess(body) or "utf-8"


def _statistical_guess(body: bytes) -> str | None:
    best = from_bytes(body[:200_000]).best()
    return normalise_codec(best.encoding if best else None)


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp125", "iso8859", "latin", "mac", "koi8", "cp437", "cp850", "tis")) or codec == "cp874"


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


def decode_html(body: bytes, content_type: str | None = None, codec: str | None = None) -> tuple[str, str]:
    """Decode page bytes to text; returns (text, codec). Never raises on bad bytes.

    `codec`: what `choose_charset(body, content_type)` already returned for these bytes (the fetcher
    chooses it for the raw layer), so it is not chosen twice; an unknown codec name is chosen again.
    """
    codec = _python_codec(codec) or choose_charset(body, content_type)
    text = body.decode(codec, errors="replace")
    return text.lstrip("\ufeff"), codec
