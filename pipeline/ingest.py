"""Orchestrate runs: discover → fetch → keep raw → extract → store, and reprocess from raw."""

from __future__ import annotations

import ctypes
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pipeline.errors import PipelineError, SystemicFailure
from pipeline.models import (
    CleaningRules,
    DiscoveredURL,
    ExtractedArticle,
    Failure,
    FetchedPage,
    PageHints,
    Politeness,
    Source,
    Window,
    content_type_of,
)
from pipeline.settings import Settings
from pipeline.summary import RunSummary
from pipeline.workers import ExtractionJob, ExtractorPool

if TYPE_CHECKING:  # imported lazily at run time: the store pulls in SQLAlchemy and psycopg2
    from pipeline.fetch import Fetcher
    from pipeline.store import Store

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
LEARN_SAMPLE = 50  # bodies per source kept for learning boilerplate: bounded memory whatever the run size


@dataclass(frozen=True)
class Target:
    """A URL to fetch, the source it belongs to and what discovery knew of it."""

    url: str
    source: Source
    hints: PageHints


def run_ingest(
    settings: Settings,
    sources: Sequence[Source],
    window: Window | None,
    store: Store,
    *,
    conditional: bool = True,
    progress: Progress | None = None,
) -> RunSummary:
    """Ingest the window's articles of `sources` into `store`; returns the run summary."""
    _limit_malloc_arenas()
    summary = RunSummary("ingest", window)
    conditional = conditional and not settings.refetch  # a refetch must see every feed item again
    params = {"conditional": conditional, "refetch": settings.refetch}
    summary.run_id = store.begin_run("ingest", window, [s.name for s in sources], params)
    with _ledger(summary, store):
        sources = [replace(s, rules=_with_learned_lines(s.rules, s.name, store)) for s in sources]
        from pipeline.fetch import Fetcher

        with Fetcher(settings, politeness_by_host(sources, settings)) as fetcher:
            targets, discoveries = discover_targets(settings, sources, window, store, fetcher, summary, conditional)
            with ExtractorPool(settings) as pool:
                _fetch_and_process(settings, targets, fetcher, pool, store, summary, progress)
            _save_validators(discoveries, store)
            summary.fetcher_stats = fetcher.stats.as_dict()
        _raise_if_systemic(summary)
    return summary


def run_reprocess(
    settings: Settings,
    window: Window,
    store: Store,
    *,
    source_names: Sequence[str] | None = None,
    sources: Sequence[Source] = (),
    progress: Progress | None = None,
) -> RunSummary:
    """Rebuild clean records of `window` from stored raw pages with the current extractor; no network.

    `source_names` limits the run (None: every source in the raw layer); `sources` supplies
    per-source cleaning rules where the sources file is at hand.
    """
    from pipeline.process import EXTRACTOR_VERSION

    summary = RunSummary("reprocess", window)
    summary.run_id = store.begin_run("reprocess", window, list(source_names or []),
                                     {"extractor_version": EXTRACTOR_VERSION})
    with _ledger(summary, store):
        configured = {s.name: s for s in sources}
        rules: dict[str, CleaningRules] = {}
        sink = _ArticleSink(store, summary, settings.batch_size)
        with ExtractorPool(settings) as pool:
            for record in store.iter_raw_pages(window, source_names):
                summary.source(record.source).fetched += 1
                if record.source not in rules:
                    base = configured[record.source].rules if record.source in configured else CleaningRules()
                    rules[record.source] = _with_learned_lines(base, record.source, store)
                job = ExtractionJob(record.url, record.source, record.id, record.fetched_at, record.final_url,
                                    record.body, content_type_of(record.headers), rules[record.source],
                                    record.hints)
                for done in pool.submit(job):
                    sink.add(done)
                if progress:
                    progress(summary.total("fetched"), 0)
            for done in pool.drain():
                sink.add(done)
        sink.flush()
    return summary


def discover_targets(
    settings: Settings,
    sources: Sequence[Source],
    window: Window | None,
    store: Store,
    fetcher: Fetcher,
    summary: RunSummary,
    conditional: bool,
) -> tuple[list[Target], list[Any]]:
    """Discover every source, keep each URL once, and drop URLs already stored (unless refetching).

    Feed and sitemap validators (ETag, Last-Modified) are returned inside the discoveries, to be
    saved only once the run's pages are stored: a retried run must not get 304s for what it lost.
    """
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.discover import discover_source

    def one(source: Source) -> tuple[Source, Any]:
        return source, discover_source(source, fetcher, window, store, settings, conditional=conditional,
                                       defer_validators=True)

    targets: dict[str, Target] = {}
    failures: list[Failure] = []
    found_urls: list[DiscoveredURL] = []
    discoveries: list[Any] = []
    with ThreadPoolExecutor(max_workers=max(1, min(len(sources), settings.fetch_workers))) as executor:
        for source, found in executor.map(one, sources):
            discoveries.append(found)
            stats = summary.source(source.name)
            stats.not_modified += len(found.not_modified)
            stats.backed_off.extend(found.backed_off)
            for failure in found.failures:
                stats.failures[f"discover:{failure.reason}"] += 1
            failures.extend(found.failures)
            found_urls.extend(found.urls)
            found_urls.extend(found.elsewhere)
            remembered = store.discovered_in_window(source.name, window) if window is not None else []
            for item in (*found.urls, *remembered):
                if item.url not in targets:
                    targets[item.url] = Target(item.url, source, _hints(item))
                    stats.discovered += 1
    store.save_discovered(summary.run_id, found_urls)
    if failures:
        store.record_failures(summary.run_id, failures)
    return _drop_known(settings, list(targets.values()), store, summary), discoveries


