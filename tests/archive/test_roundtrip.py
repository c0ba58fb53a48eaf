"""Write batches to real storage (a local directory, an S3-compatible server) and read records back by offset."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pipeline.archive import ArchiveStorage, ArchiveWriter, encode_capture, read_record, read_records
from pipeline.archive import reader as reader_module
from pipeline.errors import ArchiveError, ArchiveUnavailable
from pipeline.models import RecordLocation
from tests.archive.conftest import WHEN, capture

NAME = re.compile(r"^2026/11/20/news-pipeline-run7-20261120093015-(\d{5})-[0-9a-f]{8}\.warc\.gz$")


def pages(n: int, prefix: str = "p") -> list:
    return [capture(f"https://herald.example/{prefix}{i}", f"<html><p>{prefix} {i} {'x' * i}</p></html>".encode(),
                    headers={"content-type": "text/html", "x-n": str(i)}, fetched_at=WHEN + timedelta(seconds=i))
            for i in range(n)]


def test_a_batch_is_one_published_file_named_by_day_run_and_sequence(storage: ArchiveStorage) -> None:
    writer = ArchiveWriter(storage, run_id=7)
    first = writer.write([encode_capture(c) for c in pages(3)])
    second = writer.write([encode_capture(c) for c in pages(2, "q")])
    names = [storage.relative_name(f.url) for f in storage.list_files()]
    assert sorted(names) == sorted(storage.relative_name(b.file) for b in (first, second))
    assert [NAME.match(n).group(1) for n in sorted(names)] == ["00001", "00002"]
    assert [f.url for f in storage.list_files("2026/11/20")] == sorted([first.file, second.file])
    assert storage.list_files("2026/11/21") == []
    assert {f.url: f.size for f in storage.list_files()} == {first.file: first.size, second.file: second.size}


def test_every_record_reads_back_by_offset_with_status_headers_and_body(storage: ArchiveStorage) -> None:
    captures = pages(5)
    encoded = [encode_capture(c) for c in captures]
    batch = ArchiveWriter(storage, run_id=7).write(encoded)
    for original, enc, location in zip(captures, encoded, batch.locations, strict=True):
        got = read_record(storage, location, expected_sha256=enc.sha256)
        assert (got.url, got.status, got.body, got.date) == (original.url, 200, original.body, original.fetched_at)
        assert got.headers == original.headers
        assert got.payload_sha256 == enc.sha256 and got.record_id == enc.record_id


def test_read_records_keeps_input_order_and_coalesces_neighbours(storage: ArchiveStorage,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    writer = ArchiveWriter(storage, run_id=7)
    batches = [writer.write([encode_capture(c) for c in pages(4, prefix)]) for prefix in "ab"]
    locations = [loc for b in batches for loc in b.locations][::-1]
    reads: list[tuple[str, int, int]] = []
    original = storage.read_range

    def counting(url: str, offset: int, length: int) -> bytes:
        reads.append((url, offset, length))
        return original(url, offset, length)

    monkeypatch.setattr(storage, "read_range", counting)
    got = read_records(storage, locations)
    assert [r.url for r in got] == [f"https://herald.example/{p}{i}" for p in "ba" for i in (3, 2, 1, 0)]
    assert len(reads) == 2  # one ranged read per file
    monkeypatch.setattr(reader_module, "MERGE_GAP", -1)
    reads.clear()
    assert [r.url for r in read_records(storage, locations)] == [r.url for r in got]
    assert len(reads) == 8


def test_a_bad_record_is_returned_as_its_error_and_the_others_still_read(storage: ArchiveStorage) -> None:
    enc = [encode_capture(c) for c in pages(3)]
    batch = ArchiveWriter(storage, run_id=7).write(enc)
    good, shifted, _ = batch.locations
    wrong_place = RecordLocation(shifted.file, shifted.offset + 1, shifted.length)
    missing = RecordLocation(storage.file_url("2026/11/20/nope.warc.gz"), 0, 10)
    got = read_records(storage, [good, wrong_place, missing, good], [enc[0].sha256, None, None, enc[1].sha256])
    assert got[0].body == pages(3)[0].body
    assert isinstance(got[1], ArchiveError) and got[1].reason == "archive_corrupt"
    assert isinstance(got[2], ArchiveError) and got[2].reason == "archive_missing"
    assert isinstance(got[3], ArchiveError) and got[3].reason == "archive_digest_mismatch"


def test_reading_past_the_end_is_a_truncated_record(storage: ArchiveStorage) -> None:
    batch = ArchiveWriter(storage, run_id=7).write([encode_capture(pages(1)[0])])
    loc = batch.locations[0]
    with pytest.raises(ArchiveError) as raised:
        read_record(storage, RecordLocation(loc.file, loc.offset, batch.size))
    assert raised.value.reason == "archive_truncated"


def test_nothing_is_published_when_writing_the_batch_fails(storage: ArchiveStorage) -> None:
    class Exploding:
        data = property(lambda self: (_ for _ in ()).throw(OSError(28, "No space left on device")))
        fetched_at = WHEN
        response_length = 1

    with pytest.raises(ArchiveUnavailable, match="No space left on device"):
        ArchiveWriter(storage, run_id=7).write([encode_capture(pages(1)[0]), Exploding()])  # type: ignore[list-item]
    assert storage.list_files() == [] and storage.staged_files() == []


def test_files_are_never_rewritten(tmp_path) -> None:
    storage = ArchiveStorage(str(tmp_path / "archive"))
    batch = ArchiveWriter(storage, run_id=7).write([encode_capture(pages(1)[0])])
    staged = storage.staging_path("again")
    staged.write_bytes(b"other bytes")
    with pytest.raises(ArchiveError) as raised:
        storage.publish(staged, storage.relative_name(batch.file))
    assert raised.value.reason == "archive_exists"
    assert read_record(storage, batch.locations[0]).body == pages(1)[0].body


def test_the_day_directory_is_the_day_of_the_earliest_capture(tmp_path) -> None:
    storage = ArchiveStorage(str(tmp_path / "archive"))
    old = capture("https://herald.example/2019", fetched_at=WHEN.replace(year=2019, month=3, day=1))
    batch = ArchiveWriter(storage, run_id=None).write([encode_capture(old), encode_capture(pages(1)[0])])
    assert re.search(r"/2019/03/01/news-pipeline-norun-20190301093015-00001-[0-9a-f]{8}\.warc\.gz$", batch.file)
