"""The one date parser: ISO 8601 / W3C, RFC 822 and free-form dates to aware UTC, clock-independent."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

EARLIEST_YEAR, LATEST_YEAR = 1990, 2100  # outside this, a "date" on a news page is noise
_FULL_YEAR = re.compile(r"(?<!\d)(?:19|20|21)\d{2}")
_HOUR = 3600
_TZ_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "BST": _HOUR,
    "CET": _HOUR,
    "CEST": 2 * _HOUR,
    "EET": 2 * _HOUR,
    "EEST": 3 * _HOUR,
    "ET": -5 * _HOUR,
    "EST": -5 * _HOUR,
    "EDT": -4 * _HOUR,
    "CT": -6 * _HOUR,
    "CST": -6 * _HOUR,
    "CDT": -5 * _HOUR,
    "MT": -7 * _HOUR,
    "MST": -7 * _HOUR,
    "MDT": -6 * _HOUR,
    "PT": -8 * _HOUR,
    "PST": -8 * _HOUR,
    "PDT": -7 * _HOUR,
    "JST": 9 * _HOUR,
    "AEST": 10 * _HOUR,
}
_NO_DEFAULT = datetime(2000, 1, 1)  # fills a missing day/month deterministically, never "today"


def parse_date(value: str | None, keep_offset: bool = False) -> datetime | None:
    """An aware UTC datetime from a sitemap, feed or page date string (naive taken as UTC), else None.

    With `keep_offset`, a value that gives its UTC offset keeps it (the same instant, in the page's own
    zone), so that its calendar day is the one the page shows.

    A value without a four-digit year ("Tuesday", "10:45") is refused: a parser would fill the
    missing parts from today's date, which would make the result depend on the clock. Years outside
    1990-2100 are refused too.
    """
    if not value:
        return None
    value = value.strip()[:64]
    if not _FULL_YEAR.search(value):
        return None
    moment = _iso(value) or _rfc822(value) or _free_form(value)
    if moment is None or not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if keep_offset else moment.astimezone(UTC)


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def _rfc822(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _free_form(value: str) -> datetime | None:
    try:
        with warnings.catch_warnings():  # an unknown zone name is taken as UTC, quietly
            warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
            return dateutil_parser.parse(value, fuzzy=False, default=_NO_DEFAULT, tzinfos=_TZ_ABBREVIATIONS)
    except (ValueError, OverflowError, TypeError, dateutil_parser.ParserError):
        return None
