"""Encode one capture as gzipped WARC records (response, request, metadata): pure, callable from any thread."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from pipeline import __version__
from pipeline.models import FetchedPage, utc
from pipeline.settings import ARCHIVE_COMPRESSION_LEVEL

WARC_VERSION = "WARC/1.1"  # 1.1 keeps microseconds in WARC-Date, so a record's date equals the fetch time
SOFTWARE = f"news-pipeline/{__version__}"
DEFAULT_COMPRESSION_LEVEL = ARCHIVE_COMPRESSION_LEVEL  # why this level: pipeline.settings
DIGEST_ALGORITHM = "sha256"  # WARC digests in the algorithm of raw_pages.sha256: the index can verify them
# The stored payload is the body as decoded by the HTTP client, so the framing headers no longer describe
# it. Common Crawl's convention: keep them renamed with this prefix and add the true Content-Length.
RENAMED_PREFIX = "X-Crawler-"
RENAMED_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})
_RENAMED_LOWER = RENAMED_PREFIX.lower()


@dataclass(frozen=True)
class Capture:
    """One HTTP exchange to archive: the response as received and where it came from."""

    url: str  # the URL asked for (before redirects)
    final_url: str  # the URL that answered: the response record's WARC-Target-URI
    status: int
    headers: Mapping[str, str] | Sequence[tuple[str, str]]
    body: bytes  # the payload as the HTTP client decoded it (no transfer or content coding)
    fetched_at: datetime
    source: str = ""
    run_id: int | None = None
    reason: str | None = None  # status reason phrase; the standard phrase when not known
    http_version: str = "HTTP/1.1"
    request_headers: Sequence[tuple[str, str]] = ()  # as sent: a `request` record is written when given
    origin: str | None = None  # where a capture read from another WARC file came from (file#offset)

    @classmethod
    def from_page(cls, page: FetchedPage, *, source: str = "", run_id: int | None = None, **extra: object
                  ) -> Capture:
        """The capture of a fetched page."""
        return cls(page.url, page.final_url, page.status, page.headers, page.body, page.fetched_at,
                   source=source, run_id=run_id, **extra)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EncodedCapture:
    """A capture serialised as consecutive gzip members; the response record comes first."""

    data: bytes
    response_length: int  # bytes of the response member: what an index entry points at
    sha256: str  # hex digest of the payload (equals raw_pages.sha256)
    record_id: str
    url: str = field(compare=False)
    fetched_at: datetime = field(compare=False)


def encode_capture(capture: Capture, level: int = DEFAULT_COMPRESSION_LEVEL) -> EncodedCapture:
    """Serialise a capture as WARC records, each its own gzip member (zlib runs without the GIL)."""
    digest = hashlib.sha256(capture.body)
    date = warc_date(capture.fetched_at)
    response_id = _record_id()
    response = _gzip(_response_record(capture, date, response_id, digest.digest()), level)
    members = [response]
    if capture.request_headers:
        members.append(_gzip(_request_record(capture, date, response_id), level))
    members.append(_gzip(_metadata_record(capture, date, response_id), level))
    return EncodedCapture(b"".join(members), len(response), digest.hexdigest(), response_id,
                          capture.final_url, capture.fetched_at)


def warcinfo_record(filename: str, fields: Mapping[str, object], level: int = DEFAULT_COMPRESSION_LEVEL) -> bytes:
    """The gzip member of a file's leading `warcinfo` record (software, format, run)."""
    writer = _writer()
    info = {"software": f"{SOFTWARE} (warcio)", "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            **fields}
    record = writer.create_warcinfo_record(filename, info)
    return _gzip(_serialise(writer, record), level)


def warc_date(moment: datetime) -> str:
    """WARC-Date of a moment: ISO 8601 UTC with microseconds (WARC/1.1)."""
    return datetime_to_iso_date(utc(moment).replace(tzinfo=None), use_micros=True)


def sha256_to_warc_digest(sha256_hex: str) -> str:
    """`sha256:<base32>`, the WARC form of a hex SHA-256."""
    return f"{DIGEST_ALGORITHM}:" + base64.b32encode(bytes.fromhex(sha256_hex)).decode("ascii")


def warc_digest_to_hex(digest: str) -> tuple[str, str] | None:
    """(algorithm, hex) of a WARC digest (`sha1:BASE32`, `sha256:hex`...); None when unreadable."""
    algorithm, _, value = digest.strip().partition(":")
    algorithm = algorithm.lower().replace("-", "")
    if not value or algorithm not in hashlib.algorithms_available:
        return None
    size = hashlib.new(algorithm).digest_size
    for decode in (bytes.fromhex, lambda v: base64.b32decode(v.upper()), base64.b64decode):
        try:
            raw = decode(value)
        except (ValueError, TypeError):
            continue
        if len(raw) == size:
            return algorithm, raw.hex()
    return None


def archived_http_headers(headers: Mapping[str, str] | Sequence[tuple[str, str]], body_length: int
                          ) -> list[tuple[str, str]]:
    """The headers written into a response record: framing headers renamed, the true Content-Length added."""
    out: list[tuple[str, str]] = []
    for name, value in _pairs(headers):
        name, value = _clean(name), _clean(value)
        if not name:
            continue
        out.append((RENAMED_PREFIX + name if name.lower() in RENAMED_HEADERS else name, value))
    out.append(("Content-Length", str(body_length)))
    return out


def received_http_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Undo `archived_http_headers`: the headers as received, lower-case names, repeated names joined.

    A plain Content-Length describes the stored payload (any received one was renamed), so it is dropped.
    """
    out: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length":
            continue
        if lower.startswith(_RENAMED_LOWER) and lower[len(_RENAMED_LOWER):] in RENAMED_HEADERS:
            lower = lower[len(_RENAMED_LOWER):]
        out[lower] = f"{out[lower]}, {value}" if lower in out else value
    return out


# -- records ------------------------------------------------------------------------------------------

class _Writer(WARCWriter):
    """warcio's writer with SHA-256 block digests (the payload digest is given)."""

    @staticmethod
    def _create_digester():  # noqa: ANN205 - warcio's hook
        from warcio.utils import Digester

        return Digester(DIGEST_ALGORITHM)


def _writer() -> _Writer:
    return _Writer(io.BytesIO(), gzip=False, warc_version=WARC_VERSION)


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _response_record(capture: Capture, date: str, record_id: str, sha256: bytes) -> bytes:
    writer = _writer()
    reason = capture.reason if capture.reason is not None else _phrase(capture.status)
    http_headers = StatusAndHeaders(f"{capture.status} {reason}".rstrip(),
                                    archived_http_headers(capture.headers, len(capture.body)),
                                    protocol=capture.http_version)
    warc_headers = {"WARC-Type": "response", "WARC-Record-ID": record_id, "WARC-Date": date,
                    "WARC-Target-URI": capture.final_url,
                    "WARC-Payload-Digest": f"{DIGEST_ALGORITHM}:" + base64.b32encode(sha256).decode("ascii")}
    record = writer.create_warc_record(capture.final_url, "response", payload=io.BytesIO(capture.body),
                                       length=len(capture.body), http_headers=http_headers,
                                       warc_headers_dict=warc_headers)
    return _serialise(writer, record)


def _request_record(capture: Capture, date: str, response_id: str) -> bytes:
    writer = _writer()
    parts = urlsplit(capture.final_url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [(_clean(n), _clean(v)) for n, v in capture.request_headers]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    http_headers = StatusAndHeaders(f"GET {target} {capture.http_version}", headers, is_http_request=True)
    record = writer.create_warc_record(capture.final_url, "request", http_headers=http_headers,
                                       warc_headers_dict=_headers("request", capture, date, response_id))
    return _serialise(writer, record)


def _metadata_record(capture: Capture, date: str, response_id: str) -> bytes:
    writer = _writer()
    fields = [("requested-uri", capture.url), ("source", capture.source),
              ("run-id", "" if capture.run_id is None else str(capture.run_id)), ("origin", capture.origin or ""),
              ("software", SOFTWARE)]
    payload = "".join(f"{name}: {_clean(value)}\r\n" for name, value in fields if value).encode("utf-8")
    record = writer.create_warc_record(capture.final_url, "metadata", payload=io.BytesIO(payload),
                                       length=len(payload), warc_content_type="application/warc-fields",
                                       warc_headers_dict=_headers("metadata", capture, date, response_id))
    return _serialise(writer, record)


def _headers(kind: str, capture: Capture, date: str, response_id: str) -> dict[str, str]:
    """WARC headers of a record that accompanies the response, in the conventional order."""
    return {"WARC-Type": kind, "WARC-Record-ID": _record_id(), "WARC-Date": date,
            "WARC-Target-URI": capture.final_url, "WARC-Concurrent-To": response_id}


def _serialise(writer: _Writer, record: object) -> bytes:
    writer.write_record(record)
    data = writer.out.getvalue()
    writer.out.seek(0)
    writer.out.truncate()
    return data


def _gzip(data: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(data) + compressor.flush()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _pairs(headers: Mapping[str, str] | Sequence[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    return headers.items() if isinstance(headers, Mapping) else headers


def _clean(text: object) -> str:
    """A header name or value that cannot break the record's framing: CR and LF become spaces."""
    return str(text).replace("\r", " ").replace("\n", " ").strip()

