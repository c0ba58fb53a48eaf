"""Sitemap parsing: url sets, sitemap indexes, Google News sitemaps, gzip and plain-text sitemaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from pipeline import storable
from pipeline.dates import parse_date
from pipeline.discover.xml import GZIP_MAGIC, BadDocument, check_xml_safe, gunzip, scrub
from pipeline.errors import Reason
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
    date_problem: str | None = None  # why a date the entry gave was dropped (`invalid_date`)
    error: str | None = None  # why the entry could not be read: that item's failure


def parse_sitemap(body: bytes, cap: int) -> tuple[Literal["index", "urlset"], list[SitemapItem]]:
    """("index", child sitemaps) or ("urlset", article URLs)."""
    if body.startswith(GZIP_MAGIC):
        body = gunzip(body, cap)
    stripped = scrub(body).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise BadDocument("empty sitemap")
    if not stripped.startswith(b"<"):
        return "urlset", _text_sitemap(stripped)
    if not check_xml_safe(stripped):
        raise BadDocument("malformed XML")
    root = SafeET.fromstring(stripped)
    name = _local(root.tag)
    if name == "sitemapindex":
        return "index", [_safe_item(node, news=False) for node in root if _local(node.tag) == "sitemap"]
    if name == "urlset":
        return "urlset", [_safe_item(node, news=True) for node in root if _local(node.tag) == "url"]
    raise BadDocument(f"root element <{name}> is not a sitemap")


def _text_sitemap(body: bytes) -> list[SitemapItem]:
    lines = body.decode("utf-8", errors="replace").split()
    if not all(line.startswith(("http://", "https://")) for line in lines[:5]):
        raise BadDocument("neither XML nor a text sitemap")
    return [SitemapItem(storable.text(line)) for line in lines if line.startswith(("http://", "https://"))]


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _safe_item(node: Element, news: bool) -> SitemapItem:
    try:
        return _item(node, news)
    except Exception as exc:  # noqa: BLE001 - one unreadable entry costs only itself
        return SitemapItem("", error=f"{type(exc).__name__}: {str(exc)[:200]}")


def _item(node: Element, news: bool) -> SitemapItem:
    loc = storable.text(_text(node, SITEMAP_NS, "loc"))
    lastmod, problem = _date(_text(node, SITEMAP_NS, "lastmod"))
    block = node.find(f"{{{NEWS_NS}}}news") if news else None
    if block is not None:
        published, news_problem = _date(_text(block, NEWS_NS, "publication_date"))
        if published is not None:
            title = storable.bounded(_text(block, NEWS_NS, "title"), storable.MAX_TITLE_CHARS)
            return SitemapItem(loc, published, DateSignal.NEWS_SITEMAP, title)
        problem = problem or news_problem
    return SitemapItem(loc, lastmod, DateSignal.SITEMAP_LASTMOD if lastmod else None, date_problem=problem)


def _date(text: str) -> tuple[datetime | None, str | None]:
    """A parsed date, or (None, `invalid_date`) for a date given that cannot be read."""
    if not text:
        return None, None
    moment = parse_date(text)
    return moment, None if moment is not None else Reason.INVALID_DATE


def _text(node: Element, ns: str, name: str) -> str:
    found = node.find(f"{{{ns}}}{name}")
    if found is None:
        found = node.find(name)  # sitemaps written without the namespace
    return (found.text or "").strip() if found is not None else ""
