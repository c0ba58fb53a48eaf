"""WARC files as a source: response records read as if fetched, each record's WARC-Date deciding its day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from fsspec.registry import known_implementations
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_datetime

from pipeline.archive.errors import ArchiveError
from pipeline.archive.masking import mask_url, scrub, secret_values
from pipeline.archive.records import received_http_headers
from pipeline.archive.storage import open_location, storage_errors
from pipeline.archive.writer import RecordLocation
from pipeline.errors import ConfigError
from pipeline.models import FetchedPage, Window, content_type_of

# What a page fetch accepts (the fetcher's PAGE_TYPES): the same records become pages here.
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", ""})
GLOB_CHARS = frozenset("*?[")
READ_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class WarcPage:
    """A page read from a WARC file, and the record it came from."""

    page: FetchedPage
    origin: RecordLocation


@dataclass(frozen=True)
class WarcProblem:
    """A record (or a whole file) that could not be read as a page: recorded as a failure, the scan goes on."""

    file: str
    url: str  # the record's target URI, or the file's URL when the file itself is unreadable
    reason: str  # too_large, undecodable, bad_warc, missing, no_match
    detail: str


@dataclass
class WarcScanStats:
    """What a scan met: files, records, pages kept and records skipped by reason."""

    files: int = 0
    records: int = 0
    pages: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


class WarcFiles:
    """Response records of WARC files (local paths, object-storage URLs, globs) as fetched pages.

    Only `response` records of 2xx HTML pages become pages; request, metadata, revisit and warcinfo
    records, other statuses and other content types are skipped and counted. Bodies are decoded
    (chunked and gzip/deflate transfer as stored by some crawlers) and capped at `max_bytes`.
    """

    def __init__(self, locations: Sequence[str], *, max_bytes: int,
                 storage_options: Mapping[str, Any] | None = None) -> None:
        self.locations = list(locations)
        self.max_bytes = max_bytes
        self.options = dict(storage_options or {})
        self._secrets = secret_values(self.options)
        self.stats = WarcScanStats()

    def files(self, window: Window | None = None) -> tuple[list[str], list[WarcProblem]]:
        """The files the locations name (templates and globs expanded, sorted, each once) and those naming none."""
        files: list[str] = []
        problems: list[WarcProblem] = []
        for location in expand_dates(self.locations, window):
            fs, path = open_location(location, self.options)
            with storage_errors("list", location, self._secrets):
                if GLOB_CHARS & set(path):
                    found = sorted(fs.glob(path))
                else:
                    found = [path] if fs.exists(path) else []
            if not found:
                reason = "no_match" if GLOB_CHARS & set(path) else "missing"
                problems.append(WarcProblem(scrub(location, self._secrets), scrub(location, self._secrets),
                                            reason, f"no WARC file at {scrub(location, self._secrets)}"))
            files.extend(fs.unstrip_protocol(p) for p in found if not fs.isdir(p))
        return list(dict.fromkeys(files)), problems

    def scan(self, window: Window | None = None) -> Iterator[WarcPage | WarcProblem]:
        """Pages of every file whose WARC-Date lies in `window` (all when None), file by file, in file order."""
        files, problems = self.files(window)
        yield from problems
        for url in files:
            self.stats.files += 1
            yield from self._scan_file(url, window)

    def _scan_file(self, url: str, window: Window | None) -> Iterator[WarcPage | WarcProblem]:
        fs, path = open_location(url, self.options)
        shown = scrub(url, self._secrets)
        with storage_errors("open", url, self._secrets):
            size = int(fs.info(path).get("size") or 0)
            local = isinstance(fs, LocalFileSystem)
            handle = fs.open(path, "rb") if local else fs.open(path, "rb", block_size=READ_BLOCK)
        with handle:
            iterator = ArchiveIterator(handle)
            end = 0
            try:
                for record in iterator:
                    self.stats.records += 1
                    item = self._page(record, window, shown)
                    errors = iterator.err_count
                    end = iterator.get_record_offset() + iterator.get_record_length()  # reads to the record's end
                    if iterator.err_count > errors:  # warcio logs a damaged gzip member and reads on: not a page
                        yield WarcProblem(shown, shown, "bad_warc", f"{shown}: damaged record at {end}")
                        return
                    if isinstance(item, FetchedPage):
                        self.stats.pages += 1
                        yield WarcPage(item, RecordLocation(url, iterator.get_record_offset(),
                                                            iterator.get_record_length()))
                    elif item is not None:
                        yield item
            except (ArchiveLoadFailed, EOFError, OSError, ValueError, ArchiveError) as exc:
                if isinstance(exc, ArchiveError) and exc.reason == "archive_unavailable":
                    raise
                detail = scrub(f"{shown}: unreadable after byte {end}: {exc}", self._secrets).splitlines()[0]
                yield WarcProblem(shown, shown, "bad_warc", detail)
                return
            if end != size:
                yield WarcProblem(shown, shown, "bad_warc", f"{shown}: records end at byte {end} of {size}")

    def _page(self, record: Any, window: Window | None, shown: str) -> FetchedPage | WarcProblem | None:
        """The record as a fetched page, a problem, or None when it is skipped (counted by reason)."""
        if record.rec_type != "response" or record.http_headers is None:
            return self._skip(f"record:{record.rec_type}")
        date = _date(record.rec_headers.get_header("WARC-Date"))
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        if date is None or not url.startswith(("http://", "https://")):
            return self._skip("no_date_or_url")
        if window is not None and date not in window:
            return self._skip("outside_window")
        status = _status(record.http_headers.get_statuscode())
        if not 200 <= status < 300:
            return self._skip(f"http_{status}")
        headers = received_http_headers(record.http_headers.headers)
        mime = content_type_of(headers).split(";", 1)[0].strip().lower()
        if mime not in PAGE_TYPES:
            return self._skip("not_html")
        encoding = (record.http_headers.get_header("content-encoding") or "").strip().lower()
        if encoding and encoding not in ("identity", *BufferedReader.get_supported_decompressors()):
            return WarcProblem(shown, url, "undecodable", f"{url}: content encoding {encoding!r} in {shown}")
        try:
            body = record.content_stream().read(self.max_bytes + 1)
        except Exception as exc:  # noqa: BLE001 - zlib.error, ChunkedDataException: this record only
            return WarcProblem(shown, url, "undecodable", f"{url}: {type(exc).__name__} in {shown}")
        if len(body) > self.max_bytes:
            return WarcProblem(shown, url, "too_large", f"{url} is larger than {self.max_bytes} bytes in {shown}")
        return FetchedPage(url=url, final_url=url, status=status, headers=headers, body=body, fetched_at=date)

    def _skip(self, reason: str) -> None:
        self.stats.skipped[reason] += 1
        return None


def expand_dates(locations: Sequence[str], window: Window | None) -> list[str]:
    """Locations with `{date:FORMAT}` expanded for each day of the window and the day before it.

    A crawl's files are named by the time they were started (CC-NEWS-20190301...), so a day's records can
    begin in the previous day's last file. Without a window, a templated location names nothing.
    """
    out: list[str] = []
    for location in locations:
        if "{date" not in location:
            out.append(location)
            continue
        if window is None:
            continue
        day = (window.start - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        while day < window.end:
            out.append(location.format(date=day))
            day += timedelta(days=1)
    return list(dict.fromkeys(out))


def validate_warc_locations(value: object, where: str) -> tuple[str, ...]:
    """A sources file's `warcs:` list: local paths or URLs of a storage fsspec knows, globs allowed."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a list of WARC file paths or URLs")
    for location in value:
        try:
            location.format(date=datetime(2000, 1, 1))
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{where}: {mask_url(location)!r}: only {{date:FORMAT}} may be templated ({exc})") \
                from None
        scheme = location.split("://", 1)[0].lower() if "://" in location else "file"
        if scheme not in known_implementations and scheme != "file":
            raise ConfigError(f"{where}: {mask_url(location)!r}: unknown storage scheme {scheme}://")
    return tuple(value)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return iso_date_to_datetime(value, tz_aware=True)
    except (ValueError, TypeError, IndexError):
        return None


def _status(code: object) -> int:
    try:
        return int(str(code))
    except ValueError:
        return 0
