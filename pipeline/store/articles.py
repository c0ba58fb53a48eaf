"""Articles: the columns declared once, and the batch merge by canonical URL (insert, revise, duplicates)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg2.extras

from pipeline import storable
from pipeline.errors import Reason, StoreDataError
from pipeline.models import ArticleInput, ExtractedArticle, Failure, SaveCounts, Stage, Window, utc
from pipeline.store.database import PAGE_SIZE, Cursor, Database, copy_lines, copy_text
from pipeline.store.near_duplicates import link_near_duplicates, sign

ARTICLES_LOCK = 7_361_011_002  # serialises `save_articles` so dedup and merge see a consistent table


@dataclass(frozen=True)
class Row:
    """What one article row is computed from: the input, its key (canonical URL) and exact-duplicate link."""

    item: ArticleInput
    key: str
    canonical_id: int | None

    @property
    def article(self) -> ExtractedArticle:
        return self.item.article


@dataclass(frozen=True)
class Column:
    """One column of `articles` written from an extracted article.

    revised: rewritten when a new version replaces the current one (the key and source never change);
    archived: copied to `article_revisions` with the version it belonged to;
    fingerprint: part of what makes a new version (content and metadata, not the extractor that made it).
    """

    name: str
    sql_type: str
    value: Callable[[Row], Any]
    revised: bool = True
    archived: bool = True
    fingerprint: bool = False


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters."""
    return text.replace("\x00", "")


@lru_cache(maxsize=8192)
def _content_hash(article: ExtractedArticle) -> str:
    """`article.content_hash`, computed once per article (several steps need it)."""
    return article.content_hash


# The article columns, declared once: every statement that writes, revises, archives or compares an
# article is built from this tuple. A new column is one entry here plus a migration adding it to
# `articles` (and to `article_revisions` when archived).
COLUMNS: tuple[Column, ...] = (
    Column("url", "text", lambda r: r.key, revised=False),
    Column("page_url", "text", lambda r: r.article.url, archived=False),
    Column("source", "text", lambda r: r.item.source, revised=False),
    Column("title", "text", lambda r: _no_nul(r.article.title), fingerprint=True),
    Column("body", "text", lambda r: _no_nul(r.article.body)),
    Column("published_at", "timestamptz", lambda r: r.article.published_at and utc(r.article.published_at),
           fingerprint=True),
    Column("date_signal", "text", lambda r: str(r.article.date_signal) if r.article.date_signal else None,
           fingerprint=True),
    Column("fetched_at", "timestamptz", lambda r: utc(r.item.fetched_at)),
    Column("authors", "text[]", lambda r: [_no_nul(name) for name in r.article.authors], fingerprint=True),
    Column("language", "text", lambda r: r.article.language, fingerprint=True),
    Column("word_count", "integer", lambda r: r.article.word_count),
    Column("content_hash", "text", lambda r: _content_hash(r.article), fingerprint=True),
    Column("extractor_version", "text", lambda r: r.article.extractor_version),
    Column("method", "text", lambda r: r.article.method),
    Column("raw_page_id", "bigint", lambda r: r.item.raw_page_id),
    Column("canonical_article_id", "bigint", lambda r: r.canonical_id, archived=False),
    Column("description", "text", lambda r: r.article.description and _no_nul(r.article.description),
           fingerprint=True),
)
REVISED = tuple(c for c in COLUMNS if c.revised)
ARCHIVED = tuple(c for c in COLUMNS if c.archived)
FINGERPRINT = tuple(c for c in COLUMNS if c.fingerprint)


def _names(columns: Sequence[Column], prefix: str = "") -> str:
    return ", ".join(prefix + c.name for c in columns)


