"""A small dated news site for integration and DAG tests: feed, news sitemap, pages in several layouts."""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from tests.sitekit import RequestInfo, Response, Site

LEAD = ("The committee met for six hours on Tuesday and agreed to publish its findings in full, a decision that "
        "members described as overdue. ")
FILLER = ("Local officials said the figures would be reviewed again next month. Several residents who spoke at "
          "the hearing asked for clearer timetables and more frequent updates from the council. ")


@dataclass(frozen=True)
class Story:
    """One article of the test site."""

    slug: str
    title: str
    published: datetime
    layout: str = "html5"

    @property
    def paragraphs(self) -> list[str]:
        """The article's paragraphs as the pipeline should store them (normalised whitespace)."""
        raw = [f"{self.title} was confirmed on {self.published:%A}. " + LEAD,
               FILLER + f"The {self.slug} report runs to forty pages.",
               "Campaigners welcomed the move but said the real test would come when the money is spent. " * 2]
        return [" ".join(p.split()) for p in raw]

    def page(self, base: str) -> str:
        body = "".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)
        widget = "<div class='tldr'><p>No time to read?</p><a href='#'>Get a summary</a></div>"
        nav = ("<div class='post-navigation'><a href='/a'>Previous Article</a><p>Another headline about roads</p>"
               "<a href='/b'>Next Article</a><p>A different story about schools</p></div>")
        head = (f"<title>{html.escape(self.title)} - Test Herald</title>"
                f"<meta property='article:published_time' content='{self.published.isoformat()}'>"
                f"<link rel='canonical' href='{base}/news/{self.slug}'>")
        if self.layout == "html5":
            main = f"<article><h1>{html.escape(self.title)}</h1>{widget}{body}{widget}</article>{nav}"
        else:
            main = (f"<div id='content'><div class='post'><h1 class='entry-title'>{html.escape(self.title)}</h1>"
                    f"<div class='entry-content'>{widget}{body}<div class='share'>Share on Facebook Twitter</div>"
                    f"</div>{nav}</div></div>")
        return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{head}</head><body>"
                f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>{main}"
                f"<footer>We use cookies. Accept all. (c) Test Herald</footer></body></html>")


def rss(base: str, stories: list[Story], extra_links: list[tuple[str, datetime]] = ()) -> str:
    items = [(f"{base}/news/{s.slug}?utm_source=rss", s.title, s.published) for s in stories]
    items += [(link, "extra", when) for link, when in extra_links]
    body = "".join(f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link>"
                   f"<pubDate>{d.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>" for u, t, d in items)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Test Herald</title>{body}</channel></rss>"


def news_sitemap(base: str, stories: list[Story]) -> str:
    entries = "".join(f"<url><loc>{base}/news/{s.slug}</loc><news:news><news:publication_date>"
                      f"{s.published.isoformat()}</news:publication_date><news:title>{html.escape(s.title)}"
                      f"</news:title></news:news></url>" for s in stories)
    return ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
            "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>" + entries + "</urlset>")


def build_site(feed_stories: list[Story], sitemap_stories: list[Story], extra_routes: dict | None = None,
               extra_feed_links: list[tuple[str, datetime]] = ()) -> Site:
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

    def page(story: Story) -> Callable[[RequestInfo], Response]:
        def handler(info: RequestInfo) -> Response:
            trap.hit()
            return Response(story.page(site.base))
        return handler

    for story in stories:
        site.routes[f"/news/{story.slug}"] = page(story)
    return site


def one_feed_source(base: str, name: str = "herald") -> str:
    """A sources file with one feed source fetched over a single connection (a deterministic order)."""
    return f"- name: {name}\n  feeds: [{base}/feed.xml]\n  politeness: {{min_delay: 0, max_connections: 1}}\n"
