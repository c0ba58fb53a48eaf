"""Bulk article write speed of `Store.save_articles` (articles/s) on a throwaway database."""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import dedup  # noqa: E402
from pipeline.models import (
    ArticleInput,  # noqa: E402
    ExtractedArticle,  # noqa: E402
)
from pipeline.store import Store  # noqa: E402

COUNT = int(os.environ.get("BENCH_ARTICLES", "5000"))
BATCH = int(os.environ.get("BENCH_BATCH", "500"))
WITHOUT_SEARCH = os.environ.get("BENCH_WITHOUT_SEARCH") == "1"  # drop the tsvector to see what it costs
PRESIGNED = os.environ.get("BENCH_PRESIGNED") == "1"  # MinHash computed beforehand, as extraction workers can


def make_articles(count: int, seed: int = 7) -> list[ArticleInput]:
    """`count` articles of 400 Zipf-distributed words; every tenth is an edited copy of the previous."""
    rng = random.Random(seed)
    vocabulary = [f"word{i}" for i in range(20000)]
    weights = [1 / rank for rank in range(1, len(vocabulary) + 1)]  # Zipf, like real text
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = []
    for i in range(count):
        if i % 10 == 9:
            base = items[i - 1].article.body.split()
            base[rng.randrange(len(base))] = "edited"
            body = " ".join(base)
        else:
            body = " ".join(rng.choices(vocabulary, weights, k=400))
        published = start + timedelta(minutes=i)
        article = ExtractedArticle(url=f"https://bench{i % 5}.example/{i}", title=f"Story {i}", body=body,
                                   authors=("Bench",), published_at=published, date_signal="feed",
                                   language="en", extractor_version="bench", method="trafilatura")
        signature = dedup.signature_bytes(body) if PRESIGNED else None
        items.append(ArticleInput(f"bench{i % 5}", None, published, article, signature))
    return items


def main() -> None:
    server = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"np_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
        items = make_articles(COUNT)
        with Store.open(url) as store:
            store.upgrade()
            if WITHOUT_SEARCH:
                with store.engine.begin() as conn:
                    conn.execute(sa.text("ALTER TABLE articles DROP COLUMN IF EXISTS search CASCADE"))
            run = store.begin_run("bench", None, [], {})
            began = time.perf_counter()
            for i in range(0, len(items), BATCH):
                store.save_articles(run, items[i:i + BATCH])
            elapsed = time.perf_counter() - began
            again = time.perf_counter()
            counts = store.save_articles(run, items[:BATCH])
            rerun = time.perf_counter() - again
        label = (" (no full-text column)" if WITHOUT_SEARCH else "") + (" (presigned)" if PRESIGNED else "")
        print(f"{COUNT} articles{label} in batches of {BATCH}: {elapsed:.2f} s ="
              f" {COUNT / elapsed:,.0f} articles/s (rerun of one batch: {counts},"
              f" {BATCH / rerun:,.0f} articles/s)")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
