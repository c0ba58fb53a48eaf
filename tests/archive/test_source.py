"""WARC files as a source: CC-NEWS-like files written here with warcio alone, read as if fetched."""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.archive import WarcFiles, WarcPage, WarcProblem, WarcRecord, read_record, validate_warc_locations
from pipeline.archive.source import expand_dates
from pipeline.archive.storage import ArchiveStorage
from pipeline.errors import ConfigError
from pipeline.models import Window
from tests.s3server import S3Server

DAY = Window(datetime(2019, 3, 1, tzinfo=UTC), datetime(2019, 3, 2, tzinfo=UTC))
ARTICLE = b"<html><head><title>T</title></head><body><article><p>Story %d.</p></article></body></html>"


def response(writer: WARCWriter, url: str, date: str, body: bytes, *, status: str = "200 OK",
             headers: Sequence[tuple[str, str]] = (("Content-Type", "text/html; charset=UTF-8"),)) -> None:
    http = StatusAndHeaders(status, list(headers), protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                  http_headers=http, warc_headers_dict={"WARC-Date": date}))


def chunked(data: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (data[:20], data[20:])) + b"0\r\n\r\n"


def cc_news_file(path: Path) -> None:
    """Like a CC-NEWS file: warcinfo, request/response/metadata triples, a revisit, other types and days."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)  # WARC/1.0, second-precision dates, as Common Crawl writes
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test", "isPartOf": "CC-NEWS"}))
        request = writer.create_warc_record("https://daily.example/one", "request",
                                            http_headers=StatusAndHeaders("GET /one HTTP/1.1", [("Host", "x")],
                                                                          is_http_request=True))
        writer.write_record(request)
        response(writer, "https://daily.example/one", "2019-03-01T08:00:00Z", ARTICLE % 1,
                 headers=[("Content-Type", "text/html"), ("X-Crawler-Content-Encoding", "gzip"),
                          ("X-Crawler-Content-Length", "70")])
        writer.write_record(writer.create_warc_record("https://daily.example/one", "metadata",
                                                      payload=io.BytesIO(b"fetchTimeMs: 12\r\n"), length=17))
        response(writer, "https://daily.example/prev-day", "2019-02-28T23:59:59Z", ARTICLE % 2)
        response(writer, "https://daily.example/next-day", "2019-03-02T00:00:00Z", ARTICLE % 3)
        raw = gzip.compress(ARTICLE % 4)  # stored as on the wire: gzip content coding, chunked transfer
        response(writer, "https://daily.example/wire", "2019-03-01T12:00:00Z", chunked(raw),
                 headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                          ("Transfer-Encoding", "chunked")])
        response(writer, "https://daily.example/logo.jpg", "2019-03-01T12:00:01Z", b"\xff\xd8\xff",
                 headers=[("Content-Type", "image/jpeg")])
        response(writer, "https://daily.example/gone", "2019-03-01T12:00:02Z", b"<html>404</html>",
                 status="404 Not Found")
        response(writer, "https://daily.example/moved", "2019-03-01T12:00:03Z", b"",
                 status="301 Moved Permanently", headers=[("Location", "https://daily.example/one")])
        writer.write_record(writer.create_revisit_record("https://daily.example/one", "sha1:AAAA",
                                                         "https://daily.example/one", "2019-03-01T08:00:00Z",
                                                         warc_headers_dict={"WARC-Date": "2019-03-01T13:00:00Z"}))
        response(writer, "https://daily.example/huge", "2019-03-01T14:00:00Z", b"<p>" + b"x" * 5000 + b"</p>")
        response(writer, "https://daily.example/brotli", "2019-03-01T15:00:00Z", b"\x0b\x02\x80",
                 headers=[("Content-Type", "text/html"), ("Content-Encoding", "br")])
        response(writer, "https://daily.example/two", "2019-03-01T23:59:59Z", ARTICLE % 5,
                 headers=[("Content-Type", "application/xhtml+xml"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])


def scan(locations: Sequence[str], window: Window | None = DAY, **options: object
         ) -> tuple[list[WarcPage], list[WarcProblem], WarcFiles]:
    files = WarcFiles(locations, max_bytes=4096, storage_options=options or None)
    items = list(files.scan(window))
    return ([i for i in items if isinstance(i, WarcPage)], [i for i in items if isinstance(i, WarcProblem)], files)


def test_a_cc_news_file_reads_as_the_window_s_fetched_pages(tmp_path: Path) -> None:
    cc_news_file(tmp_path / "CC-NEWS-20190301000000-00001.warc.gz")
    pages, problems, files = scan([str(tmp_path / "CC-NEWS-20190301000000-00001.warc.gz")])
    assert [p.page.url for p in pages] == ["https://daily.example/one", "https://daily.example/wire",
                                           "https://daily.example/two"]
    one, wire, two = (p.page for p in pages)
    assert (one.body, wire.body, two.body) == (ARTICLE % 1, ARTICLE % 4, ARTICLE % 5)
    assert one.fetched_at == datetime(2019, 3, 1, 8, tzinfo=UTC) and one.status == 200
    assert one.headers == {"content-type": "text/html", "content-encoding": "gzip", "content-length": "70"}
    assert two.headers["set-cookie"] == "a=1, b=2" and two.content_type == "application/xhtml+xml"
    assert {(p.url, p.reason) for p in problems} == {("https://daily.example/huge", "too_large"),
                                                     ("https://daily.example/brotli", "decode_error")}
    assert files.stats.skipped == {"record:warcinfo": 1, "record:request": 1, "record:metadata": 1,
                                   "record:revisit": 1, "outside_window": 2, "not_html": 1, "http_404": 1,
                                   "http_301": 1}
    assert (files.stats.files, files.stats.records, files.stats.pages) == (1, 14, 3)


def test_each_page_knows_its_origin_record(tmp_path: Path) -> None:
    cc_news_file(tmp_path / "a.warc.gz")
    pages, _, _ = scan([str(tmp_path / "a.warc.gz")])
    storage = ArchiveStorage(str(tmp_path))
    for item in pages:
        record = read_record(storage, item.origin)
        assert record.url == item.page.url and record.date == item.page.fetched_at


def test_without_a_window_every_dated_page_is_read(tmp_path: Path) -> None:
    cc_news_file(tmp_path / "a.warc.gz")
    pages, _, _ = scan([str(tmp_path / "a.warc.gz")], window=None)
    assert len(pages) == 5


def test_globs_expand_sorted_and_missing_files_are_reported(tmp_path: Path) -> None:
    for name in ("b.warc.gz", "a.warc.gz"):
        cc_news_file(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a WARC")
    pages, problems, files = scan([str(tmp_path / "*.warc.gz"), str(tmp_path / "a.warc.gz"),
                                   str(tmp_path / "missing.warc.gz"), str(tmp_path / "none-*.warc.gz")])
    assert [Path(p.origin.file).name for p in pages] == ["a.warc.gz"] * 3 + ["b.warc.gz"] * 3  # a once
    assert sorted(p.reason for p in problems if p.reason.startswith("warc_")) == ["warc_missing", "warc_no_match"]
    assert files.stats.files == 2


def test_a_corrupt_file_is_one_problem_and_the_next_file_is_still_read(tmp_path: Path) -> None:
    cc_news_file(tmp_path / "good.warc.gz")
    data = (tmp_path / "good.warc.gz").read_bytes()
    (tmp_path / "a-truncated.warc.gz").write_bytes(data[: len(data) // 2] + b"garbage" * 50)
    pages, problems, _ = scan([str(tmp_path / "a-truncated.warc.gz"), str(tmp_path / "good.warc.gz")])
    assert [p.reason for p in problems if p.reason == "bad_warc"] == ["bad_warc"]
    assert sum(Path(p.origin.file).name == "good.warc.gz" for p in pages) == 3


def test_warc_files_on_s3_compatible_storage(tmp_path: Path, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    fs = fsspec.filesystem("s3")
    for name in ("CC-NEWS-1.warc.gz", "CC-NEWS-2.warc.gz"):
        cc_news_file(tmp_path / name)
        fs.put_file(str(tmp_path / name), f"{bucket}/crawl-data/CC-NEWS/2019/03/{name}")
    pages, problems, files = scan([f"s3://{bucket}/crawl-data/CC-NEWS/2019/03/*.warc.gz"])
    assert len(pages) == 6 and {p.reason for p in problems} == {"too_large", "decode_error"}
    assert pages[0].origin.file == f"s3://{bucket}/crawl-data/CC-NEWS/2019/03/CC-NEWS-1.warc.gz"
    storage = ArchiveStorage(f"s3://{bucket}/crawl-data")
    assert read_record(storage, pages[-1].origin).body == pages[-1].page.body


def test_date_templates_name_the_window_s_days_and_the_day_before(tmp_path: Path) -> None:
    for day in ("20190228", "20190301", "20190302"):
        cc_news_file(tmp_path / f"CC-NEWS-{day}120000-00001.warc.gz")
    template = str(tmp_path / "CC-NEWS-{date:%Y%m%d}*.warc.gz")
    assert expand_dates([template, "/x.warc.gz"], DAY) == [
        str(tmp_path / "CC-NEWS-20190228*.warc.gz"), str(tmp_path / "CC-NEWS-20190301*.warc.gz"), "/x.warc.gz"]
    assert expand_dates([template], None) == []
    pages, problems, files = scan([template])
    assert files.stats.files == 2 and len(pages) == 6 and {p.reason for p in problems} == {"too_large", "decode_error"}


def test_warcs_entries_accept_paths_urls_globs_and_date_templates() -> None:
    value = ["/data/*.warc.gz", "s3://b/x.warc.gz", "gs://b/{date:%Y/%m}/*.warc.gz"]
    assert validate_warc_locations(value, "src") == tuple(value)
    assert validate_warc_locations("s3://b/x.warc.gz", "src") == ("s3://b/x.warc.gz",)


@pytest.mark.parametrize(("value", "message"), [
    ([""], "expected a list"), ({"a": 1}, "expected a list"), (["nosuch://b/x"], "unknown storage scheme"),
    (["/d/{day}.warc.gz"], "only {date:FORMAT}"), (["https://u:pw@h/{x"], "only {date:FORMAT}"),
    (["/ok.warc.gz", "s3:/b://x"], "entry #2: not a path or a scheme:// URL"),
])
def test_bad_warcs_entries_are_config_errors(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        validate_warc_locations(value, "src")
    assert ":pw@" not in str(raised.value)


@pytest.mark.parametrize("where", ["local", "s3"])
def test_index_then_read_by_offset_gives_the_pages_of_a_scan(tmp_path: Path, where: str,
                                                            request: pytest.FixtureRequest,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """What an ingest run does: headers first (no payload read), then only the records it needs, by offset."""
    for name in ("a.warc.gz", "b.warc.gz"):
        cc_news_file(tmp_path / name)
    location = str(tmp_path / "*.warc.gz")
    if where == "s3":
        bucket = request.getfixturevalue("s3_server").new_bucket()
        for name in ("a.warc.gz", "b.warc.gz"):
            fsspec.filesystem("s3").put_file(str(tmp_path / name), f"{bucket}/cc/{name}")
        location = f"s3://{bucket}/cc/*.warc.gz"
    scanned, _, _ = scan([location])
    files = WarcFiles([location], max_bytes=4096)
    found = [item for item in files.index(DAY) if isinstance(item, WarcRecord)]
    assert len(found) == 10  # 3 pages per file, and the huge and brotli records: found without reading payloads
    assert [(r.url, r.date, r.location) for r in found if r.location in {p.origin for p in scanned}] == [
        (p.page.url, p.page.fetched_at, p.origin) for p in scanned]
    monkeypatch.setattr("pipeline.archive.source.MAX_SPAN", 600)  # a span per record or two: order still kept
    wanted = list(reversed(found))
    read = dict(files.read_pages([r.location for r in wanted], workers=2))
    pages = {wanted[i].url: page for i, page in read.items() if not isinstance(page, WarcProblem)}
    problems = {wanted[i].url: page.reason for i, page in read.items() if isinstance(page, WarcProblem)}
    assert sorted(read) == list(range(len(wanted)))
    assert {url: p.body for url, p in pages.items()} == {p.page.url: p.page.body for p in scanned}
    assert problems == {"https://daily.example/huge": "too_large", "https://daily.example/brotli": "decode_error"}


def test_reading_a_record_that_is_gone_or_misplaced_is_that_page_s_problem(tmp_path: Path) -> None:
    cc_news_file(tmp_path / "a.warc.gz")
    files = WarcFiles([str(tmp_path / "a.warc.gz")], max_bytes=4096)
    first = next(item for item in files.index(DAY) if isinstance(item, WarcRecord))
    shifted = replace(first.location, offset=first.location.offset + 7)
    gone = replace(first.location, file=first.location.file.replace("a.warc.gz", "gone.warc.gz"))
    got = dict(files.read_pages([first.location, shifted, gone]))
    assert got[0].body == ARTICLE % 1  # type: ignore[union-attr]
    assert (got[1].reason, got[2].reason) == ("bad_warc", "warc_missing")  # type: ignore[union-attr]
