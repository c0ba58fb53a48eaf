"""Runs: one assembly for the CLI and the DAGs, ingest and reprocess as lists of stages, the extraction pool."""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: the extraction workers import pipeline.run.workers, and must not pay for
# the store, the fetcher and discovery that the rest of the package needs.
_EXPORTS = {
    "check": "pipeline.run.assembly",
    "ingest": "pipeline.run.assembly",
    "reprocess": "pipeline.run.assembly",
    "run_ingest": "pipeline.run.ingest",
    "run_reprocess": "pipeline.run.reprocess",
    "RunSummary": "pipeline.run.summary",
    "ExtractorPool": "pipeline.run.workers",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
