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
