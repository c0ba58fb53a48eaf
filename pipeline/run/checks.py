"""Run checks: turn a silent failure (a source yielding nothing, many failures) into a loud one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.errors import SystemicFailure


def find_problems(
    summaries: Sequence[Mapping[str, Any]],
    articles_in_window: Mapping[str, int],
    failure_rate_threshold: float,
) -> list[str]:
    """Problems of a run, one line each: sources with no articles, failure rate over the threshold.

    `summaries` are `RunSummary.to_dict()` values (one per mapped task); `articles_in_window`
    counts the articles the database holds for each source in the run's window, so an
    incremental rerun that found nothing new is not a problem.
    """
    problems: list[str] = []
    for summary in summaries:
        for name, stats in summary.get("sources", {}).items():
            if articles_in_window.get(name, 0) == 0 and stats.get("stored", 0) == 0 and stats.get("unchanged", 0) == 0:
                problems.append(f"source {name!r} yielded no articles (failures: {stats.get('failures', {})})")
            tried = stats.get("fetched", 0) + stats.get("failed", 0)
            rate = stats.get("failed", 0) / tried if tried else 0.0
            if tried and rate > failure_rate_threshold:
                problems.append(f"source {name!r} failure rate {rate:.0%} > {failure_rate_threshold:.0%} "
                                f"({stats.get('failed', 0)} of {tried})")
    return problems


def raise_on_problems(problems: Sequence[str]) -> None:
    """Raise SystemicFailure listing every problem, so the run shows red."""
    if problems:
        raise SystemicFailure("run checks failed: " + "; ".join(problems))
