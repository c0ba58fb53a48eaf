"""Value types passed between the pipeline's stages, and the vocabularies they use, declared once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol


def utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- vocabularies ------------------------------------------------------------------------------
class Stage(StrEnum):
    """Where in a run a URL failed (`failures.stage`)."""

    DISCOVER = "discover"
    FETCH = "fetch"
    EXTRACT = "extract"
    STORE = "store"


class DateSignal(StrEnum):
    """Where an article's publication date came from (`articles.date_signal`)."""

    NEWS_SITEMAP = "news_sitemap"
    FEED = "feed"
    SITEMAP_LASTMOD = "sitemap_lastmod"
    EXPLICIT = "explicit"
    JSON_LD = "json-ld"
    META = "meta"
    TIME = "time"
    URL = "url"
    MICRODATA = "microdata"  # an element with itemprop="datePublished" (also "datePublished dateCreated")
    HTMLDATE = "htmldate"  # htmldate's search of the page (markup, then text patterns): a day, no time
    WARC_DATE = "warc_date"  # the capture time of a record read from a WARC file (a weak, last-resort date)


class FetchKind(StrEnum):
    """What a request is for: decides the Accept header and which content types are acceptable."""

    PAGE = "page"
    FEED = "feed"
    SITEMAP = "sitemap"
    ROBOTS = "robots"


class RunKind(StrEnum):
    """The kinds of run the ledger records (`runs.kind`)."""

    INGEST = "ingest"
    REPROCESS = "reprocess"
    CHECK = "check"
    MOVE_OUT = "archive-move-out"


class RunStatus(StrEnum):
    """The states of a run in the ledger (`runs.status`)."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # stopped by SIGTERM or SIGINT, closed by the run itself
    ABANDONED = "abandoned"  # its process died without closing it; closed by a later run


def date_signal_of(value: str | None) -> DateSignal | None:
    """A stored date signal as the enum (None for NULL or a value this version does not know)."""
    try:
        return DateSignal(value) if value else None
    except ValueError:
        return None


# --- configuration values ------------------------------------------------------------------------
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


def _discovery(method: str, values: str = "http") -> Any:
    """A `Source` field listing what one discovery method starts from (pipeline.discover.methods):
    http(s) URLs, or (`values="locations"`) file paths and object-storage URLs."""
    return field(default=(), metadata={"discovery": method, "values": values})


@dataclass(frozen=True)
class Source:
    """One news site as configured in the sources file."""

    name: str
    feeds: tuple[str, ...] = _discovery("RSS/Atom feeds")
    sitemaps: tuple[str, ...] = _discovery("sitemaps, sitemap indexes, Google News sitemaps")
    urls: tuple[str, ...] = _discovery("explicit article URLs, always kept")
    homepages: tuple[str, ...] = _discovery("home pages: their feed links and robots.txt Sitemap: lines")
    warcs: tuple[str, ...] = _discovery("WARC files (paths, object-storage URLs, globs, {date:FORMAT} templates) "
                                        "whose response records are read as the pages, no HTTP", "locations")
    rules: CleaningRules = field(default_factory=CleaningRules)
    politeness: Politeness | None = None

    @classmethod
    def discovery_fields(cls, values: str | None = None) -> tuple[str, ...]:
        """Names of the fields that list discovery inputs (only those of one kind of `values`), in order."""
        return tuple(f.name for f in fields(cls) if "discovery" in f.metadata
                     and values in (None, f.metadata["values"]))

    def discovery_urls(self) -> tuple[str, ...]:
        """Every configured http(s) URL of every discovery method (the hosts this source fetches from)."""
        return tuple(url for name in self.discovery_fields("http") for url in getattr(self, name))


# --- discovery ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiscoveredURL:
    """An article URL found by discovery, with the date signal it came with."""

    url: str
    source: str
    published_at: datetime | None = None
    date_signal: DateSignal | None = None
    title: str | None = None


@dataclass(frozen=True)
class CacheEntry:
    """What the last fetch of a feed or sitemap left behind (for conditional GET and backoff)."""

    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    consecutive_failures: int = 0


@dataclass(frozen=True)
class Validator:
    """The ETag/Last-Modified of a feed or sitemap read successfully, saved once the run's pages are."""

    url: str
    etag: str | None
    last_modified: str | None
    status: int


