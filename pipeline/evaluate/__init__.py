"""`news-pipeline eval`: score news-pipeline and its peers on every dev set, in one run, in one table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.evaluate.datasets import DevSet, default_datasets_dir, find_sets
from pipeline.evaluate.metrics import Figures, PageScore, aggregate, score_page
from pipeline.evaluate.report import table, write_predictions
from pipeline.evaluate.runner import run_tasks, tasks_for
from pipeline.evaluate.scoring import Row, score
from pipeline.evaluate.systems import OURS, SYSTEMS

__all__ = ["OURS", "SYSTEMS", "Figures", "PageScore", "Row", "aggregate", "default_datasets_dir",
           "evaluate", "score_page", "table"]


@dataclass(frozen=True)
class Request:
    """What to evaluate: which sets (None: all found), systems (None: all), how many pages, processes."""

    datasets: Path
    sets: Sequence[str] | None = None
    systems: Sequence[str] | None = None
    limit: int | None = None
    jobs: int = 2
    time_limit: float = 20.0
    predictions_dir: Path | None = None


def evaluate(request: Request, progress: Callable[[int, int], None] | None = None) -> list[Row]:
    """Run every requested system on every page of every set and score it; rows in set, then system order."""
    unknown = [s for s in request.systems or () if s not in SYSTEMS]
    if unknown:
        raise ConfigError(f"unknown system {', '.join(unknown)} (known: {', '.join(SYSTEMS)})")
    sets = [s.limited(request.limit) for s in find_sets(request.datasets, list(request.sets or []) or None)]
    plan = [(dev_set, _systems_for(dev_set, request.systems)) for dev_set in sets]
    tasks = [task for dev_set, systems in plan for task in tasks_for(dev_set, systems)]
    results = run_tasks(tasks, request.jobs, request.time_limit, progress)
    rows = []
    for dev_set, systems in plan:
        for system in systems:
            outputs = results.get((dev_set.name, system), {})
            if request.predictions_dir is not None:
                write_predictions(request.predictions_dir, dev_set, system, outputs)
            rows.append(score(dev_set, system, outputs))
    return rows


def _systems_for(dev_set: DevSet, names: Sequence[str] | None) -> list[str]:
    return [name for name, system in SYSTEMS.items()
            if dev_set.kind in system.kinds and (not names or name in names)]
