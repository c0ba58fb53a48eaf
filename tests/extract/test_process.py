"""process_raw / process_page: the error contract and use from a process pool.

The per-page time limit belongs to the extraction pool: tests/unit/test_workers.py.
"""

from __future__ import annotations

import pickle
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from pipeline.errors import ExtractError, StoreError
from pipeline.extract import process as process_module
from pipeline.extract.process import EXTRACTOR_VERSION, process_page, process_raw
from pipeline.models import ExtractedArticle
from tests.extract.conftest import FIXTURE_PAGES

URL = "https://news.example.com/a"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", "text/html", "empty_body"),
        (b"   \n ", "text/html", "empty_body"),
        (b"%PDF-1.7 binary", "application/pdf", "not_html"),
        (b"\x89PNG\r\n\x1a\n....", None, "not_html"),
        (b"\x1f\x8b\x08\x00gzip", "text/html", "not_html"),
        (b"<html><body><p>x</p></body></html>", "image/jpeg", "not_html"),
        (b"abc\x00\x00\x00def<html>", None, "not_html"),
        (b"just some words without any markup at all", "text/plain", "not_html"),
        (b"<html><head><title>Empty</title></head><body></body></html>", "text/html", "empty_body"),
        (b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "text/html", "empty_body"),
    ],
)
def test_rejected_inputs_raise_extract_error_with_reason(
    body: bytes, content_type: str | None, reason: str
) -> None:
    with pytest.raises(ExtractError) as caught:
        process_raw(body, content_type, URL)
    assert caught.value.reason == reason


def test_article_fields() -> None:
    page = FIXTURE_PAGES[0]
    article = process_raw(page.body_bytes, page.content_type, page.url)
    assert isinstance(article, ExtractedArticle)
    assert article.url == page.url
    assert article.extractor_version == EXTRACTOR_VERSION
    assert article.word_count > 50
    assert "\n\n\n" not in article.body


def test_unexpected_library_errors_are_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(process_module, "extract_body", broken)
    with pytest.raises(ExtractError) as caught:
        process_page("<html><body><p>text</p></body></html>", URL)
    assert caught.value.reason == "extractor_error"


def test_other_pipeline_errors_become_extract_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise StoreError("nope", reason="weird")

    monkeypatch.setattr(process_module, "extract_body", broken)
    with pytest.raises(ExtractError) as caught:
        process_page("<html><body><p>text</p></body></html>", URL)
    assert caught.value.reason == "weird"


def test_deeply_nested_page_is_bounded() -> None:
    html = "<html><body>" + "<div>" * 5000 + "<p>deep text</p>" + "</div>" * 5000 + "</body></html>"
    start = time.monotonic()
    try:
        process_page(html, URL)
    except ExtractError as exc:
        assert exc.reason in {"empty_body", "parse_error", "extractor_error", "timeout"}
    assert time.monotonic() - start < 12


@pytest.mark.slow
def test_runs_in_a_process_pool() -> None:
    pickle.dumps(process_raw)
    page = FIXTURE_PAGES[0]
    with ProcessPoolExecutor(max_workers=1) as pool:
        article = pool.submit(
            process_raw, page.body_bytes, page.content_type, page.url
        ).result(60)
    assert article.body == page.expected_body


def test_classifier_keeping_nothing_falls_back_to_trafilatura(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.extract import body as extract

    monkeypatch.setattr(extract, "block_probabilities", lambda blocks: np.zeros(len(blocks)))
    page = next(page for page in FIXTURE_PAGES if page.name == "semantic.html")
    article = process_raw(page.body_bytes, page.content_type, page.url)
    assert article.method.startswith("trafilatura:classifier-kept-little(blocks=0/")
    assert article.word_count > 50

    def broken(*args: object, **kwargs: object) -> list[str]:
        raise ValueError("trafilatura cannot cope")

    monkeypatch.setattr(extract, "trafilatura_paragraphs", broken)
    with pytest.raises(ExtractError) as caught:
        process_raw(page.body_bytes, page.content_type, page.url)
    assert caught.value.reason == "extractor_error"
    assert "trafilatura failed: ValueError" in str(caught.value)


def test_short_cjk_article_is_not_rejected_as_empty() -> None:
    html = (
        "<html lang='ja'><head><title>港の潮力発電</title></head><body><article><h1>港の潮力発電</h1>"
        "<p>港町の議会は火曜日の夜、古いフェリー桟橋の下に三基の潮力タービンを設置する試験計画を承認した。</p>"
        "<p>工事は天候が許せば三月に始まる予定だ。</p></article></body></html>"
    )
    article = process_page(html, URL)
    assert article.body.startswith("港町の議会は")
    assert article.language == "ja"
