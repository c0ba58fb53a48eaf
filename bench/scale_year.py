"""Fill a database with a generated year of news (deterministic, bulk-loaded in SQL) for the query benchmark.

The schema comes from the project's own migrations (`Store.upgrade`, optionally only up to `--upto`); the rows
are generated server-side (INSERT ... SELECT over generate_series, hash-based pseudo-randomness: the same
arguments give the same rows). The year looks like issue 18's: 8% exact duplicates, 11% of articles in
near-duplicate clusters (~46 per 1,000 articles), 3% revised, ~2% undated, several languages, ~2% bodies with
leaked boilerplate, raw pages (WARC index rows), discovered URLs and failures.

    .venv/bin/python bench/scale_year.py --articles 1000000 --sources 200 --days 365 \
        --db postgresql://postgres@127.0.0.1:5432/queries_after_1m [--upto 010] [--create]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.store import Store, migrations_dir  # noqa: E402

START = "2025-03-03T00:00:00Z"  # first day of the generated year (UTC)
CHUNK = 100_000  # articles per INSERT statement (bounded memory, progress lines)
LANGUAGES = ("en", "en", "en", "en", "en", "en", "de", "fr", "fr", "es", "es", "it", "pt", "nl", "sv", "pl")
LEAKS = ("Read more", "Share this article", "Advertisement", "Sign up for our newsletter", "Previous Article")
# Function words take the top ranks; real news words sit at ranks 1001-1100, where real text has them (a few
# percent of articles each), so that everyday searches ("corporate tax") are as selective as on real news.
FUNCTION_WORDS = ("the of and to in a is that for on was with he it as at by said from his an be has are have "
                  "but were not this who they had been their after its").split()
NEWS_WORDS = ("new first two year government people minister president police court market tax corporate deal "
              "election economy prices rates bank energy climate health school city state war talks agreement "
              "report company shares growth inflation budget parliament vote trade workers strike storm flood "
              "fire football league championship season club coach player match final record study research "
              "university data security attack border migration housing rent water power oil gas wind solar "
              "transport rail airport flight ministers agree global summit leaders council mayor union "
              "hospital").split()
NEWS_RANK = 1001

# Pseudo-random numbers in [0, 1) from (id, stream): deterministic whatever the plan or execution order.
FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.u(i bigint, k integer) RETURNS double precision LANGUAGE sql IMMUTABLE AS
$$ SELECT (hashint8extended(i, k) & 2147483647)::double precision / 2147483648.0 $$;
"""

