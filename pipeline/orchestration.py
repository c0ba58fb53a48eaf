"""Entry points for schedulers: plain values in, plain (XCom-able) dicts out; no Airflow import needed."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, SystemicFailure
from pipeline.models import Window
from pipeline.settings import Settings

AIRFLOW_CONNECTION_ID = "news_db"
ARCHIVE_CONNECTION_ID = "news_archive"  # credentials of the raw archive's object storage, when defined


def resolve_window(
    params: Mapping[str, Any],
    interval_start: datetime | None,
    interval_end: datetime | None,
    run_after: datetime | None,
) -> Window:
    """The run's window: explicit params first, then the data interval, then the day before `run_after`.

    A manual run in Airflow 3 may have no logical date (and a zero-width interval): it then
    ingests the day that ended at its trigger time, unless its params name a window.
    """
    start, end = _param_day(params, "start_date"), _param_day(params, "end_date")
    if start or end:
        if not (start and end):
            raise ConfigError("params start_date and end_date go together")
        window_start = datetime.combine(start, time(), UTC)
        window_end = datetime.combine(end, time(), UTC)
        if window_end <= window_start:
            raise ConfigError(f"params: end_date {end} must be after start_date {start} (end is exclusive)")
        return Window(window_start, window_end)
    if interval_start is not None and interval_end is not None and interval_end > interval_start:
        return Window(interval_start, interval_end)
    if run_after is None:
        raise ConfigError("the run has no data interval, no run_after and no start_date/end_date params")
    end_of_window = run_after.astimezone(UTC)
    return Window(end_of_window - timedelta(days=1), end_of_window)


def plan_run(
    params: Mapping[str, Any],
    interval_start: datetime | None,
    interval_end: datetime | None,
    run_after: datetime | None,
    run_type: str | None,
) -> list[dict[str, Any]]:
    """One job per selected source for the run's window (validated); the DAG maps over them."""
    from pipeline.archive import check_storage_schemes
    from pipeline.sources import load_sources, select_sources

    window = resolve_window(params, interval_start, interval_end, run_after)
    sources_path = _sources_path(params)
    names = _param_list(params, "sources")
    sources = select_sources(load_sources(sources_path), names)
    check_storage_schemes(sources)
    backfill = (run_type or "").lower() == "backfill"
    return [
        {"source": s.name, "sources_path": str(sources_path), "start": window.start.isoformat(),
         "end": window.end.isoformat(), "backfill": backfill, "refetch": bool(params.get("refetch", False))}
        for s in sources
    ]


