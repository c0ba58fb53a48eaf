"""Measuring from outside the pipeline: process-tree CPU and memory sampler, stage timers, machine facts."""

from __future__ import annotations

import os
import platform
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil


class TreeSampler:
    """Every `interval` s: RSS summed over this process and its descendants (minus `exclude` trees), and CPU.

    CPU of a process is its own user+system time, the last value seen per pid (not the time of
    children it reaped: the forkserver reaps the extraction workers, which are already counted);
    the workers live as long as the pool, so only processes shorter than an interval are missed.
    `peak_by_process` is the RSS breakdown (MiB by process role) of the sample with the largest sum.
    `extra` names further processes (the run's PostgreSQL backends) whose CPU is counted apart, in
    `cpu_extra`, and whose RSS is not counted (their shared buffers are not the pipeline's memory).
    """

    def __init__(self, exclude: Callable[[], set[int]] = set, extra: Callable[[], set[int]] = set,
                 interval: float = 0.1, rescan: int = 10) -> None:
        self.exclude, self.extra, self.interval, self.rescan = exclude, extra, interval, rescan
        self._known: list[tuple[psutil.Process, str]] = []
        self._extra_pids: set[int] = set()
        self.me = psutil.Process()
        self.peak_rss = 0
        self.peak_by_process: dict[str, float] = {}
        self.series: list[tuple[float, int, int]] = []  # (seconds, total MiB, main MiB), one per rescan
        self.samples = 0
        self.own_cpu = 0.0  # CPU time of the sampling thread itself (overhead, included in cpu_main)
        self.cpu_start: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="tree-sampler")

    def __enter__(self) -> TreeSampler:
        self.began = time.time()
        self.cpu_start = dict(self._sample())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        time.sleep(self.interval)
        self._sample(rescan=True)

    @property
    def cpu_seconds(self) -> float:
        """CPU of the process tree (main, forkserver, extraction workers)."""
        return sum(last - self.cpu_start.get(pid, 0.0) for pid, last in self.cpu_last.items()
                   if pid not in self._extra_pids)

    @property
    def cpu_extra(self) -> float:
        """CPU of the `extra` processes (the PostgreSQL backends serving the run)."""
        return sum(last - self.cpu_start.get(pid, 0.0) for pid, last in self.cpu_last.items()
                   if pid in self._extra_pids)

    @property
    def cpu_main(self) -> float:
        return self.cpu_last.get(self.me.pid, 0.0) - self.cpu_start.get(self.me.pid, 0.0)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()
            self.own_cpu = time.thread_time()

    def _processes(self, rescan: bool) -> list[tuple[psutil.Process, str]]:
        """The tree with each process's role; rescanned every `rescan` samples (a scan reads all of /proc)."""
        if rescan or self.samples % self.rescan == 0:
            excluded = self.exclude()
            found = [(self.me, "main")]
            for child in self.me.children(recursive=True):
                try:
                    if child.pid not in excluded and child.ppid() not in excluded:
                        found.append((child, self._role(child)))
                except psutil.Error:
                    continue
            for pid in self.extra() - self._extra_pids:
                try:
                    backend = psutil.Process(pid)
                    late = backend.create_time() > self.began  # a backend born during the run counts whole
                    self.cpu_start.setdefault(pid, 0.0 if late else sum(backend.cpu_times()[:2]))
                    self._extra_pids.add(pid)
                except psutil.Error:
                    continue
            self._known = found + [(psutil.Process(pid), "postgres") for pid in self._extra_pids
                                   if psutil.pid_exists(pid)]
        return self._known

    def _sample(self, rescan: bool = False) -> dict[int, float]:
        rss: dict[str, float] = defaultdict(float)
        cpu: dict[int, float] = {}
        for process, role in self._processes(rescan):
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    if role != "postgres":
                        rss[role] += process.memory_info().rss
            except psutil.Error:
                continue
            cpu[process.pid] = times.user + times.system
        self.samples += 1
        total = sum(rss.values())
        if rescan or self.samples % self.rescan == 1:
            self.series.append((round(time.time() - self.began, 1), int(total) >> 20, int(rss["main"]) >> 20))
        if total > self.peak_rss:
            self.peak_rss, self.peak_by_process = int(total), {k: round(v / 2**20) for k, v in rss.items()}
        self.cpu_last.update(cpu)
        return cpu

    def _role(self, process: psutil.Process) -> str:
        line = " ".join(process.cmdline())
        if "forkserver" in line:  # the workers are forks of the forkserver: same command line
            return "forkserver" if process.ppid() == self.me.pid else "workers"
        return "resource_tracker" if "resource_tracker" in line else process.name()


