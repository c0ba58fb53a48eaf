"""Quality gate on our own fixture pages: a change that makes extraction worse fails here."""

from __future__ import annotations

from pipeline.evaluate import aggregate, score_page
from pipeline.extract.process import process_raw
from tests.extract.conftest import FIXTURE_PAGES

CORPUS_F1_FLOOR = 0.99
PAGE_F1_FLOOR = 0.95


def test_fixture_corpus_scores_above_floor() -> None:
    scores = {}
    for page in FIXTURE_PAGES:
        article = process_raw(page.body_bytes, page.content_type, page.url)
        scores[page.name] = score_page(page.expected_body, article.body)
    figures = aggregate(list(scores.values()))
    worst = min(scores.items(), key=lambda item: item[1].f1)
    assert figures.f1 >= CORPUS_F1_FLOOR, (
        f"fixture F1 {figures.f1:.4f}; worst page {worst[0]} {worst[1].f1:.3f}"
    )
    assert worst[1].f1 >= PAGE_F1_FLOOR, f"{worst[0]} scored {worst[1].f1:.3f}"
    assert figures.empty == 0
