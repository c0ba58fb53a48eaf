"""End to end: a source that is a set of WARC files (as a team backfills old days from CC-NEWS).

The files are written here with warcio alone, like Common Crawl's news crawl: one file per day named by the
time the crawl started it, records of a day spilling into the next day's first hours, requests, metadata,
revisits, images, errors, and pages stored as they came over the wire. Each day is an ordinary run: the
record dates decide the day, nothing is fetched over HTTP, and a rerun adds nothing.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import fsspec
import pytest
import sqlalchemy as sa
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli import main
from pipeline.newssite import Story
from tests.s3server import S3Server

UTC = timezone.utc
BASE = "https://daily.example"  # never resolved: a WARC source makes no HTTP request
DAYS = [datetime(2019, 3, d, tzinfo=UTC) for d in (1, 2, 3)]


def stories_of(day: datetime) -> list[Story]:
    return [Story(f"{day:%m%d}-{n}", f"Story {n} of {day:%B %d} about the harbour council", day + timedelta(hours=h),
                  layout="wordpress" if n % 2 else "html5") for n, h in enumerate((2, 9, 17))]


def write_response(writer: WARCWriter, url: str, date: datetime, body: bytes, *, status: str = "200 OK",
                   headers: Sequence[tuple[str, str]] = (("Content-Type", "text/html; charset=UTF-8"),)) -> None:
    http = StatusAndHeaders(status, list(headers), protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
        warc_headers_dict={"WARC-Date": date.strftime("%Y-%m-%dT%H:%M:%SZ")}))


def crawl_file(path: Path, day: datetime) -> None:
    """The crawl file started on `day`: the day's stories but its first (captured an hour after publication),
    noise, and the first story of the next day (captured after midnight: it belongs to the next day's run)."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"isPartOf": "CC-NEWS"}))
        for story in stories_of(day)[1:]:
            url = f"{BASE}/news/{story.slug}"
            request = StatusAndHeaders(f"GET /news/{story.slug} HTTP/1.1", [("Host", "daily.example")],
                                       is_http_request=True)
            writer.write_record(writer.create_warc_record(url, "request", http_headers=request))
            write_response(writer, url, story.published + timedelta(hours=1), story.page(BASE).encode())
            writer.write_record(writer.create_warc_record(url, "metadata", payload=io.BytesIO(b"fetchTimeMs: 9\r\n"),
                                                          length=16))
        noon = day + timedelta(hours=12)
        write_response(writer, f"{BASE}/logo.png", noon, b"\x89PNG", headers=[("Content-Type", "image/png")])
        write_response(writer, f"{BASE}/gone", noon, b"<html>gone</html>", status="404 Not Found")
        write_response(writer, f"{BASE}/huge", noon, b"<p>" + b"x" * 300_000 + b"</p>")
        write_response(writer, f"{BASE}/brotli", noon, b"\x0b\x02\x80", headers=[("Content-Type", "text/html"),
                                                                                  ("Content-Encoding", "br")])
        first = stories_of(day + timedelta(days=1))[0]  # published 02:00 the next day, captured at 03:00
        wire = gzip.compress(first.page(BASE).encode())  # as on the wire: gzip content coding
        write_response(writer, f"{BASE}/news/{first.slug}", first.published + timedelta(hours=1), wire,
                       headers=[("Content-Type", "text/html; charset=UTF-8"), ("Content-Encoding", "gzip")])


@pytest.fixture(params=["local", "s3"])
def warc_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The crawl files in a local directory, then in a bucket of the S3-compatible server (the archive too)."""
    local = tmp_path / "crawl"
    local.mkdir()
    files = {}
    for day in (DAYS[0] - timedelta(days=1), *DAYS):
        files[day] = local / f"CC-NEWS-{day:%Y%m%d}000512-{day.day:05d}.warc.gz"
        crawl_file(files[day], day)
    if request.param == "local":
        return str(local / "CC-NEWS-{date:%Y%m%d}*.warc.gz")
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    fs = fsspec.filesystem("s3")
    for day, path in files.items():
        fs.put_file(str(path), f"{bucket}/crawl-data/CC-NEWS/{day:%Y/%m}/{path.name}")
    request.getfixturevalue("monkeypatch").setenv("NEWS_PIPELINE_ARCHIVE_URL", f"s3://{bucket}/news-pipeline/raw")
    return f"s3://{bucket}/crawl-data/CC-NEWS/{{date:%Y/%m}}/CC-NEWS-{{date:%Y%m%d}}*.warc.gz"


def rows(url: str, sql: str, **params: object) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(sa.text(sql), params)]
    engine.dispose()
    return found


def run_day(capsys: pytest.CaptureFixture[str], sources: Path, day: datetime, *extra: str) -> dict:
    status = main(["run", "--sources", str(sources), "--date", f"{day:%Y-%m-%d}", "--backfill", "--json", *extra])
    out = capsys.readouterr().out.strip().splitlines()
    assert status == 0, out
    return json.loads(out[-1])


def test_a_backfill_from_warc_files_stores_each_day_s_articles_and_a_rerun_adds_nothing(
        warc_location: str, database_url: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWS_PIPELINE_EXTRACT_WORKERS", "1")
    monkeypatch.setenv("NEWS_PIPELINE_MAX_RESPONSE_BYTES", "200000")
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  - name: cc-news\n    warcs: ['{warc_location}']\n", encoding="utf-8")

    summaries = [run_day(capsys, sources, day) for day in DAYS]
    for day, summary in zip(DAYS, summaries, strict=True):
        stored = rows(database_url, "SELECT title, published_at, date_signal FROM articles"
                                    " WHERE published_at >= :s AND published_at < :e ORDER BY published_at",
                      s=day, e=day + timedelta(days=1))
        assert stored == [(s.title, s.published, "meta") for s in stories_of(day)], (day, stored)
        assert summary["totals"]["inserted"] == 3, summary
        assert summary["fetcher"]["requests"] == 0, "a WARC source is read, never fetched"
        failures = summary["failures"]
        assert failures == {"fetch:decode_error": 1, "fetch:too_large": 1}, failures
        skipped = summary["sources"]["cc-news"]["skipped_records"]
        assert skipped["record:request"] >= 3 and skipped["http_404"] >= 1 and skipped["not_html"] >= 1, skipped

    raw = rows(database_url, "SELECT r.url, r.fetched_at, r.body IS NULL, f.url FROM raw_pages r"
                             " JOIN archive_files f ON f.id = r.archive_file_id ORDER BY r.fetched_at")
    assert len(raw) == 9 and all(no_body for _, _, no_body, _ in raw)
    assert raw[0][1] == stories_of(DAYS[0])[0].published + timedelta(hours=1), "fetched_at is the WARC-Date"
    assert all("/2019/03/0" in file and "CC-NEWS" not in file for *_, file in raw), \
        "re-archived in our own files, named by the capture day"
    origin = _origin_of(raw[0][3])  # the first story of day 1, read from the file the crawl started the day before
    assert origin.startswith(("file://", "s3://")) and "CC-NEWS-20190228000512-00028.warc.gz#" in origin, origin

    archive_files = rows(database_url, "SELECT count(*) FROM archive_files")
    again = run_day(capsys, sources, DAYS[1])
    assert again["totals"]["inserted"] == 0 and again["archive"]["files"] == 0, again
    assert rows(database_url, "SELECT count(*) FROM archive_files") == archive_files
    assert rows(database_url, "SELECT count(*) FROM raw_pages") == [(9,)]

    status = main(["reprocess", "--start", "2019-03-01", "--end", "2019-03-04", "--json"])
    rebuilt = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status == 0 and rebuilt["totals"]["unchanged"] == 9, rebuilt


def _origin_of(file_url: str) -> str:
    """The `origin` field of the first metadata record of one of our WARC files (where the page was read)."""
    fs, path = fsspec.core.url_to_fs(file_url)
    with fs.open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "metadata":
                fields = dict(line.split(": ", 1) for line in record.content_stream().read().decode().splitlines()
                              if ": " in line)
                return fields.get("origin", "")
    return ""


def test_a_missing_day_file_is_a_discovery_failure_and_bad_entries_are_refused(
        database_url: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"- name: cc-news\n  warcs: ['{tmp_path}/none/CC-NEWS-{{date:%Y%m%d}}*.warc.gz']\n",
                       encoding="utf-8")
    status = main(["run", "--sources", str(sources), "--date", "2019-03-01", "--json"])
    err = capsys.readouterr().err
    assert status == 1 and "discover:warc_no_match x2" in err, err  # nothing found: a failed run, not a success
    assert len(err.strip().splitlines()) == 1
    assert rows(database_url, "SELECT status FROM runs") == [("failed",)]
    assert rows(database_url, "SELECT url LIKE '%/none/CC-NEWS-2019022%' OR url LIKE '%/none/CC-NEWS-20190301%',"
                              " reason FROM failures ORDER BY url") == [(True, "warc_no_match")] * 2
    sources.write_text("- name: cc-news\n  warcs: ['nosuch://bucket/x.warc.gz']\n", encoding="utf-8")
    assert main(["run", "--sources", str(sources), "--date", "2019-03-01"]) == 2
    assert "unknown storage scheme nosuch://" in capsys.readouterr().err
