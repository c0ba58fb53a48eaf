"""Articles: merge by canonical URL, revisions, exact duplicates, ledger, failures, cache, boilerplate."""

from __future__ import annotations

from datetime import timedelta

from pipeline.models import Failure, SaveCounts, Window
from pipeline.store import Store
from tests.store.helpers import WHEN, article, item, page, rows, run_stats, scalar, wire, words

SNAPSHOT = ("SELECT id, url, page_url, source, title, body, published_at, authors, language, word_count,"
            " content_hash, extractor_version, method, raw_page_id, canonical_article_id, version,"
            " updated_at, xmin::text FROM articles WHERE source = :s ORDER BY url")


def test_same_batch_twice_gives_the_same_rows(store: Store, run_id: int, tag: str) -> None:
    batch = [item(tag, article(f"https://{tag}.example/{i}", words(60, f"b{i}x"))) for i in range(4)]
    assert store.save_articles(run_id, batch) == SaveCounts(4, 0, 0, 0)
    before = rows(store, SNAPSHOT, s=tag)
    assert store.save_articles(run_id, batch) == SaveCounts(0, 0, 4, 0)
    assert rows(store, SNAPSHOT, s=tag) == before  # xmin too: an unchanged refetch writes nothing


def test_articles_are_keyed_by_canonical_url(store: Store, run_id: int, tag: str) -> None:
    canonical = f"https://{tag}.example/story"
    first = article(f"{canonical}?utm_source=feed", words(40, "c"), canonical_url=canonical)
    second = article(f"https://m.{tag}.example/story", words(40, "c"), canonical_url=canonical)
    store.save_articles(run_id, [item(tag, first)])
    assert store.save_articles(run_id, [item(tag, second)]).unchanged == 1
    assert rows(store, "SELECT url, page_url FROM articles WHERE source = :s", s=tag) == [
        (canonical, f"{canonical}?utm_source=feed")]
    assert store.known_urls([canonical, f"{canonical}?utm_source=feed", "https://unknown.example/"]) == {
        canonical, f"{canonical}?utm_source=feed"}


def test_edit_after_publication_keeps_history(store: Store, run_id: int, tag: str) -> None:
    url = f"https://{tag}.example/edited"
    original = article(url, words(50, "orig"), title="First headline")
    (raw1, raw2) = store.save_raw_pages(run_id, [(tag, page(url, b"v1")), (tag, page(url, b"v2"))])
    store.save_articles(run_id, [item(tag, original, raw_page_id=raw1)])
    later = store.begin_run("test", None, [tag], {})
    edited = article(url, words(50, "orig") + " Correction: an earlier version misspelled a name.",
                     title="Updated headline")
    refetch = item(tag, edited, raw_page_id=raw2, fetched_at=WHEN + timedelta(hours=5))
    counts = store.save_articles(later, [refetch])
    assert counts == SaveCounts(0, 1, 0, 0)
    assert rows(store, "SELECT title, version, raw_page_id, last_changed_run FROM articles WHERE url = :u",
                u=url) == [("Updated headline", 2, raw2, later)]
    assert rows(store, "SELECT r.title, r.version, r.raw_page_id, r.superseded_by_run, r.body"
                " FROM article_revisions r JOIN articles a ON a.id = r.article_id WHERE a.url = :u",
                u=url) == [("First headline", 1, raw1, later, original.body)]
    assert store.save_articles(later, [item(tag, edited, raw_page_id=raw2)]) == SaveCounts(0, 0, 1, 0)
    assert scalar(store, "SELECT count(*) FROM article_revisions r JOIN articles a ON a.id = r.article_id"
                  " WHERE a.url = :u", u=url) == 1
    assert scalar(store, "SELECT version FROM articles_current WHERE url = :u", u=url) == 2


def test_exact_duplicate_is_linked_not_dropped(store: Store, run_id: int, tag: str) -> None:
    body = words(80, f"{tag}dup")
    first = article(f"https://{tag}-a.example/1", body)
    copy = article(f"https://{tag}-b.example/copy", body, title="Other title")
    counts = store.save_articles(run_id, [item(f"{tag}-a", first), item(f"{tag}-b", copy)])
    assert counts == SaveCounts(1, 0, 0, 1)
    (first_id,) = rows(store, "SELECT id FROM articles WHERE url = :u", u=first.url)[0]
    assert scalar(store, "SELECT canonical_article_id FROM articles WHERE url = :u", u=copy.url) == first_id
    current = rows(store, "SELECT id, duplicate_urls, duplicate_sources FROM articles_current"
                   " WHERE content_hash = :h", h=first.content_hash)
    assert current == [(first_id, [copy.url], [f"{tag}-b"])]
    later = article(f"https://{tag}-c.example/again", body)
    assert store.save_articles(run_id, [item(f"{tag}-c", later)]).duplicates == 1
    assert scalar(store, "SELECT canonical_article_id FROM articles WHERE url = :u", u=later.url) == first_id


