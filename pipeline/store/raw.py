"""The immutable raw layer: every response as fetched, unique by (URL, SHA-256), read back for reprocessing.

Since migration 010 a row is the index of an archived WARC record (file, offset, length); rows written
before it hold their body until `news-pipeline archive move-out` archives it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import psycopg2
import psycopg2.extras

from pipeline import storable
from pipeline.models import (
    ArchivedBatch,
    BodyRef,
    FetchedPage,
    IndexEntry,
    Move,
    PageHints,
    RawRecord,
    RecordLocation,
    StoredBody,
    Window,
    date_signal_of,
    utc,
)
from pipeline.store.database import PAGE_SIZE, Cursor, Database, is_data_error, json_value

# Rows per INSERT: each row is a whole page, hex-escaped to twice its size in the statement text, so a
# small number keeps the statement (and the client's memory) small without costing throughput.
RAW_PAGE_SIZE = 8

_LATEST_IN_WINDOW = """
SELECT DISTINCT ON (r.url) r.id, r.source, r.url, r.final_url, r.status, r.headers, r.body, r.fetched_at,
       d.published_at, d.date_signal, d.title, r.sha256, f.url, r.archive_offset, r.archive_length
FROM raw_pages r
LEFT JOIN discovered_urls d ON d.source = r.source AND d.url = r.url
LEFT JOIN archive_files f ON f.id = r.archive_file_id
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
        """Store responses with their bodies in the row (idempotent on url + sha256); ids in input order.

        The layout before the archive: runs write `save_raw_index`; this stays for databases and tools that
        keep bodies in PostgreSQL (and for the benchmark's "before")."""
        if not pages:
            return []
        rows = [(run_id, source, p.url, storable.text(p.final_url), p.status, json_value(storable.headers(p.headers)),
                 psycopg2.Binary(p.body), p.encoding, p.sha256, utc(p.fetched_at)) for source, p in pages]
        keys = [(p.url, p.sha256) for _, p in pages]
        with self._transaction("save raw pages") as cur:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO raw_pages (run_id, source, url, final_url, status, headers, body, encoding,"
                " sha256, fetched_at) VALUES %s ON CONFLICT (url, sha256) DO NOTHING",
                rows, page_size=RAW_PAGE_SIZE)
            ids = _ids_of(cur, keys)
        return [ids[key] for key in keys]

    def iter_raw_pages(self, window: Window, sources: Sequence[str] | None = None,
                       batch: int = 200) -> Iterator[RawRecord]:
        """Stream the latest successful (2xx) raw page per URL of the window, by keyset pagination on URL.

        A page is in the window when its URL's discovery date (`discovered_urls.published_at`) is in
        [start, end), or, when discovery gave no date, when the page was fetched in the window. An
        archived page comes with its record's location and no body.
        """
        for records in self.iter_raw_page_batches(window, sources, batch):
            yield from records

    def iter_raw_page_batches(self, window: Window, sources: Sequence[str] | None = None,
                              batch: int = 200) -> Iterator[list[RawRecord]]:
        """`iter_raw_pages` one keyset page at a time: what reprocessing reads archived bodies for in bulk."""
        after = ""
        while True:
            with self._transaction("read raw pages") as cur:
                cur.execute(_LATEST_IN_WINDOW, {"after": after, "start": window.start, "end": window.end,
                                                "all": sources is None, "sources": list(sources or []),
                                                "limit": batch})
                rows = cur.fetchall()
            if rows:
                yield [_raw_record(row) for row in rows]
            if len(rows) < batch:
                return
            after = rows[-1][2]

    # --- the archive's index ------------------------------------------------------------------------
    def known_raw_pages(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (url, sha256) pairs already in raw_pages: their records need not be written again."""
        with self._transaction("look up raw pages") as cur:
            cur.execute("SELECT r.url, r.sha256 FROM raw_pages r JOIN unnest(%s::text[], %s::text[]) AS k(url, sha)"
                        " ON r.url = k.url AND r.sha256 = k.sha", ([k[0] for k in keys], [k[1] for k in keys]))
            return {(url, sha) for url, sha in cur.fetchall()}

    def save_raw_index(self, run_id: int | None, kept: ArchivedBatch) -> list[int]:
        """One transaction: the published file's row, then one index row per new page (idempotent on url +
        sha256); returns the ids of every input page in `kept.keys` order, pages stored before included.

        Called only once the file is published: an index row never points at a record not fully written.
        """
        with self._transaction("save raw pages") as cur:
            if kept.file is not None and kept.pages:
                cur.execute("INSERT INTO archive_files (url, run_id, records, bytes) VALUES (%s, %s, %s, %s)"
                            " RETURNING id", (kept.file, run_id, len(kept.pages), kept.size))
                file_id = cur.fetchone()[0]
                rows = [(run_id, k.source, k.page.url, storable.text(k.page.final_url), k.page.status,
                         json_value(storable.headers(k.page.headers)), k.page.encoding, k.sha256,
                         utc(k.page.fetched_at), file_id, k.location.offset, k.location.length) for k in kept.pages]
                _insert_index_rows(cur, rows)
            ids = _ids_of(cur, kept.keys)
        return [ids[key] for key in kept.keys]

    def body_refs(self, ids: Sequence[int]) -> list[BodyRef]:
        """What reading each row's body needs: the body itself, or where its record is."""
        with self._transaction("read raw pages") as cur:
            cur.execute("SELECT r.id, r.body, f.url, r.archive_offset, r.archive_length, r.sha256 FROM raw_pages r"
                        " LEFT JOIN archive_files f ON f.id = r.archive_file_id WHERE r.id = ANY(%s)", (list(ids),))
            found = {row[0]: row[1:] for row in cur.fetchall()}
        return [BodyRef(_bytes(found[i][0]), _location(*found[i][1:4]), found[i][4]) for i in ids]

    def bodies_to_move(self, after_id: int, limit: int, fetched_before: datetime | None) -> list[StoredBody]:
        """Rows that still hold their body (id > after_id, fetched before the date if given), in id order."""
        with self._transaction("read bodies to move out") as cur:
            cur.execute("SELECT id, run_id, source, url, final_url, status, headers, body, sha256, fetched_at"
                        " FROM raw_pages WHERE id > %(after)s AND body IS NOT NULL AND archive_file_id IS NULL"
                        " AND (%(before)s::timestamptz IS NULL OR fetched_at < %(before)s)"
                        " ORDER BY id LIMIT %(limit)s", {"after": after_id, "limit": limit, "before": fetched_before})
            return [StoredBody(rid, run, source, url, final, status, dict(headers or {}), bytes(body), sha, fetched)
                    for rid, run, source, url, final, status, headers, body, sha, fetched in cur.fetchall()]

    def record_moves(self, file: str, size: int, records: int, run_id: int | None, moves: Sequence[Move]) -> int:
        """One transaction: register the published file, then repoint each verified row to its record
        (`raw_pages_move_out` clears the body only when the verified digest is the row's); rows moved."""
        with self._transaction("move raw bodies out") as cur:
            cur.execute("INSERT INTO archive_files (url, run_id, records, bytes) VALUES (%s, %s, %s, %s) RETURNING id",
                        (file, run_id, records, size))
            file_id = cur.fetchone()[0]
            cur.execute("SELECT count(*) FILTER (WHERE raw_pages_move_out(m.id, %s, m.off, m.len, m.sha))"
                        " FROM unnest(%s::bigint[], %s::bigint[], %s::integer[], %s::text[]) AS m(id, off, len, sha)",
                        (file_id, [m.id for m in moves], [m.offset for m in moves], [m.length for m in moves],
                         [m.verified_sha256 for m in moves]))
            return int(cur.fetchone()[0])

    def index_entries(self, file_prefix: str | None = None) -> list[IndexEntry]:
        """Every archived row (those of files whose URL starts with `file_prefix`), for `archive check`."""
        with self._transaction("read the archive index") as cur:
            cur.execute("SELECT r.id, f.url, r.archive_offset, r.archive_length, r.sha256 FROM raw_pages r"
                        " JOIN archive_files f ON f.id = r.archive_file_id"
                        " WHERE %(prefix)s::text IS NULL OR starts_with(f.url, %(prefix)s)"
                        " ORDER BY f.url, r.archive_offset", {"prefix": file_prefix})
            return [IndexEntry(str(rid), RecordLocation(url, off, length), sha)
                    for rid, url, off, length, sha in cur.fetchall()]


