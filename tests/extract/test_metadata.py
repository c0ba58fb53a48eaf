"""Metadata: title without site suffix, date signal priority and never in the future, authors, language."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.extract.html import parse_html
from pipeline.extract.metadata import clean_authors, extract_metadata, strip_site_suffix
from pipeline.extract.process import process_page
from pipeline.models import PageHints

BODY = "".join(
    f"<p>Paragraph {i} of an invented report about the harbour, long enough to count as text for "
    f"every extractor that reads this page in the tests.</p>"
    for i in range(6)
)
FETCHED = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)


def page(head: str = "", body_top: str = "", lang: str = "en", url_title: str = "Tide Plan Approved") -> str:
    return (
        f'<html lang="{lang}"><head><title>{url_title}</title>{head}</head><body><article>{body_top}'
        f"<h1>Tide Plan Approved</h1>{BODY}</article></body></html>"
    )


def meta(html: str, url: str = "https://news.example.com/a", hints: PageHints | None = None):
    return extract_metadata(parse_html(html), url, hints or PageHints(fetched_at=FETCHED))


# --- title ---
@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        (
            "Tide Plan Approved | The Ellery Gazette",
            "The Ellery Gazette",
            "https://x.example/a",
            "Tide Plan Approved",
        ),
        (
            "Tide Plan Approved - Ellery Gazette",
            None,
            "https://www.ellerygazette.com/a",
            "Tide Plan Approved",
        ),
        ("Tide Plan Approved – ellerygazette.com", None, "https://ellerygazette.com/a", "Tide Plan Approved"),
        (
            "The Ellery Gazette | Tide Plan Approved",
            "The Ellery Gazette",
            "https://x.example/a",
            "Tide Plan Approved",
        ),
        (
            "Tide Plan Approved | Local | The Ellery Gazette",
            "The Ellery Gazette",
            "https://x.example/a",
            "Tide Plan Approved | Local",
        ),
        (
            "Brexit: What Happens Next",
            "The Ellery Gazette",
            "https://x.example/a",
            "Brexit: What Happens Next",
        ),
        ("Council - a view from the pier", None, "https://x.example/a", "Council - a view from the pier"),
    ],
)
def test_site_suffix_removed_only_with_evidence(
    title: str, site: str | None, url: str, expected: str
) -> None:
    assert strip_site_suffix(title, site, url) == expected


def test_h1_is_evidence_for_the_headline_segment() -> None:
    assert (
        strip_site_suffix(
            "Tide Plan Approved | Harbour News Network", None, "https://x.example/a", "Tide Plan Approved"
        )
        == "Tide Plan Approved"
    )


def test_title_from_page_without_og_title_loses_suffix() -> None:
    html = page(
        '<meta property="og:site_name" content="The Ellery Gazette">',
        url_title="Tide Plan Approved | The Ellery Gazette",
    )
    assert meta(html).title == "Tide Plan Approved"


# --- dates ---
JSON_LD = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "%s"}</script>'
META = '<meta property="article:published_time" content="%s">'
TIME = '<time datetime="%s">then</time>'


UTC = timezone.utc
MICRODATA = '<span itemprop="%s" content="%s"></span>'


@pytest.mark.parametrize(
    ("head", "top", "signal", "expected"),
    [
        (  # htmldate reads the JSON-LD day; the time of day comes from the JSON-LD timestamp
            JSON_LD % "2026-03-01T10:00:00+01:00",
            TIME % "2026-03-03",
            "json-ld",
            datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        ),
        (
            META % "2026-03-02T08:30:00Z",
            "",
            "meta",
            datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
        ),
        ("", TIME % "2026-03-03T07:00:00-05:00", "time", datetime(2026, 3, 3, 12, 0, tzinfo=UTC)),
        (  # itemprop holds a list of properties: "datePublished dateCreated" names datePublished too
            META % "2026-03-02T08:30:00Z",
            MICRODATA % ("datePublished dateCreated", "2026-02-27T22:15:00-05:00"),
            "microdata",
            datetime(2026, 2, 28, 3, 15, tzinfo=UTC),
        ),
        ("", "<p>Published on 1 March 2026 by the desk.</p>", "htmldate", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_date_signals(head: str, top: str, signal: str, expected: datetime) -> None:
    found = meta(page(head, top), "https://news.example.com/tide")
    assert (found.published_at, found.date_signal) == (expected, signal)


def test_published_at_keeps_the_pages_offset_so_its_day_is_the_pages_day() -> None:
    found = meta(page(JSON_LD % "2026-03-01T23:30:00-05:00"), "https://news.example.com/tide")
    assert found.published_at == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
    assert found.published_at.isoformat() == "2026-03-01T23:30:00-05:00"


def test_url_date_comes_first_and_takes_the_time_of_a_timestamp_on_that_day() -> None:
    """A date in the URL path is the most precise signal on dev pages (see README, Publication dates)."""
    url = "https://news.example.com/2026/02/28/tide"
    found = meta(page(JSON_LD % "2026-03-01T10:00:00Z"), url)
    assert (found.published_at, found.date_signal) == (datetime(2026, 2, 28, tzinfo=UTC), "url")
    found = meta(page(JSON_LD % "2026-03-01T10:00:00Z" + META % "2026-02-28T17:05:00+01:00"), url)
    assert (found.published_at, found.date_signal) == (datetime(2026, 2, 28, 16, 5, tzinfo=UTC), "meta")


def test_feed_hint_after_page_markup_before_htmldates_text_search() -> None:
    hint = PageHints(published_at=datetime(2026, 3, 2, 6, 0, tzinfo=UTC), date_signal="feed", fetched_at=FETCHED)
    found = meta(page(), "https://news.example.com/tide", hint)
    assert (found.published_at, found.date_signal) == (hint.published_at, "feed")
    found = meta(page(META % "2026-03-01T08:00:00Z"), "https://news.example.com/tide", hint)
    assert found.date_signal == "meta"
    found = meta(page(), "https://news.example.com/2026/02/28/tide", hint)
    assert found.date_signal == "url"


def test_a_warc_capture_time_comes_after_the_url_date_and_is_used_last() -> None:
    """A WARC record's date is when a crawler captured the page, maybe days after it was published."""
    captured = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    hint = PageHints(published_at=captured, date_signal="warc_date", fetched_at=captured)
    found = meta(page(), "https://news.example.com/2026/02/28/tide", hint)
    assert (found.published_at, found.date_signal) == (datetime(2026, 2, 28, tzinfo=UTC), "url")
    found = meta(page(), "https://news.example.com/tide", hint)
    assert (found.published_at, found.date_signal) == (captured, "warc_date")


