"""A fake news site on loopback for the demo, tests and benchmarks: feeds, news sitemaps, pages, latency, faults."""

from __future__ import annotations

import gzip
import html
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Union

# -- serving ----------------------------------------------------------------------------------------


@dataclass
class Response:
    """A canned response; `body` may be bytes or str (encoded with `charset`); `delay` adds latency."""

    body: Union[bytes, str] = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    charset: str = "utf-8"
    delay: float = 0.0

    def payload(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else self.body.encode(self.charset)


@dataclass(frozen=True)
class RequestInfo:
    """One request the site received; `host` is the index of the listening socket it came in on."""

    method: str
    path: str
    headers: dict[str, str]
    at: float
    host: int = 0


Handler = Callable[[RequestInfo], Response]
Route = Union[Response, Handler]
NOT_FOUND = Response("<html><body><h1>Not found</h1></body></html>", status=404)


class _QuietServer(ThreadingHTTPServer):
    """Does not print tracebacks when a client hangs up early (tests do that on purpose)."""

    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class Site:
    """Serve `routes` (path -> Response or callable) on `host`, over `hosts` listening sockets, in threads.

    A path that no route names goes to `resolver` (when given), which may answer None for 404. Use as a
    context manager (or `start()`/`stop()`); `url(path)` builds absolute URLs of the first socket,
    `base_of(i)` of the i-th, and `requests` lists what was asked, in order, so tests can assert counts.
    """

    def __init__(self, routes: dict[str, Route] | None = None, latency: float = 0.0, host: str = "127.0.0.1",
                 *, hosts: int = 1, port: int = 0,
                 resolver: Callable[[RequestInfo], Response | None] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.latency = latency
        self.host = host
        self.resolver = resolver
        self.requests: list[RequestInfo] = []
        self._lock = threading.Lock()
        self._servers = [_QuietServer((host, port if i == 0 else 0), self._handler_class(i)) for i in range(hosts)]
        self._threads = [threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True) for s in self._servers]

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def ports(self) -> list[int]:
        return [s.server_address[1] for s in self._servers]

    @property
    def base(self) -> str:
        return self.base_of(0)

    def base_of(self, host: int) -> str:
        return f"http://{self.host}:{self.ports[host]}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        """How many times `path` (without query) was requested."""
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    def start(self) -> Site:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, info: RequestInfo) -> None:
        with self._lock:
            self.requests.append(info)

    def _resolve(self, info: RequestInfo) -> Response:
        route = self.routes.get(info.path) or self.routes.get(info.path.split("?")[0])
        if route is not None:
            return route(info) if callable(route) else route
        return (self.resolver(info) if self.resolver else None) or NOT_FOUND

    def _handler_class(self, host: int) -> type[BaseHTTPRequestHandler]:
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                info = RequestInfo("GET", self.path, dict(self.headers.items()), time.monotonic(), host)
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


# -- feeds and sitemaps -----------------------------------------------------------------------------

FeedItem = tuple[str, str, datetime]  # link, title, published


def feed_xml(channel: str, items: Iterable[FeedItem], link: str = "", guid: bool = False) -> str:
    """An RSS 2.0 document listing `items`."""
    body = "".join(
        f"<item><title>{html.escape(title)}</title><link>{html.escape(url)}</link>"
        + (f"<guid>{html.escape(url)}</guid>" if guid else "")
        + f"<pubDate>{format_datetime(when.astimezone(UTC), usegmt=True)}</pubDate></item>"
        for url, title, when in items)
    link_tag = f"<link>{html.escape(link)}</link><description>{html.escape(channel)}</description>" if link else ""
    return (f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>{html.escape(channel)}"
            f"</title>{link_tag}{body}</channel></rss>")


def news_sitemap_xml(items: Iterable[FeedItem]) -> str:
    """A Google News sitemap listing `items`."""
    entries = "".join(f"<url><loc>{html.escape(url)}</loc><news:news><news:publication_date>{when.isoformat()}"
                      f"</news:publication_date><news:title>{html.escape(title)}</news:title></news:news></url>"
                      for url, title, when in items)
    return ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
            "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>" + entries + "</urlset>")


# -- article pages ----------------------------------------------------------------------------------

SUMMARY_WIDGET = "<div class='tldr'><p>No time to read?</p><a href='#'>Get a summary</a></div>"
LAYOUTS = ("html5", "wordpress")


@dataclass(frozen=True)
class Masthead:
    """What every page of one outlet shares: name, sections, cookie footer."""

    name: str = "Test Herald"
    sections: tuple[str, ...] = ("World",)
    footer: str = "We use cookies. Accept all."


def render_page(*, title: str, paragraphs: Sequence[str], published: datetime, canonical: str,
                layout: str = "html5", masthead: Masthead = Masthead(), byline: str = "",
                neighbours: tuple[str, str] = ("Another headline about roads", "A different story about schools"),
                neighbour_urls: tuple[str, str] = ("/a", "/b")) -> str:
    """One article page in `layout` with real-world furniture: summary widgets, prev/next links, footer."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    byline_tag = f"<p class='byline'>By {html.escape(byline)}</p>" if byline else ""
    nav = (f"<div class='post-navigation'><a href='{neighbour_urls[0]}'>Previous Article</a>"
           f"<p>{html.escape(neighbours[0])}</p><a href='{neighbour_urls[1]}'>Next Article</a>"
           f"<p>{html.escape(neighbours[1])}</p></div>")
    head = (f"<title>{html.escape(title)} - {html.escape(masthead.name)}</title>"
            f"<meta property='article:published_time' content='{published.isoformat()}'>"
            + (f"<meta name='author' content='{html.escape(byline)}'>" if byline else "")
            + f"<link rel='canonical' href='{html.escape(canonical)}'>")
    if layout == "html5":
        main = (f"<article><h1>{html.escape(title)}</h1>{byline_tag}{SUMMARY_WIDGET}{body}{SUMMARY_WIDGET}"
                f"</article>{nav}")
    elif layout == "wordpress":
        main = (f"<div id='content'><div class='post'><h1 class='entry-title'>{html.escape(title)}</h1>{byline_tag}"
                f"<div class='entry-content'>{SUMMARY_WIDGET}{body}<div class='share'>Share on Facebook Twitter"
                f"</div></div>{nav}</div></div>")
    else:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    sections = " ".join(f"<a href='/{s.lower()}'>{html.escape(s)}</a>" for s in masthead.sections)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{head}</head><body>"
            f"<nav><a href='/'>Home</a> {sections}</nav>{main}"
            f"<footer>{html.escape(masthead.footer)} (c) {html.escape(masthead.name)}</footer></body></html>")


