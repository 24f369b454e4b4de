"""Change batches, as-of snapshots and type-2 history, computed by the worker pool block by block.

``changes.Changes`` defines every batch (one table, one batch at a time: the reference). Here
the same values come from a walk that shares its work across batches: a task takes one block of
a table's row ids, generates each row it needs once (as inserted), then applies batches 1..N in
order, collecting each batch's events (inserts, updates that change a value, deletes) as it
goes; computing batch b alone would regenerate the rows and replay batches 1..b-1 again, for
every b. A second round of tasks, one per (table, batch), gathers that batch's events from every
block, puts them in event-time order and writes the batch file. Both rounds run on the pool that
generated the base (``engine.pool``), so batches use every worker.

Every value is the reference's: rows are generated and updated by the same row-indexed functions
(``Changes.original``, ``updated_in``, ``_apply``), only for a different set of rows at a time,
and (event time, row) orders a batch's events whatever the blocks. The bytes do not depend on the
workers (tests compare them with ``Changes.batch`` and across ``--workers``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gengo.core.errors import GengoError
from gengo.core.schema import Table
from gengo.engine import history as hist
from gengo.engine.changes import (
    BLOCK_ROWS,
    DAY_US,
    Changes,
    _differs,
    debezium_lines,
    movable,
    rows_file,
)
from gengo.engine.pool import Pool
from gengo.engine.worker import Job
from gengo.formats import FORMATS
from gengo.formats.base import TEMP_SUFFIX, ByteSink, TextFormat
from gengo.formats.checksum import file_checksum

# Rows per walk task. Batch files do not depend on it (a batch's events are put in event-time
# order whatever the blocks); history files are encoded a block at a time (Parquet row groups).
# A sparse table's walk lists only the rows its batches draw (a few per ten thousand), so its
# tasks take ranges this many times longer: a task's fixed cost is then shared by more events.
WALK_ROWS = BLOCK_ROWS
SPARSE_WALK = 16


def walk_step(ch: Changes, table: str, history: bool) -> int:
    """Rows per walk task of ``table``."""
    return WALK_ROWS * SPARSE_WALK if not history and ch.sparse(table) else WALK_ROWS


OP, TS = "__op", "__ts"  # event columns of the spooled blocks
BEFORE = "__before__."  # prefix of an updated column's value before the event (Debezium's before image)


@dataclass(frozen=True)
class ChangeJob:
    """What every change task depends on, small enough to send with each."""

    job: Job  # model, format, seed, base rows, options
    batches: int
    before: bool = False  # keep the before images of updates (Debezium)
    history: tuple[str, ...] = ()  # tables whose type-2 history is written

    def changes(self) -> Changes:
        """This process's ``Changes`` for the job (built once: counts per batch, the model)."""
        j = self.job
        key = (j.model, j.model_data, j.seed, tuple(sorted(j.rows.items())), self.batches)
        ch = _CHANGES.get(key)
        if ch is None:
            _CHANGES.clear()  # one run at a time per process
            ch = _CHANGES[key] = Changes(j.model_def, j.seed, j.rows, self.batches)
        return ch


_CHANGES: dict[tuple, Changes] = {}


# --- the walk: one block of rows through batches 1..upto ---------------------------------------


def _walk(ch: Changes, t: Table, rows: np.ndarray, deleted: np.ndarray, cur: pa.Table, upto: int):
    """For each batch b: (b, rows' state before b, after b, rows an update of b touched), from
    ``cur``, the rows' state as inserted. ``deleted``: the batch that deletes each row (0: none)."""
    spec = ch._spec(t.name)
    for b in range(1, upto + 1):
        was, touched = cur, np.zeros(len(rows), dtype=bool)
        for column in spec.update:
            hit = ch.updated_in(t.name, column, rows, b, deleted)
            if hit.any():
                cur = ch._apply(t, cur, rows, hit, column, b)
                touched |= hit
        yield b, was, cur, touched


