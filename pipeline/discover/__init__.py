"""Discovery: article URLs with date signals from feeds, sitemaps, robots.txt and home pages."""

from __future__ import annotations

import io
import re
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import lxml.etree
import lxml.html
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from pipeline.errors import FetchError
from pipeline.fetch import Fetcher
from pipeline.models import CacheEntry, DiscoveredURL, Failure, FetchedPage, HttpCache, Source, Window
from pipeline.settings import Settings
from pipeline.urls import canonicalise_url

# Which signal wins when one URL is found several ways (lower is better).
SIGNAL_RANK = {"news_sitemap": 0, "feed": 1, "sitemap_lastmod": 2, "explicit": 3, None: 4}
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")
# After `feed_failure_backoff` consecutive failures a feed/sitemap is tried only every Nth run.
BACKOFF_RETRY_EVERY = 4
GZIP_MAGIC = b"\x1f\x8b"
FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass
class Discovery:
    """What discovering one source found.

    urls: canonical article URLs kept for the window, deduplicated, at most max_urls_per_source.
    failures: feeds/sitemaps/home pages that failed (stage "discover", reason e.g. "http_404",
        "timeout", "parse_error", "unsafe_xml", "robots_disallowed", "sitemap_limit").
    not_modified: feed/sitemap URLs that answered 304 to a conditional GET (not failures).
    backed_off: feed/sitemap URLs skipped this run because they keep failing.
    fetched: every feed/sitemap/home-page URL requested, in order (304s included).
    outside_window: dated URLs dropped because their date is outside the window.
    elsewhere: those dated URLs themselves, so the caller can remember them for the runs of their own
        windows (a feed that answers 304 to the next day's run no longer lists them).
    truncated: URLs dropped because the source passed max_urls_per_source.
    validators: with defer_validators, {url: (etag, last_modified, status)} for record_validators.
    """

    urls: list[DiscoveredURL] = field(default_factory=list)
    elsewhere: list[DiscoveredURL] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    backed_off: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    outside_window: int = 0
    truncated: int = 0
    validators: dict[str, tuple[str | None, str | None, int]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.fetched)


def record_validators(discovery: Discovery, cache: HttpCache) -> None:
    """Save the ETag/Last-Modified of a run's successful feeds and sitemaps (see `defer_validators`)."""
    for url, (etag, modified, status) in discovery.validators.items():
        cache.record(url, etag=etag, last_modified=modified, status=status, failed=False)
    discovery.validators.clear()


class UnsafeXML(Exception):
    """The document declares entities or external references (billion laughs, XXE)."""


class BadDocument(Exception):
    """The document is not a feed or sitemap we can read."""


def discover_source(
    source: Source,
    fetcher: Fetcher,
    window: Window | None,
    cache: HttpCache,
    settings: Settings,
    *,
    conditional: bool = True,
    keep_undated: bool | None = None,
    defer_validators: bool = False,
) -> Discovery:
    """Discover the article URLs of `source` for `window` (None: keep every date).

    `conditional` sends the cached ETag/Last-Modified (daily runs); backfills pass False so an
    unchanged feed is still read. Undated feed/sitemap items are kept when `keep_undated`
    (default: the value of `conditional`, i.e. kept in incremental runs, dropped in backfills);
    explicit `source.urls` are always kept.

    The new validators of feeds/sitemaps read successfully are written to `cache` at once, unless
    `defer_validators`: then they are left in `Discovery.validators` for the caller to save with
    `record_validators` once the run's pages are safely stored, so that a run that fails after
    discovery and is retried does not get 304s and lose the articles it never stored.
    """
    run = _Run(source, fetcher, window, cache, settings, conditional)
    run.keep_undated = conditional if keep_undated is None else keep_undated
    run.defer_validators = defer_validators
    for url in source.urls:
        run.add_link(url, None, None, "explicit", None)
    feeds = run.configured(source.feeds)
    sitemaps = run.configured(source.sitemaps)
    for homepage in run.configured(source.homepages):
        feeds.extend(run.homepage_feeds(homepage))
        sitemaps.extend(run.robots_sitemaps(homepage))
    for feed in _unique(feeds):
        run.read_feed(feed)
    run.read_sitemaps(_expand_roots(run, _unique(sitemaps + list(run.prefetched))))
    return run.finish()


