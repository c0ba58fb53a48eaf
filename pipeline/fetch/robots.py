"""robots.txt per RFC 9309 (protego): fetched once per site and run, cached, with its Crawl-delay."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from protego import Protego

from pipeline.errors import Reason
from pipeline.urls import site_root

ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
ROBOTS_MAX_REDIRECTS = 5
UNREACHABLE_REASONS = frozenset(
    {Reason.TIMEOUT, Reason.CONNECTION_ERROR, Reason.TRUNCATED, Reason.DNS_ERROR, Reason.TLS_ERROR,
     Reason.UNSAFE_URL}
)


@dataclass(frozen=True)
class RobotsRules:
    """The robots.txt of one site as it applies to our product token."""

    parser: Protego | None = None  # None: no usable robots.txt, everything allowed
    agent: str = "*"
    error: str | None = None  # set when robots.txt could not be read: every URL of the host fails so

    def allows(self, url: str) -> bool:
        return self.parser is None or self.parser.can_fetch(url, self.agent)

    @property
    def crawl_delay(self) -> float | None:
        return None if self.parser is None else self.parser.crawl_delay(self.agent)

    @property
    def sitemaps(self) -> tuple[str, ...]:
        return () if self.parser is None else tuple(self.parser.sitemaps)


ALLOW_ALL = RobotsRules()


def product_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: `news-pipeline` of `news-pipeline/0.1 (...)`."""
    return user_agent.split("/", 1)[0].strip().lower() or "*"


def parse_robots(text: str, user_agent: str) -> RobotsRules:
    """Parse robots.txt for `user_agent` (its group, else the `*` group)."""
    return RobotsRules(Protego.parse(text), product_token(user_agent))


def unreadable_robots(reason: str, user_agent: str) -> RobotsRules:
    """What a robots.txt that could not be fetched means (RFC 9309 section 2.3.1)."""
    if reason.startswith("http_5"):  # server error: assume complete disallow
        return RobotsRules(Protego.parse("User-agent: *\nDisallow: /\n"), product_token(user_agent),
                           Reason.ROBOTS_UNAVAILABLE)
    if reason in UNREACHABLE_REASONS:  # the host is down: its pages fail the same way, at once
        return RobotsRules(error=reason)
    return ALLOW_ALL  # 4xx, redirect loop, odd content type: no usable robots.txt, all allowed


class RobotsCache:
    """The robots.txt of each site, loaded once per run by `load(site_root)` even under concurrency."""

    def __init__(self, load: Callable[[str], RobotsRules]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._sites: dict[str, tuple[threading.Lock, list[RobotsRules]]] = {}

    def rules(self, url: str) -> RobotsRules:
        root = site_root(url)
        with self._lock:
            slot = self._sites.setdefault(root, (threading.Lock(), []))
        with slot[0]:
            if not slot[1]:
                slot[1].append(self._load(root))
            return slot[1][0]
