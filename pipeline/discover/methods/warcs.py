"""WARC files (CC-NEWS, a crawler's own archive): each response record of the window is a page, read, not fetched.

The WARC-Date of a record (its capture time) decides its day. Discovery reads the files' record headers
only; the ingest run then reads the payloads of the records it still needs by offset (`Target.record`),
so a rerun over days already stored reads no payload at all.
"""

from __future__ import annotations

from pipeline.archive import ArchiveConfig, WarcFiles, WarcProblem
from pipeline.discover.state import Method, SourceRun
from pipeline.models import DateSignal


def read_warcs(run: SourceRun, locations: tuple[str, ...]) -> None:
    if not locations:
        return
    config = ArchiveConfig.from_settings(run.settings)
    for location in locations:  # one location at a time: each may need its own storage options
        files = WarcFiles([location], max_bytes=run.settings.max_response_bytes,
                          storage_options=config.options_for(location))
        for item in files.index(run.window):
            if isinstance(item, WarcProblem):
                run.fail(item.url, item.reason, item.detail)
            else:
                run.add_record(item.url, item.date, DateSignal.WARC_DATE, item.location)
        run.result.skipped.update(files.stats.skipped)


METHOD = Method("warcs", 40, read_warcs)
