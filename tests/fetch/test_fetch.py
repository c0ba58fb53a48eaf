"""Fetcher behaviour on a well-behaved site: redirects, encodings, conditional GET, robots, politeness."""

from __future__ import annotations

import gzip
import threading
import zlib

import pytest

from pipeline.errors import FetchError
from pipeline.fetch import Fetcher, parse_retry_after, parse_robots
from pipeline.models import Politeness
from pipeline.newssite import Response, Site
from pipeline.settings import Settings
from tests.fetch.helpers import ConcurrencyProbe

pytestmark = pytest.mark.timeout(30)
HTML = "<html><head><title>T</title></head><body><p>caf\u00e9</p></body></html>"


def paths(site: Site) -> list[str]:
    return [r.path for r in site.requests]


def test_redirect_is_followed_and_final_url_recorded(fetcher: Fetcher) -> None:
    with Site(
        {
            "/old": Response(status=301, headers={"Location": "/mid"}),
            "/mid": Response(status=302, headers={"Location": "/new?x=1"}),
            "/new": Response(HTML),
        }
    ) as site:
        page = fetcher.fetch(site.url("/old"))
    assert (page.status, page.url, page.final_url) == (200, site.url("/old"), site.url("/new?x=1"))
    assert paths(site) == ["/robots.txt", "/old", "/mid", "/new?x=1"]
    assert page.body == HTML.encode() and page.encoding == "utf-8"


def test_descriptive_user_agent_and_timeout_on_every_request(settings: Settings) -> None:
    with (
        Site({"/": Response(HTML)}) as site,
        Fetcher(settings.with_(user_agent="np-test/1 (+mailto:x@y)")) as f,
    ):
        f.fetch(site.url("/"))
    assert {r.headers["User-Agent"] for r in site.requests} == {"np-test/1 (+mailto:x@y)"}


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_content_encoding_is_decoded(fetcher: Fetcher, encoding: str) -> None:
    packed = gzip.compress(HTML.encode()) if encoding == "gzip" else zlib.compress(HTML.encode())
    with Site({"/": Response(packed, headers={"Content-Encoding": encoding})}) as site:
        page = fetcher.fetch(site.url("/"))
    assert page.body == HTML.encode()
    assert "gzip" in site.requests[-1].headers["Accept-Encoding"]


def test_header_charset_sets_encoding(fetcher: Fetcher) -> None:
    with Site(
        {"/": Response(HTML, content_type="text/html; charset=windows-1252", charset="cp1252")}
    ) as site:
        page = fetcher.fetch(site.url("/"))
    assert page.encoding == "cp1252" and page.body.decode(page.encoding).endswith(
        "caf\u00e9</p></body></html>"
    )


def test_conditional_get_gives_a_304_page_not_an_error(fetcher: Fetcher) -> None:
    validators = {"ETag": '"v7"', "Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT"}
    with Site({"/feed": Response("<rss/>", content_type="application/rss+xml", headers=validators)}) as site:
        first = fetcher.fetch(site.url("/feed"), kind="feed")
        second = fetcher.fetch(site.url("/feed"), etag=first.headers["etag"], kind="feed")
        third = fetcher.fetch(site.url("/feed"), last_modified=first.headers["last-modified"], kind="feed")
    assert (first.status, second.status, third.status) == (200, 304, 304)
    assert second.body == b"" and third.body == b""
    assert site.requests[-2].headers["If-None-Match"] == '"v7"'
    assert site.requests[-1].headers["If-Modified-Since"] == validators["Last-Modified"]
    assert fetcher.stats.not_modified == 2


def test_robots_disallow_and_crawl_delay_are_obeyed(fetcher: Fetcher) -> None:
    robots = "User-agent: *\nDisallow: /private\nCrawl-delay: 0.25\n"
    routes = {"/robots.txt": Response(robots, content_type="text/plain"), "/private/x": Response(HTML)}
    routes.update({f"/p{i}": Response(HTML) for i in range(3)})
    with Site(routes) as site:
        fetcher.fetch(site.url("/p0"))
        with pytest.raises(FetchError) as refused:
            fetcher.fetch(site.url("/private/x"))
        fetcher.fetch(site.url("/p1"))
        fetcher.fetch(site.url("/p2"))
    assert refused.value.reason == "robots_disallowed"
    assert paths(site) == ["/robots.txt", "/p0", "/p1", "/p2"]  # robots once, /private never
    starts = [r.at for r in site.requests]
    assert all(b - a >= 0.22 for a, b in zip(starts, starts[1:], strict=False)), starts
    assert fetcher.stats.robots_refusals == 1 and fetcher.stats.robots_fetches == 1


def test_robots_group_for_our_agent_wins_over_star() -> None:
    text = (
        "User-agent: *\nDisallow: /\n\nUser-agent: news-pipeline\nUser-agent: other\n"
        "Disallow: /drafts\nAllow: /drafts/public\nDisallow: /*.pdf$\nCrawl-delay: 3\n"
        "Sitemap: https://e.com/sitemap.xml\n"
    )
    rules = parse_robots(text, "news-pipeline/0.1 (+https://x)")
    assert rules.allows("https://e.com/news/1")
    assert not rules.allows("https://e.com/drafts/1")
    assert rules.allows("https://e.com/drafts/public/1")  # longest match wins
    assert not rules.allows("https://e.com/files/a.pdf") and rules.allows("https://e.com/files/a.pdf?x=1")
    assert rules.crawl_delay == 3.0 and rules.sitemaps == ("https://e.com/sitemap.xml",)
    assert not parse_robots(text, "somebot/1.0").allows("https://e.com/news/1")


