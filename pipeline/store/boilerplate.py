"""Boilerplate lines learned per source, reversible with their `enabled` flag."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import psycopg2.extras

from pipeline.store.database import Database


class LearnedBoilerplate(Database):
    """`source_boilerplate`."""

    def learned_lines(self, source: str) -> frozenset[str]:
        """The enabled learned boilerplate lines of a source."""
        with self._transaction("read learned boilerplate") as cur:
            cur.execute("SELECT line FROM source_boilerplate WHERE source = %s AND enabled", (source,))
            return frozenset(row[0] for row in cur.fetchall())

    def save_learned_lines(self, source: str, lines: Mapping[str, float]) -> None:
        """Upsert learned lines with their scores; a line switched off stays off."""
        if not lines:
            return
        with self._transaction("save learned boilerplate") as cur:
            psycopg2.extras.execute_values(
                cur, "INSERT INTO source_boilerplate (source, line, score) VALUES %s"
                " ON CONFLICT (source, line) DO UPDATE SET score = EXCLUDED.score, updated_at = now()",
                [(source, line, float(score)) for line, score in lines.items()])

    def set_learned_lines_enabled(self, source: str, enabled: bool, lines: Iterable[str] | None = None) -> int:
        """Switch learned lines of a source off (or back on): all of them, or only `lines`. Returns rows."""
        with self._transaction("toggle learned boilerplate") as cur:
            cur.execute("UPDATE source_boilerplate SET enabled = %(on)s, updated_at = now()"
                        " WHERE source = %(s)s AND (%(all)s OR line = ANY(%(lines)s))",
                        {"on": enabled, "s": source, "all": lines is None, "lines": list(lines or [])})
            return cur.rowcount
