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
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from gengo._version import __version__
from gengo.core.errors import GengoError
from gengo.engine.forkserver import forkserver_context
from gengo.engine.plan import Plan
from gengo.engine.tables import close_pool
from gengo.engine.tuning import keep_freed_memory
from gengo.formats.storage import Output


@dataclass(frozen=True)
class Part:
    table: str
    index: int
    start: int
    stop: int
    chunk_rows: int
    name: str  # relative to the output root: <table>/part-00000.<ext>


@dataclass(frozen=True)
class PartResult:
    table: str
    index: int
    name: str
    rows: int
    bytes: int
    checksum: str  # hex digest (gengo.formats.checksum)
    generate_seconds: float
    encode_seconds: float
    write_seconds: float
    host: str = ""


def plan_parts(plan: Plan, skip: Collection[str] = ()) -> list[Part]:
    """Every part of the plan in plan order (largest tables first would not change the bytes)."""
    parts = []
    for t in plan.tables:
        for i, (a, b) in enumerate(plan.part_ranges(t)):
            name = plan.part_name(t.name, i)
            if name not in skip:
                parts.append(Part(t.name, i, a, b, t.chunk_rows, name))
    return parts


_ready = False


def _setup() -> None:
    """Once per worker process (Dask workers have no initializer): one thread each, vocabularies built."""
    global _ready
    if _ready:
        return
    import pyarrow as pa

    from gengo.core import vocab

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    keep_freed_memory()  # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536: generation ran 5x slower
    vocab.warm_up()
    _ready = True


def write_part(job, output: Output, part: Part, version: str = __version__) -> PartResult:
    """Generate ``part`` chunk by chunk and write it as one complete file. Runs in a worker."""
    if version != __version__:
        raise GengoError(
            f"a worker runs gengo {__version__}, the client {version}: install the same version everywhere"
        )
    from gengo.engine.worker import generate
    from gengo.formats import FORMATS
    from gengo.models import MODELS

    _setup()
    fmt = FORMATS[job.format]
    hints = job.hints.get(part.table)
    schema = MODELS[job.model].table(part.table).schema
    if output.remote:
        from gengo.formats.remote import open_remote_sink

        fs, _ = output.fs
        sink = open_remote_sink(fs, output.remote_path(part.name), fmt, schema, job.options, hints)
    else:
        path = output.path / part.name
        path.parent.mkdir(parents=True, exist_ok=True)
        sink = fmt.open_sink(path, schema, job.options, hints)
    gen = enc = write = 0.0
    try:
        for a in range(part.start, part.stop, part.chunk_rows):  # chunks start on unit boundaries
            b = min(a + part.chunk_rows, part.stop)
            t0 = time.perf_counter()
            data = generate(job, part.table, a, b)
            t1 = time.perf_counter()
            payload = fmt.encode(data, a == part.start, job.options, hints)  # every part has its header
            t2 = time.perf_counter()
            sink.add(payload)
            gen, enc, write = gen + t1 - t0, enc + t2 - t1, write + time.perf_counter() - t2
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


def _worker_init() -> None:
    from gengo.engine.worker import init_worker

    init_worker()
    _setup()


def run_local(job, output: Output, parts: list[Part], workers: int) -> Iterator[PartResult]:
    """Parts on a local process pool (or in this process for one worker), yielded as they complete."""
    output = output.with_local_environment()
    if workers == 1 or len(parts) <= 1:
        for part in parts:
            try:
                yield write_part(job, output, part)
            except Exception as exc:
                raise describe_failure(part, output, exc) from exc
        return
    pool = ProcessPoolExecutor(min(workers, len(parts)), mp_context=forkserver_context(), initializer=_worker_init)
    ok = False
    try:
        pending: dict[Future, Part] = {pool.submit(write_part, job, output, p): p for p in parts}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                part = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    raise GengoError("a worker process died (killed by a signal or out of memory?)") from exc
                except Exception as exc:
                    raise describe_failure(part, output, exc) from exc
                yield result
        ok = True
    finally:
        close_pool(pool, abort=not ok)
