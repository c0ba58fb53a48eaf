"""The index side of the archive in SQL, as the store will hold it (reference for the wiring; see docs/raw-archive.md).

Phase B moves these methods into `pipeline/store/raw.py` (the store is the only module that speaks SQL);
until then the archive tests run the whole protocol against a real PostgreSQL through this class.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg2.extras

from pipeline.archive import BodyRef, IndexEntry, KeptBatch, Move, RecordLocation, StoredBody
from pipeline.archive.writer import PublishedBatch
from pipeline.models import utc
from pipeline.store import Store


class ReferenceIndex:
    """raw_pages + archive_files after migration 010."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def known_raw_pages(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (url, sha256) pairs already in raw_pages: their records need not be written again."""
        with self.store._transaction("look up raw pages") as cur:
            cur.execute("SELECT r.url, r.sha256 FROM raw_pages r JOIN unnest(%s::text[], %s::text[]) AS k(url, sha)"
                        " ON r.url = k.url AND r.sha256 = k.sha", ([k[0] for k in keys], [k[1] for k in keys]))
            return {(url, sha) for url, sha in cur.fetchall()}

    def save_raw_index(self, run_id: int, kept: KeptBatch) -> list[int]:
        """One transaction: the published file, then one index row per new page; ids in `kept.keys` order."""
        with self.store._transaction("save raw pages") as cur:
            if kept.file is not None:
                cur.execute("INSERT INTO archive_files (url, run_id, records, bytes) VALUES (%s, %s, %s, %s)"
                            " RETURNING id", (kept.file.file, run_id, len(kept.pages), kept.file.size))
                file_id = cur.fetchone()[0]
                rows = [(run_id, k.source, k.page.url, k.page.final_url, k.page.status,
                         psycopg2.extras.Json(dict(k.page.headers)), k.page.encoding, k.sha256,
                         utc(k.page.fetched_at), file_id, k.location.offset, k.location.length) for k in kept.pages]
                psycopg2.extras.execute_values(
                    cur, "INSERT INTO raw_pages (run_id, source, url, final_url, status, headers, encoding, sha256,"
                    " fetched_at, archive_file_id, archive_offset, archive_length) VALUES %s"
                    " ON CONFLICT (url, sha256) DO NOTHING", rows, page_size=1000)
            cur.execute("SELECT r.url, r.sha256, r.id FROM raw_pages r JOIN unnest(%s::text[], %s::text[])"
                        " AS k(url, sha) ON r.url = k.url AND r.sha256 = k.sha",
                        ([k[0] for k in kept.keys], [k[1] for k in kept.keys]))
            ids = {(url, sha): rid for url, sha, rid in cur.fetchall()}
        return [ids[key] for key in kept.keys]

    def body_refs(self, ids: Sequence[int]) -> list[BodyRef]:
        """What reprocessing reads for each row: the body, or where its record is."""
        with self.store._transaction("read raw pages") as cur:
            cur.execute("SELECT r.id, r.body, f.url, r.archive_offset, r.archive_length, r.sha256 FROM raw_pages r"
                        " LEFT JOIN archive_files f ON f.id = r.archive_file_id WHERE r.id = ANY(%s)", (list(ids),))
            found = {row[0]: row[1:] for row in cur.fetchall()}
        return [_ref(*found[i]) for i in ids]

    def bodies_to_move(self, after_id: int, limit: int, fetched_before: datetime | None) -> list[StoredBody]:
        with self.store._transaction("read bodies to move out") as cur:
            cur.execute("SELECT id, run_id, source, url, final_url, status, headers, body, sha256, fetched_at"
                        " FROM raw_pages WHERE id > %(after)s AND body IS NOT NULL AND archive_file_id IS NULL"
                        " AND (%(before)s::timestamptz IS NULL OR fetched_at < %(before)s)"
                        " ORDER BY id LIMIT %(limit)s", {"after": after_id, "limit": limit, "before": fetched_before})
            return [StoredBody(rid, run, source, url, final, status, dict(headers or {}), bytes(body), sha, fetched)
                    for rid, run, source, url, final, status, headers, body, sha, fetched in cur.fetchall()]

    def record_moves(self, file: PublishedBatch, run_id: int | None, moves: Sequence[Move]) -> int:
        with self.store._transaction("move raw bodies out") as cur:
            cur.execute("INSERT INTO archive_files (url, run_id, records, bytes) VALUES (%s, %s, %s, %s) RETURNING id",
                        (file.file, run_id, len(file.locations), file.size))
            file_id = cur.fetchone()[0]
            cur.execute("SELECT count(*) FILTER (WHERE raw_pages_move_out(m.id, %s, m.off, m.len, m.sha))"
                        " FROM unnest(%s::bigint[], %s::bigint[], %s::integer[], %s::text[]) AS m(id, off, len, sha)",
                        (file_id, [m.id for m in moves], [m.offset for m in moves], [m.length for m in moves],
                         [m.verified_sha256 for m in moves]))
            return int(cur.fetchone()[0])

    def index_entries(self) -> list[IndexEntry]:
        """Every archived row, for `check_archive`."""
        with self.store._transaction("read the archive index") as cur:
            cur.execute("SELECT r.id, f.url, r.archive_offset, r.archive_length, r.sha256 FROM raw_pages r"
                        " JOIN archive_files f ON f.id = r.archive_file_id ORDER BY f.url, r.archive_offset")
            return [IndexEntry(str(rid), RecordLocation(url, off, length), sha)
                    for rid, url, off, length, sha in cur.fetchall()]


def _ref(body: Any, url: str | None, offset: int | None, length: int | None, sha256: str) -> BodyRef:
    location = RecordLocation(url, offset, length) if url is not None else None  # type: ignore[arg-type]
    return BodyRef(bytes(body) if body is not None else None, location, sha256)
