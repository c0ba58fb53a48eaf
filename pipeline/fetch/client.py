"""The `Fetcher`: one session per run, retries, redirects checked hop by hop, streaming under a size cap,
every request under a whole-response deadline and every URL under a deadline of its own."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import requests
from urllib3.exceptions import NameResolutionError, ProtocolError, ReadTimeoutError

from pipeline.charset import choose_charset
from pipeline.errors import FetchError, Reason, http_reason
from pipeline.fetch.deadline import Deadline, watched
from pipeline.fetch.politeness import HostGates
from pipeline.fetch.robots import (
    ROBOTS_MAX_BYTES,
    ROBOTS_MAX_REDIRECTS,
    RobotsCache,
    RobotsRules,
    parse_robots,
    unreadable_robots,
)
from pipeline.fetch.ssrf import AddressGuard, UnsafeAddress
from pipeline.models import FetchedPage, FetchKind, Politeness
from pipeline.settings import Settings
from pipeline.urls import site_root

log = logging.getLogger(__name__)

# --- tunables kept as data -------------------------------------------------------------------
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
ACCEPT = {
    FetchKind.PAGE: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    FetchKind.FEED: "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5",
    FetchKind.SITEMAP: "application/xml,text/xml;q=0.9,application/x-gzip;q=0.8,*/*;q=0.5",
    FetchKind.ROBOTS: "text/plain,*/*;q=0.5",
}
TRANSIENT_REASONS = frozenset({Reason.TIMEOUT, Reason.CONNECTION_ERROR, Reason.TRUNCATED, Reason.DNS_ERROR})


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

    def copy(self) -> FetchStats:
        return FetchStats(self.requests, Counter(self.by_status), self.retries, self.bytes, self.not_modified,
                          self.robots_fetches, self.robots_refusals, Counter(self.failures))


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
        self.gates = HostGates(Politeness(settings.per_host_delay, settings.per_host_connections), politeness)
        self.guard = AddressGuard(settings.allow_private_networks)
        self._robots = RobotsCache(self._load_robots)
        self._session = self._new_session(settings, self.guard, self.gates.widest)
        self._lock = threading.Lock()
        self._stats = FetchStats()
        self._stopping = threading.Event()
        self._active: set[Deadline] = set()  # the deadlines of the requests in flight (see `abort`)

    @staticmethod
    def _new_session(settings: Settings, guard: AddressGuard, connections_per_host: int) -> requests.Session:
        """One session per run: no retries of its own (ours honour Retry-After), pools sized to the caps."""
        session = requests.Session()
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        session.headers.update({"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"})
        adapter = watched(guard.adapter(pool_connections=POOL_HOSTS, pool_maxsize=max(4, connections_per_host),
                                        max_retries=0))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def abort(self) -> None:
        """The run is stopping: requests in flight end now, later ones fail at once (`interrupted`), and
        retry pauses are cut short, so the fetch and discovery threads finish within moments."""
        self._stopping.set()
        with self._lock:
            active = list(self._active)
        for deadline in active:
            deadline.fire()

    @property
    def stats(self) -> FetchStats:
        """A snapshot of the counters so far."""
        with self._lock:
            return self._stats.copy()

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self._stats, name, getattr(self._stats, name) + delta)

    def _count_failure(self, reason: str) -> None:
        with self._lock:
            self._stats.failures[reason] += 1

    # politeness ---------------------------------------------------------------------------
    def politeness_for(self, host: str) -> Politeness:
        """The effective politeness of a host: its source's override or the settings' defaults."""
        return self.gates.politeness_for(host)

    def max_connections(self, url: str) -> int:
        return self.gates.for_url(url).connections

    def ready_at(self, url: str) -> float:
        """time.monotonic() moment from which the host of `url` may be asked again."""
        return self.gates.for_url(url).ready_at()

    # robots.txt ---------------------------------------------------------------------------
    def robots(self, url: str) -> RobotsRules:
        """The robots.txt rules of the site of `url`, fetched once per run and cached."""
        rules = self._robots.rules(url)
        if rules.crawl_delay:
            self.gates.for_url(url).raise_delay(rules.crawl_delay)
        return rules

    def robots_sitemaps(self, url: str) -> list[str]:
        """The `Sitemap:` lines of the robots.txt of the site of `url`."""
        return list(self.robots(url).sitemaps)

    def _load_robots(self, root: str) -> RobotsRules:
        log.debug("fetching %s/robots.txt", root)
        self._count(robots_fetches=1)
        budget = Deadline(self.settings.robots_deadline)
        try:
            reply = self._fetch_chain(root + "/robots.txt", {}, FetchKind.ROBOTS, ROBOTS_MAX_REDIRECTS, budget)
        except FetchError as exc:
            return unreadable_robots(exc.reason, self.settings.user_agent)
        text = reply.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        return parse_robots(text, self.settings.user_agent)

    def _check_robots(self, url: str) -> None:
        if not self.settings.respect_robots:
            return
        rules = self.robots(url)
        if rules.error:
            raise FetchError(f"robots.txt of {site_root(url)} unavailable ({rules.error})", reason=rules.error)
        if not rules.allows(url):
            self._count(robots_refusals=1)
            raise FetchError(f"robots.txt disallows {url}", reason=Reason.ROBOTS_DISALLOWED)

    # fetching -----------------------------------------------------------------------------
    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None,
        kind: FetchKind = FetchKind.PAGE,
    ) -> FetchedPage:
        """GET `url` politely; 2xx and 304 give a FetchedPage, anything else raises FetchError."""
        kind = FetchKind(kind)
        headers = {"Accept": ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        budget = Deadline(self.settings.fetch_deadline)  # the whole URL: robots.txt, hops, retries, pauses
        try:
            reply = self._fetch_chain(url, headers, kind, self.settings.max_redirects, budget)
        except FetchError as exc:
            self._count_failure(exc.reason)
            raise
        except ValueError as exc:  # unparsable URL or Location header
            self._count_failure(Reason.INVALID_URL)
            raise FetchError(f"invalid URL in fetching {url!r}: {exc}", reason=Reason.INVALID_URL) from None
        if reply.status == 304:
            self._count(not_modified=1)
        return self._page(url, reply)

    def _page(self, url: str, reply: _Reply) -> FetchedPage:
        content_type = reply.headers.get("content-type", "")
        encoding = None
        if reply.body and (not content_type or any(m in content_type.lower() for m in TEXT_MARKERS)):
            encoding = choose_charset(reply.body, content_type)
        return FetchedPage(url=url, final_url=reply.url, status=reply.status, headers=reply.headers,
                           body=reply.body, fetched_at=datetime.now(UTC), encoding=encoding)

    def _fetch_chain(self, url: str, headers: dict[str, str], kind: FetchKind, max_redirects: int,
                     budget: Deadline) -> _Reply:
        """Follow redirects by hand, checking scheme, address and robots.txt at every hop."""
        seen = {url}
        current = url
        for _hop in range(max_redirects + 1):
            self.guard.check(current)
            if kind != FetchKind.ROBOTS:
                self._check_robots(current)
            reply = self._with_retries(current, headers, kind, budget)
            if reply.status not in REDIRECT_STATUSES:
                return self._final(reply)
            location = reply.headers.get("location")
            if not location:
                return self._final(reply)
            current = urljoin(current, location.strip())
            if current in seen:
                raise FetchError(f"redirect loop at {current}", reason=Reason.TOO_MANY_REDIRECTS)
            seen.add(current)
        raise FetchError(f"more than {max_redirects} redirects from {url}", reason=Reason.TOO_MANY_REDIRECTS)

    @staticmethod
    def _final(reply: _Reply) -> _Reply:
        if reply.status == 304 or 200 <= reply.status < 300:
            return reply
        raise FetchError(f"HTTP {reply.status} for {reply.url}", reason=http_reason(reply.status))

    def _with_retries(self, url: str, headers: dict[str, str], kind: FetchKind, budget: Deadline) -> _Reply:
        gate = self.gates.for_url(url)
        attempt = 0
        while True:
            try:
                with gate.turn():
                    return self._attempt(url, headers, kind, budget)
            except _Retry as retry:
                if attempt >= self.settings.max_retries:
                    raise FetchError(f"{retry} (after {attempt} retries)", reason=retry.reason) from None
                pause = self._pause(attempt, retry.wait)
                if pause >= budget.remaining():  # no time left for another try: fail now, not after a sleep
                    raise FetchError(f"{retry} (deadline of {budget.seconds:g} s for the URL reached)",
                                     reason=retry.reason) from None
                log.info("%s: %s, retry %d in %.2f s", url, retry.reason, attempt + 1, pause)
                gate.push_back(time.monotonic() + pause)
                self._count(retries=1)
                attempt += 1
                if self._stopping.wait(pause):
                    raise FetchError(f"run interrupted before fetching {url}", reason=Reason.INTERRUPTED) from None

    def _pause(self, attempt: int, retry_after: float | None) -> float:
        backoff = self.settings.backoff_factor * (2**attempt)
        if retry_after is not None:
            backoff = retry_after
        return max(0.0, min(backoff, self.settings.max_retry_after))

    def _attempt(self, url: str, headers: dict[str, str], kind: FetchKind, budget: Deadline) -> _Reply:
        """One request under its whole-response deadline (connect, headers, body: however the server sends
        them), itself within the URL's `budget`."""
        if self._stopping.is_set():
            raise FetchError(f"run interrupted before fetching {url}", reason=Reason.INTERRUPTED)
        if budget.expired:
            raise FetchError(f"deadline of {budget.seconds:g} s for {url} reached", reason=Reason.TIMEOUT)
        deadline = budget.within(self.settings.resolved_request_deadline)
        with self._lock:
            self._active.add(deadline)
        try:
            with deadline.enforced():
                reply = self._exchange(url, headers, kind, deadline)
        except requests.RequestException as exc:
            raise self._deadline_error(url, deadline) or _Retry(
                classify_exception(exc), f"{classify_exception(exc)} reading {url}: {exc}") from None
        except (_Retry, FetchError) as exc:
            raise self._deadline_error(url, deadline) or exc from None
        finally:
            with self._lock:
                self._active.discard(deadline)
        if deadline.fired:  # a close-delimited body simply ends when its socket is shut: not a page
            raise self._deadline_error(url, deadline) or _Retry(Reason.TIMEOUT, f"timeout reading {url}")
        return reply

    def _deadline_error(self, url: str, deadline: Deadline) -> Exception | None:
        """The error to raise when the deadline fired (or the run is stopping), else None."""
        if self._stopping.is_set():
            return FetchError(f"run interrupted while fetching {url}", reason=Reason.INTERRUPTED)
        if deadline.fired:
            return _Retry(Reason.TIMEOUT, f"timeout fetching {url}: no complete response within "
                                          f"{deadline.seconds:.1f} s")
        return None

    def _exchange(self, url: str, headers: dict[str, str], kind: FetchKind, deadline: Deadline) -> _Reply:
        """Status line, headers and (for a final 2xx) the body within the size cap."""
        timeout = (min(self.settings.connect_timeout, deadline.remaining() or 0.001), self.settings.read_timeout)
        try:
            response = self._session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
        except UnsafeAddress as exc:
            raise FetchError(str(exc), reason=Reason.UNSAFE_URL) from None
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
                raise _Retry(http_reason(response.status_code), f"HTTP {response.status_code} for {url}",
                             parse_retry_after(reply.headers.get("retry-after")))
            if 200 <= response.status_code < 300:
                _check_type(url, reply.headers.get("content-type", ""), kind)
                reply.body = self._read_body(response, url, truncate=kind == FetchKind.ROBOTS)
            return reply

    def _read_body(self, response: requests.Response, url: str, *, truncate: bool) -> bytes:
        """Stream the body, stopping as soon as it passes the size cap (the deadline shuts the socket)."""
        cap = ROBOTS_MAX_BYTES if truncate else self.settings.max_response_bytes
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url} declares {declared} bytes, cap is {cap}", reason=Reason.TOO_LARGE)
        return self._read_chunks(response, url, cap, truncate)

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
                raise FetchError(f"{url} is larger than {cap} bytes", reason=Reason.TOO_LARGE)
            chunks.append(chunk)
        return b"".join(chunks)