SETUP = """
CREATE TABLE gen_vocab (rank integer PRIMARY KEY, word text NOT NULL);
INSERT INTO gen_vocab SELECT ordinality, w FROM unnest(%(function)s::text[]) WITH ORDINALITY AS t(w, ordinality);
INSERT INTO gen_vocab SELECT %(news_rank)s - 1 + ordinality, w
FROM unnest(%(news)s::text[]) WITH ORDINALITY AS t(w, ordinality);
INSERT INTO gen_vocab
SELECT n, 'x' || string_agg(substr('bcdfghjklmnprstvwz', 1 + (hashint8extended(n, s) & 1023)::int %% 18, 1)
                     || substr('aeiouy', 1 + (hashint8extended(n, s + 7) & 1023)::int %% 6, 1), '' ORDER BY s)
FROM generate_series(1, 30000) n,
     generate_series(1, 2 + (n %% 3)) s
WHERE n NOT IN (SELECT rank FROM gen_vocab)
GROUP BY n;
-- Paragraphs of 40-90 Zipf-distributed words (rank ~ log-uniform), and titles of 5-11 words.
CREATE TABLE gen_paragraph (id integer PRIMARY KEY, words integer NOT NULL, text text NOT NULL);
INSERT INTO gen_paragraph
SELECT p, count(*),
       initcap(left(string_agg(v.word, ' ' ORDER BY w), 1)) || substr(string_agg(v.word, ' ' ORDER BY w), 2) || '.'
FROM generate_series(0, 49999) p
CROSS JOIN LATERAL generate_series(1, 40 + (hashint8extended(p, 11) & 1023)::int %% 51) w
JOIN gen_vocab v ON v.rank = 1 + floor(exp(pg_temp.u(p * 100 + w, 12) * ln(30000)))::int
GROUP BY p;
CREATE TABLE gen_title (id integer PRIMARY KEY, text text NOT NULL);
INSERT INTO gen_title
SELECT t, initcap(string_agg(v.word, ' ' ORDER BY w))
FROM generate_series(0, 49999) t
CROSS JOIN LATERAL generate_series(1, 5 + (hashint8extended(t, 21) & 1023)::int %% 7) w
JOIN gen_vocab v ON v.rank = 1 + floor(exp(pg_temp.u(t * 100 + w, 22) * ln(3000)))::int
GROUP BY t;
CREATE TABLE gen_source (n integer PRIMARY KEY, name text NOT NULL, language text NOT NULL);
INSERT INTO gen_source
SELECT n, 'src' || lpad(n::text, 3, '0'), (%(langs)s::text[])[1 + n %% %(nlangs)s]
FROM generate_series(0, %(sources)s - 1) n;
-- Roles: dup (8%%, exact copy of the latest earlier original), near (6.4%%, near-duplicate of the latest
-- earlier cluster representative candidate), rep (25%% candidates; those with a member become clusters), orig.
CREATE TABLE gen_article (
    id bigint PRIMARY KEY, role text NOT NULL, day integer NOT NULL, source integer NOT NULL,
    content bigint, rep bigint);
INSERT INTO gen_article (id, role, day, source)
SELECT i,
       CASE WHEN pg_temp.u(i, 1) < 0.08 AND i > 1 THEN 'dup' WHEN pg_temp.u(i, 1) < 0.144 AND i > 1 THEN 'near'
            WHEN pg_temp.u(i, 1) < 0.40 THEN 'rep' ELSE 'orig' END,
       ((i - 1) * %(days)s / %(articles)s)::int,
       floor(%(sources)s * power(pg_temp.u(i, 2), 1.4))::int
FROM generate_series(1, %(articles)s) i;
UPDATE gen_article g SET content = x.content, rep = x.rep
FROM (SELECT id,
             max(id) FILTER (WHERE role IN ('orig', 'rep')) OVER w AS content,
             max(id) FILTER (WHERE role = 'rep') OVER w AS rep
      FROM gen_article WINDOW w AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) x
WHERE g.id = x.id;
UPDATE gen_article SET role = 'orig'
WHERE (role = 'dup' AND content IS NULL) OR (role = 'near' AND rep IS NULL);
UPDATE gen_article SET content = id WHERE role IN ('orig', 'rep');
UPDATE gen_article SET content = rep WHERE role = 'near';
ANALYZE gen_article;
"""

