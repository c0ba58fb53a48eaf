"""Keep the run's memory flat: fewer glibc heap arenas, and freed heap handed back after each batch."""

from __future__ import annotations

import ctypes
import functools

M_ARENA_MAX = -8  # glibc mallopt parameter
ARENAS = 2


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None


def limit_malloc_arenas() -> None:
    """Page buffers are allocated by many fetch threads; glibc gives each thread its own heap arena and
    rarely returns their freed memory, so RSS would grow with the run. Two arenas keep it flat."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, ARENAS)


def release_freed_memory() -> None:
    """Give freed heap back to the OS after a batch (glibc `malloc_trim`); a no-op elsewhere."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
