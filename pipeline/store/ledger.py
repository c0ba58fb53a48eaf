"""The run ledger: one row per run with its window, status and statistics, and the per-URL failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import psycopg2.extras

from pipeline.models import Failure, RunKind, RunStatus, Window
from pipeline.store.database import PAGE_SIZE, Database, json_value


class Ledger(Database):
    """`runs` and `failures`."""

    def begin_run(self, kind: RunKind, window: Window | None, sources: Sequence[str], params: Mapping) -> int:
        """Open a run in the ledger and return its id."""
        with self._transaction("begin run") as cur:
            cur.execute("INSERT INTO runs (kind, window_start, window_end, sources, params) "
                        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                        (str(kind), window.start if window else None, window.end if window else None,
                         list(sources), json_value(dict(params))))
            return int(cur.fetchone()[0])

    def end_run(self, run_id: int, status: RunStatus, stats: Mapping) -> None:
        """Close a run with its final status and summary statistics, then refresh the derived tables
        (search, story and daily roll-ups: sql/011) with what the run wrote."""
        with self._transaction("end run") as cur:
            cur.execute("UPDATE runs SET status = %s, stats = %s, ended_at = now() WHERE id = %s",
                        (str(status), json_value(dict(stats)), run_id))
        with self._transaction("refresh derived tables") as cur:
            cur.execute("SELECT refresh_derived()")

    def record_failures(self, run_id: int | None, failures: Sequence[Failure]) -> None:
        """Record per-URL failures with their stage and reason."""
        if not failures:
            return
        rows = [(run_id, f.source, f.url, str(f.stage), str(f.reason), f.detail) for f in failures]
        with self._transaction("record failures") as cur:
            psycopg2.extras.execute_values(
                cur, "INSERT INTO failures (run_id, source, url, stage, reason, detail) VALUES %s", rows,
                page_size=PAGE_SIZE)
