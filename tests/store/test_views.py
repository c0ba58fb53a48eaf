"""Downstream views: full-text search, per-source daily quality, the read-only role."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from pipeline.models import DiscoveredURL, Failure
from pipeline.store import Store
from tests.store.helpers import WHEN, article, item, page, rows, wire, words

SEARCH = ("SELECT url, ts_rank(search, q) AS rank FROM articles_current,"
          " websearch_to_tsquery('simple', :q) AS q WHERE search @@ q AND source = :s ORDER BY rank DESC")


def test_full_text_search_over_title_and_body(store: Store, run_id: int, tag: str) -> None:
    store.save_articles(run_id, [
        item(tag, article(f"https://{tag}.example/tax", wire(tag), title="Ministers agree global tax deal")),
        item(tag, article(f"https://{tag}.example/rain", words(40, "rain"), title="Heavy rain expected")),
    ])
    assert rows(store, SEARCH, q="heavy rain", s=tag) == []  # searchable once the run ends (refresh)
    store.refresh_derived()
    assert [u for u, _ in rows(store, SEARCH, q="minimum corporate rate", s=tag)] == [f"https://{tag}.example/tax"]
    assert [u for u, _ in rows(store, SEARCH, q="heavy rain", s=tag)] == [f"https://{tag}.example/rain"]
    assert rows(store, SEARCH, q="tax -geneva", s=tag) == []


def test_search_uses_the_gin_index(store: Store) -> None:
    """Search reads article_search's GIN index. The test tables are tiny, so the planner would rather walk
    every article and probe its vector: without plain scans it shows the plan it makes for a big table, where
    the GIN index finds the few matching articles first (bench/queries.py shows it on a year of articles)."""
    with store.engine.connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))
        conn.execute(sa.text("SET enable_indexscan = off"))
        plan = conn.execute(sa.text("EXPLAIN SELECT id FROM articles_current"
                                    " WHERE search @@ websearch_to_tsquery('simple', 'tax')")).scalars().all()
    assert "articles_search_idx" in "\n".join(plan)


def test_source_daily_quality(store: Store, run_id: int, tag: str) -> None:
    urls = [f"https://{tag}.example/{i}" for i in range(6)]
    store.save_discovered(run_id, [DiscoveredURL(u, tag, WHEN, "feed") for u in urls])
    store.save_raw_pages(run_id, [(tag, page(u, f"<p>{u}</p>".encode())) for u in urls[:5]])
    store.record_failures(run_id, [Failure(urls[5], tag, "fetch", "http_404"),
                                   Failure(urls[4], tag, "extract", "empty"),
                                   Failure(urls[3], tag, "extract", "empty")])
    leaky = words(100, "leak") + "\n\nPrevious Article\n\nSign up for our newsletter"
    store.save_articles(run_id, [
        item(tag, article(urls[0], words(100, f"{tag}a"))),
        item(tag, article(urls[1], leaky, published_at=None)),
        item(tag, article(urls[2], "Too short.")),
        item(tag, article(urls[3], "")),
        item(tag, article(urls[4], words(100, f"{tag}a"))),  # exact duplicate of urls[0]
    ])
    (row,) = rows(store, "SELECT day, fetched, fetched_ok, stored, failed, failed_by_reason, empty_bodies,"
                  " short_bodies, missing_dates, median_words, duplicate_share, boilerplate_leaks,"
                  " leaked_phrases"
                  " FROM source_daily_quality WHERE source = :s AND day = :d", s=tag, d=WHEN.date())
    assert row[:10] == (date(2026, 3, 2), 5, 5, 5, 0, {}, 1, 1, 1, 100.0)
    assert float(row[10]) == pytest.approx(0.2)
    assert (row[11], row[12]) == (1, {"Previous Article": 1, "Sign up for our newsletter": 1})
    (today,) = rows(store, "SELECT discovered, failed, failed_by_reason FROM source_daily_quality"
                    " WHERE source = :s AND day = (now() AT TIME ZONE 'UTC')::date", s=tag)
    assert today == (6, 3, {"http_404": 1, "empty": 2})


def test_reader_role_reads_views_only(store: Store, run_id: int, tag: str) -> None:
    store.save_articles(run_id, [item(tag, article(f"https://{tag}.example/r", words(30, "r")))])
    with store.engine.connect() as conn:
        conn.execute(sa.text("SET ROLE news_reader"))
        for view in ("articles_current", "stories", "story_outlets", "source_daily_quality"):
            conn.execute(sa.text(f"SELECT count(*) FROM {view}")).scalar()
        assert conn.execute(sa.text("SELECT count(*) FROM articles_current WHERE source = :s"),
                            {"s": tag}).scalar() == 1
        conn.rollback()
    for statement in ("SELECT count(*) FROM articles", "SELECT count(*) FROM raw_pages",
                      "INSERT INTO failures (source, url, stage, reason) VALUES ('x', 'x', 'x', 'x')",
                      "UPDATE articles SET title = 'hacked'", "DELETE FROM runs"):
        with store.engine.connect() as conn:
            conn.execute(sa.text("SET ROLE news_reader"))
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text(statement))
            conn.rollback()


def test_reader_role_cannot_log_in_by_default(store: Store) -> None:
    assert rows(store, "SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'news_reader'") == [
        (False, False)]


def test_quality_of_one_source_reads_that_source_only(store: Store) -> None:
    with store.engine.connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))  # tiny test tables: show the plan of a big table
        plan = "\n".join(conn.execute(sa.text(
            "EXPLAIN SELECT * FROM source_daily_quality WHERE source = 'times' ORDER BY day DESC LIMIT 14"))
            .scalars().all())
    assert "Seq Scan on articles" not in plan and "Seq Scan on raw_pages" not in plan
    assert "articles_source_fetched_idx" in plan