INSERT_TARGET = f"articles (id, {_names(COLUMNS)}, first_seen_run, last_changed_run)"
REVISE = f"""
UPDATE articles a SET {", ".join(f"{c.name} = v.{c.name}" for c in REVISED)},
    last_changed_run = v.run_id, version = a.version + 1, updated_at = now()
FROM (VALUES %s) AS v(id, {_names(REVISED)}, run_id)
WHERE a.id = v.id
"""
REVISE_TEMPLATE = "(%s::bigint, " + ", ".join(f"%s::{c.sql_type}" for c in REVISED) + ", %s::bigint)"
ARCHIVE = f"""
INSERT INTO article_revisions (article_id, version, {_names(ARCHIVED)}, valid_from, superseded_by_run)
SELECT id, version, {_names(ARCHIVED)}, updated_at, %(run)s
FROM articles WHERE id = ANY(%(ids)s)
"""
EXISTING = f"SELECT url, id, fetched_at, {_names(FINGERPRINT)} FROM articles WHERE url = ANY(%s) FOR UPDATE"
RELEASE_DUPLICATES = """
WITH released AS (
    SELECT d.id, min(d.id) OVER (PARTITION BY d.content_hash) AS head
    FROM articles d JOIN articles c ON c.id = d.canonical_article_id
    WHERE c.id = ANY(%s) AND d.content_hash <> c.content_hash
)
UPDATE articles d SET canonical_article_id = nullif(r.head, d.id)
FROM released r WHERE d.id = r.id
RETURNING d.id, d.body, d.canonical_article_id
"""


class Articles(Database):
    """`articles` and `article_revisions`, and the near-duplicate clustering of each saved batch."""

    def known_urls(self, urls: Sequence[str]) -> set[str]:
        """The given URLs that already have an article (as canonical URL or as the page's URL)."""
        if not urls:
            return set()
        with self._transaction("look up known URLs") as cur:
            cur.execute("SELECT url FROM articles WHERE url = ANY(%(u)s)"
                        " UNION SELECT page_url FROM articles WHERE page_url = ANY(%(u)s)", {"u": list(urls)})
            found = {row[0] for row in cur.fetchall()}
        return found & set(urls)

    def articles_per_source(self, window: Window) -> dict[str, int]:
        """How many articles each source holds for the window (by published date, else fetch time)."""
        with self._transaction("count articles per source") as cur:
            cur.execute("SELECT source, count(*) FROM articles"
                        " WHERE coalesce(published_at, fetched_at) >= %(s)s"
                        " AND coalesce(published_at, fetched_at) < %(e)s GROUP BY source",
                        {"s": window.start, "e": window.end})
            return {source: count for source, count in cur.fetchall()}

    def save_articles(self, run_id: int | None, items: Sequence[ArticleInput]) -> SaveCounts:
        """Merge a batch by canonical URL in one transaction: insert, revise, link duplicates, cluster.

        Every value is made storable first (`pipeline.storable`); an article that still cannot be stored
        (a URL too long for the index) or that PostgreSQL refuses costs only itself: the batch is retried
        one article per transaction and the refused ones come back in `SaveCounts.failed`."""
        ready, failed = _storable_inputs(items)
        try:
            counts = self._save_batch(run_id, ready)
        except StoreDataError:
            if len(ready) <= 1:
                raise
            counts = SaveCounts(0, 0, 0, 0)
            for item in ready:
                try:
                    counts = _add_counts(counts, self._save_batch(run_id, [item]))
                except StoreDataError as exc:
                    failed.append(Failure(item.article.url, item.source, Stage.STORE, Reason.STORE_DATA,
                                          storable.detail(str(exc))))
        return replace(counts, failed=tuple(failed))

    def _save_batch(self, run_id: int | None, items: Sequence[ArticleInput]) -> SaveCounts:
        batch = _latest_per_key(items)
        if not batch:
            return SaveCounts(0, 0, 0, 0)
        with self._transaction("save articles") as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (ARTICLES_LOCK,))
            existing = _existing_articles(cur, list(batch))
            new = [k for k in batch if k not in existing]
            # a fetch older than the stored version never replaces it (concurrent runs, pages that change)
            changed = [k for k in batch if k in existing and existing[k][1] != _fingerprint(k, batch[k])
                       and utc(batch[k].fetched_at) >= existing[k][2]]
            ids = dict(zip(new, _allocate_ids(cur, len(new)), strict=False))
            ids.update({k: existing[k][0] for k in changed})
            targets = [(ids[k], batch[k].article.body, batch[k].signature) for k in batch if k in ids]
            with ThreadPoolExecutor(max_workers=1) as pool:  # sign while the server indexes the inserts
                signing = pool.submit(sign, targets)
                canonical = _exact_duplicates(cur, [(ids[k], batch[k].article) for k in batch if k in ids])
                _insert(cur, run_id, [_row(k, batch[k], ids[k], canonical) for k in new])
                _revise(cur, run_id, [_row(k, batch[k], ids[k], canonical) for k in changed])
                released = _relink_duplicates(cur, [ids[k] for k in changed])
                signatures = {aid: sig for aid, sig in signing.result().items() if aid not in canonical}
            signatures.update(sign([(aid, body, None) for aid, body in released]))
            link_near_duplicates(cur, [t[0] for t in targets] + [aid for aid, _ in released], signatures,
                                 {ids[k] for k in new})  # fresh ids: nothing stored to replace
        return _counts(batch, set(new), set(changed), {k for k in new if ids[k] in canonical})


