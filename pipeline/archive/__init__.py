"""The raw archive: captures as gzipped WARC records in files under one storage location, read back by offset.

The value types it shares with the store's index (`RecordLocation`, `ArchivedPage`, `ArchivedBatch`, `BodyRef`,
`IndexEntry`, `StoredBody`, `Move`) live in `pipeline.models`; its errors in `pipeline.errors`.
"""

from pipeline.archive.check import CheckReport, check_archive
from pipeline.archive.config import ArchiveConfig
from pipeline.archive.keep import RawArchiver, RawToKeep
from pipeline.archive.moveout import MoveOutIndex, MoveOutReport, move_out_bodies
from pipeline.archive.reader import (
    ArchivedResponse,
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
from pipeline.archive.source import (
    WarcFiles,
    WarcPage,
    WarcProblem,
    WarcRecord,
    WarcScanStats,
    check_storage_schemes,
    validate_warc_locations,
)
from pipeline.archive.storage import ArchiveStorage, StoredFile
from pipeline.archive.writer import ArchiveWriter, PublishedBatch, file_name

__all__ = [
    "DEFAULT_COMPRESSION_LEVEL",
    "ArchiveConfig",
    "ArchiveStorage",
    "ArchiveWriter",
    "ArchivedResponse",
    "Capture",
    "CheckReport",
    "EncodedCapture",
    "FileRecord",
    "MoveOutIndex",
    "MoveOutReport",
    "PublishedBatch",
    "RawArchiver",
    "RawToKeep",
    "StoredFile",
    "WarcFiles",
    "WarcPage",
    "WarcProblem",
    "WarcRecord",
    "WarcScanStats",
    "check_archive",
    "check_storage_schemes",
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
