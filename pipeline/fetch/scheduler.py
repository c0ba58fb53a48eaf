"""Fetch many URLs in a bounded thread pool, host-aware: hosts proceed in parallel, each at its own pace."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from pipeline.errors import FetchError, Reason
from pipeline.fetch.client import Fetcher
from pipeline.models import FetchedPage, FetchKind
from pipeline.urls import host_of


def fetch_many(
    fetcher: Fetcher, urls: Iterable[str], workers: int, *, kind: FetchKind = FetchKind.PAGE,
    lookahead: int | None = None,
) -> Iterator[tuple[str, FetchedPage | FetchError]]:
    """Fetch `urls`; yield (url, page or FetchError) as they complete; per-URL failures never raise.

    A URL is handed to a worker only when its host has a free connection and its delay has
    passed, so a slow host never occupies more than its own share of workers. At most
    `lookahead` (default workers*64) URLs are buffered from the iterator and at most `workers`
    are in flight.
    """
    workers = max(1, workers)
    scheduler = _Scheduler(fetcher, iter(urls), workers, lookahead or workers * 64, kind)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        yield from scheduler.run(pool)


class _Scheduler:
    """Per-host queues feeding a thread pool (see `fetch_many`)."""

    def __init__(self, fetcher: Fetcher, urls: Iterator[str], workers: int, lookahead: int,
                 kind: FetchKind) -> None:
        self.fetcher, self.urls, self.workers, self.lookahead, self.kind = fetcher, urls, workers, lookahead, kind
        self.queues: dict[str, deque[str]] = {}
        self.buffered = 0
        self.exhausted = False
        self.running: dict[Future[FetchedPage], tuple[str, str]] = {}
        self.per_host: Counter[str] = Counter()

    def run(self, pool: ThreadPoolExecutor) -> Iterator[tuple[str, FetchedPage | FetchError]]:
        while True:
            self._refill()
            next_ready = self._dispatch(pool)
            if not self.running and not self.buffered and self.exhausted:
                return
            if self.running:
                timeout = None if next_ready is None else max(0.0, next_ready - time.monotonic())
                done, _ = wait(list(self.running), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    yield self._result(future)
            elif next_ready is not None:
                time.sleep(max(0.0, min(next_ready - time.monotonic(), 1.0)))

    def _refill(self) -> None:
        while not self.exhausted and self.buffered < self.lookahead:
            url = next(self.urls, None)
            if url is None:
                self.exhausted = True
                return
            self.queues.setdefault(host_of(url), deque()).append(url)
            self.buffered += 1

    def _dispatch(self, pool: ThreadPoolExecutor) -> float | None:
        """Submit what may start now; return the earliest moment a waiting host becomes ready."""
        next_ready: float | None = None
        now = time.monotonic()
        for host in list(self.queues):
            queue = self.queues[host]
            while queue and len(self.running) < self.workers:
                url = queue[0]
                if self.per_host[host] >= self.fetcher.max_connections(url):
                    break
                ready = self.fetcher.ready_at(url)
                if ready > now:
                    next_ready = ready if next_ready is None else min(next_ready, ready)
                    break
                queue.popleft()
                self.buffered -= 1
                self.per_host[host] += 1
                self.running[pool.submit(self.fetcher.fetch, url, kind=self.kind)] = (url, host)
            if not queue:
                del self.queues[host]
        return next_ready

    def _result(self, future: Future[FetchedPage]) -> tuple[str, FetchedPage | FetchError]:
        url, host = self.running.pop(future)
        self.per_host[host] -= 1
        try:
            return url, future.result()
        except FetchError as exc:
            return url, exc
        except Exception as exc:  # noqa: BLE001 - one URL must never stop the run
            return url, FetchError(f"unexpected {type(exc).__name__}: {exc}", reason=Reason.FETCH_BUG)