def safe_canonical(link: str, base: str | None = None) -> str | None:
    """canonicalise_url, or None for a link that is not a usable http(s) URL."""
    try:
        url = canonicalise_url(link, base)
    except ValueError:
        return None
    return url if url.startswith(("http://", "https://")) and urlsplit(url).hostname else None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _expand_roots(run: _Run, sitemaps: list[str]) -> list[str]:
    """A site root or robots.txt listed as a sitemap stands for the robots.txt `Sitemap:` lines."""
    out: list[str] = []
    for url in sitemaps:
        path = url.split("://", 1)[-1].partition("/")[2]
        if path in ("", "robots.txt") and url not in run.prefetched:
            out.extend(run.robots_sitemaps(url))
        else:
            out.append(url)
    return _unique(out)


class _Run:
    """State of discovering one source."""

    def __init__(
        self,
        source: Source,
        fetcher: Fetcher,
        window: Window | None,
        cache: HttpCache,
        settings: Settings,
        conditional: bool,
    ) -> None:
        self.source, self.fetcher, self.window, self.cache = source, fetcher, window, cache
        self.settings, self.conditional = settings, conditional
        self.keep_undated = conditional
        self.defer_validators = False
        self.result = Discovery()
        self.found: dict[str, DiscoveredURL] = {}
        self.prefetched: dict[str, FetchedPage] = {}  # sitemaps that were listed as feeds

    # collecting -----------------------------------------------------------------------
    def configured(self, links: tuple[str, ...]) -> list[str]:
        """Canonical URLs of the configured feeds/sitemaps/home pages; a bad one is a failure."""
        out = []
        for link in links:
            url = safe_canonical(link)
            if url is None:
                self.fail(link, "invalid_url", "not an http(s) URL")
            else:
                out.append(url)
        return out

    def add_link(
        self, link: str, base: str | None, published: datetime | None, signal: str | None, title: str | None
    ) -> None:
        """Add one found link (resolved against `base`); anything but an http(s) URL is ignored."""
        url = safe_canonical(link, base)
        if url is not None:
            self.add(url, published, signal, title)

    def add(self, url: str, published: datetime | None, signal: str | None, title: str | None) -> None:
        if signal != "explicit" and not self._in_window(published):
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
        elif SIGNAL_RANK.get(signal, 4) < SIGNAL_RANK.get(known.date_signal, 4):
            self.found[url] = DiscoveredURL(url, self.source.name, published, signal, title or known.title)

    def _in_window(self, published: datetime | None) -> bool:
        if self.window is None:
            return True
        if published is None:
            return self.keep_undated
        return published in self.window

    def fail(self, url: str, reason: str, detail: str = "") -> None:
        self.result.failures.append(Failure(url, self.source.name, "discover", reason, detail[:500]))

    def finish(self) -> Discovery:
        self.result.urls = list(self.found.values())
        return self.result

    # fetching documents ---------------------------------------------------------------
    def get(self, url: str, kind: str) -> FetchedPage | None:
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
            self.cache.record(url, etag=None, last_modified=None, status=_status_of(exc.reason), failed=True)
            return None
        if page.status == 304:
            self.result.not_modified.append(url)
            self.succeeded(url, page)
            return None
        return page

    def succeeded(self, url: str, page: FetchedPage) -> None:
        etag, modified = page.headers.get("etag"), page.headers.get("last-modified")
        if self.defer_validators and page.status != 304:
            self.result.validators[url] = (etag, modified, page.status)
        else:
            self.cache.record(url, etag=etag, last_modified=modified, status=page.status, failed=False)

    def broken(self, url: str, page: FetchedPage, reason: str, detail: str) -> None:
        self.fail(url, reason, detail)
        self.cache.record(url, etag=None, last_modified=None, status=page.status, failed=True)

    # feeds ----------------------------------------------------------------------------
    def read_feed(self, url: str) -> None:
        page = self.get(url, "feed")
        if page is None:
            return
        if sniff_root(page.body) in SITEMAP_ROOTS:  # a sitemap listed as a feed: read it as a sitemap
            self.prefetched[url] = page
            return
        self.feed_page(url, page)

    def feed_page(self, url: str, page: FetchedPage) -> None:
        try:
            entries = parse_feed(page.body, page.final_url, page.content_type)
        except UnsafeXML as exc:
            return self.broken(url, page, "unsafe_xml", str(exc))
        except BadDocument as exc:
            return self.broken(url, page, "parse_error", str(exc))
        self.succeeded(url, page)
        for link, published, title in entries:
            self.add_link(link, page.final_url, published, "feed", title)

    # sitemaps -------------------------------------------------------------------------
    def read_sitemaps(self, roots: list[str]) -> None:
        """Breadth-first over sitemap indexes, bounded by depth, count and a visited set."""
        queue: deque[tuple[str, int]] = deque((url, 0) for url in roots)
        seen: set[str] = set(roots)
        budget = self.settings.max_sitemaps
        while queue:
            url, depth = queue.popleft()
            if budget <= 0:
                self.fail(url, "sitemap_limit", f"more than {self.settings.max_sitemaps} sitemaps")
                return
            budget -= 1
            for child in self.read_sitemap(url, depth):
                if child not in seen:
                    seen.add(child)
                    queue.append((child, depth + 1))

    def read_sitemap(self, url: str, depth: int) -> list[str]:
        """Read one sitemap: add its URLs, return the child sitemaps to follow."""
        page = self.prefetched.pop(url, None) or self.get(url, "sitemap")
        if page is None:
            return []
        if sniff_root(page.body) in FEED_ROOTS:  # a feed listed as a sitemap: read it as a feed
            self.feed_page(url, page)
            return []
        try:
            kind, items = parse_sitemap(page.body, self.settings.max_response_bytes)
        except UnsafeXML as exc:
            self.broken(url, page, "unsafe_xml", str(exc))
            return []
        except BadDocument as exc:
            self.broken(url, page, "parse_error", str(exc))
            return []
        self.succeeded(url, page)
        if kind == "index":
            return self._children(url, depth, items)
        for item in items:
            if item["loc"]:
                self.add_link(item["loc"], page.final_url, item["published"], item["signal"], item["title"])
        return []

    def _children(self, url: str, depth: int, items: list[dict[str, Any]]) -> list[str]:
        if depth >= self.settings.max_sitemap_depth:
            self.fail(url, "sitemap_depth", f"index nested deeper than {self.settings.max_sitemap_depth}")
            return []
        children = []
        for item in items:
            lastmod, child = item["published"], safe_canonical(item["loc"], url)
            if child is None:
                continue
            if self.window is not None and lastmod is not None and lastmod < self.window.start:
                continue  # nothing in it changed since before the window
            children.append(child)
        return children

    # robots.txt and home pages --------------------------------------------------------
    def robots_sitemaps(self, url: str) -> list[str]:
        try:
            links = self.fetcher.robots_sitemaps(url)
        except FetchError as exc:
            self.fail(url, exc.reason, str(exc))
            return []
        return [u for link in links if (u := safe_canonical(link, url)) is not None]

    def homepage_feeds(self, url: str) -> list[str]:
        """Feeds advertised by `<link rel="alternate" type="application/rss+xml">` on a home page."""
        self.result.fetched.append(url)
        try:
            page = self.fetcher.fetch(url, kind="page")
        except FetchError as exc:
            self.fail(url, exc.reason, str(exc))
            return []
        return feed_links(page.body, page.final_url)


