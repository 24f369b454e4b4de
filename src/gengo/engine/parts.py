"""Partitioned output: each task generates one part (a run of chunks) and writes it itself.

A part is a complete file (``<table>/part-00000.<ext>``): CSV parts each start with a header,
Parquet parts are valid files of whole row groups. The worker that generates a part's chunks
appends them to the part's sink (a temporary local file renamed into place, or a stream to an
object store made visible only when complete) and returns its rows, bytes and checksum; the
caller only plans, tracks progress and writes the manifest. The same task function runs in
the local process pool and on Dask workers, so both engines write identical bytes.
"""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from gengo._version import __version__
from gengo.core.errors import GengoError
from gengo.engine.plan import Plan
from gengo.engine.pool import Pool
from gengo.engine.results import PartResult
from gengo.engine.worker import Job, generate, produce, setup
from gengo.formats import FORMATS
from gengo.formats.hive import PartitionKey, unescapable
from gengo.formats.storage import Output


@dataclass(frozen=True)
class Part:
    table: str
    index: int
    start: int
    stop: int
    chunk_rows: int
    name: str  # relative to the output root: <table>/part-00000.<ext>


def plan_parts(plan: Plan, skip: Collection[tuple[str, int]] = ()) -> list[Part]:
    """Every part of the plan in plan order, less the (table, index) pairs in ``skip``."""
    parts = []
    for t in plan.tables:
        for i, (a, b) in enumerate(plan.part_ranges(t)):
            if (t.name, i) not in skip:
                parts.append(Part(t.name, i, a, b, t.chunk_rows, plan.part_name(t.name, i)))
    return parts


def write_part(job: Job, output: Output, part: Part, version: str = __version__) -> tuple[PartResult, ...]:
    """Generate ``part`` chunk by chunk and write it as complete files (one, or one per value). Runs in a worker."""
    if version != __version__:
        raise GengoError(
            f"a worker runs gengo {__version__}, the client {version}: install the same version everywhere"
        )
    setup(worker=True)  # Dask workers have no initializer
    key = (job.partition_by or {}).get(part.table)
    if key is not None:
        return _write_by_value(job, output, part, key)
    sink = _open_sink(job, output, part.name, job.model_def.table(part.table).schema, job.hints.get(part.table))
    gen = enc = write = 0.0
    try:
        for a in range(part.start, part.stop, part.chunk_rows):  # chunks start on unit boundaries
            b = min(a + part.chunk_rows, part.stop)
            payload, g, e = produce(job, part.table, a, b, a == part.start)  # every part has its header
            t0 = time.perf_counter()
            sink.add(payload)
            gen, enc, write = gen + g, enc + e, write + time.perf_counter() - t0
        t0 = time.perf_counter()
        size = sink.commit()
        write += time.perf_counter() - t0
    except BaseException:
        sink.abort()
        raise
    digest = sink.checksum()
    host = socket.gethostname()
    rows = part.stop - part.start
    return (PartResult(part.table, part.index, part.name, rows, size, digest, gen, enc, write, host),)


def _open_sink(job: Job, output: Output, name: str, schema: pa.Schema, hints: dict | None):
    fmt = FORMATS[job.format]
    if output.remote:
        fs, _ = output.fs
        return fmt.open_remote_sink(fs, output.remote_path(name), schema, job.options, hints)
    path = output.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return fmt.open_sink(path, schema, job.options, hints)


# Rows a value-partitioned part holds back per worker (in units of row groups) before it writes
# every value's pending rows, whatever their number: bounds memory when there are many values.
PENDING_UNITS = 2


