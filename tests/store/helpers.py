"""Builders and query helpers shared by the store tests."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline.models import ArticleInput, ExtractedArticle, FetchedPage
from pipeline.store import Store

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

WIRE_STORY = (
    "Finance ministers from twenty countries agreed on Monday to a new framework for taxing large "
    "multinational companies, ending years of negotiations that had stalled over digital services. "
    "The agreement sets a minimum corporate rate and gives countries where customers live a share of "
    "the profits, officials said after the two-day meeting in Geneva. Several ministers called the "
    "deal historic, while campaigners said the minimum rate was too low to stop profit shifting. The "
    "framework must still be approved by national parliaments, a process expected to take two years. "
    "Business groups welcomed the clarity but warned that the rules on digital services remained complex."
)



def wire(tag: str) -> str:
    """The wire story with a sentence unique to one test (tests share a database; bodies must not collide)."""
    return f"{WIRE_STORY} The reference of this copy is {tag}."


def page(url: str, body: bytes = b"<html><body>hello</body></html>", *, status: int = 200,
         fetched_at: datetime = WHEN) -> FetchedPage:
    return FetchedPage(url=url, final_url=url, status=status, headers={"content-type": "text/html"},
                       body=body, fetched_at=fetched_at, encoding="utf-8")


def article(url: str, body: str, *, title: str = "A title", published_at: datetime | None = WHEN,
            canonical_url: str | None = None, language: str = "en") -> ExtractedArticle:
    return ExtractedArticle(url=url, title=title, body=body, authors=("Jane Doe",), published_at=published_at,
                            date_signal="feed", language=language, canonical_url=canonical_url,
                            extractor_version="test-1", method="trafilatura")


def item(source: str, art: ExtractedArticle, *, raw_page_id: int | None = None,
         fetched_at: datetime = WHEN) -> ArticleInput:
    return ArticleInput(source=source, raw_page_id=raw_page_id, fetched_at=fetched_at, article=art)


def words(n: int, seed: str) -> str:
    """A body of `n` distinct-ish words, different for each seed."""
    return " ".join(f"{seed}{i}" for i in range(n))


def scalar(store: Store, sql: str, **params: object) -> object:
    with store.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def rows(store: Store, sql: str, **params: object) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params).all()]


def run_stats(store: Store, run_id: int) -> dict[str, object]:
    """The ledger row of a run plus what it wrote (raw pages, new articles, failures by reason)."""
    [(status, stats)] = rows(store, "SELECT status, stats FROM runs WHERE id = :r", r=run_id)
    return {"status": status, "stats": stats,
            "raw_pages": scalar(store, "SELECT count(*) FROM raw_pages WHERE run_id = :r", r=run_id),
            "articles_new": scalar(store, "SELECT count(*) FROM articles WHERE first_seen_run = :r", r=run_id),
            "failures": dict(rows(store, "SELECT reason, count(*) FROM failures WHERE run_id = :r GROUP BY reason",
                                  r=run_id))}
