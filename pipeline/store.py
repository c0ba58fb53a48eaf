"""The only module that speaks SQL: migrations, raw layer, articles, dedup, ledger, cache, boilerplate."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extras
import sqlalchemy as sa

from pipeline import dedup
from pipeline.errors import DatabaseUnavailable, StoreError
from pipeline.models import (
    CacheEntry,
    DiscoveredURL,
    ExtractedArticle,
    Failure,
    FetchedPage,
    PageHints,
    Window,
    utc,
)

MIGRATION_LOCK = 7_361_011_001  # pg_advisory_xact_lock key serialising `upgrade`
ARTICLES_LOCK = 7_361_011_002  # serialises `save_articles` so dedup and merge see a consistent table
PAGE_SIZE = 1000
# Rows per INSERT of raw pages: each row is a whole page, hex-escaped to twice its size in the SQL text,
# so 200 rows made one ~66 MB statement and +270 MB of peak RSS; 8 rows: +5 MB, and faster (bench/ingest.py).
RAW_PAGE_SIZE = 8

_CREDENTIALS = re.compile(r"(?P<prefix>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):(?P<secret>\S+)@")  # to last @
_PASSWORD_PARAM = re.compile(r"(?P<key>password=)[^&\s]*", re.IGNORECASE)
_DISCONNECT = (sa.exc.OperationalError, sa.exc.InterfaceError,
               psycopg2.OperationalError, psycopg2.InterfaceError)


@dataclass(frozen=True)
class ArticleInput:
    """One extracted article to save, with the raw page it came from."""

    source: str
    raw_page_id: int | None
    fetched_at: datetime
    article: ExtractedArticle
    signature: bytes | None = None  # optional `dedup.signature_bytes(body)` computed in a worker process


@dataclass(frozen=True)
class SaveCounts:
    """What `save_articles` did: new articles, new versions, no-ops, new exact duplicates."""

    inserted: int
    updated: int
    unchanged: int
    duplicates: int
    per_source: Mapping[str, SaveCounts] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class RawRecord:
    """A stored raw page with the discovery hints of its URL, for reprocessing."""

    id: int
    source: str
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    hints: PageHints


def mask_url(url: str) -> str:
    """The URL with any password replaced by `***` (safe for logs and error messages)."""
    return _PASSWORD_PARAM.sub(r"\g<key>***", _CREDENTIALS.sub(r"\g<prefix>:***@", url))


def normalise_url(url: str) -> str:
    """Use the psycopg2 driver for `postgresql://` and `postgres://` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def migrations_dir() -> Path:
    """The `sql/` directory: the repository's top level, else `pipeline/sql` when installed as data."""
    repo = Path(__file__).resolve().parent.parent / "sql"
    if repo.is_dir():
        return repo
    return Path(str(resources.files("pipeline") / "sql"))


def _first_line(exc: BaseException) -> str:
    """First line of the earliest driver error in the chain (not the failed rollback), masked."""
    while isinstance(exc.__context__, (sa.exc.SQLAlchemyError, psycopg2.Error)):
        exc = exc.__context__
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return mask_url(text[0] if text else type(orig).__name__)


def _json(value: Any) -> psycopg2.extras.Json:
    return psycopg2.extras.Json(value, dumps=lambda v: json.dumps(v, default=str, sort_keys=True))


