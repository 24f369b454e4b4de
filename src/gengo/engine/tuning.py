"""Process tuning, all of it: applied explicitly, never on import.

Who calls what:

- ``tune_parent()``: the ``gengo`` command's own process, first thing (``gengo.launch``), before
  polars or Arrow are imported (the environment settings act at their import);
- ``worker_environment()``: the fork server sets it on itself before it imports anything heavy
  (``gengo.engine.preload``), so every worker inherits it; the caller's process is untouched;
- ``tune_worker()``: every worker process (pool initializer, Dask task set-up);
- ``skip_pandas_probe()``: the command's process (after the fork server is on its way) and the
  fork server (after its environment), before anything builds an Arrow array.

A library caller's process is never changed (their polars keeps its threads, their Arrow its
CPU count). ``GENGO_NO_TUNING=1`` turns everything here off (bytes are the same either way).

The numbers below were measured on the project's 2-core VM (the commits named hold the runs).
Arrow's default memory pool on the Linux wheels is mimalloc (checked with
``pa.default_memory_pool().backend_name``, pyarrow 26), so the jemalloc decay call an earlier
version also made (``pa.jemalloc_set_decay_ms(0)``, "give memory back at once") acted on a pool
gengo never used and contradicted the mimalloc setting; it is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from functools import cache

SWITCH = "GENGO_NO_TUNING"

# Environment for worker processes (set before polars / Arrow are imported there).
WORKER_ENVIRONMENT = {
    # polars' own jemalloc returns every block of 8 MB or more to the OS as soon as it is freed in
    # processes forked after polars was loaded: each chunk's encoded text then lands in fresh
    # pages. Ecommerce-ds JSON at 1 GB, 2 workers: 327k -> 153k page faults (commit 62d722a).
    "_RJEM_MALLOC_CONF": "oversize_threshold:0",
    # Arrow's mimalloc hands freed memory back 10 ms after it is freed, between one chunk and the
    # next; 500 ms outlasts those gaps. Ecommerce Parquet: 38k -> 12k page faults; medical Parquet
    # with 2 workers 6.19 -> 5.72 s for peak RSS +80 MB (commit 42645f5).
    "MIMALLOC_PURGE_DELAY": "500",
    # One thread per worker process: parallelism comes from processes, not nested pools.
    "POLARS_MAX_THREADS": "1",
    # NumPy's OpenBLAS starts a thread per CPU at import, in every process (again after each fork);
    # gengo calls no BLAS routine, yet `perf` found those threads busy-waiting: 2.3% of the CPU
    # samples of an ecommerce CSV run in one process.
    "OPENBLAS_NUM_THREADS": "1",
}
_tuned_parent = False

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc serves allocations over a (dynamic) threshold with a fresh mmap and unmaps them on free,
# so each chunk's NumPy temporaries were new pages to fault in and zero: 2.3-3.0 s of kernel time
# per GB of ecommerce-ds CSV in one process, 0.5 s with blocks up to 32 MB kept on the heap and
# the heap not trimmed below 256 MB (glibc 2.36, Debian 12).
MMAP_THRESHOLD = 32 << 20  # the largest glibc accepts on 64-bit systems
TRIM_THRESHOLD = 256 << 20  # free memory kept at the top of the heap before it goes back to the OS


def enabled() -> bool:
    return os.environ.get(SWITCH, "").strip().lower() not in ("1", "true", "yes", "on")


def worker_environment() -> None:
    """Set the workers' environment in this process (the fork server's own), keeping user values."""
    if enabled():
        for key, value in WORKER_ENVIRONMENT.items():
            os.environ.setdefault(key, value)


def tune_parent() -> None:
    """The ``gengo`` command's process, which plans and (with ``--workers 1``) generates: as a worker."""
    global _tuned_parent
    if not enabled():
        return
    worker_environment()
    keep_freed_memory()
    _tuned_parent = True


def skip_pandas_probe() -> None:
    """Tell pyarrow, before its first ``pa.array()``, that pandas is absent.

    pyarrow imports pandas (0.3-0.4 CPU-s, 40 MB) at its first ``pa.array()`` of anything but an
    Arrow object, only to ask whether that object is a pandas one; gengo never passes one. With
    ``pandas`` unimportable for that one probe, pyarrow remembers the answer; ``import pandas``
    elsewhere (the financial model's calendars) works as before. The ``gengo`` command's process
    and its fork server only: a library caller's pyarrow is left alone.
    """
    if not enabled() or "pandas" in sys.modules:
        return
    import signal

    import pyarrow as pa

    # pyarrow's probe runs in Cython code that drops any exception raised inside it, the
    # KeyboardInterrupt of a Ctrl-C included: the run then went on to the end and reported the
    # interrupt only after writing everything. Signals wait (blocked) until the probe is over.
    mask = None
    with contextlib.suppress(AttributeError, OSError, ValueError):  # POSIX only
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(_NoPandas)
        if mask is not None:  # a signal that came meanwhile is handled now, as an exception here
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class _NoPandas:
    """An import finder for which pandas does not exist (see ``skip_pandas_probe``)."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("No module named 'pandas'", name=name)


def tune_in_process() -> None:
    """Chunks generated in the calling process (one worker): tuned only if it is the ``gengo`` command's."""
    if _tuned_parent:
        tune_worker()


def tune_worker() -> None:
    """A worker process: glibc settings, Arrow on one thread (the pool supplies the parallelism).

    Also undoes a tiny ``MALLOC_TRIM_THRESHOLD_`` such as Dask's nanny sets for its workers
    (generation ran 5x slower with it).
    """
    if not enabled():
        return
    import pyarrow as pa  # workers have it loaded already (preload); here only to set its threads

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    keep_freed_memory()


def freeze_loaded(worker: bool) -> None:
    """After the imports and vocabularies: everything loaded lives as long as the process.

    Out of the cyclic collector's sight, its full collections no longer walk the libraries' and
    vocabularies' objects (``gc_collect_main`` was 1.3% of the CPU samples of an ecommerce CSV run
    in one process), and workers forked from a frozen fork server do not write to those pages. A
    worker, or the ``gengo`` command's own process; a library caller's heap is theirs.
    """
    if enabled() and (worker or _tuned_parent):
        import gc

        gc.freeze()


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
    """Tune glibc's malloc so freed chunk memory is reused; False where that does not apply."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_free_memory() -> None:
    """Give memory that is free but still held (Arrow's pool, the malloc heap) back to the OS."""
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(OSError):
            libc.malloc_trim(0)
