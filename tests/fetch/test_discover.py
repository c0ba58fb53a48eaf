"""Discovery against a loopback site: feeds, sitemaps, news sitemaps, robots, home pages, incremental runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.dates import parse_date
from pipeline.discover import Discovery, discover_source
from pipeline.fetch import Fetcher
from pipeline.models import CacheEntry, Source, Validator, Window
from pipeline.newssite import Response, Site, gzipped
from pipeline.settings import Settings

from .helpers import (
    RSS_TYPE,
    XML_TYPE,
    MemoryHttpCache,
    atom,
    fast_settings,
    news_sitemap,
    rfc822,
    rss,
    sitemap_index,
    urlset,
)

pytestmark = pytest.mark.timeout(30)
DAY = datetime(2026, 11, 23, tzinfo=UTC)
WINDOW = Window(DAY, DAY + timedelta(days=1))
IN = DAY + timedelta(hours=9)
BEFORE = DAY - timedelta(days=2)
AFTER = DAY + timedelta(days=2)


def discover(
    source: Source,
    window: Window | None = WINDOW,
    cache: MemoryHttpCache | None = None,
    settings: Settings | None = None,
    **kwargs: object,
) -> Discovery:
    """One run: a fresh Fetcher, as the orchestrator makes one per run."""
    settings = settings or fast_settings()
    with Fetcher(settings) as fetcher:
        return discover_source(source, fetcher, window, cache or MemoryHttpCache(), settings, **kwargs)


def urls(found: Discovery) -> list[str]:
    return [u.url for u in found.urls]


def test_second_run_over_an_unchanged_site_is_conditional_and_finds_nothing_new() -> None:
    with Site() as site:
        feed = rss([(site.url(f"/a{i}"), rfc822(IN), f"A{i}") for i in range(3)])
        site.routes["/feed.xml"] = Response(feed, content_type=RSS_TYPE, headers={"ETag": '"f1"'})
        site.routes["/sitemap.xml"] = Response(
            urlset([(site.url("/s1"), IN.isoformat())]),
            content_type=XML_TYPE,
            headers={"Last-Modified": "Mon, 23 Nov 2026 09:00:00 GMT"},
        )
        source = Source("t", feeds=(site.url("/feed.xml"),), sitemaps=(site.url("/sitemap.xml"),))
        cache = MemoryHttpCache()
        first = discover(source, cache=cache)
        first_requests = list(site.requests)
        second = discover(source, cache=cache)
        second_requests = site.requests[len(first_requests) :]
    assert sorted(urls(first)) == sorted([site.url("/a0"), site.url("/a1"), site.url("/a2"), site.url("/s1")])
    assert [r.path for r in first_requests] == ["/robots.txt", "/feed.xml", "/sitemap.xml"]
    assert second.urls == [] and second.failures == []
    assert second.not_modified == [site.url("/feed.xml"), site.url("/sitemap.xml")]
    assert [r.path for r in second_requests] == ["/robots.txt", "/feed.xml", "/sitemap.xml"]
    assert second_requests[1].headers["If-None-Match"] == '"f1"'
    assert second_requests[2].headers["If-Modified-Since"] == "Mon, 23 Nov 2026 09:00:00 GMT"
    assert cache.lookup(site.url("/feed.xml")) == CacheEntry('"f1"', None, 304, 0)


def test_backfill_is_not_conditional() -> None:
    with Site() as site:
        site.routes["/feed.xml"] = Response(
            rss([(site.url("/a"), rfc822(IN), "A")]), content_type=RSS_TYPE, headers={"ETag": '"f1"'}
        )
        source = Source("t", feeds=(site.url("/feed.xml"),))
        cache = MemoryHttpCache()
        discover(source, cache=cache)
        again = discover(source, cache=cache, conditional=False)
    assert urls(again) == [site.url("/a")] and "If-None-Match" not in site.requests[-1].headers


def test_sitemap_index_with_three_children_one_gzipped() -> None:
    with Site() as site:
        site.routes.update(
            {
                "/sitemap_index.xml": Response(
                    sitemap_index(
                        [
                            (site.url("/sm-1.xml"), None),
                            ("/sm-2.xml.gz", None),
                            (site.url("/sm-3.xml"), IN.isoformat()),
                        ]
                    ),
                    content_type=XML_TYPE,
                ),
                "/sm-1.xml": Response(urlset([(site.url("/one"), "2026-11-23")]), content_type=XML_TYPE),
                "/sm-2.xml.gz": Response(
                    gzipped(urlset([(site.url("/two"), "2026-11-23T08:00:00+00:00")])),
                    content_type="application/x-gzip",
                ),
                "/sm-3.xml": Response(
                    gzipped(urlset([(site.url("/three"), "2026-11-23T10:30:00Z")])),
                    content_type=XML_TYPE,
                    headers={"Content-Encoding": "gzip"},
                ),
            }
        )
        found = discover(Source("t", sitemaps=(site.url("/sitemap_index.xml"),)))
    assert [r.path for r in site.requests] == [
        "/robots.txt",
        "/sitemap_index.xml",
        "/sm-1.xml",
        "/sm-2.xml.gz",
        "/sm-3.xml",
    ]
    assert urls(found) == [site.url("/one"), site.url("/two"), site.url("/three")]
    assert {u.date_signal for u in found.urls} == {"sitemap_lastmod"}
    assert found.urls[2].published_at == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    assert found.failures == []


def test_news_sitemap_dates_titles_and_window() -> None:
    with Site() as site:
        items = [
            (site.url("/today"), "2026-11-23T09:15:00+01:00", "Today &amp; more"),
            (site.url("/old"), "2026-11-20T09:00:00Z", "Old"),
            (site.url("/day-only"), "2026-11-23", "Day"),
        ]
        site.routes["/news.xml"] = Response(news_sitemap(items), content_type=XML_TYPE)
        found = discover(Source("t", sitemaps=(site.url("/news.xml"),)))
    assert [(u.url, u.date_signal, u.title) for u in found.urls] == [
        (site.url("/today"), "news_sitemap", "Today & more"),
        (site.url("/day-only"), "news_sitemap", "Day"),
    ]
    assert found.urls[0].published_at == datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    assert found.outside_window == 1


def test_index_children_older_than_the_window_are_skipped() -> None:
    with Site() as site:
        site.routes["/index.xml"] = Response(
            sitemap_index(
                [(site.url("/2026-10.xml"), "2026-10-31"), (site.url("/2026-11.xml"), IN.isoformat())]
            ),
            content_type=XML_TYPE,
        )
        site.routes["/2026-11.xml"] = Response(
            urlset([(site.url("/n"), IN.isoformat())]), content_type=XML_TYPE
        )
        found = discover(Source("t", sitemaps=(site.url("/index.xml"),)))
    assert urls(found) == [site.url("/n")] and site.hits("/2026-10.xml") == 0


def test_feed_formats_rss_atom_and_rdf() -> None:
    rdf = (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<channel rdf:about="x"><title>R</title><link>http://e/</link><description>d</description></channel>'
        '<item rdf:about="{u}"><title>R1</title><link>{u}</link>'
        "<dc:date>2026-11-23T07:00:00Z</dc:date></item>"
        "</rdf:RDF>"
    )
    rss091 = (
        '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel><title>O</title>'
        "<link>http://e/</link><description>d</description><language>en</language>"
        "<item><title>Old</title><link>{u}</link></item></channel></rss>"
    )
    with Site() as site:
        site.routes["/rdf"] = Response(rdf.format(u=site.url("/r1")), content_type="application/rdf+xml")
        site.routes["/091"] = Response(rss091.format(u=site.url("/o1")), content_type="text/xml")
        site.routes["/atom"] = Response(
            atom([("/a1", "2026-11-23T06:00:00Z", "A1")]), content_type="application/atom+xml"
        )
        found = discover(Source("t", feeds=(site.url("/rdf"), site.url("/091"), site.url("/atom"))))
    assert found.failures == []
    assert [(u.url, u.date_signal, u.published_at is not None) for u in found.urls] == [
        (site.url("/r1"), "feed", True),
        (site.url("/o1"), "feed", False),
        (site.url("/a1"), "feed", True),
    ]


def test_tracking_variants_become_one_url_with_the_best_signal() -> None:
    with Site() as site:
        story = site.url("/2026/11/23/story?id=5")
        variants = [
            story + "&utm_source=rss",
            story + "&utm_medium=email&fbclid=x#c",
            story.upper()
            .replace("HTTP://", "http://")
            .replace("/2026/11/23/STORY?ID=5", "/2026/11/23/story?id=5"),
            site.url("/2026/11/23/./story?gclid=1&id=5"),
        ]
        site.routes["/feed.xml"] = Response(
            rss([(v, rfc822(IN), "S") for v in variants]), content_type=RSS_TYPE
        )
        site.routes["/news.xml"] = Response(
            news_sitemap([(story + "&ref=home", IN.isoformat(), "S")]), content_type=XML_TYPE
        )
        found = discover(
            Source(
                "t",
                feeds=(site.url("/feed.xml"),),
                sitemaps=(site.url("/news.xml"),),
                urls=(story + "&utm_campaign=z",),
            )
        )
    assert urls(found) == [story]
    assert found.urls[0].date_signal == "news_sitemap" and found.urls[0].published_at == IN


def test_window_and_undated_items() -> None:
    with Site() as site:
        items = [
            (site.url("/in"), rfc822(IN), "in"),
            (site.url("/before"), rfc822(BEFORE), "b"),
            (site.url("/after"), rfc822(AFTER), "a"),
            (site.url("/undated"), None, "u"),
        ]
        site.routes["/feed.xml"] = Response(rss(items), content_type=RSS_TYPE)
        source = Source("t", feeds=(site.url("/feed.xml"),), urls=(site.url("/explicit"),))
        daily = discover(source)
        backfill = discover(source, conditional=False)
        everything = discover(source, window=None)
    assert urls(daily) == [site.url("/explicit"), site.url("/in"), site.url("/undated")]
    assert daily.urls[0].date_signal == "explicit" and daily.urls[2].date_signal == "feed"
    assert daily.outside_window == 2
    assert urls(backfill) == [site.url("/explicit"), site.url("/in")]
    assert len(everything.urls) == 5


def test_robots_sitemap_lines_and_home_page_feed_links() -> None:
    with Site() as site:
        site.routes.update(
            {
                "/robots.txt": Response(
                    f"User-agent: *\nDisallow: /private\nSitemap: {site.url('/sm.xml')}\n",
                    content_type="text/plain",
                ),
                "/": Response(
                    '<html><head><link rel="alternate" type="application/rss+xml" href="/rss">'
                    '<link rel="alternate" type="text/html" href="/other"><link rel="stylesheet" href="/c">'
                    "</head><body></body></html>"
                ),
                "/rss": Response(rss([(site.url("/from-feed"), rfc822(IN), "F")]), content_type=RSS_TYPE),
                "/sm.xml": Response(
                    urlset(
                        [
                            (site.url("/from-sitemap"), IN.isoformat()),
                            (site.url("/private/x"), IN.isoformat()),
                        ]
                    ),
                    content_type=XML_TYPE,
                ),
            }
        )
        found = discover(Source("t", homepages=(site.url("/"),)))
        root_listed = discover(Source("t", sitemaps=(site.url("/"),)))
    assert urls(found) == [site.url("/from-feed"), site.url("/from-sitemap"), site.url("/private/x")]
    assert found.fetched == [site.url("/"), site.url("/rss"), site.url("/sm.xml")]
    assert urls(root_listed) == [site.url("/from-sitemap"), site.url("/private/x")]


def test_robots_disallowed_feed_is_a_failure() -> None:
    with Site(
        {
            "/robots.txt": Response("User-agent: *\nDisallow: /feeds/\n", content_type="text/plain"),
            "/feeds/all": Response("<rss/>", content_type=RSS_TYPE),
        }
    ) as site:
        found = discover(Source("t", feeds=(site.url("/feeds/all"),)))
    assert [(f.reason, f.stage) for f in found.failures] == [("robots_disallowed", "discover")]
    assert site.hits("/feeds/all") == 0


def test_dead_feed_is_recorded_and_backed_off_then_recovers() -> None:
    settings = fast_settings(feed_failure_backoff=2, max_retries=0)
    cache = MemoryHttpCache()
    with Site() as site:
        source = Source("t", feeds=(site.url("/feed.xml"),))
        asked: list[int] = []
        for run in range(1, 12):
            if run == 10:
                site.routes["/feed.xml"] = Response(
                    rss([(site.url("/back"), rfc822(IN), "B")]), content_type=RSS_TYPE
                )
            before = site.hits("/feed.xml")
            found = discover(source, cache=cache, settings=settings)
            if site.hits("/feed.xml") > before:
                asked.append(run)
            if run == 3:
                assert found.backed_off == [site.url("/feed.xml")] and found.failures == []
            if run == 1:
                assert [f.reason for f in found.failures] == ["http_404"]
    assert asked == [1, 2, 6, 10, 11]  # two failures, then every 4th run, then back to normal
    assert (
        urls(found) == [site.url("/back")] and cache.lookup(site.url("/feed.xml")).consecutive_failures == 0
    )


def test_dead_feed_timeout_is_a_failure() -> None:
    settings = fast_settings(read_timeout=0.2, max_retries=0, respect_robots=False)
    with Site({"/feed.xml": Response("<rss/>", delay=1.0)}) as site:
        found = discover(Source("t", feeds=(site.url("/feed.xml"),)), settings=settings)
    assert [f.reason for f in found.failures] == ["timeout"] and found.urls == []


def test_url_cap_per_source() -> None:
    with Site() as site:
        site.routes["/s.xml"] = Response(
            urlset([(site.url(f"/p{i}"), IN.isoformat()) for i in range(10)]), content_type=XML_TYPE
        )
        found = discover(
            Source("t", sitemaps=(site.url("/s.xml"),)), settings=fast_settings(max_urls_per_source=4)
        )
    assert urls(found) == [site.url(f"/p{i}") for i in range(4)] and found.truncated == 6


def test_text_sitemap() -> None:
    with Site() as site:
        site.routes["/s.txt"] = Response(f"{site.url('/a')}\n{site.url('/b')}\n", content_type="text/plain")
        found = discover(Source("t", sitemaps=(site.url("/s.txt"),)), window=None)
    assert urls(found) == [site.url("/a"), site.url("/b")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T10:00:00Z", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("2026-11-23T10:00:00.123+02:00", datetime(2026, 11, 23, 8, 0, 0, 123000, tzinfo=UTC)),
        ("2026-11-23T10:00+02:00", datetime(2026, 11, 23, 8, tzinfo=UTC)),
        ("Mon, 23 Nov 2026 10:00:00 GMT", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def test_sitemap_listed_as_feed_and_feed_listed_as_sitemap_are_read_as_what_they_are() -> None:
    with Site() as site:
        site.routes["/sitemap.xml"] = Response(
            urlset([(site.url("/s"), IN.isoformat())]), content_type=XML_TYPE
        )
        site.routes["/rss"] = Response(rss([(site.url("/f"), rfc822(IN), "F")]), content_type=RSS_TYPE)
        found = discover(Source("t", feeds=(site.url("/sitemap.xml"),), sitemaps=(site.url("/rss"),)))
    assert found.failures == [] and sorted(urls(found)) == [site.url("/f"), site.url("/s")]
    assert site.hits("/sitemap.xml") == 1 and site.hits("/rss") == 1


def test_unusable_links_are_ignored_and_bad_configured_urls_are_failures() -> None:
    with Site() as site:
        items = [
            ("http://[::1/broken", rfc822(IN), "x"),
            ("javascript:alert(1)", rfc822(IN), "y"),
            ("mailto:a@b.c", rfc822(IN), "z"),
            ("/relative", rfc822(IN), "ok"),
            ("http:/nohost", rfc822(IN), "n"),
        ]
        site.routes["/rss"] = Response(rss(items), content_type=RSS_TYPE)
        found = discover(Source("t", feeds=(site.url("/rss"), "not a url", "ftp://x/feed")))
    assert urls(found) == [site.url("/relative"), site.url("/nohost")]  # "http:/x" is relative (RFC 3986)
    assert [(f.url, f.reason) for f in found.failures] == [
        ("not a url", "invalid_url"),
        ("ftp://x/feed", "invalid_url"),
    ]


def test_deferred_validators_let_a_failed_run_be_retried_without_304s() -> None:
    with Site() as site:
        site.routes["/feed.xml"] = Response(
            rss([(site.url("/a"), rfc822(IN), "A")]), content_type=RSS_TYPE, headers={"ETag": '"f1"'}
        )
        source = Source("t", feeds=(site.url("/feed.xml"),))
        cache = MemoryHttpCache()
        first = discover(source, cache=cache, defer_validators=True)
        # ...the run dies before its pages are stored; the retry must see the feed again
        retry = discover(source, cache=cache, defer_validators=True)
        for v in retry.validators:  # this attempt stored its pages: its validators are saved
            cache.record(v.url, etag=v.etag, last_modified=v.last_modified, status=v.status, failed=False)
        next_day = discover(source, cache=cache)
    assert urls(first) == urls(retry) == [site.url("/a")]
    assert retry.not_modified == [] and next_day.not_modified == [site.url("/feed.xml")]
    assert first.validators == [Validator(site.url("/feed.xml"), '"f1"', None, 200)] == retry.validators