# Bodies: 3-11 paragraphs of the article's content seed; a near-duplicate replaces the last one; ~2% end
# with a leaked boilerplate line; 0.1% are empty and 0.5% short (originals only).
ARTICLES = """
INSERT INTO articles (id, url, page_url, source, title, body, published_at, date_signal, fetched_at, authors,
                      language, word_count, content_hash, extractor_version, method, raw_page_id,
                      canonical_article_id, first_seen_run, last_changed_run, created_at, updated_at, version,
                      description)
SELECT g.id, b.url, b.url, s.name, t.text, b.body,
       CASE WHEN pg_temp.u(g.id, 5) < 0.02 THEN NULL ELSE b.at END,
       CASE WHEN pg_temp.u(g.id, 5) < 0.02 THEN NULL WHEN pg_temp.u(g.id, 6) < 0.7 THEN 'json-ld' ELSE 'feed' END,
       b.fetched, CASE WHEN pg_temp.u(g.id, 7) < 0.6 THEN ARRAY['Author ' || (g.id %% 997)] ELSE '{}' END,
       CASE WHEN pg_temp.u(g.id, 8) < 0.01 THEN NULL ELSE s.language END,
       b.words, encode(sha256(convert_to(b.body, 'UTF8')), 'hex'), 'bench-1', 'trafilatura', g.id,
       CASE WHEN g.role = 'dup' AND b.words > 0 THEN g.content END,
       g.day + 1, g.day + 1, b.fetched, b.fetched + CASE WHEN pg_temp.u(g.id, 9) < 0.03 THEN interval '3 hours'
                                                        ELSE interval '0' END,
       CASE WHEN pg_temp.u(g.id, 9) < 0.03 THEN 2 ELSE 1 END,
       CASE WHEN pg_temp.u(g.id, 10) < 0.3 THEN left(b.body, 160) END
FROM gen_article g
JOIN gen_source s ON s.n = g.source
JOIN gen_title t ON t.id = (hashint8extended(g.content, 30) & 65535) %% 50000
CROSS JOIN LATERAL (
    SELECT %(start)s::timestamptz + g.day * interval '1 day' + pg_temp.u(g.id, 3) * interval '20 hours' AS at
) d
CROSS JOIN LATERAL (
    SELECT 'https://' || s.name || '.example/' || to_char(d.at AT TIME ZONE 'UTC', 'YYYY/MM/DD') || '/story-' || g.id
               AS url,
           d.at AS at,
           d.at + pg_temp.u(g.id, 4) * interval '3 hours' AS fetched,
           CASE WHEN e.kind = 'empty' THEN '' WHEN e.kind = 'short' THEN t.text || '.'
                ELSE p.body || CASE WHEN pg_temp.u(g.content, 13) < 0.02
                                    THEN E'\n\n' || (%(leaks)s::text[])[1 + (g.content %% %(nleaks)s)] ELSE '' END
           END AS body,
           CASE WHEN e.kind = 'empty' THEN 0 WHEN e.kind = 'short' THEN array_length(string_to_array(t.text, ' '), 1)
                ELSE p.words + CASE WHEN pg_temp.u(g.content, 13) < 0.02
                                    THEN array_length(string_to_array(
                                             (%(leaks)s::text[])[1 + (g.content %% %(nleaks)s)], ' '), 1)
                                    ELSE 0 END
           END AS words
    FROM (SELECT CASE WHEN pg_temp.u(g.content, 14) < 0.001 THEN 'empty'
                      WHEN pg_temp.u(g.content, 14) < 0.006 THEN 'short' ELSE 'full' END AS kind) e,
         LATERAL (
        SELECT string_agg(q.text, E'\n\n' ORDER BY k) AS body, sum(q.words)::int AS words
        FROM generate_series(1, 3 + (hashint8extended(g.content, 15) & 1023)::int %% 9) k
        JOIN gen_paragraph q ON q.id = CASE
            WHEN g.role = 'near' AND k = 3 + (hashint8extended(g.content, 15) & 1023)::int %% 9
            THEN (hashint8extended(g.id, 16) & 65535) %% 50000
            ELSE (hashint8extended(g.content * 16 + k, 17) & 65535) %% 50000 END
    ) p
) b
WHERE g.id BETWEEN %(lo)s AND %(hi)s
"""

AFTER_ARTICLES = """
SELECT setval(pg_get_serial_sequence('articles', 'id'), %(articles)s);
-- The first version of each revised article (its current version is 2).
INSERT INTO article_revisions (article_id, version, url, source, title, body, published_at, date_signal,
                               fetched_at, authors, language, word_count, content_hash, extractor_version, method,
                               raw_page_id, valid_from, valid_to, superseded_by_run, description)
SELECT id, 1, url, source, title, left(body, greatest(length(body) - 40, 0)), published_at, date_signal,
       fetched_at - interval '3 hours', authors, language, greatest(word_count - 6, 0), md5(body), extractor_version,
       method, NULL, created_at, updated_at, last_changed_run, description
FROM articles WHERE version = 2;
-- Near-duplicate clusters: one per representative candidate that has members.
INSERT INTO near_duplicate_clusters (id, representative_article_id, created_at)
SELECT row_number() OVER (ORDER BY rep), rep, min(a.created_at)
FROM gen_article g JOIN articles a ON a.id = g.id
WHERE g.role = 'near' GROUP BY rep;
SELECT setval(pg_get_serial_sequence('near_duplicate_clusters', 'id'), (SELECT max(id) FROM near_duplicate_clusters));
INSERT INTO near_duplicate_members (article_id, cluster_id, similarity, matched_article_id, added_at)
SELECT c.representative_article_id, c.id, 1.0, NULL, c.created_at FROM near_duplicate_clusters c
UNION ALL
SELECT g.id, c.id, (0.5 + 0.45 * pg_temp.u(g.id, 18))::real, g.rep, a.created_at
FROM gen_article g JOIN near_duplicate_clusters c ON c.representative_article_id = g.rep
JOIN articles a ON a.id = g.id
WHERE g.role = 'near';
"""

