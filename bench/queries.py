"""Downstream queries at a year's scale: median warm ms, access path and target of every documented query.

Runs every ```sql example of docs/schema.md (views as `news_reader`, operator examples on base tables as the
connecting user), with the generated year's names substituted for the examples' own, plus the everyday
queries of issue 18, each 1 + 3 times (median of the 3 warm runs); then `Store.save_articles` into the
full-size table (articles/s), the end-of-run refresh, and the bytes per row of `articles`.

    .venv/bin/python bench/queries.py --db postgresql://postgres@127.0.0.1:5432/queries_after_1m
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock

import psycopg2
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import dedup  # noqa: E402
from pipeline.models import ArticleInput, ExtractedArticle  # noqa: E402
from pipeline.store import Store, database, near_duplicates  # noqa: E402
from pipeline.store import articles as articles_module  # noqa: E402

SCHEMA_DOC = Path(__file__).resolve().parent.parent / "docs" / "schema.md"
RUNS = 3
ONE = 50  # ms: queries returning one source-day or one story
ANY = 200  # ms: every other query


@dataclass(frozen=True)
class Query:
    name: str
    sql: str
    target: int = ANY
    reader: bool = True  # run as news_reader (views only)


@dataclass(frozen=True)
class Names:
    """The generated year's names used in place of the documented examples' own."""

    source: str
    day: date
    story_url: str
    story_id: int
    revised_url: str
    phrase: str


def pick_names(cur) -> Names:  # noqa: ANN001 - psycopg2 cursor
    """A busy source, a day late in the year (92% of articles before it), its most widely run story, a phrase of it."""
    cur.execute("SELECT (percentile_disc(0.92) WITHIN GROUP (ORDER BY published_at) AT TIME ZONE 'UTC')::date"
                " FROM articles")
    (day,) = cur.fetchone()
    cur.execute("SELECT source FROM articles WHERE published_at >= %s AND published_at < %s + 1"
                " GROUP BY source ORDER BY count(*) DESC, source LIMIT 1 OFFSET 2", (day, day))
    (source,) = cur.fetchone()
    cur.execute("SELECT c.representative_article_id, a.url, a.body FROM near_duplicate_clusters c"
                " JOIN near_duplicate_members m ON m.cluster_id = c.id"
                " JOIN articles a ON a.id = c.representative_article_id"
                " WHERE a.published_at >= %s AND a.published_at < %s + 1"
                " GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1 LIMIT 1", (day, day))
    story_id, story_url, body = cur.fetchone()
    words = re.findall(r"\w+", body.lower())
    pairs = [(a, b) for a, b in zip(words, words[1:], strict=False) if len(a) > 4 and len(b) > 4]
    phrase = " ".join(pairs[len(pairs) // 2]) if pairs else " ".join(words[:2])
    cur.execute("SELECT url FROM articles WHERE version > 1 ORDER BY id LIMIT 1")
    (revised_url,) = cur.fetchone()
    return Names(source, day, story_url, story_id, revised_url, phrase)


def documented(names: Names) -> list[Query]:
    """The examples of docs/schema.md, as written, with the generated names substituted."""
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    queries = []
    for i, sql in enumerate(re.findall(r"```sql\n(.*?)```", text, flags=re.DOTALL)):
        base_tables = re.search(r"\b(?:FROM|JOIN)\s+(raw_pages|articles|article_revisions|failures|runs)\b", sql)
        sql = substitute(sql, names)
        title = re.sub(r"\s+", " ", sql.strip().splitlines()[0])[:60]
        one = "story_id = (" in sql or ("source = '" in sql and "LIMIT 14" not in sql)
        queries.append(Query(f"docs {i + 1}: {title}", sql, ONE if one else ANY, reader=base_tables is None))
    return queries


def substitute(sql: str, names: Names) -> str:
    """The examples name the test fixtures' source, URLs and day: use the generated year's."""
    day, next_day = names.day.isoformat(), (names.day + timedelta(days=1)).isoformat()
    sql = sql.replace("'https://times.example/2026/03/02/tax-deal'", f"'{names.story_url}'")
    sql = sql.replace("'https://post.example/markets/rates'", f"'{names.revised_url}'")
    sql = sql.replace("'times'", f"'{names.source}'")
    sql = re.sub(r"'2026-03-02(T00:00:00Z)?'", lambda m: f"'{day}{m.group(1) or ''}'", sql)
    sql = re.sub(r"'2026-03-03(T00:00:00Z)?'", lambda m: f"'{next_day}{m.group(1) or ''}'", sql)
    return sql


def everyday(names: Names) -> list[Query]:
    """The everyday queries of downstream teams (issue 18)."""
    day = f"'{names.day.isoformat()}T00:00:00Z'::timestamptz"
    month = f"'{names.day.replace(day=1).isoformat()}T00:00:00Z'::timestamptz"
    src = f"'{names.source}'"
    return [
        Query("articles of one source and day",
              f"SELECT id, title, published_at, url FROM articles_current WHERE source = {src}"
              f" AND published_at >= {day} AND published_at < {day} + interval '1 day' ORDER BY published_at, id",
              ONE),
        Query(f'phrase search over a month, ranked ("{names.phrase}")',
              f"SELECT id, source, title, ts_rank(search, q) AS rank"
              f" FROM articles_current, websearch_to_tsquery('simple', '\"{names.phrase}\"') AS q"
              f" WHERE search @@ q AND published_at >= {month} AND published_at < {month} + interval '1 month'"
              f" ORDER BY rank DESC, id LIMIT 20"),
        Query("words search over a month, ranked (corporate tax)",
              f"SELECT id, source, title, ts_rank(search, q) AS rank"
              f" FROM articles_current, websearch_to_tsquery('simple', 'corporate tax') AS q"
              f" WHERE search @@ q AND published_at >= {month} AND published_at < {month} + interval '1 month'"
              f" ORDER BY rank DESC, id LIMIT 20"),
        Query("stories of one day, most outlets first",
              f"SELECT story_id, title, articles, outlets FROM stories WHERE first_published_at >= {day}"
              f" AND first_published_at < {day} + interval '1 day' ORDER BY outlets DESC, articles DESC, story_id"
              f" LIMIT 50"),
        Query("stories of one month, most outlets first",
              f"SELECT story_id, title, articles, outlets FROM stories WHERE first_published_at >= {month}"
              f" AND first_published_at < {month} + interval '1 month'"
              f" ORDER BY outlets DESC, articles DESC, story_id LIMIT 50"),
        Query("one story (stories)", f"SELECT * FROM stories WHERE story_id = {names.story_id}", ONE),
        Query("outlets of one story (story_outlets)",
              f"SELECT source, url, relation, similarity FROM story_outlets WHERE story_id = {names.story_id}"
              f" ORDER BY published_at, source", ONE),
        Query("quality of one source-day",
              f"SELECT * FROM source_daily_quality WHERE source = {src} AND day = {day}::date", ONE),
        Query("quality of one source over a week",
              f"SELECT * FROM source_daily_quality WHERE source = {src}"
              f" AND day > {day}::date - 7 AND day <= {day}::date ORDER BY day"),
        Query("quality of all sources over a week",
              f"SELECT * FROM source_daily_quality WHERE day > {day}::date - 7 AND day <= {day}::date"
              f" ORDER BY source, day"),
        Query("articles per language per week (4 weeks)",
              f"SELECT language, date_trunc('week', published_at) AS week, count(*) FROM articles_current"
              f" WHERE published_at >= {day} - interval '28 days' AND published_at < {day}"
              f" GROUP BY 1, 2 ORDER BY 2, 1"),
        Query("latest 50 articles (undated last)",
              "SELECT id, source, title, published_at FROM articles_current"
              " ORDER BY published_at DESC NULLS LAST LIMIT 50"),
    ]


def access_path(plan: dict) -> str:
    """The plan's scan nodes, e.g. `Index Scan articles_pkey`, `Seq Scan articles` (distinct, in plan order)."""
    found: list[str] = []

    def walk(node: dict) -> None:
        kind = node.get("Node Type", "")
        if "Scan" in kind and kind not in ("Subquery Scan", "CTE Scan", "Function Scan", "Values Scan"):
            label = f"{kind} {node.get('Index Name') or node.get('Relation Name', '')}".strip()
            if label not in found:
                found.append(label)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    seq = [s for s in found if s.startswith("Seq Scan")]
    shown = seq + [s for s in found if s not in seq]
    return ", ".join(shown[:4]) + (f" (+{len(shown) - 4})" if len(shown) > 4 else "")


