"""An ingest run as a straight list of stages: discover -> fetch -> keep raw -> extract -> store -> validators."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import chain
from urllib.parse import urlsplit

from pipeline.archive import ArchiveConfig, RawArchiver, RawToKeep, WarcFiles
from pipeline.archive.config import scheme_of
from pipeline.archive.masking import mask_url
from pipeline.discover import Discovery, discover_source
from pipeline.errors import SystemicFailure
from pipeline.fetch import Fetcher, fetch_many
from pipeline.fetch.client import ACCEPT
from pipeline.models import (
    DateSignal,
    ExtractionJob,
    Failure,
    FetchedPage,
    FetchKind,
    PageHints,
    Politeness,
    RunKind,
    Source,
    Stage,
    Target,
    Validator,
    Window,
)
from pipeline.run.assembly import Progress, ledger
from pipeline.run.handoff import Handoff
from pipeline.run.memory import limit_malloc_arenas, release_freed_memory
from pipeline.run.stages import FailureLog, store_articles, with_learned
from pipeline.run.summary import RunSummary
from pipeline.run.workers import ExtractorPool
from pipeline.settings import Settings
from pipeline.store import Store

# Threads that encode pages as WARC records beside the fetch threads: zlib and hashlib release the GIL.
ENCODERS = 2


@dataclass(frozen=True)
class Discovered:
    """What discovery hands to fetching: the targets, and the validators to save at the very end."""

    targets: list[Target]
    validators: list[Validator]


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
    limit_malloc_arenas()
    conditional = conditional and not settings.refetch  # a refetch must see every feed item again
    params = {"conditional": conditional, "refetch": settings.refetch}
    with ledger(store, RunKind.INGEST, window, [s.name for s in sources], params,
                close_retries=settings.ledger_close_retries) as summary:
        failures = FailureLog(store, summary, settings.batch_size)
        sources = with_learned(sources, store)
        archive = ArchiveConfig.from_settings(settings)
        archiver = RawArchiver(archive.open(), run_id=summary.run_id, level=archive.compression_level,
                               request_headers=page_request_headers(settings))
        with Fetcher(settings, politeness_by_host(sources)) as fetcher, ExtractorPool(settings) as pool:
            try:
                found = discover(settings, sources, window, store, fetcher, summary, failures, conditional)
                targets = drop_known(settings, found.targets, store, summary)
                archived = [t for t in targets if t.record is not None]
                pages = chain(read_records(settings, archive, archived, summary, failures),
                              fetch(settings, [t for t in targets if t.record is None], fetcher, summary, failures,
                                    progress))
                # Fetching and keeping raw pages run in a thread of their own, a batch ahead at most, so that
                # they go on while this thread waits for a free extraction worker or stores articles.
                with Handoff(keep_raw(pages, archiver, store, summary, settings.batch_size), settings.batch_size,
                             "fetch-keep-raw") as jobs:
                    store_articles(pool.map(jobs), store, summary, failures, settings.batch_size, learn=True)
                save_validators(found.validators, store)
                summary.fetcher_stats = fetcher.stats.as_dict()
            except BaseException:
                fetcher.abort()  # the fetch and discovery threads end within moments, not after their queues
                raise
        raise_if_systemic(summary)
    return summary


def discover(settings: Settings, sources: Sequence[Source], window: Window | None, store: Store, fetcher: Fetcher,
             summary: RunSummary, failures: FailureLog, conditional: bool) -> Discovered:
    """Discover every source in parallel, keep each URL once (with the URLs earlier runs saw for the
    window), and remember what discovery said about each URL for reprocessing."""

    def one(source: Source) -> tuple[Source, Discovery]:
        return source, discover_source(source, fetcher, window, store, settings, conditional=conditional,
                                       defer_validators=True)

    targets: dict[str, Target] = {}
    validators: list[Validator] = []
    workers = max(1, min(len(sources), settings.fetch_workers))
    with ThreadPoolExecutor(max_workers=workers) as executor, _stopping_on_error(executor, fetcher):
        for source, found in executor.map(one, sources):
            stats = summary.source(source.name)
            stats.not_modified += len(found.not_modified)
            stats.backed_off.extend(found.backed_off)
            stats.skipped_records.update(found.skipped)
            failures.extend(found.failures)
            validators.extend(found.validators)
            refused = store.save_discovered(summary.run_id, [*found.urls, *found.elsewhere])
            failures.extend(refused)  # a URL PostgreSQL cannot hold is that URL's failure, never fetched
            remembered = store.discovered_in_window(source.name, window) if window is not None else []
            unstorable = {f.url for f in refused}
            for item in (*found.urls, *remembered):
                record = found.records.get(item.url)
                if item.url in unstorable:
                    continue
                if item.url not in targets and (record is not None or item.date_signal != DateSignal.WARC_DATE):
                    # a URL an earlier run read from a WARC file is never fetched over HTTP instead
                    targets[item.url] = Target(item.url, source, PageHints(item.published_at, item.date_signal,
                                                                           item.title), record)
                    stats.discovered += 1
    failures.flush()
    return Discovered(list(targets.values()), validators)


@contextmanager
def _stopping_on_error(executor: ThreadPoolExecutor, fetcher: Fetcher) -> Iterator[None]:
    """Interrupted or failing: sources not started never start, and those running end within moments
    (their fetches fail at once) instead of the executor waiting for every source's discovery."""
    try:
        yield
    except BaseException:
        fetcher.abort()
        executor.shutdown(wait=True, cancel_futures=True)
        raise


