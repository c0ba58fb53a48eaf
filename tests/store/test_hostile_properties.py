"""Property tests: generated hostile feeds, sitemaps, articles and headers go through discovery and storage
into the real PostgreSQL; nothing raises, every good item is stored, every bad one is a recorded failure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import storable
from pipeline.discover.methods.feeds import read_feed_page
from pipeline.discover.methods.sitemaps import _read_sitemap
from pipeline.discover.state import SourceRun
from pipeline.models import ExtractedArticle, FetchedPage, Source, Window
from pipeline.store import Store
from tests.fetch.helpers import fast_settings
from tests.store.helpers import item, rows, scalar

NOW = datetime.now(UTC)
WINDOW = Window(datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))  # the widest there is
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])
# Code points a hostile document spells as character references: NUL, controls, lone surrogates, past Unicode.
BAD_CODES = st.sampled_from([0, 1, 8, 11, 31, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xFFFE, 0xFFFF, 0x110000,
                             10**12])
HOSTILE_DATES = st.one_of(
    st.sampled_from(["0000-00-00T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                     "2024-02-30", "2024-02-30T10:00:00Z", "Fri, 30 Feb 2024 10:00:00 GMT", "Mon, 01 Jan 0001",
                     "Tue, 31 Dec 9999 23:59:59 +1400", "1969-12-31T23:59:59Z", "-1", "", "9" * 40,
                     "2026-11-05T09:00:00Z", "Thu, 05 Nov 2026 09:00:00 GMT"]),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda d: d.isoformat() + "Z"),
    st.text(max_size=30).map(lambda s: s.replace("<", "").replace("&", "")),
)


@st.composite
def hostile_text(draw: st.DrawFn, max_size: int = 40) -> str:
    """XML text: plain characters, character references to bad code points, raw control bytes."""
    parts = draw(st.lists(st.one_of(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<&"), max_size=20),
        BAD_CODES.map(lambda c: f"&#{c};"), BAD_CODES.map(lambda c: f"&#x{c:X};"),
        st.sampled_from(["\x00", "\x01", "\x1f"]),
    ), max_size=6))
    return "".join(parts)[: max_size * 4]


@st.composite
def hostile_link(draw: st.DrawFn, base: str) -> str:
    return draw(st.one_of(
        st.integers(0, 10**6).map(lambda i: f"{base}/news/{i}"),
        st.integers(0, 10**6).map(lambda i: f"/news/rel-{i}"),
        st.integers(2049, 4000).map(lambda n: f"{base}/" + "x" * n),
        st.sampled_from([f"{base}:99999/a", "http://[::1/a", "javascript:alert(1)", "mailto:a@b", "http:///nohost",
                         f"{base}/a&#0;b", f"{base}/a&#xD800;b", "http://exa mple.com/ a"]),
    ))


def _run(tag: str) -> SourceRun:
    return SourceRun(Source(name=tag), None, WINDOW, None, fast_settings(max_urls_per_source=10**6),  # type: ignore
                     conditional=False, keep_undated=True, defer_validators=True)


def _page(url: str, body: bytes, content_type: str) -> FetchedPage:
    return FetchedPage(url=url, final_url=url, status=200, headers={"content-type": content_type}, body=body,
                       fetched_at=NOW, encoding=None)


def _store_discovery(store: Store, run: SourceRun, tag: str) -> None:
    """What ingest does with a source's discovery: the URLs and the failures into PostgreSQL."""
    found = run.finish()
    run_id = store.begin_run("test", None, [tag], {})
    failures = store.save_discovered(run_id, [*found.urls, *found.elsewhere])
    store.record_failures(run_id, [*found.failures, *failures])
    stored = {u for (u,) in rows(store, "SELECT url FROM discovered_urls WHERE source = :s", s=tag)}
    assert stored == {u.url for u in found.urls} - {f.url for f in failures}
    for url in stored:
        assert len(url) <= storable.MAX_URL_CHARS and "\x00" not in url
    assert scalar(store, "SELECT count(*) FROM failures WHERE run_id = :r", r=run_id) == len(found.failures) + len(
        failures)


@given(entries=st.lists(st.tuples(st.data(), hostile_text(), HOSTILE_DATES), max_size=8), atom=st.booleans())
@PROPERTY
def test_hostile_feeds_are_read_and_stored_item_by_item(store: Store, entries: list, atom: bool) -> None:
    tag = f"h{uuid.uuid4().hex[:10]}"
    base = f"https://{tag}.example"
    links = [data.draw(hostile_link(base)) for data, _, _ in entries]
    if atom:
        body = "".join(f'<entry><title>{title}</title><link href="{link.replace(chr(34), "")}"/>'
                       f"<updated>{date}</updated></entry>" for link, (_, title, date) in zip(links, entries))
        doc = f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>{body}</feed>'
    else:
        body = "".join(f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate></item>"
                       for link, (_, title, date) in zip(links, entries))
        doc = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
               f"{body}</channel></rss>")
    run = _run(tag)
    read_feed_page(run, f"{base}/feed.xml", _page(f"{base}/feed.xml", doc.encode("utf-8", "surrogatepass"),
                                                   "application/rss+xml"))
    for url in run.found.values():
        assert url.published_at is None or storable.EARLIEST_DATE <= url.published_at
        assert url.title is None or not storable._UNSTORABLE.search(url.title)
    _store_discovery(store, run, tag)


