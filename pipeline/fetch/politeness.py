"""Per-host politeness: a minimum delay between request starts and a cap on concurrent connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit

from pipeline.models import Politeness
from pipeline.urls import host_of

MAX_CRAWL_DELAY = 60.0  # a robots.txt cannot make us wait longer than this per request


class HostGate:
    """Minimum spacing between request starts and a cap on concurrent connections, for one host."""

    def __init__(self, delay: float, connections: int) -> None:
        self.delay = delay
        self.connections = max(1, connections)
        self._slots = threading.BoundedSemaphore(self.connections)
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._last_start = 0.0

    def ready_at(self) -> float:
        with self._lock:
            return self._next_at

    def push_back(self, until: float) -> None:
        with self._lock:
            self._next_at = max(self._next_at, until)

    def raise_delay(self, delay: float) -> None:
        """Adopt a longer delay (robots.txt Crawl-delay, capped), counting from the last request."""
        delay = min(delay, MAX_CRAWL_DELAY)
        with self._lock:
            if delay > self.delay:
                self.delay = delay
                self._next_at = max(self._next_at, self._last_start + delay)

    @contextmanager
    def turn(self) -> Iterator[None]:
        self._slots.acquire()
        try:
            with self._lock:
                start = max(time.monotonic(), self._next_at)
                self._next_at = start + self.delay
                self._last_start = start
            pause = start - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            yield
        finally:
            self._slots.release()


class HostGates:
    """One `HostGate` per host, made on first use from the host's politeness (override or default)."""

    def __init__(self, default: Politeness, overrides: Mapping[str, Politeness] | None = None) -> None:
        self.default = default
        self.overrides = {host_of(k) if "://" in k else k.lower(): v for k, v in (overrides or {}).items()}
        self._gates: dict[str, HostGate] = {}
        self._lock = threading.Lock()

    @property
    def widest(self) -> int:
        """The largest connection cap of any host: what a connection pool must hold per host."""
        return max([self.default.max_connections, *(p.max_connections for p in self.overrides.values())])

    def politeness_for(self, host: str) -> Politeness:
        """The effective politeness of a host: its source's override or the defaults."""
        override = self.overrides.get(host) or self.overrides.get(urlsplit(f"//{host}").hostname or host)
        return override if override is not None else self.default

    def gate(self, host: str) -> HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                rule = self.politeness_for(host)
                gate = self._gates[host] = HostGate(rule.min_delay, rule.max_connections)
            return gate

    def for_url(self, url: str) -> HostGate:
        return self.gate(host_of(url))
