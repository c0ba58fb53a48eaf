"""A hostile news site on loopback: every poison pill of issue 13 beside good articles, for the integration test.

Each bad item is something a real site can send: a NUL or lone-surrogate character reference in a feed title,
year 0 and 2024-02-30 dates, a 2,800-character link, an invalid port, a sitemap `lastmod` of year 1 at +14:00,
a page of 80,000 distinct words (its tsvector would pass PostgreSQL's 1 MiB), a response header holding a NUL
byte, a 2,000-word title, a 3,000-character rel=canonical, a feed answering 304 to a request without
validators, and a 1 MiB robots.txt of 24,000 rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from pipeline.newssite import Response, Site, Story, render_page

WORD_LIST_WORDS = 80_000
ROBOTS_RULES = 24_000


def good_stories(day: datetime) -> list[Story]:
    """The hostile site's well-formed articles: every one of them must be stored."""
    return [Story(f"good-{i}", f"Good story number {i} about the harbour", day + timedelta(hours=8 + i))
            for i in range(4)]


def word_list(count: int = WORD_LIST_WORDS) -> str:
    return " ".join(f"w{i:06d}q{i * 7919 % 100_003}" for i in range(count))


def hostile_site(day: datetime) -> Site:
    """A Site whose feed, sitemap, pages, headers and robots.txt carry the poison pills, and good stories."""
    site = Site()
    base = site.base
    stories = good_stories(day)
    when = day + timedelta(hours=7)
    rfc = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    bad_items = [
        (f"{base}/news/nul-title", rfc, "A title with a NUL &#0; inside"),
        (f"{base}/news/surrogate-title", rfc, "A lone surrogate &#xD800; here"),
        (f"{base}/news/year-zero", "0000-00-00T00:00:00Z", "Year zero"),
        (f"{base}/news/february-30", "2024-02-30T10:00:00Z", "February the thirtieth"),
        (f"{base}/news/" + "x" * 2800, rfc, "An over-long link"),
        ("http://127.0.0.1:99999/news/bad-port", rfc, "An invalid port"),
        (f"{base}/news/word-list", rfc, "A word list"),
        (f"{base}/news/nul-header", rfc, "A NUL byte in a header"),
        (f"{base}/news/long-title", rfc, "A page with a very long title"),
        (f"{base}/news/long-canonical", rfc, "A page with a very long canonical"),
    ]
    good_items = [(f"{base}/news/{s.slug}", s.published.strftime("%a, %d %b %Y %H:%M:%S GMT"), s.title)
                  for s in stories]
    site.routes["/feed.xml"] = Response(_rss(bad_items + good_items), content_type="application/rss+xml")
    site.routes["/feed-304.xml"] = Response(status=304)
    site.routes["/sitemap.xml"] = Response(
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/news/good-0</loc><lastmod>0001-01-01T00:00:00+14:00</lastmod></url>"
        f"<url><loc>{base}/news/nul&#0;-loc</loc><lastmod>{when.isoformat()}</lastmod></url>"
        f"<url><loc>{base}/news/good-1</loc><lastmod>9999-12-31T23:59:59-14:00</lastmod></url>"
        "</urlset>", content_type="application/xml")
    site.routes["/robots.txt"] = Response(_robots(), content_type="text/plain")
    for story in stories:
        site.routes[f"/news/{story.slug}"] = Response(story.page(base))
    page = _page_maker(base, when)
    site.routes["/news/nul-title"] = Response(page("nul-title", "Clean title after all"))
    site.routes["/news/surrogate-title"] = Response(page("surrogate-title", "Another clean title"))
    site.routes["/news/year-zero"] = Response(page("year-zero", "Dated by its page"))
    site.routes["/news/february-30"] = Response(page("february-30", "Dated by its page too"))
    site.routes["/news/nul-loc"] = Response(page("nul-loc", "Found through a NUL in a sitemap"))
    site.routes["/news/word-list"] = Response(page("word-list", "A word list", extra=word_list()))
    site.routes["/news/nul-header"] = Response(page("nul-header", "Headers with a NUL"),
                                               headers={"X-Evil": "before\x00after"})
    site.routes["/news/long-title"] = Response(page("long-title", " ".join(f"t{i}" for i in range(2000))))
    site.routes["/news/long-canonical"] = Response(page("long-canonical", "A long canonical",
                                                        canonical=f"{base}/news/" + "c" * 3000))
    return site


def _page_maker(base: str, when: datetime):  # noqa: ANN202 - a small local factory
    def page(slug: str, title: str, extra: str = "", canonical: str | None = None) -> str:
        paragraphs = [f"{title} was reported on {when:%A} by our correspondent at the harbour office.",
                      "Officials said the figures would be reviewed again next month, and residents asked for "
                      "clearer timetables and more frequent updates from the council at the hearing.",
                      f"The {slug} report runs to forty pages and will be published in full next week."]
        if extra:
            paragraphs.append(extra)
        return render_page(title=title, paragraphs=paragraphs, published=when,
                           canonical=canonical or f"{base}/news/{slug}")
    return page


def _rss(items: list[tuple[str, str, str]]) -> str:
    """RSS whose titles are written as given (they hold character references on purpose)."""
    entries = "".join(f"<item><title>{title}</title><link>{escape(link)}</link><pubDate>{date}</pubDate></item>"
                      for link, date, title in items)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hostile</title>'
            f"<link>http://example.org/</link><description>d</description>{entries}</channel></rss>")


def _robots() -> str:
    rules = "\n".join(f"Disallow: /private/*/section{i}/*.pdf$" for i in range(ROBOTS_RULES))
    return f"User-agent: *\n{rules}\nAllow: /\n"