class Store:
    """PostgreSQL access for the pipeline; implements the `HttpCache` protocol."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self._engine = engine
        self.masked_url = mask_url(url)

    @classmethod
    def open(cls, url: str, **engine_kw: Any) -> Store:
        """Create the engine and check that the database answers, or raise `DatabaseUnavailable`."""
        url = normalise_url(url)
        connect_args = {"connect_timeout": 10, "application_name": "news-pipeline",
                        "options": "-c timezone=UTC", **engine_kw.pop("connect_args", {})}
        try:
            engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **engine_kw)
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise StoreError(f"invalid database URL {mask_url(url)}: {_first_line(exc)}") from None
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except (sa.exc.SQLAlchemyError, psycopg2.Error) as exc:
            engine.dispose()
            raise DatabaseUnavailable(f"cannot connect to {mask_url(url)}: {_first_line(exc)}") from None
        return cls(engine, url)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate driver errors: lost connection -> DatabaseUnavailable, others -> StoreError."""
        try:
            yield
        except _DISCONNECT as exc:
            raise DatabaseUnavailable(f"{action}: database unavailable ({self.masked_url}): "
                                      f"{_first_line(exc)}") from exc
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise DatabaseUnavailable(f"{action}: connection lost ({self.masked_url})") from exc
            raise StoreError(f"{action} failed: {_first_line(exc)}") from exc
        except (sa.exc.SQLAlchemyError, psycopg2.Error) as exc:
            raise StoreError(f"{action} failed: {_first_line(exc)}") from exc

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Any]:
        """One transaction with a raw psycopg2 cursor (for execute_values); all or nothing."""
        with self._errors(action), self._engine.begin() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                yield cursor
            finally:
                if not cursor.connection.closed:
                    cursor.close()

    # -- migrations -------------------------------------------------------------------------------

    def upgrade(self, sql_dir: Path | None = None) -> list[str]:
        """Apply pending `NNN_*.sql` migrations in order, under an advisory lock; return their names."""
        files = sorted((sql_dir or migrations_dir()).glob("[0-9][0-9][0-9]_*.sql"))
        applied_now: list[str] = []
        with self._transaction("upgrade") as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                        "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            cur.execute("SELECT name FROM schema_migrations")
            done = {row[0] for row in cur.fetchall()}
            for path in files:
                if path.name in done:
                    continue
                text = path.read_text(encoding="utf-8")
                cur.execute(text)
                cur.execute("INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                            (path.name, hashlib.sha256(text.encode()).hexdigest()))
                applied_now.append(path.name)
        return applied_now

    # -- run ledger -------------------------------------------------------------------------------

    def begin_run(self, kind: str, window: Window | None, sources: Sequence[str], params: Mapping) -> int:
        """Open a run in the ledger and return its id."""
        with self._transaction("begin run") as cur:
            cur.execute("INSERT INTO runs (kind, window_start, window_end, sources, params) "
                        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                        (kind, window.start if window else None, window.end if window else None,
                         list(sources), _json(dict(params))))
            return int(cur.fetchone()[0])

    def end_run(self, run_id: int, status: str, stats: Mapping) -> None:
        """Close a run with its final status and summary statistics."""
        with self._transaction("end run") as cur:
            cur.execute("UPDATE runs SET status = %s, stats = %s, ended_at = now() WHERE id = %s",
                        (status, _json(dict(stats)), run_id))

    def run_stats(self, run_id: int) -> dict[str, Any]:
        """The ledger row of a run plus what it wrote (raw pages, articles, revisions, failures)."""
        with self._transaction("run stats") as cur:
            cur.execute("SELECT kind, status, started_at, ended_at, stats FROM runs WHERE id = %s", (run_id,))
            row = cur.fetchone()
            if row is None:
                raise StoreError(f"no run {run_id}")
            cur.execute(
                "SELECT (SELECT count(*) FROM raw_pages WHERE run_id = %(r)s),"
                " (SELECT count(*) FROM articles WHERE first_seen_run = %(r)s),"
                " (SELECT count(*) FROM article_revisions WHERE superseded_by_run = %(r)s)", {"r": run_id})
            raw, new, revised = cur.fetchone()
            cur.execute("SELECT reason, count(*) FROM failures WHERE run_id = %s GROUP BY reason", (run_id,))
            failures = dict(cur.fetchall())
        return {"run_id": run_id, "kind": row[0], "status": row[1], "started_at": row[2], "ended_at": row[3],
                "stats": row[4], "raw_pages": raw, "articles_new": new, "articles_revised": revised,
                "failures": failures}

    # -- discovery and raw layer ------------------------------------------------------------------

    def save_discovered(self, run_id: int | None, urls: Sequence[DiscoveredURL]) -> None:
        """Remember what discovery said about each URL (date signal, title): the hints for reprocessing."""
        rows = [(u.source, u.url, u.published_at and utc(u.published_at), u.date_signal, u.title,
                 run_id, run_id) for u in {(u.source, u.url): u for u in urls}.values()]
        if not rows:
            return
        with self._transaction("save discovered URLs") as cur:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO discovered_urls (source, url, published_at, date_signal, title, first_run_id,"
                " last_run_id) VALUES %s ON CONFLICT (source, url) DO UPDATE SET"
                " published_at = coalesce(EXCLUDED.published_at, discovered_urls.published_at),"
                " date_signal = coalesce(EXCLUDED.date_signal, discovered_urls.date_signal),"
                " title = coalesce(EXCLUDED.title, discovered_urls.title),"
                " last_seen_at = now(), last_run_id = EXCLUDED.last_run_id",
                rows, page_size=PAGE_SIZE)

    def discovered_in_window(self, source: str, window: Window) -> list[DiscoveredURL]:
        """URLs that earlier discovery runs saw for `source` with a date inside `window`."""
        with self._transaction("read discovered URLs") as cur:
            cur.execute("SELECT url, published_at, date_signal, title FROM discovered_urls"
                        " WHERE source = %(s)s AND published_at >= %(start)s AND published_at < %(end)s",
                        {"s": source, "start": window.start, "end": window.end})
            return [DiscoveredURL(url, source, published, signal, title)
                    for url, published, signal, title in cur.fetchall()]

    def save_raw_pages(self, run_id: int, pages: Sequence[tuple[str, FetchedPage]]) -> list[int]:
        """Store responses immutably (idempotent on url + sha256); return their ids in input order."""
        if not pages:
            return []
        rows = [(run_id, source, p.url, p.final_url, p.status, _json(dict(p.headers)),
                 psycopg2.Binary(p.body), p.encoding, p.sha256, utc(p.fetched_at)) for source, p in pages]
        keys = [(p.url, p.sha256) for _, p in pages]
        with self._transaction("save raw pages") as cur:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO raw_pages (run_id, source, url, final_url, status, headers, body, encoding,"
                " sha256, fetched_at) VALUES %s ON CONFLICT (url, sha256) DO NOTHING",
                rows, page_size=RAW_PAGE_SIZE)
            cur.execute("SELECT r.url, r.sha256, r.id FROM raw_pages r"
                        " JOIN unnest(%s::text[], %s::text[]) AS k(url, sha)"
                        " ON r.url = k.url AND r.sha256 = k.sha",
                        ([k[0] for k in keys], [k[1] for k in keys]))
            ids = {(url, sha): rid for url, sha, rid in cur.fetchall()}
        return [ids[key] for key in keys]

    def iter_raw_pages(self, window: Window, sources: Sequence[str] | None = None,
                       batch: int = 200) -> Iterator[RawRecord]:
        """Stream the latest successful (2xx) raw page per URL of the window, by keyset pagination on URL.

        A page is in the window when its URL's discovery date (`discovered_urls.published_at`) is in
        [start, end), or, when discovery gave no date, when the page was fetched in the window.
        """
        after = ""
        while True:
            with self._transaction("read raw pages") as cur:
                cur.execute(_RAW_PAGE_QUERY, {"after": after, "start": window.start, "end": window.end,
                                              "all": sources is None, "sources": list(sources or []),
                                              "limit": batch})
                rows = cur.fetchall()
            for row in rows:
                yield _raw_record(row)
            if len(rows) < batch:
                return
            after = rows[-1][2]

    # -- articles ---------------------------------------------------------------------------------

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

    def save_articles(self, run_id: int, items: Sequence[ArticleInput]) -> SaveCounts:
        """Merge a batch by canonical URL in one transaction: insert, revise, link duplicates, cluster."""
        batch = _latest_per_key(items)
        if not batch:
            return SaveCounts(0, 0, 0, 0)
        with self._transaction("save articles") as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (ARTICLES_LOCK,))
            existing = _existing_articles(cur, list(batch))
            new = [k for k in batch if k not in existing]
            changed = [k for k in batch if k in existing and existing[k][1] != _fingerprint(batch[k].article)]
            ids = dict(zip(new, _allocate_ids(cur, len(new)), strict=False))
            ids.update({k: existing[k][0] for k in changed})
            targets = [(ids[k], batch[k].article.body, batch[k].signature) for k in batch if k in ids]
            with ThreadPoolExecutor(max_workers=1) as pool:  # sign while the server indexes the inserts
                signing = pool.submit(_sign, targets)
                canonical = _exact_duplicates(cur, [(ids[k], batch[k].article) for k in batch if k in ids])
                _insert_articles(cur, run_id, [(ids[k], batch[k]) for k in new], canonical)
                _revise_articles(cur, run_id, [(ids[k], batch[k]) for k in changed], canonical)
                released = _relink_duplicates(cur, [ids[k] for k in changed])
                signatures = {aid: sig for aid, sig in signing.result().items() if aid not in canonical}
            signatures.update(_sign([(aid, body, None) for aid, body in released]))
            _link_near_duplicates(cur, [t[0] for t in targets] + [aid for aid, _ in released], signatures)
        return _counts(batch, set(new), set(changed), {k for k in new if ids[k] in canonical})

    def record_failures(self, run_id: int, failures: Sequence[Failure]) -> None:
        """Record per-URL failures with their stage and reason."""
        if not failures:
            return
        rows = [(run_id, f.source, f.url, f.stage, f.reason, f.detail) for f in failures]
        with self._transaction("record failures") as cur:
            psycopg2.extras.execute_values(
                cur, "INSERT INTO failures (run_id, source, url, stage, reason, detail) VALUES %s", rows,
                page_size=PAGE_SIZE)

    # -- HTTP cache (HttpCache protocol) ----------------------------------------------------------

    def lookup(self, url: str) -> CacheEntry | None:
        """Validators and failure count of a feed or sitemap, if it was fetched before."""
        with self._transaction("read HTTP cache") as cur:
            cur.execute("SELECT etag, last_modified, last_status, consecutive_failures FROM http_cache"
                        " WHERE url = %s", (url,))
            row = cur.fetchone()
        return CacheEntry(*row) if row else None

    def record(self, url: str, *, etag: str | None, last_modified: str | None, status: int | None,
               failed: bool) -> None:
        """Remember a fetch: failures count up and keep validators; a success resets the counter."""
        with self._transaction("write HTTP cache") as cur:
            cur.execute(_CACHE_UPSERT, {"url": url, "etag": etag, "lm": last_modified, "status": status,
                                        "failed": failed})

    # -- learned boilerplate ----------------------------------------------------------------------

    def learned_lines(self, source: str) -> frozenset[str]:
        """The enabled learned boilerplate lines of a source."""
        with self._transaction("read learned boilerplate") as cur:
            cur.execute("SELECT line FROM source_boilerplate WHERE source = %s AND enabled", (source,))
            return frozenset(row[0] for row in cur.fetchall())

    def save_learned_lines(self, source: str, lines: Mapping[str, float]) -> None:
        """Upsert learned lines with their scores; a line switched off stays off."""
        if not lines:
            return
        with self._transaction("save learned boilerplate") as cur:
            psycopg2.extras.execute_values(
                cur, "INSERT INTO source_boilerplate (source, line, score) VALUES %s"
                " ON CONFLICT (source, line) DO UPDATE SET score = EXCLUDED.score, updated_at = now()",
                [(source, line, float(score)) for line, score in lines.items()])

    def set_learned_lines_enabled(self, source: str, enabled: bool,
                                  lines: Iterable[str] | None = None) -> int:
        """Switch learned lines of a source off (or back on): all of them, or only `lines`. Returns rows."""
        with self._transaction("toggle learned boilerplate") as cur:
            cur.execute("UPDATE source_boilerplate SET enabled = %(on)s, updated_at = now()"
                        " WHERE source = %(s)s AND (%(all)s OR line = ANY(%(lines)s))",
                        {"on": enabled, "s": source, "all": lines is None, "lines": list(lines or [])})
            return cur.rowcount