@dataclass
class BlockResult:
    table: str
    start: int
    events: str | None  # spool file: each batch's events as record batches (None: no event in any batch)
    history: Any = None  # the block's history rows, encoded (tables in ``ChangeJob.history``)
    history_rows: int = 0
    counts: list[int] = field(default_factory=list)  # events per batch
    pieces: list[int] = field(default_factory=list)  # record batches per batch in ``events``


def walk_rows(ch: Changes, table: str, history: bool) -> tuple[int, int]:
    """The rows a walk must see, [lo, hi): a row's insert comes from its batch file's task
    (``gather``), so the walks are for the later events of rows, updates and deletes. A table
    whose rows never change (no update, no delete: fan-out children, append-only facts) has
    none, the rows the last batch inserts none after it, and rows out of every batch's ``reach``
    (the model's layout says which rows a batch may change) none; history wants every row."""
    spec = ch._spec(table)
    if history:
        return 0, ch.counts[-1][table]
    if not (spec.update or spec.delete > 0):
        return 0, 0
    if spec.reach is None:
        return 0, ch.counts[-2][table]
    spans = [spec.reach(ch.context(table, b)) for b in range(1, ch.batches + 1)]
    lo = max(0, min(int(a) for a, _ in spans))
    hi = min(ch.counts[-2][table], max(int(z) for _, z in spans))
    return (lo, hi) if lo < hi else (0, 0)


