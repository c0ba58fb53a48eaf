"""What discovering one source accumulates: the window's URLs kept once, failures, validators, counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from pipeline import storable
from pipeline.errors import FetchError, Reason, status_of_reason
from pipeline.fetch import Fetcher
from pipeline.models import (
    CacheEntry,
    DateSignal,
    DiscoveredURL,
    Failure,
    FetchedPage,
    FetchKind,
    HttpCache,
    RecordLocation,
    Source,
    Stage,
    Validator,
    Window,
)
from pipeline.settings import Settings
from pipeline.urls import canonicalise_url

# Which signal wins when one URL is found several ways (lower is better).
SIGNAL_RANK: dict[DateSignal | None, int] = {
    DateSignal.NEWS_SITEMAP: 0, DateSignal.FEED: 1, DateSignal.SITEMAP_LASTMOD: 2, DateSignal.EXPLICIT: 3,
    DateSignal.WARC_DATE: 4, None: 5,
}
# After `feed_failure_backoff` consecutive failures a feed/sitemap is tried only every Nth run.
BACKOFF_RETRY_EVERY = 4


@dataclass
class Discovery:
    """What discovering one source found.

    urls: canonical article URLs kept for the window, deduplicated, at most max_urls_per_source.
    elsewhere: dated URLs outside the window, so the caller can remember them for the runs of their own
        windows (a feed that answers 304 to the next day's run no longer lists them).
    failures: feeds/sitemaps/home pages that failed (stage "discover", reason e.g. "http_404",
        "timeout", "parse_error", "unsafe_xml", "robots_disallowed", "sitemap_limit").
    not_modified: feed/sitemap URLs that answered 304 to a conditional GET (not failures).
    backed_off: feed/sitemap URLs skipped this run because they keep failing.
    fetched: every feed/sitemap/home-page URL requested, in order (304s included).
    outside_window: dated URLs dropped because their date is outside the window.
    truncated: URLs dropped because the source passed max_urls_per_source.
    validators: with deferred validators, those of the feeds and sitemaps read, to save once the
        run's pages are stored.
    records: URLs found in WARC files, with the response record each is read from (no HTTP fetch).
    skipped: WARC records that are not pages of the window, by reason (record type, status, day...); and
        dates dropped from found URLs (`date_dropped:invalid_date`, `date_dropped:date_out_of_range`).
    """

    urls: list[DiscoveredURL] = field(default_factory=list)
    elsewhere: list[DiscoveredURL] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    backed_off: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    outside_window: int = 0
    truncated: int = 0
    validators: list[Validator] = field(default_factory=list)
    records: dict[str, RecordLocation] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.fetched)


def safe_canonical(link: str, base: str | None = None) -> str | None:
    """canonicalise_url, or None for a link that is not a usable, storable http(s) URL."""
    try:
        return checked_canonical(link, base)
    except storable.UnstorableValue:
        return None


def checked_canonical(link: str, base: str | None = None) -> str | None:
    """The canonical URL of an http(s) link; None for other links (mailto:, javascript:...); an http(s) link
    that cannot be fetched or stored (invalid port or host, too long) raises `UnstorableValue`."""
    try:
        url = canonicalise_url(storable.text(link), base)
    except ValueError as exc:
        raise storable.UnstorableValue(str(exc), Reason.INVALID_URL) from None
    if not url.startswith(("http://", "https://")):
        return None
    if not urlsplit(url).hostname:
        raise storable.UnstorableValue(f"no host in {url[:200]!r}", Reason.INVALID_URL)
    return storable.url(url)


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


class SourceRun:
    """The state of discovering one source, shared by its discovery methods."""

    def __init__(self, source: Source, fetcher: Fetcher, window: Window | None, cache: HttpCache,
                 settings: Settings, *, conditional: bool, keep_undated: bool, defer_validators: bool) -> None:
        self.source, self.fetcher, self.window, self.cache = source, fetcher, window, cache
        self.settings, self.conditional = settings, conditional
        self.keep_undated, self.defer_validators = keep_undated, defer_validators
        self.result = Discovery()
        self.found: dict[str, DiscoveredURL] = {}
        self.queued: dict[str, list[str]] = {name: [] for name in Source.discovery_fields()}
        self.prefetched: dict[str, FetchedPage] = {}  # documents fetched as one kind, to be read as another

    # collecting -----------------------------------------------------------------------
    def configured(self, links: tuple[str, ...]) -> list[str]:
        """Canonical URLs of configured feeds/sitemaps/home pages; a bad one is a failure."""
        out = []
        for link in links:
            url = safe_canonical(link)
            if url is None:
                self.fail(link, Reason.INVALID_URL, "not an http(s) URL")
            else:
                out.append(url)
        return out

    def add_link(self, link: str, base: str | None, published: datetime | None, signal: DateSignal | None,
                 title: str | None, date_problem: str | None = None) -> None:
        """Add one found link (resolved against `base`); a link that is not http(s) is ignored, an http(s)
        link that cannot be fetched or stored (invalid port, too long) is that link's failure."""
        try:
            url = checked_canonical(link, base)
        except storable.UnstorableValue as exc:
            self.fail(link, exc.reason, str(exc))
            return
        if url is not None:
            self.add(url, published, signal, title, date_problem)

    def add(self, url: str, published: datetime | None, signal: DateSignal | None, title: str | None,
            date_problem: str | None = None) -> None:
        date_problem = date_problem or storable.date_problem(published)
        if date_problem:  # the URL is kept, undated; how many dates were dropped, and why, is counted
            self.result.skipped[f"date_dropped:{date_problem}"] += 1
            published, signal = None, (signal if signal == DateSignal.EXPLICIT else None)
        title = storable.bounded(title, storable.MAX_TITLE_CHARS)
        if signal != DateSignal.EXPLICIT and not self._in_window(published):
            self.result.outside_window += 1
            if published is not None and len(self.result.elsewhere) < self.settings.max_urls_per_source:
                self.result.elsewhere.append(DiscoveredURL(url, self.source.name, published, signal, title))
            return
        known = self.found.get(url)
        if known is None:
            if len(self.found) >= self.settings.max_urls_per_source:
                self.result.truncated += 1
                return
            self.found[url] = DiscoveredURL(url, self.source.name, published, signal, title)
        elif SIGNAL_RANK.get(signal, SIGNAL_RANK[None]) < SIGNAL_RANK.get(known.date_signal, SIGNAL_RANK[None]):
            self.found[url] = DiscoveredURL(url, self.source.name, published, signal, title or known.title)

    def add_record(self, link: str, published: datetime, signal: DateSignal, record: RecordLocation) -> None:
        """Add a URL whose page is read from a WARC record (the first record of a URL wins)."""
        url = safe_canonical(link)
        if url is None:
            self.result.skipped["no_date_or_url"] += 1
            return
        self.add(url, published, signal, None)
        if url in self.found:
            self.result.records.setdefault(url, record)

    def _in_window(self, published: datetime | None) -> bool:
        if self.window is None:
            return True
        if published is None:
            return self.keep_undated
        return published in self.window

    def fail(self, url: str, reason: str, detail: str = "") -> None:
        self.result.failures.append(Failure(storable.text(url)[:storable.MAX_URL_CHARS], self.source.name,
                                            Stage.DISCOVER, reason, storable.detail(detail)))

    def finish(self) -> Discovery:
        self.result.urls = list(self.found.values())
        return self.result

    # fetching documents ---------------------------------------------------------------
    def get(self, url: str, kind: FetchKind) -> FetchedPage | None:
        """Fetch a feed/sitemap with conditional GET and backoff; None if 304, skipped or failed."""
        entry = self.cache.lookup(url)
        if entry is not None and _backed_off(entry, self.settings.feed_failure_backoff):
            self.result.backed_off.append(url)
            self.cache.record(
                url, etag=entry.etag, last_modified=entry.last_modified, status=entry.last_status, failed=True
            )
            return None
        use = entry if (entry is not None and self.conditional) else CacheEntry()
        self.result.fetched.append(url)
        try:
            page = self.fetcher.fetch(url, etag=use.etag, last_modified=use.last_modified, kind=kind)
        except FetchError as exc:
            self.fail(url, exc.reason, str(exc))
            self.cache.record(url, etag=None, last_modified=None, status=status_of_reason(exc.reason), failed=True)
            return None
        if page.status == 304 and not (use.etag or use.last_modified):
            # nothing to be "not modified" since: a broken server, whose feed we can never read; said
            # loudly rather than counted as 304s (0 URLs and no warning)
            self.broken(url, page, Reason.NOT_MODIFIED_UNASKED, "304 Not Modified to a request without"
                        " If-None-Match or If-Modified-Since")
            return None
        if page.status == 304:
            self.result.not_modified.append(url)
            self.succeeded(url, page)
            return None
        return page

    def succeeded(self, url: str, page: FetchedPage) -> None:
        etag, modified = page.headers.get("etag"), page.headers.get("last-modified")
        if self.defer_validators and page.status != 304:
            self.result.validators.append(Validator(url, etag, modified, page.status))
        else:
            self.cache.record(url, etag=etag, last_modified=modified, status=page.status, failed=False)

    def broken(self, url: str, page: FetchedPage, reason: str, detail: str) -> None:
        self.fail(url, reason, detail)
        self.cache.record(url, etag=None, last_modified=None, status=page.status, failed=True)

    def robots_sitemaps(self, url: str) -> list[str]:
        """The robots.txt `Sitemap:` lines of the site of `url`, canonical."""
        try:
            links = self.fetcher.robots_sitemaps(url)
        except FetchError as exc:
            self.fail(url, exc.reason, str(exc))
            return []
        return [u for link in links if (u := safe_canonical(link, url)) is not None]


def _backed_off(entry: CacheEntry, threshold: int) -> bool:
    """True when this run should skip a feed that failed `threshold`+ times in a row."""
    if threshold <= 0 or entry.consecutive_failures < threshold:
        return False
    runs_since = entry.consecutive_failures - threshold
    return runs_since % BACKOFF_RETRY_EVERY != BACKOFF_RETRY_EVERY - 1


@dataclass(frozen=True)
class Method:
    """A discovery method: reads the URLs of its `Source` field (and those other methods queued for it).

    `order` decides when it runs: methods that find documents for others (home pages find feeds and
    sitemaps) run before those that read them.
    """

    field: str
    order: int
    run: Callable[[SourceRun, tuple[str, ...]], None]
