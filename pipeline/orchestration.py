"""Entry points for schedulers: plain values in, plain (XCom-able) dicts out; no Airflow import needed."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.models import Window
from pipeline.settings import Settings

AIRFLOW_CONNECTION_ID = "news_db"


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
    from pipeline.sources import load_sources, select_sources

    window = resolve_window(params, interval_start, interval_end, run_after)
    sources_path = _sources_path(params)
    names = _param_list(params, "sources")
    sources = select_sources(load_sources(sources_path), names)
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

    settings = Settings.from_env(database_url=database_url, sources_path=sources_path, refetch=refetch or None)
    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    return assembly.ingest(settings, window, [source], backfill=backfill).to_dict()


def reprocess_window(
    start: str, end: str, sources: Sequence[str] | None = None, sources_path: str | None = None,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Rebuild the window's clean records from stored raw pages with the current extractor."""
    from pipeline.run import assembly

    settings = Settings.from_env(database_url=database_url, sources_path=sources_path)
    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    return assembly.reprocess(settings, window, sources).to_dict()


def check_run(
    summaries: Sequence[Mapping[str, Any] | None], start: str, end: str, database_url: str | None = None,
) -> dict[str, Any]:
    """Record the run's merged statistics; raise SystemicFailure on a silent source or too many failures."""
    from pipeline.run import assembly

    settings = Settings.from_env(database_url=database_url)
    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    return assembly.check(settings, window, summaries)


def airflow_database_url() -> str | None:
    """The `news_db` Airflow connection's URI if defined, else DATABASE_URL (else None: embedded)."""
    try:
        from airflow.sdk import Connection

        conn = Connection.get(AIRFLOW_CONNECTION_ID)
        uri = conn.get_uri()
        return uri.replace("postgres://", "postgresql://", 1) if uri else None
    except Exception:  # not defined, or not running inside Airflow
        return os.environ.get("DATABASE_URL") or None


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
    """Reprocess the window named by params (or the run's interval / the day before its trigger)."""
    window = resolve_window(params, interval_start, interval_end, run_after)
    names = _param_list(params, "sources")
    return reprocess_window(window.start.isoformat(), window.end.isoformat(), names,
                            database_url=database_url)
