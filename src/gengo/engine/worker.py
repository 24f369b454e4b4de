"""What runs inside a worker process: one (table, chunk) -> encoded payload.

Imported by the fork server before workers are forked, so every worker starts with the
libraries loaded and the vocabularies built.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from gengo.core import vocab
from gengo.engine import tuning
from gengo.formats import FORMATS, WriteOptions
from gengo.formats.base import spool_path, write_spooled
from gengo.formats.hive import PartitionKey
from gengo.models import resolve_model
from gengo.models.file import load_model_data


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
    model_data: str | None = None  # a model file's parsed data as JSON (``model`` is then its path)
    partition_by: dict[str, PartitionKey] | None = None  # table -> Hive key: parts split by value (--partition-by)
    # Tables whose chunks also report the rows whose values can move (``gen --batches``: the
    # batches then regenerate only those to find the moves, see ``change_blocks.walk_block``).
    moving: tuple[str, ...] = ()

    @classmethod
    def of(cls, model: Any, *args: Any, **kwargs: Any) -> Job:
        """A job for ``model``: built-ins travel by name, model files by path and text."""
        if model.file is not None:
            return cls(model.file.path, *args, **kwargs, model_data=model.file.data)
        return cls(model.name, *args, **kwargs)

    @property
    def model_def(self) -> Any:
        if self.model_data is not None:
            return load_model_data(self.model_data, self.model)
        return resolve_model(self.model)


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
    moving: Any = None  # row ids of the chunk whose values can move (tables in ``Job.moving``)


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


_ready = False


def setup(worker: bool) -> None:
    """Once per process that generates chunks: tuning and vocabularies.

    ``worker``: a process that exists to generate (pool and Dask workers); otherwise the caller's
    own process (``--workers 1``), tuned only when it is the ``gengo`` command.
    """
    global _ready
    if _ready:
        return
    if worker:
        tuning.tune_worker()
    else:
        tuning.tune_in_process()
    vocab.warm_up()
    tuning.freeze_loaded(worker)
    _ready = True


def init_worker() -> None:
    """Initializer of every pool worker (table chunks and parts alike)."""
    parent = multiprocessing.parent_process()
    if parent is not None:  # a pool worker, not the parent running --workers 1
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent handles it
        # If the parent is killed (SIGKILL, OOM killer), exit instead of idling forever as an orphan.
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    setup(worker=parent is not None)


# Rows generated per call: NumPy's temporaries stay near the CPU caches and bounded in size even
# when a chunk is a whole Parquet row group of a million rows.
BLOCK_ROWS = 1 << 18


def generate(job: Job, table: str, start: int, stop: int) -> pa.Table:
    """Rows [start, stop) of ``table``, built block by block.

    Blocks restart at every encoding unit (a Parquet row group): Arrow cuts data pages where
    its input chunks end, so each row group must be assembled the same way whatever chunk it
    belongs to.
    """
    t = job.model_def.table(table)
    unit = FORMATS[job.format].unit_rows(job.options, job.hints.get(table)) or (stop - start)
    blocks = [
        t.generate(job.seed, job.rows, np.arange(a, min(a + BLOCK_ROWS, u + unit, stop), dtype=np.int64))
        for u in range(start, stop, unit)  # loops over row groups and blocks, not rows
        for a in range(u, min(u + unit, stop), BLOCK_ROWS)
    ]
    return blocks[0] if len(blocks) == 1 else pa.concat_tables(blocks)


def produce(job: Job, table: str, start: int, stop: int, first: bool) -> tuple[Any, float, float]:
    """The one generate-and-encode step: (payload, generate seconds, encode seconds)."""
    payload, gen, enc, _ = _produce(job, table, start, stop, first)
    return payload, gen, enc


def _produce(job: Job, table: str, start: int, stop: int, first: bool) -> tuple[Any, float, float, Any]:
    t0 = time.perf_counter()
    data = generate(job, table, start, stop)
    moving = None
    if table in job.moving:
        from gengo.engine.changes import movable

        moving = start + np.flatnonzero(movable(job.model_def.changes[table], data))
    t1 = time.perf_counter()
    payload = FORMATS[job.format].encode(data, first, job.options, job.hints.get(table))
    return payload, t1 - t0, time.perf_counter() - t1, moving


def run_chunk(job: Job, table: str, start: int, stop: int, slot: int | None = None) -> ChunkResult:
    """Generate and encode one chunk; a large payload goes to spool file ``slot`` when the job has a spool."""
    payload, gen, enc, moving = _produce(job, table, start, stop, start == 0)
    t0 = time.perf_counter()
    if isinstance(payload, bytes | memoryview):
        if job.spool_dir and slot is not None and len(payload) >= SPOOL_MIN_BYTES:
            path = spool_path(job.spool_dir, slot)
            write_spooled(path, payload)
            payload = Spooled(str(path), len(payload))
        elif isinstance(payload, memoryview):
            payload = payload.tobytes()  # results travel pickled or stay in process
    return ChunkResult(table, start, stop - start, payload, gen, enc + time.perf_counter() - t0, moving)
