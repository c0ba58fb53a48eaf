"""The baselines a user would pick instead: naive sequential loop, and trafilatura alone on both cores."""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg2
import requests


@dataclass(frozen=True)
class Rate:
    """`count` items in `seconds` wall time, with the CPU seconds they cost."""

    count: int
    seconds: float
    cpu: float = 0.0
    ok: int = 0

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def naive(urls: Sequence[str], database_url: str) -> Rate:
    """Sequential `requests.get` -> `trafilatura.extract` -> one INSERT and commit per article."""
    import trafilatura

    conn = psycopg2.connect(**libpq_params(database_url))
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS naive_articles (id serial PRIMARY KEY, url text UNIQUE, body text)")
    cpu, began, ok = _self_cpu(), time.perf_counter(), 0
    try:
        for url in urls:
            response = requests.get(url, timeout=30)
            body = trafilatura.extract(response.text)
            with conn.cursor() as cur:
                cur.execute("INSERT INTO naive_articles (url, body) VALUES (%s, %s)", (url, body))
            conn.commit()
            ok += body is not None
    finally:
        conn.close()
    return Rate(len(urls), time.perf_counter() - began, _self_cpu() - cpu, ok)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def libpq_params(database_url: str) -> dict[str, Any]:
    """psycopg2.connect keywords of a (SQLAlchemy-style) URL, including ?host=/socket/dir forms."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    params: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    params.update({k: v for k, v in url.query.items() if isinstance(v, str)})
    return params


def extraction_bound(pages: Callable[[], Iterator[bytes]], count: int, workers: int,
                     exclude: frozenset[int] = frozenset()) -> Rate:
    """`trafilatura.extract` alone over the same HTML bytes in a Pool(workers); no network, no database."""
    context = multiprocessing.get_context("forkserver")
    with context.Pool(workers, initializer=_warm) as pool:
        pool.map(_nothing, range(workers * 4))  # workers started and trafilatura imported before the clock
        cpu, began = _cpu(exclude), time.perf_counter()
        ok = sum(pool.imap_unordered(_extract, pages(), chunksize=4))
        seconds = time.perf_counter() - began
        cpu_used = _cpu(exclude) - cpu
    return Rate(count, seconds, cpu_used, ok)


def _warm() -> None:
    import trafilatura

    trafilatura.extract("<html><body><article><p>" + "warm up the extractor. " * 20 + "</p></article></body></html>")


def _nothing(_: int) -> None:
    time.sleep(0.01)


def _extract(body: bytes) -> int:
    import trafilatura

    return int(trafilatura.extract(body) is not None)


def _cpu(exclude: frozenset[int] = frozenset()) -> float:
    """CPU seconds of this process and its live descendants, minus `exclude` trees."""
    import psutil

    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid in exclude or any(p.pid in exclude for p in child.parents()):
                continue
            times = child.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total
