"""Malformed and hostile XML (issue 8 item 2): recorded errors, refused attacks, bounded sitemap graphs."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime

import pytest

from pipeline.discover import Discovery, discover_source
from pipeline.fetch import Fetcher
from pipeline.models import Source
from pipeline.newssite import RequestInfo, Response, Site
from pipeline.settings import Settings

from .helpers import RSS_TYPE, XML_TYPE, MemoryHttpCache, fast_settings, rss, sitemap_index, urlset

pytestmark = pytest.mark.timeout(30)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def discover(source: Source, settings: Settings | None = None) -> Discovery:
    settings = settings or fast_settings(respect_robots=False)
    with Fetcher(settings) as fetcher:
        return discover_source(source, fetcher, None, MemoryHttpCache(), settings)


def reasons(found: Discovery) -> list[str]:
    return [f.reason for f in found.failures]


@pytest.mark.parametrize(
    "body",
    [
        "<rss version='2.0'><channel><item><link>http://e/a",  # cut off before any complete item
        "<rss version='2.0'><channel><title>x",
        "<html><body><h1>Not a feed</h1><p>Sorry</p></body></html>",
        "this is not XML at all",
        "",
        '{"version": "https://jsonfeed.org/version/1.1", "items": [',
    ],
)
def test_malformed_feed_is_a_recorded_parse_error(body: str) -> None:
    with Site({"/feed": Response(body, content_type=RSS_TYPE)}) as site:
        found = discover(Source("t", feeds=(site.url("/feed"),)))
    assert reasons(found) == ["parse_error"] and found.urls == []
    assert found.failures[0].stage == "discover" and found.failures[0].url == site.url("/feed")


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://e/a',
        '<?xml version="1.0"?><html><body>oops</body></html>',
        "<not closed",
        "",
        gzip.compress(b"<urlset>")[:-10],  # corrupt gzip
    ],
)
def test_malformed_sitemap_is_a_recorded_parse_error(body: str | bytes) -> None:
    with Site({"/s.xml": Response(body, content_type=XML_TYPE)}) as site:
        found = discover(Source("t", sitemaps=(site.url("/s.xml"),)))
    assert reasons(found) == ["parse_error"] and found.urls == []


def test_billion_laughs_feed_and_sitemap_are_refused_quickly() -> None:
    feed = (
        BILLION_LAUGHS + '<rss version="2.0"><channel><title>&lol9;</title><item><link>http://e/a</link>'
        "<title>&lol9;</title></item></channel></rss>"
    )
    sitemap = (
        BILLION_LAUGHS + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
        "<loc>http://e/&lol9;</loc></url></urlset>"
    )
    routes = {
        "/feed": Response(feed, content_type=RSS_TYPE),
        "/s.xml": Response(sitemap, content_type=XML_TYPE),
    }
    with Site(routes) as site:
        started = time.monotonic()
        found = discover(Source("t", feeds=(site.url("/feed"),), sitemaps=(site.url("/s.xml"),)))
    assert reasons(found) == ["unsafe_xml", "unsafe_xml"] and found.urls == []
    assert time.monotonic() - started < 5


def test_external_entities_are_refused_and_never_fetched() -> None:
    with Site({"/secret": Response("top secret")}) as site:
        xxe = (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY file SYSTEM "file:///etc/passwd">'
            f'<!ENTITY web SYSTEM "{site.url("/secret")}">]>'
        )
        site.routes["/feed"] = Response(
            xxe + '<rss version="2.0"><channel><item><title>&file;&web;</title>'
            "<link>http://e/a</link></item></channel></rss>",
            content_type=RSS_TYPE,
        )
        site.routes["/s.xml"] = Response(
            xxe + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>http://e/&web;&file;</loc></url></urlset>",
            content_type=XML_TYPE,
        )
        found = discover(Source("t", feeds=(site.url("/feed"),), sitemaps=(site.url("/s.xml"),)))
    assert reasons(found) == ["unsafe_xml", "unsafe_xml"] and found.urls == []
    assert site.hits("/secret") == 0


def test_feedparser_never_fetches_or_opens_files_itself() -> None:
    """A feed body that is a URL or a local path must be parsed as data, not followed."""
    with Site() as site:
        site.routes["/url-feed"] = Response(site.url("/secret"), content_type=RSS_TYPE)
        site.routes["/path-feed"] = Response("/etc/hostname", content_type=RSS_TYPE)
        found = discover(Source("t", feeds=(site.url("/url-feed"), site.url("/path-feed"))))
    assert reasons(found) == ["parse_error", "parse_error"] and site.hits("/secret") == 0


def test_sitemap_index_pointing_to_itself_is_read_once() -> None:
    with Site() as site:
        site.routes["/index.xml"] = Response(
            sitemap_index(
                [
                    (site.url("/index.xml"), None),
                    (site.url("/index.xml?utm_source=x"), None),
                    (site.url("/a.xml"), None),
                ]
            ),
            content_type=XML_TYPE,
        )
        site.routes["/a.xml"] = Response(
            sitemap_index([(site.url("/index.xml"), None), (site.url("/urls.xml"), None)]),
            content_type=XML_TYPE,
        )
        site.routes["/urls.xml"] = Response(urlset([(site.url("/p"), None)]), content_type=XML_TYPE)
        found = discover(Source("t", sitemaps=(site.url("/index.xml"),)))
    assert [r.path for r in site.requests] == ["/index.xml", "/a.xml", "/urls.xml"]
    assert [u.url for u in found.urls] == [site.url("/p")] and found.failures == []


def test_endless_fan_out_is_bounded_by_max_sitemaps() -> None:
    counter = [0]

    def fan_out(info: RequestInfo) -> Response:
        counter[0] += 1
        base = info.path.split("?")[0]
        children = [(f"{base}?n={counter[0]}-{i}", None) for i in range(50)]
        return Response(sitemap_index(children), content_type=XML_TYPE)

    with Site({"/fan.xml": fan_out}) as site:
        found = discover(
            Source("t", sitemaps=(site.url("/fan.xml"),)),
            fast_settings(respect_robots=False, max_sitemaps=15, max_sitemap_depth=100),
        )
    assert site.hits("/fan.xml") == 15
    assert reasons(found) == ["sitemap_limit"]


def test_endless_nesting_is_bounded_by_max_sitemap_depth() -> None:
    def deeper(info: RequestInfo) -> Response:
        level = int(info.path.split("/")[-1].split(".")[0])
        return Response(sitemap_index([(f"/{level + 1}.xml", None)]), content_type=XML_TYPE)

    with Site({f"/{i}.xml": deeper for i in range(50)}) as site:
        found = discover(
            Source("t", sitemaps=(site.url("/0.xml"),)),
            fast_settings(respect_robots=False, max_sitemap_depth=3),
        )
    assert [r.path for r in site.requests] == ["/0.xml", "/1.xml", "/2.xml", "/3.xml"]
    assert reasons(found) == ["sitemap_depth"]


def test_gzip_bomb_sitemap_is_refused() -> None:
    bomb = gzip.compress(b" " * 20_000_000)
    with Site({"/s.xml.gz": Response(bomb, content_type="application/x-gzip")}) as site:
        found = discover(
            Source("t", sitemaps=(site.url("/s.xml.gz"),)),
            fast_settings(respect_robots=False, max_response_bytes=1_000_000),
        )
    assert reasons(found) == ["parse_error"] and "expands beyond" in found.failures[0].detail


def test_cut_off_feed_keeps_its_complete_items() -> None:
    with Site() as site:
        cut = rss([(site.url("/a"), None, "A"), (site.url("/b"), None, "B")])
        site.routes["/feed"] = Response(
            cut[: cut.index("<item>", cut.index("/a")) + 20], content_type=RSS_TYPE
        )
        found = discover(Source("t", feeds=(site.url("/feed"),)))
    assert found.failures == [] and [u.url for u in found.urls][:1] == [site.url("/a")]


def test_valid_empty_feed_is_not_an_error() -> None:
    with Site({"/feed": Response(rss([]), content_type=RSS_TYPE)}) as site:
        found = discover(Source("t", feeds=(site.url("/feed"),)))
    assert found.failures == [] and found.urls == []


def test_bozo_feed_with_entries_is_still_read() -> None:
    """Real feeds are often slightly broken (an undeclared entity): feedparser's loose mode recovers."""
    with Site() as site:
        broken = rss([(site.url("/a"), "Mon, 23 Nov 2026 10:00:00 +0000", "Caf&eacute; &nbsp; news")])
        site.routes["/feed"] = Response(broken, content_type=RSS_TYPE)
        found = discover(Source("t", feeds=(site.url("/feed"),)))
    assert found.failures == [] and [u.url for u in found.urls] == [site.url("/a")]
    assert found.urls[0].published_at == datetime(2026, 11, 23, 10, tzinfo=UTC)
