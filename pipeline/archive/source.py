"""WARC files as a source: response records read as if fetched, each record's WARC-Date deciding its day."""

from __future__ import annotations

import io
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from fsspec.implementations.local import LocalFileSystem
from fsspec.registry import known_implementations
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_datetime

from pipeline.archive.masking import scrub, secret_values
from pipeline.archive.records import received_http_headers
from pipeline.archive.storage import open_location, storage_errors
from pipeline.charset import choose_charset
from pipeline.errors import ArchiveError, ConfigError, Reason
from pipeline.models import FetchedPage, RecordLocation, Window, content_type_of
from pipeline.sources import check_locations

# What a page fetch accepts (the fetcher's PAGE_TYPES): the same records become pages here.
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", ""})
GLOB_CHARS = frozenset("*?[")
READ_BLOCK = 8 * 1024 * 1024
# Reading pages by their records: neighbours in one file closer than MERGE_GAP are fetched with one ranged
# read of at most MAX_SPAN bytes; READ_WORKERS spans are read at a time and one more is held, so at most
# ~5 x 2 MiB of compressed records (~50 MB of pages) are in memory whatever the size of the files.
MERGE_GAP = 64 * 1024
MAX_SPAN = 2 * 1024 * 1024
READ_WORKERS = 4

T = TypeVar("T")


@dataclass(frozen=True)
class WarcPage:
    """A page read from a WARC file, and the record it came from."""

    page: FetchedPage
    origin: RecordLocation


@dataclass(frozen=True)
class WarcRecord:
    """A response record that will read as a page of the window (found without reading its payload)."""

    url: str  # WARC-Target-URI
    date: datetime  # WARC-Date: the capture time, which decides the record's day
    location: RecordLocation


