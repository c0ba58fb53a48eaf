"""Metadata of a page: title, authors, publication date with its signal, language, canonical URL, description."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml.html import HtmlElement

from pipeline.extract.metadata.authors import clean_authors, page_authors
from pipeline.extract.metadata.canonical import canonical_url
from pipeline.extract.metadata.dates import publication_date
from pipeline.extract.metadata.description import page_description
from pipeline.extract.metadata.language import declared_language, guess_language
from pipeline.extract.metadata.page import article_ld, json_ld, meta_map, site_name
from pipeline.extract.metadata.title import headline_candidates, strip_site_suffix
from pipeline.models import DateSignal, PageHints

__all__ = ["Metadata", "clean_authors", "extract_metadata", "guess_language", "strip_site_suffix"]

@dataclass(frozen=True)
class Metadata:
    """What the page says about itself, with the signal each value came from."""

    title: str = ""
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    date_signal: DateSignal | None = None
    language: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    headlines: tuple[str, ...] = ()  # every headline the page shows (h1, og:title...), site suffix removed
    description: str | None = None


def extract_metadata(tree: HtmlElement, url: str, hints: PageHints | None = None) -> Metadata:
    """Title, authors, date (with its signal), language and canonical URL of a page."""
    meta = meta_map(tree)
    ld = article_ld(json_ld(tree))
    site = site_name(meta, ld, url)
    published, signal = publication_date(tree, meta, ld, url, hints)
    headlines = headline_candidates(tree, meta, ld, site, url, hints)
    return Metadata(
        title=headlines[0] if headlines else "",
        headlines=tuple(headlines),
        authors=page_authors(tree, meta, ld, site, url),
        published_at=published,
        date_signal=signal,
        language=declared_language(tree, meta, ld),
        canonical_url=canonical_url(tree, meta, url),
        site_name=site,
        description=page_description(meta, ld),
    )

