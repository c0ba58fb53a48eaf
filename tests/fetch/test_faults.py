"""HTTP faults (issue 8 item 1): each ends as a FetchError with a reason, or a correct page; never a hang."""

from __future__ import annotations

import gzip
import socket
import time
from email.utils import formatdate

import pytest

from pipeline.charset import choose_charset, decode_html
from pipeline.errors import FetchError
from pipeline.fetch import CHUNK_BYTES, Fetcher
from pipeline.newssite import Response, Site, sequence
from pipeline.settings import Settings

from .helpers import RawServer, fast_settings, reset, unresponsive_port

pytestmark = pytest.mark.timeout(30)
HTML = "<html><body><p>ok</p></body></html>"
NO_ROBOTS = fast_settings(respect_robots=False)


def fetch_error(fetcher: Fetcher, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url, **kwargs)  # type: ignore[arg-type]
    return info.value


# --- server errors and rate limits ----------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_recorded(status: int) -> None:
    with Site({"/a": Response(status=status)}) as site, Fetcher(NO_ROBOTS) as f:
        err = fetch_error(f, site.url("/a"))
        stats = f.stats
    assert err.reason == f"http_{status}"
    assert site.hits("/a") == NO_ROBOTS.max_retries + 1 and stats.retries == NO_ROBOTS.max_retries


def test_transient_503_then_success() -> None:
    with Site({"/a": sequence(Response(status=503), Response(HTML))}) as site, Fetcher(NO_ROBOTS) as f:
        page = f.fetch(site.url("/a"))
    assert page.status == 200 and site.hits("/a") == 2


def test_404_is_not_retried() -> None:
    with Site() as site, Fetcher(NO_ROBOTS) as f:
        assert fetch_error(f, site.url("/missing")).reason == "http_404"
    assert site.hits("/missing") == 1


def test_429_with_retry_after_seconds_is_honoured_then_succeeds() -> None:
    limited = Response(status=429, headers={"Retry-After": "1"})
    with Site({"/a": sequence(limited, Response(HTML))}) as site, Fetcher(NO_ROBOTS) as f:
        page = f.fetch(site.url("/a"))
    first, second = (r.at for r in site.requests)
    assert page.status == 200 and site.hits("/a") == 2
    assert second - first >= 0.95  # the backoff alone would be 0.01 s


def test_429_with_retry_after_http_date() -> None:
    limited = Response(status=429, headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)})
    with Site({"/a": sequence(limited, Response(HTML))}) as site, Fetcher(NO_ROBOTS) as f:
        f.fetch(site.url("/a"))
    first, second = (r.at for r in site.requests)
    assert 0.9 <= second - first <= 2.6


def test_429_without_retry_after_backs_off_exponentially() -> None:
    settings = NO_ROBOTS.with_(backoff_factor=0.1, max_retries=3)
    with Site({"/a": Response(status=429)}) as site, Fetcher(settings) as f:
        err = fetch_error(f, site.url("/a"))
    starts = [r.at for r in site.requests]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert err.reason == "http_429" and len(starts) == 4
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39


def test_retry_after_is_capped() -> None:
    settings = NO_ROBOTS.with_(max_retry_after=0.3, max_retries=1)
    limited = Response(status=429, headers={"Retry-After": "3600"})
    with Site({"/a": sequence(limited, Response(HTML))}) as site, Fetcher(settings) as f:
        started = time.monotonic()
        f.fetch(site.url("/a"))
    assert 0.25 <= time.monotonic() - started < 2.0 and site.hits("/a") == 2


def test_retry_after_also_delays_other_requests_to_that_host() -> None:
    limited = Response(status=503, headers={"Retry-After": "1"})
    with (
        Site({"/a": sequence(limited, Response(HTML)), "/b": Response(HTML)}) as site,
        Fetcher(NO_ROBOTS.with_(max_retries=1)) as f,
    ):
        f.fetch(site.url("/a"))
        f.fetch(site.url("/b"))
    assert [r.path for r in site.requests] == ["/a", "/a", "/b"]
    assert site.requests[1].at - site.requests[0].at >= 0.95


# --- timeouts and broken connections ---------------------------------------------------------
def test_connect_timeout() -> None:
    settings = NO_ROBOTS.with_(connect_timeout=0.3, max_retries=1)
    with unresponsive_port() as url, Fetcher(settings) as f:
        started = time.monotonic()
        err = fetch_error(f, url + "/a")
    assert err.reason == "timeout" and time.monotonic() - started < 5


def test_read_timeout_before_headers() -> None:
    settings = NO_ROBOTS.with_(read_timeout=0.2, max_retries=1)
    with Site({"/slow": Response(HTML, delay=1.0)}) as site, Fetcher(settings) as f:
        err = fetch_error(f, site.url("/slow"))
    assert err.reason == "timeout" and site.hits("/slow") == 2


