"""Discover one source: run every discovery method over one shared state, in order."""

from __future__ import annotations

from pipeline.discover.methods import METHODS
from pipeline.discover.state import Discovery, SourceRun
from pipeline.fetch import Fetcher
from pipeline.models import HttpCache, Source, Window
from pipeline.settings import Settings


def discover_source(
    source: Source,
    fetcher: Fetcher,
    window: Window | None,
    cache: HttpCache,
    settings: Settings,
    *,
    conditional: bool = True,
    keep_undated: bool | None = None,
    defer_validators: bool = False,
) -> Discovery:
    """Discover the article URLs of `source` for `window` (None: keep every date).

    `conditional` sends the cached ETag/Last-Modified (daily runs); backfills pass False so an
    unchanged feed is still read. Undated feed/sitemap items are kept when `keep_undated`
    (default: the value of `conditional`, i.e. kept in incremental runs, dropped in backfills);
    explicit `source.urls` are always kept.

    The new validators of feeds/sitemaps read successfully are written to `cache` at once, unless
    `defer_validators`: then they are returned in `Discovery.validators` for the caller to save once
    the run's pages are safely stored, so that a run that fails after discovery and is retried does
    not get 304s and lose the articles it never stored.
    """
    run = SourceRun(source, fetcher, window, cache, settings, conditional=conditional,
                    keep_undated=conditional if keep_undated is None else keep_undated,
                    defer_validators=defer_validators)
    for method in METHODS:
        method.run(run, getattr(source, method.field))
    return run.finish()
