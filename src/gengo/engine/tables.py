"""The local executor: a pool of worker processes, results written in chunk order.

Tasks are (table, chunk) pairs taken in plan order. At most ``2 * workers + 1`` results are
in flight, so memory is bounded by a few chunks whatever the dataset size. Results are
consumed in submission order and appended to one file per table, which is why the output
does not depend on the number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

import numpy as np

from gengo.core.errors import GengoError
from gengo.engine.plan import Plan
from gengo.engine.pool import Pool
from gengo.engine.results import Progress, TableResult
from gengo.engine.spool import remove_spool, spool_directory
from gengo.engine.worker import Job, Spooled, run_chunk
from gengo.formats import Sink
from gengo.formats.base import add_spooled
from gengo.formats.checksum import file_checksum

Task = tuple[str, int, int]


def _describe(task: tuple, exc: BaseException) -> GengoError:
    _, table, start, stop, _ = task
    return GengoError(f"generating {table} rows {start}..{stop} failed: {exc!r}")


def execute(
    plan: Plan,
    out_dir: Path,
    workers: int,
    progress: Progress | None = None,
    skip: Collection[str] = (),
    moving: dict | None = None,
) -> list[TableResult]:
    """Run every chunk of ``plan`` and write one file per table into ``out_dir``.

    Tables in ``skip`` (already complete, when resuming) are neither generated nor written.
    Raises unless every other planned table was written in full: never a silent gap.
    ``moving``: filled with, per table with ``moves`` (``gen --batches``), the sorted row ids
    whose values can move.
    """
    todo = [t for t in plan.tables if t.name not in skip]
    hints = {t.name: t.hints for t in plan.tables}
    # Workers hand files' chunks over as spool files (see spool_directory).
    spool = spool_directory(out_dir) if workers > 1 and plan.fmt.spooled and out_dir.is_dir() else None
    job = Job.of(plan.model, plan.fmt.name, plan.seed, plan.rows, plan.options, hints, str(spool) if spool else None)
    if moving is not None:
        tracked = tuple(t.name for t in todo if (ch := plan.model.changes.get(t.name)) is not None and ch.moves)
        job = replace(job, moving=tracked)
        found: dict[str, list] = {name: [] for name in tracked}
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

    pool = Pool(workers)
    slots = list(range(pool.window + 1))  # spool files: one per task in flight, one for the chunk being appended

    def tasks():
        for t in todo:
            for a, b in t.chunks():
                submitted[(t.name, a)] = time.perf_counter()
                yield (job, t.name, a, b, slots.pop())

    submitted: dict[tuple[str, int], float] = {}
    ok = False
    try:
        for t in todo:
            if t.rows == 0:
                sinks[t.name] = open_sink(t.name)
                finish(t.name)
        for task, result in pool.ordered(run_chunk, tasks(), _describe):
            name = result.table
            first_submit.setdefault(name, submitted.pop((name, result.start)))
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
            if result.moving is not None:
                found[name].append(result.moving)
            delta = sink.bytes_written() - before
            stage = stages[name]
            stage[0] += result.generate_seconds
            stage[1] += result.encode_seconds
            stage[2] += time.perf_counter() - t0
            written[name] = written.get(name, 0) + delta
            if progress:
                progress.advance(name, result.rows, delta)
            slots.append(task[-1])  # the chunk is appended: its spool file can be reused
            remaining[name] -= 1
            if remaining[name] == 0:
                finish(name)
        unfinished = [t.name for t in todo if remaining[t.name] > 0 or t.name in sinks]
        if unfinished:
            raise GengoError(f"internal error: tables {', '.join(unfinished)} were not written in full")
        if moving is not None:  # chunks arrive in order: their row ids are sorted
            moving.update({name: np.concatenate([*ids, np.zeros(0, dtype=np.int64)]) for name, ids in found.items()})
        ok = True
    finally:
        for sink in sinks.values():
            sink.abort()
        pool.close(abort=not ok)
        if spool is not None:  # the spool files (and chunks never appended, if the run failed or was stopped)
            remove_spool(spool, out_dir)
    return results