LEAD = ("The committee met for six hours on Tuesday and agreed to publish its findings in full, a decision that "
        "members described as overdue. ")
FILLER = ("Local officials said the figures would be reviewed again next month. Several residents who spoke at "
          "the hearing asked for clearer timetables and more frequent updates from the council. ")


@dataclass(frozen=True)
class Story:
    """One article of a test site (`slug` under /news/), with generated paragraphs unless given."""

    slug: str
    title: str
    published: datetime
    layout: str = "html5"
    text: tuple[str, ...] = ()

    @property
    def paragraphs(self) -> list[str]:
        """The article's paragraphs as the pipeline should store them (normalised whitespace)."""
        raw = self.text or (f"{self.title} was confirmed on {self.published:%A}. " + LEAD,
                            FILLER + f"The {self.slug} report runs to forty pages.",
                            "Campaigners welcomed the move but said the real test would come when the money is "
                            "spent. " * 2)
        return [" ".join(p.split()) for p in raw]

    def page(self, base: str) -> str:
        return render_page(title=self.title, paragraphs=self.paragraphs, published=self.published,
                           canonical=f"{base}/news/{self.slug}", layout=self.layout)


def rss(base: str, stories: list[Story], extra_links: Sequence[tuple[str, datetime]] = ()) -> str:
    """The test site's feed: its stories (with a tracking parameter, as real feeds do) and extra links."""
    items = [(f"{base}/news/{s.slug}?utm_source=rss", s.title, s.published) for s in stories]
    items += [(link, "extra", when) for link, when in extra_links]
    return feed_xml("Test Herald", items)


