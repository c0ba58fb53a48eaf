"""Poison pills in discovery and configuration: each bad item costs only itself, with a recorded reason;
secrets never printed; impossible windows refused in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.cli import main
from pipeline.dburl import check_database_url, mask_database_url
from pipeline.discover import discover_source
from pipeline.discover.feeds import parse_feed
from pipeline.discover.sitemaps import parse_sitemap
from pipeline.errors import ConfigError, Reason
from pipeline.fetch import Fetcher
from pipeline.models import CacheEntry, Source, Window
from pipeline.newssite import Response, Site
from pipeline.urls import canonicalise_url

from .helpers import RSS_TYPE, XML_TYPE, MemoryHttpCache, fast_settings, rss, urlset

pytestmark = pytest.mark.timeout(60)
DAY = datetime(2026, 11, 23, tzinfo=UTC)
WINDOW = Window(DAY, DAY + timedelta(days=1))
IN = "Mon, 23 Nov 2026 09:00:00 GMT"


def _discover(site: Site, source: Source, cache: MemoryHttpCache | None = None) -> object:
    settings = fast_settings()
    with Fetcher(settings) as fetcher:
        return discover_source(source, fetcher, WINDOW, cache or MemoryHttpCache(), settings)


def test_one_poisoned_feed_item_costs_only_itself() -> None:
    """NUL and lone-surrogate character references, year 0 and 2024-02-30: today tracebacks or a wrong day."""
    with Site() as site:
        items = [(site.url("/nul"), IN, "a&#0;b"), (site.url("/surrogate"), IN, "a&#xD800;b&#xDFFF;"),
                 (site.url("/year0"), "0000-00-00T00:00:00Z", "zero"), (site.url("/feb30"), "2024-02-30T10:00:00Z",
                                                                         "feb"),
                 (site.url("/far"), "Fri, 31 Dec 9999 10:00:00 GMT", "far"), (site.url("/ok"), IN, "fine")]
        site.routes["/feed.xml"] = Response(rss(items), content_type=RSS_TYPE)
        found = _discover(site, Source("s", feeds=(site.url("/feed.xml"),)))
    by_url = {u.url.rsplit("/", 1)[1]: u for u in found.urls}
    assert by_url["nul"].title == "ab" and by_url["surrogate"].title == "ab"
    assert by_url["ok"].published_at == datetime(2026, 11, 23, 9, tzinfo=UTC)
    for bad in ("year0", "feb30", "far"):  # kept undated (an incremental run keeps undated items), not March 1st
        assert by_url[bad].published_at is None and by_url[bad].date_signal is None
    assert found.skipped == {"date_dropped:invalid_date": 2, "date_dropped:date_out_of_range": 1}
    assert found.failures == []


def test_feedparser_never_rolls_an_invalid_day_over() -> None:
    body = rss([("http://e.example/a", "2024-02-30T10:00:00Z", "a")]).encode()
    [entry] = parse_feed(body, "http://e.example/")
    assert (entry.published, entry.date_problem) == (None, Reason.INVALID_DATE)
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>a</title><link href="http://e.example/a"/>'
            b"<updated>2023-02-29T10:00:00Z</updated></entry></feed>")
    assert parse_feed(atom, "http://e.example/")[0].published is None


@pytest.mark.parametrize("lastmod", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0000-00-00",
                                     "2024-02-30"])
def test_an_absurd_sitemap_date_is_dropped_not_raised(lastmod: str) -> None:
    kind, [item] = parse_sitemap(urlset([("http://e.example/a", lastmod)]).encode(), 10**6)
    assert (kind, item.loc, item.published, item.date_problem) == ("urlset", "http://e.example/a", None,
                                                                   Reason.INVALID_DATE)


def test_a_nul_reference_in_a_sitemap_costs_only_its_character() -> None:
    """An invalid character reference made the whole sitemap malformed XML."""
    body = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://e.example/a&#0;b</loc>'
            b"</url><url><loc>http://e.example/c&#xD800;</loc></url></urlset>")
    assert [i.loc for i in parse_sitemap(body, 10**6)[1]] == ["http://e.example/ab", "http://e.example/c"]


@pytest.mark.parametrize("url", ["http://e.example:99999/a", "http://e.example:-1/a", "http://e.example:8o/a"])
def test_an_invalid_port_is_refused_never_replaced_by_the_default(url: str) -> None:
    with pytest.raises(ValueError, match="invalid port"):
        canonicalise_url(url)


def test_invalid_and_over_long_links_are_recorded_failures() -> None:
    with Site() as site:
        long_link = site.url("/" + "x" * 2800)
        body = urlset([(site.url(":99999/a").replace(f":{site.port}:", ":"), IN), (long_link, None),
                       (site.url("/ok"), None)])
        body = body.replace(f"127.0.0.1:{site.port}:99999", "127.0.0.1:99999")
        site.routes["/sitemap.xml"] = Response(body, content_type=XML_TYPE)
        found = _discover(site, Source("s", sitemaps=(site.url("/sitemap.xml"),)))
    assert [u.url for u in found.urls] == [site.url("/ok")]
    assert sorted(f.reason for f in found.failures) == [Reason.INVALID_URL, Reason.URL_TOO_LONG]
    assert all(len(f.url) <= 2048 for f in found.failures)


def test_a_304_to_a_request_without_validators_is_a_recorded_failure() -> None:
    """Today: 0 URLs and no warning, as if the feed had not changed."""
    with Site({"/feed.xml": Response(status=304)}) as site:
        found = _discover(site, Source("s", feeds=(site.url("/feed.xml"),)))
    assert [(f.reason, f.stage) for f in found.failures] == [(Reason.NOT_MODIFIED_UNASKED, "discover")]
    assert found.not_modified == []


def test_a_304_to_a_conditional_request_is_still_not_modified() -> None:
    with Site({"/feed.xml": Response(status=304)}) as site:
        cache = MemoryHttpCache()
        cache.entries[site.url("/feed.xml")] = CacheEntry(etag='"v1"')
        found = _discover(site, Source("s", feeds=(site.url("/feed.xml"),)), cache)
    assert (found.failures, found.not_modified) == ([], [site.url("/feed.xml")])


SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize("url", [
    f"news:{SECRET}@db.example/news",  # no scheme
    f"postgresql://news:pass word {SECRET}@db.example/news",  # spaces
    f"postgresql://db.example/news?user=news&password={SECRET}",
    f"postgresql://news@db.example/news?sslpassword={SECRET}&application_name=x",
    f"mysql://news:{SECRET}@db.example/news", f"sqlite:///news.db?password={SECRET}",
    f"host=db.example user=news password={SECRET} dbname=news", f"host=db password='with {SECRET} spaces'",
    f"postgresql://news:{SECRET}@x@db.example/news",
])
def test_the_password_is_never_shown_whatever_the_url_shape(url: str) -> None:
    assert SECRET not in mask_database_url(url)
    try:
        check_database_url(url)
    except ConfigError as exc:
        assert SECRET not in str(exc) and "\n" not in str(exc)


@pytest.mark.parametrize("url, says", [
    (f"mysql://news:{SECRET}@db.example/news", "mysql:// URL"), (f"news:{SECRET}@db/news", "not a URL"),
    (f"postgresql://news:{SECRET}@x@db/news", "percent-encode"),
])
def test_cli_refuses_a_bad_database_url_in_one_line(url: str, says: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and SECRET not in err[0] and "Traceback" not in err[0], err


@pytest.mark.parametrize("args", [["--date", "9999-12-31"], ["--start", "0001-01-01", "--end", "2026-01-01"],
                                  ["--start", "2026-01-01", "--end", "9999-12-31"]])
def test_a_window_past_the_calendar_is_a_one_line_error(args: list[str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--sources", "none.yaml", *args])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "outside 1990-01-01..2100-12-31" in err and "Traceback" not in err


def test_a_5_mb_robots_txt_is_read_once_and_only_its_first_512_kib() -> None:
    """24,000 rules: fetched and parsed once per site and run, cut at 512 KiB (RFC 9309's minimum, Google's
    limit), so a rule past the cap is not applied and no URL pays for the whole file (bench/robots.py)."""
    rules = "\n".join(f"Disallow: /private/*/section-{i}/*/archive-{'x' * 160}/*.pdf$" for i in range(24_000))
    robots = f"User-agent: *\n{rules}\nDisallow: /news/\n"
    assert len(robots) > 5_000_000
    pages = {f"/news/{i}": Response("<html><body><p>story</p></body></html>") for i in range(10)}
    with Site({"/robots.txt": Response(robots, content_type="text/plain"), **pages}) as site, \
            Fetcher(fast_settings()) as fetcher:
        for path in pages:
            assert fetcher.fetch(site.url(path)).status == 200  # "Disallow: /news/" lies past the cap
        assert site.hits("/robots.txt") == 1


def test_a_redirect_to_an_invalid_port_is_an_invalid_url_failure() -> None:
    from pipeline.errors import FetchError

    routes = {"/r": Response(status=302, headers={"Location": "http://127.0.0.1:99999/x"}),
              "/robots.txt": Response("", status=404)}
    with Site(routes) as site, Fetcher(fast_settings()) as fetcher:
        for url in (site.url("/r"), "http://127.0.0.1:99999/x"):
            with pytest.raises(FetchError) as caught:
                fetcher.fetch(url)
            assert caught.value.reason == Reason.INVALID_URL