# MinHash signatures (64 uint32 values) and 14 LSH band keys of every signed article (>= 20 words, not an
# exact duplicate): the values are made up, the sizes and the index the write path probes are real.
SIGNATURES = """
INSERT INTO article_minhash (article_id, num_perm, signature)
SELECT id, 64, decode(repeat(md5(id::text) || md5((id * 7)::text), 8), 'hex')
FROM articles WHERE word_count >= 20 AND canonical_article_id IS NULL AND id BETWEEN %(lo)s AND %(hi)s;
INSERT INTO article_band_keys (band, key, article_id)
SELECT b, hashint8extended(CASE WHEN g.role = 'near' AND b < 4 THEN g.rep ELSE a.id END, b),  a.id
FROM articles a JOIN gen_article g ON g.id = a.id CROSS JOIN generate_series(0, 13) b
WHERE a.word_count >= 20 AND a.canonical_article_id IS NULL AND a.id BETWEEN %(lo)s AND %(hi)s;
"""

# One run and one WARC file per day; a raw page (WARC index row) per article and per failed fetch; discovery
# of every article URL plus URLs never stored; failures of fetch and extraction (~5%).
RAW_AND_LEDGER = """
INSERT INTO runs (id, kind, window_start, window_end, sources, status, stats, started_at, ended_at)
SELECT d + 1, 'ingest', %(start)s::timestamptz + d * interval '1 day',
       %(start)s::timestamptz + (d + 1) * interval '1 day',
       '{}', 'success', '{}', %(start)s::timestamptz + (d + 1) * interval '1 day',
       %(start)s::timestamptz + (d + 1) * interval '1 day' + interval '40 minutes'
FROM generate_series(0, %(days)s - 1) d;
SELECT setval(pg_get_serial_sequence('runs', 'id'), %(days)s);
INSERT INTO archive_files (id, url, run_id, records, bytes, created_at)
SELECT d + 1, 'file:///archive/day-' || d || '.warc.gz', d + 1, 1, 1000000, now()
FROM generate_series(0, %(days)s - 1) d;
SELECT setval(pg_get_serial_sequence('archive_files', 'id'), %(days)s);
"""

