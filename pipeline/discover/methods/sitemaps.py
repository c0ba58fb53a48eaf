"""Sitemaps: breadth-first through indexes, bounded by depth, count and a visited set."""

from __future__ import annotations

from collections import deque

from pipeline.discover.methods.feeds import read_feed_page
from pipeline.discover.sitemaps import SitemapItem, parse_sitemap
from pipeline.discover.state import Method, SourceRun, safe_canonical, unique
from pipeline.discover.xml import FEED_ROOTS, BadDocument, UnsafeXML, sniff_root
from pipeline.errors import Reason
from pipeline.models import FetchKind


def read_sitemaps(run: SourceRun, sitemaps: tuple[str, ...]) -> None:
    roots = _expand_roots(run, unique(run.configured(sitemaps) + run.queued["sitemaps"] + list(run.prefetched)))
    queue: deque[tuple[str, int]] = deque((url, 0) for url in roots)
    seen: set[str] = set(roots)
    budget = run.settings.max_sitemaps
    while queue:
        url, depth = queue.popleft()
        if budget <= 0:
            run.fail(url, Reason.SITEMAP_LIMIT, f"more than {run.settings.max_sitemaps} sitemaps")
            return
        budget -= 1
        for child in _read_sitemap(run, url, depth):
            if child not in seen:
                seen.add(child)
                queue.append((child, depth + 1))


def _expand_roots(run: SourceRun, sitemaps: list[str]) -> list[str]:
    """A site root or robots.txt listed as a sitemap stands for the robots.txt `Sitemap:` lines."""
    out: list[str] = []
    for url in sitemaps:
        path = url.split("://", 1)[-1].partition("/")[2]
        if path in ("", "robots.txt") and url not in run.prefetched:
            out.extend(run.robots_sitemaps(url))
        else:
            out.append(url)
    return unique(out)


def _read_sitemap(run: SourceRun, url: str, depth: int) -> list[str]:
    """Read one sitemap: add its URLs, return the child sitemaps to follow."""
    page = run.prefetched.pop(url, None) or run.get(url, FetchKind.SITEMAP)
    if page is None:
        return []
    if sniff_root(page.body) in FEED_ROOTS:  # a feed listed as a sitemap: read it as a feed
        read_feed_page(run, url, page)
        return []
    try:
        kind, items = parse_sitemap(page.body, run.settings.max_response_bytes)
    except UnsafeXML as exc:
        run.broken(url, page, Reason.UNSAFE_XML, str(exc))
        return []
    except BadDocument as exc:
        run.broken(url, page, Reason.PARSE_ERROR, str(exc))
        return []
    except Exception as exc:  # noqa: BLE001 - a hostile document fails itself, never the source or the run
        run.broken(url, page, Reason.PARSE_ERROR, f"{type(exc).__name__}: {exc}")
        return []
    run.succeeded(url, page)
    if kind == "index":
        return _children(run, url, depth, items)
    for item in items:
        if item.error is not None:
            run.fail(item.loc or url, Reason.BAD_ITEM, item.error)
        elif item.loc:
            run.add_link(item.loc, page.final_url, item.published, item.signal, item.title, item.date_problem)
    return []


def _children(run: SourceRun, url: str, depth: int, items: list[SitemapItem]) -> list[str]:
    if depth >= run.settings.max_sitemap_depth:
        run.fail(url, Reason.SITEMAP_DEPTH, f"index nested deeper than {run.settings.max_sitemap_depth}")
        return []
    children = []
    for item in items:
        child = safe_canonical(item.loc, url)
        if child is None:
            continue
        if run.window is not None and item.published is not None and item.published < run.window.start:
            continue  # nothing in it changed since before the window
        children.append(child)
    return children


METHOD = Method("sitemaps", 30, read_sitemaps)
