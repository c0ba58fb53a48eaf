"""Run statistics: what a run discovered, fetched, stored and why anything failed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.models import Window

_COUNTERS = ("discovered", "skipped_known", "fetched", "not_modified", "inserted", "updated", "unchanged",
             "duplicates", "failed")


@dataclass
class SourceStats:
    """Counters of one source in one run."""

    discovered: int = 0
    skipped_known: int = 0
    fetched: int = 0
    not_modified: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    backed_off: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def stored(self) -> int:
        return self.inserted + self.updated

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _COUNTERS}
        data["stored"] = self.stored
        data["failures"] = dict(sorted(self.failures.items()))
        data["backed_off"] = list(self.backed_off)
        return data


@dataclass
class RunSummary:
    """The outcome of one ingest or reprocess run, per source and in total."""

    kind: str
    window: Window | None
    run_id: int | None = None
    status: str = "running"
    sources: dict[str, SourceStats] = field(default_factory=dict)
    fetcher_stats: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def source(self, name: str) -> SourceStats:
        return self.sources.setdefault(name, SourceStats())

    def total(self, counter: str) -> int:
        return sum(getattr(stats, counter) for stats in self.sources.values())

    def failures_by_reason(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for stats in self.sources.values():
            total.update(stats.failures)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "run_id": self.run_id,
            "status": self.status,
            "window": None if self.window is None else [self.window.start.isoformat(), self.window.end.isoformat()],
            "seconds": round(self.seconds, 3),
            "totals": {name: self.total(name) for name in (*_COUNTERS, "stored")},
            "failures": dict(sorted(self.failures_by_reason().items())),
            "sources": {name: stats.to_dict() for name, stats in sorted(self.sources.items())},
            "fetcher": self.fetcher_stats,
        }

    def format_text(self) -> str:
        """A short human summary for the terminal and task logs."""
        lines = [f"{self.kind} run {self.run_id} {self.status} in {self.seconds:.1f}s"
                 + (f" for [{self.window.start:%Y-%m-%d %H:%M}, {self.window.end:%Y-%m-%d %H:%M}) UTC"
                    if self.window else "")]
        header = (f"{'source':<24}{'discovered':>11}{'fetched':>9}{'stored':>8}{'duplicate':>10}{'unchanged':>10}"
                  f"{'failed':>8}")
        lines.append(header)
        for name, s in sorted(self.sources.items()):
            backed = f"  backed off: {len(s.backed_off)}" if s.backed_off else ""
            lines.append(f"{name:<24}{s.discovered:>11}{s.fetched:>9}{s.stored:>8}{s.duplicates:>10}{s.unchanged:>10}"
                         f"{s.failed:>8}{backed}")
        lines.append(f"{'TOTAL':<24}{self.total('discovered'):>11}{self.total('fetched'):>9}"
                     f"{self.total('stored'):>8}{self.total('duplicates'):>10}{self.total('unchanged'):>10}"
                     f"{self.total('failed'):>8}")
        reasons = self.failures_by_reason()
        if reasons:
            lines.append("failed by reason: " + ", ".join(f"{r}={n}" for r, n in reasons.most_common()))
        return "\n".join(lines)
