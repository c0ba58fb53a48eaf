"""The eval command: the dataset metric agrees with the reference scorer; report and exit status."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.evaluate import aggregate, run_eval, score_page
from tests.extract.conftest import FIXTURE_PAGES, SHARED

REFERENCE = SHARED / "tools" / "aeb_score.py"
DATASET = SHARED / "datasets" / "article-extraction-dev"


@pytest.fixture(scope="module")
def reference() -> ModuleType:
    if not REFERENCE.is_file():
        pytest.skip("../shared/tools/aeb_score.py is not present on this machine")
    spec = importlib.util.spec_from_file_location("aeb_score_reference", REFERENCE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def _random_text(rng: random.Random, words: list[str]) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))


def _pairs() -> list[tuple[str, str]]:
    rng = random.Random(7)
    words = ["tide", "pier", "council", "vote", "café", "été", "2026", "Tide", "a", "the", "東京", "x_y"]
    pairs = [
        ("", ""),
        ("", "text"),
        ("text", ""),
        ("one two", "one two"),
        ("one two three", "one two"),
        ("a b c d e", "a b c d e a b c d e"),
        ("Ünïcode wörds here now", "Ünïcode wörds here now too"),
        ("punctuation, only! differs.", "punctuation only differs"),
    ]
    pairs += [(_random_text(rng, words), _random_text(rng, words)) for _ in range(300)]
    return pairs


def test_page_scores_agree_with_reference(reference: ModuleType) -> None:
    for truth, pred in _pairs():
        ours, theirs = score_page(truth, pred), reference.score_page(truth, pred)
        assert (ours.tp, ours.fp, ours.fn) == (theirs.tp, theirs.fp, theirs.fn)
        assert ours.precision == theirs.precision and ours.recall == theirs.recall
        assert ours.f1 == theirs.f1


def test_corpus_figures_agree_with_reference(reference: ModuleType) -> None:
    pairs = _pairs()
    ours = aggregate([score_page(t, p) for t, p in pairs])
    theirs = reference.aggregate([reference.score_page(t, p) for t, p in pairs])
    assert (ours.precision, ours.recall, ours.f1) == (theirs["precision"], theirs["recall"], theirs["f1"])
    assert ours.empty == theirs["n_empty_pred"]


def _page_set(tmp_path: Path) -> tuple[Path, Path]:
    pages = tmp_path / "pages"
    pages.mkdir()
    truth = {}
    for index, page in enumerate(FIXTURE_PAGES):
        page_id = f"page{index:02d}"
        if index % 2:
            (pages / f"{page_id}.html.gz").write_bytes(gzip.compress(page.body_bytes))
        else:
            (pages / f"{page_id}.html").write_bytes(page.body_bytes)
        truth[page_id] = {"url": page.url, "articleBody": page.expected_body}
    truth["missing"] = {
        "url": "https://news.example.com/gone",
        "articleBody": "A page that is not in the folder.",
    }
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(truth), "utf-8")
    return pages, truth_path


@pytest.mark.slow  # the extraction pool: worker processes
def test_run_eval_report_and_predictions(tmp_path: Path, reference: ModuleType) -> None:
    pages, truth = _page_set(tmp_path)
    out = io.StringIO()
    predictions = tmp_path / "predictions.json"
    status = run_eval(pages, truth, out, predictions_out=predictions, worst=3, workers=1)
    report = out.getvalue()
    assert status == 0
    assert report.startswith(f"pages {len(FIXTURE_PAGES) + 1}  F1 ")
    assert "worst 3 pages" in report
    assert "missing  https://news.example.com/gone  missing page file" in report
    scored = reference.score(reference.load_truth(truth), reference.load_predictions(predictions))
    figures = reference.aggregate(list(scored.values()))
    assert (
        f"F1 {figures['f1']:.4f}  precision {figures['precision']:.4f}  recall {figures['recall']:.4f}"
        in report
    )
    assert figures["n_empty_pred"] == 1


@pytest.mark.slow  # the extraction pool: worker processes
def test_run_eval_exit_status(tmp_path: Path) -> None:
    pages, truth = _page_set(tmp_path)
    assert run_eval(pages, truth, io.StringIO(), worst=0, workers=1, min_f1=0.999) == 1
    assert run_eval(pages, tmp_path / "nope.json", io.StringIO(), workers=1) == 2
    assert run_eval(tmp_path / "nowhere", truth, io.StringIO(), workers=1) == 2


@pytest.mark.slow  # the extraction pool: worker processes
def test_dataset_floor() -> None:
    """Quality gate on the shared evaluation dataset (read in place, never copied here)."""
    if not (DATASET / "ground-truth.json").is_file():
        pytest.skip("../shared/datasets/article-extraction-dev is not present on this machine")
    out = io.StringIO()
    status = run_eval(DATASET / "html", DATASET / "ground-truth.json", out, worst=5, workers=2, min_f1=0.975)
    assert status == 0, out.getvalue()
    assert " empty 0" in out.getvalue().splitlines()[0]
