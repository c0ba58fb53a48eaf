"""The page's description (lead, standfirst): og:description, then <meta name=description>, then JSON-LD."""

from __future__ import annotations

import json

import pytest

from pipeline.extract.process import process_page

BODY = "".join(
    f"<p>Paragraph {i}: the council approved the plan to plant ten thousand street trees on Tuesday night, "
    "after a long debate about the cost of watering them through the summer.</p>" for i in range(4))


def _page(head: str) -> str:
    return (f"<html lang='en'><head><title>Trees approved</title>{head}</head>"
            f"<body><article><h1>Trees approved</h1>{BODY}</article></body></html>")


LD = json.dumps({"@type": "NewsArticle", "headline": "Trees approved", "description": "From JSON-LD."})


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta property="og:description" content="From og.">'
         '<meta name="description" content="From meta."><script type="application/ld+json">' + LD + "</script>",
         "From og."),
        ('<meta name="description" content="From meta."><script type="application/ld+json">' + LD + "</script>",
         "From meta."),
        ('<script type="application/ld+json">' + LD + "</script>", "From JSON-LD."),
        ('<meta name="description" content="  Ten thousand   trees &amp; a\n watering plan. ">',
         "Ten thousand trees & a watering plan."),
        ('<meta name="description" content="   ">', None),
        ("", None),
    ],
)
def test_description_comes_from_the_page_declarations_in_order(head: str, expected: str | None) -> None:
    assert process_page(_page(head), "https://news.example.com/trees").description == expected
