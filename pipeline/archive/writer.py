"""Write batches of encoded captures as WARC files: staged locally, then published whole, one file per batch."""

from __future__ import annotations

import platform
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.archive.records import DEFAULT_COMPRESSION_LEVEL, EncodedCapture, warcinfo_record
from pipeline.archive.storage import ArchiveStorage
from pipeline.errors import ArchiveUnavailable
from pipeline.models import RecordLocation, utc

FILE_PREFIX = "news-pipeline"


@dataclass(frozen=True)
class PublishedBatch:
    """A published WARC file and the location of each capture's response record, in input order."""

    file: str
    size: int
    locations: list[RecordLocation]


def file_name(run_id: int | None, moment: datetime, seq: int, token: str) -> str:
    """`YYYY/MM/DD/news-pipeline-run<id>-<YYYYMMDDhhmmss>-<seq>-<token>.warc.gz` (the day of the captures)."""
    moment = utc(moment)
    run = f"run{run_id}" if run_id is not None else "norun"
    return f"{moment:%Y/%m/%d}/{FILE_PREFIX}-{run}-{moment:%Y%m%d%H%M%S}-{seq:05d}-{token}.warc.gz"


class ArchiveWriter:
    """Writes one WARC file per batch under a storage location; thread-confined (the main thread's sink).

    The file is written to a staging path, synced and then published whole; its records are only
    returned (for the index) once it is published, so an index row never points at a partial record.
    """

    def __init__(self, storage: ArchiveStorage, *, run_id: int | None,
                 level: int = DEFAULT_COMPRESSION_LEVEL, info: dict[str, object] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.storage, self.run_id, self.level, self.clock = storage, run_id, level, clock
        self.info = {"hostname": platform.node(), **(info or {})}
        self.seq = 0
        self.files_written = 0
        self.bytes_written = 0

    def write(self, captures: Sequence[EncodedCapture]) -> PublishedBatch:
        """Write `captures` into one new file, publish it, and return where each response record is."""
        if not captures:
            raise ValueError("an archive batch needs at least one capture")
        self.seq += 1
        name = file_name(self.run_id, min(utc(c.fetched_at) for c in captures), self.seq, secrets.token_hex(4))
        basename = name.rsplit("/", 1)[-1]
        staging = self.storage.staging_path(basename)
        try:
            offsets, size = self._write_file(staging, basename, captures)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        url = self.storage.publish(staging, name)
        self.files_written += 1
        self.bytes_written += size
        return PublishedBatch(url, size, [RecordLocation(url, offset, c.response_length)
                                          for offset, c in zip(offsets, captures, strict=True)])

    def _write_file(self, path: Path, basename: str, captures: Sequence[EncodedCapture]) -> tuple[list[int], int]:
        """The warcinfo record then each capture's members; returns the captures' offsets and the size."""
        info = {**self.info, "isPartOf": f"{FILE_PREFIX} run {self.run_id}" if self.run_id is not None
                else FILE_PREFIX, "written-at": utc(self.clock()).isoformat()}
        offsets: list[int] = []
        try:
            with open(path, "wb") as out:
                position = out.write(warcinfo_record(basename, info, self.level))
                for capture in captures:
                    offsets.append(position)
                    position += out.write(capture.data)
        except OSError as exc:  # a full or failing local disk: systemic, like an unreachable bucket
            raise ArchiveUnavailable(f"write staging file {path}: {exc.strerror or exc}") from None
        return offsets, position
