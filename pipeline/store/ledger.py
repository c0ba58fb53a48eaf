"""The run ledger: one row per run with its window, status and statistics, the per-URL failures, and
which runs are alive (a session advisory lock per run), so the rows of runs whose process died are
marked `abandoned` by the next run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg2.extras

from pipeline.models import Failure, RunKind, RunStatus, Window
from pipeline.store.database import PAGE_SIZE, Database, UnitDeadline, json_value

# First key of the two-key advisory locks "run N is alive" (the second is N); one-key locks (migrations)
# live in another space of pg_locks, so they never collide.
RUN_LOCK_SPACE = 0x6E70  # "np"
_INT4 = 2**31


def run_lock_key(run_id: int) -> tuple[int, int]:
    return RUN_LOCK_SPACE, run_id % _INT4


class Ledger(Database):
    """`runs` and `failures`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._run_locks: dict[int, Any] = {}  # run id -> the connection holding its liveness lock

    def begin_run(self, kind: RunKind, window: Window | None, sources: Sequence[str], params: Mapping) -> int:
        """Open a run in the ledger and return its id; mark stale the rows of runs whose process died.

        The run's row and its liveness lock (session level, on a connection of its own that lives as
        long as the run) are committed together, so no other run ever sees the row without the lock; the
        lock goes when the run is closed, or when its process dies, however it dies."""
        deadline = UnitDeadline(self.timeout)
        with self._errors("begin run", deadline), deadline:
            connection = self._engine.raw_connection()
            connection.detach()  # out of the pool: closing it ends the session, and the lock with it
            try:
                cur = connection.cursor()
                cur.execute("INSERT INTO runs (kind, window_start, window_end, sources, params) "
                            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                            (str(kind), window.start if window else None, window.end if window else None,
                             list(sources), json_value(dict(params))))
                run_id = int(cur.fetchone()[0])
                cur.execute("SELECT pg_advisory_lock(%s, %s)", run_lock_key(run_id))
                cur.close()
                connection.commit()
            except BaseException:
                connection.close()
                raise
        self._run_locks[run_id] = connection
        self.mark_abandoned()
        return run_id

    def mark_abandoned(self) -> list[int]:
        """Close as `abandoned` every `running` row whose liveness lock nobody holds (its process died:
        SIGKILL, a crash, a lost machine); return their ids."""
        with self._transaction("mark abandoned runs") as cur:
            cur.execute("SELECT id FROM runs WHERE status = %s ORDER BY id", (str(RunStatus.RUNNING),))
            stale = []
            for (run_id,) in cur.fetchall():
                cur.execute("SELECT pg_try_advisory_lock(%s, %s)", run_lock_key(run_id))
                if cur.fetchone()[0]:
                    stale.append(run_id)
                    cur.execute("SELECT pg_advisory_unlock(%s, %s)", run_lock_key(run_id))
            if stale:
                cur.execute("UPDATE runs SET status = %s, ended_at = now(), "
                            "stats = stats || jsonb_build_object('error', %s::text) "
                            "WHERE id = ANY(%s) AND status = %s",
                            (str(RunStatus.ABANDONED), "abandoned: the process running it died before closing it",
                             stale, str(RunStatus.RUNNING)))
        return stale

    def end_run(self, run_id: int, status: RunStatus, stats: Mapping) -> None:
        """Close a run with its final status and summary statistics, refresh the derived tables (search,
        story and daily roll-ups: sql/011) with what the run wrote, then drop its liveness lock."""
        with self._transaction("end run") as cur:
            cur.execute("UPDATE runs SET status = %s, stats = %s, ended_at = now() WHERE id = %s",
                        (str(status), json_value(dict(stats)), run_id))
        try:
            with self._transaction("refresh derived tables") as cur:
                cur.execute("SELECT refresh_derived()")
        finally:
            self.release_run(run_id)

    def release_run(self, run_id: int) -> None:
        """Drop a run's liveness lock (closing its connection); the row, if still `running`, is then
        marked abandoned by the next run."""
        connection = self._run_locks.pop(run_id, None)
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - a dead connection is already closed as far as the server cares
                pass

    def close(self) -> None:
        for run_id in list(self._run_locks):
            self.release_run(run_id)
        super().close()

    def record_failures(self, run_id: int | None, failures: Sequence[Failure]) -> None:
        """Record per-URL failures with their stage and reason."""
        if not failures:
            return
        rows = [(run_id, f.source, f.url, str(f.stage), str(f.reason), f.detail) for f in failures]
        with self._transaction("record failures") as cur:
            psycopg2.extras.execute_values(
                cur, "INSERT INTO failures (run_id, source, url, stage, reason, detail) VALUES %s", rows,
                page_size=PAGE_SIZE)
