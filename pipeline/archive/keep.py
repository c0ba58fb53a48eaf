"""The keep-raw stage's archive side: encode pages (in fetch threads), publish a batch's new records, then index."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pipeline.archive.records import DEFAULT_COMPRESSION_LEVEL, Capture, EncodedCapture, encode_capture
from pipeline.archive.storage import ArchiveStorage
from pipeline.archive.writer import ArchiveWriter
from pipeline.models import ArchivedBatch, ArchivedPage, FetchedPage

RawKey = tuple[str, str]  # (url, sha256): the raw layer's identity


@dataclass(frozen=True)
class RawToKeep:
    """A fetched page and its encoded WARC records, ready to be written."""

    source: str
    page: FetchedPage
    encoded: EncodedCapture

    @property
    def key(self) -> RawKey:
        return self.page.url, self.encoded.sha256


class RawArchiver:
    """Writes the raw pages of one run as WARC files: one published file per keep-raw batch.

    Order of operations, which makes a crash at any point safe: (1) `encode` each page, in the fetch
    thread that fetched it; (2) `keep` drops the pages the index already holds, writes the others into
    a staged file and publishes it whole; (3) only then does the caller write the index rows. A crash
    before (3) leaves an unreferenced file, harmless and listed by `news-pipeline archive check`.
    """

    def __init__(self, storage: ArchiveStorage, *, run_id: int | None, level: int = DEFAULT_COMPRESSION_LEVEL,
                 request_headers: Sequence[tuple[str, str]] = ()) -> None:
        self.storage, self.run_id, self.level = storage, run_id, level
        self.request_headers = tuple(request_headers)
        self.writer = ArchiveWriter(storage, run_id=run_id, level=level)

    def encode(self, source: str, page: FetchedPage, origin: str | None = None) -> RawToKeep:
        """A page's WARC records, compressed; thread-safe and mostly outside the GIL.

        `origin` names the record a page was read from when it came from another WARC file.
        """
        capture = Capture.from_page(page, source=source, run_id=self.run_id, origin=origin,
                                    request_headers=() if origin else self.request_headers)
        return RawToKeep(source, page, encode_capture(capture, self.level))

    def keep(self, items: Sequence[RawToKeep], known: Callable[[list[RawKey]], Iterable[RawKey]]) -> ArchivedBatch:
        """Publish the records of the pages not yet in the index (`known` says which are), once each."""
        keys = [item.key for item in items]
        already = set(known(list(dict.fromkeys(keys)))) if keys else set()
        fresh: dict[RawKey, RawToKeep] = {}
        for item in items:
            if item.key not in already:
                fresh.setdefault(item.key, item)
        if not fresh:
            return ArchivedBatch(None, 0, [], keys)
        batch = self.writer.write([item.encoded for item in fresh.values()])
        pages = [ArchivedPage(item.source, item.page, item.encoded.sha256, location)
                 for item, location in zip(fresh.values(), batch.locations, strict=True)]
        return ArchivedBatch(batch.file, batch.size, pages, keys)
