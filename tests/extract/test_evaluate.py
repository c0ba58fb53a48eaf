"""The eval command: its metrics agree with the reference scorers (score_sets.py run as a subprocess)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import random
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.cli import main
from pipeline.evaluate import Request, default_datasets_dir, evaluate, table
from pipeline.evaluate.metrics import aggregate, date_accuracy, score_page, snippets, wceb
from tests.extract.conftest import FIXTURE_PAGES, SHARED

TOOLS = next((p for p in (SHARED / "tools", Path("/work/shared/tools")) if p.is_dir()), SHARED / "tools")
DATASETS = default_datasets_dir()


def _load(name: str) -> ModuleType:
    path = TOOLS / f"{name}.py"
    if not path.is_file():
        pytest.skip(f"the reference scorer {name}.py is not on this machine (looked in {TOOLS})")
    spec = importlib.util.spec_from_file_location(f"{name}_reference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def aeb_reference() -> ModuleType:
    return _load("aeb_score")


@pytest.fixture(scope="module")
def sets_reference() -> ModuleType:
    return _load("score_sets")


def _random_text(rng: random.Random, words: list[str]) -> str:
    return rng.choice([" ", "\n", "  "]).join(rng.choice(words) for _ in range(rng.randint(0, 40)))


def _pairs() -> list[tuple[str, str]]:
    rng = random.Random(7)
    words = ["tide", "pier", "council,", "vote.", "café", "été", "2026", "Tide", "a", "the", "東京", "x_y"]
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


def test_aeb_agrees_with_reference(aeb_reference: ModuleType) -> None:
    pairs = _pairs()
    for truth, pred in pairs:
        ours, theirs = score_page(truth, pred), aeb_reference.score_page(truth, pred)
        assert (ours.tp, ours.fp, ours.fn) == (theirs.tp, theirs.fp, theirs.fn)
        assert (ours.precision, ours.recall, ours.f1) == (theirs.precision, theirs.recall, theirs.f1)
    ours = aggregate([score_page(t, p) for t, p in pairs])
    theirs = aeb_reference.aggregate([aeb_reference.score_page(t, p) for t, p in pairs])
    assert (ours.precision, ours.recall, ours.f1) == (theirs["precision"], theirs["recall"], theirs["f1"])
    assert ours.empty == theirs["n_empty_pred"]


def test_wceb_agrees_with_reference(sets_reference: ModuleType) -> None:
    pairs = _pairs()
    rows = [sets_reference.wceb_page(t, p) for t, p in pairs]
    ours = wceb(pairs)
    assert ours.f1 == sum(r[2] for r in rows) / len(rows)
    assert (ours.precision, ours.recall) == (sum(r[0] for r in rows) / len(rows), sum(r[1] for r in rows) / len(rows))
    assert ours.empty == sum(1 for _, p in pairs if not p)


def test_snippets_and_dates_by_hand() -> None:
    items = [(["a  b", "c"], ["d"], "x a b d"), (["e"], [], ""), ([], ["f"], "g")]
    figures = snippets(items)  # TP 1 (a b), FN 2 (c, e), FP 1 (d)
    assert (figures.f1, figures.precision, figures.recall, figures.empty) == (2 / 5, 1 / 2, 1 / 3, 1)
    days = date_accuracy([("2020-01-02", "2020-01-02"), ("2020-01-02", None), ("2020-01-02", "2020-01-03")])
    assert (days.f1, days.precision, days.empty) == (1 / 3, 1 / 2, 1)


_PRINTED = 0.00005 + 1e-9
_LINE = re.compile(r"(wceb|aeb|snippets) F1 ([\d.]+)\s+precision ([\d.]+)\s+recall ([\d.]+)")


def _reference_figures(set_dir: Path, predictions: Path, title: bool = False) -> dict[str, tuple[float, ...]]:
    args = [sys.executable, str(TOOLS / "score_sets.py"), str(set_dir), str(predictions)]
    args += ["--title"] if title else []
    printed = subprocess.run(args, capture_output=True, text=True, check=True, timeout=300).stdout
    return {m[1]: tuple(float(x) for x in m.groups()[1:]) for m in _LINE.finditer(printed)}


@pytest.mark.slow  # worker processes over real dev pages
def test_table_agrees_with_score_sets(tmp_path: Path) -> None:
    """Every text set: our figures equal score_sets.py's on the very predictions we wrote, to 3 decimals."""
    if not (TOOLS / "score_sets.py").is_file() or not DATASETS.is_dir():
        pytest.skip(f"no dev sets ({DATASETS}) or score_sets.py ({TOOLS}) on this machine")
    sets = ["article-extraction-dev", "l3s-gn1-dev", "dragnet-dev", "traf-eval-dev"]
    rows = evaluate(Request(DATASETS, sets, ["news-pipeline", "readability+html_text"], limit=12, jobs=2,
                            predictions_dir=tmp_path))
    assert len(rows) == 8
    for row in rows:
        folder = tmp_path / row.set_name
        theirs = _reference_figures(folder, folder / f"{row.system}.jsonl")
        key = {"aeb F1": "aeb", "wceb F1": "wceb", "snippet F1": "snippets"}[row.metric]
        f1, precision, recall = theirs[key]
        ours = row.figures
        # score_sets.py prints 4 decimals: agreement within half of its last digit (better than 3 decimals)
        assert (ours.f1, ours.precision, ours.recall) == pytest.approx((f1, precision, recall), abs=_PRINTED), row
        assert ours.pages == 12
        if row.with_title is not None:
            titled = _reference_figures(folder, folder / f"{row.system}.jsonl", title=True)
            assert row.with_title == pytest.approx(titled["wceb"][0], abs=_PRINTED)
    assert "| l3s-gn1-dev | 12 | wceb F1 | news-pipeline |" in table(rows)