def _save_validators(discoveries: Sequence[Any], store: Store) -> None:
    from pipeline.discover import record_validators

    for discovery in discoveries:
        record_validators(discovery, store)


def politeness_by_host(sources: Iterable[Source], settings: Settings) -> dict[str, Politeness]:
    """Per-host politeness overrides from the sources that set one."""
    overrides: dict[str, Politeness] = {}
    for source in sources:
        if source.politeness is None:
            continue
        for url in (*source.feeds, *source.sitemaps, *source.urls, *source.homepages):
            overrides[urlsplit(url).hostname or ""] = source.politeness
    return overrides


def choose_article_url(article: ExtractedArticle, final_url: str) -> ExtractedArticle:
    """Key the article by its rel=canonical when it is a real page of the same site, else by the final URL."""
    from pipeline.urls import canonicalise_url

    page_url = canonicalise_url(final_url)
    canonical = article.canonical_url
    if canonical:
        try:
            canonical = canonicalise_url(canonical, base=final_url)
        except (ValueError, PipelineError):
            canonical = None
    if not canonical or not _same_site(canonical, page_url) or urlsplit(canonical).path in ("", "/"):
        canonical = page_url
    return replace(article, url=page_url, canonical_url=canonical)


def _same_site(a: str, b: str) -> bool:
    host_a, host_b = (urlsplit(u).hostname or "" for u in (a, b))
    strip = lambda h: h[4:] if h.startswith("www.") else h  # noqa: E731
    return strip(host_a) == strip(host_b)


def _hints(item: DiscoveredURL) -> PageHints:
    return PageHints(published_at=item.published_at, date_signal=item.date_signal, title=item.title)


def _drop_known(settings: Settings, targets: list[Target], store: Store, summary: RunSummary) -> list[Target]:
    if settings.refetch or not targets:
        return targets
    known = store.known_urls([t.url for t in targets])
    for target in targets:
        if target.url in known:
            summary.source(target.source.name).skipped_known += 1
    return [t for t in targets if t.url not in known]


def _with_learned_lines(rules: CleaningRules, source_name: str, store: Store) -> CleaningRules:
    """The source's configured rules plus the boilerplate lines learned from its earlier articles."""
    return replace(rules, learned_lines=frozenset(store.learned_lines(source_name)))


def _fetch_and_process(
    settings: Settings,
    targets: list[Target],
    fetcher: Fetcher,
    pool: ExtractorPool,
    store: Store,
    summary: RunSummary,
    progress: Progress | None,
) -> None:
    """Fetch every target; save raw pages in batches first, then extract and store articles."""
    from pipeline.fetch import fetch_many

    by_url = {t.url: t for t in targets}
    raw = _RawSink(store, summary, settings.batch_size, pool)
    sink = _ArticleSink(store, summary, settings.batch_size)
    failures: list[Failure] = []
    done = 0
    for url, result in fetch_many(fetcher, _interleave_hosts(targets), settings.fetch_workers):
        target = by_url[url]
        if isinstance(result, PipelineError):
            summary.source(target.source.name).failures[f"fetch:{result.reason}"] += 1
            failures.append(Failure(url, target.source.name, "fetch", result.reason, str(result)))
        else:
            summary.source(target.source.name).fetched += 1
            for finished in raw.add(target, result):
                sink.add(finished)
        done += 1
        if progress:
            progress(done, len(targets))
        if len(failures) >= settings.batch_size:
            store.record_failures(summary.run_id, failures)
            failures = []
    for finished in raw.flush():
        sink.add(finished)
    for finished in pool.drain():
        sink.add(finished)
    sink.flush()
    if failures:
        store.record_failures(summary.run_id, failures)
    sink.learn_boilerplate()


def _interleave_hosts(targets: Sequence[Target]) -> Iterator[str]:
    """Round-robin the URLs by host so no host's queue blocks the others."""
    queues: dict[str, list[str]] = {}
    for target in targets:
        queues.setdefault(urlsplit(target.url).hostname or "", []).append(target.url)
    lists = list(queues.values())
    for i in range(max((len(q) for q in lists), default=0)):
        for queue in lists:
            if i < len(queue):
                yield queue[i]


M_ARENA_MAX = -8  # glibc mallopt parameter


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None