@dataclass(frozen=True)
class WarcProblem:
    """A record (or a whole file) that could not be read as a page: recorded as a failure, the scan goes on."""

    file: str
    url: str  # the record's target URI, or the file's URL when the file itself is unreadable
    reason: str  # Reason: too_large, decode_error, bad_warc, warc_missing, warc_no_match
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

    Two ways to read: `scan` reads every page in one pass; `index` finds the window's records without
    reading their payloads, and `read_pages` later reads exactly those by offset (what an ingest run
    does, so that pages it already holds are never read).
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
                reason = Reason.WARC_NO_MATCH if GLOB_CHARS & set(path) else Reason.WARC_MISSING
                shown = scrub(location, self._secrets)
                problems.append(WarcProblem(shown, shown, reason, f"no WARC file at {shown}"))
            files.extend(fs.unstrip_protocol(p) for p in found if not fs.isdir(p))
        return list(dict.fromkeys(files)), problems

    def scan(self, window: Window | None = None) -> Iterator[WarcPage | WarcProblem]:
        """Pages of every file whose WARC-Date lies in `window` (all when None), file by file, in file order."""
        for item in self._records(window, self._page):
            if isinstance(item, WarcProblem):
                yield item
            elif isinstance(item[1], FetchedPage):
                self.stats.pages += 1
                yield WarcPage(item[1], item[0])
            else:
                yield item[1]

    def index(self, window: Window | None = None) -> Iterator[WarcRecord | WarcProblem]:
        """The window's page records of every file, without reading their payloads; file problems too."""
        for item in self._records(window, _target_and_date):
            if isinstance(item, WarcProblem):
                yield item
            else:
                self.stats.pages += 1
                (url, date), location = item[1], item[0]
                yield WarcRecord(url, date, location)

    def read_pages(self, locations: Sequence[RecordLocation], *, workers: int = READ_WORKERS
                   ) -> Iterator[tuple[int, FetchedPage | WarcProblem]]:
        """Read records found by `index` as pages, by ranged reads; yields (input index, page or problem).

        Neighbouring records of a file come with one ranged read; spans are read `workers` at a time and
        yielded in file order. A missing file or a bad record is that page's problem; an unreachable
        storage raises ArchiveUnavailable (systemic).
        """
        spans = _spans(list(enumerate(locations)))
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="warc-read") as pool:
            pending: deque[Future[list[tuple[int, FetchedPage | WarcProblem]]]] = deque()
            for span in spans:
                pending.append(pool.submit(self._read_span, span))
                if len(pending) > workers:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()

    def _read_span(self, span: list[tuple[int, RecordLocation]]) -> list[tuple[int, FetchedPage | WarcProblem]]:
        first = span[0][1]
        shown = scrub(first.file, self._secrets)
        start, end = first.offset, max(loc.offset + loc.length for _, loc in span)
        fs, path = open_location(first.file, self.options)
        try:
            with storage_errors("read", first.file, self._secrets):
                blob = fs.cat_file(path, start=start, end=end)
        except ArchiveError as exc:
            if exc.reason == Reason.ARCHIVE_UNAVAILABLE:
                raise
            return [(index, WarcProblem(shown, shown, Reason.WARC_MISSING, str(exc))) for index, _ in span]
        return [(index, self._read_one(blob[loc.offset - start: loc.offset - start + loc.length], loc, shown))
                for index, loc in span]

    def _read_one(self, data: bytes, location: RecordLocation, shown: str) -> FetchedPage | WarcProblem:
        where = f"{shown} at {location.offset}"
        try:
            record = next(ArchiveIterator(io.BytesIO(data)))
            reason = self._refusal(record, None)
        except (ArchiveLoadFailed, StopIteration, EOFError, OSError, ValueError) as exc:
            return WarcProblem(shown, shown, Reason.BAD_WARC, f"{where}: unreadable record ({type(exc).__name__})")
        if reason is not None:
            return WarcProblem(shown, shown, Reason.BAD_WARC, f"{where}: no longer a page ({reason})")
        return self._page(record, shown)

    def _records(self, window: Window | None, take: Callable[[Any, str], T]
                 ) -> Iterator[tuple[RecordLocation, T] | WarcProblem]:
        """`take(record, file)` of every page record of the window, with its location; problems of files."""
        files, problems = self.files(window)
        yield from problems
        for url in files:
            self.stats.files += 1
            yield from self._file_records(url, window, take)

    def _file_records(self, url: str, window: Window | None, take: Callable[[Any, str], T]
                      ) -> Iterator[tuple[RecordLocation, T] | WarcProblem]:
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
                    refused = self._refusal(record, window)
                    if refused is not None:
                        self.stats.skipped[refused] += 1
                    taken = take(record, shown) if refused is None else None  # before the iterator moves on
                    errors = iterator.err_count
                    offset, length = iterator.get_record_offset(), iterator.get_record_length()  # reads to its end
                    end = offset + length
                    if iterator.err_count > errors:  # warcio logs a damaged gzip member and reads on: not a page
                        yield WarcProblem(shown, shown, Reason.BAD_WARC, f"{shown}: damaged record at {end}")
                        return
                    if refused is None:
                        yield RecordLocation(url, offset, length), taken  # type: ignore[misc]
            except (ArchiveLoadFailed, EOFError, OSError, ValueError, ArchiveError) as exc:
                if isinstance(exc, ArchiveError) and exc.reason == Reason.ARCHIVE_UNAVAILABLE:
                    raise
                detail = scrub(f"{shown}: unreadable after byte {end}: {exc}", self._secrets).splitlines()[0]
                yield WarcProblem(shown, shown, Reason.BAD_WARC, detail)
                return
            if end != size:
                yield WarcProblem(shown, shown, Reason.BAD_WARC, f"{shown}: records end at byte {end} of {size}")

    def _refusal(self, record: Any, window: Window | None) -> str | None:
        """Why a record is not a page of the window (the skip reason), or None when it is one."""
        if record.rec_type != "response" or record.http_headers is None:
            return f"record:{record.rec_type}"
        date = _date(record.rec_headers.get_header("WARC-Date"))
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        if date is None or not url.startswith(("http://", "https://")):
            return "no_date_or_url"
        if window is not None and date not in window:
            return "outside_window"
        status = _status(record.http_headers.get_statuscode())
        if not 200 <= status < 300:
            return f"http_{status}"
        mime = content_type_of(received_http_headers(record.http_headers.headers)).split(";", 1)[0].strip().lower()
        return None if mime in PAGE_TYPES else "not_html"

    def _page(self, record: Any, shown: str) -> FetchedPage | WarcProblem:
        """An accepted response record as a fetched page (payload decoded, capped), or the problem with it."""
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        date = _date(record.rec_headers.get_header("WARC-Date"))
        headers = received_http_headers(record.http_headers.headers)
        coding = (record.http_headers.get_header("content-encoding") or "").strip().lower()
        if coding and coding not in ("identity", *BufferedReader.get_supported_decompressors()):
            return WarcProblem(shown, url, Reason.DECODE_ERROR, f"{url}: content encoding {coding!r} in {shown}")
        try:
            body = record.content_stream().read(self.max_bytes + 1)
        except Exception as exc:  # noqa: BLE001 - zlib.error, ChunkedDataException: this record only
            return WarcProblem(shown, url, Reason.DECODE_ERROR, f"{url}: {type(exc).__name__} in {shown}")
        if len(body) > self.max_bytes:
            return WarcProblem(shown, url, Reason.TOO_LARGE, f"{url} is larger than {self.max_bytes} bytes in {shown}")
        encoding = choose_charset(body, content_type_of(headers)) if body else None  # as the fetcher labels pages
        return FetchedPage(url=url, final_url=url, status=_status(record.http_headers.get_statuscode()),
                           headers=headers, body=body, fetched_at=date, encoding=encoding)  # type: ignore[arg-type]


def _target_and_date(record: Any, file: str) -> tuple[str, datetime]:
    return record.rec_headers.get_header("WARC-Target-URI"), _date(record.rec_headers.get_header("WARC-Date"))


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
    """A sources file's `warcs:` list: local paths or URLs of a storage fsspec knows, globs allowed.

    The sources file's own validation checks the shape (pipeline.sources); this adds the storage scheme,
    which only fsspec knows, so that a typo fails before any work.
    """
    try:
        locations = tuple(check_locations(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    for number, location in enumerate(locations, 1):
        scheme = location.split("://", 1)[0].lower() if "://" in location else "file"
        if scheme not in known_implementations and scheme != "file":
            raise ConfigError(f"{where}: entry #{number}: unknown storage scheme {scheme}://")
    return locations


def check_storage_schemes(sources: Iterable[Any]) -> None:
    """Refuse (ConfigError) a source whose `warcs` name a storage scheme fsspec does not know."""
    for source in sources:
        if source.warcs:
            validate_warc_locations(list(source.warcs), f"source {source.name}: warcs")


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