def _write_by_value(job: Job, output: Output, part: Part, key: PartitionKey) -> tuple[PartResult, ...]:
    """``part`` split by ``key``: a file ``<table>/<key>=<value>/part-NNNNN`` per value present.

    The part's rows are split one unit (row group) at a time; a value's rows wait until they fill
    whole row groups (or the pending rows of all values reach ``PENDING_UNITS`` row groups), so
    every decision falls on a unit boundary and the bytes depend on the rows alone.
    """
    fmt = FORMATS[job.format]
    hints = job.hints.get(part.table)
    unit = fmt.unit_rows(job.options, hints) or max(part.stop - part.start, 1)
    schema = job.model_def.table(part.table).schema
    drop = key.granularity is None and not fmt.partition_columns_in_files  # Hive: the value is in the path
    if drop:
        schema = schema.remove(schema.get_field_index(key.column))
        if hints and "dictionary" in hints:
            hints = {**hints, "dictionary": tuple(c for c in hints["dictionary"] if c != key.column)}
    ext = f"{fmt.extension}{job.options.suffix(fmt)}"
    pending: dict[str, list[pa.Table]] = {}
    counts: dict[str, int] = {}
    sinks: dict[str, Any] = {}
    written: dict[str, int] = {}  # rows per directory
    times = {"gen": 0.0, "enc": 0.0, "write": 0.0}

    def flush(directory: str, rows: int | None = None) -> None:
        data = pa.concat_tables(pending.pop(directory)).combine_chunks()
        if rows is not None and rows < len(data):  # whole row groups now, the rest waits
            pending[directory] = [data.slice(rows)]
            data = data.slice(0, rows)
        counts[directory] = sum(len(t) for t in pending.get(directory, []))
        written[directory] = written.get(directory, 0) + len(data)
        t0 = time.perf_counter()
        payload = fmt.encode(data.drop_columns([key.column]) if drop else data, True, job.options, hints)
        t1 = time.perf_counter()
        if directory not in sinks:
            if "%" in directory and not fmt.escaped_partition_values:
                raise GengoError(unescapable(part.table, key, fmt.name, directory))
            name = f"{part.table}/{directory}/part-{part.index:05d}.{ext}"
            _allow_open_files(len(sinks) + 1)
            sinks[directory] = _open_sink(job, output, name, schema, hints)
        sinks[directory].add(payload)
        times["enc"] += t1 - t0
        times["write"] += time.perf_counter() - t1

    try:
        for a in range(part.start, part.stop, part.chunk_rows):  # chunks start on unit boundaries
            b = min(a + part.chunk_rows, part.stop)
            t0 = time.perf_counter()
            data = generate(job, part.table, a, b)
            times["gen"] += time.perf_counter() - t0
            for u in range(0, len(data), unit):  # a loop over row groups and values, not rows
                for directory, rows in key.split(data.slice(u, unit), part.table):
                    pending.setdefault(directory, []).append(rows)
                    counts[directory] = counts.get(directory, 0) + len(rows)
                    if counts[directory] >= unit:
                        flush(directory, counts[directory] // unit * unit)
                if sum(counts.values()) >= PENDING_UNITS * unit:
                    for directory in sorted(pending):
                        flush(directory)
        for directory in sorted(pending):
            flush(directory)
        results = []
        t0 = time.perf_counter()
        for directory in sorted(sinks):
            sink = sinks[directory]
            size = sink.commit()
            name = f"{part.table}/{directory}/part-{part.index:05d}.{ext}"
            results.append((name, written[directory], size, sink.checksum()))
        times["write"] += time.perf_counter() - t0
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    host = socket.gethostname()
    out = []
    for i, (name, rows, size, digest) in enumerate(results):  # the part's timings on its first file
        g, e, w = (times["gen"], times["enc"], times["write"]) if i == 0 else (0.0, 0.0, 0.0)
        out.append(PartResult(part.table, part.index, name, rows, size, digest, g, e, w, host))
    return tuple(out)


def _allow_open_files(n: int) -> None:
    """Let this process hold ``n`` files open at once besides its others: a part split by value keeps
    a file per value open until it is complete (the soft limit is often 1024; raised up to the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def describe_failure(part: Part, output: Output, exc: BaseException) -> GengoError:
    if isinstance(exc, GengoError):
        return exc
    if isinstance(exc, OSError):
        where = exc.filename or output.join(part.name)
        return GengoError(f"cannot write {part.name} to '{where}': {exc.strerror or exc}")
    return GengoError(f"writing {part.name} (rows {part.start}..{part.stop}) failed: {exc!r}")


def run_local(
    job: Job, output: Output, parts: list[Part], workers: int
) -> Iterator[tuple[Part, tuple[PartResult, ...]]]:
    """Parts on the local process pool (or in this process for one worker), each with its files as it completes."""
    output = output.with_local_environment()
    tasks = [(job, output, part) for part in parts]
    with Pool(min(workers, max(len(parts), 1))) as pool:
        for task, result in pool.unordered(write_part, tasks, lambda task, exc: describe_failure(task[2], output, exc)):
            yield task[2], result