_INSERT_INDEX = ("INSERT INTO raw_pages (run_id, source, url, final_url, status, headers, encoding, sha256,"
                 " fetched_at, archive_file_id, archive_offset, archive_length) VALUES %s"
                 " ON CONFLICT (url, sha256) DO NOTHING")
UNSTORABLE_HEADERS = {"x-news-pipeline-unstorable": "headers refused by PostgreSQL; see the WARC record"}


def _insert_index_rows(cur: Cursor, rows: list[tuple]) -> None:
    """Insert the index rows; if PostgreSQL refuses a value, row by row under savepoints, a refused row
    kept with its headers and final URL replaced (the WARC record holds them whole): every page indexed."""
    try:
        cur.execute("SAVEPOINT raw_batch")
        psycopg2.extras.execute_values(cur, _INSERT_INDEX, rows, page_size=PAGE_SIZE)
        return
    except Exception as exc:
        if not is_data_error(exc):
            raise
        cur.execute("ROLLBACK TO SAVEPOINT raw_batch")
    for row in rows:
        cur.execute("SAVEPOINT raw_row")
        try:
            psycopg2.extras.execute_values(cur, _INSERT_INDEX, [row])
        except Exception as exc:
            if not is_data_error(exc):
                raise
            cur.execute("ROLLBACK TO SAVEPOINT raw_row")
            bare = (*row[:3], row[2], row[4], json_value(UNSTORABLE_HEADERS), None, *row[7:])
            psycopg2.extras.execute_values(cur, _INSERT_INDEX, [bare])


def _ids_of(cur: Cursor, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    cur.execute("SELECT r.url, r.sha256, r.id FROM raw_pages r JOIN unnest(%s::text[], %s::text[]) AS k(url, sha)"
                " ON r.url = k.url AND r.sha256 = k.sha", ([k[0] for k in keys], [k[1] for k in keys]))
    return {(url, sha): rid for url, sha, rid in cur.fetchall()}


def _bytes(body: object) -> bytes | None:
    return bytes(body) if body is not None else None  # type: ignore[arg-type]


def _location(file: str | None, offset: int | None, length: int | None) -> RecordLocation | None:
    return RecordLocation(file, offset, length) if file is not None else None  # type: ignore[arg-type]


def _raw_record(row: tuple) -> RawRecord:
    (rid, source, url, final_url, status, headers, body, fetched_at, published_at, date_signal, title,
     sha256, file, offset, length) = row
    hints = PageHints(published_at=published_at, date_signal=date_signal_of(date_signal), title=title,
                      fetched_at=fetched_at)
    return RawRecord(rid, source, url, final_url, status, dict(headers or {}), _bytes(body), fetched_at, hints,
                     _location(file, offset, length), sha256)