def _fates(
    ch: Changes, name: str, idx: np.ndarray, deleted: np.ndarray, upto: int, can_move: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(rows deleted, redrawn or revised in some batch; rows a move chose). With ``can_move``
    (the block's base rows whose values can move) a move's draw is taken for those rows and the
    inserted ones only: the others never move, and the draws are row-wise."""
    spec = ch._spec(name)
    eventful = deleted > 0
    moving = np.zeros(len(idx), dtype=bool)
    at = None
    if can_move is not None:
        at = np.concatenate([np.searchsorted(idx, can_move), np.flatnonzero(idx >= ch.counts[0][name])])
    for b in range(1, upto + 1):
        for column in spec.update:
            if column not in spec.moves:
                eventful[ch.updated_at(name, column, idx, b, deleted)] = True
            elif at is None:
                moving[ch.updated_at(name, column, idx, b, deleted)] = True
            elif len(at):
                moving[at[ch.updated_at(name, column, idx[at], b, deleted[at])]] = True
    return eventful, moving


def walk_block(
    cj: ChangeJob, table: str, start: int, stop: int, spool: str, can_move: np.ndarray | None = None
) -> BlockResult:
    """Task: rows [start, stop) of ``table`` through every batch; the events of rows that existed
    before the batch (updates, deletes) spooled in row order, history encoded. ``can_move``: the
    base rows of the block whose values can move, if the base run noted them (``changes.movable``
    of the rows it generated); else the rows a move chooses are generated to see."""
    ch = cj.changes()
    t = ch.model.table(table)
    name, counts, n = t.name, ch.counts, cj.batches
    keep_history = name in cj.history
    # The rows some batch may change: drawn directly for a sparse table, else every row of the block.
    sparse = not keep_history and ch.sparse(name)
    idx = ch.drawn(name, start, stop, n) if sparse else np.arange(start, stop, dtype=np.int64)
    deleted = ch.deleted_in(name, idx, n)
    spec = ch._spec(name)
    # Rows with an event after their insert: deleted, chosen by a redraw, or by a move (which only
    # a value with a next state makes; known once the row is generated). History wants every row.
    eventful, moving = _fates(ch, name, idx, deleted, n, can_move)
    needed = np.ones(len(idx), dtype=bool) if keep_history else eventful | moving
    rows, dead = idx[needed], deleted[needed]
    start_state = ch.original(t, rows)
    if not keep_history and moving.any():  # the rows a move chose but whose values never move: no event
        keep = eventful[needed] | (moving[needed] & movable(spec, start_state))
        rows, dead, start_state = rows[keep], dead[keep], start_state.filter(pa.array(keep))
    columns = list(spec.update)
    versions = hist.Versions(name, rows, counts[0][name]) if keep_history else None
    if versions is not None:
        versions.start(start_state)
    result = BlockResult(table, start, None, counts=[0] * n, pieces=[0] * n)
    writer = sink = None
    try:
        for b, was, cur, touched in _walk(ch, t, rows, dead, start_state, n):
            updated = touched & _differs(was.select(columns), cur.select(columns), columns) if columns else touched
            older = np.flatnonzero(updated | (dead == b))  # row order
            if versions is not None:
                lo, hi = np.searchsorted(rows, [counts[b - 1][name], counts[b][name]])
                inserted, gone = np.arange(lo, hi), np.flatnonzero(dead == b)
                take = np.concatenate([inserted, np.flatnonzero(updated), gone])
                versions.add(b, cur, inserted, np.flatnonzero(updated), gone, ch.event_time(name, rows[take], b))
            if len(older) == 0:
                continue
            # deleted rows are never touched in b: their state in ``cur`` is the one before b
            pick = pa.array(older)
            events = cur.take(pick).append_column(OP, pa.array(np.where(dead[older] == b, 2, 1).astype(np.int8)))
            events = events.append_column(TS, pa.array(ch.event_time(name, rows[older], b)))
            if cj.before:
                for column in columns:
                    events = events.append_column(BEFORE + column, was.column(column).take(pick))
            if writer is None:
                result.events = os.path.join(spool, f"{table}-{start}.arrow")
                sink = pa.OSFile(result.events, "wb")
                writer = pa.ipc.new_file(sink, events.schema)
            written = writer.stats.num_record_batches
            writer.write_table(events)
            result.counts[b - 1] = len(older)
            result.pieces[b - 1] = writer.stats.num_record_batches - written
    finally:
        if writer is not None:
            writer.close()
        if sink is not None:
            sink.close()
    if versions is not None:
        data = versions.table(t) if len(rows) else hist.schema(t).empty_table()
        fmt = FORMATS[cj.job.format]
        result.history = _payload(fmt.encode(data, start == 0, cj.job.options, None))
        result.history_rows = data.num_rows
    return result


def _payload(payload: Any) -> Any:
    return payload.tobytes() if isinstance(payload, memoryview) else payload


# --- batch files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileResult:
    table: str
    batch: int
    path: str
    rows: int
    bytes: int
    checksum: str | None


def event_order(ts: np.ndarray, b: int) -> np.ndarray:
    """The permutation putting batch b's events, given in row order, in (event time, row) order.

    Event times fall within the batch's day, under 2**37 microseconds after its start, so with
    fewer than 2**27 events (time, position) packs into one unsigned 64-bit key: one plain
    sort of the keys (vectorized, several times faster than a stable argsort) gives the order,
    ties in time going by position, that is by row. Larger batches take the lexicographic sort."""
    n = len(ts)
    rel = ts - (b - 1) * DAY_US
    if n >= 1 << _POS_BITS or (n and (rel.min() < 0 or rel.max() >= 1 << (64 - _POS_BITS))):
        return np.lexsort((np.arange(n), ts))
    key = (rel.astype(np.uint64) << np.uint64(_POS_BITS)) | np.arange(n, dtype=np.uint64)
    key.sort()
    return (key & np.uint64((1 << _POS_BITS) - 1)).astype(np.int64)


_POS_BITS = 27


def gather(
    cj: ChangeJob, t: Table, b: int, spooled: list[tuple[str, int, int]]
) -> tuple[pa.Table, pa.Table, np.ndarray, np.ndarray]:
    """Batch b of ``t``, as ``Changes.events`` returns it: the rows b inserts, generated here (as
    inserted: no batch has touched them yet), and the older rows' events from the blocks' spool
    files (path, first record batch of b, how many; in row order)."""
    ch = cj.changes()
    name, columns = t.name, list(ch._spec(t.name).update)
    parts = []
    for path, first, count in spooled:
        with pa.memory_map(path) as source:
            reader = pa.ipc.open_file(source)
            parts.extend(reader.get_batch(i) for i in range(first, first + count))
    rows = np.arange(ch.counts[b - 1][name], ch.counts[b][name], dtype=np.int64)
    inserted = ch.original(t, rows)
    inserted = inserted.append_column(OP, pa.array(np.zeros(len(rows), dtype=np.int8)))
    inserted = inserted.append_column(TS, pa.array(ch.event_time(name, rows, b)))
    if cj.before:  # an insert has no before image (Debezium writes null): any value of the type
        for column in columns:
            inserted = inserted.append_column(BEFORE + column, inserted.column(column))
    # Every older row comes before every inserted one, and the blocks and their events are in row
    # order: the events are in row order, and (event time, position) puts them in (event time, row) order.
    # The inserts alone are in that order already (``Changes.event_time``): no permutation of the rows.
    data = pa.concat_tables([pa.Table.from_batches(parts, schema=inserted.schema), inserted]) if parts else inserted
    ts = data.column(TS).to_numpy()
    if parts:
        order = event_order(ts, b)
        data, ts = data.take(pa.array(order)), ts[order]
    op = data.column(OP).to_numpy()
    after = data.select(t.schema.names)
    before = after
    for column in columns:
        if BEFORE + column in data.column_names:
            i = before.schema.get_field_index(column)
            before = before.set_column(i, before.schema.field(column), data.column(BEFORE + column))
    return after, before, op, ts


def batch_file(
    cj: ChangeJob, table: str, b: int, spooled: list[tuple[str, int, int]], path: str, kind: str
) -> FileResult:
    """Task: write batch b of ``table`` to ``path``: ``rows`` (the run's format plus _op, _batch,
    _ts), ``debezium`` (JSON Lines events) or ``postgres`` (CSV for COPY, no header)."""
    from gengo.formats.jsonl import JSONL

    ch = cj.changes()
    t = ch.model.table(table)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fmt = FORMATS[cj.job.format]
    if kind == "rows" and not spooled and isinstance(fmt, TextFormat):
        return _inserts_file(cj, t, b, target, fmt)
    after, before, op, ts = gather(cj, t, b, spooled)
    if kind == "debezium":
        text = debezium_lines(ch.model.name, table, b, after, before, op, ts, JSONL)
        target.write_bytes(text)
        return FileResult(table, b, path, text.count(b"\n"), len(text), file_checksum(target))
    data = rows_file(after, op, ts, b)
    if kind == "postgres":
        payload = FORMATS["postgres"].encode(data, False, cj.job.options)
        target.write_bytes(payload)
        return FileResult(table, b, path, data.num_rows, len(payload), None)
    hints = file_hints(cj.job.hints.get(table))
    if isinstance(fmt, TextFormat):
        # A block of rows at a time, as the base's chunks: the same bytes (rows encode alone,
        # compressed members are per 65,536 rows), and buffers the allocator reuses, where one
        # buffer for the whole file is fresh pages each time (a third of the encoding's time).
        payloads = (
            fmt.encode(data.slice(a, BLOCK_ROWS), a == 0, cj.job.options, hints)
            for a in range(0, max(data.num_rows, 1), BLOCK_ROWS)
        )
        sink = fmt.open_sink(target, data.schema, cj.job.options, hints)
    else:
        # One payload is the whole file: Parquet's sink, there to join payloads, would decode and
        # re-encode the footer for the same bytes (``changes.write_table`` goes through it; tests compare).
        payloads = iter([fmt.encode(data, True, cj.job.options, hints)])
        sink = ByteSink(target, fsync=cj.job.options.fsync) if fmt.name == "parquet" else None
        sink = sink or fmt.open_sink(target, data.schema, cj.job.options, hints)
    try:  # the digest taken as the bytes go out
        for payload in payloads:
            sink.add(payload)
        return FileResult(table, b, path, data.num_rows, *_commit(sink, target))
    finally:
        sink.abort()


def _inserts_file(cj: ChangeJob, t: Table, b: int, target: Path, fmt: TextFormat) -> FileResult:
    """A text batch file of inserts only (no older row has an event in b): generated, encoded and
    written a block at a time, as the base's chunks, since the inserts are in event order already
    (``Changes.event_time``); the bytes of ``gather``'s whole table."""
    ch = cj.changes()
    lo, hi = ch.counts[b - 1][t.name], ch.counts[b][t.name]
    none = np.zeros(0, dtype=np.int64)
    schema = rows_file(t.schema.empty_table(), none.astype(np.int8), none, b).schema
    sink = fmt.open_sink(target, schema, cj.job.options, None)
    try:
        for a in range(lo, max(hi, lo + 1), BLOCK_ROWS):
            rows = np.arange(a, min(a + BLOCK_ROWS, hi), dtype=np.int64)
            data = rows_file(
                ch.original(t, rows), np.zeros(len(rows), dtype=np.int8), ch.event_time(t.name, rows, b), b
            )
            sink.add(fmt.encode(data, a == lo, cj.job.options, None))
        return FileResult(t.name, b, str(target), hi - lo, *_commit(sink, target))
    finally:
        sink.abort()


def file_hints(hints: dict | None) -> dict | None:
    """A batch file's encoding choices: its table's in the base (Parquet: the dictionary columns,
    the row group size), with dictionaries for ``_op`` (three values) and ``_batch`` (one);
    without them Arrow tries a dictionary on every column, about half the encoding time."""
    if not hints or "dictionary" not in hints:
        return hints
    return {**hints, "dictionary": (*hints["dictionary"], "_op", "_batch")}


def _commit(sink, path: Path) -> tuple[int, str | None]:
    """Commit a sink: (bytes, BLAKE3 of the file: the sink's own, else read back; None for a database)."""
    size = sink.commit()
    digest = getattr(sink, "checksum", None)
    digest = digest() if callable(digest) else None
    if digest is None and Path(path).is_file():
        digest = file_checksum(path)
    return size, digest


# --- as-of snapshots ----------------------------------------------------------------------------


def as_of_block(cj: ChangeJob, table: str, start: int, stop: int, k: int) -> tuple[int, Any]:
    """Task: rows [start, stop) of ``table`` as they are after batch k (deleted rows left out),
    encoded in the job's format: (rows, payload)."""
    ch = cj.changes()
    t = ch.model.table(table)
    idx = np.arange(start, stop, dtype=np.int64)
    live = idx[ch.deleted_in(table, idx, k) == 0]
    data = ch.state(t, live, k, np.zeros(len(live), dtype=np.int64))
    fmt = FORMATS[cj.job.format]
    return data.num_rows, _payload(fmt.encode(data, start == 0, cj.job.options, cj.job.hints.get(table)))


def as_of_tasks(ch: Changes, cj: ChangeJob, tables: list[str], k: int) -> Iterator[tuple]:
    """The as-of tasks of ``tables`` in table and row order. A block is a row group of the base
    (Parquet: its rows and dictionary choices), so that ``--as-of 0`` writes the base's bytes."""
    fmt = FORMATS[cj.job.format]
    for name in tables:
        unit = fmt.unit_rows(cj.job.options, cj.job.hints.get(name))
        step = BLOCK_ROWS if unit is None else unit * max(1, BLOCK_ROWS // unit)  # whole units
        for a in range(0, ch.counts[k][name], step):
            yield (cj, name, a, min(a + step, ch.counts[k][name]), k)


def _describe(task: tuple, exc: BaseException) -> GengoError:
    return GengoError(f"computing the changes of {task[1]} failed: {exc!r}")


def _within(ids: np.ndarray | None, start: int, stop: int) -> np.ndarray | None:
    """The sorted ``ids`` in [start, stop)."""
    if ids is None:
        return None
    return ids[np.searchsorted(ids, start) : np.searchsorted(ids, stop)]


def run_batches(
    pool: Pool,
    cj: ChangeJob,
    tables: list[str],
    spool: Path,
    target,
    kind: str,
    history_sink=None,
    moving: dict | None = None,
) -> list[FileResult]:
    """Every batch file of ``tables``: the tables' blocks walked, and as soon as every block of a
    table is, one task per batch writing ``target(table, batch)`` (largest first), ahead of the
    walks left. History blocks go to ``history_sink(table, payload, rows)`` in key order.
    Returns the files in (batch, table) order."""
    ch = cj.changes()
    span = {name: walk_rows(ch, name, name in cj.history) for name in tables}
    step = {name: walk_step(ch, name, name in cj.history) for name in tables}
    moving = moving or {}
    walks = {
        name: [
            (cj, name, a, min(a + step[name], hi), str(spool), _within(moving.get(name), a, a + step[name]))
            for lo, hi in [span[name]]
            for a in range(lo, hi, step[name])
        ]
        for name in tables
    }
    left = {name: len(w) for name, w in walks.items()}
    spooled: dict[str, list[tuple[int, str, list[int]]]] = {name: [] for name in tables}
    events: dict[tuple[str, int], int] = {}
    history: dict[str, dict[int, tuple]] = {name: {} for name in tables}  # blocks waiting for earlier ones
    history_next = dict.fromkeys(tables, 0)  # the block whose history goes next
    unwritten = {name: cj.batches for name in tables}

    def files_of(name: str) -> list[tuple]:
        blocks = [(path, np.cumsum([0, *pieces]), pieces) for _, path, pieces in sorted(spooled[name])]  # row order
        tasks = [
            (
                cj,
                name,
                b,
                [(p, int(at[b - 1]), n[b - 1]) for p, at, n in blocks if n[b - 1]],
                str(target(name, b)),
                kind,
            )
            for b in range(1, cj.batches + 1)
        ]
        size = {
            b: events.get((name, b), 0) + ch.counts[b][name] - ch.counts[b - 1][name] for b in range(1, cj.batches + 1)
        }
        return [(batch_file, t) for t in sorted(tasks, key=lambda t: -size[t[2]])]

    def then(task: tuple, r) -> list[tuple]:
        if isinstance(r, FileResult):
            unwritten[r.table] -= 1
            if unwritten[r.table] == 0:  # the table's batches are written: its blocks' events can go
                for _, path, _ in spooled[r.table]:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
            return []
        if r.events is not None:
            spooled[r.table].append((r.start, r.events, r.pieces))
        for b, n in enumerate(r.counts, 1):
            events[(r.table, b)] = events.get((r.table, b), 0) + n
        if r.history is not None and history_sink is not None:
            waiting = history[r.table]
            waiting[r.start] = (r.history, r.history_rows)
            while history_next[r.table] in waiting:
                history_sink(r.table, *waiting.pop(history_next[r.table]))
                history_next[r.table] += step[r.table]
        left[r.table] -= 1
        return files_of(r.table) if left[r.table] == 0 else []

    first = [task for name in tables if not walks[name] for task in files_of(name)]  # no rows: empty batches
    first += [(walk_block, t) for name in tables for t in walks[name]]
    done = [r for _, r in pool.flow(first, then, _describe) if isinstance(r, FileResult)]
    order = {(name, b): (b, i) for i, name in enumerate(tables) for b in range(1, cj.batches + 1)}
    return sorted(done, key=lambda r: order[(r.table, r.batch)])


# --- the parent: a run's batches, snapshot and history ------------------------------------------


def write_files(
    p,
    out: Path,
    batches: int,
    as_of: int | None = None,
    change_format: str | None = None,
    workers: int | None = None,
    history: bool = False,
    moving: dict | None = None,
) -> dict:
    """After the base run of plan ``p`` into ``out``: batches 1..``batches`` into ``out/changes/``
    (and with ``history`` the type-2 tables into ``out/history/``), or with ``as_of`` the changing
    tables replaced by their state after that batch (the run's manifest updated, so ``verify``
    checks the snapshot). ``moving``: per table, the base rows whose values can move, as the base
    run noted them (``Run.moving``; without it the batches generate the rows to see). Returns the
    changes manifest."""
    import json
    import shutil

    from gengo.engine.changes import EPOCH, describe
    from gengo.engine.inputs import run_workers
    from gengo.engine.ledger import MANIFEST, mark_pending
    from gengo.engine.spool import remove_spool, spool_directory

    names = [t.name for t in p.tables]
    wanted = hist.history_tables(p.model, names) if history else []
    job = Job.of(p.model, p.fmt.name, p.seed, p.rows, p.options, {t.name: t.hints for t in p.tables})
    cj = ChangeJob(job, batches, before=change_format == "debezium", history=tuple(wanted))
    ch = cj.changes()
    changing = [n for n in names if ch.changing(n)]
    info: dict = {"batches": batches, "epoch": EPOCH.isoformat(), "counts": ch.counts}
    manifest = json.loads((out / MANIFEST).read_text())
    previous = out / "changes" / MANIFEST
    if previous.exists():  # a previous run's batches and history (--force allowed replacing its files)
        for h in json.loads(previous.read_text()).get("history", ()):
            with contextlib.suppress(OSError):
                (out / h["file"]).unlink()
        with contextlib.suppress(OSError):
            (out / "history").rmdir()  # only if nothing else is there
        shutil.rmtree(out / "changes")
    with Pool(run_workers(workers, p.estimated_bytes)) as pool:
        if as_of is not None:
            if manifest.get("complete") is True:  # a complete base (not ``prepare(changes=...)``'s): no longer
                manifest = mark_pending(out, describe(batches, as_of))
            entries = {e["table"]: e for e in manifest["tables"]}
            files = {n: out / entries[n]["file"] for n in changing}
            for name, rows, _, digest in write_as_of(pool, cj, changing, as_of, files.__getitem__, p.fmt):
                entries[name].update(rows=rows, bytes=files[name].stat().st_size, blake3=digest)
            manifest["total_rows"] = sum(e["rows"] for e in manifest["tables"])
            manifest["total_bytes"] = sum(e["bytes"] for e in manifest["tables"])
            manifest["as_of"] = {**info, "as_of": as_of, "changing": changing}
            (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            return manifest["as_of"]
        ext = ".jsonl" if change_format == "debezium" else p.file_name("x")[1:]
        info["change_format"] = change_format or "rows"
        sinks = _HistorySinks(p, out, wanted)
        # Listed before they are written: a later --force then finds the files of a run stopped
        # half way (killed, out of space) and removes them with the rest; the complete listing
        # replaces this one at the end.
        (out / "changes").mkdir(exist_ok=True)
        planned = {
            **info,
            "complete": False,
            "files": [{"file": f"changes/batch-{b:06d}/{n}{ext}"} for b in range(1, batches + 1) for n in changing],
            "history": [{"file": str(sinks.path(t).relative_to(out))} for t in wanted],
        }
        (out / "changes" / MANIFEST).write_text(json.dumps(planned, indent=2) + "\n")
        spool = spool_directory(out)
        try:
            done = run_batches(
                pool,
                cj,
                changing,
                spool,
                lambda name, b: out / f"changes/batch-{b:06d}/{name}{ext}",
                change_format or "rows",
                sinks.add,
                moving,
            )
            if wanted:
                info["history"] = sinks.commit()
        finally:
            sinks.abort()
            remove_spool(spool, out)
    info["files"] = [
        {"batch": r.batch, "table": r.table, "file": str(Path(r.path).relative_to(out)), "rows": r.rows}
        | {"bytes": r.bytes, "blake3": r.checksum}
        for r in done
    ]
    (out / "changes").mkdir(exist_ok=True)
    (out / "changes" / MANIFEST).write_text(json.dumps(info, indent=2) + "\n")
    return info


def remove_temporaries(out: Path) -> None:
    """After a failure or an interruption: the temporary files (``.<name>.gengo-tmp``) of the batch
    and history files, which a worker stopped mid-file leaves."""
    for d in ("changes", "history"):
        if (out / d).is_dir():
            for tmp in (out / d).rglob(f".*{TEMP_SUFFIX}"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


def write_as_of(pool: Pool, cj: ChangeJob, tables: list[str], k: int, path, fmt) -> Iterator[tuple]:
    """Each of ``tables`` written as it is after batch k to ``path(table)`` through ``fmt``'s
    sinks, blocks generated by the pool in order; yields (table, rows, bytes, BLAKE3 or None) as
    each is complete."""
    ch = cj.changes()
    schemas = {name: ch.model.table(name).schema for name in tables}
    sinks: dict[str, Any] = {}
    rows: dict[str, int] = {}
    try:
        for name in tables:
            if ch.counts[k][name] == 0:  # no block: one empty table, as ``changes.write_table`` writes it
                sink = _open(fmt, cj, path(name), schemas[name], name)
                sink.add(fmt.encode(schemas[name].empty_table(), True, cj.job.options, None))
                yield name, 0, *_commit(sink, path(name))
        for task, (n, payload) in pool.ordered(as_of_block, as_of_tasks(ch, cj, tables, k), _describe):
            name, stop = task[1], task[3]
            sink = sinks.get(name)
            if sink is None:
                sink = sinks[name] = _open(fmt, cj, path(name), schemas[name], name)
            sink.add(payload)
            rows[name] = rows.get(name, 0) + n
            if stop == ch.counts[k][name]:
                yield name, rows[name], *_commit(sinks.pop(name), path(name))
    finally:
        for sink in sinks.values():
            sink.abort()


def _open(fmt, cj: ChangeJob, path: Path, schema: pa.Schema, table: str):
    if not fmt.server:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return fmt.open_sink(Path(path), schema, cj.job.options, {"table": table} if fmt.server else None)


class _HistorySinks:
    """One sink per history table, fed the blocks' encoded history in key order."""

    def __init__(self, p, out: Path, tables: list[str]) -> None:
        self.p, self.out, self.tables = p, out, tables
        self.sinks: dict[str, Any] = {}
        self.rows = dict.fromkeys(tables, 0)

    def path(self, table: str) -> Path:
        return self.out / hist.file_name(table, self.p.file_name("x")[1:])

    def add(self, table: str, payload: Any, rows: int = 0) -> None:
        self.rows[table] += rows
        sink = self.sinks.get(table)
        if sink is None:
            self.path(table).parent.mkdir(parents=True, exist_ok=True)
            schema = hist.schema(self.p.model.table(table))
            sink = self.sinks[table] = self.p.fmt.open_sink(self.path(table), schema, self.p.options, None)
        sink.add(payload)

    def commit(self) -> list[dict]:
        out = []
        for table in self.tables:
            if table not in self.sinks:  # no row at all: an empty table
                empty = hist.schema(self.p.model.table(table)).empty_table()
                self.add(table, self.p.fmt.encode(empty, True, self.p.options, None))
            path = self.path(table)
            size, digest = _commit(self.sinks.pop(table), path)
            entry = {"table": table, "file": str(path.relative_to(self.out)), "rows": self.rows[table]}
            out.append(entry | {"bytes": size, "blake3": digest})
        return out

    def abort(self) -> None:
        for sink in self.sinks.values():
            sink.abort()
