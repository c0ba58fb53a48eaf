"""One run assembly for the CLI and the DAGs: settings, sources, window, store, ledger and progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pipeline.errors import ConfigError, PipelineError
from pipeline.models import RunKind, RunStatus, Source, Window
from pipeline.run.summary import RunSummary
from pipeline.settings import Settings
from pipeline.sources import load_sources, select_sources
from pipeline.store import Store

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total): total 0 when unknown


def ingest(settings: Settings, window: Window | None, source_names: Sequence[str] | None = None, *,
           backfill: bool = False, progress: Progress | None = None) -> RunSummary:
    """Ingest the window's articles of the selected sources of `settings.sources_path`."""
    from pipeline.run.ingest import run_ingest

    sources = selected_sources(settings, source_names)
    with open_store(settings) as store:
        return run_ingest(settings, sources, window, store, conditional=not backfill, progress=progress)


def reprocess(settings: Settings, window: Window, source_names: Sequence[str] | None = None, *,
              progress: Progress | None = None) -> RunSummary:
    """Rebuild the window's clean records from stored raw pages (sources file optional: per-source rules)."""
    from pipeline.run.reprocess import run_reprocess

    configured = load_sources(settings.sources_path) if settings.sources_path else []
    if source_names and configured:
        select_sources(configured, source_names)  # an unknown name is a ConfigError
    with open_store(settings) as store:
        return run_reprocess(settings, window, store, source_names=list(source_names) if source_names else None,
                             sources=configured, progress=progress)


def check(settings: Settings, window: Window, summaries: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Record a run's merged statistics as a `check` run; raise SystemicFailure on a silent source or
    too many failures (`summaries`: the source tasks' `RunSummary.to_dict()`, None for a failed task)."""
    from pipeline.run.checks import find_problems, raise_on_problems

    done = [s for s in summaries if s]
    with open_store(settings, upgrade=False) as store:
        counts = store.articles_per_source(window)
        problems = find_problems(done, counts, settings.failure_rate_threshold)
        if len(done) < len(summaries):
            problems.append(f"{len(summaries) - len(done)} source task(s) failed; see their logs")
        run_id = store.begin_run(RunKind.CHECK, window, sorted({n for s in done for n in s.get("sources", {})}), {})
        report = {"runs": [s.get("run_id") for s in done], "articles_in_window": counts, "problems": problems}
        store.end_run(run_id, RunStatus.FAILED if problems else RunStatus.SUCCESS, report)
    raise_on_problems(problems)
    return report


def selected_sources(settings: Settings, names: Sequence[str] | None) -> list[Source]:
    """The named sources of the settings' sources file (all of them when no name is given)."""
    if settings.sources_path is None:
        raise ConfigError("no sources file: pass --sources FILE or set NEWS_PIPELINE_SOURCES")
    return select_sources(load_sources(settings.sources_path), names)


@contextmanager
def open_store(settings: Settings, *, upgrade: bool = True) -> Iterator[Store]:
    """The configured database (or the embedded one), migrated unless `upgrade` is False."""
    from pipeline.embedded import resolve_database_url

    with Store.open(resolve_database_url(settings)) as store:
        if upgrade:
            store.upgrade()
        yield store


@contextmanager
def ledger(store: Store, kind: RunKind, window: Window | None, sources: Sequence[str],
           params: Mapping[str, Any]) -> Iterator[RunSummary]:
    """A run's row in the ledger: opened here, closed with its status and statistics even on failure."""
    summary = RunSummary(kind, window)
    summary.run_id = store.begin_run(kind, window, sources, params)
    started = time.monotonic()
    try:
        yield summary
    except BaseException as exc:
        _close(store, summary, started, exc)
        raise
    _close(store, summary, started, None)


def _close(store: Store, summary: RunSummary, started: float, exc: BaseException | None) -> None:
    summary.seconds = time.monotonic() - started
    summary.status = RunStatus.SUCCESS if exc is None else RunStatus.FAILED
    stats = summary.to_dict()
    if exc is not None:
        stats["error"] = f"{type(exc).__name__}: {exc}"
    try:
        store.end_run(summary.run_id, summary.status, stats)
    except PipelineError as ledger_error:
        if exc is None:
            raise
        log.warning("could not close run %s in the ledger: %s", summary.run_id, ledger_error)
