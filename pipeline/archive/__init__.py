"""The raw archive: captures as gzipped WARC records in files under one storage location, read back by offset."""

from pipeline.archive.check import CheckReport, IndexEntry, check_archive
from pipeline.archive.config import ArchiveConfig
from pipeline.archive.errors import ArchiveError, ArchiveUnavailable
from pipeline.archive.keep import KeptBatch, KeptRaw, RawArchiver, RawToKeep
from pipeline.archive.moveout import Move, MoveOutIndex, MoveOutReport, StoredBody, move_out_bodies
from pipeline.archive.reader import (
    ArchivedResponse,
    BodyRef,
    FileRecord,
    iter_file_records,
    load_bodies,
    read_record,
    read_records,
)
from pipeline.archive.records import (
    DEFAULT_COMPRESSION_LEVEL,
    Capture,
    EncodedCapture,
    encode_capture,
    sha256_to_warc_digest,
    warc_digest_to_hex,
)
from pipeline.archive.source import WarcFiles, WarcPage, WarcProblem, WarcScanStats, validate_warc_locations
from pipeline.archive.storage import ArchiveStorage, StoredFile
from pipeline.archive.writer import ArchiveWriter, PublishedBatch, RecordLocation, file_name

__all__ = [
    "DEFAULT_COMPRESSION_LEVEL",
    "ArchiveConfig",
    "ArchiveError",
    "ArchiveStorage",
    "ArchiveUnavailable",
    "ArchiveWriter",
    "ArchivedResponse",
    "BodyRef",
    "Capture",
    "CheckReport",
    "EncodedCapture",
    "FileRecord",
    "IndexEntry",
    "KeptBatch",
    "KeptRaw",
    "Move",
    "MoveOutIndex",
    "MoveOutReport",
    "PublishedBatch",
    "RawArchiver",
    "RawToKeep",
    "RecordLocation",
    "StoredBody",
    "StoredFile",
    "WarcFiles",
    "WarcPage",
    "WarcProblem",
    "WarcScanStats",
    "check_archive",
    "encode_capture",
    "file_name",
    "iter_file_records",
    "load_bodies",
    "move_out_bodies",
    "read_record",
    "read_records",
    "sha256_to_warc_digest",
    "validate_warc_locations",
    "warc_digest_to_hex",
]
