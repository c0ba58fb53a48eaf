"""The staged migration 010 on a real PostgreSQL: raw_pages as the archive's index, still immutable but for move-out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline.store import Store
from tests.store.helpers import page

REFUSED = "immutable"


@pytest.fixture
def store(archive_store: Store) -> Store:
    return archive_store


def run(store: Store, sql: str, **params: object) -> list[tuple]:
    with store.engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        return [tuple(r) for r in result] if result.returns_rows else []


def archive_file(store: Store, url: str = "file:///archive/2026/11/20/f.warc.gz") -> int:
    return run(store, "INSERT INTO archive_files (url, records, bytes) VALUES (:u, 1, 1000) RETURNING id", u=url)[0][0]


def body_row(store: Store) -> tuple[int, str]:
    fetched = page("https://h.example/a", b"<p>archived later</p>")
    run_id = store.begin_run("test", None, [], {})
    (raw_id,) = store.save_raw_pages(run_id, [("h", fetched)])
    return raw_id, fetched.sha256


def move_out(store: Store, raw_id: int, file_id: int, sha: str) -> bool:
    return run(store, "SELECT raw_pages_move_out(:i, :f, 120, 3400, :s)", i=raw_id, f=file_id, s=sha)[0][0]


@pytest.mark.parametrize("statement", [
    "UPDATE raw_pages SET status = 500 WHERE id = :i",
    "DELETE FROM raw_pages WHERE id = :i",
    "UPDATE raw_pages SET body = NULL, archive_file_id = :f, archive_offset = 0, archive_length = 10 WHERE id = :i",
])
def test_rows_stay_immutable_outside_the_move_out(store: Store, statement: str) -> None:
    raw_id, _ = body_row(store)
    file_id = archive_file(store)
    with pytest.raises(sa.exc.DBAPIError, match=REFUSED):
        run(store, statement, i=raw_id, f=file_id)


def test_move_out_needs_the_verified_digest_and_happens_once(store: Store) -> None:
    raw_id, sha = body_row(store)
    file_id = archive_file(store)
    assert move_out(store, raw_id, file_id, "0" * 64) is False
    assert run(store, "SELECT body IS NOT NULL FROM raw_pages WHERE id = :i", i=raw_id) == [(True,)]
    assert move_out(store, raw_id, file_id, sha) is True
    assert run(store, "SELECT body, archive_file_id, archive_offset, archive_length FROM raw_pages WHERE id = :i",
               i=raw_id) == [(None, file_id, 120, 3400)]
    assert move_out(store, raw_id, file_id, sha) is False  # idempotent: already moved


def test_a_moved_row_cannot_change_again(store: Store) -> None:
    raw_id, sha = body_row(store)
    file_id, other = archive_file(store), archive_file(store, "s3://b/other.warc.gz")
    move_out(store, raw_id, file_id, sha)
    for statement in ("UPDATE raw_pages SET archive_file_id = :f WHERE id = :i",
                      "UPDATE raw_pages SET body = 'x' WHERE id = :i"):
        with pytest.raises(sa.exc.DBAPIError, match=REFUSED):
            run(store, statement, i=raw_id, f=other)


def test_a_claimed_verification_does_not_allow_other_changes(store: Store) -> None:
    raw_id, sha = body_row(store)
    file_id = archive_file(store)
    with pytest.raises(sa.exc.DBAPIError, match=REFUSED):
        run(store, "SELECT set_config('news_pipeline.move_out_verified', :s, true);"
                   " UPDATE raw_pages SET body = NULL, archive_file_id = :f, archive_offset = 0, archive_length = 9,"
                   " status = 203 WHERE id = :i", s=sha, f=file_id, i=raw_id)


def test_new_rows_hold_a_body_or_a_complete_location(store: Store) -> None:
    run_id = store.begin_run("test", None, [], {})
    file_id = archive_file(store)
    insert = ("INSERT INTO raw_pages (run_id, source, url, final_url, status, body, sha256, fetched_at,"
              " archive_file_id, archive_offset, archive_length) VALUES (:r, 'h', :u, :u, 200, NULL, :s, now(),"
              " :f, :o, :n)")
    run(store, insert, r=run_id, u="https://h.example/ok", s="a" * 64, f=file_id, o=0, n=10)
    for values, constraint in (({"f": None, "o": None, "n": None}, "raw_pages_body_or_record"),
                               ({"f": file_id, "o": None, "n": 10}, "raw_pages_location_complete"),
                               ({"f": file_id, "o": 0, "n": 0}, "raw_pages_location_complete")):
        with pytest.raises(sa.exc.IntegrityError, match=constraint):
            run(store, insert, r=run_id, u="https://h.example/bad", s="b" * 64, **values)


def test_views_still_read_the_raw_layer(store: Store) -> None:
    body_row(store)
    assert run(store, "SELECT sum(fetched) FROM source_daily_quality") == [(1,)]
