"""Typed error hierarchy: per-URL errors are recorded, systemic ones raise."""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class ConfigError(PipelineError):
    """Invalid settings, sources file, CLI arguments or DAG parameters."""

    reason = "config"


class FetchError(PipelineError):
    """One URL could not be fetched (status, timeout, size cap, robots, unsafe address...)."""

    reason = "fetch"


class DiscoverError(PipelineError):
    """A feed, sitemap or robots.txt could not be read or parsed."""

    reason = "discover"


class ExtractError(PipelineError):
    """A page gave no usable article (empty, not HTML, timed out...)."""

    reason = "extract"


class StoreError(PipelineError):
    """Writing to or reading from the articles database failed."""

    reason = "store"


class DatabaseUnavailable(StoreError):
    """The articles database cannot be reached: systemic, the run must fail and retry."""

    reason = "database_unavailable"


class SystemicFailure(PipelineError):
    """Too many failures for the run to be trusted (every fetch failing, threshold passed)."""

    reason = "systemic"
