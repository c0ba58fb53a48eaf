"""A reprocess run: stored raw pages (row bodies or archived WARC records) -> extract -> store; no network."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pipeline.archive import ArchiveConfig, ArchiveStorage, load_bodies
from pipeline.extract import EXTRACTOR_VERSION
from pipeline.models import (
    BodyRef,
    CleaningRules,
    ExtractionJob,
    Failure,
    RawRecord,
    RunKind,
    Source,
    Stage,
    Window,
    content_type_of,
)
from pipeline.run.assembly import Progress, ledger
from pipeline.run.ingest import raise_if_systemic
from pipeline.run.stages import FailureLog, store_articles, with_learned_lines
from pipeline.run.summary import RunSummary
from pipeline.run.workers import ExtractorPool
from pipeline.settings import Settings
from pipeline.store import Store


def run_reprocess(
    settings: Settings,
    window: Window,
    store: Store,
    *,
    source_names: Sequence[str] | None = None,
    sources: Sequence[Source] = (),
    progress: Progress | None = None,
) -> RunSummary:
    """Rebuild clean records of `window` from stored raw pages with the current extractor.

    `source_names` limits the run (None: every source in the raw layer); `sources` supplies
    per-source cleaning rules where the sources file is at hand. Archived pages are read from their
    WARC records in bulk per batch (rows that still hold a body are read as they are); a missing or damaged
    record is that page's failure, an unreachable archive storage fails the run (ArchiveUnavailable).
    """
    params = {"extractor_version": EXTRACTOR_VERSION}
    with ledger(store, RunKind.REPROCESS, window, list(source_names or []), params,
                close_retries=settings.ledger_close_retries) as summary:
        failures = FailureLog(store, summary, settings.batch_size)
        bodies = _Bodies(ArchiveConfig.from_settings(settings))
        with ExtractorPool(settings) as pool:
            batches = store.iter_raw_page_batches(window, source_names, settings.batch_size)
            jobs = _jobs(batches, bodies, sources, store, summary, failures, progress)
            store_articles(pool.map(jobs), store, summary, failures, settings.batch_size)
        raise_if_systemic(summary)  # every stored page unreadable: the archive is broken, not one page
    return summary


class _Bodies:
    """Loads the bodies of a batch of raw pages; the archive storage is opened only if a page needs it."""

    def __init__(self, config: ArchiveConfig) -> None:
        self.config = config
        self.storage: ArchiveStorage | None = None

    def load(self, records: list[RawRecord]) -> list[bytes | Failure]:
        if self.storage is None and any(r.body is None for r in records):
            self.storage = self.config.open()
        loaded = load_bodies(self.storage, [BodyRef(r.body, r.location, r.sha256) for r in records])
        return [body if isinstance(body, bytes) else Failure(r.url, r.source, Stage.FETCH, body.reason, str(body))
                for r, body in zip(records, loaded, strict=True)]


def _jobs(batches: Iterator[list[RawRecord]], bodies: _Bodies, sources: Sequence[Source], store: Store,
          summary: RunSummary, failures: FailureLog, progress: Progress | None) -> Iterator[ExtractionJob]:
    configured = {s.name: s.rules for s in sources}
    rules: dict[str, CleaningRules] = {}
    for records in batches:
        for record, body in zip(records, bodies.load(records), strict=True):
            if isinstance(body, Failure):
                failures.add(body)
                continue
            summary.source(record.source).fetched += 1
            if record.source not in rules:
                rules[record.source] = with_learned_lines(configured.get(record.source, CleaningRules()),
                                                          record.source, store)
            yield ExtractionJob(record.url, record.source, record.id, record.fetched_at, record.final_url, body,
                                content_type_of(record.headers), rules[record.source], record.hints)
            if progress:
                progress(summary.total("fetched"), 0)
