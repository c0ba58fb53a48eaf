"""`daily_source_counts`: articles per source and UTC day, recounted whole days at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from pipeline.models import Window
from pipeline.store.database import Database

_DAY = "(coalesce(published_at, fetched_at) AT TIME ZONE 'UTC')::date"


class DailyCounts(Database):
    """`daily_source_counts`."""

    def refresh_daily_counts(self, windows: Sequence[Window]) -> int:
        """Recount every UTC day the windows touch, and every day with an article stored or revised since the
        last count (so an asset event that never reached its consumer is made up for by the next one);
        idempotent: a day's rows are replaced. Returns the number of days recounted."""
        with self._transaction("refresh daily counts") as cur:
            cur.execute(f"SELECT DISTINCT {_DAY} FROM articles WHERE updated_at >"
                        " coalesce((SELECT max(counted_at) FROM daily_source_counts), '-infinity')")
            days = sorted({d for w in windows for d in _days(w)} | {row[0] for row in cur.fetchall()})
            for day in days:
                start = datetime.combine(day, time(), UTC)
                cur.execute("DELETE FROM daily_source_counts WHERE day = %s", (day,))
                cur.execute(f"INSERT INTO daily_source_counts (day, source, articles) SELECT {_DAY}, source, count(*)"
                            " FROM articles WHERE coalesce(published_at, fetched_at) >= %(s)s"
                            " AND coalesce(published_at, fetched_at) < %(e)s GROUP BY 1, 2"
                            " ON CONFLICT (day, source) DO UPDATE SET articles = EXCLUDED.articles, counted_at = now()",
                            {"s": start, "e": start + timedelta(days=1)})
        return len(days)

    def daily_counts(self, first: date, last: date) -> dict[tuple[date, str], int]:
        """The stored counts of the days [first, last], by (day, source)."""
        with self._transaction("read daily counts") as cur:
            cur.execute("SELECT day, source, articles FROM daily_source_counts WHERE day BETWEEN %s AND %s",
                        (first, last))
            return {(day, source): n for day, source, n in cur.fetchall()}


def _days(window: Window) -> list[date]:
    first = window.start.astimezone(UTC).date()
    last = (window.end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
