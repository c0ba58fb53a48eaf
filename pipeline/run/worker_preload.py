"""Imported once by the extraction workers' forkserver: the extraction path, warmed up, shared by every worker.

Everything a first page initialises lazily (py3langid's model, trafilatura's and datasketch's tables,
compiled patterns) is done here once, so a new worker, including one that replaces a killed worker,
starts its first page as fast as its hundredth.

Every worker is also detached from the host process (`workers.detach_from_host`, the one mechanism the pool's
parent uses too): it never re-runs the parent's main script. The job function is pickled by its module name, so
workers need only `pipeline` code, and under Airflow that script is the `airflow` (or `celery`) entry point,
whose import initialises Airflow and fails in a task process (its metadata database is off limits there), so
every worker would die before its first page.
"""

import signal
import sys
from types import TracebackType

# Ctrl-C reaches the whole process group, this forkserver included, possibly while it is still importing:
# the run itself reports the interruption (in one line), the forkserver ends when the run does.
signal.signal(signal.SIGINT, signal.SIG_IGN)

from pipeline.dedup import signature_bytes  # noqa: E402
from pipeline.extract import process_page  # noqa: E402
from pipeline.run.workers import detach_from_host  # noqa: E402

# A worker forked while the run is stopping finds its pool's pipe or semaphore already gone.
_POOL_GONE = (FileNotFoundError, EOFError, ConnectionError)


def _quiet_when_pool_gone(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """Forkserver children print start-up errors through sys.excepthook: one whose pool has gone is silent
    (the run is ending and says so itself); anything else keeps its traceback."""
    if not issubclass(kind, _POOL_GONE):
        sys.__excepthook__(kind, value, tb)


# Workers are forked from this process and inherit both (the replaced functions only run in a new process's start).
detach_from_host()
sys.excepthook = _quiet_when_pool_gone

_PARAGRAPH = ("The harbour council met on Tuesday evening and agreed, after a long debate about the cost of the "
              "work, that the old ferry pier would be repaired before the summer season begins next year.")
_WARM_UP = f"<html><head><title>Warm-up</title></head><body><article><p>{_PARAGRAPH}</p></article></body></html>"

signature_bytes(process_page(_WARM_UP, "https://example.org/warm-up").body)
