"""Shared builders for the fetch/discovery tests: fast settings, feeds, sitemaps, raw sockets."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from xml.sax.saxutils import escape as esc

from pipeline.models import CacheEntry
from pipeline.settings import Settings

RSS_TYPE = "application/rss+xml; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"


def fast_settings(**changes: object) -> Settings:
    """Settings with loopback allowed and every wait/timeout small, so faults resolve quickly."""
    base = Settings(
        allow_private_networks=True,
        per_host_delay=0.0,
        per_host_connections=4,
        connect_timeout=1.0,
        read_timeout=1.0,
        max_retries=2,
        backoff_factor=0.01,
        max_retry_after=2.0,
        max_redirects=5,
    )
    return base.with_(**changes)


def rss(items: list[tuple[str, str | None, str]], title: str = "Test feed") -> str:
    """RSS 2.0 with (link, RFC 822 date or None, title) items."""
    entries = "".join(
        f"<item><title>{t}</title><link>{esc(link)}</link>"
        + (f"<pubDate>{d}</pubDate>" if d else "")
        + "</item>"
        for link, d, t in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://example.org/</link><description>d</description>{entries}</channel></rss>"
    )


def atom(items: list[tuple[str, str, str]]) -> str:
    """Atom 1.0 with (link, ISO date, title) entries."""
    entries = "".join(
        f'<entry><title>{t}</title><link rel="alternate" href="{esc(link)}"/><id>{esc(link)}</id>'
        f"<updated>{d}</updated><published>{d}</published></entry>"
        for link, d, t in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>A</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
    )


def urlset(items: list[tuple[str, str | None]]) -> str:
    """A sitemap <urlset> of (loc, lastmod or None)."""
    body = "".join(
        f"<url><loc>{esc(loc)}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</url>"
        for loc, m in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'
    )


def sitemap_index(children: list[tuple[str, str | None]]) -> str:
    body = "".join(
        f"<sitemap><loc>{esc(loc)}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</sitemap>"
        for loc, m in children
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>'
    )


def news_sitemap(items: list[tuple[str, str, str]]) -> str:
    """A Google News sitemap of (loc, publication_date, title)."""
    body = "".join(
        f"<url><loc>{esc(loc)}</loc><news:news><news:publication><news:name>T</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{d}</news:publication_date><news:title>{t}</news:title></news:news></url>"
        for loc, d, t in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{body}</urlset>'
    )


def rfc822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


class RawServer:
    """A TCP server on 127.0.0.1 whose per-connection behaviour is a function of the socket.

    `sent` counts the bytes the behaviour managed to write; `connections` how many arrived.
    """

    def __init__(self, behaviour: Callable[[socket.socket, RawServer], None]) -> None:
        self.behaviour = behaviour
        self.sent = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def count(self, n: int) -> None:
        with self._lock:
            self.sent += n

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            read_request(conn)
            self.behaviour(conn, self)
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def read_request(conn: socket.socket) -> bytes:
    """Read one request head (up to the blank line)."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def reset(conn: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0): the client sees 'connection reset'."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


@contextmanager
def unresponsive_port() -> Iterator[str]:
    """A listening port whose accept queue is full, so new connections hang (connect timeout)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(8):  # fill the SYN/accept backlog; later connects are not answered
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for s in fillers:
            s.close()
        server.close()


class ConcurrencyProbe:
    """A route handler that holds each request `hold` seconds and records the peak number in flight."""

    def __init__(self, body: str, hold: float) -> None:
        self.body, self.hold = body, hold
        self.active = self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, _: object) -> object:
        from pipeline.newssite import Response

        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(self.hold)
        with self._lock:
            self.active -= 1
        return Response(self.body)


class MemoryHttpCache:
    """In-process `HttpCache` for the discovery tests (the pipeline's is the `Store`)."""

    def __init__(self) -> None:
        self.entries: dict[str, CacheEntry] = {}

    def lookup(self, url: str) -> CacheEntry | None:
        return self.entries.get(url)

    def record(
        self, url: str, *, etag: str | None, last_modified: str | None, status: int | None, failed: bool
    ) -> None:
        previous = self.entries.get(url) or CacheEntry()
        if failed:
            self.entries[url] = CacheEntry(previous.etag, previous.last_modified, status,
                                           previous.consecutive_failures + 1)
        else:
            self.entries[url] = CacheEntry(etag or previous.etag if status == 304 else etag,
                                           last_modified or previous.last_modified if status == 304 else last_modified,
                                           status, 0)
