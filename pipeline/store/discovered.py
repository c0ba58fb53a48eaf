"""What discovery said about each URL (date, date signal, title): the hints kept for reprocessing."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2.extras

from pipeline.models import DiscoveredURL, Window, date_signal_of, utc
from pipeline.store.database import PAGE_SIZE, Database

_UPSERT = """
INSERT INTO discovered_urls (source, url, published_at, date_signal, title, first_run_id, last_run_id) VALUES %s
ON CONFLICT (source, url) DO UPDATE SET
    published_at = coalesce(EXCLUDED.published_at, discovered_urls.published_at),
    date_signal = coalesce(EXCLUDED.date_signal, discovered_urls.date_signal),
    title = coalesce(EXCLUDED.title, discovered_urls.title),
    last_seen_at = now(), last_run_id = EXCLUDED.last_run_id
"""


class Discovered(Database):
    """`discovered_urls`."""

    def save_discovered(self, run_id: int | None, urls: Sequence[DiscoveredURL]) -> None:
        """Remember what discovery said about each URL (date signal, title): the hints for reprocessing."""
        rows = [(u.source, u.url, u.published_at and utc(u.published_at),
                 str(u.date_signal) if u.date_signal else None, u.title, run_id, run_id)
                for u in {(u.source, u.url): u for u in urls}.values()]
        if not rows:
            return
        with self._transaction("save discovered URLs") as cur:
            psycopg2.extras.execute_values(cur, _UPSERT, rows, page_size=PAGE_SIZE)

    def discovered_in_window(self, source: str, window: Window) -> list[DiscoveredURL]:
        """URLs that earlier discovery runs saw for `source` with a date inside `window`."""
        with self._transaction("read discovered URLs") as cur:
            cur.execute("SELECT url, published_at, date_signal, title FROM discovered_urls"
                        " WHERE source = %(s)s AND published_at >= %(start)s AND published_at < %(end)s",
                        {"s": source, "start": window.start, "end": window.end})
            return [DiscoveredURL(url, source, published, date_signal_of(signal), title)
                    for url, published, signal, title in cur.fetchall()]
