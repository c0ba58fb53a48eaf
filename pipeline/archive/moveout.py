"""Move bodies still held in raw_pages out to WARC files: write, read back, verify, then repoint; resumable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pipeline.archive.reader import read_records
from pipeline.archive.records import DEFAULT_COMPRESSION_LEVEL, Capture, encode_capture
from pipeline.archive.storage import ArchiveStorage
from pipeline.archive.writer import ArchiveWriter
from pipeline.errors import ArchiveError
from pipeline.models import Move, StoredBody


class MoveOutIndex(Protocol):
    """The index side of a move-out (implemented by the store, in SQL)."""

    def bodies_to_move(self, after_id: int, limit: int, fetched_before: datetime | None) -> list[StoredBody]:
        """Rows with a body and no record, id > after_id, in id order."""
        ...

    def record_moves(self, file: str, size: int, records: int, run_id: int | None, moves: Sequence[Move]) -> int:
        """In one transaction: register the file (URL, bytes, response records), repoint the rows (body ->
        NULL); return the rows moved."""
        ...


@dataclass
class MoveOutReport:
    """What a move-out did; `refused` lists rows whose record did not read back as their body (kept as is)."""

    seen: int = 0
    moved: int = 0
    files: int = 0
    bytes_written: int = 0
    body_bytes: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


def move_out_bodies(index: MoveOutIndex, storage: ArchiveStorage, *, run_id: int | None, batch: int = 200,
                    level: int = DEFAULT_COMPRESSION_LEVEL, fetched_before: datetime | None = None,
                    limit: int | None = None, progress: Callable[[MoveOutReport], None] | None = None
                    ) -> MoveOutReport:
    """Archive every body of the index (or `limit` rows), batch by batch, oldest id first.

    Each batch: write its records into one file and publish it; read every record back and check its
    payload's SHA-256 against the row; then repoint the verified rows in one transaction. Safe to stop
    and rerun at any point: rows already moved are not selected again, and a file published by a run
    that stopped before repointing is only an unreferenced file.
    """
    report = MoveOutReport()
    writer = ArchiveWriter(storage, run_id=run_id, level=level, info={"description": "moved out of raw_pages"})
    after = 0
    while limit is None or report.seen < limit:
        size = batch if limit is None else min(batch, limit - report.seen)
        rows = index.bodies_to_move(after, size, fetched_before)
        if not rows:
            break
        after = rows[-1].id
        report.seen += len(rows)
        _move_batch(index, storage, writer, run_id, rows, report)
        if progress:
            progress(report)
    return report


def _move_batch(index: MoveOutIndex, storage: ArchiveStorage, writer: ArchiveWriter, run_id: int | None,
                rows: list[StoredBody], report: MoveOutReport) -> None:
    encoded = [encode_capture(Capture(row.url, row.final_url, row.status, dict(row.headers), row.body,
                                      row.fetched_at, source=row.source, run_id=row.run_id), writer.level)
               for row in rows]
    published = writer.write(encoded)
    report.files += 1
    report.bytes_written += published.size
    moves = []
    for row, location, result in zip(rows, published.locations,
                                     read_records(storage, published.locations, [r.sha256 for r in rows]),
                                     strict=True):
        if isinstance(result, ArchiveError):
            report.refused.append((row.id, str(result)))
            continue
        moves.append(Move(row.id, location.offset, location.length, result.payload_sha256))
        report.body_bytes += len(row.body)
    if moves:
        report.moved += index.record_moves(published.file, published.size, len(published.locations), run_id, moves)