def drop_known(settings: Settings, targets: list[Target], store: Store, summary: RunSummary) -> list[Target]:
    """Drop URLs that already have an article (unless refetching)."""
    if settings.refetch or not targets:
        return targets
    known = store.known_urls([t.url for t in targets])
    for target in targets:
        if target.url in known:
            summary.source(target.source.name).skipped_known += 1
    return [t for t in targets if t.url not in known]


def fetch(settings: Settings, targets: Sequence[Target], fetcher: Fetcher, summary: RunSummary,
          failures: FailureLog, progress: Progress | None) -> Iterator[tuple[Target, FetchedPage]]:
    """Fetch every target in the host-aware pool; failures are logged, pages yielded as they arrive."""
    by_url = {t.url: t for t in targets}
    for done, (url, result) in enumerate(fetch_many(fetcher, interleave_hosts(targets), settings.fetch_workers), 1):
        target = by_url[url]
        if isinstance(result, FetchedPage):
            summary.source(target.source.name).fetched += 1
            yield target, result
        else:
            failures.add(Failure(url, target.source.name, Stage.FETCH, result.reason, str(result)))
        if progress:
            progress(done, len(targets))


def read_records(settings: Settings, archive: ArchiveConfig, targets: Sequence[Target], summary: RunSummary,
                 failures: FailureLog) -> Iterator[tuple[Target, FetchedPage]]:
    """Read the pages discovery found in WARC files from their response records (no HTTP), by ranged reads
    in file order; a record that is no longer a usable page is that URL's failure."""
    by_scheme: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_scheme[scheme_of(target.record.file)].append(target)  # type: ignore[union-attr]
    for group in by_scheme.values():
        files = WarcFiles([], max_bytes=settings.max_response_bytes,
                          storage_options=archive.options_for(group[0].record.file))  # type: ignore[union-attr]
        for index, result in files.read_pages([t.record for t in group]):  # type: ignore[misc]
            target = group[index]
            if isinstance(result, FetchedPage):
                summary.source(target.source.name).fetched += 1
                yield target, replace(result, url=target.url)
            else:
                failures.add(Failure(target.url, target.source.name, Stage.FETCH, result.reason, result.detail))


