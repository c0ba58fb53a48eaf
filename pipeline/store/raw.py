"""The immutable raw layer: every response as fetched, unique by (URL, SHA-256), read back for reprocessing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import psycopg2
import psycopg2.extras

from pipeline.models import FetchedPage, PageHints, RawRecord, Window, date_signal_of, utc
from pipeline.store.database import Database, json_value

# Rows per INSERT: each row is a whole page, hex-escaped to twice its size in the statement text, so a
# small number keeps the statement (and the client's memory) small without costing throughput.
RAW_PAGE_SIZE = 8

_LATEST_IN_WINDOW = """
SELECT DISTINCT ON (r.url) r.id, r.source, r.url, r.final_url, r.status, r.headers, r.body, r.fetched_at,
       d.published_at, d.date_signal, d.title
FROM raw_pages r
LEFT JOIN discovered_urls d ON d.source = r.source AND d.url = r.url
WHERE r.url > %(after)s
  AND r.status BETWEEN 200 AND 299
  AND (%(all)s OR r.source = ANY(%(sources)s))
  AND coalesce(d.published_at, r.fetched_at) >= %(start)s
  AND coalesce(d.published_at, r.fetched_at) < %(end)s
ORDER BY r.url, r.fetched_at DESC, r.id DESC
LIMIT %(limit)s
"""


class RawPages(Database):
    """`raw_pages`."""

    def save_raw_pages(self, run_id: int | None, pages: Sequence[tuple[str, FetchedPage]]) -> list[int]:
        """Store responses immutably (idempotent on url + sha256); return their ids in input order."""
        if not pages:
            return []
        rows = [(run_id, source, p.url, p.final_url, p.status, json_value(dict(p.headers)),
                 psycopg2.Binary(p.body), p.encoding, p.sha256, utc(p.fetched_at)) for source, p in pages]
        keys = [(p.url, p.sha256) for _, p in pages]
        with self._transaction("save raw pages") as cur:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO raw_pages (run_id, source, url, final_url, status, headers, body, encoding,"
                " sha256, fetched_at) VALUES %s ON CONFLICT (url, sha256) DO NOTHING",
                rows, page_size=RAW_PAGE_SIZE)
            cur.execute("SELECT r.url, r.sha256, r.id FROM raw_pages r"
                        " JOIN unnest(%s::text[], %s::text[]) AS k(url, sha)"
                        " ON r.url = k.url AND r.sha256 = k.sha",
                        ([k[0] for k in keys], [k[1] for k in keys]))
            ids = {(url, sha): rid for url, sha, rid in cur.fetchall()}
        return [ids[key] for key in keys]

    def iter_raw_pages(self, window: Window, sources: Sequence[str] | None = None,
                       batch: int = 200) -> Iterator[RawRecord]:
        """Stream the latest successful (2xx) raw page per URL of the window, by keyset pagination on URL.

        A page is in the window when its URL's discovery date (`discovered_urls.published_at`) is in
        [start, end), or, when discovery gave no date, when the page was fetched in the window.
        """
        after = ""
        while True:
            with self._transaction("read raw pages") as cur:
                cur.execute(_LATEST_IN_WINDOW, {"after": after, "start": window.start, "end": window.end,
                                                "all": sources is None, "sources": list(sources or []),
                                                "limit": batch})
                rows = cur.fetchall()
            for row in rows:
                yield _raw_record(row)
            if len(rows) < batch:
                return
            after = rows[-1][2]


def _raw_record(row: tuple) -> RawRecord:
    rid, source, url, final_url, status, headers, body, fetched_at, published_at, date_signal, title = row
    hints = PageHints(published_at=published_at, date_signal=date_signal_of(date_signal), title=title,
                      fetched_at=fetched_at)
    return RawRecord(rid, source, url, final_url, status, dict(headers or {}), bytes(body), fetched_at, hints)