def test_url_date_when_nothing_else() -> None:
    found = meta(page(), "https://news.example.com/2026/02/28/tide")
    assert (found.published_at, found.date_signal) == (datetime(2026, 2, 28, tzinfo=UTC), "url")
    found = meta(page(), "https://news.example.com/news/20260227-tide.html")
    assert (found.published_at, found.date_signal) == (datetime(2026, 2, 27, tzinfo=UTC), "url")
    found = meta(page(), "https://news.example.com/2026/13/45/tide")
    assert found.date_signal != "url"


def test_date_after_fetch_time_is_refused_and_next_signal_used() -> None:
    future = (FETCHED + timedelta(days=30)).isoformat()
    found = meta(page(JSON_LD % future + META % "2026-03-02T08:30:00Z"), "https://news.example.com/a")
    assert found.date_signal == "meta"
    assert found.published_at is not None and found.published_at <= FETCHED
    found = meta(page(MICRODATA % ("datePublished", future)), "https://news.example.com/2027/01/02/a")
    assert found.date_signal not in ("microdata", "url")
    assert found.published_at is None or found.published_at <= FETCHED


def test_date_is_independent_of_the_clock() -> None:
    """Without a fetch time, a date years ahead of today is kept: htmldate's "now" bound is not used."""
    found = extract_metadata(parse_html(page(JSON_LD % "2029-05-01T10:00:00Z")), "https://news.example.com/a")
    assert found.published_at == datetime(2029, 5, 1, 10, 0, tzinfo=UTC)