def keep_raw(pages: Iterable[tuple[Target, FetchedPage]], archiver: RawArchiver, store: Store,
             summary: RunSummary, batch_size: int) -> Iterator[ExtractionJob]:
    """Keep fetched pages in the immutable raw layer in batches, then hand each on as an extraction job:
    what was fetched is stored before anything can fail on it.

    Each page is encoded as WARC records by a small thread pool as it arrives; per batch, the new records
    are written into one file and published (`RawArchiver.keep`), and only then indexed in `raw_pages`, so
    an index row never points at a record not fully written. At most one batch is held in memory.
    """
    batch: list[tuple[Target, FetchedPage, Future[RawToKeep]]] = []
    with ThreadPoolExecutor(ENCODERS, thread_name_prefix="archive-encode") as encoder:
        for target, page in pages:
            origin = mask_url(f"{target.record.file}#{target.record.offset}") if target.record else None
            batch.append((target, page, encoder.submit(archiver.encode, target.source.name, page, origin)))
            if len(batch) >= batch_size:
                yield from _save_raw(batch, archiver, store, summary)
                batch = []
        yield from _save_raw(batch, archiver, store, summary)


def _save_raw(batch: list[tuple[Target, FetchedPage, Future[RawToKeep]]], archiver: RawArchiver, store: Store,
              summary: RunSummary) -> list[ExtractionJob]:
    if not batch:
        return []
    kept = archiver.keep([encoded.result() for _, _, encoded in batch], store.known_raw_pages)  # publish first,
    ids = store.save_raw_index(summary.run_id, kept)  # then index
    summary.count_archived(len(kept.pages), kept.size)
    release_freed_memory()
    return [ExtractionJob(target.url, target.source.name, raw_id, page.fetched_at, page.final_url, page.body,
                          page.content_type, target.source.rules, replace(target.hints, fetched_at=page.fetched_at),
                          page.encoding)
            for (target, page, _), raw_id in zip(batch, ids, strict=True)]


def page_request_headers(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The headers a page request sends (for the archived `request` record)."""
    return (("User-Agent", settings.user_agent), ("Accept", ACCEPT[FetchKind.PAGE]),
            ("Accept-Encoding", "gzip, deflate"))


def save_validators(validators: Iterable[Validator], store: Store) -> None:
    """Save the feeds' and sitemaps' ETag/Last-Modified once the run's pages are stored: a run that failed
    before this point and is retried must not get 304s for the articles it never stored."""
    for v in validators:
        store.record(v.url, etag=v.etag, last_modified=v.last_modified, status=v.status, failed=False)


def politeness_by_host(sources: Iterable[Source]) -> dict[str, Politeness]:
    """Per-host politeness overrides from the sources that set one."""
    overrides: dict[str, Politeness] = {}
    for source in sources:
        if source.politeness is not None:
            for url in source.discovery_urls():
                overrides[urlsplit(url).hostname or ""] = source.politeness
    return overrides


def interleave_hosts(targets: Sequence[Target]) -> Iterator[str]:
    """Round-robin the URLs by host so no host's queue blocks the others."""
    queues: dict[str, list[str]] = {}
    for target in targets:
        queues.setdefault(urlsplit(target.url).hostname or "", []).append(target.url)
    lists = list(queues.values())
    for i in range(max((len(q) for q in lists), default=0)):
        for queue in lists:
            if i < len(queue):
                yield queue[i]


def raise_if_systemic(summary: RunSummary) -> None:
    """Nothing useful done is a failed run: discovery failed with nothing found, or every fetch failed."""
    reasons = summary.failures_by_reason()
    discover_failures = {r: n for r, n in sorted(reasons.items()) if r.startswith(f"{Stage.DISCOVER}:")}
    if discover_failures and not summary.total("discovered") and not summary.total("not_modified"):
        raise SystemicFailure(f"discovery failed and found nothing in {len(summary.sources)} source(s): "
                              + ", ".join(f"{r} x{n}" for r, n in discover_failures.items()))
    fetched = summary.total("fetched")
    fetch_failures = sum(n for reason, n in reasons.items() if reason.startswith(f"{Stage.FETCH}:"))
    if fetch_failures >= 5 and fetched == 0:
        raise SystemicFailure(f"all {fetch_failures} fetches failed: {dict(summary.failures_by_reason())}")
