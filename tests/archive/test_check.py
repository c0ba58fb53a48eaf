"""`check_archive`: index rows whose record is missing or wrong are errors; unreferenced records are reported."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.archive import ArchiveStorage, ArchiveWriter, check_archive, encode_capture
from pipeline.models import IndexEntry, RecordLocation
from tests.archive.conftest import capture


def written(storage: ArchiveStorage, batches: int = 3, size: int = 3) -> list[list[IndexEntry]]:
    writer = ArchiveWriter(storage, run_id=7)
    out = []
    for b in range(batches):
        encoded = [encode_capture(capture(f"https://h.example/{b}/{i}", f"<p>{b}.{i}</p>".encode()))
                   for i in range(size)]
        batch = writer.write(encoded)
        out.append([IndexEntry(f"{b}.{i}", loc, enc.sha256)
                    for i, (loc, enc) in enumerate(zip(batch.locations, encoded, strict=True))])
    return out


@pytest.mark.parametrize("deep", [True, False])
def test_a_complete_index_checks_clean(storage: ArchiveStorage, deep: bool) -> None:
    entries = [e for batch in written(storage) for e in batch]
    report = check_archive(storage, entries, deep=deep)
    assert report.ok and report.files == 3 and report.indexed == 9
    assert report.verified == (9 if deep else 0)
    assert not report.unreferenced_files and not report.unreferenced_records


def test_problems_are_found_and_unreferenced_records_reported(storage: ArchiveStorage) -> None:
    first, second, third = written(storage)
    wrong_digest = replace(second[0], sha256="0" * 64)
    wrong_offset = replace(second[1], location=replace(second[1].location, offset=second[1].location.offset + 3))
    gone = IndexEntry("gone", RecordLocation(storage.file_url("2026/11/20/gone.warc.gz"), 0, 100), "0" * 64)
    index = [*first, wrong_digest, wrong_offset, gone]  # second[2] unindexed, third not indexed at all
    report = check_archive(storage, index)
    assert not report.ok
    assert [(e.key, why) for e, why in report.missing] == [("gone", "file missing")]
    assert sorted(e.key for e, _ in report.mismatched) == ["1.0", "1.1"]
    assert report.unreferenced_files == [third[0].location.file]
    assert report.unreferenced_records == [second[1].location, second[2].location]
    assert report.verified == 3
    text = "\n".join(report.lines())
    assert "ERROR 1 index rows whose record is missing" in text and "ERROR 2 index rows whose record is wrong" in text
    assert "note 1 unreferenced files (harmless)" in text


def test_shallow_check_finds_records_beyond_the_end(storage: ArchiveStorage) -> None:
    (batch,) = written(storage, batches=1)
    beyond = replace(batch[0], location=replace(batch[0].location, offset=10**9))
    report = check_archive(storage, [beyond, *batch[1:]], deep=False)
    assert [e.key for e, _ in report.missing] == ["0.0"]


def test_a_day_prefix_limits_the_check(storage: ArchiveStorage) -> None:
    entries = [e for batch in written(storage, batches=2) for e in batch]
    assert check_archive(storage, entries, prefix="2026/11/20").ok
    report = check_archive(storage, [], prefix="2026/11/21")
    assert report.files == 0 and report.ok


def test_records_in_files_outside_the_root_are_verified_by_ranged_reads(tmp_path) -> None:
    old = ArchiveStorage(str(tmp_path / "old-archive"))
    (batch,) = written(old, batches=1)
    new = ArchiveStorage(str(tmp_path / "new-archive"))
    report = check_archive(new, [*batch[:2], replace(batch[2], sha256="f" * 64)])
    assert report.verified == 2 and [e.key for e, _ in report.mismatched] == ["0.2"]


def test_a_damaged_file_is_reported_with_the_rows_it_breaks(tmp_path) -> None:
    storage = ArchiveStorage(str(tmp_path / "archive"))
    (batch,) = written(storage, batches=1, size=4)
    path = batch[2].location.file.removeprefix("file://")
    data = bytearray(open(path, "rb").read())
    middle = batch[2].location.offset + batch[2].location.length // 2
    data[middle:middle + 8] = b"\x00rot\xffbit"  # bit rot inside the third record's gzip member
    open(path, "wb").write(bytes(data))
    report = check_archive(storage, batch)
    assert not report.ok and [url for url, _ in report.damaged_files] == [batch[0].location.file]
    assert report.verified == 2 and {e.key for e, _ in report.missing + report.mismatched} == {"0.2", "0.3"}