def _check_type(url: str, content_type: str, kind: FetchKind) -> None:
    mime = content_type.split(";", 1)[0].strip().lower()
    if kind == FetchKind.PAGE and mime not in PAGE_TYPES:
        raise FetchError(f"{url} is {mime}, not HTML", reason=Reason.NOT_HTML)
    if mime.startswith(BINARY_PREFIXES) or mime in BINARY_TYPES:
        raise FetchError(f"{url} is {mime}",
                         reason=Reason.NOT_HTML if kind == FetchKind.PAGE else Reason.BAD_CONTENT_TYPE)


def classify_exception(exc: BaseException) -> str:
    """Map a requests/urllib3 exception to a short failure reason."""
    chain = list(_exception_chain(exc))
    if any(isinstance(e, (requests.Timeout, ReadTimeoutError, socket.timeout, TimeoutError)) for e in chain):
        return Reason.TIMEOUT
    if any(isinstance(e, (NameResolutionError, socket.gaierror)) for e in chain):
        return Reason.DNS_ERROR
    if any(type(e).__name__ == "IncompleteRead" for e in chain):
        return Reason.TRUNCATED
    if any(isinstance(e, requests.exceptions.ContentDecodingError) for e in chain):
        return Reason.DECODE_ERROR
    if any(isinstance(e, requests.exceptions.SSLError) for e in chain):
        return Reason.TLS_ERROR
    invalid = (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)
    if any(isinstance(e, invalid) for e in chain):
        return Reason.INVALID_URL
    return Reason.CONNECTION_ERROR


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
