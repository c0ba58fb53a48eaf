"""HTML as the extractors see it: bytes sniffed for binary content, one parse, non-content elements dropped."""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from pipeline.charset import decode_html
from pipeline.errors import ExtractError, Reason

_HTML_TYPES = ("html", "xml", "text/plain")
_UNKNOWN_TYPES = {"application/octet-stream", "binary/octet-stream", "application/unknown"}  # sniffed
_BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"RIFF",
    b"ID3",
    b"OggS",
    b"\x00\x00\x00",
)


def decode_page(body: bytes, content_type: str | None, encoding: str | None = None) -> str:
    """Page bytes as text (charset from BOM, header, <meta>, detection, unless the fetcher's `encoding` is
    given), refusing what is not HTML."""
    check_html_bytes(body, content_type)
    html, _codec = decode_html(body, content_type, encoding)
    return html


def check_html_bytes(body: bytes, content_type: str | None) -> None:
    """Raise ExtractError for an empty body, a non-HTML content type or binary bytes."""
    if not body or not body.strip():
        raise ExtractError("empty response body", reason=Reason.EMPTY_BODY)
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and mime not in _UNKNOWN_TYPES and not any(kind in mime for kind in _HTML_TYPES):
        raise ExtractError(f"not an HTML page: {mime}", reason=Reason.NOT_HTML)
    head = body[:1024]
    has_bom = head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"))
    if head.startswith(_BINARY_MAGIC) or (b"\x00" in head and not has_bom):
        raise ExtractError("binary content", reason=Reason.NOT_HTML)


_NOT_CONTENT = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "link",
    "iframe",
    "object",
    "embed",
)


def strip_non_content(tree: HtmlElement) -> None:
    """Drop elements no extractor reads (after metadata, which needs JSON-LD scripts): smaller
    trees make both extractors' copies and scans cheaper."""
    etree.strip_elements(tree, *_NOT_CONTENT, etree.Comment, etree.ProcessingInstruction, with_tail=False)


def parse_html(html: str) -> HtmlElement:
    """Parse once; every later stage shares this tree (or a copy of it)."""
    if not html or not html.strip():
        raise ExtractError("empty document", reason=Reason.EMPTY_BODY)
    try:
        tree = load_html(html)
    except (ValueError, TypeError, etree.ParserError) as exc:
        raise ExtractError(f"unparsable HTML: {exc}", reason=Reason.PARSE_ERROR) from None
    if tree is None or not isinstance(tree, HtmlElement):
        raise ExtractError("unparsable HTML", reason=Reason.PARSE_ERROR)
    return tree