# -- SQL of the bigger statements -------------------------------------------------------------------

_RAW_PAGE_QUERY = """
SELECT DISTINCT ON (r.url) r.id, r.source, r.url, r.final_url, r.status, r.headers, r.body, r.fetched_at,
       d.published_at, d.date_signal, d.title
FROM raw_pages r
LEFT JOIN discovered_urls d ON d.source = r.source AND d.url = r.url
WHERE r.url > %(after)s
  AND r.status BETWEEN 200 AND 299
  AND (%(all)s OR r.source = ANY(%(sources)s))
  AND coalesce(d.published_at, r.fetched_at) >= %(start)s
  AND coalesce(d.published_at, r.fetched_at) < %(end)s
ORDER BY r.url, r.fetched_at DESC, r.id DESC
LIMIT %(limit)s
"""

# Near-duplicate candidates: one primary-key probe of article_band_keys per (band, key), never a scan.
_CANDIDATE_QUERY = """
SELECT DISTINCT q.owner, b.article_id
FROM unnest(%s::bigint[], %s::smallint[], %s::bigint[]) AS q(owner, band, key)
CROSS JOIN LATERAL (
    SELECT k.article_id FROM article_band_keys k WHERE k.band = q.band AND k.key = q.key
    OFFSET 0  -- a fence: always probe the primary key per band key, never hash-join the whole table
) b
WHERE b.article_id <> q.owner
"""

