"""Interoperability: the archive's files read back with warcio alone (no project code), and its CLI checks."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_datetime

from pipeline.archive import ArchiveStorage, ArchiveWriter, Capture, encode_capture
from tests.conftest import SHARED

DEV_PAGES = SHARED / "datasets" / "article-extraction-dev" / "html"
FIXTURE_PAGES = Path(__file__).resolve().parent.parent / "extract" / "pages"
WHEN = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
FRAMING = {"content-length", "content-encoding", "transfer-encoding"}


def corpus() -> list[Capture]:
    """Real pages (the dev set when present, the suite's fixture pages) with realistic response headers."""
    bodies = [gzip.decompress(p.read_bytes()) for p in sorted(DEV_PAGES.glob("*.html.gz"))]
    bodies += [p.read_bytes() for p in sorted(FIXTURE_PAGES.glob("*.html"))]
    bodies += [b"", "<p>\u00e9t\u00e9 \u2014 \u65e5\u672c</p>".encode(), bytes(range(256)) * 3]
    captures = []
    for i, body in enumerate(bodies):
        headers = {"content-type": "text/html; charset=utf-8", "content-encoding": "gzip",
                   "content-length": str(len(body) // 3), "etag": f'W/"{i}"', "cache-control": "max-age=60",
                   "set-cookie": "a=1; Path=/, b=2; Path=/", "x-odd": "semi;colon: and = signs"}
        if i % 3 == 0:
            headers["transfer-encoding"] = "chunked"
            del headers["content-length"]
        captures.append(Capture(url=f"https://news{i % 4}.example/story/{i}", final_url=f"https://news{i % 4}"
                                f".example/story/{i}?amp=0", status=200 if i % 7 else 203, headers=headers,
                                body=body, fetched_at=WHEN + timedelta(seconds=i, microseconds=i),
                                source=f"news{i % 4}", run_id=11))
    return captures


def expected_headers(capture: Capture) -> list[tuple[str, str]]:
    """What the response record must carry: received headers, framing ones under X-Crawler-, true length."""
    out = [(("X-Crawler-" + n) if n in FRAMING else n, v) for n, v in capture.headers.items()]
    return [*out, ("Content-Length", str(len(capture.body)))]


def check_with_warcio_alone(path: Path, captures: list[Capture], locations: list[tuple[int, int]]) -> None:
    """Read `path` with warcio only; every capture must come back byte for byte with its headers."""
    by_target = {c.final_url: (c, loc) for c, loc in zip(captures, locations, strict=True)}
    seen = set()
    with open(path, "rb") as handle:
        iterator = ArchiveIterator(handle, check_digests=True)
        for record in iterator:
            if record.rec_type != "response":
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            capture, (offset, length) = by_target[url]
            body = record.content_stream().read()
            assert body == capture.body, url
            assert record.http_headers.get_statuscode() == str(capture.status)
            assert record.http_headers.headers == expected_headers(capture), url
            assert record.rec_headers.get_header("WARC-Payload-Digest") == \
                "sha256:" + base64.b32encode(hashlib.sha256(capture.body).digest()).decode()
            assert iso_date_to_datetime(record.rec_headers.get_header("WARC-Date"), tz_aware=True) == capture.fetched_at
            assert (iterator.get_record_offset(), iterator.get_record_length()) == (offset, length)
            seen.add(url)
    assert seen == set(by_target)


def warcio_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "warcio.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def captures() -> list[Capture]:
    return corpus()


def test_local_files_read_back_with_warcio_alone(tmp_path: Path, captures: list[Capture]) -> None:
    storage = ArchiveStorage(str(tmp_path / "archive"))
    batch = ArchiveWriter(storage, run_id=11).write([encode_capture(c) for c in captures])
    path = Path(fsspec.core.url_to_fs(batch.file)[1])
    check_with_warcio_alone(path, captures, [(loc.offset, loc.length) for loc in batch.locations])


def test_s3_files_read_back_with_warcio_alone(tmp_path: Path, captures: list[Capture], s3_server: object) -> None:
    bucket = s3_server.new_bucket()  # type: ignore[attr-defined]
    storage = ArchiveStorage(f"s3://{bucket}/raw")
    batch = ArchiveWriter(storage, run_id=11).write([encode_capture(c) for c in captures])
    local = tmp_path / "copy.warc.gz"
    fsspec.filesystem("s3").get_file(batch.file, str(local))  # a plain download: no project code
    check_with_warcio_alone(local, captures, [(loc.offset, loc.length) for loc in batch.locations])


def test_warcio_check_verifies_every_digest_and_index_lists_every_record(tmp_path: Path,
                                                                      captures: list[Capture]) -> None:
    storage = ArchiveStorage(str(tmp_path / "archive"))
    written = captures[:20]  # fewer where the dev set is absent (the fixture pages only)
    batch = ArchiveWriter(storage, run_id=11).write([encode_capture(c) for c in written])
    path = fsspec.core.url_to_fs(batch.file)[1]
    checked = warcio_cli("check", "-v", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest pass" in checked.stdout and "digest fail" not in checked.stdout
    indexed = warcio_cli("index", "-f", "warc-type,warc-target-uri,offset,length", path)
    rows = [json.loads(line) for line in indexed.stdout.splitlines()]
    assert [r["warc-type"] for r in rows] == ["warcinfo"] + ["response", "metadata"] * len(written)
    responses = [(r["warc-target-uri"], int(r["offset"]), int(r["length"])) for r in rows
                 if r["warc-type"] == "response"]
    assert responses == [(c.final_url, loc.offset, loc.length) for c, loc in zip(captures, batch.locations)]


def test_the_file_is_a_valid_multi_member_gzip(tmp_path: Path, captures: list[Capture]) -> None:
    storage = ArchiveStorage(str(tmp_path / "archive"))
    batch = ArchiveWriter(storage, run_id=11).write([encode_capture(c) for c in captures[:5]])
    text = gzip.decompress(Path(fsspec.core.url_to_fs(batch.file)[1]).read_bytes())
    assert text.startswith(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n")
    assert text.count(b"\r\nWARC-Type: response\r\n") == 5