def _backed_off(entry: CacheEntry, threshold: int) -> bool:
    """True when this run should skip a feed that failed `threshold`+ times in a row."""
    if threshold <= 0 or entry.consecutive_failures < threshold:
        return False
    runs_since = entry.consecutive_failures - threshold
    return runs_since % BACKOFF_RETRY_EVERY != BACKOFF_RETRY_EVERY - 1


def _status_of(reason: str) -> int | None:
    return int(reason[5:]) if reason.startswith("http_") and reason[5:].isdigit() else None


# --- parsing (pure) -----------------------------------------------------------------------------
def check_xml_safe(body: bytes) -> bool:
    """Raise UnsafeXML on entity declarations or external references; True if well-formed XML."""
    try:
        SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXML(f"{type(exc).__name__}: {exc}") from None
    except SafeET.ParseError:
        return False
    return True


def parse_feed(
    body: bytes, base: str, content_type: str = ""
) -> list[tuple[str, datetime | None, str | None]]:
    """(link, published, title) of each entry of an RSS/Atom feed; feedparser never fetches."""
    if not body.strip():
        raise BadDocument("empty feed")
    check_xml_safe(body)
    headers = {"content-location": base, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    items = [item for entry in parsed.entries if (item := _entry(entry)) is not None]
    if parsed.bozo and not items:  # broken and nothing usable; a broken feed with entries is read
        raise BadDocument(f"not a feed: {parsed.get('bozo_exception')!r}")
    if not parsed.version and not items:
        raise BadDocument("not a feed")
    return items


def _entry(entry: Any) -> tuple[str, datetime | None, str | None] | None:
    link = entry.get("link") or ""
    if not link.startswith(("http://", "https://", "/")):
        guid = entry.get("id") or ""
        link = guid if guid.startswith(("http://", "https://")) else link
    if not link:
        return None
    stamp = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
    published = datetime(*stamp[:6], tzinfo=UTC) if stamp else None
    return link, published, (entry.get("title") or None)


_ROOT_TAG = re.compile(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")


def sniff_root(body: bytes) -> str | None:
    """Local name of the root element of an (optionally gzipped) XML document, lowercased."""
    if body.startswith(GZIP_MAGIC):
        try:
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, 4096)
        except zlib.error:
            return None
    head = re.sub(rb"<!--.*?-->|<!DOCTYPE[^>]*>", b"", body[:4096], flags=re.DOTALL)
    match = _ROOT_TAG.search(head)
    return match.group(1).decode("ascii", "ignore").lower() if match else None


def gunzip(body: bytes, cap: int) -> bytes:
    """Decompress a gzip document, refusing more than `cap` bytes of output (gzip bombs)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        raise BadDocument(f"bad gzip: {exc}") from None
    if len(out) > cap:
        raise BadDocument(f"gzip sitemap expands beyond {cap} bytes")
    return out


def parse_sitemap(body: bytes, cap: int) -> tuple[str, list[dict[str, Any]]]:
    """("index", children) or ("urlset", urls); each item has loc, published, signal, title."""
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
        return "index", [_sitemap_item(node, "sitemap") for node in root if _local(node.tag) == "sitemap"]
    if name == "urlset":
        return "urlset", [_sitemap_item(node, "url") for node in root if _local(node.tag) == "url"]
    raise BadDocument(f"root element <{name}> is not a sitemap")


def _text_sitemap(body: bytes) -> list[dict[str, Any]]:
    lines = body.decode("utf-8", errors="replace").split()
    if not all(line.startswith(("http://", "https://")) for line in lines[:5]):
        raise BadDocument("neither XML nor a text sitemap")
    return [
        {"loc": line, "published": None, "signal": None, "title": None}
        for line in lines
        if line.startswith(("http://", "https://"))
    ]


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _sitemap_item(node: Any, kind: str) -> dict[str, Any]:
    loc = _text(node, SITEMAP_NS, "loc")
    lastmod = parse_date(_text(node, SITEMAP_NS, "lastmod"))
    news = node.find(f"{{{NEWS_NS}}}news")
    if kind == "url" and news is not None:
        published = parse_date(_text(news, NEWS_NS, "publication_date"))
        if published is not None:
            return {
                "loc": loc,
                "published": published,
                "signal": "news_sitemap",
                "title": _text(news, NEWS_NS, "title") or None,
            }
    return {"loc": loc, "published": lastmod, "signal": "sitemap_lastmod" if lastmod else None, "title": None}


def _text(node: Any, ns: str, name: str) -> str:
    found = node.find(f"{{{ns}}}{name}")
    if found is None:
        found = node.find(name)  # sitemaps written without the namespace
    return (found.text or "").strip() if found is not None else ""


def parse_date(text: str | None) -> datetime | None:
    """W3C datetime (sitemaps), ISO 8601 or RFC 822 date as an aware UTC datetime, else None."""
    if not text:
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
    return _unique(links)