def news_sitemap(base: str, stories: list[Story]) -> str:
    return news_sitemap_xml((f"{base}/news/{s.slug}", s.title, s.published) for s in stories)


def build_site(feed_stories: list[Story], sitemap_stories: list[Story], extra_routes: dict | None = None,
               extra_feed_links: Sequence[tuple[str, datetime]] = ()) -> Site:
    """A Site serving /feed.xml, /news-sitemap.xml, /robots.txt and every story page."""
    site = Site()
    base = site.base
    site.routes["/robots.txt"] = Response("User-agent: *\nAllow: /\n", content_type="text/plain")
    site.routes["/feed.xml"] = Response(rss(base, feed_stories, list(extra_feed_links)),
                                        content_type="application/rss+xml", headers={"ETag": '"feed-v1"'})
    site.routes["/news-sitemap.xml"] = Response(news_sitemap(base, sitemap_stories), content_type="application/xml",
                                                headers={"Last-Modified": "Fri, 20 Nov 2026 23:00:00 GMT"})
    for story in (*feed_stories, *sitemap_stories):
        site.routes[f"/news/{story.slug}"] = Response(story.page(base))
    site.routes.update(extra_routes or {})
    return site


def sources_yaml(base: str) -> str:
    return (f"sources:\n  - name: herald-feed\n    feeds: [{base}/feed.xml]\n"
            f"    politeness: {{min_delay: 0, max_connections: 4}}\n"
            f"  - name: herald-sitemap\n    sitemaps: [{base}/news-sitemap.xml]\n"
            f"    politeness: {{min_delay: 0, max_connections: 4}}\n")


def one_feed_source(base: str, name: str = "herald") -> str:
    """A sources file with one feed source fetched over a single connection (a deterministic order)."""
    return f"- name: {name}\n  feeds: [{base}/feed.xml]\n  politeness: {{min_delay: 0, max_connections: 1}}\n"


# -- faults -----------------------------------------------------------------------------------------


class Trap:
    """Runs `action` once, when the `at`-th article page is requested while the trap is armed."""

    def __init__(self, at: int, action: Callable[[], None], armed: bool = True) -> None:
        self.at, self.action, self.armed, self.count = at, action, armed, 0
        self._lock = threading.Lock()

    def hit(self) -> None:
        with self._lock:
            if not self.armed:
                return
            self.count += 1
            if self.count == self.at:
                self.armed = False
                self.action()


def build_trapped_site(stories: list[Story], trap: Trap) -> Site:
    """A site whose article pages spring `trap` (e.g. take the database away) as they are served."""
    site = build_site(stories, [])

    def page(story: Story) -> Handler:
        def handler(info: RequestInfo) -> Response:
            trap.hit()
            return Response(story.page(site.base))
        return handler

    for story in stories:
        site.routes[f"/news/{story.slug}"] = page(story)
    return site


def sequence(*responses: Response) -> Handler:
    """A route answering each request with the next response (the last one repeats): e.g. 503, 503, 200."""
    pending = list(responses)
    lock = threading.Lock()

    def handler(info: RequestInfo) -> Response:
        with lock:
            return pending.pop(0) if len(pending) > 1 else pending[0]
    return handler


# -- the demo: three outlets, their own stories, one wire story carried by all three ------------------


@dataclass(frozen=True)
class DemoStory:
    """A story of the demo: which day before today it was published (1 = yesterday) and at what hour."""

    slug: str
    title: str
    days_ago: int
    hour: int
    text: tuple[str, ...]


