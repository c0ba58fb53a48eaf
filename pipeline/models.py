"""Plain value types passed between the pipeline's stages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


def utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """Half-open time window [start, end) that one run ingests."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} is not after start {self.start}")

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= utc(moment) < self.end


@dataclass(frozen=True)
class CleaningRules:
    """Per-source boilerplate rules applied on top of the generic ones."""

    drop_selectors: tuple[str, ...] = ()
    drop_line_patterns: tuple[str, ...] = ()
    learned_lines: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Politeness:
    """Per-host politeness knobs; a source may override the defaults."""

    min_delay: float = 1.0
    max_connections: int = 2


@dataclass(frozen=True)
class Source:
    """One news site as configured in the sources file."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    homepages: tuple[str, ...] = ()
    rules: CleaningRules = field(default_factory=CleaningRules)
    politeness: Politeness | None = None


@dataclass(frozen=True)
class DiscoveredURL:
    """An article URL found by discovery, with the date signal it came with."""

    url: str
    source: str
    published_at: datetime | None = None
    date_signal: str | None = None  # "feed", "sitemap_lastmod", "news_sitemap", "explicit"
    title: str | None = None


def content_type_of(headers: dict[str, str] | None) -> str:
    """The Content-Type of a header mapping, whatever the case of its name ("" when absent)."""
    return next((value for name, value in (headers or {}).items() if name.lower() == "content-type"), "")


@dataclass(frozen=True)
class FetchedPage:
    """One HTTP response as fetched: kept immutably in the raw layer."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    encoding: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def content_type(self) -> str:
        return content_type_of(self.headers)


@dataclass(frozen=True)
class PageHints:
    """What discovery knew about a page before it was fetched."""

    published_at: datetime | None = None
    date_signal: str | None = None
    title: str | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class ExtractedArticle:
    """A clean article record derived from one page by extract -> clean -> normalise."""

    url: str
    title: str
    body: str
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    date_signal: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    extractor_version: str = ""
    method: str = ""

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Failure:
    """One URL that failed at one stage, with a short machine reason and a detail."""

    url: str
    source: str
    stage: str  # "discover", "fetch", "extract", "store"
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class CacheEntry:
    """What the last fetch of a feed or sitemap left behind (for conditional GET and backoff)."""

    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    consecutive_failures: int = 0


class HttpCache(Protocol):
    """Validators and failure counts of feeds/sitemaps; `Store` implements it in SQL."""

    def lookup(self, url: str) -> CacheEntry | None: ...

    def record(
        self, url: str, *, etag: str | None, last_modified: str | None, status: int | None, failed: bool
    ) -> None: ...


class MemoryHttpCache:
    """In-process `HttpCache` for tests and the offline CLI."""

    def __init__(self) -> None:
        self.entries: dict[str, CacheEntry] = {}

    def lookup(self, url: str) -> CacheEntry | None:
        return self.entries.get(url)

    def record(
        self, url: str, *, etag: str | None, last_modified: str | None, status: int | None, failed: bool
    ) -> None:
        previous = self.entries.get(url) or CacheEntry()
        if failed:
            self.entries[url] = CacheEntry(previous.etag, previous.last_modified, status,
                                           previous.consecutive_failures + 1)
        else:
            self.entries[url] = CacheEntry(etag or previous.etag if status == 304 else etag,
                                           last_modified or previous.last_modified if status == 304 else last_modified,
                                           status, 0)