def test_read_timeout_mid_body() -> None:
    def stall(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<html>")
        time.sleep(1.5)

    with RawServer(stall) as server, Fetcher(NO_ROBOTS.with_(read_timeout=0.2, max_retries=0)) as f:
        err = fetch_error(f, server.url + "/a")
    assert err.reason == "timeout"


def test_trickling_body_is_cut_at_the_body_deadline() -> None:
    """Slowloris: a byte every 50 ms never trips the read timeout, the body deadline stops it."""

    def drip(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(400):
            conn.sendall(b"x")
            server.count(1)
            time.sleep(0.05)

    settings = NO_ROBOTS.with_(read_timeout=0.3, max_retries=0)
    with RawServer(drip) as server, Fetcher(settings) as f:
        started = time.monotonic()
        err = fetch_error(f, server.url + "/a")
        elapsed = time.monotonic() - started
    assert err.reason == "timeout" and elapsed < 0.3 * 3 + 1.0 and server.sent < 100


def test_connection_reset_mid_body() -> None:
    def rst(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        conn.sendall(b"<html>" + b"x" * 2000)
        time.sleep(0.05)
        reset(conn)

    with RawServer(rst) as server, Fetcher(NO_ROBOTS) as f:
        err = fetch_error(f, server.url + "/a")
    assert err.reason == "connection_error"
    assert server.connections == NO_ROBOTS.max_retries + 1  # transient: retried, then recorded


def test_truncated_body() -> None:
    def short(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n")
        conn.sendall(b"<html>" + b"x" * 494)
        conn.shutdown(socket.SHUT_WR)

    with RawServer(short) as server, Fetcher(NO_ROBOTS.with_(max_retries=1)) as f:
        err = fetch_error(f, server.url + "/a")
    assert err.reason == "truncated" and server.connections == 2


def test_connection_refused() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with Fetcher(NO_ROBOTS.with_(max_retries=1)) as f:
        assert fetch_error(f, f"http://127.0.0.1:{port}/").reason == "connection_error"


# --- redirects -------------------------------------------------------------------------------
def test_redirect_loop() -> None:
    with (
        Site(
            {
                "/a": Response(status=302, headers={"Location": "/b"}),
                "/b": Response(status=302, headers={"Location": "/a"}),
            }
        ) as site,
        Fetcher(NO_ROBOTS) as f,
    ):
        err = fetch_error(f, site.url("/a"))
    assert err.reason == "too_many_redirects" and site.hits("/a") == 1 and site.hits("/b") == 1


def test_too_many_redirects() -> None:
    routes = {f"/r{i}": Response(status=301, headers={"Location": f"/r{i + 1}"}) for i in range(20)}
    with Site(routes) as site, Fetcher(NO_ROBOTS.with_(max_redirects=3)) as f:
        err = fetch_error(f, site.url("/r0"))
    assert err.reason == "too_many_redirects"
    assert [r.path for r in site.requests] == ["/r0", "/r1", "/r2", "/r3"]


# --- size cap ----------------------------------------------------------------------------------
def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    with (
        Site({"/big": Response("x" * 50_000)}) as site,
        Fetcher(NO_ROBOTS.with_(max_response_bytes=1000)) as f,
    ):
        err = fetch_error(f, site.url("/big"))
        assert f.stats.bytes == 0
    assert err.reason == "too_large"


def test_endless_body_is_stopped_while_streaming() -> None:
    cap = 200_000

    def forever(conn: socket.socket, server: RawServer) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>")
        block = b"x" * 16384
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            conn.sendall(block)
            server.count(len(block))

    with RawServer(forever) as server, Fetcher(NO_ROBOTS.with_(max_response_bytes=cap)) as f:
        started = time.monotonic()
        err = fetch_error(f, server.url + "/a")
        read = f.stats.bytes
    assert err.reason == "too_large" and time.monotonic() - started < 5
    assert cap < read <= cap + CHUNK_BYTES
    time.sleep(0.2)
    assert server.sent < cap + 8 * 1024 * 1024  # the server was cut off, it did not stream for 20 s


def test_gzip_bomb_is_stopped_at_the_cap() -> None:
    bomb = gzip.compress(b"\0" * 30_000_000)
    settings = NO_ROBOTS.with_(max_response_bytes=1_000_000)
    with (
        Site({"/bomb": Response(bomb, headers={"Content-Encoding": "gzip"})}) as site,
        Fetcher(settings) as f,
    ):
        err = fetch_error(f, site.url("/bomb"))
        read = f.stats.bytes
    assert err.reason == "too_large" and read < 30_000_000


# --- content types, charsets, empty bodies --------------------------------------------------------
@pytest.mark.parametrize(
    "content_type",
    ["image/png", "application/pdf", "application/octet-stream", "video/mp4", "application/zip"],
)
def test_non_html_pages_are_refused_without_reading_the_body(content_type: str) -> None:
    with (
        Site({"/x": Response(b"\x89PNG\r\n\x1a\n" + b"\0" * 5000, content_type=content_type)}) as site,
        Fetcher(NO_ROBOTS) as f,
    ):
        err = fetch_error(f, site.url("/x"))
        assert f.stats.bytes == 0
    assert err.reason == "not_html" and site.hits("/x") == 1


FRENCH = (
    "<html><head><title>Caf\u00e9</title></head><body><p>Le caf\u00e9 cr\u00e8me \u00e9tait tr\u00e8s "
    "appr\u00e9ci\u00e9 \u2014 d\u00e9j\u00e0 na\u00efve, l'\u00e9l\u00e8ve pr\u00e9f\u00e9rait la "
    "cr\u00eape br\u00fbl\u00e9e.</p></body></html>"
)


def test_wrong_declared_charset_is_not_trusted() -> None:
    body = FRENCH.encode("cp1252")
    content_type = "text/html; charset=utf-8"
    with Site({"/a": Response(body, content_type=content_type)}) as site, Fetcher(NO_ROBOTS) as f:
        page = f.fetch(site.url("/a"))
    assert page.encoding is not None and page.encoding != "utf-8"  # the declaration cannot decode it
    assert page.encoding == choose_charset(body, content_type)
    assert "\ufffd" not in page.body.decode(page.encoding, errors="replace")


def test_wrong_declared_charset_decodes_western_text_exactly() -> None:
    body = FRENCH.encode("cp1252")
    assert decode_html(body, "text/html; charset=utf-8")[0] == FRENCH


def test_meta_charset_used_when_header_has_none() -> None:
    body = ('<html><head><meta charset="iso-8859-15"></head><body>\u20ac 5</body></html>').encode(
        "iso-8859-15"
    )
    with Site({"/a": Response(body, content_type="text/html")}) as site, Fetcher(NO_ROBOTS) as f:
        page = f.fetch(site.url("/a"))
    assert page.encoding == "iso8859-15" and "\u20ac 5" in page.body.decode(page.encoding)


def test_mixed_encodings_do_not_break_the_fetch() -> None:
    body = (
        "<html><body><p>UTF-8: caf\u00e9</p>".encode()
        + "<p>cp1252: na\u00efve</p>".encode("cp1252")
        + b"</body></html>"
    )
    with (
        Site({"/a": Response(body, content_type="text/html; charset=utf-8")}) as site,
        Fetcher(NO_ROBOTS) as f,
    ):
        page = f.fetch(site.url("/a"))
    assert page.body == body  # the raw layer keeps the exact bytes
    text, codec = decode_html(page.body, page.content_type)
    assert page.encoding == codec and "UTF-8: caf" in text and "</p>" in text


def test_empty_200_is_a_page_with_an_empty_body() -> None:
    with Site({"/a": Response(b"")}) as site, Fetcher(NO_ROBOTS) as f:
        page = f.fetch(site.url("/a"))
    assert (page.status, page.body, page.encoding) == (200, b"", None)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "http:///nohost",
    ],
)
def test_non_http_urls_are_unsafe(url: str) -> None:
    with Fetcher(NO_ROBOTS) as f:
        assert fetch_error(f, url).reason == "unsafe_url"


@pytest.mark.parametrize("url", ["http://[::1/x", "http://example.com:99999/", "http://exa mple.com/"])
def test_unparsable_urls_are_invalid(url: str) -> None:
    with Fetcher(NO_ROBOTS) as f:
        assert fetch_error(f, url).reason in ("invalid_url", "unsafe_url", "dns_error")


def test_unparsable_redirect_location_is_invalid() -> None:
    with (
        Site({"/a": Response(status=302, headers={"Location": "http://[::1/x"})}) as site,
        Fetcher(NO_ROBOTS) as f,
    ):
        assert fetch_error(f, site.url("/a")).reason == "invalid_url"


def test_redirect_to_a_non_http_scheme_is_unsafe() -> None:
    with (
        Site({"/a": Response(status=302, headers={"Location": "file:///etc/passwd"})}) as site,
        Fetcher(NO_ROBOTS) as f,
    ):
        assert fetch_error(f, site.url("/a")).reason == "unsafe_url"


def test_dead_host_robots_failure_is_cached_for_the_run(settings: Settings) -> None:
    with unresponsive_port() as url, Fetcher(settings.with_(connect_timeout=0.2, max_retries=0)) as f:
        started = time.monotonic()
        reasons = [fetch_error(f, f"{url}/p{i}").reason for i in range(5)]
        elapsed = time.monotonic() - started
    assert reasons == ["timeout"] * 5 and elapsed < 2  # one robots attempt, not one per URL