RAW_PAGES = """
INSERT INTO raw_pages (id, run_id, source, url, final_url, status, headers, body, encoding, sha256, fetched_at,
                       stored_at, archive_file_id, archive_offset, archive_length)
SELECT a.id, a.first_seen_run, a.source, a.page_url, a.page_url, 200, '{"content-type": "text/html"}'::jsonb,
       NULL::bytea, 'utf-8',
       md5(a.id::text) || md5(a.content_hash), a.fetched_at, a.fetched_at, a.first_seen_run, a.id * 40000,
       20000 + (a.id %% 20000)::int
FROM articles a WHERE a.id BETWEEN %(lo)s AND %(hi)s
UNION ALL  -- failed fetches (6%%), by article slot
SELECT %(articles)s + g.id, g.day + 1, s.name, 'https://' || s.name || '.example/missing-' || g.id,
       'https://' || s.name || '.example/missing-' || g.id,
       (ARRAY[404, 404, 404, 410, 500, 503])[1 + g.id %% 6], '{}'::jsonb, NULL, NULL,
       md5('missing' || g.id) || md5(g.id::text),
       %(start)s::timestamptz + g.day * interval '1 day' + pg_temp.u(g.id, 40) * interval '23 hours', now(),
       g.day + 1, 0, 1000
FROM gen_article g JOIN gen_source s ON s.n = g.source
WHERE pg_temp.u(g.id, 41) < 0.06 AND g.id BETWEEN %(lo)s AND %(hi)s;
INSERT INTO discovered_urls (source, url, published_at, date_signal, title, first_seen_at, last_seen_at,
                             first_run_id, last_run_id)
SELECT a.source, a.url, a.published_at, CASE WHEN a.published_at IS NULL THEN NULL ELSE 'feed' END, a.title,
       a.fetched_at - interval '5 minutes', a.fetched_at, a.first_seen_run, a.first_seen_run
FROM articles a WHERE a.id BETWEEN %(lo)s AND %(hi)s
UNION ALL
SELECT r.source, r.url, NULL, NULL, NULL, r.fetched_at - interval '5 minutes', r.fetched_at, r.run_id, r.run_id
FROM raw_pages r WHERE r.id BETWEEN %(articles)s + %(lo)s AND %(articles)s + %(hi)s;
INSERT INTO failures (run_id, source, url, stage, reason, detail, recorded_at)
SELECT r.run_id, r.source, r.url, 'fetch', 'http_' || r.status, 'HTTP ' || r.status, r.fetched_at
FROM raw_pages r WHERE r.id BETWEEN %(articles)s + %(lo)s AND %(articles)s + %(hi)s
UNION ALL
SELECT g.day + 1, s.name, 'https://' || s.name || '.example/gone-' || g.id, 'fetch',
       (ARRAY['timeout', 'connection_error', 'too_large'])[1 + g.id %% 3], '',
       %(start)s::timestamptz + g.day * interval '1 day' + pg_temp.u(g.id, 42) * interval '23 hours'
FROM gen_article g JOIN gen_source s ON s.n = g.source
WHERE pg_temp.u(g.id, 43) < 0.01 AND g.id BETWEEN %(lo)s AND %(hi)s
UNION ALL
SELECT g.day + 1, s.name, 'https://' || s.name || '.example/page-' || g.id, 'extract',
       (ARRAY['empty', 'not_article'])[1 + g.id %% 2], '',
       %(start)s::timestamptz + g.day * interval '1 day' + pg_temp.u(g.id, 44) * interval '23 hours'
FROM gen_article g JOIN gen_source s ON s.n = g.source
WHERE pg_temp.u(g.id, 45) < 0.01 AND g.id BETWEEN %(lo)s AND %(hi)s;
"""

LOADED_TABLES = ("articles", "article_revisions", "raw_pages", "discovered_urls", "failures", "article_minhash",
                 "article_band_keys", "near_duplicate_clusters", "near_duplicate_members")


def log(message: str, began: float) -> None:
    print(f"[{time.perf_counter() - began:7.1f} s] {message}", flush=True)


@contextmanager
def migrations_upto(upto: str | None) -> Iterator[Path]:
    """The migrations directory, or a copy holding only the files up to `upto` (e.g. 010: the schema before)."""
    if upto is None:
        yield migrations_dir()
        return
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(migrations_dir().glob("[0-9][0-9][0-9]_*.sql")):
            if path.name[:3] <= upto:
                shutil.copy(path, tmp)
        yield Path(tmp)


def create_database(url: str) -> None:
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def already_filled(url: str) -> bool:
    try:
        conn = psycopg2.connect(sa.engine.make_url(url).render_as_string(hide_password=False))
    except psycopg2.OperationalError:
        return False  # no such database
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('articles') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_class"
                    " WHERE relname = 'articles' AND reltuples > 0)")
        filled = bool(cur.fetchone()[0])
    conn.close()
    return filled


