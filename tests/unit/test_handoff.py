"""The background handoff between run stages: every item in order, the producer's error raised in the consumer,
a bounded lead, and a consumer that stops early stops and closes the producer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from pipeline.models import Failure, Stage
from pipeline.run.handoff import Handoff, in_background
from pipeline.run.stages import FailureLog
from pipeline.run.summary import RunSummary


def _wait_until(condition: object, limit: float = 30.0) -> None:
    """Poll until `condition()` holds (a wait for the other thread, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.01)


def test_every_item_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def numbers() -> Iterator[int]:
        for i in range(1000):
            threads.add(threading.current_thread().name)
            yield i

    assert list(in_background(numbers(), 7, "numbers")) == list(range(1000))
    assert threads == {"numbers"}


def test_a_plain_iterator_works_too() -> None:
    assert list(in_background(iter(["a", "b"]), 1)) == ["a", "b"]


def test_the_producers_error_comes_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("database went away")

    got: list[int] = []
    with pytest.raises(ConnectionError, match="database went away"):
        for item in in_background(failing(), 10):
            got.append(item)
    assert got == [1, 2]


def test_the_lead_is_bounded_by_depth() -> None:
    produced: list[int] = []

    def counted() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    handoff = Handoff(counted(), depth=3)
    items = iter(handoff)
    assert next(items) == 0
    _wait_until(lambda: handoff._queue.full())
    # 3 queued, one taken, at most one more produced and waiting to be queued
    assert len(produced) <= 3 + 2
    handoff.close()


def test_a_consumer_that_stops_closes_the_producer_in_its_thread() -> None:
    closed_in: list[str] = []

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed_in.append(threading.current_thread().name)

    handoff = Handoff(endless(), depth=2, name="endless")
    for item in handoff:
        if item == 5:
            break
    assert closed_in == ["endless"]
    assert not handoff._thread.is_alive()


def test_a_consumer_error_stops_the_producer_at_once() -> None:
    """Even while the error's traceback keeps the consumer's generators alive (as a failing run's does)."""

    def endless() -> Iterator[int]:
        while True:
            yield 0

    def consume(items: Iterator[int]) -> None:
        for _ in items:
            raise RuntimeError("store failed")

    with pytest.raises(RuntimeError) as caught:
        with Handoff(endless(), depth=2) as handoff:
            consume(map(int, handoff))  # a generator chain, as pool.map(jobs) is
    assert caught.value.__traceback__ is not None
    assert not handoff._thread.is_alive()


class _Recorder:
    def __init__(self) -> None:
        self.saved: list[Failure] = []
        self.lock = threading.Lock()

    def record_failures(self, run_id: int | None, failures: list[Failure]) -> None:
        with self.lock:
            self.saved.extend(failures)


def test_failure_log_loses_nothing_when_two_threads_add() -> None:
    store = _Recorder()
    summary = RunSummary("ingest", None)
    log = FailureLog(store, summary, batch_size=7)  # type: ignore[arg-type]

    def add(stage: Stage, count: int) -> None:
        for i in range(count):
            log.add(Failure(f"https://x.example/{stage}/{i}", "x", stage, "timeout"))

    threads = [threading.Thread(target=add, args=(stage, 5000)) for stage in (Stage.FETCH, Stage.EXTRACT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.flush()
    assert len(store.saved) == 10_000 == len({f.url for f in store.saved})
    assert summary.source("x").failures == {"fetch:timeout": 5000, "extract:timeout": 5000}
