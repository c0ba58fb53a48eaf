"""Every layout of the same article comes out as exactly its title and body paragraphs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.charset import decode_html
from pipeline.extract.body import model_version
from pipeline.extract.process import process_page, process_raw
from tests.extract.conftest import PAGES, SHARED, FixturePage

LAYOUTS = [
    "semantic.html",
    "wordpress.html",
    "plain_paragraphs.html",
    "legacy_table.html",
    "seed_structure.html",
]


def test_every_required_layout_has_a_fixture() -> None:
    names = {path.name for path in PAGES.glob("*.html")}
    assert set(LAYOUTS) <= names


def test_page_comes_out_as_title_and_body(fixture_page: FixturePage) -> None:
    article = process_raw(fixture_page.body_bytes, fixture_page.content_type, fixture_page.url)
    assert article.title == fixture_page.title
    assert article.body == fixture_page.expected_body
    assert article.body.split("\n\n") == list(fixture_page.paragraphs)


def test_legacy_page_is_windows_1252_and_decodes_typography() -> None:
    raw = (PAGES / "legacy_table.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text, codec = decode_html(raw, "text/html")
    assert codec == "cp1252"
    article = process_raw(raw, "text/html", "http://www.ellerygazette.example.com/news/tidal.html")
    assert "Renée Marchetti" in article.body
    assert "“We have talked about the tide" in article.body
    assert "pier’s café" in article.body


@pytest.mark.parametrize(
    "boilerplate",
    [
        "No time to read",
        "Get a summary",
        "Previous Article",
        "Next Article",
        "Bridge toll",
        "Lifeboat crew",
        "Assembly debates",
        "Valley schools",
        "Share",
        "Related",
        "Advertisement",
        "newsletter",
        "cookies",
        "All rights reserved",
        "Back to top",
        "Leave a Reply",
    ],
)
def test_no_boilerplate_in_any_layout(boilerplate: str) -> None:
    from tests.extract.conftest import FIXTURE_PAGES

    for page in FIXTURE_PAGES:
        body = process_raw(page.body_bytes, page.content_type, page.url).body
        assert boilerplate.lower() not in body.lower(), page.name


def test_body_excludes_headline(fixture_page: FixturePage) -> None:
    article = process_raw(fixture_page.body_bytes, fixture_page.content_type, fixture_page.url)
    assert not article.body.startswith(fixture_page.title)


def test_method_records_the_choice(fixture_page: FixturePage) -> None:
    article = process_raw(fixture_page.body_bytes, fixture_page.content_type, fixture_page.url)
    assert article.method.startswith(f"blocks:{model_version()}(blocks=")
    assert article.extractor_version


def test_seed_article_from_shared_folder() -> None:
    """The real seed text (../shared/seed), wrapped as plain paragraphs like the seed page."""
    seed = SHARED / "seed" / "seed_article.txt"
    if not seed.is_file():
        pytest.skip("../shared/seed/seed_article.txt is not present on this machine")
    blocks = [b.strip() for b in seed.read_text("utf-8").split("\n\n") if b.strip()]
    title, rest = blocks[0], blocks[1:]
    story = [b for b in rest if len(b.split()) > 30]
    html = (
        f"<html><head><title>{title} | Seed News</title></head><body><div class='story'><h1>{title}</h1>"
        + "".join("<p>" + b.replace("\n", "</p><p>") + "</p>" for b in rest)
        + "</div></body></html>"
    )
    article = process_page(html, "https://seed.example.com/world/russia-iran")
    assert article.title == title
    assert article.body == "\n\n".join(story)


def test_same_input_same_output(fixture_page: FixturePage) -> None:
    first = process_raw(fixture_page.body_bytes, fixture_page.content_type, fixture_page.url)
    second = process_raw(fixture_page.body_bytes, fixture_page.content_type, fixture_page.url)
    assert first == second


def test_pages_directory_has_only_our_own_pages() -> None:
    """The evaluation dataset must never be copied into the repository."""
    for path in Path(PAGES).iterdir():
        assert not path.name.endswith(".html.gz")
        assert len(path.stem) != 64  # dataset pages are named by a SHA-256
