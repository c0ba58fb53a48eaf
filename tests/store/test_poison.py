"""A bad item costs only itself in storage: hostile values stored clean, a refused row fails alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

import pipeline.storable as storable_module
from pipeline import storable
from pipeline.errors import DatabaseUnavailable, Reason, StoreDataError
from pipeline.models import DateSignal, DiscoveredURL, FetchedPage
from pipeline.store import Store
from tests.store.helpers import WHEN, article, item, page, rows, scalar, wire, words

WORD_LIST = " ".join(f"w{i:06d}x{i * 7919 % 100003}" for i in range(150_000))  # ~150k distinct words


def test_a_word_list_page_is_stored_with_a_bounded_body_beside_the_others(store: Store, run_id: int,
                                                                          tag: str) -> None:
    """150k distinct words overflow PostgreSQL's tsvector (1 MiB): today the batch of 5 is lost."""
    items = [item(tag, article(f"https://{tag}.example/{i}", wire(f"{tag}-{i}"))) for i in range(4)]
    items.append(item(tag, article(f"https://{tag}.example/list", WORD_LIST, title="A list")))
    counts = store.save_articles(run_id, items)
    assert (counts.inserted, counts.failed) == (5, ())
    stored = scalar(store, "SELECT length(body) FROM articles WHERE url = :u", u=f"https://{tag}.example/list")
    assert 0 < stored < len(WORD_LIST)  # type: ignore[operator]


def test_a_title_of_150k_words_is_bounded(store: Store, run_id: int, tag: str) -> None:
    counts = store.save_articles(run_id, [item(tag, article(f"https://{tag}.example/t", wire(tag), title=WORD_LIST))])
    assert counts.inserted == 1
    assert scalar(store, "SELECT length(title) FROM articles WHERE url = :u",
                  u=f"https://{tag}.example/t") == storable.MAX_TITLE_CHARS