def test_empty_bodies_are_not_exact_duplicates_of_each_other(store: Store, run_id: int, tag: str) -> None:
    empties = [item(tag, article(f"https://{tag}.example/e{i}", "")) for i in range(2)]
    assert store.save_articles(run_id, empties) == SaveCounts(2, 0, 0, 0)


def test_latest_fetch_wins_inside_one_batch(store: Store, run_id: int, tag: str) -> None:
    url = f"https://{tag}.example/twice"
    old = item(tag, article(url, words(30, "old")), fetched_at=WHEN)
    new = item(tag, article(url, words(30, "new")), fetched_at=WHEN + timedelta(minutes=5))
    assert store.save_articles(run_id, [new, old]) == SaveCounts(1, 0, 0, 0)
    assert scalar(store, "SELECT body FROM articles WHERE url = :u", u=url) == words(30, "new")


def test_failures_are_recorded_with_stage_and_reason(store: Store, run_id: int, tag: str) -> None:
    store.record_failures(run_id, [
        Failure(f"https://{tag}.example/404", tag, "fetch", "http_404", "Not Found"),
        Failure(f"https://{tag}.example/x", tag, "extract", "empty", "")])
    assert rows(store, "SELECT stage, reason, detail, run_id FROM failures WHERE source = :s ORDER BY id",
                s=tag) == [("fetch", "http_404", "Not Found", run_id), ("extract", "empty", "", run_id)]
    assert run_stats(store, run_id)["failures"] == {"http_404": 1, "empty": 1}


def test_run_ledger(store: Store, tag: str) -> None:
    window = Window(WHEN, WHEN + timedelta(days=1))
    run = store.begin_run("ingest", window, [tag, "other"], {"refetch": False, "at": WHEN})
    store.save_articles(run, [item(tag, article(f"https://{tag}.example/l", words(30, "l")))])
    store.end_run(run, "success", {"stored": 1})
    assert rows(store, "SELECT kind, window_start, window_end, sources, params, status, stats,"
                " ended_at IS NOT NULL FROM runs WHERE id = :r", r=run) == [
        ("ingest", window.start, window.end, [tag, "other"], {"refetch": False, "at": WHEN.isoformat(" ")},
         "success", {"stored": 1}, True)]
    stats = run_stats(store, run)
    assert (stats["status"], stats["articles_new"], stats["stats"]) == ("success", 1, {"stored": 1})


def test_http_cache_counts_failures_and_keeps_validators_on_304(store: Store, tag: str) -> None:
    url = f"https://{tag}.example/feed.xml"
    assert store.lookup(url) is None
    store.record(url, etag='"v1"', last_modified="Mon, 02 Mar 2026 09:00:00 GMT", status=200, failed=False)
    store.record(url, etag=None, last_modified=None, status=503, failed=True)
    store.record(url, etag=None, last_modified=None, status=None, failed=True)
    entry = store.lookup(url)
    assert (entry.etag, entry.last_status, entry.consecutive_failures) == ('"v1"', None, 2)
    store.record(url, etag=None, last_modified=None, status=304, failed=False)
    entry = store.lookup(url)
    assert (entry.etag, entry.last_modified, entry.last_status, entry.consecutive_failures) == (
        '"v1"', "Mon, 02 Mar 2026 09:00:00 GMT", 304, 0)
    store.record(url, etag='"v2"', last_modified=None, status=200, failed=False)
    assert (store.lookup(url).etag, store.lookup(url).last_modified) == ('"v2"', None)


def test_learned_boilerplate_is_reversible(store: Store, tag: str) -> None:
    store.save_learned_lines(tag, {"Share this story": 0.9, "Most read": 0.8})
    assert store.learned_lines(tag) == {"Share this story", "Most read"}
    assert store.set_learned_lines_enabled(tag, False, ["Most read"]) == 1
    store.save_learned_lines(tag, {"Most read": 0.95})  # relearning does not switch it back on
    assert store.learned_lines(tag) == {"Share this story"}
    store.set_learned_lines_enabled(tag, False)
    assert store.learned_lines(tag) == frozenset()
    store.set_learned_lines_enabled(tag, True)
    assert store.learned_lines(tag) == {"Share this story", "Most read"}
    assert scalar(store, "SELECT score FROM source_boilerplate WHERE source = :s AND line = 'Most read'",
                  s=tag) == 0.95


def test_awkward_text_round_trips(store: Store, run_id: int, tag: str) -> None:
    body = 'Back\\slash, tab\there, "quotes", {braces}, \\N, caf\u00e9 \U0001F600\n\nSecond\r\nparagraph.'
    authors = ('O"Brien, Pat', "Back\\slash", "{x}", "NULL")
    stored = article(f"https://{tag}.example/awkward", body + "\x00")
    stored = type(stored)(**{**stored.__dict__, "authors": authors, "title": "Tab\tand\nnewline"})
    store.save_articles(run_id, [item(tag, stored)])
    assert rows(store, "SELECT body, authors, title FROM articles WHERE url = :u", u=stored.url) == [
        (body, list(authors), "Tab\tand\nnewline")]


