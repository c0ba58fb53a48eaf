"""An offline demo news site on loopback: a feed, a news sitemap and articles in several layouts."""

from __future__ import annotations

import html
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOPICS = [
    ("Harbour city opens its first tidal power station", "energy"),
    ("Regional rail line reopens after two-year rebuild", "transport"),
    ("Farmers test drought-resistant barley on the plains", "farming"),
    ("Library lends out telescopes to encourage night-sky watching", "culture"),
    ("Council approves plan to plant ten thousand street trees", "environment"),
    ("Small-town bakery wins national bread award", "food"),
    ("University team maps the river's changing course", "science"),
    ("Volunteer divers clear a decade of litter from the lake", "environment"),
    ("New ferry timetable cuts crossing times for commuters", "transport"),
    ("Museum returns a medieval map to the village that made it", "culture"),
    ("Hospital trials an app that shortens waiting times", "health"),
    ("Wind farm cooperative pays its first dividend to residents", "energy"),
]
SENTENCES = [
    "Officials said the project had been planned for several years and was finally approved last spring.",
    "Residents who attended the opening described the mood as cautious but hopeful.",
    "The work was funded jointly by the regional government and a group of local businesses.",
    "Critics argue that the costs were underestimated and that the timetable slipped more than once.",
    "Supporters point to similar schemes abroad that paid for themselves within a decade.",
    "A spokesperson promised that progress would be reviewed in public every six months.",
    "Engineers involved in the design said the hardest part was working around the weather.",
    "Local schools plan to use the project as a case study in their science lessons.",
    "The mayor thanked the volunteers who gave up their weekends to help.",
    "Figures published on Tuesday suggest that demand has already exceeded early forecasts.",
]
BOILERPLATE = """<div class="summary-widget"><p>No time to read?</p><button>Get a summary</button></div>"""


def article_text(index: int) -> list[str]:
    """Four or five invented paragraphs for article `index`."""
    paragraphs = []
    for p in range(4 + index % 2):
        picks = [SENTENCES[(index * 3 + p * 2 + k) % len(SENTENCES)] for k in range(3)]
        paragraphs.append(f"In story {index + 1}, part {p + 1}: " + " ".join(picks))
    return paragraphs


def render_article(index: int, published: datetime, base: str) -> str:
    """One article page; even pages are HTML5 <article>, odd pages WordPress-style div soup."""
    title, section = TOPICS[index % len(TOPICS)]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in article_text(index))
    prev_title, next_title = TOPICS[(index - 1) % len(TOPICS)][0], TOPICS[(index + 1) % len(TOPICS)][0]
    nav = (f'<nav class="post-nav"><a href="{base}/news/{index - 1}.html">Previous Article</a>'
           f'<p>{html.escape(prev_title)}</p><a href="{base}/news/{index + 1}.html">Next Article</a>'
           f'<p>{html.escape(next_title)}</p></nav>')
    head = (f"<title>{html.escape(title)} | Demo Gazette</title>"
            f'<link rel="canonical" href="{base}/news/{index}.html">'
            f'<meta property="article:published_time" content="{published.isoformat()}">'
            f'<meta name="author" content="Demo Staff Writer">')
    if index % 2 == 0:
        main = (f"<article><h1>{html.escape(title)}</h1><p class='byline'>By Demo Staff Writer</p>"
                f"{BOILERPLATE}{body}{BOILERPLATE}</article>{nav}")
    else:
        main = (f'<div id="page"><div class="site-content"><div class="entry-header"><h1 class="entry-title">'
                f'{html.escape(title)}</h1></div><div class="entry-content">{BOILERPLATE}{body}'
                f'<div class="sharedaddy">Share this: Facebook Twitter Email</div></div>{nav}</div></div>')
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{head}</head><body>"
            f"<header><a href='/'>Demo Gazette</a> <a href='/{section}'>{section.title()}</a></header>"
            f"{main}<footer>Cookies help us deliver our services. Accept cookies. (c) Demo Gazette</footer>"
            f"</body></html>")


class DemoSite:
    """Articles published over the last few days (relative to `now`), served on 127.0.0.1:`port`."""

    def __init__(self, port: int, now: datetime | None = None, count: int = 12) -> None:
        self.now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
        self.count = count
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def published(self, index: int) -> datetime:
        return self.now - timedelta(hours=6 * index + 1)

    def feed(self) -> str:
        items = "".join(
            f"<item><title>{html.escape(TOPICS[i % len(TOPICS)][0])}</title><link>{self.base}/news/{i}.html"
            f"?utm_source=rss</link><pubDate>{self.published(i).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
            f"</pubDate></item>" for i in range(0, self.count, 2))
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Demo Gazette</title>'
                f"<link>{self.base}/</link>{items}</channel></rss>")

    def sitemap(self) -> str:
        entries = "".join(
            f"<url><loc>{self.base}/news/{i}.html</loc><news:news><news:publication_date>"
            f"{self.published(i).isoformat()}</news:publication_date><news:title>"
            f"{html.escape(TOPICS[i % len(TOPICS)][0])}</news:title></news:news></url>"
            for i in range(1, self.count, 2))
        return ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + entries + "</urlset>")

    def sources_yaml(self) -> str:
        return (f"sources:\n  - name: demo-gazette\n    feeds: [{self.base}/feed.xml]\n"
                f"    politeness: {{min_delay: 0.05, max_connections: 4}}\n"
                f"  - name: demo-wire\n    sitemaps: [{self.base}/news-sitemap.xml]\n"
                f"    politeness: {{min_delay: 0.05, max_connections: 4}}\n")

    def respond(self, path: str) -> tuple[int, str, str]:
        path = path.split("?")[0]
        if path == "/feed.xml":
            return 200, "application/rss+xml; charset=utf-8", self.feed()
        if path == "/news-sitemap.xml":
            return 200, "application/xml; charset=utf-8", self.sitemap()
        if path == "/robots.txt":
            return 200, "text/plain", f"User-agent: *\nDisallow: /private/\nSitemap: {self.base}/news-sitemap.xml\n"
        if path.startswith("/news/") and path.endswith(".html"):
            try:
                index = int(path[6:-5])
            except ValueError:
                index = -1
            if 0 <= index < self.count:
                return 200, "text/html; charset=utf-8", render_article(index, self.published(index), self.base)
        return 404, "text/html; charset=utf-8", "<html><body><h1>Not found</h1></body></html>"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                status, content_type, text = site.respond(self.path)
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> DemoSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_demo_site(port: int, write_sources: Path | None = None) -> None:
    """Serve until interrupted; optionally write a sources file pointing at the site."""
    site = DemoSite(port)
    if write_sources is not None:
        write_sources.write_text(site.sources_yaml(), encoding="utf-8")
    print(f"demo news site on {site.base} (feed {site.base}/feed.xml); Ctrl-C stops it", flush=True)
    try:
        site.server.serve_forever()
    finally:
        site.server.server_close()
