"""Errors of the raw archive: per-record problems are recorded, an unreachable storage raises."""

from __future__ import annotations

from pipeline.errors import PipelineError


class ArchiveError(PipelineError):
    """One WARC file or record cannot be used (missing, truncated, wrong digest, not a response)."""

    reason = "archive"


class ArchiveUnavailable(ArchiveError):
    """The archive storage cannot be reached or refuses us: systemic, the run must fail and retry."""

    reason = "archive_unavailable"
