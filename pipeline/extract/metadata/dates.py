"""The publication date and its signal: JSON-LD, <meta>, <time>, discovery hints, the URL; never after the fetch."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipeline.dates import parse_date
from pipeline.extract.metadata.page import text_of
from pipeline.models import DateSignal, PageHints, utc

_DATE_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "publish-date",
    "publishdate",
    "pubdate",
    "publish_date",
    "date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "og:published_time",
    "citation_publication_date",
    "article_date_original",
    "original-publish-date",
    "cxenseparse:recs:publishtime",
)
_URL_DATE = (
    re.compile(r"/((?:19|20)\d{2})[/_-](\d{1,2})[/_-](\d{1,2})(?:[/_.-]|$)"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})(?:[/_.-]|$)"),
)


def publication_date(
    tree: HtmlElement, meta: dict[str, str], ld: dict, url: str, hints: PageHints | None
) -> tuple[datetime | None, DateSignal | None]:
    """The first plausible date by signal priority; a date after the fetch time is refused."""
    fetched = utc(hints.fetched_at) if hints and hints.fetched_at else None
    candidates = [(text_of(ld.get("datePublished")) or None, DateSignal.JSON_LD)]
    candidates += [(meta.get(key), DateSignal.META) for key in _DATE_META]
    candidates += [(value, DateSignal.TIME) for value in _time_values(tree)]
    if hints and hints.published_at:
        candidates.append((hints.published_at.isoformat(), hints.date_signal or DateSignal.FEED))
    candidates.append((_url_date(url), DateSignal.URL))
    for value, signal in candidates:
        moment = parse_date(value)
        if moment is not None and (fetched is None or moment <= fetched):
            return moment, signal
    return None, None


def _time_values(tree: HtmlElement) -> list[str]:
    preferred = tree.xpath(
        '//time[@itemprop="datePublished" or @pubdate or contains(@class, "publish")]/@datetime'
    )
    return [str(v) for v in preferred[:2]] + [str(v) for v in tree.xpath("//time/@datetime")[:3]]


def _url_date(url: str) -> str | None:
    path = urlsplit(url).path
    for pattern in _URL_DATE:
        match = pattern.search(path)
        if match:
            year, month, day = (int(g) for g in match.groups())
            if 1 <= month <= 12 and 1 <= day <= 31:
                return f"{year:04d}-{month:02d}-{day:02d}"
    return None

