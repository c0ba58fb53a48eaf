"""Concurrent writers (parallel Airflow tasks): no errors, no duplicates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pipeline.models import ArticleInput
from pipeline.store import Store
from tests.store.helpers import article, item, page, scalar, wire, words


def _own_articles(tag: str, worker: int) -> list[ArticleInput]:
    """Twenty copies of the wire story at one outlet per worker: every one is somebody's near-duplicate."""
    source = f"{tag}-{worker}"
    return [item(source, article(f"https://{source}.example/{i}", wire(f"{tag}{worker}{i}")))
            for i in range(20)]


def test_parallel_overlapping_article_batches(database_url: str, tag: str) -> None:
    shared = [item(tag, article(f"https://{tag}.example/s{i}", words(40, f"{tag}s{i}x"))) for i in range(30)]

    def save(worker: int) -> None:
        own = _own_articles(tag, worker)
        with Store.open(database_url) as store:
            run = store.begin_run("test", None, [tag], {})
            for part in range(3):
                store.save_articles(run, shared[part * 10:(part + 1) * 10] + own[part * 7:(part + 1) * 7])

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(save, range(4)))
    with Store.open(database_url) as store:
        assert scalar(store, "SELECT count(*) FROM articles WHERE url LIKE :p", p=f"https://{tag}%") == 110
        assert scalar(store, "SELECT count(*) FROM articles WHERE source LIKE :p"
                      " AND canonical_article_id IS NULL"
                      " AND id NOT IN (SELECT article_id FROM near_duplicate_members)", p=f"{tag}-%") == 0


def test_parallel_raw_page_saves_of_the_same_pages(database_url: str, tag: str) -> None:
    pages = [(tag, page(f"https://{tag}.example/{i}", f"<p>{i}</p>".encode())) for i in range(100)]

    def save(_: int) -> list[int]:
        with Store.open(database_url) as store:
            return store.save_raw_pages(store.begin_run("test", None, [tag], {}), pages)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(save, range(4)))
    assert all(r == results[0] for r in results)
    with Store.open(database_url) as store:
        assert scalar(store, "SELECT count(*) FROM raw_pages WHERE source = :s", s=tag) == 100