def _fixture_sets(root: Path) -> Path:
    """Two tiny sets of our own fixture pages: one with article bodies, one with dates."""
    bodies, dates = root / "fixture-dev", root / "fixture-dates"
    truth_bodies, truth_dates = {}, {}
    for folder in (bodies, dates):
        (folder / "html").mkdir(parents=True)
    for index, page in enumerate(FIXTURE_PAGES[:4]):
        page_id = f"page{index:02d}"
        for folder in (bodies, dates):
            (folder / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(page.body_bytes))
        truth_bodies[page_id] = {"articleBody": page.expected_body}
        truth_dates[page_id] = {"url": page.url, "date": "2026-01-01"}
    truth_bodies["gone"] = {"articleBody": "A page whose file is missing."}
    (bodies / "ground-truth.json").write_text(json.dumps(truth_bodies), "utf-8")
    (dates / "ground-truth.json").write_text(json.dumps(truth_dates), "utf-8")
    return root


@pytest.mark.slow  # worker processes
def test_eval_command_on_own_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    datasets = _fixture_sets(tmp_path / "sets")
    status = main(["eval", "--datasets", str(datasets), "--systems", "news-pipeline,htmldate-fast", "--jobs", "1",
                   "--predictions-dir", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "| fixture-dev | 5 | wceb F1 | news-pipeline |" in printed
    assert "| fixture-dates | 4 | date accuracy | htmldate-fast |" in printed
    assert "htmldate-fast" not in printed.split("fixture-dates")[0]  # a date tool is not scored on bodies
    lines = (tmp_path / "out" / "fixture-dev" / "news-pipeline.jsonl").read_text("utf-8").splitlines()
    gone = json.loads(lines[-1])
    assert gone["error"] == "missing page file" and gone["body"] == ""


def test_eval_command_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--datasets", str(tmp_path / "nowhere")]) == 2
    assert "datasets directory not found" in capsys.readouterr().err
    assert main(["eval", "--datasets", str(tmp_path)]) == 2
    assert "no dev set" in capsys.readouterr().err
    (tmp_path / "x-dev" / "html").mkdir(parents=True)
    (tmp_path / "x-dev" / "ground-truth.json").write_text("{}", "utf-8")
    assert main(["eval", "--datasets", str(tmp_path), "--sets", "y-dev"]) == 2
    assert "no set y-dev" in capsys.readouterr().err
    assert main(["eval", "--datasets", str(tmp_path)]) == 2
    assert "expected a non-empty object" in capsys.readouterr().err
    assert main(["eval", "--datasets", str(tmp_path), "--systems", "nope"]) == 2


@pytest.mark.slow  # a worker process
def test_date_order_search_reports_in_sample_and_cross_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.evaluate.date_order import main as date_order

    folder = tmp_path / "dates-dev"
    (folder / "html").mkdir(parents=True)
    truth = {}
    for index in range(6):  # the URL gives the right day on every page, the markup a wrong one
        page = (f'<html><head><meta property="article:published_time" content="2025-01-0{index + 1}T10:00:00Z">'
                f"</head><body><article><h1>Tide {index}</h1><p>Text of the story.</p></article></body></html>")
        (folder / "html" / f"p{index}.html.gz").write_bytes(gzip.compress(page.encode()))
        truth[f"p{index}"] = {"url": f"https://site{index}.example/2026/02/1{index}/tide", "date": f"2026-02-1{index}"}
    (folder / "ground-truth.json").write_text(json.dumps(truth), "utf-8")
    assert date_order([str(folder), "--folds", "3", "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "in-sample best order url: 1.0000" in printed
    assert "cross-validated (3 folds grouped by site, 6 sites): 1.0000" in printed
    assert "meta                 alone 0.000" in printed