# Every member (and its signature) of the clusters the given articles belong to.
_MEMBERSHIP_QUERY = (
    "SELECT m.article_id, m.cluster_id, s.signature FROM near_duplicate_members m"
    " LEFT JOIN article_minhash s ON s.article_id = m.article_id"
    " WHERE m.cluster_id IN (SELECT cluster_id FROM near_duplicate_members WHERE article_id = ANY(%s))")

_CACHE_UPSERT = """
INSERT INTO http_cache AS c (url, etag, last_modified, last_status, consecutive_failures, last_success_at)
VALUES (%(url)s,
        CASE WHEN %(failed)s THEN NULL ELSE %(etag)s END,
        CASE WHEN %(failed)s THEN NULL ELSE %(lm)s END,
        %(status)s,
        CASE WHEN %(failed)s THEN 1 ELSE 0 END,
        CASE WHEN %(failed)s THEN NULL ELSE now() END)
ON CONFLICT (url) DO UPDATE SET
    etag = CASE WHEN %(failed)s THEN c.etag
                WHEN %(status)s = 304 THEN coalesce(%(etag)s, c.etag) ELSE %(etag)s END,
    last_modified = CASE WHEN %(failed)s THEN c.last_modified
                         WHEN %(status)s = 304 THEN coalesce(%(lm)s, c.last_modified) ELSE %(lm)s END,
    last_status = %(status)s,
    consecutive_failures = CASE WHEN %(failed)s THEN c.consecutive_failures + 1 ELSE 0 END,
    last_success_at = CASE WHEN %(failed)s THEN c.last_success_at ELSE now() END,
    updated_at = now()
"""

