"""What discovery said about each URL (date, date signal, title): the hints kept for reprocessing."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2.extras

from pipeline import storable
from pipeline.errors import Reason
from pipeline.models import DiscoveredURL, Failure, Stage, Window, date_signal_of, utc
from pipeline.store.database import PAGE_SIZE, Cursor, Database

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

    def save_discovered(self, run_id: int | None, urls: Sequence[DiscoveredURL]) -> list[Failure]:
        """Remember what discovery said about each URL (date signal, title): the hints for reprocessing.

        A URL PostgreSQL cannot hold costs only itself: it is returned as a failure (stage `discover`),
        the others are stored."""
        rows, failures = [], []
        for u in {(u.source, u.url): u for u in urls}.values():
            try:
                url = storable.url(u.url)
            except storable.UnstorableValue as exc:
                failures.append(Failure(u.url[:storable.MAX_URL_CHARS], u.source, Stage.DISCOVER, exc.reason,
                                        storable.detail(str(exc))))
                continue
            rows.append((storable.text(u.source), url, u.published_at and utc(u.published_at),
                         str(u.date_signal) if u.date_signal else None,
                         storable.bounded(u.title, storable.MAX_TITLE_CHARS), run_id, run_id))

        def write(cur: Cursor, batch: Sequence[tuple]) -> None:
            psycopg2.extras.execute_values(cur, _UPSERT, batch, page_size=PAGE_SIZE)

        if rows:
            for row, exc in self._each_row_on_data_error("save discovered URLs", rows, write):
                failures.append(Failure(row[1], row[0], Stage.DISCOVER, Reason.STORE_DATA, storable.detail(str(exc))))
        return failures

    def discovered_in_window(self, source: str, window: Window) -> list[DiscoveredURL]:
        """URLs that earlier discovery runs saw for `source` with a date inside `window`."""
        with self._transaction("read discovered URLs") as cur:
            cur.execute("SELECT url, published_at, date_signal, title FROM discovered_urls"
                        " WHERE source = %(s)s AND published_at >= %(start)s AND published_at < %(end)s",
                        {"s": source, "start": window.start, "end": window.end})
            return [DiscoveredURL(url, source, published, date_signal_of(signal), title)
                    for url, published, signal, title in cur.fetchall()]
