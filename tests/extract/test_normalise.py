"""normalise_text: NFC, mojibake, entities, whitespace, invisible characters, paragraphs."""

from __future__ import annotations

import unicodedata

import pytest

from pipeline.extract.normalise import normalise_line, normalise_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Cafe\u0301 au lait", "Café au lait"),  # NFC
        (
            "The caf\u00c3\u00a9 doesn\u00e2\u20ac\u2122t open",
            "The café doesn’t open",
        ),  # mojibake (UTF-8 read as cp1252)
        ("Fish &amp; chips &eacute;t&eacute; &#8220;hot&#8221;", "Fish & chips été “hot”"),
        ("Double &amp;amp; escaped", "Double & escaped"),
        ("two   spaces\tand\u00a0nbsp", "two spaces and nbsp"),
        (
            "zero\u200bwidth\u200d joiner\ufeff soft\u00adhyphen \u2060word",
            "zerowidth joiner softhyphen word",
        ),
        ("one\n\n\n\ntwo\r\nthree\n \n", "one\n\ntwo\n\nthree"),
        ("  leading and trailing  ", "leading and trailing"),
        ("ctrl\x00char\x07s", "ctrlchars"),
        ("line\u2028sep\u2029para", "line\n\nsep\n\npara"),
        ("", ""),
        ("\n \n\t", ""),
    ],
)
def test_normalise_examples(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


@pytest.mark.parametrize(
    "raw", ["He said “hi” — she said ‘bye’", "東京の天気は晴れ。", "naïve façade", "ＡＢＣ"]
)
def test_typography_and_scripts_kept(raw: str) -> None:
    assert normalise_text(raw) == unicodedata.normalize("NFC", raw)


def test_paragraphs_separated_by_exactly_one_blank_line() -> None:
    text = normalise_text("a\nb\n\n\nc")
    assert text == "a\n\nb\n\nc"
    assert "\n\n\n" not in text


@pytest.mark.parametrize("raw", ["&amp;lt;p&amp;gt;", "Ã©Ã©", "a\u0301\u200b\u0301", "x &amp;#8203; y"])
def test_idempotent_on_tricky_inputs(raw: str) -> None:
    once = normalise_text(raw)
    assert normalise_text(once) == once


def test_normalise_line_is_one_line() -> None:
    assert normalise_line("Tide\nPlan  &amp; Pier") == "Tide Plan & Pier"
