"""Raw layer: immutable, idempotent on (url, sha256), streamed back for reprocessing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipeline.models import DiscoveredURL, Window
from pipeline.store import Store
from tests.store.helpers import WHEN, page, rows, scalar


def test_save_raw_pages_is_idempotent_and_keeps_input_order(store: Store, run_id: int, tag: str) -> None:
    pages = [(tag, page(f"https://{tag}.example/{i}", f"<p>{i}</p>".encode())) for i in range(3)]
    first = store.save_raw_pages(run_id, pages)
    again = store.save_raw_pages(run_id, list(reversed(pages)))
    assert again == list(reversed(first))
    assert scalar(store, "SELECT count(*) FROM raw_pages WHERE source = :s", s=tag) == 3


def test_raw_page_keeps_bytes_status_headers_and_hash(store: Store, run_id: int, tag: str) -> None:
    body = "<p>caf\u00e9</p>".encode("latin-1")
    fetched = page(f"https://{tag}.example/x", body, status=203)
    (raw_id,) = store.save_raw_pages(run_id, [(tag, fetched)])
    stored = rows(store, "SELECT body, status, headers, sha256, final_url, run_id FROM raw_pages"
                  " WHERE id = :i", i=raw_id)
    expected = (body, 203, {"content-type": "text/html"}, fetched.sha256, fetched.final_url, run_id)
    assert [(bytes(r[0]), *r[1:]) for r in stored] == [expected]


def test_a_changed_body_is_a_new_raw_page(store: Store, run_id: int, tag: str) -> None:
    url = f"https://{tag}.example/a"
    ids = store.save_raw_pages(run_id, [(tag, page(url, b"v1")), (tag, page(url, b"v2"))])
    assert len(set(ids)) == 2


@pytest.mark.parametrize("statement", ["UPDATE raw_pages SET status = 500 WHERE id = :i",
                                       "DELETE FROM raw_pages WHERE id = :i"])
def test_raw_pages_are_immutable(store: Store, run_id: int, tag: str, statement: str) -> None:
    (raw_id,) = store.save_raw_pages(run_id, [(tag, page(f"https://{tag}.example/i"))])
    with pytest.raises(sa.exc.DBAPIError, match="immutable"):
        with store.engine.begin() as conn:
            conn.execute(sa.text(statement), {"i": raw_id})
    assert scalar(store, "SELECT status FROM raw_pages WHERE id = :i", i=raw_id) == 200


def test_iter_raw_pages_streams_latest_page_per_url(store: Store, run_id: int, tag: str) -> None:
    day = Window(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    early = WHEN - timedelta(hours=2)
    urls = [f"https://{tag}.example/{i}" for i in range(5)]
    old = DiscoveredURL(f"https://{tag}.example/old", tag, WHEN - timedelta(days=3), "feed")
    found = [DiscoveredURL(u, tag, WHEN, "feed", f"T{i}") for i, u in enumerate(urls)]
    store.save_discovered(run_id, [*found, old])
    store.save_raw_pages(run_id, [(tag, page(u, b"old", fetched_at=early)) for u in urls])
    store.save_raw_pages(run_id, [(tag, page(u, b"new")) for u in urls]
                         + [(tag, page(f"https://{tag}.example/old", b"x")),
                            (tag, page(f"https://{tag}.example/404", b"", status=404))])
    got = list(store.iter_raw_pages(day, [tag], batch=2))
    assert [r.url for r in got] == sorted(urls)
    assert {r.body for r in got} == {b"new"}
    assert got[0].hints.date_signal == "feed" and got[0].hints.title == "T0"
    assert got[0].hints.published_at == WHEN
    assert list(store.iter_raw_pages(day, ["no-such-source"])) == []


def test_undated_pages_belong_to_the_window_they_were_fetched_in(store: Store, run_id: int, tag: str) -> None:
    url = f"https://{tag}.example/undated"
    store.save_raw_pages(run_id, [(tag, page(url))])
    inside = Window(WHEN - timedelta(hours=1), WHEN + timedelta(hours=1))
    outside = Window(WHEN + timedelta(hours=1), WHEN + timedelta(hours=2))
    assert [r.url for r in store.iter_raw_pages(inside, [tag])] == [url]
    assert list(store.iter_raw_pages(outside, [tag])) == []


def test_discovered_in_window_returns_the_stored_hints(store: Store, run_id: int, tag: str) -> None:
    inside = DiscoveredURL(f"https://{tag}.example/in", tag, WHEN, "sitemap_lastmod", "In")
    outside = DiscoveredURL(f"https://{tag}.example/out", tag, WHEN - timedelta(days=2), "feed", "Out")
    undated = DiscoveredURL(f"https://{tag}.example/undated", tag)
    store.save_discovered(run_id, [inside, outside, undated])
    store.save_discovered(run_id, [DiscoveredURL(inside.url, tag)])  # seen again without hints: kept
    window = Window(WHEN - timedelta(hours=1), WHEN + timedelta(hours=1))
    assert store.discovered_in_window(tag, window) == [inside]
    assert store.discovered_in_window("other", window) == []


def test_an_archived_page_streams_its_record_location_and_no_body(store: Store, run_id: int, tag: str,
                                                                   tmp_path) -> None:
    from pipeline.archive import ArchiveStorage, RawArchiver, load_bodies

    url = f"https://{tag}.example/archived"
    store.save_discovered(run_id, [DiscoveredURL(url, tag, WHEN, "feed", "Archived")])
    storage = ArchiveStorage(str(tmp_path))
    archiver = RawArchiver(storage, run_id=run_id)
    fetched = page(url, b"<p>in a WARC file</p>")
    kept = archiver.keep([archiver.encode(tag, fetched)], store.known_raw_pages)
    (raw_id,) = store.save_raw_index(run_id, kept)
    assert store.known_raw_pages([(url, fetched.sha256), (url, "0" * 64)]) == {(url, fetched.sha256)}
    day = Window(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    [record] = list(store.iter_raw_pages(day, [tag]))
    assert (record.id, record.body, record.sha256) == (raw_id, None, fetched.sha256)
    assert record.location == kept.pages[0].location and record.location.file == kept.file
    assert record.hints.title == "Archived"
    assert load_bodies(storage, store.body_refs([raw_id])) == [fetched.body]
    [entry] = store.index_entries(kept.file.rsplit("/", 1)[0] + "/")
    assert (entry.key, entry.location, entry.sha256) == (str(raw_id), record.location, fetched.sha256)
    assert store.index_entries("file:///nowhere/") == []
    assert scalar(store, "SELECT records FROM archive_files WHERE url = :u", u=kept.file) == 1
