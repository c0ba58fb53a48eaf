"""Imported once by the extraction workers' forkserver: the extraction path, warmed up, shared by every worker.

Everything a first page initialises lazily (py3langid's model, trafilatura's and datasketch's tables,
compiled patterns) is done here once, so a new worker, including one that replaces a killed worker,
starts its first page as fast as its hundredth.

The workers also skip multiprocessing's re-run of the parent's main script: they run only `pipeline` code
(the job function is pickled by its module name), and under Airflow that script is the `airflow` entry
point, whose import initialises Airflow and fails in a task process (its metadata database is off limits
there), so every worker would die before its first page.
"""

import multiprocessing.spawn

from pipeline.dedup import signature_bytes
from pipeline.extract import process_page


def _keep_own_main(_main: str) -> None:
    """Stands in for multiprocessing's `_fixup_main_from_path`/`_from_name` in the workers: leave `__main__`."""


# Workers are forked from this process and inherit the replacements (which only ever run in a new process's start).
multiprocessing.spawn._fixup_main_from_path = _keep_own_main  # type: ignore[attr-defined]
multiprocessing.spawn._fixup_main_from_name = _keep_own_main  # type: ignore[attr-defined]

_PARAGRAPH = ("The harbour council met on Tuesday evening and agreed, after a long debate about the cost of the "
              "work, that the old ferry pier would be repaired before the summer season begins next year.")
_WARM_UP = f"<html><head><title>Warm-up</title></head><body><article><p>{_PARAGRAPH}</p></article></body></html>"

signature_bytes(process_page(_WARM_UP, "https://example.org/warm-up").body)
