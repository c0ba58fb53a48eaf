"""RSS/Atom feeds: every entry's link with its date; a sitemap listed as a feed is left for the sitemaps."""

from __future__ import annotations

from pipeline.discover.feeds import parse_feed
from pipeline.discover.state import Method, SourceRun, unique
from pipeline.discover.xml import SITEMAP_ROOTS, BadDocument, UnsafeXML, sniff_root
from pipeline.errors import Reason
from pipeline.models import DateSignal, FetchedPage, FetchKind


def read_feeds(run: SourceRun, feeds: tuple[str, ...]) -> None:
    for url in unique(run.configured(feeds) + run.queued["feeds"]):
        page = run.get(url, FetchKind.FEED)
        if page is None:
            continue
        if sniff_root(page.body) in SITEMAP_ROOTS:
            run.prefetched[url] = page
        else:
            read_feed_page(run, url, page)


def read_feed_page(run: SourceRun, url: str, page: FetchedPage) -> None:
    """Add the entries of a fetched feed (also used for a feed listed as a sitemap)."""
    try:
        entries = parse_feed(page.body, page.final_url, page.content_type)
    except UnsafeXML as exc:
        return run.broken(url, page, Reason.UNSAFE_XML, str(exc))
    except BadDocument as exc:
        return run.broken(url, page, Reason.PARSE_ERROR, str(exc))
    except Exception as exc:  # noqa: BLE001 - a hostile document fails itself, never the source or the run
        return run.broken(url, page, Reason.PARSE_ERROR, f"{type(exc).__name__}: {exc}")
    run.succeeded(url, page)
    for entry in entries:
        if entry.error is not None:
            run.fail(entry.link or url, Reason.BAD_ITEM, entry.error)
        else:
            run.add_link(entry.link, page.final_url, entry.published, DateSignal.FEED, entry.title,
                         entry.date_problem)


METHOD = Method("feeds", 20, read_feeds)
