"""Every wait has a deadline (issue 13 item 3): a request ends within its whole-response deadline however
the server trickles (status line, headers, a close-delimited or chunked body), a URL within its own
deadline whatever the retries, robots.txt within its deadline, and `abort()` ends requests in flight."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from pipeline.errors import FetchError
from pipeline.fetch import Fetcher, fetch_many
from pipeline.settings import Settings

from .helpers import RawServer, fast_settings

pytestmark = pytest.mark.timeout(60)
DRIP = 0.2  # seconds between the bytes a hostile server sends: far below the read timeout
SETTINGS = fast_settings(respect_robots=False, read_timeout=1.0, request_deadline=1.5, max_retries=0)
SLACK = 1.0  # what the deadline may be overshot by: the watchdog's thread, exception handling, a busy machine


def drip_forever(head: bytes, then: bytes = b"x") -> Callable[[socket.socket, RawServer], None]:
    """A behaviour sending `head` at once, then `then` one byte per DRIP seconds until cut off (or 60 s)."""

    def behaviour(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(head)
        for _ in range(int(60 / DRIP)):
            for byte in then:
                conn.sendall(bytes([byte]))
                server.count(1)
                time.sleep(DRIP)

    return behaviour


HOSTILE = {
    # no Content-Length, Connection: close: the body ends when the socket closes, so a shut socket
    # would otherwise look like a complete (short) page
    "close-delimited body": drip_forever(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
                                         b"<html><body><p>"),
    "chunked body": drip_forever(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n",
                                 b"1\r\nx\r\n"),
    "header trickle": drip_forever(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", b"X-Slow: y\r\n"),
    "status line trickle": drip_forever(b"", b"HTTP/1.1 200 OK\r\n"),
    "content-length body": drip_forever(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                        b"Content-Length: 100000\r\n\r\n"),
}


def timed_error(fetcher: Fetcher, url: str) -> tuple[FetchError, float]:
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url)
    return info.value, time.monotonic() - started


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_trickling_response_ends_at_the_request_deadline(name: str) -> None:
    with RawServer(HOSTILE[name]) as server, Fetcher(SETTINGS) as fetcher:
        err, elapsed = timed_error(fetcher, server.url + "/a")
    assert err.reason == "timeout", err
    assert SETTINGS.resolved_request_deadline - 0.1 <= elapsed < SETTINGS.resolved_request_deadline + SLACK
    assert server.sent < SETTINGS.resolved_request_deadline / DRIP * 10 + 20  # cut off, not read to the end


def test_a_close_delimited_page_arriving_in_time_is_whole() -> None:
    """The deadline does not cut honest close-delimited pages: only the ones still arriving when it fires."""

    def quick(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>")
        time.sleep(0.3)
        conn.sendall(b"<p>done</p></html>")

    with RawServer(quick) as server, Fetcher(SETTINGS) as fetcher:
        page = fetcher.fetch(server.url + "/a")
    assert page.body == b"<html><p>done</p></html>"


def test_each_hostile_url_is_a_recorded_failure_beside_a_healthy_one() -> None:
    """Through the scheduler: every trickling URL comes back as a `timeout` failure, the healthy page
    as a page, all within one request deadline (they run in parallel)."""

    def healthy(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html>ok</p>\n")

    servers = [RawServer(behaviour) for behaviour in (*HOSTILE.values(), healthy)]
    for server in servers:
        server.__enter__()
    try:
        urls = [server.url + "/page" for server in servers]
        started = time.monotonic()
        with Fetcher(SETTINGS) as fetcher:
            results = dict(fetch_many(fetcher, urls, workers=len(urls)))
        elapsed = time.monotonic() - started
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    assert elapsed < SETTINGS.resolved_request_deadline + SLACK
    failures = {url: r.reason for url, r in results.items() if isinstance(r, FetchError)}
    assert failures == {url: "timeout" for url in urls[:-1]}
    assert not isinstance(results[urls[-1]], FetchError)


def test_the_url_deadline_bounds_retries_and_pauses() -> None:
    """However many retries are allowed, one URL ends within `fetch_deadline`."""
    settings = SETTINGS.with_(max_retries=50, request_deadline=0.5, fetch_deadline=2.0, backoff_factor=0.2)
    with RawServer(HOSTILE["header trickle"]) as server, Fetcher(settings) as fetcher:
        err, elapsed = timed_error(fetcher, server.url + "/a")
    assert err.reason == "timeout" and elapsed < settings.fetch_deadline + SLACK
    assert 2 <= server.connections < 50


def test_a_trickling_robots_txt_ends_at_the_robots_deadline() -> None:
    """robots.txt trickles: it is given up at `robots_deadline` and the page fails (`timeout`) unfetched."""
    settings = SETTINGS.with_(respect_robots=True, request_deadline=10.0, robots_deadline=1.0)
    with RawServer(HOSTILE["close-delimited body"]) as server, Fetcher(settings) as fetcher:
        err, elapsed = timed_error(fetcher, server.url + "/a")
        stats = fetcher.stats
    assert err.reason == "timeout" and "robots.txt" in str(err)
    assert elapsed < settings.robots_deadline + SLACK
    assert server.connections == 1 and stats.robots_fetches == 1  # the page itself was never asked for


def test_robots_header_trickle_ends_at_the_robots_deadline() -> None:
    settings = SETTINGS.with_(respect_robots=True, request_deadline=10.0, robots_deadline=1.0)
    with RawServer(HOSTILE["header trickle"]) as server, Fetcher(settings) as fetcher:
        err, elapsed = timed_error(fetcher, server.url + "/a")
    assert err.reason == "timeout" and elapsed < settings.robots_deadline + SLACK


def test_abort_ends_requests_in_flight_and_refuses_new_ones() -> None:
    settings = SETTINGS.with_(request_deadline=30.0, fetch_deadline=30.0)
    with RawServer(HOSTILE["close-delimited body"]) as server, Fetcher(settings) as fetcher:
        threading.Timer(0.5, fetcher.abort).start()
        err, elapsed = timed_error(fetcher, server.url + "/a")
        again, instant = timed_error(fetcher, server.url + "/b")
    assert err.reason == "interrupted" and elapsed < 0.5 + SLACK
    assert again.reason == "interrupted" and instant < 0.1 and server.connections == 1


def test_settings_derive_the_request_deadline_from_the_read_timeout() -> None:
    assert Settings(read_timeout=7.0).resolved_request_deadline == 21.0
    assert Settings(read_timeout=7.0, request_deadline=2.0).resolved_request_deadline == 2.0