def ingest_source(
    source: str, sources_path: str, start: str, end: str, backfill: bool = False, refetch: bool = False,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Ingest one source over [start, end); idempotent, returns the run summary as a dict."""
    from pipeline.run import assembly

    settings = Settings.from_env(database_url=database_url, sources_path=sources_path, refetch=refetch or None,
                                 archive_conn_id=airflow_archive_conn_id())
    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    return assembly.ingest(settings, window, [source], backfill=backfill).to_dict()


def reprocess_window(
    start: str, end: str, sources: Sequence[str] | None = None, sources_path: str | None = None,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Rebuild the window's clean records from stored raw pages with the current extractor."""
    from pipeline.run import assembly

    settings = Settings.from_env(database_url=database_url, sources_path=sources_path,
                                 archive_conn_id=airflow_archive_conn_id())
    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    return assembly.reprocess(settings, window, sources).to_dict()


def check_run(
    summaries: Sequence[Mapping[str, Any] | None], jobs: Sequence[Mapping[str, Any]], database_url: str | None = None,
) -> dict[str, Any]:
    """Record the run's merged statistics; raise SystemicFailure on a silent source, too many failures or a
    run that planned no source. The report's `asset` is the `news_articles` event's extra."""
    from pipeline.run import assembly

    if not jobs:
        raise SystemicFailure("the run planned no source, so nothing was ingested: check the sources file "
                              "and the run's `sources` param")
    settings = Settings.from_env(database_url=database_url)
    window = Window(datetime.fromisoformat(jobs[0]["start"]), datetime.fromisoformat(jobs[0]["end"]))
    report = assembly.check(settings, window, summaries)
    stored = sum(s.get("totals", {}).get("stored", 0) for s in summaries if s)
    return {**report, "asset": asset_extra("ingest", window, report["articles_in_window"], stored)}


def asset_extra(kind: str, window: Window, per_source: Mapping[str, int], stored: int) -> dict[str, Any]:
    """The extra of a `news_articles` asset event: the window that changed; `per_source` is the articles the
    window now holds (ingest) or rebuilt (reprocess) per source; `stored` the articles written or revised."""
    return {"kind": kind, "window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
            "per_source": dict(sorted(per_source.items())), "stored": stored}


def refresh_daily_counts(extras: Sequence[Mapping[str, Any]], database_url: str | None = None) -> dict[str, Any]:
    """Recount the per-source daily article counts of every window named by `news_articles` events."""
    from pipeline.run import assembly

    windows = sorted({(e["window_start"], e["window_end"]) for e in extras if e and e.get("window_start")})
    if not windows:
        raise ConfigError("no `news_articles` event with a window triggered this run: nothing to count")
    settings = Settings.from_env(database_url=database_url)
    with assembly.open_store(settings, upgrade=False) as store:
        days = store.refresh_daily_counts([Window(datetime.fromisoformat(s), datetime.fromisoformat(e))
                                           for s, e in windows])
    return {"windows": [list(w) for w in windows], "days": days}


def airflow_database_url() -> str | None:
    """The `news_db` Airflow connection's URI if defined, else DATABASE_URL (else None: embedded)."""
    try:
        from airflow.sdk import Connection

        conn = Connection.get(AIRFLOW_CONNECTION_ID)
        uri = conn.get_uri()
        return uri.replace("postgres://", "postgresql://", 1) if uri else None
    except Exception:  # not defined, or not running inside Airflow
        return os.environ.get("DATABASE_URL") or None


def airflow_archive_conn_id() -> str | None:
    """`news_archive` when that Airflow connection exists, so the archive uses its credentials; None when
    NEWS_PIPELINE_ARCHIVE_CONN_ID is set (it wins) or outside Airflow."""
    if os.environ.get("NEWS_PIPELINE_ARCHIVE_CONN_ID"):
        return None
    try:
        from airflow.sdk import Connection

        Connection.get(ARCHIVE_CONNECTION_ID)
    except Exception:  # not defined, or not running inside Airflow
        return None
    return ARCHIVE_CONNECTION_ID


def worker_hostname() -> str:
    """Airflow's `hostname_callable` on local Celery workers: NEWS_PIPELINE_WORKER_NAME, so task instances
    name the worker that ran them when several run on one machine (else the machine's name)."""
    return os.environ.get("NEWS_PIPELINE_WORKER_NAME") or platform.node()


def _sources_path(params: Mapping[str, Any]) -> Path:
    given = params.get("sources_file") or os.environ.get("NEWS_PIPELINE_SOURCES")
    if not given:
        raise ConfigError("no sources file: set the DAG param sources_file or NEWS_PIPELINE_SOURCES")
    return Path(given)


def _param_day(params: Mapping[str, Any], key: str) -> date | None:
    value = params.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ConfigError(f"param {key}={value!r} is not a date YYYY-MM-DD") from None


def _param_list(params: Mapping[str, Any], key: str) -> list[str] | None:
    value = params.get(key)
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"param {key} must be a list of source names")
    return value


def reprocess_from_context(
    params: Mapping[str, Any],
    interval_start: datetime | None,
    interval_end: datetime | None,
    run_after: datetime | None,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Reprocess the window named by params (or the run's interval / the day before its trigger); the
    summary's `asset` is the `news_articles` event's extra."""
    window = resolve_window(params, interval_start, interval_end, run_after)
    names = _param_list(params, "sources")
    summary = reprocess_window(window.start.isoformat(), window.end.isoformat(), names,
                               database_url=database_url)
    counts = {name: stats.get("stored", 0) for name, stats in summary.get("sources", {}).items()}
    return {**summary, "asset": asset_extra("reprocess", window, counts, summary["totals"].get("stored", 0))}