@dataclass(frozen=True)
class Outlet:
    """One news outlet of the demo: a source name, a path prefix, how it is discovered, its look."""

    source: str
    prefix: str
    discovery: str  # "feed" or "sitemap"
    layout: str
    masthead: Masthead
    byline: str
    stories: tuple[DemoStory, ...]


WIRE_STORY = DemoStory("ferry-strike-ends", "Ferry crews end strike after overnight pay deal", 1, 7, (
    "Ferry crews on the northern routes returned to work on Thursday morning after union leaders accepted an "
    "overnight pay offer, ending a nine-day strike that had stranded thousands of island residents.",
    "The agreement raises basic pay by six percent this year and four percent next year, and adds a rest-day "
    "guarantee that the union had demanded since the spring, according to both sides.",
    "The operator said the first sailings left on time and that the full timetable would run from the weekend, "
    "once crews and vessels were back in their usual rotation.",
    "Island shopkeepers, who had relied on a single emergency supply boat, said shelves would take several days "
    "to fill again and asked the operator to add extra freight crossings.",
))
WIRE_LOCAL_PARAGRAPH = ("In the valley, hauliers who had diverted lorries through the southern port said they "
                        "would switch back by Monday.")

DEMO_OUTLETS = (
    Outlet("harbour-herald", "/herald", "feed", "html5",
           Masthead("Harbour Herald", ("Harbour", "Business"), "We use cookies to improve your visit. Accept all."),
           "Mara Lind", (
               DemoStory("tidal-station-opens", "Harbour city opens its first tidal power station", 1, 9, (
                   "The city switched on its first tidal power station on Wednesday, a row of six turbines set "
                   "into the old breakwater that engineers say can light eleven thousand homes.",
                   "The station cost forty million euros and was paid for by a bond that residents could buy "
                   "in small amounts; more than two thousand of them did.",
                   "Fishermen had worried that the turbines would scare off the mackerel that gather near the "
                   "harbour mouth, so sensors will count the shoals for the first two years.",
                   "If the output matches the forecasts, the council wants to add a second row along the "
                   "eastern pier before the end of the decade.",
               )),
               DemoStory("fish-market-moves", "Fish market moves to the old customs hall", 2, 11, (
                   "The morning fish auction will move into the restored customs hall next month, ending forty "
                   "years under a leaking tin roof on the north quay.",
                   "Traders welcomed the cold rooms and the new loading bay but grumbled that the rent will "
                   "rise by a fifth once the first year's discount runs out.",
                   "The hall's clock tower, silent since the nineteen-seventies, has been repaired and will "
                   "ring the start of the auction at half past five.",
                   "The empty quay is to become a small park with benches and a slipway for rowing clubs.",
               )),
               DemoStory("lighthouse-keepers-return", "Volunteers take over the lighthouse on Gull Rock", 3, 15, (
                   "A group of forty volunteers has signed a lease on the Gull Rock lighthouse and plans to "
                   "open it to visitors from the first of May.",
                   "The light was automated in nineteen ninety-one and the keepers' cottages have stood empty "
                   "since, slowly losing their slates to the winter gales.",
                   "The volunteers raised the first repair money with a swim around the rock, which took the "
                   "fastest of them just under an hour.",
                   "Boat trips will run twice a day in summer, tides permitting, and school groups will cross "
                   "for free.",
               )),
           )),
    Outlet("valley-times", "/valley", "sitemap", "wordpress",
           Masthead("Valley Times", ("Farming", "Transport"), "This site uses cookies. Accept cookies."),
           "Jonas Petrov", (
               DemoStory("barley-trial", "Farmers test drought-resistant barley on the plains", 1, 13, (
                   "Twelve farms on the dry eastern plains are growing a drought-tolerant barley this season "
                   "in a trial run by the agricultural college.",
                   "The variety was bred from landraces collected in the uplands and needs about a third "
                   "less water than the barley most farmers sow now.",
                   "Brewers have promised to buy the whole harvest if the grain passes their malting tests, "
                   "which measure how evenly the seeds sprout.",
                   "The college will publish yields in October and hopes to offer seed to every farm in the "
                   "district within three years.",
               )),
               DemoStory("rail-line-reopens", "Regional rail line reopens after two-year rebuild", 2, 8, (
                   "Trains are running again between Millford and the county town after a rebuild that "
                   "replaced two viaducts and forty kilometres of track.",
                   "The journey now takes thirty-eight minutes, eleven fewer than before the closure, and "
                   "trains run every half hour from six in the morning.",
                   "Commuters who spent two years on replacement buses packed the first service, and the "
                   "driver sounded the horn as it crossed the rebuilt river viaduct.",
                   "The operator admitted the project ran five months late, blaming floods that washed away "
                   "a temporary bridge in the first winter.",
               )),
               DemoStory("orchard-cooperative", "Apple growers form a cooperative to share a cider press", 3, 10, (
                   "Nineteen small orchards in the upper valley have formed a cooperative to buy a shared cider "
                   "press and a refrigerated trailer.",
                   "Until now most growers sold their fruit to a single wholesaler at prices they say barely "
                   "covered the cost of picking.",
                   "The cooperative plans to bottle its first cider this autumn under one label and sell it at "
                   "farm shops and the Saturday market.",
                   "A regional development fund paid half the cost of the press after the growers wrote a "
                   "business plan with help from the chamber of commerce.",
               )),
           )),
    Outlet("city-courier", "/courier", "feed", "html5",
           Masthead("City Courier", ("City", "Culture"), "Cookies help us deliver our services. Accept cookies."),
           "Ana Sousa", (
               DemoStory("library-telescopes", "Library lends out telescopes to encourage stargazing", 1, 16, (
                   "The central library has added twenty telescopes to its catalogue, and borrowers can take "
                   "one home for a week with an ordinary library card.",
                   "Each telescope comes in a padded case with a red torch, a star map and a notebook in which "
                   "borrowers are asked to write what they saw.",
                   "The waiting list passed three hundred names in the first two days, and the library is "
                   "asking local astronomy clubs to donate more instruments.",
                   "Staff said the notebooks already hold sketches of the moon's craters and one careful "
                   "drawing of Saturn's rings.",
               )),
               DemoStory("street-trees", "Council approves plan to plant ten thousand street trees", 2, 14, (
                   "The city council voted on Monday to plant ten thousand street trees over five years, "
                   "starting with the neighbourhoods that have the least shade.",
                   "Maps drawn from satellite images show that some streets in the south are up to four "
                   "degrees hotter on summer afternoons than the leafy north.",
                   "Residents can ask for a tree outside their home and agree to water it through its first "
                   "two summers, when young trees are most likely to die.",
                   "The plan costs twelve million euros, about half of it for digging out pavements to give "
                   "the roots room to grow.",
               )),
               DemoStory("bakery-award", "Small bakery in the old town wins national bread award", 3, 12, (
                   "A two-person bakery in the old town has won the national bread award with a rye loaf "
                   "made from a sourdough starter that is older than the bakery itself.",
                   "The owners bought the starter from a retiring baker in the hills and feed it twice a day, "
                   "including on holidays.",
                   "The judges praised the loaf's dark crust and said it tasted even better on the third day, "
                   "which they called the mark of a serious bread.",
                   "Queues formed outside the shop the morning after the award, and the loaves sold out by "
                   "nine o'clock.",
               )),
           )),
)


