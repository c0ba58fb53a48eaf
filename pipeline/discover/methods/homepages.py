"""Home pages: the feeds they advertise (<link rel="alternate">) and their robots.txt `Sitemap:` lines."""

from __future__ import annotations

from pipeline.discover.feeds import feed_links
from pipeline.discover.state import Method, SourceRun
from pipeline.errors import FetchError
from pipeline.models import FetchKind


def read_homepages(run: SourceRun, homepages: tuple[str, ...]) -> None:
    for url in run.configured(homepages):
        run.queued["feeds"].extend(_feeds_of(run, url))
        run.queued["sitemaps"].extend(run.robots_sitemaps(url))


def _feeds_of(run: SourceRun, url: str) -> list[str]:
    run.result.fetched.append(url)
    try:
        page = run.fetcher.fetch(url, kind=FetchKind.PAGE)
    except FetchError as exc:
        run.fail(url, exc.reason, str(exc))
        return []
    return feed_links(page.body, page.final_url)


METHOD = Method("homepages", 10, read_homepages)