@given(entries=st.lists(st.tuples(st.data(), HOSTILE_DATES, hostile_text()), max_size=8), news=st.booleans())
@PROPERTY
def test_hostile_sitemaps_are_read_and_stored_item_by_item(store: Store, entries: list, news: bool) -> None:
    tag = f"s{uuid.uuid4().hex[:10]}"
    base = f"https://{tag}.example"
    urls = []
    for data, date, title in entries:
        loc = data.draw(hostile_link(base)).replace("<", "")
        block = (f"<news:news><news:publication_date>{date}</news:publication_date><news:title>{title}"
                 "</news:title></news:news>") if news else ""
        urls.append(f"<url><loc>{loc}</loc><lastmod>{date}</lastmod>{block}</url>")
    doc = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
           ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(urls) + "</urlset>")
    run = _run(tag)
    url = f"{base}/sitemap.xml"
    run.prefetched[url] = _page(url, doc.encode("utf-8", "surrogatepass"), "application/xml")
    _read_sitemap(run, url, 0)
    _store_discovery(store, run, tag)


ANY_TEXT = st.text(st.characters(), max_size=200)  # every code point, lone surrogates and NUL included


@given(title=ANY_TEXT, body=ANY_TEXT, words=st.integers(0, 2), extra=ANY_TEXT,
       published=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
       path=st.text(st.characters(), min_size=1, max_size=3000))
@PROPERTY
def test_hostile_articles_are_stored_or_fail_alone(store: Store, title: str, body: str, words: int, extra: str,
                                                   published: datetime | None, path: str) -> None:
    tag = f"a{uuid.uuid4().hex[:10]}"
    run_id = store.begin_run("test", None, [tag], {})
    bulk = " ".join(f"{tag}{i}" for i in range(words * 60_000))  # 0-120k distinct words
    hostile = ExtractedArticle(url=f"https://{tag}.example/{path}", title=title, body=f"{body} {tag} {bulk}",
                               authors=(extra,), published_at=published, language=extra[:50],
                               canonical_url=f"https://{tag}.example/c/{extra}", description=extra)
    good = ExtractedArticle(url=f"https://{tag}.example/good", title="Good", body=f"A good story {tag}.")
    counts = store.save_articles(run_id, [item(tag, hostile), item(tag, good)])
    assert counts.inserted + len(counts.failed) == 2
    assert scalar(store, "SELECT count(*) FROM articles WHERE url = :u", u=good.url) == 1
    assert all(f.reason in ("url_too_long", "store_data") for f in counts.failed)


HEADER = st.text(st.characters(max_codepoint=0x2FF), max_size=300)


@given(headers=st.dictionaries(HEADER, HEADER, max_size=300), final=ANY_TEXT)
@PROPERTY
def test_hostile_headers_never_drop_the_raw_batch(store: Store, headers: dict[str, str], final: str) -> None:
    tag = f"r{uuid.uuid4().hex[:10]}"
    run_id = store.begin_run("test", None, [tag], {})
    pages = [(tag, FetchedPage(url=f"https://{tag}.example/{i}", final_url=f"https://{tag}.example/{i}{final}",
                               status=200, headers=headers, body=f"<p>{i}</p>".encode(), fetched_at=NOW,
                               encoding="utf-8")) for i in range(3)]
    ids = store.save_raw_pages(run_id, pages)
    assert len(set(ids)) == 3


PAGE_TEXT = st.text(st.characters(blacklist_characters="<&"), max_size=120)  # NUL and lone surrogates included
PAGE_DATES = st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-02-30",
                              "0000-00-00", "2999-01-01T00:00:00Z", "2026-11-05T09:00:00Z", "garbage"])


@given(title=PAGE_TEXT, paragraphs=st.lists(PAGE_TEXT, min_size=1, max_size=5), date=PAGE_DATES,
       refs=st.lists(BAD_CODES, max_size=4), canonical=st.text(st.characters(), max_size=3000),
       lang=st.text(st.characters(blacklist_characters="'<&"), max_size=60))
@PROPERTY
def test_hostile_pages_are_extracted_and_stored_or_fail_alone(store: Store, title: str, paragraphs: list[str],
                                                              date: str, refs: list[int], canonical: str,
                                                              lang: str) -> None:
    """Generated pages with NUL, lone surrogates (raw and as references), absurd dates, long canonicals and
    languages go through extraction into PostgreSQL: an article or an extraction failure, never a crash."""
    from pipeline.errors import ExtractError
    from pipeline.extract.process import process_raw
    from pipeline.run.stages import choose_article_url

    tag = f"p{uuid.uuid4().hex[:10]}"
    filler = ("The council met for six hours on Tuesday and agreed to publish its findings in full, a decision "
              f"members described as overdue. Reference {tag}. ")
    body = "".join(f"<p>{filler}{p}{''.join(f'&#{c};' for c in refs)}</p>" for p in paragraphs)
    html = (f"<!doctype html><html lang='{lang}'><head><title>{title}</title>"
            f"<meta property='article:published_time' content='{date}'>"
            f"<link rel='canonical' href='https://{tag}.example/{canonical.replace(chr(39), '')}'></head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")
    url = f"https://{tag}.example/page"
    try:
        extracted = process_raw(html.encode("utf-8", "surrogatepass"), "text/html; charset=utf-8", url)
    except ExtractError:
        return  # an extraction failure is that page's recorded failure
    article = choose_article_url(extracted, url)
    run_id = store.begin_run("test", None, [tag], {})
    counts = store.save_articles(run_id, [item(tag, article, fetched_at=NOW)])
    assert counts.inserted + counts.duplicates + len(counts.failed) == 1
    stored = rows(store, "SELECT title, body, published_at FROM articles WHERE source = :s", s=tag)
    for stored_title, stored_body, published in stored:
        assert not storable._UNSTORABLE.search(stored_title + stored_body)
        assert published is None or storable.EARLIEST_DATE <= published <= NOW + storable.FUTURE_SLACK
