"""The publication date and its signal: the URL, microdata, htmldate, discovery hints; never after the fetch.

Order of the signals (chosen on dates-dev, 800 pages, and cross-validated by site; README, Publication
dates): a date in the URL path; an element with itemprop="datePublished"; htmldate's markup search
(JSON-LD, <meta>, <time>...); the discovery hint (feed, sitemap); htmldate's extensive text search;
last a WARC capture time. A signal that gives only a day takes the time of day from a timestamp the
page declares for that same day (JSON-LD, <meta>, microdata, <time>), with that timestamp's signal.
Timestamps keep the page's own UTC offset, so their calendar day is the one the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipeline.dates import LATEST_YEAR, parse_date
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
# itemprop is a list of tokens: "datePublished dateCreated" names both properties
_MICRODATA = '//*[contains(concat(" ", normalize-space(@itemprop), " "), " datePublished ")]'
_NO_LATER_THAN = datetime(LATEST_YEAR, 12, 31, tzinfo=UTC)  # htmldate's own default bound is "now"

Stamp = tuple[datetime, DateSignal]


def publication_date(
    tree: HtmlElement, meta: dict[str, str], ld: dict, url: str, hints: PageHints | None
) -> tuple[datetime | None, DateSignal | None]:
    """The first date by signal order (module docstring); a date after the fetch time is refused."""
    fetched = utc(hints.fetched_at) if hints and hints.fetched_at else None
    stamps = _page_stamps(tree, meta, ld)
    for moment, signal in _candidates(tree, url, hints, stamps, fetched):
        if fetched is None or moment <= fetched:
            return moment, signal
    return None, None


def _candidates(
    tree: HtmlElement, url: str, hints: PageHints | None, stamps: list[Stamp], fetched: datetime | None
) -> Iterator[Stamp]:
    """Candidates in signal order, lazily: htmldate runs only when the cheaper signals gave nothing usable."""
    hinted = [(utc(hints.published_at), hints.date_signal or DateSignal.FEED)] \
        if hints and hints.published_at else []
    capture_only = bool(hinted) and hinted[0][1] == DateSignal.WARC_DATE  # a capture time, not a publication
    url_day = _url_date(url)
    if url_day:
        yield _on_day(url_day, DateSignal.URL, stamps)
    yield from _microdata(tree)
    for extensive in (False, True):
        if extensive and not capture_only:
            yield from hinted
        day = _htmldate(tree, url, extensive, fetched)
        if day:
            yield _on_day(day, DateSignal.HTMLDATE, stamps)
    yield from hinted if capture_only else []


def _on_day(day: date, signal: DateSignal, stamps: list[Stamp]) -> Stamp:
    """A timestamp the page declares on that day (with its signal), else the day's midnight UTC."""
    for moment, stamp_signal in stamps:
        if moment.date() == day:
            return moment, stamp_signal
    return datetime(day.year, day.month, day.day, tzinfo=UTC), signal


def _page_stamps(tree: HtmlElement, meta: dict[str, str], ld: dict) -> list[Stamp]:
    """Every publication timestamp the page declares, in its own offset: JSON-LD, <meta>, microdata, <time>."""
    values = [(text_of(ld.get("datePublished")), DateSignal.JSON_LD)]
    values += [(meta.get(key, ""), DateSignal.META) for key in _DATE_META]
    values += [(value, DateSignal.TIME) for value in _time_values(tree)]
    stamps = [(moment, signal) for value, signal in values if (moment := parse_date(value, keep_offset=True))]
    return stamps + list(_microdata(tree))


def _microdata(tree: HtmlElement) -> Iterator[Stamp]:
    for element in tree.xpath(_MICRODATA)[:3]:
        value = element.get("content") or element.get("datetime") or element.text_content()[:64]
        moment = parse_date(value, keep_offset=True)
        if moment is not None:
            yield moment, DateSignal.MICRODATA


def _htmldate(tree: HtmlElement, url: str, extensive: bool, fetched: datetime | None) -> date | None:
    """htmldate's original (publication, not modification) date of the page; it works on a copy of the tree."""
    from htmldate import find_date

    try:
        found = find_date(tree, url=url or None, original_date=True, extensive_search=extensive,
                          max_date=(fetched or _NO_LATER_THAN).replace(tzinfo=None))
        return date.fromisoformat(found) if found else None
    except Exception:  # noqa: BLE001 - a date library failing on one odd page leaves the page undated
        return None


def _time_values(tree: HtmlElement) -> list[str]:
    preferred = tree.xpath(
        '//time[@itemprop="datePublished" or @pubdate or contains(@class, "publish")]/@datetime'
    )
    return [str(v) for v in preferred[:2]] + [str(v) for v in tree.xpath("//time/@datetime")[:3]]


def _url_date(url: str) -> date | None:
    path = urlsplit(url).path
    for pattern in _URL_DATE:
        match = pattern.search(path)
        if match:
            try:
                return date(*(int(g) for g in match.groups()))
            except ValueError:
                continue
    return None
