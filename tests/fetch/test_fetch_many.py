"""fetch_many: hosts in parallel, each at its own pace; bounded; failures yielded, never raised."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pipeline.errors import FetchError
from pipeline.fetch import Fetcher, fetch_many
from pipeline.models import FetchedPage, Politeness
from pipeline.newssite import Response, Site

from .helpers import ConcurrencyProbe, fast_settings

pytestmark = pytest.mark.timeout(30)
HTML = "<html><body>ok</body></html>"
SETTINGS = fast_settings(respect_robots=False)


def host(site: Site) -> str:
    return f"127.0.0.1:{site.port}"


def test_slow_host_does_not_hold_up_the_others() -> None:
    """4 slow pages (0.3 s each, one connection) listed first, then two paced hosts of 5 pages each."""
    slow_pages = {f"/s{i}": Response(HTML, delay=0.3) for i in range(4)}
    with (
        Site(slow_pages) as slow,
        Site({f"/f{i}": Response(HTML) for i in range(5)}) as fast_a,
        Site({f"/f{i}": Response(HTML) for i in range(5)}) as fast_b,
    ):
        politeness = {
            host(slow): Politeness(min_delay=0.0, max_connections=1),
            host(fast_a): Politeness(min_delay=0.1, max_connections=1),
            host(fast_b): Politeness(min_delay=0.1, max_connections=1),
        }
        urls = [slow.url(p) for p in slow_pages] + [
            s.url(f"/f{i}") for s in (fast_a, fast_b) for i in range(5)
        ]
        with Fetcher(SETTINGS, politeness) as f:
            started = time.monotonic()
            order = [url for url, _ in fetch_many(f, urls, workers=3)]
            elapsed = time.monotonic() - started
    assert len(order) == 14 and sorted(order) == sorted(urls)
    first_slow = slow.requests[0].at
    assert fast_a.requests[0].at - first_slow < 0.15  # did not queue behind the slow host
    assert fast_b.requests[0].at < fast_a.requests[-1].at  # the two paced hosts ran side by side
    slow_done = [i for i, url in enumerate(order) if url.startswith(slow.base)]
    assert slow_done[-1] == len(order) - 1 and slow_done[0] > 0  # results come back as they complete
    assert elapsed < 1.2 + 0.6  # ~ the slow host's 4 x 0.3 s, not the sum over hosts (1.2 + 0.4 + 0.4)
    slow_starts = [r.at for r in slow.requests]
    assert all(b - a >= 0.29 for a, b in zip(slow_starts, slow_starts[1:], strict=False))  # never 2 at once


def test_each_host_keeps_its_own_delay_while_others_proceed() -> None:
    with (
        Site({f"/p{i}": Response(HTML) for i in range(4)}) as paced,
        Site({f"/p{i}": Response(HTML) for i in range(8)}) as free,
    ):
        politeness = {
            host(paced): Politeness(min_delay=0.2, max_connections=2),
            host(free): Politeness(min_delay=0.0, max_connections=4),
        }
        urls = [paced.url(f"/p{i}") for i in range(4)] + [free.url(f"/p{i}") for i in range(8)]
        with Fetcher(SETTINGS, politeness) as f:
            results = dict(fetch_many(f, urls, workers=3))
    assert all(isinstance(r, FetchedPage) for r in results.values())
    paced_starts = sorted(r.at for r in paced.requests)
    assert all(b - a >= 0.18 for a, b in zip(paced_starts, paced_starts[1:], strict=False))
    assert max(r.at for r in free.requests) < paced_starts[2]  # the free host did not wait for the paced one


def test_failures_are_yielded_not_raised() -> None:
    with (
        Site({"/ok": Response(HTML), "/img": Response(b"GIF89a", content_type="image/gif")}) as site,
        Fetcher(SETTINGS) as f,
    ):
        results = dict(
            fetch_many(f, [site.url("/ok"), site.url("/missing"), site.url("/img"), "ftp://x/y"], 2)
        )
    assert isinstance(results[site.url("/ok")], FetchedPage)
    reasons = {url: r.reason for url, r in results.items() if isinstance(r, FetchError)}
    assert reasons == {
        site.url("/missing"): "http_404",
        site.url("/img"): "not_html",
        "ftp://x/y": "unsafe_url",
    }


def test_input_is_consumed_lazily_and_work_in_flight_is_bounded() -> None:
    pulled = [0]
    page = ConcurrencyProbe(HTML, hold=0.02)

    with Site({"/p": page}) as site:

        def urls() -> Iterator[str]:
            for i in range(1_000_000):
                pulled[0] += 1
                yield site.url(f"/p?i={i}")

        with Fetcher(SETTINGS.with_(per_host_connections=8)) as f:
            results = fetch_many(f, urls(), workers=2, lookahead=16)
            first = [next(results) for _ in range(5)]
            results.close()
    assert len(first) == 5
    assert pulled[0] <= 16 + 5 + 2  # never the whole million
    assert page.peak <= 2  # no more requests in flight than workers
