"""The charset is chosen once per page: decoding with the fetcher's choice gives exactly the text (and the
article) that choosing again would, and does not choose again."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeline.charset as charset
from pipeline.charset import choose_charset, decode_html
from pipeline.extract import process_raw

PAGES = sorted((Path(__file__).parent / "pages").glob("*.html"))
CONTENT_TYPES = [None, "", "text/html", "text/html; charset=utf-8", "text/html; charset=iso-8859-1",
                 "text/html; charset=euc-cn", "text/html; charset=gbk", "text/html; charset=bogus",
                 "text/html; charset=utf-16"]
LEGACY = ("<html lang='{lang}'><head>{meta}<title>Caf\u00e9 \u2014 news</title></head><body><article>"
          "<p>{text}</p></article></body></html>")


def _variants() -> list[tuple[bytes, str | None]]:
    """Real test pages and legacy-encoded ones, under every content type."""
    bodies = [p.read_bytes() for p in PAGES]
    text = "Der Bürgermeister sagte, die Fähre fahre wieder; 市议会周二晚上开会。" * 20
    for codec, lang in (("cp1252", "de"), ("gb18030", "zh"), ("utf-16", "en"), ("utf-8", "de")):
        for meta in ("", f'<meta charset="{codec}">'):
            page = LEGACY.format(lang=lang, meta=meta, text=text)
            bodies.append(page.encode(codec, errors="replace"))
    bodies.append(b"\xef\xbb\xbf" + PAGES[0].read_bytes())
    return [(body, content_type) for body in bodies for content_type in CONTENT_TYPES]


@pytest.mark.parametrize(("body", "content_type"), _variants())
def test_decoding_with_the_fetchers_choice_is_the_same_text(body: bytes, content_type: str | None) -> None:
    chosen = choose_charset(body, content_type)
    assert decode_html(body, content_type, chosen) == decode_html(body, content_type)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(CONTENT_TYPES))
def test_same_text_on_arbitrary_bytes(body: bytes, content_type: str | None) -> None:
    chosen = choose_charset(body, content_type)
    assert decode_html(body, content_type, chosen) == decode_html(body, content_type)


def test_the_charset_is_not_chosen_again(monkeypatch: pytest.MonkeyPatch) -> None:
    body = PAGES[0].read_bytes()
    chosen = choose_charset(body, "text/html")

    def again(*_: object) -> str:
        raise AssertionError("choose_charset ran a second time")

    monkeypatch.setattr(charset, "choose_charset", again)
    text, codec = decode_html(body, "text/html", chosen)
    assert codec == chosen and text


def test_an_unknown_codec_name_is_chosen_again() -> None:
    body = PAGES[0].read_bytes()
    assert decode_html(body, "text/html", "no-such-codec") == decode_html(body, "text/html")


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_the_article_is_the_same(path: Path) -> None:
    body = path.read_bytes()
    url = f"https://news.example/{path.stem}"
    chosen = choose_charset(body, "text/html")
    assert process_raw(body, "text/html", url, encoding=chosen) == process_raw(body, "text/html", url)
