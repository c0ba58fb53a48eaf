"""One table row per (set, system): the set's metric over the systems' outputs, empties and CPU per page."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.evaluate import metrics
from pipeline.evaluate.datasets import DevSet, Kind
from pipeline.evaluate.systems import Output

METRIC_LABELS = {"aeb": "aeb F1", "wceb": "wceb F1", "snippets": "snippet F1", "date": "date accuracy"}


@dataclass(frozen=True)
class Row:
    """A system's figures on a set; `with_title` is the title + body F1 where the truth has the headline."""

    set_name: str
    system: str
    metric: str
    figures: metrics.Figures
    with_title: float | None
    ms_per_page: float
    errors: int


def with_title(output: Output) -> str:
    """Title + body as score_sets.py --title joins them."""
    return f"{output.title}\n\n{output.body}" if output.title else output.body


def score(dev_set: DevSet, system: str, outputs: dict[str, Output]) -> Row:
    """Score a system's outputs on a set (a page without output counts as empty)."""
    empty = Output()
    got = {page_id: outputs.get(page_id, empty) for page_id in dev_set.truth}
    metric, title_f1 = dev_set.spec.metric, None
    if dev_set.kind is Kind.DATES:
        figures = metrics.date_accuracy([(str(item["date"]), got[pid].day) for pid, item in dev_set.truth.items()])
    elif dev_set.kind is Kind.SNIPPETS:
        figures = metrics.snippets(
            [(item["with"], item["without"], got[pid].body) for pid, item in dev_set.truth.items()]
        )
    else:
        pairs = [(str(item.get("articleBody") or ""), got[pid].body) for pid, item in dev_set.truth.items()]
        figures = metrics.aeb(pairs) if metric == "aeb" else metrics.wceb(pairs)
        if dev_set.spec.title_in_truth:
            titled = [(str(item.get("articleBody") or ""), with_title(got[pid])) for pid, item in dev_set.truth.items()]
            title_f1 = metrics.wceb(titled).f1
    timed = [o.cpu for o in got.values() if not o.error.startswith(("timeout", "worker died", "missing"))]
    errors = sum(1 for o in got.values() if o.error)
    return Row(dev_set.name, system, METRIC_LABELS.get(metric, metric), figures, title_f1,
               1000 * sum(timed) / max(1, len(timed)), errors)