# -- the steps of save_articles ------------------------------------------------------------------

def _storable_inputs(items: Sequence[ArticleInput]) -> tuple[list[ArticleInput], list[Failure]]:
    """The inputs with every value storable; those whose page URL cannot be stored as failures."""
    ready, failed = [], []
    for item in items:
        try:
            ready.append(replace(item, article=_storable(item.article, item.fetched_at)))
        except storable.UnstorableValue as exc:
            failed.append(Failure(item.article.url[:storable.MAX_URL_CHARS], item.source, Stage.STORE, exc.reason,
                                  storable.detail(str(exc))))
    return ready, failed


def _storable(article: ExtractedArticle, fetched_at: datetime) -> ExtractedArticle:
    """Text without NUL or lone surrogates, bounded lengths, a body whose tsvector fits, a sane date; an
    over-long rel=canonical is dropped (the page URL keys the article), an over-long page URL refused."""
    title = storable.bounded(article.title, storable.MAX_TITLE_CHARS) or ""
    body, _ = storable.searchable(title, storable.text(article.body))
    try:
        canonical = article.canonical_url and storable.url(article.canonical_url)
    except storable.UnstorableValue:
        canonical = None
    published = article.published_at
    dated = published is not None and not storable.date_problem(published, fetched_at)
    return replace(
        article, url=storable.url(article.url), title=title, body=body, canonical_url=canonical or None,
        authors=tuple(a for name in article.authors if (a := storable.bounded(name, storable.MAX_AUTHOR_CHARS))),
        description=storable.bounded(article.description, storable.MAX_DESCRIPTION_CHARS),
        language=storable.bounded(article.language, storable.MAX_LANGUAGE_CHARS),
        published_at=published if dated else None, date_signal=article.date_signal if dated else None)


def _add_counts(a: SaveCounts, b: SaveCounts) -> SaveCounts:
    per_source = dict(a.per_source)
    for name, c in b.per_source.items():
        per_source[name] = _add_counts(per_source[name], c) if name in per_source else c
    return SaveCounts(a.inserted + b.inserted, a.updated + b.updated, a.unchanged + b.unchanged,
                      a.duplicates + b.duplicates, per_source=per_source)


def _key(article: ExtractedArticle) -> str:
    return article.canonical_url or article.url


def _row(key: str, item: ArticleInput, article_id: int, canonical: dict[int, int]) -> tuple[int, Row]:
    return article_id, Row(item, key, canonical.get(article_id))


def _latest_per_key(items: Sequence[ArticleInput]) -> dict[str, ArticleInput]:
    """One input per canonical URL: the latest fetch wins (later in the batch on ties)."""
    batch: dict[str, ArticleInput] = {}
    for item in items:
        key = _key(item.article)
        if key not in batch or utc(item.fetched_at) >= utc(batch[key].fetched_at):
            batch[key] = item
    return batch