def measure(cur, query: Query) -> tuple[float, str, int]:  # noqa: ANN001 - psycopg2 cursor
    cur.execute("RESET ROLE")
    if query.reader:
        cur.execute("SET ROLE news_reader")
    cur.execute(query.sql)  # warm-up
    rows = len(cur.fetchall())
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        cur.execute(query.sql)
        cur.fetchall()
        times.append((time.perf_counter() - began) * 1000)
    cur.execute("EXPLAIN (FORMAT JSON) " + query.sql)
    plan = cur.fetchone()[0][0]
    cur.execute("RESET ROLE")
    return statistics.median(times), access_path(plan), rows


def save_rate(url: str, count: int, batch: int) -> tuple[float, float]:
    """`Store.save_articles` into the full-size table (articles/s), and the end-of-run refresh (s); the
    articles are removed again afterwards so that the database stays as generated."""
    rng = random.Random(18)
    vocabulary = [f"w{i}" for i in range(30000)]
    weights = [1 / rank for rank in range(1, len(vocabulary) + 1)]
    tag = uuid.uuid4().hex[:8]
    start = datetime(2026, 3, 3, tzinfo=UTC)
    items = []
    for i in range(count):
        body = "\n\n".join(" ".join(rng.choices(vocabulary, weights, k=65)) for _ in range(7))
        article = ExtractedArticle(url=f"https://save-{tag}.example/{i}", title=f"Saved story {i}", body=body,
                                   authors=("Bench",), published_at=start + timedelta(seconds=i),
                                   date_signal="json-ld", language="en", extractor_version="bench",
                                   method="trafilatura")
        # signed beforehand, as the extraction workers do (ArticleInput.signature)
        items.append(ArticleInput(f"save-{tag}", None, start + timedelta(seconds=i), article,
                                  dedup.signature_bytes(body)))
    copying = [0.0]

    def timed_copy(cur, target: str, lines) -> None:  # noqa: ANN001 - psycopg2 cursor, iterable of lines
        began = time.perf_counter()
        database.copy_lines(cur, target, lines)
        copying[0] += time.perf_counter() - began

    with Store.open(url) as store, mock.patch.object(articles_module, "copy_lines", timed_copy), \
            mock.patch.object(near_duplicates, "copy_lines", timed_copy):
        run = store.begin_run("bench", None, [], {})
        began = time.perf_counter()
        for i in range(0, count, batch):
            store.save_articles(run, items[i:i + batch])
        elapsed = time.perf_counter() - began
        print(f"save_articles: {1000 * copying[0] / count:.2f} ms per article in COPY (articles, signatures,"
              f" band keys: the server's share of the bulk write), {1000 * elapsed / count:.2f} ms in all")
        began = time.perf_counter()
        refreshed = has_refresh(store) and store.refresh_derived() is not None
        refresh = time.perf_counter() - began if refreshed else float("nan")
        remove(store, f"save-{tag}")
    return count / elapsed, refresh


