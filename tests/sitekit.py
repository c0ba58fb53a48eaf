"""A scriptable news site served over HTTP on loopback, for tests and benchmarks."""

from __future__ import annotations

import gzip
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Union


@dataclass
class Response:
    """A canned response; `body` may be bytes or str (encoded with `charset`)."""

    body: Union[bytes, str] = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    charset: str = "utf-8"
    delay: float = 0.0

    def payload(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else self.body.encode(self.charset)


class _QuietServer(ThreadingHTTPServer):
    """Does not print tracebacks when a client hangs up early (tests do that on purpose)."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


Handler = Callable[["RequestInfo"], Response]
Route = Union[Response, Handler]


@dataclass(frozen=True)
class RequestInfo:
    """One request the site received."""

    method: str
    path: str
    headers: dict[str, str]
    at: float


class Site:
    """Serve `routes` (path -> Response or callable) on 127.0.0.1 in a thread.

    Use as a context manager; `url(path)` builds absolute URLs and `requests`
    lists what was asked, in order, so tests can assert counts and ordering.
    """

    def __init__(self, routes: dict[str, Route] | None = None, latency: float = 0.0,
                 host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.latency = latency
        self.host = host
        self.requests: list[RequestInfo] = []
        self._lock = threading.Lock()
        self._server = _QuietServer((host, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        """How many times `path` (without query) was requested."""
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, info: RequestInfo) -> None:
        with self._lock:
            self.requests.append(info)

    def _resolve(self, info: RequestInfo) -> Response:
        route = self.routes.get(info.path) or self.routes.get(info.path.split("?")[0])
        if route is None:
            return Response("<html><body><h1>Not found</h1></body></html>", status=404)
        return route(info) if callable(route) else route

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                info = RequestInfo("GET", self.path, dict(self.headers.items()), time.monotonic())
                site._record(info)
                response = _conditional(site._resolve(info), info.headers)
                delay = site.latency + response.delay
                if delay:
                    time.sleep(delay)
                body = response.payload()
                try:
                    self.send_response(response.status)
                    if response.content_type:
                        self.send_header("Content-Type", response.content_type)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    if "Content-Length" not in response.headers:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if response.status not in (204, 304):
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        return _Handler


def _conditional(response: Response, headers: dict[str, str]) -> Response:
    """Answer 304 when the request's validators match the response's ETag / Last-Modified."""
    if response.status != 200:
        return response
    lowered = {k.lower(): v for k, v in headers.items()}
    declared = {k.lower(): v for k, v in response.headers.items()}
    etag, modified = declared.get("etag"), declared.get("last-modified")
    by_etag = bool(etag) and lowered.get("if-none-match") == etag
    since = lowered.get("if-modified-since")
    by_date = bool(modified) and "if-none-match" not in lowered and since == modified
    if by_etag or by_date:
        return Response(b"", 304, dict(response.headers), content_type="", delay=response.delay)
    return response


def gzipped(data: Union[str, bytes]) -> bytes:
    """Gzip `data` (str is UTF-8 encoded), for .gz sitemaps."""
    return gzip.compress(data.encode("utf-8") if isinstance(data, str) else data)