def _limit_malloc_arenas() -> None:
    """Page buffers are allocated by many fetch threads; glibc gives each thread its own heap arena and
    rarely returns their freed memory, so RSS grows with the run. Two arenas keep it flat (no-op elsewhere)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, 2)


def _release_freed_memory() -> None:
    """Give freed heap back to the OS after a batch (glibc `malloc_trim`)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


class _RawSink:
    """Buffer fetched pages, save them to the raw layer in batches, then hand them to extraction."""

    def __init__(self, store: Store, summary: RunSummary, batch_size: int, pool: ExtractorPool) -> None:
        self.store, self.summary, self.batch_size, self.pool = store, summary, batch_size, pool
        self.pending: list[tuple[Target, FetchedPage]] = []

    def add(self, target: Target, page: FetchedPage) -> list[Any]:
        self.pending.append((target, page))
        return self.flush() if len(self.pending) >= self.batch_size else []

    def flush(self) -> list[Any]:
        if not self.pending:
            return []
        batch, self.pending = self.pending, []
        ids = self.store.save_raw_pages(self.summary.run_id, [(t.source.name, page) for t, page in batch])
        _release_freed_memory()
        finished: list[Any] = []
        for (target, page), raw_id in zip(batch, ids, strict=False):
            hints = replace(target.hints, fetched_at=page.fetched_at)
            job = ExtractionJob(target.url, target.source.name, raw_id, page.fetched_at, page.final_url,
                                page.body, page.content_type, target.source.rules, hints)
            finished.extend(self.pool.submit(job))
        return finished


class _ArticleSink:
    """Collect extraction results; store articles and failures in bulk batches."""

    def __init__(self, store: Store, summary: RunSummary, batch_size: int) -> None:
        self.store, self.summary, self.batch_size = store, summary, batch_size
        self.articles: list[Any] = []
        self.failures: list[Failure] = []
        self.samples: dict[str, list[str]] = {}

    def add(self, result: Any) -> None:
        from pipeline.store import ArticleInput

        job, outcome = result
        if isinstance(outcome, Failure):
            self.summary.source(job.source).failures[f"extract:{outcome.reason}"] += 1
            self.failures.append(outcome)
        else:
            article = choose_article_url(outcome.article, job.final_url)
            self.articles.append(ArticleInput(job.source, job.raw_page_id, job.fetched_at, article,
                                              outcome.signature))
            sample = self.samples.setdefault(job.source, [])
            if len(sample) < LEARN_SAMPLE:
                sample.append(article.body)
        if len(self.articles) >= self.batch_size or len(self.failures) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.articles:
            batch, self.articles = self.articles, []
            self._count(self.store.save_articles(self.summary.run_id, batch))
        if self.failures:
            batch_f, self.failures = self.failures, []
            self.store.record_failures(self.summary.run_id, batch_f)
        _release_freed_memory()

    def _count(self, counts: Any) -> None:
        for name, c in counts.per_source.items():
            stats = self.summary.source(name)
            stats.inserted += c.inserted
            stats.updated += c.updated
            stats.unchanged += c.unchanged
            stats.duplicates += c.duplicates

    def learn_boilerplate(self) -> None:
        """Learn each source's repeated lines from this run's bodies; stored per source, reversible."""
        from pipeline.clean import learn_boilerplate

        for source, bodies in self.samples.items():
            lines = learn_boilerplate(bodies)
            if lines:
                self.store.save_learned_lines(source, lines)


class _ledger:
    """Context manager that closes the run in the ledger with its status, even on failure."""

    def __init__(self, summary: RunSummary, store: Store) -> None:
        self.summary, self.store, self.started = summary, store, time.monotonic()

    def __enter__(self) -> _ledger:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.summary.seconds = time.monotonic() - self.started
        self.summary.status = "success" if exc is None else "failed"
        stats = self.summary.to_dict()
        if exc is not None:
            stats["error"] = f"{type(exc).__name__}: {exc}"
        try:
            self.store.end_run(self.summary.run_id, self.summary.status, stats)
        except PipelineError as ledger_error:
            if exc is None:
                raise
            log.warning("could not close run %s in the ledger: %s", self.summary.run_id, ledger_error)


def _raise_if_systemic(summary: RunSummary) -> None:
    """Nothing useful done is a failed run: discovery failed with nothing found, or every fetch failed."""
    reasons = summary.failures_by_reason()
    discover_failures = {r: n for r, n in sorted(reasons.items()) if r.startswith("discover:")}
    if discover_failures and not summary.total("discovered") and not summary.total("not_modified"):
        raise SystemicFailure(f"discovery failed and found nothing in {len(summary.sources)} source(s): "
                              + ", ".join(f"{r} x{n}" for r, n in discover_failures.items()))
    fetched = summary.total("fetched")
    fetch_failures = sum(n for reason, n in summary.failures_by_reason().items() if reason.startswith("fetch:"))
    if fetch_failures >= 5 and fetched == 0:
        raise SystemicFailure(f"all {fetch_failures} fetches failed: {dict(summary.failures_by_reason())}")
