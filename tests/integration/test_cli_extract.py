"""`news-pipeline extract`: JSON Lines in input order, every article field (description included), errors inline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main

pytestmark = pytest.mark.slow  # the extraction pool: worker processes

PARAGRAPH = ("The council approved the plan to plant ten thousand street trees on Tuesday night, after a long "
             "debate about the cost of watering them through the summer.")
PAGE = ("<html lang='en'><head><title>Trees approved | Gazette</title>"
        '<meta name="description" content="Ten thousand trees, and a plan to water them."></head>'
        f"<body><article><h1>Trees approved</h1><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></article></body></html>")


def test_extract_prints_one_json_line_per_input_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "trees.html"
    good.write_text(PAGE, encoding="utf-8")
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body></body></html>", encoding="utf-8")
    status = main(["extract", str(good), str(tmp_path / "missing.html"), str(empty),
                   "--url", "https://gazette.example/trees"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 1
    assert [line["input"] for line in lines] == [str(good), str(tmp_path / "missing.html"), str(empty)]
    article = lines[0]
    assert article["url"] == "https://gazette.example/trees" and article["title"] == "Trees approved"
    assert article["description"] == "Ten thousand trees, and a plan to water them."
    assert article["language"] == "en" and article["word_count"] == len(article["body"].split()) > 20
    assert {"body", "published_at", "date_signal", "authors", "extractor_version", "method"} <= set(article)
    assert lines[1]["error"] == "config" and lines[2]["error"] == "empty_body"


def test_extract_many_files_each_with_its_page_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--urls maps each file to its page URL in one call; files it does not list take --url."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("one.html", "two.html", "three.html"):
        (pages / name).write_text(PAGE, encoding="utf-8")
    mapping = tmp_path / "urls.txt"
    mapping.write_text("# file  page URL\n"
                       "pages/one.html https://gazette.example/2026/02/27/trees\n\n"
                       f"{pages / 'two.html'}\thttps://other.example/news/20260301-trees.html\n", encoding="utf-8")
    status = main(["extract", "--urls", str(mapping), str(pages / "two.html"), str(pages / "one.html"),
                   str(pages / "three.html"), "--url", "https://third.example/trees"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [line["url"] for line in lines] == [
        "https://other.example/news/20260301-trees.html",
        "https://gazette.example/2026/02/27/trees",
        "https://third.example/trees",
    ]
    assert [(line["published_at"], line["date_signal"]) for line in lines[:2]] == [
        ("2026-03-01T00:00:00+00:00", "url"), ("2026-02-27T00:00:00+00:00", "url")]
    assert main(["extract", "--urls", str(mapping)]) == 0  # no inputs: every file the mapping lists
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["url"] for line in listed] == [lines[1]["url"], lines[0]["url"]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pages/one.html\n", "urls.txt:1: expected 'PATH URL'"),
        ("# only a comment\n", "lists no file"),
        ("a.html https://x.example/a\na.html https://x.example/b\n", "urls.txt:2: a.html is listed twice"),
    ],
)
def test_extract_bad_url_map_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    mapping = tmp_path / "urls.txt"
    mapping.write_text(content, encoding="utf-8")
    assert main(["extract", "--urls", str(mapping)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_extract_without_inputs_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract"]) == 2
    assert "give files or URLs to extract" in capsys.readouterr().err