_ARTICLE_COLUMNS = ("page_url, source, title, body, published_at, date_signal, fetched_at, authors, language,"
                    " word_count, content_hash, extractor_version, method, raw_page_id, canonical_article_id")

_REVISE = """
UPDATE articles a SET page_url = v.page_url, title = v.title, body = v.body, published_at = v.published_at,
    date_signal = v.date_signal, fetched_at = v.fetched_at, authors = v.authors, language = v.language,
    word_count = v.word_count, content_hash = v.content_hash, extractor_version = v.extractor_version,
    method = v.method, raw_page_id = v.raw_page_id, canonical_article_id = v.canonical_article_id,
    last_changed_run = v.run_id, version = a.version + 1, updated_at = now()
FROM (VALUES %s) AS v(id, page_url, source, title, body, published_at, date_signal, fetched_at, authors,
                      language, word_count, content_hash, extractor_version, method, raw_page_id,
                      canonical_article_id, run_id)
WHERE a.id = v.id
"""

_REVISE_TEMPLATE = ("(%s::bigint, %s, %s, %s, %s, %s::timestamptz, %s, %s::timestamptz, %s::text[], %s,"
                    " %s::integer, %s, %s, %s, %s::bigint, %s::bigint, %s::bigint)")

_RELEASE_DUPLICATES = """
WITH released AS (
    SELECT d.id, min(d.id) OVER (PARTITION BY d.content_hash) AS head
    FROM articles d JOIN articles c ON c.id = d.canonical_article_id
    WHERE c.id = ANY(%s) AND d.content_hash <> c.content_hash
)
UPDATE articles d SET canonical_article_id = nullif(r.head, d.id)
FROM released r WHERE d.id = r.id
RETURNING d.id, d.body, d.canonical_article_id
"""

_ARCHIVE = """
INSERT INTO article_revisions (article_id, version, url, source, title, body, published_at, date_signal,
    fetched_at, authors, language, word_count, content_hash, extractor_version, method, raw_page_id,
    valid_from, superseded_by_run)
SELECT id, version, url, source, title, body, published_at, date_signal, fetched_at, authors, language,
       word_count, content_hash, extractor_version, method, raw_page_id, updated_at, %(run)s
FROM articles WHERE id = ANY(%(ids)s)
"""


# -- save_articles steps (module functions so each reads as one step) ---------------------------------

