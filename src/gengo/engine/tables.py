"""The local executor: a pool of worker processes, results written in chunk order.

Tasks are (table, chunk) pairs taken in plan order. At most ``2 * workers + 1`` results are
in flight, so memory is bounded by a few chunks whatever the dataset size. Results are
consumed in submission order and appended to one file per table, which is why the output
does not depend on the number of workers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gengo.core.errors import GengoError
from gengo.engine.forkserver import forkserver_context
from gengo.engine.plan import Plan
from gengo.engine.worker import ChunkResult, Job, Spooled, init_worker, run_chunk
from gengo.formats import Sink
from gengo.formats.base import SPOOL_PREFIX, TEMP_SUFFIX, add_spooled
from gengo.formats.checksum import file_checksum

SPOOLED_FORMATS = ("csv", "json", "parquet")
SHARED_MEMORY = Path("/dev/shm")
_SPOOL_DIR_PREFIX = "gengo-spool-"


def spool_directory(out_dir: Path) -> Path:
    """Where workers leave encoded chunks for the parent.

    A private directory in /dev/shm when there is one: memory-backed files cost a fraction of
    the CPU of the disk's page cache (on this project's machine 0.35 s against 2 s per GB), and
    each chunk then reaches the disk once, written by the parent. Otherwise the output
    directory itself. ``GENGO_SPOOL_DIR`` chooses another place. Directories left by runs
    that were killed are removed first.
    """
    base = Path(os.environ["GENGO_SPOOL_DIR"]) if os.environ.get("GENGO_SPOOL_DIR") else SHARED_MEMORY
    try:
        if base.is_dir() and os.access(base, os.W_OK) and shutil.disk_usage(base).free > 2**30:
            _remove_stale_spools(base)
            return Path(tempfile.mkdtemp(prefix=f"{_SPOOL_DIR_PREFIX}{os.getpid()}-", dir=base))
    except OSError:
        pass
    return out_dir


def _remove_stale_spools(base: Path) -> None:
    for d in base.glob(f"{_SPOOL_DIR_PREFIX}*-*"):
        pid = d.name[len(_SPOOL_DIR_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_spool(spool: Path, out_dir: Path) -> None:
    if spool != out_dir:
        shutil.rmtree(spool, ignore_errors=True)
        return
    for leftover in out_dir.glob(f"{SPOOL_PREFIX}*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            leftover.unlink()


Task = tuple[str, int, int]


@dataclass(frozen=True)
class TableResult:
    name: str
    path: Path
    rows: int
    bytes: int
    seconds: float  # wall clock from the first chunk's submission to the file's commit
    generate_seconds: float = 0.0  # summed over chunks, in the workers
    encode_seconds: float = 0.0  # summed over chunks, in the workers
    write_seconds: float = 0.0  # in the parent: appending payloads, Parquet encoding, fsync
    checksum: str | None = None  # hex digest of the file (gengo.formats.checksum; None for sinks that are not files)


class Progress(Protocol):
    def advance(self, table: str, rows: int, nbytes: int) -> None: ...

    def table_done(self, result: TableResult) -> None: ...


class _InProcess:
    """``--workers 1``: no subprocess at all."""

    def __init__(self) -> None:
        init_worker()

    def run(self, job: Job, tasks: Iterable[Task]) -> Iterator[tuple[ChunkResult, float]]:
        for task in tasks:
            submitted = time.perf_counter()
            yield run_chunk(job, *task), submitted

    def close(self, abort: bool) -> None:
        pass


def close_pool(pool: ProcessPoolExecutor, abort: bool) -> None:
    """Shut a pool down; with ``abort``, cancel queued work and end the workers now."""
    if abort:
        # shutdown() forgets the processes, so take them first.
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in procs:  # dead before the caller cleans up what they were writing
            with contextlib.suppress(Exception):
                proc.join(timeout=10)
    pool.shutdown(wait=True)


class _ProcessPool:
    def __init__(self, workers: int) -> None:
        ctx = forkserver_context()
        self.workers = workers
        self.pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_worker)

    def run(self, job: Job, tasks: Iterable[Task]) -> Iterator[tuple[ChunkResult, float]]:
        window: deque[tuple[Future, Task, float, int]] = deque()
        limit = 2 * self.workers + 1
        slots = list(range(limit + 1))  # spool files: one per task in flight, one for the result being appended
        it = iter(tasks)
        while True:
            while len(window) < limit:
                task = next(it, None)
                if task is None:
                    break
                slot = slots.pop()
                window.append((self.pool.submit(run_chunk, job, *task, slot), task, time.perf_counter(), slot))
            if not window:
                return
            future, task, submitted, slot = window.popleft()
            try:
                result = future.result()
            except BrokenProcessPool as exc:
                raise GengoError("a worker process died (killed by a signal or out of memory?)") from exc
            except GengoError:
                raise
            except Exception as exc:
                table, start, stop = task
                raise GengoError(f"generating {table} rows {start}..{stop} failed: {exc!r}") from exc
            yield result, submitted
            slots.append(slot)  # the caller has appended the chunk: its spool file can be reused

    def close(self, abort: bool) -> None:
        close_pool(self.pool, abort)


def execute(
    plan: Plan,
    out_dir: Path,
    workers: int,
    progress: Progress | None = None,
    skip: Collection[str] = (),
) -> list[TableResult]:
    """Run every chunk of ``plan`` and write one file per table into ``out_dir``.

    Tables in ``skip`` (already complete, when resuming) are neither generated nor written.
    Raises unless every other planned table was written in full: never a silent gap.
    """
    todo = [t for t in plan.tables if t.name not in skip]
    hints = {t.name: t.hints for t in plan.tables}
    # Workers hand files' chunks over as spool files (see spool_directory).
    spool = spool_directory(out_dir) if workers > 1 and plan.fmt.name in SPOOLED_FORMATS and out_dir.is_dir() else None
    job = Job(plan.model.name, plan.fmt.name, plan.seed, plan.rows, plan.options, hints, str(spool) if spool else None)
    schemas = {t.name: t.schema for t in plan.model.tables}
    remaining = {t.name: t.chunk_count for t in todo}
    rows_seen: dict[str, int] = {}
    sinks: dict[str, Sink] = {}
    written: dict[str, int] = {}
    first_submit: dict[str, float] = {}
    stages: dict[str, list[float]] = {t.name: [0.0, 0.0, 0.0] for t in plan.tables}
    results: list[TableResult] = []

    def io_error(name: str, exc: OSError) -> GengoError:
        path = exc.filename or (out_dir / plan.file_name(name))
        return GengoError(f"cannot write {name} to '{path}': {exc.strerror or exc}")

    def open_sink(name: str) -> Sink:
        try:
            return plan.fmt.open_sink(out_dir / plan.file_name(name), schemas[name], plan.options, hints[name])
        except OSError as exc:
            raise io_error(name, exc) from exc

    def finish(name: str) -> None:
        if rows_seen.get(name, 0) != plan.rows[name]:
            raise GengoError(f"{name}: {rows_seen.get(name, 0)} rows generated, {plan.rows[name]} planned")
        sink = sinks.pop(name)
        t0 = time.perf_counter()
        try:
            size = sink.commit()
        except OSError as exc:
            sinks[name] = sink  # aborted below: its temporary file is removed
            raise io_error(name, exc) from exc
        stages[name][2] += time.perf_counter() - t0
        path = out_dir / plan.file_name(name)
        digest = getattr(sink, "checksum", None)
        if callable(digest):
            digest = digest()
        if digest is None and path.is_file():
            digest = file_checksum(path)
        result = TableResult(
            name,
            path,
            plan.rows[name],
            size,
            time.perf_counter() - first_submit.get(name, time.perf_counter()),
            *stages[name],
            checksum=digest,
        )
        results.append(result)
        if progress:
            progress.advance(name, 0, size - written.get(name, 0))
            progress.table_done(result)

    executor = _InProcess() if workers == 1 else _ProcessPool(workers)
    ok = False
    try:
        for t in todo:
            if t.rows == 0:
                sinks[t.name] = open_sink(t.name)
                finish(t.name)
        tasks = [(t.name, a, b) for t in todo for a, b in t.chunks()]
        for result, submitted in executor.run(job, tasks):
            name = result.table
            first_submit.setdefault(name, submitted)
            sink = sinks.get(name)
            if sink is None:
                sink = sinks[name] = open_sink(name)
            before, t0 = sink.bytes_written(), time.perf_counter()
            try:
                if isinstance(result.payload, Spooled):
                    add_spooled(sink, result.payload.path, result.payload.size)
                else:
                    sink.add(result.payload)
            except OSError as exc:
                raise io_error(name, exc) from exc
            rows_seen[name] = rows_seen.get(name, 0) + result.rows
            delta = sink.bytes_written() - before
            stage = stages[name]
            stage[0] += result.generate_seconds
            stage[1] += result.encode_seconds
            stage[2] += time.perf_counter() - t0
            written[name] = written.get(name, 0) + delta
            if progress:
                progress.advance(name, result.rows, delta)
            remaining[name] -= 1
            if remaining[name] == 0:
                finish(name)
        unfinished = [t.name for t in todo if remaining[t.name] > 0 or t.name in sinks]
        if unfinished:
            raise GengoError(f"internal error: tables {', '.join(unfinished)} were not written in full")
        ok = True
    except BrokenProcessPool as exc:  # also raised by submit() once a worker has died
        raise GengoError("a worker process died (killed by a signal or out of memory?)") from exc
    finally:
        for sink in sinks.values():
            sink.abort()
        executor.close(abort=not ok)
        if spool is not None:  # the spool files (and chunks never appended, if the run failed or was stopped)
            _remove_spool(spool, out_dir)
    return results
