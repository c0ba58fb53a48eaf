"""Archive maintenance: check the WARC files against the index, move bodies still in raw_pages out to WARC."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pipeline.archive import ArchiveConfig, CheckReport, MoveOutReport, check_archive, move_out_bodies
from pipeline.errors import Interrupted
from pipeline.models import RunKind, RunStatus
from pipeline.run.assembly import open_store, status_of
from pipeline.settings import Settings


@dataclass(frozen=True)
class CheckResult:
    """A check's report and the lines to print (credentials masked)."""

    report: CheckReport
    lines: list[str]


def archive_location(settings: Settings) -> str:
    """The archive's location as configured, credentials masked."""
    return ArchiveConfig.from_settings(settings).open().masked_url


def check(settings: Settings, day: date | None = None, *, deep: bool = True) -> CheckResult:
    """Verify the archive (one day's files when `day` is given) against the index in raw_pages.

    Errors: rows whose record is missing, truncated or not their payload, damaged files. Harmless notes:
    files and records no row points at (a run killed between publishing a file and indexing it).
    """
    storage = ArchiveConfig.from_settings(settings).open()
    prefix = f"{day:%Y/%m/%d}" if day else ""
    with open_store(settings) as store:
        entries = store.index_entries(storage.file_url(prefix) + "/" if day else None)
    report = check_archive(storage, entries, prefix=prefix, deep=deep)
    where = f"{storage.masked_url}/{prefix}" if prefix else storage.masked_url
    return CheckResult(report, [f"archive {where}: " + report.lines(storage.scrub)[0],
                                *report.lines(storage.scrub)[1:]])


def move_out(settings: Settings, *, before: datetime | None = None, batch: int | None = None,
             limit: int | None = None, progress: Callable[[MoveOutReport], None] | None = None
             ) -> MoveOutReport:
    """Archive the bodies still held in raw_pages (fetched before `before`), as a ledger run of its own.

    Each batch is written to one WARC file, read back and verified, and only then are its rows repointed
    (their body set to NULL) in one transaction; stopping at any point and running again is safe.
    """
    config = ArchiveConfig.from_settings(settings)
    storage = config.open()
    size = batch or settings.batch_size
    params: dict[str, Any] = {"before": before.isoformat() if before else None, "batch": size, "limit": limit,
                              "archive": storage.masked_url}
    with open_store(settings) as store:
        run_id = store.begin_run(RunKind.MOVE_OUT, None, [], params)
        try:
            report = move_out_bodies(store, storage, run_id=run_id, batch=size, level=config.compression_level,
                                     fetched_before=before, limit=limit, progress=progress)
        except BaseException as exc:
            store.end_run(run_id, status_of(exc), {"error": f"{type(exc).__name__}: {exc}"})
            if isinstance(exc, Interrupted):
                exc.run_id, exc.closed = run_id, True
            raise
        store.end_run(run_id, RunStatus.FAILED if report.refused else RunStatus.SUCCESS, move_out_stats(report))
    return report


def move_out_stats(report: MoveOutReport) -> dict[str, Any]:
    """A move-out report as the ledger's stats."""
    return {"seen": report.seen, "moved": report.moved, "files": report.files,
            "bytes_written": report.bytes_written, "body_bytes": report.body_bytes,
            "refused": [{"id": rid, "why": why} for rid, why in report.refused[:100]]}
