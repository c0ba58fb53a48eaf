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

from pipeline.dedup import signature_bytes
from pipeline.extract import process_page
from pipeline.run.workers import detach_from_host

# Workers are forked from this process and inherit it (the replaced functions only run in a new process's start).
detach_from_host()

_PARAGRAPH = ("The harbour council met on Tuesday evening and agreed, after a long debate about the cost of the "
              "work, that the old ferry pier would be repaired before the summer season begins next year.")
_WARM_UP = f"<html><head><title>Warm-up</title></head><body><article><p>{_PARAGRAPH}</p></article></body></html>"

signature_bytes(process_page(_WARM_UP, "https://example.org/warm-up").body)