class HttpCache(Protocol):
    """Validators and failure counts of feeds/sitemaps; `Store` implements it in SQL."""

    def lookup(self, url: str) -> CacheEntry | None: ...

    def record(
        self, url: str, *, etag: str | None, last_modified: str | None, status: int | None, failed: bool
    ) -> None: ...


@dataclass(frozen=True)
class PageHints:
    """What discovery knew about a page before it was fetched."""

    published_at: datetime | None = None
    date_signal: DateSignal | None = None
    title: str | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class RecordLocation:
    """Where one WARC record lives: the file's URL, the offset of its gzip member and the member's length."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True)
class Target:
    """A URL to fetch, the source it belongs to and what discovery knew of it; `record` when the page is
    read from a WARC file's response record instead of fetched over HTTP."""

    url: str
    source: Source
    hints: PageHints
    record: RecordLocation | None = None


# --- fetching and the raw layer -------------------------------------------------------------------
def content_type_of(headers: Mapping[str, str] | None) -> str:
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
class RawRecord:
    """A stored raw page with the discovery hints of its URL, for reprocessing: its body when the row
    still holds it, else where its archived response record is."""

    id: int
    source: str
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes | None
    fetched_at: datetime
    hints: PageHints
    location: RecordLocation | None = None
    sha256: str = ""


# --- the raw archive: what the archive and the store's index pass each other ----------------------
@dataclass(frozen=True)
class BodyRef:
    """A raw page's body as the index knows it: inline (rows not yet moved out) or at a record location."""

    body: bytes | None
    location: RecordLocation | None
    sha256: str


@dataclass(frozen=True)
class ArchivedPage:
    """A fetched page whose response record is published: everything its index row needs."""

    source: str
    page: FetchedPage
    sha256: str
    location: RecordLocation


@dataclass(frozen=True)
class ArchivedBatch:
    """What one keep-raw batch published: the file (None when every page was stored before), its pages,
    and every input page's (url, sha256) key in input order, known ones included."""

    file: str | None
    size: int
    pages: list[ArchivedPage]
    keys: list[tuple[str, str]]


@dataclass(frozen=True)
class StoredBody:
    """A raw_pages row that still holds its body (written before the archive): what move-out reads."""

    id: int
    run_id: int | None
    source: str
    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    sha256: str
    fetched_at: datetime


@dataclass(frozen=True)
class Move:
    """Point row `id` at its verified record: the SHA-256 read back from the published record."""

    id: int
    offset: int
    length: int
    verified_sha256: str


@dataclass(frozen=True)
class IndexEntry:
    """What the index says about one record: its key (the raw page id), location and payload SHA-256."""

    key: str
    location: RecordLocation
    sha256: str


# --- extraction -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExtractedArticle:
    """A clean article record derived from one page by extract -> clean -> normalise."""

    url: str
    title: str
    body: str
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    date_signal: DateSignal | None = None
    language: str | None = None
    canonical_url: str | None = None
    extractor_version: str = ""
    method: str = ""
    description: str | None = None

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ExtractionJob:
    """One stored page to turn into an article."""

    url: str
    source: str
    raw_page_id: int | None
    fetched_at: datetime
    final_url: str
    body: bytes
    content_type: str
    rules: CleaningRules
    hints: PageHints
    encoding: str | None = None  # the codec the fetcher chose for the raw page: decoded with it, not chosen again


@dataclass(frozen=True)
class Extracted:
    """A successful extraction, with the body's MinHash signature computed in the worker too."""

    article: ExtractedArticle
    signature: bytes | None


@dataclass(frozen=True)
class Failure:
    """One URL that failed at one stage, with a short machine reason (`pipeline.errors.Reason`)."""

    url: str
    source: str
    stage: Stage
    reason: str
    detail: str = ""


Outcome = Extracted | Failure


# --- storage ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArticleInput:
    """One extracted article to save, with the raw page it came from."""

    source: str
    raw_page_id: int | None
    fetched_at: datetime
    article: ExtractedArticle
    signature: bytes | None = None  # `dedup.signature_bytes(body)` when an extraction worker computed it


@dataclass(frozen=True)
class SaveCounts:
    """What saving a batch of articles did: new articles, new versions, no-ops, new exact duplicates."""

    inserted: int
    updated: int
    unchanged: int
    duplicates: int
    per_source: Mapping[str, SaveCounts] = field(default_factory=dict, compare=False, repr=False)
    failed: tuple[Failure, ...] = field(default=(), compare=False, repr=False)  # items PostgreSQL refused
