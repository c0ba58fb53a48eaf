"""Worst-case time of one URL: hostile loopback servers against the real `Fetcher`, default settings.

Every scenario is a server that never fails outright but never finishes either (or makes us wait as long as
it may); each is fetched once on a fresh `Fetcher`, all at the same time, and the wall time until the URL's
failure is printed with the bound the settings promise. With `--scale S` every timeout, deadline and the
servers' pace are multiplied by S (0.05: the same shape in about 6 s).

    .venv/bin/python bench/worst_case_url.py [--scale 1.0] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.errors import FetchError  # noqa: E402
from pipeline.fetch import Fetcher  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

Behaviour = Callable[[str, socket.socket, float], None]  # (path, connection, scale)
DRIP = 2.0  # seconds between two bytes of a trickle (issue 13: "one byte every 2 s")
HTML = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
NO_ROBOTS = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def drip(conn: socket.socket, data: bytes, scale: float, forever: bool = True) -> None:
    while True:
        for byte in data:
            conn.sendall(bytes([byte]))
            time.sleep(DRIP * scale)
        if not forever:
            return


def body_trickle(path: str, conn: socket.socket, scale: float) -> None:
    if path == "/robots.txt":
        conn.sendall(NO_ROBOTS)
        return
    conn.sendall(HTML + b"Connection: close\r\n\r\n<html><body>")
    drip(conn, b"x", scale)


def header_trickle(path: str, conn: socket.socket, scale: float) -> None:
    if path == "/robots.txt":
        conn.sendall(NO_ROBOTS)
        return
    conn.sendall(HTML)
    drip(conn, b"X-Slow: y\r\n", scale)


def silence(path: str, conn: socket.socket, scale: float) -> None:
    if path == "/robots.txt":
        conn.sendall(NO_ROBOTS)
        return
    time.sleep(3600)


def retry_after(path: str, conn: socket.socket, scale: float) -> None:
    if path == "/robots.txt":
        conn.sendall(NO_ROBOTS)
        return
    wait = max(1, round(3600 * scale))
    conn.sendall(f"HTTP/1.1 503 Service Unavailable\r\nRetry-After: {wait}\r\nContent-Length: 0\r\n\r\n".encode())


def robots_trickle(path: str, conn: socket.socket, scale: float) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nUser-agent: *\n")
    drip(conn, b"#", scale)


def slow_robots_then_body_trickle(path: str, conn: socket.socket, scale: float) -> None:
    """robots.txt completes just before its deadline (14 bytes at 2 s each: 28 of 30 s), then the page
    trickles: the URL's own deadline has to cover both."""
    if path == "/robots.txt":
        body = b"User-agent: *\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + f"Content-Length: {len(body)}\r\n\r\n"
                     .encode())
        drip(conn, body, scale, forever=False)
        return
    body_trickle(path, conn, scale)


SCENARIOS: dict[str, Behaviour] = {
    "body trickle, Connection: close, 1 byte / 2 s": body_trickle,
    "header trickle, 1 byte / 2 s": header_trickle,
    "accepts, never answers": silence,
    "503 with Retry-After: 1 h, every time": retry_after,
    "robots.txt trickle, 1 byte / 2 s": robots_trickle,
    "robots.txt in 28 s, then body trickle": slow_robots_then_body_trickle,
}


class HostileServer:
    """127.0.0.1:<port> serving `behaviour` to every connection, each in its own thread."""

    def __init__(self, behaviour: Behaviour, scale: float) -> None:
        self.behaviour, self.scale = behaviour, scale
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            path = head.split(b" ", 2)[1].decode()
            self.behaviour(path, conn, self.scale)
        except OSError:
            pass
        finally:
            conn.close()


def scaled_settings(scale: float) -> Settings:
    """The defaults, loopback allowed, every timeout and deadline times `scale`."""
    defaults = Settings()
    timed = ("connect_timeout", "read_timeout", "fetch_deadline", "robots_deadline", "max_retry_after",
             "backoff_factor")
    changes = {name: getattr(defaults, name) * scale for name in timed}
    changes["request_deadline"] = defaults.resolved_request_deadline * scale
    return defaults.with_(allow_private_networks=True, **changes)


def measure(name: str, behaviour: Behaviour, settings: Settings, scale: float) -> dict[str, object]:
    server = HostileServer(behaviour, scale)
    started = time.monotonic()
    with Fetcher(settings) as fetcher:
        try:
            fetcher.fetch(server.url + "/news/article")
            outcome = "fetched (!)"
        except FetchError as exc:
            outcome = exc.reason
    return {"scenario": name, "seconds": round(time.monotonic() - started, 2), "outcome": outcome}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every timeout and the servers' pace")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    settings = scaled_settings(args.scale)
    bound = settings.fetch_deadline
    print(f"settings x{args.scale:g}: request deadline {settings.resolved_request_deadline:g} s, "
          f"URL deadline {settings.fetch_deadline:g} s, robots.txt deadline {settings.robots_deadline:g} s, "
          f"{settings.max_retries} retries")
    with ThreadPoolExecutor(len(SCENARIOS)) as pool:
        results = list(pool.map(lambda item: measure(*item, settings, args.scale), SCENARIOS.items()))
    width = max(len(name) for name in SCENARIOS)
    for result in results:
        print(f"{result['scenario']:<{width}}  {result['seconds']:>8.2f} s  {result['outcome']}")
    worst = max(float(r["seconds"]) for r in results)  # type: ignore[arg-type]
    print(f"worst case of one URL (s): {worst:.2f} (bound: URL deadline {bound:g} s)")
    if args.json:
        args.json.write_text(json.dumps({"scale": args.scale, "bound": bound, "worst": worst, "scenarios": results},
                                        indent=2))
    return 0 if all(r["outcome"] != "fetched (!)" for r in results) else 1  # a hostile page is never a page


if __name__ == "__main__":
    raise SystemExit(main())
