"""The only module that speaks HTTP: polite, bounded, SSRF-guarded fetching on one session per run."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, ProtocolError, ReadTimeoutError

from pipeline.charset import choose_charset
from pipeline.errors import FetchError
from pipeline.models import FetchedPage, Politeness
from pipeline.settings import Settings
from pipeline.urls import host_of, site_root

log = logging.getLogger(__name__)

# --- tunables kept as data -------------------------------------------------------------------
KINDS = frozenset({"page", "feed", "sitemap", "robots"})
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", ""})
BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
BINARY_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/x-shockwave-flash",
        "application/msword",
        "application/vnd.ms-excel",
        "application/x-tar",
    }
)
TEXT_MARKERS = ("text/", "xml", "html", "json", "javascript")
CHUNK_BYTES = 64 * 1024
POOL_HOSTS = 128  # hosts whose keep-alive connections the session keeps
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
ROBOTS_MAX_REDIRECTS = 5
MAX_CRAWL_DELAY = 60.0  # a robots.txt cannot make us wait longer than this per request
BODY_DEADLINE_FACTOR = 3.0  # a body must arrive within read_timeout x this, however it trickles
ACCEPT = {
    "page": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "feed": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5",
    "sitemap": "application/xml,text/xml;q=0.9,application/x-gzip;q=0.8,*/*;q=0.5",
    "robots": "text/plain,*/*;q=0.5",
}


# --- SSRF guard ------------------------------------------------------------------------------
class UnsafeAddress(Exception):
    """Raised inside the connection when the peer address is not a public one."""


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (DNS), or raise FetchError("dns_error")."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}", reason="dns_error") from None
    return sorted({str(info[4][0]) for info in infos})


def _check_peer(sock: socket.socket, host: str) -> None:
    peer = sock.getpeername()[0]
    if not is_public_address(peer):
        sock.close()
        raise UnsafeAddress(f"{host} connected to non-public address {peer}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock, self.host)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock, self.host)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """Checks the connected peer address, so DNS rebinding after our own check cannot slip through."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


# --- robots.txt ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobotsRules:
    """The robots.txt group that applies to us, RFC 9309 style (longest match, Allow wins ties)."""

    rules: tuple[tuple[bool, str], ...] = ()
    crawl_delay: float | None = None
    sitemaps: tuple[str, ...] = ()
    error: str | None = None  # set when robots.txt could not be read: every URL of the host fails so

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if target == "/robots.txt":
            return True
        best_len, allowed = -1, True
        for allow, pattern in self.rules:
            if _robots_match(pattern, target) and (
                len(pattern) > best_len or (len(pattern) == best_len and allow)
            ):
                best_len, allowed = len(pattern), allow
        return allowed


ALLOW_ALL = RobotsRules()
DISALLOW_ALL = RobotsRules(rules=((False, "/"),))


