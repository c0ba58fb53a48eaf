"""Archive + index on a real PostgreSQL and real storage: keep raw, reprocess reads, move-out, check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from pipeline.archive import (
    ArchiveStorage,
    RawArchiver,
    check_archive,
    load_bodies,
    move_out_bodies,
)
from pipeline.models import FetchedPage
from pipeline.store import Store
from tests.archive.conftest import WHEN


def fetched(i: int, body: bytes | None = None) -> FetchedPage:
    return FetchedPage(f"https://herald.example/{i}", f"https://herald.example/{i}?p=1", 200,
                       {"content-type": "text/html", "etag": f'"{i}"'},
                       body if body is not None else f"<html><p>story {i} {'x' * i}</p></html>".encode(),
                       WHEN + timedelta(minutes=i))


def scalar(store: Store, sql: str, **params: object) -> object:
    with store.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def keep(archiver: RawArchiver, index: Store, run_id: int, pages: list[FetchedPage]) -> list[int]:
    kept = archiver.keep([archiver.encode("herald", p) for p in pages], index.known_raw_pages)
    return index.save_raw_index(run_id, kept)


def test_kept_pages_are_indexed_by_location_and_read_back(archive_store: Store, storage: ArchiveStorage) -> None:
    index = archive_store
    run_id = archive_store.begin_run("ingest", None, ["herald"], {})
    pages = [fetched(i) for i in range(5)]
    ids = keep(RawArchiver(storage, run_id=run_id), index, run_id, pages)
    assert scalar(archive_store, "SELECT count(*) FROM raw_pages WHERE body IS NULL AND id = ANY(:i)", i=ids) == 5
    bodies = load_bodies(storage, index.body_refs(ids))
    assert bodies == [p.body for p in pages]
    assert check_archive(storage, index.index_entries()).verified == 5


def test_a_rerun_writes_no_record_twice_and_returns_the_same_ids(archive_store: Store, storage: ArchiveStorage) -> None:
    index = archive_store
    run_id = archive_store.begin_run("ingest", None, ["herald"], {})
    first = keep(RawArchiver(storage, run_id=run_id), index, run_id, [fetched(i) for i in range(3)])
    rerun = archive_store.begin_run("ingest", None, ["herald"], {})
    archiver = RawArchiver(storage, run_id=rerun)
    again = keep(archiver, index, rerun, [fetched(2), fetched(0), fetched(0)])
    assert again == [first[2], first[0], first[0]] and archiver.writer.files_written == 0
    changed = keep(archiver, index, rerun, [fetched(1), fetched(1, b"<p>edited</p>"), fetched(7)])
    assert changed[0] == first[1] and len(set(changed)) == 3 and archiver.writer.files_written == 1
    assert scalar(archive_store, "SELECT records FROM archive_files ORDER BY id DESC LIMIT 1") == 2
    report = check_archive(storage, index.index_entries())
    assert report.ok and report.verified == 5 and not report.unreferenced_records


def test_a_crash_between_publishing_and_indexing_leaves_only_an_unreferenced_file(archive_store: Store,
                                                                               storage: ArchiveStorage) -> None:
    index = archive_store
    run_id = archive_store.begin_run("ingest", None, ["herald"], {})
    archiver = RawArchiver(storage, run_id=run_id)
    pages = [fetched(i) for i in range(3)]
    lost = archiver.keep([archiver.encode("herald", p) for p in pages], index.known_raw_pages)  # then "killed"
    assert scalar(archive_store, "SELECT count(*) FROM raw_pages") == 0
    rerun = archive_store.begin_run("ingest", None, ["herald"], {})
    ids = keep(RawArchiver(storage, run_id=rerun), index, rerun, pages)
    report = check_archive(storage, index.index_entries())
    assert report.ok and report.unreferenced_files == [lost.file] and report.verified == 3
    assert load_bodies(storage, index.body_refs(ids)) == [p.body for p in pages]


def test_move_out_archives_old_bodies_verified_idempotent_and_resumable(archive_store: Store,
                                                                       storage: ArchiveStorage) -> None:
    index = archive_store
    run_id = archive_store.begin_run("ingest", None, ["herald"], {})
    pages = [fetched(i) for i in range(7)]
    ids = archive_store.save_raw_pages(run_id, [("herald", p) for p in pages])  # rows written before the archive
    before = index.body_refs(ids)
    assert all(ref.body is not None for ref in before)
    first = move_out_bodies(index, storage, run_id=None, batch=2, limit=3)  # stopped after 3 rows
    assert (first.moved, first.files) == (3, 2)
    rest = move_out_bodies(index, storage, run_id=None, batch=2)
    assert (rest.seen, rest.moved, rest.refused) == (4, 4, [])
    assert move_out_bodies(index, storage, run_id=None).seen == 0  # nothing left: idempotent
    assert scalar(archive_store, "SELECT count(*) FROM raw_pages WHERE body IS NOT NULL") == 0
    assert load_bodies(storage, index.body_refs(ids)) == [p.body for p in pages]
    report = check_archive(storage, index.index_entries())
    assert report.ok and report.verified == 7
    files = [f.url for f in storage.list_files()]
    assert all("/2026/11/20/news-pipeline-norun-" in url for url in files)  # the pages' own day


def test_move_out_refuses_a_row_whose_body_is_not_its_sha256(archive_store: Store, storage: ArchiveStorage) -> None:
    index = archive_store
    run_id = archive_store.begin_run("ingest", None, ["herald"], {})
    ids = archive_store.save_raw_pages(run_id, [("herald", fetched(i)) for i in range(2)])
    with archive_store.engine.begin() as conn:  # a row damaged by hand: its sha256 no longer matches the body
        conn.execute(sa.text("ALTER TABLE raw_pages DISABLE TRIGGER raw_pages_no_update_delete"))
        conn.execute(sa.text("UPDATE raw_pages SET sha256 = repeat('0', 64) WHERE id = :i"), {"i": ids[0]})
        conn.execute(sa.text("ALTER TABLE raw_pages ENABLE TRIGGER raw_pages_no_update_delete"))
    report = move_out_bodies(index, storage, run_id=None)
    assert report.moved == 1 and [rid for rid, _ in report.refused] == [ids[0]]
    assert "digest" in report.refused[0][1] or "SHA-256" in report.refused[0][1]
    assert scalar(archive_store, "SELECT body IS NOT NULL FROM raw_pages WHERE id = :i", i=ids[0]) is True
    check = check_archive(storage, index.index_entries())
    assert check.ok and len(check.unreferenced_records) == 1  # the refused row's record: harmless


def test_a_missing_record_is_that_page_s_error_only(archive_store: Store, tmp_path: Path) -> None:
    storage = ArchiveStorage(str(tmp_path / "archive"))
    index = archive_store
    run_id = archive_store.begin_run("ingest", None, ["herald"], {})
    ids = keep(RawArchiver(storage, run_id=run_id), index, run_id, [fetched(1)])
    ids += keep(RawArchiver(storage, run_id=run_id), index, run_id, [fetched(2)])
    refs = index.body_refs(ids)
    Path(refs[0].location.file.removeprefix("file://")).unlink()  # lost by hand, outside the pipeline
    got = load_bodies(storage, refs)
    assert getattr(got[0], "reason", None) == "archive_missing" and got[1] == fetched(2).body
    report = check_archive(storage, index.index_entries())
    assert [why for _, why in report.missing] == ["file missing"]


def test_rows_with_a_body_are_read_as_today(archive_store: Store) -> None:
    n = 3
    index = archive_store
    run_id = archive_store.begin_run("ingest", None, ["herald"], {})
    ids = archive_store.save_raw_pages(run_id, [("herald", fetched(i)) for i in range(n)])
    assert load_bodies(None, index.body_refs(ids)) == [fetched(i).body for i in range(n)]
