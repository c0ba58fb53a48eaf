"""One run assembly for the CLI and the DAGs: settings, sources, window, store, ledger and progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pipeline.errors import ConfigError, DatabaseUnavailable, Interrupted, PipelineError
from pipeline.models import RunKind, RunStatus, Source, Window
from pipeline.run.summary import RunSummary
from pipeline.settings import Settings
from pipeline.sources import load_sources, select_sources
from pipeline.store import Store

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total): total 0 when unknown
CLOSE_PAUSE = 1.0  # seconds before the first retry of closing a run's row; doubled at each retry


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
    from pipeline.archive import check_storage_schemes

    if settings.sources_path is None:
        raise ConfigError("no sources file: pass --sources FILE or set NEWS_PIPELINE_SOURCES")
    selected = select_sources(load_sources(settings.sources_path), names)
    check_storage_schemes(selected)  # a WARC source's storage scheme only fsspec knows
    return selected


@contextmanager
def open_store(settings: Settings, *, upgrade: bool = True) -> Iterator[Store]:
    """The configured database (or the embedded one), migrated unless `upgrade` is False."""
    from pipeline.embedded import resolve_database_url

    with Store.from_settings(resolve_database_url(settings), settings) as store:
        if upgrade:
            store.upgrade()
        yield store


@contextmanager
def ledger(store: Store, kind: RunKind, window: Window | None, sources: Sequence[str],
           params: Mapping[str, Any], *, close_retries: int = 3) -> Iterator[RunSummary]:
    """A run's row in the ledger: opened here, closed with its status and statistics however the run
    ends (`success`, `failed`, or `interrupted` by SIGTERM/SIGINT); closing is retried `close_retries`
    times when the database is down, and a row that cannot be closed is marked abandoned by the next run."""
    summary = RunSummary(kind, window)
    summary.run_id = store.begin_run(kind, window, sources, params)
    started = time.monotonic()
    try:
        yield summary
    except BaseException as exc:
        _close(store, summary, started, exc, close_retries)
        raise
    _close(store, summary, started, None, close_retries)


def status_of(exc: BaseException | None) -> RunStatus:
    """How a run that ended with `exc` (None: normally) is closed."""
    if exc is None:
        return RunStatus.SUCCESS
    return RunStatus.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED


def _close(store: Store, summary: RunSummary, started: float, exc: BaseException | None, retries: int) -> None:
    summary.seconds = time.monotonic() - started
    summary.status = status_of(exc)
    stats = summary.to_dict()
    if exc is not None:
        stats["error"] = (str(exc) if isinstance(exc, Interrupted) else f"{type(exc).__name__}: {exc}").split("\n")[0]
    if isinstance(exc, Interrupted):
        exc.run_id = summary.run_id
    try:
        _end_run(store, summary, stats, retries)
        if isinstance(exc, Interrupted):
            exc.closed = True
    except PipelineError as ledger_error:
        store.release_run(summary.run_id)  # the next run marks the row abandoned
        message = (f"could not close run {summary.run_id} in the ledger after {retries + 1} attempts "
                   f"({ledger_error}); the next run marks it abandoned")
        if exc is None:
            raise DatabaseUnavailable(message) from None
        log.warning("%s", message)


def _end_run(store: Store, summary: RunSummary, stats: dict[str, Any], retries: int) -> None:
    """`end_run`, retried with a doubling pause while the database is unavailable."""
    assert summary.run_id is not None
    pause = CLOSE_PAUSE
    for attempt in range(retries + 1):
        try:
            store.end_run(summary.run_id, RunStatus(summary.status), stats)
            return
        except DatabaseUnavailable as error:
            if attempt == retries:
                raise
            log.warning("closing run %s in the ledger failed (%s); retry %d of %d in %.0f s",
                        summary.run_id, error, attempt + 1, retries, pause)
            time.sleep(pause)
            pause *= 2
