"""Partitioned output: each task generates one part (a run of chunks) and writes it itself.

A part is a complete file (``<table>/part-00000.<ext>``): CSV parts each start with a header,
Parquet parts are valid files of whole row groups. The worker that generates a part's chunks
appends them to the part's sink (a temporary local file renamed into place, or a stream to an
object store made visible only when complete) and returns its rows, bytes and checksum; the
caller only plans, tracks progress and writes the manifest. The same task function runs in
the local process pool and on Dask workers, so both engines write identical bytes.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from gengo._version import __version__
from gengo.core.errors import GengoError
from gengo.engine.plan import Plan
from gengo.engine.pool import Pool
from gengo.engine.results import PartResult
from gengo.engine.worker import Job, produce, setup
from gengo.formats import FORMATS
from gengo.formats.storage import Output


@dataclass(frozen=True)
class Part:
    table: str
    index: int
    start: int
    stop: int
    chunk_rows: int
    name: str  # relative to the output root: <table>/part-00000.<ext>


def plan_parts(plan: Plan, skip: Collection[str] = ()) -> list[Part]:
    """Every part of the plan in plan order (largest tables first would not change the bytes)."""
    parts = []
    for t in plan.tables:
        for i, (a, b) in enumerate(plan.part_ranges(t)):
            name = plan.part_name(t.name, i)
            if name not in skip:
                parts.append(Part(t.name, i, a, b, t.chunk_rows, name))
    return parts


def write_part(job: Job, output: Output, part: Part, version: str = __version__) -> PartResult:
    """Generate ``part`` chunk by chunk and write it as one complete file. Runs in a worker."""
    if version != __version__:
        raise GengoError(
            f"a worker runs gengo {__version__}, the client {version}: install the same version everywhere"
        )
    setup(worker=True)  # Dask workers have no initializer
    fmt = FORMATS[job.format]
    hints = job.hints.get(part.table)
    schema = job.model_def.table(part.table).schema
    if output.remote:
        fs, _ = output.fs
        sink = fmt.open_remote_sink(fs, output.remote_path(part.name), schema, job.options, hints)
    else:
        path = output.path / part.name
        path.parent.mkdir(parents=True, exist_ok=True)
        sink = fmt.open_sink(path, schema, job.options, hints)
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
    return PartResult(
        part.table, part.index, part.name, part.stop - part.start, size, digest, gen, enc, write, socket.gethostname()
    )


def describe_failure(part: Part, output: Output, exc: BaseException) -> GengoError:
    if isinstance(exc, GengoError):
        return exc
    if isinstance(exc, OSError):
        where = exc.filename or output.join(part.name)
        return GengoError(f"cannot write {part.name} to '{where}': {exc.strerror or exc}")
    return GengoError(f"writing {part.name} (rows {part.start}..{part.stop}) failed: {exc!r}")


def run_local(job: Job, output: Output, parts: list[Part], workers: int) -> Iterator[PartResult]:
    """Parts on the local process pool (or in this process for one worker), yielded as they complete."""
    output = output.with_local_environment()
    tasks = [(job, output, part) for part in parts]
    with Pool(min(workers, max(len(parts), 1))) as pool:
        for _, result in pool.unordered(write_part, tasks, lambda task, exc: describe_failure(task[2], output, exc)):
            yield result