def secondary_indexes(cur) -> list[tuple[str, str]]:  # noqa: ANN001 - a psycopg2 cursor
    """(name, definition) of the loaded tables' indexes that back no constraint: dropped during the load."""
    cur.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = ANY(%s::regclass[])"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                (list(LOADED_TABLES),))
    return cur.fetchall()


def generate(url: str, articles: int, sources: int, days: int, upto: str | None) -> None:
    began = time.perf_counter()
    with migrations_upto(upto) as sql_dir, Store.open(url) as store:
        applied = store.upgrade(sql_dir)
    log(f"migrations applied: {', '.join(applied) or 'none'}", began)
    params = {"articles": articles, "sources": sources, "days": days, "start": START, "function": FUNCTION_WORDS,
              "news": NEWS_WORDS, "news_rank": NEWS_RANK,
              "langs": list(LANGUAGES), "nlangs": len(LANGUAGES), "leaks": list(LEAKS), "nleaks": len(LEAKS)}
    conn = psycopg2.connect(sa.engine.make_url(url).render_as_string(hide_password=False))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET session_replication_role = replica")  # bulk load: no FK checks, no row triggers
    cur.execute("SET maintenance_work_mem = '512MB'")
    cur.execute("SET work_mem = '64MB'")
    cur.execute(FUNCTIONS)
    cur.execute("DROP TABLE IF EXISTS gen_vocab, gen_paragraph, gen_title, gen_source, gen_article")
    cur.execute(SETUP, params)
    log("vocabulary, paragraphs, titles, roles", began)
    indexes = secondary_indexes(cur)
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    cur.execute(RAW_AND_LEDGER, params)
    for lo in range(1, articles + 1, CHUNK):
        chunk = {**params, "lo": lo, "hi": min(lo + CHUNK - 1, articles)}
        cur.execute(ARTICLES, chunk)
        log(f"articles {lo:,}-{chunk['hi']:,}", began)
    cur.execute(AFTER_ARTICLES, params)
    log("revisions, near-duplicate clusters", began)
    for lo in range(1, articles + 1, CHUNK * 2):
        chunk = {**params, "lo": lo, "hi": min(lo + CHUNK * 2 - 1, articles)}
        cur.execute(SIGNATURES, chunk)
        cur.execute(RAW_PAGES, chunk)
        log(f"signatures, raw pages, discovery, failures {lo:,}-{chunk['hi']:,}", began)
    for name, definition in indexes:
        cur.execute(definition)
        log(f"index {name}", began)
    cur.execute("SELECT setval(pg_get_serial_sequence('raw_pages', 'id'), (SELECT max(id) FROM raw_pages))")
    cur.execute("DROP TABLE gen_vocab, gen_paragraph, gen_title, gen_source, gen_article")
    cur.execute("SELECT to_regproc('rebuild_derived') IS NOT NULL")
    if cur.fetchone()[0]:  # migration 011 or later: roll-ups and the search table, built once in bulk
        cur.execute("SET session_replication_role = origin")
        cur.execute("SELECT rebuild_derived()")
        log("derived tables rebuilt (rebuild_derived)", began)
    cur.execute("VACUUM ANALYZE")
    log("vacuum analyze", began)
    cur.execute("SELECT count(*), pg_size_pretty(pg_database_size(current_database())) FROM articles")
    rows, size = cur.fetchone()
    log(f"done: {rows:,} articles, database {size}", began)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--db", required=True, help="database URL (created or replaced with --create)")
    parser.add_argument("--upto", help="apply migrations up to this number only (e.g. 010 for the schema before)")
    parser.add_argument("--create", action="store_true", help="drop and create the database first")
    parser.add_argument("--if-missing", action="store_true", help="do nothing when the database already has articles")
    args = parser.parse_args()
    if args.if_missing and already_filled(args.db):
        print(f"{sa.engine.make_url(args.db).database} already holds a generated year: kept (drop it to regenerate)")
        return
    if args.create:
        create_database(args.db)
    generate(args.db, args.articles, args.sources, args.days, args.upto)


if __name__ == "__main__":
    main()
