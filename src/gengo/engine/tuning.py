"""Allocator settings for processes that build and drop chunk-sized buffers again and again.

By default glibc serves every allocation over a (dynamic) threshold with a fresh ``mmap`` and
unmaps it on free, so each chunk's NumPy temporaries and encoded bytes are new pages that the
kernel must fault in and zero. On virtual machines that hand freed memory back to the host, that
is most of a worker's system time (measured: 2.3-3.0 s of kernel time per GB of ecommerce-ds
CSV in one process, 0.5 s with these settings). Keeping blocks up to 32 MB on the heap and not
trimming it lets the next chunk reuse the same pages; the heap stays at the size of one chunk's
working set, which the process reached anyway.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from functools import cache

import pyarrow as pa

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # the largest glibc accepts on 64-bit systems
TRIM_THRESHOLD = 256 << 20  # free memory kept at the top of the heap before it goes back to the OS


@cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc only (not musl)
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Tune glibc's malloc so freed chunk memory is reused; False where that does not apply.

    Also undoes a tiny ``MALLOC_TRIM_THRESHOLD_`` such as Dask's nanny sets for its workers.
    """
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_free_memory() -> None:
    """Give memory that is free but still held (Arrow's pool, the malloc heap) back to the OS."""
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(OSError):
            libc.malloc_trim(0)
