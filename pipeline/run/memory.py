"""Keep the run's memory flat: fewer glibc heap arenas, and freed heap handed back after each batch."""

from __future__ import annotations

import ctypes
import functools

M_ARENA_MAX = -8  # glibc mallopt parameters
M_MMAP_THRESHOLD = -3
ARENAS = 2
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, pinned


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None


def limit_malloc_arenas() -> None:
    """Page buffers are allocated by many fetch threads; glibc gives each thread its own heap arena and
    rarely returns their freed memory, so RSS would grow with the run. Two arenas keep it flat.

    Page bodies and their WARC records (100 kB-1 MB each) are also kept out of the heap: glibc raises its
    mmap threshold to the size of every mmapped block freed, so after the first page all of them would be
    carved from the arenas and fragment them; pinned at 128 kB they are mapped and unmapped whole."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, ARENAS)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def release_freed_memory() -> None:
    """Give freed heap back to the OS after a batch (glibc `malloc_trim`); a no-op elsewhere."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