def test_robots_matching_follows_rfc_9309() -> None:
    """protego compares percent-encoded and UTF-8 spellings of a path as one path (RFC 9309 2.2.2),
    reads field names in any case, and an empty Disallow allows everything."""
    rules = parse_robots("USER-AGENT: *\nDISALLOW: /caf%C3%A9\n", "news-pipeline/0.1 (+https://x)")
    assert not rules.allows("https://e.com/caf\u00e9/menu")
    assert not rules.allows("https://e.com/caf%C3%A9/menu")
    assert rules.allows("https://e.com/cafe/menu")
    assert parse_robots("User-agent: *\nDisallow:\n", "news-pipeline/0.1").allows("https://e.com/any")


def test_missing_robots_allows_everything_and_5xx_robots_disallows(fetcher: Fetcher) -> None:
    with Site({"/a": Response(HTML)}) as site:
        assert fetcher.fetch(site.url("/a")).status == 200
    with Site({"/a": Response(HTML), "/robots.txt": Response(status=503)}) as site:
        with pytest.raises(FetchError) as err:
            fetcher.fetch(site.url("/a"))
    assert err.value.reason == "robots_unavailable" and site.hits("/a") == 0


def test_unusable_robots_allows_everything(fetcher: Fetcher) -> None:
    with Site({"/a": Response(HTML), "/robots.txt": Response(b"\x89PNG", content_type="image/png")}) as site:
        assert fetcher.fetch(site.url("/a")).status == 200


def test_robots_can_be_switched_off(settings: Settings) -> None:
    with Site({"/a": Response(HTML), "/robots.txt": Response("User-agent: *\nDisallow: /\n")}) as site:
        with Fetcher(settings.with_(respect_robots=False)) as f:
            f.fetch(site.url("/a"))
    assert paths(site) == ["/a"]


def test_per_source_min_delay_spaces_requests(settings: Settings) -> None:
    with Site({f"/p{i}": Response(HTML) for i in range(4)}) as site:
        politeness = {f"127.0.0.1:{site.port}": Politeness(min_delay=0.15, max_connections=4)}
        with Fetcher(settings.with_(respect_robots=False), politeness) as f:
            threads = [threading.Thread(target=f.fetch, args=(site.url(f"/p{i}"),)) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    starts = sorted(r.at for r in site.requests)
    assert len(starts) == 4
    assert all(b - a >= 0.13 for a, b in zip(starts, starts[1:], strict=False)), starts


def test_politeness_keyed_by_bare_hostname_applies_to_any_port(settings: Settings) -> None:
    politeness = {
        "127.0.0.1": Politeness(min_delay=0.2, max_connections=1),
        "example.org": Politeness(3.0, 1),
    }
    with Site({f"/p{i}": Response(HTML) for i in range(3)}) as site:
        with Fetcher(settings.with_(respect_robots=False), politeness) as f:
            for i in range(3):
                f.fetch(site.url(f"/p{i}"))
            assert f.politeness_for("example.org") == Politeness(3.0, 1)
            assert f.politeness_for("other.org") == Politeness(
                settings.per_host_delay, settings.per_host_connections
            )
    starts = [r.at for r in site.requests]
    assert all(b - a >= 0.18 for a, b in zip(starts, starts[1:], strict=False)), starts


def test_per_host_connection_cap(settings: Settings) -> None:
    slow = ConcurrencyProbe(HTML, hold=0.15)

    with Site({"/slow": slow}) as site:
        with Fetcher(settings.with_(respect_robots=False, per_host_connections=2)) as f:
            threads = [threading.Thread(target=f.fetch, args=(site.url("/slow"),)) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    assert site.hits("/slow") == 6 and slow.peak == 2


def test_feed_kind_accepts_xml_and_gzip_that_pages_refuse(fetcher: Fetcher) -> None:
    with Site(
        {
            "/s.xml.gz": Response(gzip.compress(b"<urlset/>"), content_type="application/octet-stream"),
            "/f": Response("<rss/>", content_type="application/rss+xml"),
        }
    ) as site:
        assert fetcher.fetch(site.url("/s.xml.gz"), kind="sitemap").body.startswith(b"\x1f\x8b")
        assert fetcher.fetch(site.url("/f"), kind="feed").body == b"<rss/>"
        for path in ("/s.xml.gz", "/f"):
            with pytest.raises(FetchError) as err:
                fetcher.fetch(site.url(path))
            assert err.value.reason == "not_html"


def test_stats_count_requests_statuses_and_bytes(fetcher: Fetcher) -> None:
    with Site({"/a": Response(HTML), "/gone": Response(status=410)}) as site:
        fetcher.fetch(site.url("/a"))
        with pytest.raises(FetchError):
            fetcher.fetch(site.url("/gone"))
    stats = fetcher.stats.as_dict()
    assert stats["requests"] == 3 and stats["by_status"] == {200: 1, 404: 1, 410: 1}
    assert stats["bytes"] == len(HTML.encode()) and stats["failures"] == {"http_410": 1}


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
