"""A reprocess run: stored raw pages -> extract with the current extractor -> store; no network."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pipeline.extract import EXTRACTOR_VERSION
from pipeline.models import CleaningRules, ExtractionJob, RawRecord, RunKind, Source, Window, content_type_of
from pipeline.run.assembly import Progress, ledger
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
    per-source cleaning rules where the sources file is at hand.
    """
    params = {"extractor_version": EXTRACTOR_VERSION}
    with ledger(store, RunKind.REPROCESS, window, list(source_names or []), params) as summary:
        failures = FailureLog(store, summary, settings.batch_size)
        with ExtractorPool(settings) as pool:
            jobs = _jobs(store.iter_raw_pages(window, source_names), sources, store, summary, progress)
            store_articles(pool.map(jobs), store, summary, failures, settings.batch_size)
    return summary


def _jobs(records: Iterator[RawRecord], sources: Sequence[Source], store: Store, summary: RunSummary,
          progress: Progress | None) -> Iterator[ExtractionJob]:
    configured = {s.name: s.rules for s in sources}
    rules: dict[str, CleaningRules] = {}
    for record in records:
        summary.source(record.source).fetched += 1
        if record.source not in rules:
            rules[record.source] = with_learned_lines(configured.get(record.source, CleaningRules()),
                                                      record.source, store)
        yield ExtractionJob(record.url, record.source, record.id, record.fetched_at, record.final_url, record.body,
                            content_type_of(record.headers), rules[record.source], record.hints)
        if progress:
            progress(summary.total("fetched"), 0)
