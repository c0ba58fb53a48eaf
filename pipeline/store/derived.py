"""Derived tables (search, story and per-source-day roll-ups): brought up to date from their queue (sql/011)."""

from __future__ import annotations

from pipeline.store.database import Database


class Derived(Database):
    """`article_search`, `story_rollup`, `quality_daily`: refreshed at the end of every run."""

    def refresh_derived(self) -> int:
        """Apply the queue of changes since the last refresh (`refresh_derived()`); return the entries read.

        Until then, `stories` and `source_daily_quality` compute the changed rows live (always exact), and
        `articles_current.search` does not cover the new articles yet.
        """
        with self._transaction("refresh derived tables") as cur:
            cur.execute("SELECT refresh_derived()")
            return int(cur.fetchone()[0])

    def rebuild_derived(self) -> int:
        """Rebuild every derived table from the base tables (after a bulk load, or to repair)."""
        with self._transaction("rebuild derived tables") as cur:
            cur.execute("SELECT rebuild_derived()")
            return int(cur.fetchone()[0])