def _key(article: ExtractedArticle) -> str:
    return article.canonical_url or article.url


def _latest_per_key(items: Sequence[ArticleInput]) -> dict[str, ArticleInput]:
    """One input per canonical URL: the latest fetch wins (later in the batch on ties)."""
    batch: dict[str, ArticleInput] = {}
    for item in items:
        key = _key(item.article)
        if key not in batch or utc(item.fetched_at) >= utc(batch[key].fetched_at):
            batch[key] = item
    return batch


@lru_cache(maxsize=8192)
def _content_hash(article: ExtractedArticle) -> str:
    """`article.content_hash`, computed once per article (several steps need it)."""
    return article.content_hash


def _counts(batch: dict[str, ArticleInput], new: set[str], changed: set[str], dups: set[str]) -> SaveCounts:
    """Totals and per-source counts of one saved batch."""
    tally: dict[str, list[int]] = {}
    for key, item in batch.items():
        slot = 3 if key in dups else 0 if key in new else 1 if key in changed else 2
        tally.setdefault(item.source, [0, 0, 0, 0])[slot] += 1
    per_source = {source: SaveCounts(*values) for source, values in tally.items()}
    totals = [sum(values[i] for values in tally.values()) for i in range(4)]
    return SaveCounts(*totals, per_source=per_source)


def _fingerprint(article: ExtractedArticle) -> tuple:
    """What makes a new version: content and metadata, not the extractor that produced it."""
    published = utc(article.published_at) if article.published_at else None
    return (article.title, _content_hash(article), published, article.date_signal, tuple(article.authors),
            article.language)


def _existing_articles(cur: Any, keys: list[str]) -> dict[str, tuple[int, tuple]]:
    """id and fingerprint of the batch's articles already stored, locked for this transaction."""
    cur.execute("SELECT url, id, title, content_hash, published_at, date_signal, authors, language"
                " FROM articles WHERE url = ANY(%s) FOR UPDATE", (keys,))
    return {url: (aid, (title, chash, published, signal, tuple(authors), language))
            for url, aid, title, chash, published, signal, authors, language in cur.fetchall()}


def _allocate_ids(cur: Any, count: int) -> list[int]:
    if count == 0:
        return []
    cur.execute("SELECT nextval(pg_get_serial_sequence('articles', 'id'))"
                " FROM generate_series(1, %s)", (count,))
    return [row[0] for row in cur.fetchall()]


def _exact_duplicates(cur: Any, rows: list[tuple[int, ExtractedArticle]]) -> dict[int, int]:
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


def _article_values(article_id: int, item: ArticleInput, canonical: dict[int, int]) -> tuple:
    """Column values of one article (NUL characters, which PostgreSQL text cannot hold, removed)."""
    a = item.article
    return (article_id, a.url, item.source, _no_nul(a.title), _no_nul(a.body),
            a.published_at and utc(a.published_at), a.date_signal, utc(item.fetched_at),
            [_no_nul(name) for name in a.authors], a.language, a.word_count, _content_hash(a),
            a.extractor_version, a.method, item.raw_page_id, canonical.get(article_id))


def _no_nul(text: str) -> str:
    return text.replace("\x00", "")


def _insert_articles(cur: Any, run_id: int, rows: list[tuple[int, ArticleInput]],
                     canonical: dict[int, int]) -> None:
    """COPY new articles in batch order with their pre-allocated ids (foreign keys checked at the end)."""
    values = [(aid, _key(item.article), *_article_values(aid, item, canonical)[1:], run_id, run_id)
              for aid, item in sorted(rows, key=lambda r: r[0])]
    if values:
        _copy(cur, f"articles (id, url, {_ARTICLE_COLUMNS}, first_seen_run, last_changed_run)",
              ("\t".join(_copy_text(v) for v in row) for row in values))


# (character, escape) in COPY text format; backslash first. Chained str.replace: str.translate with a
# dict table is about 20x slower on long non-ASCII bodies (0.41 vs 0.02 ms per 4.5 kB body, bench/ingest.py).
_COPY_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _copy_text(value: Any) -> str:
    """One value in COPY text format (NULL, escaped text, array literal, ISO timestamp, number)."""
    if value is None:
        return "\\N"
    if isinstance(value, list):
        quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        value = "{" + ",".join(quoted) + "}"
    elif isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    for char, escape in _COPY_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    return text


