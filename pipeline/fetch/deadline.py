"""Whole-response deadlines: the sockets a request uses are shut when its time is up, whoever holds them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool

_current = threading.local()  # the deadline of the request this thread is making, if any


class Deadline:
    """A moment by which something must be done. While `enforced()`, every socket the thread's HTTP
    requests touch (new or kept alive, before or after http.client hands it to a response) is
    registered, and shut down when the moment passes: a blocked recv then returns at once, whether it
    waits for headers, a chunk, or a close-delimited body."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self.expires - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.expires

    def within(self, seconds: float) -> Deadline:
        """A deadline `seconds` from now, but never later than this one."""
        return Deadline(min(seconds, self.remaining()))

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if not self.fired:
                self._sockets.append(sock)
                return
        _shut(sock)

    def fire(self) -> None:
        """Time is up (or the run is stopping): shut every socket watched so far and any watched later."""
        with self._lock:
            self.fired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    @contextmanager
    def enforced(self) -> Iterator[Deadline]:
        """Within the block, this thread's requests cannot outlive the deadline."""
        timer = threading.Timer(self.remaining(), self.fire)
        timer.daemon = True
        previous = getattr(_current, "deadline", None)
        _current.deadline = self
        timer.start()
        try:
            yield self
        finally:
            timer.cancel()
            _current.deadline = previous
            with self._lock:
                self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSLSocket: it only touches the file descriptor, so a
    # reader blocked in another thread sees end-of-file instead of a torn-down TLS object.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def _watch(sock: socket.socket | None) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if sock is not None and deadline is not None:
        deadline.watch(sock)


class _WatchedConnection:
    """Mixed into urllib3's connection classes: registers the socket with the thread's deadline at
    connect (a new connection) and at each request and response (a kept-alive one)."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


_WATCHED: dict[type, type] = {}
_WATCHED_LOCK = threading.Lock()


def _watched_pool(pool: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    with _WATCHED_LOCK:
        if pool not in _WATCHED:
            connection = type(f"Watched{pool.ConnectionCls.__name__}", (_WatchedConnection, pool.ConnectionCls), {})
            _WATCHED[pool] = type(f"Watched{pool.__name__}", (pool,), {"ConnectionCls": connection})
        return _WATCHED[pool]


def watched(adapter: HTTPAdapter) -> HTTPAdapter:
    """`adapter` (plain or SSRF-guarded) with every connection's socket under the thread's deadline."""
    manager = adapter.poolmanager
    manager.pool_classes_by_scheme = {scheme: _watched_pool(pool)
                                      for scheme, pool in manager.pool_classes_by_scheme.items()}
    return adapter
