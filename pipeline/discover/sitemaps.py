"""Sitemap parsing: url sets, sitemap indexes, Google News sitemaps, gzip and plain-text sitemaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from pipeline.dates import parse_date
from pipeline.discover.xml import GZIP_MAGIC, BadDocument, check_xml_safe, gunzip
from pipeline.models import DateSignal

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass(frozen=True)
class SitemapItem:
    """One <url> or <sitemap> entry: its location, date and where the date came from."""

    loc: str
    published: datetime | None = None
    signal: DateSignal | None = None
    title: str | None = None


def parse_sitemap(body: bytes, cap: int) -> tuple[Literal["index", "urlset"], list[SitemapItem]]:
    """("index", child sitemaps) or ("urlset", article URLs)."""
    if body.startswith(GZIP_MAGIC):
        body = gunzip(body, cap)
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise BadDocument("empty sitemap")
    if not stripped.startswith(b"<"):
        return "urlset", _text_sitemap(stripped)
    if not check_xml_safe(stripped):
        raise BadDocument("malformed XML")
    root = SafeET.fromstring(stripped)
    name = _local(root.tag)
    if name == "sitemapindex":
        return "index", [_item(node, news=False) for node in root if _local(node.tag) == "sitemap"]
    if name == "urlset":
        return "urlset", [_item(node, news=True) for node in root if _local(node.tag) == "url"]
    raise BadDocument(f"root element <{name}> is not a sitemap")


def _text_sitemap(body: bytes) -> list[SitemapItem]:
    lines = body.decode("utf-8", errors="replace").split()
    if not all(line.startswith(("http://", "https://")) for line in lines[:5]):
        raise BadDocument("neither XML nor a text sitemap")
    return [SitemapItem(line) for line in lines if line.startswith(("http://", "https://"))]


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _item(node: Element, news: bool) -> SitemapItem:
    loc = _text(node, SITEMAP_NS, "loc")
    lastmod = parse_date(_text(node, SITEMAP_NS, "lastmod"))
    block = node.find(f"{{{NEWS_NS}}}news") if news else None
    if block is not None:
        published = parse_date(_text(block, NEWS_NS, "publication_date"))
        if published is not None:
            return SitemapItem(loc, published, DateSignal.NEWS_SITEMAP, _text(block, NEWS_NS, "title") or None)
    return SitemapItem(loc, lastmod, DateSignal.SITEMAP_LASTMOD if lastmod else None)


def _text(node: Element, ns: str, name: str) -> str:
    found = node.find(f"{{{ns}}}{name}")
    if found is None:
        found = node.find(name)  # sitemaps written without the namespace
    return (found.text or "").strip() if found is not None else ""
