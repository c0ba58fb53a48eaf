"""Read archived records back: one by (file, offset, length), many with coalesced ranged reads, or whole files."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_datetime

from pipeline.archive.records import received_http_headers, warc_digest_to_hex
from pipeline.archive.storage import ArchiveStorage
from pipeline.errors import ArchiveError, Reason
from pipeline.models import BodyRef, RecordLocation

# Records closer than this in one file are fetched with a single ranged read (one round trip to object
# storage instead of several); a merged read never exceeds MAX_SPAN.
MERGE_GAP = 256 * 1024
MAX_SPAN = 32 * 1024 * 1024
READ_WORKERS = 8  # concurrent ranged reads: object storage latency, not bandwidth, bounds one reader


@dataclass(frozen=True)
class ArchivedResponse:
    """A response record read back: the HTTP status, headers and payload as archived."""

    url: str  # WARC-Target-URI
    date: datetime  # WARC-Date (UTC)
    status: int
    reason: str
    http_headers: list[tuple[str, str]]  # as written in the record (framing headers renamed)
    body: bytes  # the payload, byte for byte
    record_id: str
    payload_sha256: str  # hex SHA-256 of `body`

    @property
    def headers(self) -> dict[str, str]:
        """The headers as received (lower-case names; framing headers restored)."""
        return received_http_headers(self.http_headers)


@dataclass(frozen=True)
class FileRecord:
    """One record met while reading a whole file: its location, type, target and payload digest."""

    location: RecordLocation
    rec_type: str
    url: str
    date: datetime | None
    record_id: str
    payload_sha256: str | None  # computed from the stored payload (response, resource, metadata records)
    declared_digest: str | None  # WARC-Payload-Digest as written


def read_record(storage: ArchiveStorage, location: RecordLocation, expected_sha256: str | None = None
                ) -> ArchivedResponse:
    """The response record at `location`; ArchiveError when missing, malformed or not the expected payload."""
    data = storage.read_range(location.file, location.offset, location.length)
    return parse_response(data, location, expected_sha256, storage.scrub)


def read_records(storage: ArchiveStorage, locations: Sequence[RecordLocation],
                 expected_sha256: Sequence[str | None] | None = None, *, workers: int = READ_WORKERS
                 ) -> list[ArchivedResponse | ArchiveError]:
    """Read many records, in input order; a bad record is returned as its ArchiveError, not raised.

    Records of one file that lie close together are fetched with one ranged read; reads run
    concurrently. An unreachable storage (ArchiveUnavailable) is raised: it is not one record's fault.
    """
    expected = list(expected_sha256) if expected_sha256 is not None else [None] * len(locations)
    spans = _spans(list(enumerate(locations)))
    results: list[ArchivedResponse | ArchiveError | None] = [None] * len(locations)

    def read_span(span: list[tuple[int, RecordLocation]]) -> list[tuple[int, ArchivedResponse | ArchiveError]]:
        start = span[0][1].offset
        end = max(loc.offset + loc.length for _, loc in span)
        try:
            blob = storage.read_range(span[0][1].file, start, end - start)
        except ArchiveError as exc:
            if exc.reason == Reason.ARCHIVE_UNAVAILABLE:
                raise
            return [(index, exc) for index, _ in span]
        out: list[tuple[int, ArchivedResponse | ArchiveError]] = []
        for index, loc in span:
            piece = blob[loc.offset - start: loc.offset - start + loc.length]
            try:
                out.append((index, parse_response(piece, loc, expected[index], storage.scrub)))
            except ArchiveError as exc:
                out.append((index, exc))
        return out

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(spans) or 1))) as pool:
        for done in pool.map(read_span, spans):
            for index, value in done:
                results[index] = value
    return results  # type: ignore[return-value]


def parse_response(data: bytes, location: RecordLocation, expected_sha256: str | None = None,
                   scrub: Any = str) -> ArchivedResponse:
    """Parse one gzip member holding a response record; check its payload against `expected_sha256`."""
    where = f"{scrub(location.file)} at {location.offset}"
    try:
        iterator = ArchiveIterator(io.BytesIO(data))
        record = next(iterator)
        if record.rec_type != "response" or record.http_headers is None:
            raise ArchiveError(f"{where}: a {record.rec_type} record, not a response", reason=Reason.ARCHIVE_CORRUPT)
        body = record.raw_stream.read()
    except (ArchiveLoadFailed, StopIteration, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(f"{where}: unreadable record ({type(exc).__name__})",
                           reason=Reason.ARCHIVE_CORRUPT) from None
    sha256 = hashlib.sha256(body).hexdigest()
    declared = warc_digest_to_hex(record.rec_headers.get_header("WARC-Payload-Digest") or "")
    if declared and declared[0] == "sha256" and declared[1] != sha256:
        raise ArchiveError(f"{where}: payload does not match its WARC-Payload-Digest", reason=Reason.ARCHIVE_CORRUPT)
    if expected_sha256 is not None and sha256 != expected_sha256:
        raise ArchiveError(f"{where}: payload SHA-256 {sha256[:12]}... is not the indexed {expected_sha256[:12]}...",
                           reason=Reason.ARCHIVE_DIGEST_MISMATCH)
    status_line = record.http_headers.statusline or ""
    code, _, reason = status_line.partition(" ")
    return ArchivedResponse(
        url=record.rec_headers.get_header("WARC-Target-URI") or "",
        date=_warc_datetime(record.rec_headers.get_header("WARC-Date")) or datetime.min.replace(tzinfo=UTC),
        status=int(code) if code.isdigit() else 0,
        reason=reason,
        http_headers=list(record.http_headers.headers),
        body=body,
        record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
        payload_sha256=sha256,
    )


def iter_file_records(handle: IO[bytes], file_url: str, size: int | None = None) -> Iterator[FileRecord]:
    """Every record of an open WARC file with its location and the SHA-256 of its stored payload.

    warcio logs a damaged gzip member and reads on; here it raises ArchiveError (`archive_corrupt`), as
    does a file whose records end before its `size`.
    """
    iterator = ArchiveIterator(handle)
    end = 0
    for record in iterator:
        hasher = hashlib.sha256()
        while chunk := record.raw_stream.read(1 << 16):
            hasher.update(chunk)
        errors = iterator.err_count
        location = RecordLocation(file_url, iterator.get_record_offset(), iterator.get_record_length())
        if iterator.err_count > errors:
            raise ArchiveError(f"damaged record at byte {location.offset}", reason=Reason.ARCHIVE_CORRUPT)
        end = location.offset + location.length
        has_payload = record.rec_type in ("response", "resource", "metadata", "conversion")
        yield FileRecord(
            location=location,
            rec_type=record.rec_type,
            url=record.rec_headers.get_header("WARC-Target-URI") or "",
            date=_warc_datetime(record.rec_headers.get_header("WARC-Date")),
            record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
            payload_sha256=hasher.hexdigest() if has_payload else None,
            declared_digest=record.rec_headers.get_header("WARC-Payload-Digest"),
        )
    if size is not None and end != size:
        raise ArchiveError(f"records end at byte {end} of {size}", reason=Reason.ARCHIVE_CORRUPT)


def _spans(items: list[tuple[int, RecordLocation]]) -> list[list[tuple[int, RecordLocation]]]:
    """Group locations into ranged reads: same file, sorted by offset, gaps under MERGE_GAP."""
    spans: list[list[tuple[int, RecordLocation]]] = []
    for index, loc in sorted(items, key=lambda item: (item[1].file, item[1].offset)):
        if spans:
            first, last = spans[-1][0][1], spans[-1][-1][1]
            if (loc.file == first.file and loc.offset - (last.offset + last.length) <= MERGE_GAP
                    and loc.offset + loc.length - first.offset <= MAX_SPAN):
                spans[-1].append((index, loc))
                continue
        spans.append([(index, loc)])
    return spans


def _warc_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return iso_date_to_datetime(value).replace(tzinfo=UTC)
    except (ValueError, TypeError):
        return None


def load_bodies(storage: ArchiveStorage | None, refs: Sequence[BodyRef], *, workers: int = READ_WORKERS
                ) -> list[bytes | ArchiveError]:
    """The bodies of `refs` in order: inline ones as they are, archived ones read (and verified) in bulk."""
    out: list[bytes | ArchiveError] = [ref.body if ref.body is not None else b"" for ref in refs]
    wanted = [i for i, ref in enumerate(refs) if ref.body is None]
    if not wanted:
        return out
    if storage is None:
        raise ArchiveError("raw pages are archived but no archive storage is configured", reason=Reason.ARCHIVE_MISSING)
    missing = [i for i in wanted if refs[i].location is None]
    for i in missing:
        out[i] = ArchiveError("raw page has neither a body nor a record location", reason=Reason.ARCHIVE_MISSING)
    located = [i for i in wanted if refs[i].location is not None]
    results = read_records(storage, [refs[i].location for i in located],  # type: ignore[misc]
                           [refs[i].sha256 for i in located], workers=workers)
    for i, result in zip(located, results, strict=True):
        out[i] = result if isinstance(result, ArchiveError) else result.body
    return out