def _revise_articles(cur: Any, run_id: int, rows: list[tuple[int, ArticleInput]],
                     canonical: dict[int, int]) -> None:
    """Move the current versions of changed articles to history, then write the new versions."""
    if not rows:
        return
    cur.execute(_ARCHIVE, {"run": run_id, "ids": [aid for aid, _ in rows]})
    values = [(*_article_values(aid, item, canonical), run_id) for aid, item in rows]
    psycopg2.extras.execute_values(cur, _REVISE, values, template=_REVISE_TEMPLATE, page_size=PAGE_SIZE)


def _relink_duplicates(cur: Any, changed: list[int]) -> list[tuple[int, str]]:
    """Release the exact duplicates of articles whose body changed; return those that became canonical.

    The oldest released article of each body becomes canonical, the others point to it.
    """
    if not changed:
        return []
    cur.execute(_RELEASE_DUPLICATES, (changed,))
    return [(aid, body) for aid, body, canonical in cur.fetchall() if canonical is None]


def _sign(rows: list[tuple[int, str, bytes | None]]) -> dict[int, Any]:
    """MinHash signatures of the bodies long enough to cluster, by article id (pure CPU work).

    A signature the caller computed (`ArticleInput.signature`, e.g. in an extraction worker) is reused.
    """
    signatures = {}
    for aid, body, given in sorted(rows, key=lambda r: r[0]):
        sig = dedup.signature(body) if given is None else dedup.from_bytes(given) if given else None
        if sig is not None:
            signatures[aid] = sig
    return signatures


def _link_near_duplicates(cur: Any, ids: list[int], signatures: dict[int, Any]) -> None:
    """Replace the articles' band keys, find candidates by LSH band keys (index lookups), join clusters."""
    cur.execute("DELETE FROM article_band_keys WHERE article_id = ANY(%s)", (ids,))
    cur.execute("DELETE FROM article_minhash WHERE article_id = ANY(%s)", (ids,))
    if not signatures:
        return
    keys = {aid: dedup.band_keys(sig) for aid, sig in signatures.items()}
    candidates, known, plan = _cluster_candidates(cur, keys)
    plan.signatures.update(signatures)
    seen: dict[tuple[int, int], list[int]] = {}
    for aid, sig in signatures.items():
        if aid not in plan.cluster_of:
            pool = candidates.get(aid, set()) | {c for bk in keys[aid] for c in seen.get(bk, [])}
            plan.join_best(aid, sig, dedup.ranked_matches(sig, {c: known[c] for c in pool if c in known}))
        for band_key in keys[aid]:
            seen.setdefault(band_key, []).append(aid)
        known[aid] = sig
    _write_signatures(cur, signatures, keys)
    plan.write(cur)


def _cluster_candidates(cur: Any, keys: dict[int, list[tuple[int, int]]]
                        ) -> tuple[dict[int, set[int]], dict[int, Any], _ClusterPlan]:
    """Stored articles sharing a band key with each new one, their signatures, and their clusters."""
    triples = [(aid, band, key) for aid, pairs in keys.items() for band, key in pairs]
    owners, bands, values = ([t[i] for t in triples] for i in range(3))
    cur.execute(_CANDIDATE_QUERY, (_int_array(owners), _int_array(bands), _int_array(values)))
    candidates: dict[int, set[int]] = {}
    for owner, other in cur.fetchall():
        candidates.setdefault(owner, set()).add(other)
    found = sorted({c for cs in candidates.values() for c in cs})
    cur.execute("SELECT article_id, signature FROM article_minhash WHERE article_id = ANY(%s)", (found,))
    known = {aid: dedup.from_bytes(sig) for aid, sig in cur.fetchall()}
    cur.execute(_MEMBERSHIP_QUERY, (found + list(keys),))
    plan = _ClusterPlan()
    for aid, cluster, signature in cur.fetchall():
        plan.add_member(aid, cluster, None if signature is None else dedup.from_bytes(signature))
    return candidates, known, plan


def _int_array(values: Iterable[int]) -> str:
    """An integer array literal: one short string parameter instead of thousands of adapted list items."""
    return "{" + ",".join(map(str, values)) + "}"