def has_refresh(store: Store) -> bool:
    with store.engine.connect() as conn:
        return bool(conn.exec_driver_sql("SELECT to_regproc('refresh_derived') IS NOT NULL").scalar())


def remove(store: Store, source: str) -> None:
    """Delete the benchmark's articles and what the write path made for them."""
    with store.engine.begin() as conn:
        ids = "SELECT id FROM articles WHERE source = %(s)s"
        conn.exec_driver_sql("SET session_replication_role = replica")  # no queue entries for the cleanup
        for statement in (f"DELETE FROM article_band_keys WHERE article_id IN ({ids})",
                          f"DELETE FROM article_minhash WHERE article_id IN ({ids})",
                          f"DELETE FROM near_duplicate_members WHERE article_id IN ({ids})"
                          f" OR cluster_id IN (SELECT id FROM near_duplicate_clusters"
                          f" WHERE representative_article_id IN ({ids}))",
                          f"DELETE FROM near_duplicate_clusters WHERE representative_article_id IN ({ids})",
                          f"DELETE FROM article_search WHERE article_id IN ({ids})"
                          if has_refresh(store) else "SELECT 1",
                          f"DELETE FROM story_rollup WHERE story_id IN ({ids})" if has_refresh(store) else "SELECT 1",
                          "DELETE FROM quality_daily WHERE source = %(s)s" if has_refresh(store) else "SELECT 1",
                          "DELETE FROM articles WHERE source = %(s)s"):
            conn.exec_driver_sql(statement, {"s": source})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a database filled by bench/scale_year.py")
    parser.add_argument("--save", type=int, default=5000, help="articles saved for the write rate (0: skip)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    conn = psycopg2.connect(sa.engine.make_url(args.db).render_as_string(hide_password=False))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM articles")
    (articles,) = cur.fetchone()
    names = pick_names(cur)
    print(f"{articles:,} articles; source {names.source}, day {names.day}, story {names.story_id};"
          f" load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f} (1/5/15 min)")
    print("| query | ms | rows | access path (scans) | target | met |\n|---|---:|---:|---|---:|---|")
    results = []
    for query in documented(names) + everyday(names):
        ms, path, rows = measure(cur, query)
        met = ms <= query.target
        results.append({"query": query.name, "ms": round(ms, 1), "rows": rows, "path": path,
                        "target": query.target, "met": met, "reader": query.reader})
        role = "" if query.reader else " (operator)"
        verdict = "met" if met else "NOT MET"
        print(f"| {query.name}{role} | {ms:,.1f} | {rows:,} | {path} | {query.target} | {verdict} |", flush=True)
    cur.execute("SELECT pg_total_relation_size('articles'), pg_relation_size('articles'),"
                " coalesce(pg_total_relation_size(to_regclass('article_search')), 0),"
                " (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                "  WHERE c.relname IN ('story_rollup', 'quality_daily') AND c.relkind = 'r')")
    total, heap, search, rollups = cur.fetchone()
    print(f"articles: {total / articles:,.0f} bytes/row all in ({total / 2**30:.2f} GiB: heap {heap / 2**30:.2f},"
          f" TOAST and indexes {(total - heap) / 2**30:.2f}); article_search {search / articles:,.0f} bytes/row"
          f" ({search / 2**30:.2f} GiB); story and daily roll-ups {rollups / 2**20:,.0f} MiB")
    figures = {"articles": articles, "bytes_per_row": total / articles, "search_bytes_per_row": search / articles,
               "queries": results, "load": os.getloadavg()}
    if args.save:
        rate, refresh = save_rate(args.db, args.save, args.batch)
        print(f"save_articles: {args.save:,} articles in batches of {args.batch}: {rate:,.0f} articles/s"
              f" (target 2,000: {'met' if rate >= 2000 else 'NOT MET'}); end-of-run refresh_derived(): {refresh:.1f} s")
        figures.update(save_rate=rate, refresh_s=refresh)
    met = sum(r["met"] for r in results)
    print(f"{met}/{len(results)} queries within target; load now {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    main()
