"""Values from the network made storable at the edge: clean text, sane dates, bounded URLs, headers and text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from pipeline.errors import Reason

# A btree index row holds at most ~2.7 kB (a third of a page): 2,048 characters keeps a URL (ASCII once
# canonical) and its neighbours in `discovered_urls_pkey` well below, and is what browsers and sitemaps
# (2,048 in the sitemaps protocol) accept anyway.
MAX_URL_CHARS = 2048
MAX_TITLE_CHARS = 1000  # real headlines are under 300; a longer "title" is a page's text, kept bounded
MAX_DESCRIPTION_CHARS = 5000
MAX_AUTHOR_CHARS = 200
MAX_LANGUAGE_CHARS = 35  # the longest well-formed BCP 47 tag in practice
MAX_HEADERS = 200
MAX_HEADER_CHARS = 8192  # per name and per value, what common servers accept
MAX_DETAIL_CHARS = 2000  # a failure's detail: enough for any message, bounded against a hostile one
# PostgreSQL refuses a tsvector over 1 MiB ("string is too long for tsvector"). What `articles.search`
# (title || body, 'simple' configuration) will hold is estimated per distinct word, with room to spare
# for the parser's extra tokens (hyphenated parts, URLs): a budget of half the limit.
TSVECTOR_BUDGET = 512 * 1024
MAX_POSITIONS = 256  # PostgreSQL keeps the first 256 positions of a lexeme
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)  # before the web's news sites: a placeholder, not a date
FUTURE_SLACK = timedelta(days=1)  # time zones and clock skew; further ahead is not a publication date

# NUL (PostgreSQL text and jsonb refuse it) and lone surrogates (not encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_WORD = re.compile(r"\w+")


class UnstorableValue(ValueError):
    """A value that cannot be stored even when cleaned (an over-long URL): its item fails with `reason`."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def text(value: str) -> str:
    """`value` without NUL characters and lone surrogates."""
    return _UNSTORABLE.sub("", value) if _UNSTORABLE.search(value) else value


def bounded(value: str | None, limit: int) -> str | None:
    """Clean text cut to `limit` characters; None for None or nothing left."""
    if value is None:
        return None
    return text(value)[:limit] or None


def url(value: str) -> str:
    """A clean URL, or `UnstorableValue` (reason `url_too_long`) past MAX_URL_CHARS."""
    cleaned = text(value)
    if len(cleaned) > MAX_URL_CHARS:
        raise UnstorableValue(f"URL of {len(cleaned)} characters (at most {MAX_URL_CHARS}): {cleaned[:100]}...",
                              Reason.URL_TOO_LONG)
    return cleaned


def date_problem(value: datetime | None, now: datetime | None = None) -> str | None:
    """Why `value` is not a plausible publication date (before 1990, after `now` + 1 day), else None."""
    if value is None:
        return None
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if moment < EARLIEST_DATE or moment > now + FUTURE_SLACK:
        return Reason.DATE_OUT_OF_RANGE
    return None


def date(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """`value` when plausible (see `date_problem`), else None."""
    return None if date_problem(value, now) else value


def headers(items: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Response headers as storable JSON: clean, bounded names and values, at most MAX_HEADERS of them."""
    pairs = items.items() if isinstance(items, Mapping) else items
    out: dict[str, str] = {}
    for name, value in pairs:
        if len(out) >= MAX_HEADERS:
            break
        out[text(str(name))[:MAX_HEADER_CHARS]] = text(str(value))[:MAX_HEADER_CHARS]
    return out


def detail(value: str) -> str:
    """A failure's detail: clean and short."""
    return text(value)[:MAX_DETAIL_CHARS]


def searchable(title: str, body: str, budget: int = TSVECTOR_BUDGET) -> tuple[str, bool]:
    """`body` cut (at a word) so that the tsvector of title and body stays within `budget`; and whether
    it was cut. A page of that many distinct words is a word list, not an article."""
    if 8 * (len(title) + len(body) + 2) <= budget:  # a word costs at most 7 bytes per character: fits
        return body, False
    positions: dict[str, int] = {}
    size = 0
    for source, is_body in ((title, False), (body, True)):
        for match in _WORD.finditer(source):
            word = match.group().lower()
            count = positions.get(word, 0)
            if count == 0:  # the lexeme, its entry (4 bytes) and its positions' count (2), aligned
                size += len(word.encode("utf-8", "replace")) + 8
            if count < MAX_POSITIONS:  # 2 bytes per position, at most 256 kept per lexeme
                size += 2
                positions[word] = count + 1
            if size > budget and is_body:
                return body[: match.start()].rstrip(), True
    return body, False
