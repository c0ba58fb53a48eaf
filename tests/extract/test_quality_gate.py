"""Quality gates: our fixture pages, and news-pipeline on the dev sets against the floors of quality_floors.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.evaluate import OURS, Request, aggregate, evaluate, score_page, table
from pipeline.evaluate.datasets import default_datasets_dir
from pipeline.extract.process import process_raw
from tests.extract.conftest import FIXTURE_PAGES
from tests.extract.quality_floors import FLOORS, GATE_PAGES, GATE_TIME_LIMIT

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


def _datasets() -> Path:
    """../shared/datasets beside the repository, else /work/shared/datasets; skip when neither has the sets."""
    datasets = default_datasets_dir()
    missing = [name for name in FLOORS if not (datasets / name / "ground-truth.json").is_file()]
    if missing:
        pytest.skip(f"dev sets {', '.join(missing)} not found in {datasets} (nor in /work/shared/datasets): "
                    "the dev-set quality gate needs them")
    return datasets


@pytest.mark.slow  # two worker processes over 1,616 pages: about 55 s of CPU, 30-40 s on 2 idle cores
@pytest.mark.quality
@pytest.mark.timeout(1800)  # generous: on a machine shared many times over it took 15 minutes
def test_dev_sets_score_above_floors() -> None:
    """news-pipeline alone (no peers) on the first GATE_PAGES pages of every dev set, each above its floor."""
    rows = evaluate(Request(_datasets(), list(FLOORS), [OURS], limit=GATE_PAGES, jobs=2,
                            time_limit=GATE_TIME_LIMIT))
    printed = table(rows)
    below = []
    for row in rows:
        metric, floor, max_empty = FLOORS[row.set_name]
        assert row.metric == metric, printed
        if row.figures.f1 < floor:
            below.append(f"{row.set_name}: {metric} {row.figures.f1:.4f} < floor {floor}")
        if row.figures.empty > max_empty:
            below.append(f"{row.set_name}: {row.figures.empty} empty > {max_empty}")
    assert not below, "\n".join(below) + "\n" + printed
