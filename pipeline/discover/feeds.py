"""Feed parsing (feedparser, never fetching): RSS/Atom entries, and the feeds a home page advertises."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.etree
import lxml.html

from pipeline.discover.xml import BadDocument, check_xml_safe
from pipeline.urls import canonicalise_url

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


@dataclass(frozen=True)
class FeedEntry:
    """One feed item: its link (maybe relative), publication date and title."""

    link: str
    published: datetime | None
    title: str | None


def parse_feed(body: bytes, base: str, content_type: str = "") -> list[FeedEntry]:
    """The entries of an RSS/Atom feed; a broken feed with usable entries is read."""
    if not body.strip():
        raise BadDocument("empty feed")
    check_xml_safe(body)
    headers = {"content-location": base, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    items = [item for entry in parsed.entries if (item := _entry(entry)) is not None]
    if parsed.bozo and not items:
        raise BadDocument(f"not a feed: {parsed.get('bozo_exception')!r}")
    if not parsed.version and not items:
        raise BadDocument("not a feed")
    return items


def _entry(entry: Any) -> FeedEntry | None:  # feedparser's entries are untyped dicts
    link = entry.get("link") or ""
    if not link.startswith(("http://", "https://", "/")):
        guid = entry.get("id") or ""
        link = guid if guid.startswith(("http://", "https://")) else link
    if not link:
        return None
    stamp = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
    published = datetime(*stamp[:6], tzinfo=UTC) if stamp else None
    return FeedEntry(link, published, entry.get("title") or None)


def feed_links(body: bytes, base: str) -> list[str]:
    """Absolute canonical URLs of the feeds a page advertises with <link rel="alternate">."""
    try:
        doc = lxml.html.fromstring(body)
    except (ValueError, lxml.etree.ParserError):
        return []
    links = []
    for node in doc.iter("link"):
        rel = (node.get("rel") or "").lower().split()
        kind = (node.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in FEED_TYPES and node.get("href"):
            links.append(canonicalise_url(node.get("href"), base))
    return list(dict.fromkeys(links))