def _robots_match(pattern: str, target: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*")
    if regex.endswith(r"\$"):
        regex = regex[:-2] + "$"
    return re.match(regex, target) is not None


def parse_robots(text: str, agent: str) -> RobotsRules:
    """Parse robots.txt for the product token `agent` (falls back to the `*` group)."""
    groups: list[tuple[list[str], list[tuple[bool, str]], list[float]]] = []
    sitemaps: list[str] = []
    in_agents = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            continue
        if key == "sitemap":
            sitemaps.append(value)
            continue
        if key == "user-agent":
            if not in_agents:
                groups.append(([], [], []))
            groups[-1][0].append(value.lower())
            in_agents = True
            continue
        in_agents = False
        if not groups:
            continue
        if key in ("allow", "disallow") and value:
            groups[-1][1].append((key == "allow", value))
        elif key == "crawl-delay":
            try:
                groups[-1][2].append(float(value))
            except ValueError:
                pass
    token = agent.split("/", 1)[0].strip().lower()
    chosen = [g for g in groups if any(a != "*" and a in token for a in g[0])] or [
        g for g in groups if "*" in g[0]
    ]
    rules = tuple(rule for g in chosen for rule in g[1])
    delays = [d for g in chosen for d in g[2]]
    return RobotsRules(rules, max(delays) if delays else None, tuple(sitemaps))


# --- per-host politeness --------------------------------------------------------------------
class _HostGate:
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
        """Adopt a longer delay (robots.txt Crawl-delay), counting from the last request."""
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


# --- statistics -----------------------------------------------------------------------------
@dataclass
class FetchStats:
    """Counters of one Fetcher (one run); `as_dict()` goes into the run summary."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    bytes: int = 0
    not_modified: int = 0
    robots_fetches: int = 0
    robots_refusals: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": dict(sorted(self.by_status.items())),
            "retries": self.retries,
            "bytes": self.bytes,
            "not_modified": self.not_modified,
            "robots_fetches": self.robots_fetches,
            "robots_refusals": self.robots_refusals,
            "failures": dict(sorted(self.failures.items())),
        }


# --- the fetcher ----------------------------------------------------------------------------
class _Retry(Exception):
    """A transient failure of one attempt: retried after `wait` (or the backoff) seconds."""

    def __init__(self, reason: str, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.reason, self.wait = reason, wait


@dataclass
class _Reply:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""


class Fetcher:
    """Polite, thread-safe HTTP client for one run. Use as a context manager or call `close()`."""

    def __init__(self, settings: Settings, politeness: Mapping[str, Politeness] | None = None) -> None:
        self.settings = settings
        self._politeness = {host_of(k) if "://" in k else k.lower(): v for k, v in (politeness or {}).items()}
        widest = max([settings.per_host_connections, *(p.max_connections for p in self._politeness.values())])
        self._session = self._new_session(settings, widest)
        self._lock = threading.Lock()
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, tuple[threading.Lock, list[RobotsRules]]] = {}
        self._safe_hosts: set[tuple[str, int]] = set()
        self._stats = FetchStats()

    @staticmethod
    def _new_session(settings: Settings, connections_per_host: int) -> requests.Session:
        """One session per run: no retries of its own (ours honour Retry-After), pools sized to the caps."""
        session = requests.Session()
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        session.headers.update({"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"})
        adapter_cls = HTTPAdapter if settings.allow_private_networks else _GuardedAdapter
        adapter = adapter_cls(
            pool_connections=POOL_HOSTS, pool_maxsize=max(4, connections_per_host), max_retries=0
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    @property
    def stats(self) -> FetchStats:
        """A snapshot of the counters so far."""
        with self._lock:
            s = self._stats
            return FetchStats(
                s.requests,
                Counter(s.by_status),
                s.retries,
                s.bytes,
                s.not_modified,
                s.robots_fetches,
                s.robots_refusals,
                Counter(s.failures),
            )

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self._stats, name, getattr(self._stats, name) + delta)

    # politeness ---------------------------------------------------------------------------
    def politeness_for(self, host: str) -> Politeness:
        """The effective politeness of a host: its source's override or the settings' defaults."""
        override = self._politeness.get(host) or self._politeness.get(urlsplit(f"//{host}").hostname or host)
        if override is not None:
            return override
        return Politeness(self.settings.per_host_delay, self.settings.per_host_connections)

    def _gate(self, host: str) -> _HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                rule = self.politeness_for(host)
                gate = self._gates[host] = _HostGate(rule.min_delay, rule.max_connections)
            return gate

    def max_connections(self, url: str) -> int:
        return self._gate(host_of(url)).connections

    def ready_at(self, url: str) -> float:
        """time.monotonic() moment from which the host of `url` may be asked again."""
        return self._gate(host_of(url)).ready_at()

    # robots.txt ---------------------------------------------------------------------------
    def robots(self, url: str) -> RobotsRules:
        """The robots.txt rules of the site of `url`, fetched once per run and cached."""
        root = site_root(url)
        with self._lock:
            slot = self._robots.setdefault(root, (threading.Lock(), []))
        with slot[0]:
            if not slot[1]:
                slot[1].append(self._load_robots(root))
            rules = slot[1][0]
        if rules.crawl_delay:
            self._gate(host_of(url)).raise_delay(min(rules.crawl_delay, MAX_CRAWL_DELAY))
        return rules

    def robots_sitemaps(self, url: str) -> list[str]:
        """The `Sitemap:` lines of the robots.txt of the site of `url`."""
        return list(self.robots(url).sitemaps)

    def _load_robots(self, root: str) -> RobotsRules:
        log.debug("fetching %s/robots.txt", root)
        self._count(robots_fetches=1)
        try:
            reply = self._fetch_chain(root + "/robots.txt", {}, "robots", ROBOTS_MAX_REDIRECTS)
        except FetchError as exc:
            if exc.reason.startswith("http_5"):  # RFC 9309: server error means assume complete disallow
                return RobotsRules(rules=DISALLOW_ALL.rules, error="robots_unavailable")
            if exc.reason in UNREACHABLE_REASONS:  # the host is down: its pages fail the same way, at once
                return RobotsRules(error=exc.reason)
            return ALLOW_ALL  # 4xx, redirect loop, odd content type: no usable robots.txt, all allowed
        text = reply.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        return parse_robots(text, self.settings.user_agent)

    def _check_robots(self, url: str) -> None:
        if not self.settings.respect_robots:
            return
        rules = self.robots(url)
        if rules.error:
            raise FetchError(
                f"robots.txt of {site_root(url)} unavailable ({rules.error})", reason=rules.error
            )
        if not rules.allows(url):
            self._count(robots_refusals=1)
            raise FetchError(f"robots.txt disallows {url}", reason="robots_disallowed")

    # safety -------------------------------------------------------------------------------
    def check_url(self, url: str) -> None:
        """Refuse non-http(s) URLs and, unless private networks are allowed, non-public hosts."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError(f"refusing non-http(s) URL {url!r}", reason="unsafe_url")
        if self.settings.allow_private_networks:
            return
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise FetchError(f"bad port in {url!r}", reason="invalid_url") from None
        key = (parts.hostname, port)
        with self._lock:
            if key in self._safe_hosts:
                return
        for address in resolve_addresses(parts.hostname, port):
            if not is_public_address(address):
                raise FetchError(
                    f"{parts.hostname} resolves to non-public address {address}", reason="unsafe_url"
                )
        with self._lock:
            self._safe_hosts.add(key)

    # fetching -----------------------------------------------------------------------------
    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None, kind: str = "page"
    ) -> FetchedPage:
        """GET `url` politely; 2xx and 304 give a FetchedPage, anything else raises FetchError."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        headers = {"Accept": ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            reply = self._fetch_chain(url, headers, kind, self.settings.max_redirects)
        except FetchError as exc:
            self._count_failure(exc.reason)
            raise
        except ValueError as exc:  # unparsable URL or Location header
            self._count_failure("invalid_url")
            raise FetchError(f"invalid URL in fetching {url!r}: {exc}", reason="invalid_url") from None
        if reply.status == 304:
            self._count(not_modified=1)
        return self._page(url, reply)

    def _count_failure(self, reason: str) -> None:
        with self._lock:
            self._stats.failures[reason] += 1

    def _page(self, url: str, reply: _Reply) -> FetchedPage:
        content_type = reply.headers.get("content-type", "")
        encoding = None
        if reply.body and (not content_type or any(m in content_type.lower() for m in TEXT_MARKERS)):
            encoding = choose_charset(reply.body, content_type)
        return FetchedPage(
            url=url,
            final_url=reply.url,
            status=reply.status,
            headers=reply.headers,
            body=reply.body,
            fetched_at=datetime.now(UTC),
            encoding=encoding,
        )

    def _fetch_chain(self, url: str, headers: dict[str, str], kind: str, max_redirects: int) -> _Reply:
        """Follow redirects by hand, checking scheme, address and robots.txt at every hop."""
        seen = {url}
        current = url
        for _hop in range(max_redirects + 1):
            self.check_url(current)
            if kind != "robots":
                self._check_robots(current)
            reply = self._with_retries(current, headers, kind)
            if reply.status not in REDIRECT_STATUSES:
                return self._final(reply)
            location = reply.headers.get("location")
            if not location:
                return self._final(reply)
            current = urljoin(current, location.strip())
            if current in seen:
                raise FetchError(f"redirect loop at {current}", reason="too_many_redirects")
            seen.add(current)
        raise FetchError(f"more than {max_redirects} redirects from {url}", reason="too_many_redirects")

    @staticmethod
    def _final(reply: _Reply) -> _Reply:
        if reply.status == 304 or 200 <= reply.status < 300:
            return reply
        raise FetchError(f"HTTP {reply.status} for {reply.url}", reason=f"http_{reply.status}")

    def _with_retries(self, url: str, headers: dict[str, str], kind: str) -> _Reply:
        gate = self._gate(host_of(url))
        attempt = 0
        while True:
            try:
                with gate.turn():
                    return self._attempt(url, headers, kind)
            except _Retry as retry:
                if attempt >= self.settings.max_retries:
                    raise FetchError(f"{retry} (after {attempt} retries)", reason=retry.reason) from None
                pause = self._pause(attempt, retry.wait)
                log.info("%s: %s, retry %d in %.2f s", url, retry.reason, attempt + 1, pause)
                gate.push_back(time.monotonic() + pause)
                self._count(retries=1)
                attempt += 1
                time.sleep(pause)

    def _pause(self, attempt: int, retry_after: float | None) -> float:
        backoff = self.settings.backoff_factor * (2**attempt)
        if retry_after is not None:
            backoff = retry_after
        return max(0.0, min(backoff, self.settings.max_retry_after))

    def _attempt(self, url: str, headers: dict[str, str], kind: str) -> _Reply:
        """One request: status line, headers and (for a final 2xx) the body within the size cap."""
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            response = self._session.get(
                url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            )
        except UnsafeAddress as exc:
            raise FetchError(str(exc), reason="unsafe_url") from None
        except requests.RequestException as exc:
            reason = classify_exception(exc)
            if reason in TRANSIENT_REASONS:
                raise _Retry(reason, f"{reason} fetching {url}: {exc}") from None
            raise FetchError(f"{reason} fetching {url}: {exc}", reason=reason) from None
        with response:
            self._count(requests=1)
            with self._lock:
                self._stats.by_status[response.status_code] += 1
            reply = _Reply(url, response.status_code, {k.lower(): v for k, v in response.headers.items()})
            if response.status_code in RETRY_STATUSES:
                raise _Retry(
                    f"http_{response.status_code}",
                    f"HTTP {response.status_code} for {url}",
                    parse_retry_after(reply.headers.get("retry-after")),
                )
            if 200 <= response.status_code < 300:
                self._check_type(url, reply.headers.get("content-type", ""), kind)
                reply.body = self._read_body(response, url, truncate=kind == "robots")
            return reply

    def _check_type(self, url: str, content_type: str, kind: str) -> None:
        mime = content_type.split(";", 1)[0].strip().lower()
        if kind == "page" and mime not in PAGE_TYPES:
            raise FetchError(f"{url} is {mime}, not HTML", reason="not_html")
        if mime.startswith(BINARY_PREFIXES) or mime in BINARY_TYPES:
            raise FetchError(f"{url} is {mime}", reason="not_html" if kind == "page" else "bad_content_type")

    def _read_body(self, response: requests.Response, url: str, *, truncate: bool) -> bytes:
        """Stream the body, stopping as soon as it passes the size cap or the body deadline."""
        cap = ROBOTS_MAX_BYTES if truncate else self.settings.max_response_bytes
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url} declares {declared} bytes, cap is {cap}", reason="too_large")
        deadline = self.settings.read_timeout * BODY_DEADLINE_FACTOR
        fired = threading.Event()
        watchdog = threading.Timer(deadline, _abort, args=(response, fired))
        watchdog.daemon = True
        watchdog.start()
        try:
            return self._read_chunks(response, url, cap, truncate)
        except requests.RequestException as exc:
            reason = "timeout" if fired.is_set() else classify_exception(exc)
            raise _Retry(reason, f"{reason} reading {url} (body deadline {deadline:.1f} s): {exc}") from None
        finally:
            watchdog.cancel()

    def _read_chunks(self, response: requests.Response, url: str, cap: int, truncate: bool) -> bytes:
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_content(CHUNK_BYTES):
            total += len(chunk)
            self._count(bytes=len(chunk))
            if total > cap:
                if truncate:
                    chunks.append(chunk[: len(chunk) - (total - cap)])
                    break
                raise FetchError(f"{url} is larger than {cap} bytes", reason="too_large")
            chunks.append(chunk)
        return b"".join(chunks)


def _abort(response: requests.Response, fired: threading.Event) -> None:
    """Watchdog: shut the socket of a response whose body trickles in too slowly (slowloris)."""
    fired.set()
    sock = getattr(getattr(response.raw, "_connection", None), "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


TRANSIENT_REASONS = frozenset({"timeout", "connection_error", "truncated", "dns_error"})
UNREACHABLE_REASONS = TRANSIENT_REASONS | {"tls_error", "unsafe_url"}


def classify_exception(exc: BaseException) -> str:
    """Map a requests/urllib3 exception to a short failure reason."""
    chain = list(_exception_chain(exc))
    if any(isinstance(e, (requests.Timeout, ReadTimeoutError, socket.timeout, TimeoutError)) for e in chain):
        return "timeout"
    if any(isinstance(e, NameResolutionError) or isinstance(e, socket.gaierror) for e in chain):
        return "dns_error"
    if any(type(e).__name__ == "IncompleteRead" for e in chain):
        return "truncated"
    if any(isinstance(e, requests.exceptions.ContentDecodingError) for e in chain):
        return "decode_error"
    if any(isinstance(e, requests.exceptions.SSLError) for e in chain):
        return "tls_error"
    if any(
        isinstance(
            e,
            (
                requests.exceptions.InvalidURL,
                requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema,
            ),
        )
        for e in chain
    ):
        return "invalid_url"
    return "connection_error"


def _exception_chain(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    yield exc
    if depth > 6:
        return
    nested = [a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)]
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        nested.append(reason)
    for cause in (exc.__cause__, exc.__context__):
        if cause is not None:
            nested.append(cause)
    if isinstance(exc, ProtocolError):
        nested.extend(a for a in exc.args if isinstance(a, BaseException))
    for inner in nested:
        if inner is not exc:
            yield from _exception_chain(inner, depth + 1)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


# --- many URLs ------------------------------------------------------------------------------
def fetch_many(
    fetcher: Fetcher, urls: Iterable[str], workers: int, *, kind: str = "page", lookahead: int | None = None
) -> Iterator[tuple[str, FetchedPage | FetchError]]:
    """Fetch `urls` in a bounded pool, host-aware: hosts proceed in parallel, each at its own pace.

    A URL is handed to a worker only when its host has a free connection and its delay has
    passed, so a slow host never occupies more than its own share of workers. At most
    `lookahead` (default workers*64) URLs are buffered from the iterator and at most `workers`
    are in flight. Results are yielded as they complete; per-URL failures are yielded, not raised.
    """
    workers = max(1, workers)
    scheduler = _Scheduler(fetcher, iter(urls), workers, lookahead or workers * 64, kind)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        yield from scheduler.run(pool)


class _Scheduler:
    """Per-host queues feeding a thread pool (see `fetch_many`)."""

    def __init__(
        self, fetcher: Fetcher, urls: Iterator[str], workers: int, lookahead: int, kind: str
    ) -> None:
        self.fetcher, self.urls, self.workers, self.lookahead, self.kind = (
            fetcher,
            urls,
            workers,
            lookahead,
            kind,
        )
        self.queues: dict[str, deque[str]] = {}
        self.buffered = 0
        self.exhausted = False
        self.running: dict[Future[FetchedPage], tuple[str, str]] = {}
        self.per_host: Counter[str] = Counter()

    def run(self, pool: ThreadPoolExecutor) -> Iterator[tuple[str, FetchedPage | FetchError]]:
        while True:
            self._refill()
            next_ready = self._dispatch(pool)
            if not self.running and not self.buffered and self.exhausted:
                return
            if self.running:
                timeout = None if next_ready is None else max(0.0, next_ready - time.monotonic())
                done, _ = wait(list(self.running), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    yield self._result(future)
            elif next_ready is not None:
                time.sleep(max(0.0, min(next_ready - time.monotonic(), 1.0)))

    def _refill(self) -> None:
        while not self.exhausted and self.buffered < self.lookahead:
            url = next(self.urls, None)
            if url is None:
                self.exhausted = True
                return
            self.queues.setdefault(host_of(url), deque()).append(url)
            self.buffered += 1

    def _dispatch(self, pool: ThreadPoolExecutor) -> float | None:
        """Submit what may start now; return the earliest moment a waiting host becomes ready."""
        next_ready: float | None = None
        now = time.monotonic()
        for host in list(self.queues):
            queue = self.queues[host]
            while queue and len(self.running) < self.workers:
                url = queue[0]
                if self.per_host[host] >= self.fetcher.max_connections(url):
                    break
                ready = self.fetcher.ready_at(url)
                if ready > now:
                    next_ready = ready if next_ready is None else min(next_ready, ready)
                    break
                queue.popleft()
                self.buffered -= 1
                self.per_host[host] += 1
                self.running[pool.submit(self.fetcher.fetch, url, kind=self.kind)] = (url, host)
            if not queue:
                del self.queues[host]
        return next_ready

    def _result(self, future: Future[FetchedPage]) -> tuple[str, FetchedPage | FetchError]:
        url, host = self.running.pop(future)
        self.per_host[host] -= 1
        try:
            return url, future.result()
        except FetchError as exc:
            return url, exc
        except Exception as exc:  # noqa: BLE001 - one URL must never stop the run
            return url, FetchError(f"unexpected {type(exc).__name__}: {exc}", reason="fetch_bug")