def test_no_date_at_all_is_none() -> None:
    found = meta(page(JSON_LD % "not a date"), "https://news.example.com/a")
    assert (found.published_at, found.date_signal) == (None, None)


def test_published_at_is_timezone_aware_for_naive_values() -> None:
    found = meta(page(META % "2026-03-02 08:30:00"))
    assert found.published_at is not None and found.published_at.tzinfo is not None


def test_article_never_dated_after_fetch() -> None:
    html = page(JSON_LD % "2099-01-01T00:00:00Z")
    article = process_page(
        html, "https://news.example.com/2026/03/01/tide", hints=PageHints(fetched_at=FETCHED)
    )
    assert article.published_at == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert article.date_signal == "url"


# --- authors ---
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Doe"], ("Jane Doe",)),
        (["BY JANE DOE"], ("JANE DOE",)),
        (["By Jane Doe, Senior Reporter"], ("Jane Doe",)),
        (["Jane Doe | Staff Writer"], ("Jane Doe",)),
        (["By Jane Doe and John Smith"], ("Jane Doe", "John Smith")),
        (["By Jane Doe, John Smith & Ana de la Cruz"], ("Jane Doe", "John Smith", "Ana de la Cruz")),
        (["By Jane Doe Updated 3 March 2026 10:45"], ("Jane Doe",)),
        (["Jane Doe (Reuters)"], ("Jane Doe",)),
        (["By Jane Doe for The Ellery Gazette"], ("Jane Doe",)),
        (["Jane Doe", "jane doe"], ("Jane Doe",)),
        (["Associated Press"], ()),
        (["https://example.com/staff/jane"], ()),
        (["@janedoe"], ()),
        (["March 3, 2026"], ()),
    ],
)
def test_author_cleaning(raw: list[str], expected: tuple[str, ...]) -> None:
    assert clean_authors(raw) == expected


@pytest.mark.parametrize(
    ("raw", "site", "expected"),
    [
        (["Jane Doe, Ellery Gazette"], "Ellery Gazette", ("Jane Doe",)),
        (["Jane Doe Ellery Gazette"], "Ellery Gazette", ("Jane Doe",)),
        (["Jane Doe. Ellery Gazette"], "Ellery Gazette", ("Jane Doe",)),
        (["Ellery Gazette"], "Ellery Gazette", ()),
        (["Jane Doe, MS, RD"], None, ("Jane Doe",)),
        (["John F. Kennedy"], None, ("John F. Kennedy",)),
        (["Jane Doe Monday, Jane Doe"], None, ("Jane Doe",)),
        (["Local, Harbour, Ferries, Weather"], None, ()),
    ],
)
def test_author_cleaning_with_site_name(raw: list[str], site: str | None, expected: tuple[str, ...]) -> None:
    assert clean_authors(raw, site, "https://ellerygazette.example.com/a") == expected


def test_authors_from_json_ld_meta_and_byline() -> None:
    ld = (
        '<script type="application/ld+json">'
        '{"@type":"NewsArticle","author":[{"name":"Ana Ruiz"},{"name":"Li Wei"}]}'
    )
    assert meta(page(ld + "</script>")).authors == ("Ana Ruiz", "Li Wei")
    assert meta(page('<meta name="author" content="By Tom Okafor, Political Editor">')).authors == (
        "Tom Okafor",
    )
    byline = '<p class="byline">By <a rel="author">Priya Raman</a> | 3 March 2026</p>'
    assert meta(page(body_top=byline)).authors == ("Priya Raman",)


