"""Verify the archive against its index: missing or wrong records (errors), unreferenced ones (harmless)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.archive.reader import FileRecord, iter_file_records, read_records
from pipeline.archive.storage import ArchiveStorage
from pipeline.errors import ArchiveError, Reason
from pipeline.models import IndexEntry, RecordLocation

SHOW = 20  # examples per category in the printed report


@dataclass
class CheckReport:
    """Outcome of a check. Missing or mismatched records are errors; unreferenced files and records
    (left by a run killed between publishing a file and writing its index rows) are harmless."""

    files: int = 0
    indexed: int = 0
    verified: int = 0
    missing: list[tuple[IndexEntry, str]] = field(default_factory=list)
    mismatched: list[tuple[IndexEntry, str]] = field(default_factory=list)
    damaged_files: list[tuple[str, str]] = field(default_factory=list)
    unreferenced_files: list[str] = field(default_factory=list)
    unreferenced_records: list[RecordLocation] = field(default_factory=list)
    staged_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatched and not self.damaged_files

    def lines(self, scrub: object = str) -> list[str]:
        """A human-readable report, a few examples per category."""
        out = [f"{self.files} files, {self.indexed} indexed records, {self.verified} verified"]
        for title, items in (("index rows whose record is missing", self.missing),
                             ("index rows whose record is wrong", self.mismatched)):
            if items:
                out.append(f"ERROR {len(items)} {title}:")
                out += [f"  {e.key}: {scrub(e.location.file)} @{e.location.offset}+{e.location.length}: {why}"
                        for e, why in items[:SHOW]]
        if self.damaged_files:
            out.append(f"ERROR {len(self.damaged_files)} damaged files:")
            out += [f"  {scrub(url)}: {why}" for url, why in self.damaged_files[:SHOW]]
        for title, names in (("unreferenced files (harmless)", self.unreferenced_files),
                             ("staged files never published (harmless)", self.staged_files)):
            if names:
                out.append(f"note {len(names)} {title}:")
                out += [f"  {scrub(name)}" for name in names[:SHOW]]
        if self.unreferenced_records:
            out.append(f"note {len(self.unreferenced_records)} unreferenced response records (harmless):")
            out += [f"  {scrub(r.file)} @{r.offset}+{r.length}" for r in self.unreferenced_records[:SHOW]]
        return out


def check_archive(storage: ArchiveStorage, index: Iterable[IndexEntry], *, prefix: str = "",
                  deep: bool = True) -> CheckReport:
    """Compare the files under `prefix` with the index entries given (those of the same files).

    `deep` reads every indexed file once, sequentially, verifying each indexed record's offset, length
    and payload SHA-256 and listing response records no entry points at; otherwise only existence and
    bounds are checked. Entries in files outside the storage's root are verified by ranged reads.
    """
    report = CheckReport()
    stored = {f.url: f.size for f in storage.list_files(prefix)}
    by_file: dict[str, list[IndexEntry]] = {}
    for entry in index:
        by_file.setdefault(entry.location.file, []).append(entry)
        report.indexed += 1
    report.files = len(stored)
    report.unreferenced_files = sorted(set(stored) - set(by_file))
    report.staged_files = [f.url for f in storage.staged_files()] if not prefix else []
    for url, entries in sorted(by_file.items()):
        size = stored[url] if url in stored else storage.size(url)
        if size is None:
            report.missing.extend((e, "file missing") for e in entries)
        elif not deep:
            _check_bounds(report, entries, size)
        elif url in stored:
            _check_file(storage, report, url, entries, size)
        else:
            _check_by_ranges(storage, report, entries)
    return report


def _check_bounds(report: CheckReport, entries: list[IndexEntry], size: int) -> None:
    for entry in entries:
        if entry.location.offset + entry.location.length > size:
            report.missing.append((entry, f"beyond the end of the file ({size} bytes)"))


def _check_file(storage: ArchiveStorage, report: CheckReport, url: str, entries: list[IndexEntry],
                size: int) -> None:
    """Read the file once; match records by offset."""
    records: dict[int, FileRecord] = {}
    broken = ""
    try:
        with storage.open(url) as handle:
            for record in iter_file_records(handle, url, size):
                records[record.location.offset] = record
    except ArchiveError as exc:
        if exc.reason == Reason.ARCHIVE_UNAVAILABLE:
            raise
        broken = f"file damaged: {exc}"
    except Exception as exc:  # noqa: BLE001 - a corrupt gzip member or WARC header: report, go on
        broken = f"file damaged: unreadable after {len(records)} records ({type(exc).__name__})"
    if broken:
        report.damaged_files.append((url, broken))
    referenced = set()
    for entry in entries:
        record = records.get(entry.location.offset)
        referenced.add(entry.location.offset)
        if record is None:
            (report.missing if broken else report.mismatched).append((entry, broken or "no record at this offset"))
        elif record.location.length != entry.location.length:
            report.mismatched.append((entry, f"record is {record.location.length} bytes, index says "
                                             f"{entry.location.length}"))
        elif record.rec_type != "response":
            report.mismatched.append((entry, f"a {record.rec_type} record, not a response"))
        elif record.payload_sha256 != entry.sha256:
            report.mismatched.append((entry, "payload SHA-256 differs from the index"))
        else:
            report.verified += 1
    report.unreferenced_records.extend(r.location for offset, r in sorted(records.items())
                                       if r.rec_type == "response" and offset not in referenced)


def _check_by_ranges(storage: ArchiveStorage, report: CheckReport, entries: list[IndexEntry]) -> None:
    results = read_records(storage, [e.location for e in entries], [e.sha256 for e in entries])
    for entry, result in zip(entries, results, strict=True):
        if isinstance(result, ArchiveError):
            bucket = report.mismatched if result.reason in (Reason.ARCHIVE_DIGEST_MISMATCH, Reason.ARCHIVE_CORRUPT) \
                else report.missing
            bucket.append((entry, str(result)))
        else:
            report.verified += 1