def test_duplicates_are_released_when_their_canonical_changes(store: Store, run_id: int, tag: str) -> None:
    body = wire(tag)
    first, copy = article(f"https://{tag}-a.example/1", body), article(f"https://{tag}-b.example/1", body)
    store.save_articles(run_id, [item(f"{tag}-a", first), item(f"{tag}-b", copy)])
    edited = article(first.url, body + " Updated: the meeting ended late on Monday night.")
    assert store.save_articles(run_id, [item(f"{tag}-a", edited)]) == SaveCounts(0, 1, 0, 0)
    current = rows(store, "SELECT url, duplicate_urls FROM articles_current WHERE url IN (:a, :b)"
                   " ORDER BY url", a=first.url, b=copy.url)
    assert current == [(first.url, []), (copy.url, [])]
    assert scalar(store, "SELECT count(DISTINCT story_id) FROM articles_current WHERE url IN (:a, :b)",
                  a=first.url, b=copy.url) == 1  # still one story: near-duplicates


def test_duplicates_of_an_article_that_becomes_a_duplicate_are_released(
        store: Store, run_id: int, tag: str) -> None:
    a, b, c = (f"https://{tag}.example/{n}" for n in "abc")
    store.save_articles(run_id, [item(tag, article(a, words(50, f"{tag}one"))),
                                 item(tag, article(b, words(50, f"{tag}two"))),
                                 item(tag, article(c, words(50, f"{tag}two")))])
    store.save_articles(run_id, [item(tag, article(b, words(50, f"{tag}one")))])  # b now repeats a
    (a_id,) = rows(store, "SELECT id FROM articles WHERE url = :u", u=a)[0]
    links = rows(store, "SELECT url, canonical_article_id FROM articles WHERE source = :s ORDER BY url",
                 s=tag)
    assert links == [(a, None), (b, a_id), (c, None)]  # c keeps b's old body: it is canonical now


def test_counts_per_source(store: Store, run_id: int, tag: str) -> None:
    body = words(40, f"{tag}shared")
    batch = [item(f"{tag}-a", article(f"https://{tag}-a.example/1", body)),
             item(f"{tag}-b", article(f"https://{tag}-b.example/1", body)),
             item(f"{tag}-b", article(f"https://{tag}-b.example/2", words(40, f"{tag}own")))]
    counts = store.save_articles(run_id, batch)
    assert counts == SaveCounts(2, 0, 0, 1)
    assert counts.per_source == {f"{tag}-a": SaveCounts(1, 0, 0, 0), f"{tag}-b": SaveCounts(1, 0, 0, 1)}
    assert store.save_articles(run_id, batch[1:]).per_source == {f"{tag}-b": SaveCounts(0, 0, 2, 0)}


def test_articles_per_source_counts_the_window(store: Store, run_id: int, tag: str) -> None:
    undated = article(f"https://{tag}-b.example/u", words(30, f"{tag}u"), published_at=None)
    old = article(f"https://{tag}-a.example/2", words(30, f"{tag}2"), published_at=WHEN - timedelta(days=3))
    new = article(f"https://{tag}-a.example/1", words(30, f"{tag}1"))
    store.save_articles(run_id, [item(f"{tag}-a", new), item(f"{tag}-a", old), item(f"{tag}-b", undated)])
    counts = store.articles_per_source(Window(WHEN - timedelta(hours=1), WHEN + timedelta(hours=1)))
    assert (counts.get(f"{tag}-a"), counts.get(f"{tag}-b")) == (1, 1)


def test_description_is_stored_revised_archived_and_exposed(store: Store, run_id: int, tag: str) -> None:
    """`description` was added by one entry in store.articles.COLUMNS plus migration 007."""
    from dataclasses import replace

    url = f"https://{tag}.example/lead"
    first = replace(article(url, words(50, "lead")), description="Ministers agree a framework.")
    assert store.save_articles(run_id, [item(tag, first)]) == SaveCounts(1, 0, 0, 0)
    assert store.save_articles(run_id, [item(tag, first)]) == SaveCounts(0, 0, 1, 0)
    edited = replace(first, description="Ministers agree a new framework\x00 after two years.")
    assert store.save_articles(run_id, [item(tag, edited)]) == SaveCounts(0, 1, 0, 0)  # part of the fingerprint
    assert rows(store, "SELECT description, version FROM articles_current WHERE source = :s", s=tag) == [
        ("Ministers agree a new framework after two years.", 2)]
    assert rows(store, "SELECT r.description, r.version FROM article_revisions r JOIN articles a"
                       " ON a.id = r.article_id WHERE a.source = :s", s=tag) == [("Ministers agree a framework.", 1)]
    none = article(f"https://{tag}.example/no-lead", words(50, "nolead"))
    store.save_articles(run_id, [item(tag, none)])
    assert scalar(store, "SELECT description FROM articles WHERE url = :u", u=none.url) is None
