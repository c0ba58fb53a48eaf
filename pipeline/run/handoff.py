"""Run one stage of a run in a background thread, handing its items to the next stage through a bounded queue."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from typing import Generic, TypeVar

T = TypeVar("T")

_POLL = 0.2  # seconds between checks of the stop flag while a side waits on a full or empty queue


class _Raised:
    """The producer's exception, carried through the queue to be raised in the consumer."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


class Handoff(Generic[T]):
    """Iterate `items` in a daemon thread, at most `depth` items ahead of the consumer.

    Why: fetching is driven by iterating its generator; run in the consumer's thread it stops whenever the
    consumer waits for a free extraction worker or stores a batch, and the workers then starve while the
    next batch is fetched. In a thread of its own it keeps going, bounded by `depth` (memory stays flat).

    The producer's exception is raised in the consumer at the point it reached (items before it are
    delivered first). When the consumer stops early (an exception, a signal, `close()`, leaving the `with`
    block), the producer is told to stop and its generator is closed in its own thread, which ends its fetch
    threads. Use it as a context manager: an exception's traceback keeps the consumer's generators alive,
    so only an explicit close stops the producer at once.
    """

    def __init__(self, items: Iterator[T], depth: int, name: str = "handoff") -> None:
        self._items = items
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)

    def __iter__(self) -> Iterator[T]:
        self._thread.start()
        try:
            while True:
                item = self._get()
                if item is _DONE:
                    return
                if isinstance(item, _Raised):
                    raise item.exc
                yield item  # type: ignore[misc]
        finally:
            self.close()

    def __enter__(self) -> Handoff[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the producer and wait for it to close its generator."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _get(self) -> object:
        while True:
            try:
                return self._queue.get(timeout=_POLL)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return _DONE  # the producer ended without a word (cannot happen short of a crash)

    def _put(self, item: object) -> bool:
        """Queue an item; False when the consumer has stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _closing(self) -> AbstractContextManager[object]:
        """Close a generator when done, in this thread (a generator cannot be closed from another)."""
        return closing(self._items) if hasattr(self._items, "close") else nullcontext()  # type: ignore[arg-type]

    def _produce(self) -> None:
        try:
            with self._closing():
                for item in self._items:
                    if not self._put(item):
                        return
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer's thread
            self._put(_Raised(exc))
            return
        self._put(_DONE)


def in_background(items: Iterator[T], depth: int, name: str = "handoff") -> Iterator[T]:
    """`items`, produced in a background thread at most `depth` ahead (see `Handoff`)."""
    return iter(Handoff(items, depth, name))