def test_a_row_postgresql_refuses_fails_alone_and_is_not_database_unavailable(
        store: Store, run_id: int, tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the edge's cleaning, a lone surrogate in a body cannot be stored: the batch is retried row by row."""
    monkeypatch.setattr(storable_module, "text", lambda value: value)
    items = [item(tag, article(f"https://{tag}.example/{i}", wire(f"{tag}-{i}"))) for i in range(4)]
    bad = wire(f"{tag}-nul") + " \ud800 end"
    items.insert(2, item(tag, article(f"https://{tag}.example/nul", bad, title="surrogate")))
    counts = store.save_articles(run_id, items)
    assert counts.inserted == 4
    [failure] = counts.failed
    assert (failure.url, failure.reason, failure.stage) == (f"https://{tag}.example/nul", Reason.STORE_DATA, "store")
    with pytest.raises(StoreDataError) as caught:  # alone, the typed data error: never "database unavailable"
        store.save_articles(run_id, [items[2]])
    assert not isinstance(caught.value, DatabaseUnavailable)


def test_nul_and_surrogates_in_every_article_field_are_removed(store: Store, run_id: int, tag: str) -> None:
    art = article(f"https://{tag}.example/n\x00", wire(tag) + " \ud800tail\x00", title="T\x00i\udfffe")
    art = art.__class__(**{**art.__dict__, "description": "d\x00", "authors": ("A\x00", "\ud800"),
                           "language": "e\x00n"})
    counts = store.save_articles(run_id, [item(tag, art)])
    assert counts.inserted == 1
    [(title, body, authors, language)] = rows(store, "SELECT title, body, authors, language FROM articles"
                                              " WHERE url = :u", u=f"https://{tag}.example/n")
    assert (title, authors, language) == ("Tie", ["A"], "en")
    assert body.endswith(" tail")


def test_an_over_long_page_url_is_that_articles_failure(store: Store, run_id: int, tag: str) -> None:
    long_url = f"https://{tag}.example/" + "a" * 2800
    counts = store.save_articles(run_id, [item(tag, article(long_url, wire(f"{tag}-long"))),
                                          item(tag, article(f"https://{tag}.example/ok", wire(f"{tag}-ok")))])
    assert counts.inserted == 1
    assert [f.reason for f in counts.failed] == [Reason.URL_TOO_LONG]


def test_an_over_long_canonical_url_falls_back_to_the_page_url(store: Store, run_id: int, tag: str) -> None:
    url = f"https://{tag}.example/c"
    counts = store.save_articles(run_id, [item(tag, article(url, wire(tag), canonical_url=url + "/" + "c" * 3000))])
    assert counts.inserted == 1 and scalar(store, "SELECT count(*) FROM articles WHERE url = :u", u=url) == 1


def test_a_header_with_a_nul_byte_does_not_drop_the_raw_batch(store: Store, run_id: int, tag: str) -> None:
    """Today: `save raw pages failed: unsupported Unicode escape sequence`, 0 of 6 raw pages."""
    pages = [(tag, page(f"https://{tag}.example/{i}", f"<p>{i}</p>".encode())) for i in range(5)]
    bad = FetchedPage(url=f"https://{tag}.example/bad", final_url=f"https://{tag}.example/bad\x00", status=200,
                      headers={"content-type": "text/html", "x-evil": "a\x00b", "x\x00name": "v"},
                      body=b"<p>bad</p>", fetched_at=WHEN, encoding="utf-8")
    ids = store.save_raw_pages(run_id, [*pages, (tag, bad)])
    assert len(set(ids)) == 6
    assert scalar(store, "SELECT headers->>'x-evil' FROM raw_pages WHERE url = :u", u=bad.url) == "ab"


def test_discovered_urls_too_long_for_the_index_fail_alone(store: Store, run_id: int, tag: str) -> None:
    """Today a 2,800-character URL fails `discovered_urls_pkey` and the whole run."""
    long_url = f"https://{tag}.example/" + "x" * 2800
    good = [DiscoveredURL(f"https://{tag}.example/{i}", tag, WHEN, DateSignal.FEED, f"T\x00{i}") for i in range(3)]
    failures = store.save_discovered(run_id, [*good, DiscoveredURL(long_url, tag, WHEN, DateSignal.FEED)])
    assert [f.reason for f in failures] == [Reason.URL_TOO_LONG]
    assert scalar(store, "SELECT count(*) FROM discovered_urls WHERE source = :s", s=tag) == 3
    assert scalar(store, "SELECT title FROM discovered_urls WHERE url = :u", u=good[0].url) == "T0"


def test_an_older_fetch_never_replaces_the_current_version(store: Store, run_id: int, tag: str) -> None:
    """Concurrent runs of a changing page: the later fetch is current whichever run saves first."""
    url = f"https://{tag}.example/changing"
    newer = item(tag, article(url, wire(f"{tag}-v2")), fetched_at=WHEN + timedelta(minutes=5))
    older = item(tag, article(url, wire(f"{tag}-v1")), fetched_at=WHEN)
    store.save_articles(run_id, [newer])
    counts = store.save_articles(run_id, [older])
    assert (counts.updated, counts.unchanged) == (0, 1)
    assert scalar(store, "SELECT body FROM articles WHERE url = :u", u=url) == wire(f"{tag}-v2")
    assert scalar(store, "SELECT version FROM articles WHERE url = :u", u=url) == 1


def test_many_articles_with_one_bad_row_keep_the_good_ones(store: Store, run_id: int, tag: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storable_module, "text", lambda value: value)
    items = [item(tag, article(f"https://{tag}.example/{i}", words(50, f"{tag}b{i}x"))) for i in range(30)]
    items.append(item(tag, article(f"https://{tag}.example/nul", words(50, f"{tag}nul") + " \ud800")))
    counts = store.save_articles(run_id, items)
    assert (counts.inserted, len(counts.failed)) == (30, 1)


def test_four_concurrent_runs_of_a_changing_page_leave_the_latest_fetch_current(database_url: str,
                                                                                 tag: str) -> None:
    """Four runs fetch four bodies of one page and save them at once, in whatever order the database takes
    them: the current version is always the latest fetch, the others are history or never written."""
    import threading

    url = f"https://{tag}.example/live"
    for attempt in range(3):
        bodies = [item(tag, article(url, wire(f"{tag}-{attempt}-v{v}")),
                       fetched_at=WHEN + timedelta(days=attempt, minutes=v)) for v in range(4)]
        barrier = threading.Barrier(4)

        def save(one: object, barrier: threading.Barrier = barrier) -> None:
            with Store.open(database_url) as own:
                run = own.begin_run("test", None, [tag], {})
                barrier.wait()
                own.save_articles(run, [one])  # type: ignore[list-item]

        threads = [threading.Thread(target=save, args=(b,)) for b in reversed(bodies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with Store.open(database_url) as check:
            assert scalar(check, "SELECT body FROM articles WHERE url = :u", u=url) == wire(f"{tag}-{attempt}-v3")


def test_a_raw_index_row_postgresql_refuses_is_kept_bare_and_the_batch_indexed(
        store: Store, run_id: int, tag: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the edge's header cleaning, a NUL reaches jsonb: the batch is indexed row by row, the refused
    row kept with placeholder headers (the WARC record holds the real ones), every page indexed."""
    from pipeline.archive import ArchiveStorage, RawArchiver
    from pipeline.store.raw import UNSTORABLE_HEADERS

    monkeypatch.setattr(storable_module, "headers", dict)
    archiver = RawArchiver(ArchiveStorage(str(tmp_path)), run_id=run_id)
    pages = [page(f"https://{tag}.example/{i}", f"<p>{i}</p>".encode()) for i in range(4)]
    pages.append(FetchedPage(url=f"https://{tag}.example/nul", final_url=f"https://{tag}.example/nul", status=200,
                             headers={"content-type": "text/html", "x-evil": "a\x00b"}, body=b"<p>nul</p>",
                             fetched_at=WHEN, encoding="utf-8"))
    kept = archiver.keep([archiver.encode(tag, p) for p in pages], store.known_raw_pages)
    ids = store.save_raw_index(run_id, kept)
    assert len(set(ids)) == 5
    assert scalar(store, "SELECT headers->>'x-news-pipeline-unstorable' FROM raw_pages WHERE url = :u",
                  u=pages[-1].url) == UNSTORABLE_HEADERS["x-news-pipeline-unstorable"]
    assert scalar(store, "SELECT headers->>'content-type' FROM raw_pages WHERE url = :u", u=pages[0].url) == (
        "text/html")