class DemoSite:
    """Three outlets on one loopback server, their stories dated over the days before `now`.

    Each outlet has stories of its own (distinct texts); all three carry one wire story: the Herald and the
    Courier word for word (exact duplicates), the Valley Times with an extra local paragraph (a near duplicate).
    """

    def __init__(self, port: int = 0, now: datetime | None = None, host: str = "127.0.0.1") -> None:
        self.today = (now or datetime.now(UTC)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.site = Site(port=port, host=host)
        self.base = self.site.base
        for outlet in DEMO_OUTLETS:
            self._publish(outlet)

    def published(self, story: DemoStory) -> datetime:
        return self.today - timedelta(days=story.days_ago) + timedelta(hours=story.hour)

    def days(self) -> list[str]:
        """The UTC days (ISO dates) on which the demo outlets published, oldest first."""
        return sorted({f"{self.published(s):%Y-%m-%d}" for o in DEMO_OUTLETS for s in (*o.stories, WIRE_STORY)})

    def backfill_days(self) -> tuple[str, str]:
        """First and last day with articles before yesterday (yesterday is the first scheduled run's day)."""
        earlier = self.days()[:-1]
        return earlier[0], earlier[-1]

    def sources_yaml(self) -> str:
        entries = []
        for o in DEMO_OUTLETS:
            where = "feeds" if o.discovery == "feed" else "sitemaps"
            path = "feed.xml" if o.discovery == "feed" else "news-sitemap.xml"
            entries.append(f"  - name: {o.source}\n    {where}: [{self.base}{o.prefix}/{path}]\n"
                           f"    politeness: {{min_delay: 0.05, max_connections: 4}}\n")
        return "sources:\n" + "".join(entries)

    def _publish(self, outlet: Outlet) -> None:
        stories = sorted((*outlet.stories, WIRE_STORY), key=self.published)
        urls = [f"{self.base}{outlet.prefix}/news/{s.slug}.html" for s in stories]
        for i, (story, url) in enumerate(zip(stories, urls)):
            text = story.text
            if story is WIRE_STORY and outlet.discovery == "sitemap":
                text = (*text[:3], WIRE_LOCAL_PARAGRAPH, text[3])
            before, after = stories[i - 1] if i else stories[-1], stories[(i + 1) % len(stories)]
            page = render_page(title=story.title, paragraphs=text, published=self.published(story), canonical=url,
                               layout=outlet.layout, masthead=outlet.masthead, byline=outlet.byline,
                               neighbours=(before.title, after.title),
                               neighbour_urls=(urls[i - 1], urls[(i + 1) % len(urls)]))
            self.site.routes[url.removeprefix(self.base)] = Response(page)
        items = [(u + ("?utm_source=rss" if outlet.discovery == "feed" else ""), s.title, self.published(s))
                 for s, u in zip(stories, urls)]
        if outlet.discovery == "feed":
            self.site.routes[f"{outlet.prefix}/feed.xml"] = Response(
                feed_xml(outlet.masthead.name, reversed(items), link=self.base + outlet.prefix + "/"),
                content_type="application/rss+xml; charset=utf-8")
        else:
            self.site.routes[f"{outlet.prefix}/news-sitemap.xml"] = Response(
                news_sitemap_xml(items), content_type="application/xml; charset=utf-8")
        self.site.routes["/robots.txt"] = Response("User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    def start(self) -> DemoSite:
        self.site.start()
        return self

    def stop(self) -> None:
        self.site.stop()


def serve_demo_site(port: int, write_sources: Path | None = None, write_info: Path | None = None,
                    host: str = "127.0.0.1") -> None:
    """Serve until interrupted; optionally write a sources file pointing at the site and a JSON of its days."""
    demo = DemoSite(port, host=host).start()
    if write_info is not None:
        first, last = demo.backfill_days()
        info = {"base": demo.base, "days": demo.days(), "backfill_from": first, "backfill_to": last,
                "sources": [o.source for o in DEMO_OUTLETS]}
        write_info.write_text(json.dumps(info), encoding="utf-8")
    if write_sources is not None:  # written last: its presence tells a waiting script that the site is up
        write_sources.write_text(demo.sources_yaml(), encoding="utf-8")
    print(f"demo news site on {demo.base} ({len(DEMO_OUTLETS)} outlets); Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()
