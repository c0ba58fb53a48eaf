"""The evaluation table (Markdown, so it pastes into the README) and predictions files for score_sets.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pipeline.evaluate.datasets import DevSet
from pipeline.evaluate.scoring import Row
from pipeline.evaluate.systems import Output

HEADER = ("set", "pages", "metric", "system", "F1 / acc.", "P", "R", "+title F1", "empty", "errors", "cpu ms/page")


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, one row per (set, system); the best score of each set is marked with `*`."""
    best = {}
    for row in rows:
        best[row.set_name] = max(best.get(row.set_name, 0.0), row.figures.f1)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    for row in rows:
        f = row.figures
        mark = "*" if f.f1 == best[row.set_name] else ""
        cells = (row.set_name, str(f.pages), row.metric, row.system, f"{f.f1:.3f}{mark}", _fmt(f.precision),
                 _fmt(f.recall), _fmt(row.with_title), str(f.empty), str(row.errors), f"{row.ms_per_page:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def versions() -> str:
    """The versions measured, for the line under the table."""
    from importlib.metadata import version

    from pipeline.extract.process import EXTRACTOR_VERSION

    names = ("trafilatura", "readability-lxml", "html-text", "htmldate")
    peers = ", ".join(f"{name} {version(name)}" for name in names)
    return f"news-pipeline extractor {EXTRACTOR_VERSION}; {peers}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def write_predictions(directory: Path, dev_set: DevSet, system: str, outputs: dict[str, Output]) -> Path:
    """`DIR/<set>/<system>.jsonl` in `news-pipeline extract`'s shape, and the scored truth beside it.

    `score_sets.py DIR/<set> DIR/<set>/<system>.jsonl [--title]` then scores exactly what the table shows
    (with --limit, the truth written there holds only the pages scored).
    """
    folder = directory / dev_set.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ground-truth.json").write_text(json.dumps(dev_set.truth, ensure_ascii=False), "utf-8")
    path = folder / f"{system}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for page_id in dev_set.truth:
            output = outputs.get(page_id, Output(error="no output"))
            line = {"input": str(dev_set.path / "html" / f"{page_id}.html.gz"), "title": output.title,
                    "body": output.body, "published_day": output.day, "error": output.error or None}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path