# --- language and canonical URL ---
@pytest.mark.parametrize(
    ("lang", "head", "expected"),
    [
        ("en-GB", "", "en"),
        ("", '<meta http-equiv="content-language" content="de-DE">', "de"),
        ("", '<meta property="og:locale" content="fr_FR">', "fr"),
        ("pt_BR", "", "pt"),
    ],
)
def test_declared_language(lang: str, head: str, expected: str) -> None:
    assert meta(page(head, lang=lang)).language == expected


def test_language_guessed_from_body_when_undeclared() -> None:
    html = page(lang="")
    assert process_page(html, "https://news.example.com/a").language == "en"


SWEDISH = (
    "Kommunfullmäktige godkände på tisdagskvällen planen att bygga tre tidvattenturbiner under den gamla "
    "färjepiren. Arbetet ska börja i mars om vädret tillåter, och kostnaden delas mellan kommunen och "
    "ett lokalt energibolag. Kritiker menar att kostnaderna har underskattats."
)


@pytest.mark.parametrize(("lang", "expected"), [("", "sv"), ("fi", "fi")])
def test_undeclared_language_is_guessed_by_py3langid_and_a_declared_one_wins(lang: str, expected: str) -> None:
    """py3langid tells apart ~100 languages (Swedish included); the page's own declaration always wins."""
    html = (f"<html lang='{lang}'><head><title>Tidvattenkraft</title></head><body><article>"
            f"<h1>Tidvattenkraft vid färjepiren</h1><p>{SWEDISH}</p><p>{SWEDISH}</p></article></body></html>")
    assert process_page(html, "https://nyheter.example.se/a").language == expected


def test_too_little_text_gets_no_guessed_language() -> None:
    from pipeline.extract.metadata import guess_language

    assert guess_language("Ferry returns to the island") is None
    assert guess_language(" ".join(["1234"] * 40)) is None  # digits are no language


def test_canonical_url_is_absolute() -> None:
    html = page('<link rel="canonical" href="/news/tide-plan">')
    assert (
        meta(html, "https://news.example.com/a?utm=x").canonical_url
        == "https://news.example.com/news/tide-plan"
    )
    html = page('<meta property="og:url" content="https://news.example.com/og">')
    assert meta(html).canonical_url == "https://news.example.com/og"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-03T19:45:00Z", datetime(2026, 3, 3, 19, 45, tzinfo=timezone.utc)),
        ("Nov. 19, 2019 8:21 am ET", datetime(2019, 11, 19, 13, 21, tzinfo=timezone.utc)),
        ("3 March 2026", datetime(2026, 3, 3, tzinfo=timezone.utc)),
        ("Tuesday", None),  # would be filled in from today's date: extraction must not depend on the clock
        ("10:45", None),
        ("1850-01-01", None),
        ("", None),
    ],
)
def test_parse_date(value: str, expected: datetime | None) -> None:
    from pipeline.dates import parse_date

    assert parse_date(value) == expected


def test_logo_h1_is_not_the_headline() -> None:
    html = (
        "<html><head><title>Tide Plan Approved - Ellery Gazette</title></head><body>"
        '<div id="header"><a href="/"><h1>Ellery Gazette Online</h1></a></div>'
        f"<article>{BODY}</article></body></html>"
    )
    assert meta(html, "https://ellerygazette.example.com/a").title == "Tide Plan Approved"


def test_article_header_h1_is_the_headline() -> None:
    html = (
        "<html><head><title>Home | Ellery Gazette</title></head><body><article>"
        f'<header class="entry-header"><h1 class="entry-title">Tide Plan Approved</h1></header>{BODY}'
        "</article></body></html>"
    )
    assert meta(html, "https://ellerygazette.example.com/a").title == "Tide Plan Approved"


def test_og_title_that_is_only_the_site_name_is_skipped() -> None:
    html = page(
        '<meta property="og:title" content="The Ellery Gazette">'
        '<meta property="og:site_name" content="The Ellery Gazette">'
    )
    assert meta(html).title == "Tide Plan Approved"
