"""Imported once by the extraction workers' forkserver: the extraction path, warmed up, shared by every worker.

Everything a first page initialises lazily (py3langid's model, trafilatura's and datasketch's tables,
compiled patterns) is done here once, so a new worker, including one that replaces a killed worker,
starts its first page as fast as its hundredth.
"""

from pipeline.dedup import signature_bytes
from pipeline.extract import process_page

_PARAGRAPH = ("The harbour council met on Tuesday evening and agreed, after a long debate about the cost of the "
              "work, that the old ferry pier would be repaired before the summer season begins next year.")
_WARM_UP = f"<html><head><title>Warm-up</title></head><body><article><p>{_PARAGRAPH}</p></article></body></html>"

signature_bytes(process_page(_WARM_UP, "https://example.org/warm-up").body)