def _write_signatures(cur: Any, signatures: dict[int, Any], keys: dict[int, list[tuple[int, int]]]) -> None:
    """COPY the signatures and band keys (many small rows: COPY is several times faster than INSERT)."""
    _copy(cur, "article_minhash (article_id, num_perm, signature)",
          (f"{aid}\t{dedup.NUM_PERM}\t\\\\x{dedup.to_bytes(sig).hex()}" for aid, sig in signatures.items()))
    _copy(cur, "article_band_keys (band, key, article_id)",
          (f"{band}\t{key}\t{aid}" for aid, pairs in keys.items() for band, key in pairs))


def _copy(cur: Any, target: str, lines: Iterable[str]) -> None:
    """COPY text-format lines (values already escaped) into `target` ("table (columns)")."""
    buffer = io.StringIO("\n".join(lines) + "\n")
    cur.copy_expert(f"COPY {target} FROM STDIN", buffer)


class _ClusterPlan:
    """Cluster changes decided in memory for one batch, written at the end in two statements.

    An article joins a cluster only when it is alike every member with a signature, not merely one of
    them: A~B and B~C never put A and C in one story when A and C are not alike (no chaining).
    """

    def __init__(self) -> None:
        self.cluster_of: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}  # cluster id (stored, or temporary negative) -> articles
        self.signatures: dict[int, Any] = {}  # of the members and of the batch, by article
        self.new_clusters: dict[int, int] = {}  # temporary (negative) id -> representative article
        self.new_members: list[tuple[int, int, float, int | None]] = []

    def add_member(self, article_id: int, cluster: int, signature: Any | None) -> None:
        """Record a stored membership (and the member's signature, when it has one)."""
        self.cluster_of[article_id] = cluster
        self.members.setdefault(cluster, []).append(article_id)
        if signature is not None:
            self.signatures[article_id] = signature

    def join_best(self, article_id: int, signature: Any, matches: list[dedup.Match]) -> None:
        """Join the cluster of the most similar candidate whose every member the article is alike."""
        for match in matches:
            cluster = self.cluster_of.get(match.candidate)
            others = [m for m in self.members.get(cluster, []) if m != match.candidate] if cluster is not None else []
            if all(self._alike(signature, other) for other in others):
                self.join(article_id, match)
                return

    def _alike(self, signature: Any, article_id: int) -> bool:
        other = self.signatures.get(article_id)
        return other is None or dedup.similarity(signature, other) >= dedup.THRESHOLD  # None: nothing to judge

    def join(self, article_id: int, match: dedup.Match) -> None:
        """Put the article in its match's cluster, opening one (represented by the match) if needed."""
        cluster = self.cluster_of.get(match.candidate)
        if cluster is None:
            cluster = -(len(self.new_clusters) + 1)
            self.new_clusters[cluster] = match.candidate
            self.cluster_of[match.candidate] = cluster
            self.members[cluster] = [match.candidate]
            self.new_members.append((match.candidate, cluster, 1.0, None))
        self.cluster_of[article_id] = cluster
        self.members[cluster].append(article_id)
        self.new_members.append((article_id, cluster, match.similarity, match.candidate))

    def write(self, cur: Any) -> None:
        if not self.new_members:
            return
        real: dict[int, int] = {}
        if self.new_clusters:
            cur.execute("SELECT nextval(pg_get_serial_sequence('near_duplicate_clusters', 'id'))"
                        " FROM generate_series(1, %s)", (len(self.new_clusters),))
            allocated = [r[0] for r in cur.fetchall()]
            real = dict(zip(sorted(self.new_clusters, reverse=True), allocated, strict=True))
            psycopg2.extras.execute_values(
                cur, "INSERT INTO near_duplicate_clusters (id, representative_article_id) VALUES %s",
                [(real[t], rep) for t, rep in self.new_clusters.items()])
        psycopg2.extras.execute_values(
            cur, "INSERT INTO near_duplicate_members (article_id, cluster_id, similarity, matched_article_id)"
            " VALUES %s", [(aid, real.get(cid, cid), sim, m) for aid, cid, sim, m in self.new_members])


def _raw_record(row: tuple) -> RawRecord:
    rid, source, url, final_url, status, headers, body, fetched_at, published_at, date_signal, title = row
    hints = PageHints(published_at=published_at, date_signal=date_signal, title=title, fetched_at=fetched_at)
    return RawRecord(rid, source, url, final_url, status, dict(headers or {}), bytes(body), fetched_at, hints)