@dataclass
class Timings:
    """Wall seconds and call counts per named operation, thread-safe; first start and last end per name."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    items: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def timed(self, name: str, items: int = 0) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            ended = time.perf_counter()
            with self.lock:
                self.seconds[name] += ended - began
                self.calls[name] += 1
                self.items[name] += items
                self.first.setdefault(name, began)
                self.last[name] = ended

    def span(self, name: str) -> float:
        return self.last.get(name, 0.0) - self.first.get(name, 0.0)


class TimedStore:
    """A thin proxy around a `Store`: every public method call is wall-timed under its name."""

    def __init__(self, store: Any, timings: Timings) -> None:
        self._store, self._timings = store, timings

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name.startswith("_") or not callable(attr):
            return attr
        if name == "iter_raw_pages":
            return self._timed_iterator(name, attr)

        def call(*args: Any, **kwargs: Any) -> Any:
            items = next((len(a) for a in args if isinstance(a, (list, tuple))), 0)
            with self._timings.timed(f"store.{name}", items):
                return attr(*args, **kwargs)

        return call

    def _timed_iterator(self, name: str, method: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def iterate(*args: Any, **kwargs: Any) -> Iterator[Any]:
            iterator = iter(method(*args, **kwargs))
            while True:
                with self._timings.timed(f"store.{name}"):
                    item = next(iterator, None)
                if item is None:
                    return
                yield item

        return iterate


@contextmanager
def instrumented(timings: Timings) -> Iterator[None]:
    """Time page fetches (Fetcher.fetch), discovery and the main thread's waits on the extraction pool.

    Done by swapping module attributes for thin subclasses/wrappers for the duration of the run.
    """
    import pipeline.run.ingest as ingest

    fetcher_cls, pool_cls, discover = ingest.Fetcher, ingest.ExtractorPool, ingest.discover

    class TimedFetcher(fetcher_cls):  # type: ignore[misc, valid-type]
        def fetch(self, url: str, *args: Any, **kwargs: Any) -> Any:
            with timings.timed(f"fetch.{kwargs.get('kind', 'page')}"):
                return super().fetch(url, *args, **kwargs)

    class TimedPool(pool_cls):  # type: ignore[misc, valid-type]
        def submit(self, job: Any) -> Any:
            with timings.timed("extract.submit_wait", 1):
                done = super().submit(job)
            _note_results(timings, done)
            return done

        def drain(self) -> Any:
            with timings.timed("extract.drain_wait"):
                done = super().drain()
            _note_results(timings, done)
            return done

    def timed_discover(*args: Any, **kwargs: Any) -> Any:
        with timings.timed("discover"):
            return discover(*args, **kwargs)

    ingest.Fetcher, ingest.ExtractorPool, ingest.discover = TimedFetcher, TimedPool, timed_discover
    try:
        yield
    finally:
        ingest.Fetcher, ingest.ExtractorPool, ingest.discover = fetcher_cls, pool_cls, discover


def _note_results(timings: Timings, done: list[Any]) -> None:
    if done:
        now = time.perf_counter()
        with timings.lock:
            timings.items["extract.results"] += len(done)
            timings.first.setdefault("extract.results", now)
            timings.last["extract.results"] = now


class PgBackends:
    """The pids of the PostgreSQL backends connected to one database (for CPU accounting), when local."""

    def __init__(self, database_url: str) -> None:
        import psycopg2
        from baselines import libpq_params

        self.conn = psycopg2.connect(**libpq_params(database_url))
        self.conn.autocommit = True

    def __call__(self) -> set[int]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid()")
            pids = {row[0] for row in cur.fetchall()}
        return {pid for pid in pids if _is_postgres(pid)}

    def close(self) -> None:
        self.conn.close()


def _is_postgres(pid: int) -> bool:
    try:
        return "postgres" in psutil.Process(pid).name()
    except psutil.Error:
        return False


def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM, Python and OS of this machine."""
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}"}