def _comparable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _fingerprint(key: str, item: ArticleInput) -> tuple:
    """The fingerprint columns' values of an input, as they would be stored."""
    row = Row(item, key, None)
    return tuple(_comparable(c.value(row)) for c in FINGERPRINT)


def _existing_articles(cur: Cursor, keys: list[str]) -> dict[str, tuple[int, tuple, datetime]]:
    """id, fingerprint and fetch time of the batch's articles already stored, locked for this transaction."""
    cur.execute(EXISTING, (keys,))
    return {url: (aid, tuple(_comparable(v) for v in values), fetched)
            for url, aid, fetched, *values in cur.fetchall()}


def _counts(batch: dict[str, ArticleInput], new: set[str], changed: set[str], dups: set[str]) -> SaveCounts:
    """Totals and per-source counts of one saved batch."""
    tally: dict[str, list[int]] = {}
    for key, item in batch.items():
        slot = 3 if key in dups else 0 if key in new else 1 if key in changed else 2
        tally.setdefault(item.source, [0, 0, 0, 0])[slot] += 1
    per_source = {source: SaveCounts(*values) for source, values in tally.items()}
    totals = [sum(values[i] for values in tally.values()) for i in range(4)]
    return SaveCounts(*totals, per_source=per_source)


def _allocate_ids(cur: Cursor, count: int) -> list[int]:
    if count == 0:
        return []
    cur.execute("SELECT nextval(pg_get_serial_sequence('articles', 'id'))"
                " FROM generate_series(1, %s)", (count,))
    return [row[0] for row in cur.fetchall()]


def _exact_duplicates(cur: Cursor, rows: list[tuple[int, ExtractedArticle]]) -> dict[int, int]:
    """article id -> id of the canonical article with the same non-empty body (oldest first)."""
    hashes = sorted({_content_hash(a) for _, a in rows if a.body.strip()})
    if not hashes:
        return {}
    cur.execute("SELECT content_hash, array_agg(id ORDER BY id) FROM articles"
                " WHERE content_hash = ANY(%s) AND canonical_article_id IS NULL"
                " GROUP BY content_hash", (hashes,))
    stored = {h: ids for h, ids in cur.fetchall()}
    first_in_batch: dict[str, int] = {}
    links: dict[int, int] = {}
    for article_id, article in sorted(rows, key=lambda r: r[0]):
        if not article.body.strip():
            continue
        digest = _content_hash(article)
        others = [i for i in stored.get(digest, []) if i != article_id]
        target = others[0] if others else first_in_batch.get(digest)
        if target is not None and target != article_id:
            links[article_id] = target
        else:
            first_in_batch.setdefault(digest, article_id)
    return links


def _insert(cur: Cursor, run_id: int | None, rows: list[tuple[int, Row]]) -> None:
    """COPY new articles in id order with their pre-allocated ids (foreign keys checked at the end)."""
    if rows:
        copy_lines(cur, INSERT_TARGET,
                   ("\t".join(copy_text(v) for v in (aid, *(c.value(row) for c in COLUMNS), run_id, run_id))
                    for aid, row in sorted(rows, key=lambda r: r[0])))


def _revise(cur: Cursor, run_id: int | None, rows: list[tuple[int, Row]]) -> None:
    """Move the current versions of changed articles to history, then write the new versions."""
    if not rows:
        return
    cur.execute(ARCHIVE, {"run": run_id, "ids": [aid for aid, _ in rows]})
    values = [(aid, *(c.value(row) for c in REVISED), run_id) for aid, row in rows]
    psycopg2.extras.execute_values(cur, REVISE, values, template=REVISE_TEMPLATE, page_size=PAGE_SIZE)


def _relink_duplicates(cur: Cursor, changed: list[int]) -> list[tuple[int, str]]:
    """Release the exact duplicates of articles whose body changed; return those that became canonical.

    The oldest released article of each body becomes canonical, the others point to it.
    """
    if not changed:
        return []
    cur.execute(RELEASE_DUPLICATES, (changed,))
    return [(aid, body) for aid, body, canonical in cur.fetchall() if canonical is None]
