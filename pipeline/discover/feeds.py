"""Feed parsing (feedparser, never fetching): RSS/Atom entries, and the feeds a home page advertises."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.etree
import lxml.html

from pipeline import storable
from pipeline.dates import parse_date
from pipeline.discover.xml import BadDocument, check_xml_safe, scrub
from pipeline.errors import Reason
from pipeline.urls import canonicalise_url

_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


@dataclass(frozen=True)
class FeedEntry:
    """One feed item: its link (maybe relative), publication date and title.

    date_problem: why a date the entry gave was dropped (`invalid_date`); error: why the entry could not be
    read at all (the entry is that item's failure, the feed's other entries are read)."""

    link: str
    published: datetime | None
    title: str | None
    date_problem: str | None = None
    error: str | None = None


def parse_feed(body: bytes, base: str, content_type: str = "") -> list[FeedEntry]:
    """The entries of an RSS/Atom feed; a broken feed with usable entries is read."""
    if not body.strip():
        raise BadDocument("empty feed")
    body = scrub(body)
    check_xml_safe(body)
    headers = {"content-location": base, "content-type": content_type or "application/xml"}
    try:
        parsed = feedparser.parse(
            io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # noqa: BLE001 - feedparser's loose parser fails in many ways on hostile input
        raise BadDocument(f"feed parser failed: {type(exc).__name__}: {str(exc)[:200]}") from None
    items = [item for entry in parsed.entries if (item := _safe_entry(entry)) is not None]
    if parsed.bozo and not items:
        raise BadDocument(f"not a feed: {parsed.get('bozo_exception')!r}")
    if not parsed.version and not items:
        raise BadDocument("not a feed")
    return items


def _safe_entry(entry: Any) -> FeedEntry | None:
    try:
        return _entry(entry)
    except Exception as exc:  # noqa: BLE001 - one unreadable entry costs only itself
        link = entry.get("link") if isinstance(entry.get("link"), str) else ""
        return FeedEntry(storable.text(link or ""), None, None, error=f"{type(exc).__name__}: {str(exc)[:200]}")


def _entry(entry: Any) -> FeedEntry | None:  # feedparser's entries are untyped dicts
    link = entry.get("link") or ""
    if not link.startswith(("http://", "https://", "/")):
        guid = entry.get("id") or ""
        link = guid if guid.startswith(("http://", "https://")) else link
    if not link:
        return None
    published, problem = _published(entry)
    title = storable.bounded(entry.get("title") or None, storable.MAX_TITLE_CHARS)
    return FeedEntry(storable.text(link), published, title, problem)


def _published(entry: Any) -> tuple[datetime | None, str | None]:
    """The entry's date by our parser from its own text; feedparser's reading only for what ours cannot
    parse and is not ISO 8601 (feedparser rolls 2024-02-30 over into March: an invalid date is dropped)."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw or not isinstance(raw, str):
            continue
        moment = parse_date(raw)
        if moment is not None:
            return moment, None
        stamp = entry.get(f"{key}_parsed")
        if _ISO_DATE.search(raw) or not stamp:
            return None, Reason.INVALID_DATE
        try:
            return datetime(*stamp[:6], tzinfo=UTC), None
        except (ValueError, OverflowError, TypeError):
            return None, Reason.INVALID_DATE
    return None, None


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
            try:
                links.append(canonicalise_url(node.get("href"), base))
            except ValueError:  # an invalid port: not a feed we can read
                continue
    return list(dict.fromkeys(links))
