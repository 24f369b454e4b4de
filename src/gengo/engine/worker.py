"""What runs inside a worker process: one (table, chunk) -> encoded payload.

Imported by the fork server before workers are forked, so every worker starts with the
libraries loaded and the vocabularies built.
"""

from __future__ import annotations

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

from gengo import vocab  # noqa: E402
from gengo.models import MODELS  # noqa: E402
from gengo.writers import FORMATS, WriteOptions  # noqa: E402


@dataclass(frozen=True)
class Job:
    """Everything a chunk depends on, small enough to send with every task."""

    model: str
    format: str
    seed: int
    rows: dict[str, int]
    options: WriteOptions
    hints: dict[str, dict | None]  # per table, from the plan (Parquet dictionaries, row groups)


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
    vocab.warm_up()


def run_chunk(job: Job, table: str, start: int, stop: int) -> ChunkResult:
    t0 = time.perf_counter()
    data = MODELS[job.model].table(table).generate(job.seed, job.rows, np.arange(start, stop, dtype=np.int64))
    t1 = time.perf_counter()
    payload = FORMATS[job.format].encode(data, start == 0, job.options, job.hints.get(table))
    t2 = time.perf_counter()
    return ChunkResult(table, start, stop - start, payload, t1 - t0, t2 - t1)
