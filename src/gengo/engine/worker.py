"""What runs inside a worker process: one (table, chunk) -> encoded payload.

Imported by the fork server before workers are forked, so every worker starts with the
libraries loaded and the vocabularies built.
"""

from __future__ import annotations

import contextlib
import os

# One thread per worker process: parallelism comes from processes, not nested pools.
os.environ.setdefault("POLARS_MAX_THREADS", "1")

import multiprocessing  # noqa: E402
import multiprocessing.connection  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from gengo.core import vocab  # noqa: E402
from gengo.engine.tuning import keep_freed_memory  # noqa: E402
from gengo.formats import FORMATS, WriteOptions  # noqa: E402
from gengo.formats.base import spool_path, write_spooled  # noqa: E402
from gengo.models import MODELS  # noqa: E402


@dataclass(frozen=True)
class Job:
    """Everything a chunk depends on, small enough to send with every task."""

    model: str
    format: str
    seed: int
    rows: dict[str, int]
    options: WriteOptions
    hints: dict[str, dict | None]  # per table, from the plan (Parquet dictionaries, row groups)
    spool_dir: str | None = None  # write byte payloads here rather than returning them


@dataclass(frozen=True)
class Spooled:
    """A chunk's payload left in a file (see ``writers.base.spool_path``) instead of a pipe."""

    path: str
    size: int


SPOOL_MIN_BYTES = 1 << 16  # smaller payloads travel through the pipe


@dataclass(frozen=True)
class ChunkResult:
    table: str
    start: int
    rows: int
    payload: Any
    generate_seconds: float
    encode_seconds: float


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def init_worker() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:  # a pool worker, not the parent running --workers 1
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent handles it
        # If the parent is killed (SIGKILL, OOM killer), exit instead of idling forever as an orphan.
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    keep_freed_memory()  # reuse the heap chunk after chunk (see engine.memory)
    with contextlib.suppress(NotImplementedError, AttributeError):
        pa.jemalloc_set_decay_ms(0)  # hand freed Arrow memory back to the OS at once
    vocab.warm_up()


# Rows generated per call: NumPy's temporaries stay near the CPU caches and bounded in size even
# when a chunk is a whole Parquet row group of a million rows.
BLOCK_ROWS = 1 << 18


def generate(job: Job, table: str, start: int, stop: int) -> pa.Table:
    """Rows [start, stop) of ``table``, built block by block.

    Blocks restart at every encoding unit (a Parquet row group): Arrow cuts data pages where
    its input chunks end, so each row group must be assembled the same way whatever chunk it
    belongs to.
    """
    t = MODELS[job.model].table(table)
    unit = FORMATS[job.format].unit_rows(job.options, job.hints.get(table)) or (stop - start)
    blocks = [
        t.generate(job.seed, job.rows, np.arange(a, min(a + BLOCK_ROWS, u + unit, stop), dtype=np.int64))
        for u in range(start, stop, unit)  # loops over row groups and blocks, not rows
        for a in range(u, min(u + unit, stop), BLOCK_ROWS)
    ]
    return blocks[0] if len(blocks) == 1 else pa.concat_tables(blocks)


def run_chunk(job: Job, table: str, start: int, stop: int, slot: int | None = None) -> ChunkResult:
    """Generate and encode one chunk; a large payload goes to spool file ``slot`` when the job has a spool."""
    t0 = time.perf_counter()
    data = generate(job, table, start, stop)
    t1 = time.perf_counter()
    payload = FORMATS[job.format].encode(data, start == 0, job.options, job.hints.get(table))
    if isinstance(payload, bytes | memoryview):
        if job.spool_dir and slot is not None and len(payload) >= SPOOL_MIN_BYTES:
            path = spool_path(job.spool_dir, slot)
            write_spooled(path, payload)
            payload = Spooled(str(path), len(payload))
        elif isinstance(payload, memoryview):
            payload = payload.tobytes()  # results travel pickled or stay in process
    t2 = time.perf_counter()
    return ChunkResult(table, start, stop - start, payload, t1 - t0, t2 - t1)
