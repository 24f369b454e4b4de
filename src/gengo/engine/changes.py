"""Change batches and as-of snapshots (``gen --batches N``, ``--as-of K``).

Everything here is a pure function of (seed, model, base counts, batch number), built from the
same counter-based streams as the base:

- **Inserts.** Batch b adds ``round(insert x base rows)`` rows to a table, ids continuing, and
  tables of children (fan-outs) grow with their parents. A row is generated with the counts
  after the batch that inserted it (``counts(b)``), so base rows keep their bytes and new rows
  may reference parents that arrived in the same batch.
- **Updates.** Row i's column c is redrawn in batch b when ``u(seed, table, c, b)[i] < rate``
  (the row existed before b and is not deleted in b); the new value is the column of the row
  regenerated with a seed keyed by the batch, so it follows the column's own strategy.
- **Deletes.** Row i is deleted in batch b when ``u(seed, table, b)[i] < rate``; models allow
  deletes only of rows nothing references, so every foreign key resolves in every snapshot.

A built-in model whose changes follow its own layout (the next trading session, visits booked a
week ahead, the next day's sales) replaces any of these with hooks (``TableChanges``: ``grow``,
``append``, ``pick``, ``drop``, ``revise``), functions of the same (seed, counts so far, batch).

A row has at most one event per batch (a delete wins over an update), so applying a batch's
events in any order gives the same state: ``base + batches 1..K == as-of K`` by construction.
``_ts`` places batch b's events on day b after ``EPOCH`` and files are sorted by it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import rand
from gengo.core.errors import GengoError
from gengo.core.rand import chosen
from gengo.core.schema import BatchContext, Model, Table, TableChanges
from gengo.formats import Format, WriteOptions
from gengo.formats.checksum import file_checksum

EPOCH = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # batch b happens on day b after this instant (UTC)
DAY_US = 86_400 * 10**6
BLOCK_ROWS = 1 << 18  # rows per generate call and per encoded block of an as-of table
OPS = ("insert", "update", "delete")
FILE_FORMATS = ("csv", "json", "parquet")
CHANGE_FORMATS = ("rows", "debezium")  # rows: the table's format plus _op, _batch, _ts


# Batch directories are numbered with six digits; a snapshot's work grows with the batches before
# it (every row's state is looked up batch by batch), so a mistyped count is refused, not run for hours.
MAX_BATCHES = 10_000


def describe(batches: int, as_of: int | None) -> str:
    """What a change run writes after its base, in words (progress lines, the manifest's pending)."""
    return f"the state after batch {as_of}" if as_of is not None else f"{batches} change batches"


def check(model: Model, fmt: Format, batches: int | None, as_of: int | None, partitioned: bool) -> int:
    """The number of batches to compute, after checking the options; refused with one line."""
    if batches is None and as_of is None:
        return 0
    if batches is not None and batches < 1:
        raise GengoError(f"invalid --batches {batches}: it must be >= 1")
    if as_of is not None and as_of < 0:
        raise GengoError(f"invalid --as-of {as_of}: it must be >= 0")
    for option, value in (("--batches", batches), ("--as-of", as_of)):
        if value is not None and value > MAX_BATCHES:
            raise GengoError(f"invalid {option} {value:,}: at most {MAX_BATCHES:,} change batches")
    if as_of is not None and batches is not None and as_of > batches:
        raise GengoError(f"--as-of {as_of} is beyond --batches {batches}")
    if not model.changes:
        raise GengoError(f"model {model.name} declares no changes (a 'changes:' section in a table of a model file)")
    if fmt.name == "delta" and as_of is not None:  # every batch is a version of the Delta tables
        raise GengoError("-f delta keeps each batch as a table version: give --batches K and read version K")
    if fmt.name != "delta" and (fmt.name not in FILE_FORMATS or partitioned):
        raise GengoError(
            f"--batches and --as-of write one file per table: -f {', '.join(FILE_FORMATS)}, no parts (or -f delta)"
        )
    n = as_of if batches is None else batches
    limit = _limit(model)
    if limit is not None and n > limit:
        raise GengoError(f"model {model.name} has room for at most {limit:,} change batches")
    return n


def _limit(model: Model) -> int | None:
    """The most batches every table's layout has room for (``TableChanges.limit``), None if unbounded."""
    limits = [ch.limit for ch in model.changes.values() if ch.limit is not None]
    return min(limits) if limits else None


class Changes:
    """The change history of one model at one seed and base counts."""

    def __init__(self, model: Model, seed: int, base: Mapping[str, int], batches: int) -> None:
        self.model, self.seed, self.batches = model, seed, batches
        self._redrawn: tuple | None = None  # ((table, batch), rows, their regenerated columns): the last redraw
        self.counts: list[dict[str, int]] = [dict(base)]
        for _ in range(batches):
            self.counts.append(self._next_counts(self.counts[-1]))

    def _next_counts(self, before: Mapping[str, int]) -> dict[str, int]:
        out = dict(before)
        for t, ch in self.model.changes.items():
            out[t] = before[t] + self._inserts(t, ch)
        if self.model.derive is not None:  # fan-outs follow their parents; nothing else is re-sized
            derived = self.model.derive(out, self.seed, pinned=tuple(out))
            own = {t for t, ch in self.model.changes.items() if ch.insert or ch.grow}
            out.update({t: n for t, n in derived.items() if t not in own})
        return out

    def _inserts(self, table: str, ch: TableChanges) -> int:
        """Rows the next batch inserts: the model's ``grow`` (it sees the batches before) or a share of the base."""
        if ch.grow is None:
            return round(ch.insert * self.counts[0][table])
        return int(ch.grow(BatchContext(self.seed, tuple(self.counts), len(self.counts), table)))

    def context(self, table: str, b: int) -> BatchContext:
        """What a model's hook sees of batch b: the counts up to it, never a later batch's."""
        return BatchContext(self.seed, tuple(self.counts[: b + 1]), b, table)

    def changing(self, table: str) -> bool:
        return any(c[table] != self.counts[0][table] for c in self.counts) or table in self.model.changes

    def _spec(self, table: str) -> TableChanges:
        return self.model.changes.get(table) or TableChanges()

    def _key(self, table: str, *names: object) -> np.uint64:
        return rand.stream_key(self.seed, table, "_changes", *map(str, names))

    def _u(self, table: str, idx: np.ndarray, *names: object) -> np.ndarray:
        return rand.uniform(self._key(table, *names), idx)

    def _below(self, table: str, idx: np.ndarray, rate: float, *names: object) -> np.ndarray:
        """Positions in ``idx`` (ascending) of the rows whose change of ``rate`` comes: every row for
        a share of 1 (a model's hook chooses), undrawn; a small share from draws per chosen row."""
        return chosen(self._key(table, *names), idx, rate)

    def _reach_rows(self, table: str, b: int) -> tuple[int, int]:
        """The rows [lo, hi) batch b may update or delete: the model's ``reach`` (a range of rows),
        else every row that existed before b."""
        hi, lo = self.counts[b - 1][table], 0
        reach = self._spec(table).reach
        if reach is not None:
            r_lo, r_hi = reach(self.context(table, b))
            lo, hi = max(lo, int(r_lo)), min(hi, int(r_hi))
        return lo, max(lo, hi)

    def _reach(self, table: str, idx: np.ndarray, b: int) -> tuple[int, int]:
        """The slice of ``idx`` (ascending) whose rows batch b may update or delete."""
        i, j = np.searchsorted(idx, self._reach_rows(table, b))
        return int(i), int(j)

    def sparse(self, table: str) -> bool:
        """Whether every change of ``table`` is a share drawn per chosen row or a pick that knows
        its rows (``among``), with no moves: then the rows a batch may change are found without
        listing the rows (``drawn``)."""
        spec = self._spec(table)
        shares = (share for column, share in spec.update.items() if column not in spec.among)
        return not spec.moves and all(share <= rand.SPARSE_SHARE for share in (spec.delete, *shares))

    def drawn(self, table: str, lo: int, hi: int, upto: int) -> np.ndarray:
        """For a ``sparse`` table: the rows of [lo, hi) that batches 1..upto draw for a delete or an
        update (ascending), a superset of the rows with an event after their insert."""
        spec = self._spec(table)
        parts = [np.zeros(0, dtype=np.int64)]
        for b in range(1, upto + 1):
            r_lo, r_hi = self._reach_rows(table, b)
            a, z = max(lo, r_lo), min(hi, r_hi)
            if a >= z:
                continue
            if spec.delete > 0:
                parts.append(rand.chosen_rows(self._key(table, "delete", b), a, z, spec.delete))
            hooks = set()
            for column, share in spec.update.items():
                hook = spec.among.get(column)
                if hook is None:
                    parts.append(rand.chosen_rows(self._key(table, "update", column, b), a, z, share))
                elif hook not in hooks:  # columns changed together share their hook
                    hooks.add(hook)
                    parts.append(np.asarray(hook(self.context(table, b), a, z), dtype=np.int64))
        return np.unique(np.concatenate(parts))

    def event_time(self, table: str, rows: np.ndarray, b: int) -> np.ndarray:
        """Event time (microseconds after ``EPOCH``) of rows' events in batch b, within its day: a
        row the batch inserts at its place among the batch's inserts (ids rise with time, as a
        sequence hands them out, so the inserts are in event order already), an older row's update
        or delete at a random instant."""
        u = self._u(table, rows, "ts", b)
        first = self.counts[b - 1][table]
        share = (rows - first + u) / max(self.counts[b][table] - first, 1)
        return (b - 1) * DAY_US + (np.where(rows >= first, share, u) * DAY_US).astype(np.int64)

    def _batch_seed(self, b: int) -> int:
        return int(rand.stream_key(self.seed, "_changes", "batch", str(b)))

    # --- row fates, vectorized over rows, looped over batches -----------------------------------

    def deleted_in(self, table: str, idx: np.ndarray, upto: int) -> np.ndarray:
        """The batch (1..upto) that deleted each row of ``idx`` (ascending), 0 if none did."""
        out = np.zeros(len(idx), dtype=np.int64)
        spec = self._spec(table)
        if spec.delete <= 0:
            return out
        for b in range(1, upto + 1):
            i, j = self._reach(table, idx, b)
            at = i + self._below(table, idx[i:j], spec.delete, "delete", b)
            at = self._allowed(spec.drop, table, b, idx, at[out[at] == 0])
            out[at] = b
        return out

    def _allowed(self, hook, table: str, b: int, idx: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Positions ``at`` narrowed by a model's pick or drop hook (asked only about those rows)."""
        if hook is None or len(at) == 0:
            return at
        return at[np.asarray(hook(self.context(table, b), idx[at]), dtype=bool)]

    def updated_at(self, table: str, column: str, idx: np.ndarray, b: int, deleted: np.ndarray) -> np.ndarray:
        """Positions in ``idx`` (ascending) of the rows whose ``column`` batch ``b`` redraws: alive
        before b and not deleted in or before b. Draws only for the rows the batch may reach."""
        spec = self._spec(table)
        i, j = self._reach(table, idx, b)
        at = i + self._below(table, idx[i:j], spec.update[column], "update", column, b)
        dead = deleted[at]
        return self._allowed(spec.pick.get(column), table, b, idx, at[(dead == 0) | (dead > b)])

    def updated_in(self, table: str, column: str, idx: np.ndarray, b: int, deleted: np.ndarray) -> np.ndarray:
        """``updated_at`` as a mask over ``idx``."""
        out = np.zeros(len(idx), dtype=bool)
        out[self.updated_at(table, column, idx, b, deleted)] = True
        return out

    # --- values --------------------------------------------------------------------------------

    def original(self, t: Table, idx: np.ndarray) -> pa.Table:
        """Rows ``idx`` (ascending) as inserted: each with the counts of the batch that inserted it."""
        sizes = np.array([c[t.name] for c in self.counts], dtype=np.int64)
        # idx ascending: idx[starts[b]:ends[b]] are the rows of the base (b = 0) or batch b inserted
        ends = np.searchsorted(idx, sizes)
        starts = np.concatenate([[0], ends[:-1]])
        parts = []
        for b in map(int, np.flatnonzero(ends > starts)):
            rows = idx[starts[b] : ends[b]]
            build = self._appended(t, b)
            for a in range(0, len(rows), BLOCK_ROWS):
                parts.append(t.generate(self.seed, self.counts[b], rows[a : a + BLOCK_ROWS], build))
        return pa.concat_tables(parts) if parts else t.schema.empty_table()

    def _appended(self, t: Table, b: int):
        """The build of the rows batch b inserts when the model has its own (``append``), else None."""
        append = self._spec(t.name).append
        if b == 0 or append is None:
            return None
        batch = self.context(t.name, b)
        return lambda ctx: append(ctx, batch)

    def state(self, t: Table, idx: np.ndarray, upto: int, deleted: np.ndarray) -> pa.Table:
        """Rows ``idx`` with every update of batches 1..upto applied."""
        data = self.original(t, idx)
        for b in range(1, upto + 1):
            for column in self._spec(t.name).update:
                hit = self.updated_in(t.name, column, idx, b, deleted)
                if hit.any():
                    data = self._apply(t, data, idx, hit, column, b)
        return data

    def _apply(self, t: Table, data: pa.Table, idx: np.ndarray, hit: np.ndarray, column: str, b: int) -> pa.Table:
        if column in self._spec(t.name).revise:
            return self._revise(t, data, idx, hit, column, b)
        moves = self._spec(t.name).moves.get(column)
        if moves is None:
            return self._redraw(t, data, idx, hit, column, b)
        old = data.column(column).combine_chunks()
        states = list(moves)
        code = pc.index_in(old, value_set=pa.array(states, type=old.type)).fill_null(-1).to_numpy(zero_copy_only=False)
        u = self._u(t.name, idx, "move", column, b)
        pick = np.full(len(idx), -1, dtype=np.int64)  # per row: index into ``targets`` below, -1 stays
        targets: list = []
        for i, value in enumerate(states):  # a loop over states, not rows
            here = hit & (code == i)
            if here.any():
                weights = np.cumsum([w for _, w in moves[value]], dtype=np.float64)
                step = np.searchsorted(weights / weights[-1], u[here], side="right")
                pick[here] = len(targets) + np.minimum(step, len(moves[value]) - 1)
            targets.extend(v for v, _ in moves[value])
        moved = pick >= 0  # the column is replaced even when nothing moved: one chunk, as a redraw leaves it
        new = pc.replace_with_mask(old, pa.array(moved), pa.array(targets, type=old.type).take(pa.array(pick[moved])))
        return data.set_column(data.schema.get_field_index(column), data.schema.field(column), new)

    def _redraw(self, t: Table, data: pa.Table, idx: np.ndarray, hit: np.ndarray, column: str, b: int) -> pa.Table:
        rows = idx[hit]
        last = self._redrawn
        if last is None or last[0] != (t.name, b) or not np.array_equal(last[1], rows):
            # Columns redrawn for the same rows (an address rewritten as a whole) share one generate.
            last = self._redrawn = ((t.name, b), rows, t.generate(self._batch_seed(b), self.counts[b], rows))
        return _merge(data, hit, column, last[2].column(column).combine_chunks())

    def _revise(self, t: Table, data: pa.Table, idx: np.ndarray, hit: np.ndarray, column: str, b: int) -> pa.Table:
        """The model's own new values of ``column`` for the rows hit, from the rows as they are."""
        fresh = self._spec(t.name).revise[column](self.context(t.name, b), data.filter(pa.array(hit)), idx[hit])
        if isinstance(fresh, pa.ChunkedArray):
            fresh = fresh.combine_chunks()
        fresh = fresh if isinstance(fresh, pa.Array) else pa.array(fresh, type=data.schema.field(column).type)
        return _merge(data, hit, column, fresh)

    # --- outputs -------------------------------------------------------------------------------

    def events(self, t: Table, b: int) -> tuple[pa.Table, pa.Table, np.ndarray, np.ndarray]:
        """Batch b of table t in event-time order: (rows after, rows before, op index, event time in
        microseconds after EPOCH). An insert has no row before, a delete none after (empty rows there)."""
        name = t.name
        before, after = self.counts[b - 1][name], self.counts[b][name]
        gone_l, cand_l, cand_deleted_l = [], [], []
        for a in range(0, before, BLOCK_ROWS):  # the existing rows' fates, a block at a time
            old = np.arange(a, min(a + BLOCK_ROWS, before), dtype=np.int64)
            deleted = self.deleted_in(name, old, b)
            gone_l.append(old[deleted == b])
            touched = np.zeros(len(old), dtype=bool)
            for column in self._spec(name).update:
                touched |= self.updated_in(name, column, old, b, deleted)
            cand_l.append(old[touched])
            cand_deleted_l.append(deleted[touched])
        empty = [np.zeros(0, dtype=np.int64)]
        gone = np.concatenate(gone_l + empty)
        cand, cand_deleted = np.concatenate(cand_l + empty), np.concatenate(cand_deleted_l + empty)
        now, was = self.state(t, cand, b, cand_deleted), self.state(t, cand, b - 1, cand_deleted)
        keep = pa.array(_differs(was, now, self._spec(name).update))
        inserted = np.arange(before, after, dtype=np.int64)
        new_rows = self.state(t, inserted, b, np.zeros(len(inserted), dtype=np.int64))
        gone_rows = self.state(t, gone, b - 1, np.zeros(len(gone), dtype=np.int64))  # the row as it was
        updated = cand[keep.to_numpy(zero_copy_only=False)]
        op = np.repeat(np.arange(3, dtype=np.int8), [len(inserted), len(updated), len(gone)])
        row = np.concatenate([inserted, updated, gone])
        ts = self.event_time(name, row, b)
        order = pa.array(np.lexsort((row, ts)))
        after_rows = pa.concat_tables([new_rows, now.filter(keep), gone_rows]).take(order)
        before_rows = pa.concat_tables([new_rows, was.filter(keep), gone_rows]).take(order)
        return after_rows, before_rows, op[order.to_numpy()], ts[order.to_numpy()]

    def batch(self, t: Table, b: int) -> pa.Table:
        """Batch b of table t: the changed rows (full columns) with _op, _batch and _ts, in event-time order.
        An update carries the row after the change, a delete the row as it was."""
        data, _, op, ts = self.events(t, b)
        return rows_file(data, op, ts, b)

    def debezium(self, t: Table, b: int, json_lines) -> bytes:
        """Batch b of table t as Debezium-style change events (see ``debezium_lines``)."""
        after, before, op, ts = self.events(t, b)
        return debezium_lines(self.model.name, t.name, b, after, before, op, ts, json_lines)

    def as_of_blocks(self, t: Table, k: int, step: int = BLOCK_ROWS):
        """The state of ``t`` after batch k, in key order, a block per ``step`` rows of ids."""
        n = self.counts[k][t.name]
        for a in range(0, n, step):
            idx = np.arange(a, min(a + step, n), dtype=np.int64)
            deleted = self.deleted_in(t.name, idx, k)
            live = idx[deleted == 0]
            yield self.state(t, live, k, np.zeros(len(live), dtype=np.int64))


def _merge(data: pa.Table, hit: np.ndarray, column: str, fresh: pa.Array) -> pa.Table:
    """``data`` with ``column`` replaced by ``fresh`` (one value per row hit, in row order) where hit."""
    pos = np.flatnonzero(hit)
    where = np.full(len(hit), -1, dtype=np.int64)
    where[pos] = np.arange(len(pos))
    old = data.column(column).combine_chunks()
    take = pa.array(np.where(where >= 0, where + len(old), np.arange(len(old))))
    merged = pa.concat_arrays([old, fresh.cast(old.type)]).take(take)
    return data.set_column(data.schema.get_field_index(column), data.schema.field(column), merged)


def movable(spec: TableChanges, data: pa.Table) -> np.ndarray:
    """Rows with a value that has a next state in one of ``spec.moves`` (the others never move)."""
    out = np.zeros(data.num_rows, dtype=bool)
    for column, moves in spec.moves.items():
        col = data.column(column)
        out |= pc.is_in(col, value_set=pa.array(list(moves), type=col.type)).to_numpy(zero_copy_only=False)
    return out


def rows_file(data: pa.Table, op: np.ndarray, ts: np.ndarray, b: int) -> pa.Table:
    """A batch file's table: the event rows (event-time order) plus _op, _batch and _ts."""
    data = data.append_column("_op", pa.array(OPS, type=pa.string()).take(pa.array(op)))
    data = data.append_column("_batch", pa.array(np.full(len(op), b, dtype=np.int32)))
    stamps = pa.array(ts + int(EPOCH.timestamp()) * 10**6, type=pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return data.append_column("_ts", stamps)


def debezium_lines(
    model: str, table: str, b: int, after: pa.Table, before: pa.Table, op: np.ndarray, ts: np.ndarray, json_lines
) -> bytes:
    """Change events, one JSON object a line: ``before``, ``after`` (rows as JSON Lines writes them,
    null where there is none), ``op`` (c, u, d), ``ts_ms`` and ``source`` (model, table, batch).
    Assembled column-wise, never row by row."""
    if len(op) == 0:
        return b""
    null = pa.scalar("null")
    after_json = pc.if_else(pa.array(op == 2), null, _json_rows(after, json_lines))
    before_json = pc.if_else(pa.array(op == 0), null, _json_rows(before, json_lines))
    ops = pa.array(np.array(["c", "u", "d"], dtype=object)[op], type=pa.string())
    ts_ms = pa.array((ts + int(EPOCH.timestamp()) * 10**6) // 1000).cast(pa.string())
    source = f',"source":{{"model":"{model}","table":"{table}","batch":{b}}}}}'
    joined = pc.binary_join_element_wise(
        '{"before":', before_json, ',"after":', after_json, ',"op":"', ops, '","ts_ms":', ts_ms, source, ""
    )
    return _lines(joined)


def _json_rows(data: pa.Table, json_lines) -> pa.Array:
    """One JSON object (text) per row, through the JSON Lines encoder."""
    text = bytes(json_lines.encode_plain(data, True)).decode()
    return pc.list_flatten(pc.split_pattern(pa.array([text.removesuffix("\n")]), "\n"))


def _lines(rows: pa.Array) -> bytes:
    """Rows of text as newline-terminated lines, joined by Arrow."""
    joined = pc.binary_join(pa.array([rows], type=pa.list_(pa.string())), "\n")[0].as_py()
    return (joined + "\n").encode()


def _differs(before: pa.Table, after: pa.Table, columns) -> np.ndarray:
    """Rows where any of ``columns`` changed (a redraw may land on the same value: no event then)."""
    out = np.zeros(before.num_rows, dtype=bool)
    for c in columns:
        a, z = before.column(c).combine_chunks(), after.column(c).combine_chunks()
        ne = pc.fill_null(pc.not_equal(a, z), False).to_numpy(zero_copy_only=False)
        out |= ne | (a.is_null().to_numpy(zero_copy_only=False) != z.is_null().to_numpy(zero_copy_only=False))
    return out


def write_table(
    fmt: Format, options: WriteOptions, path: Path, schema: pa.Schema, blocks, hints: dict | None = None
) -> tuple[int, int, str]:
    """Write blocks of one table through the format (``hints``: its encoding choices): (rows, bytes, blake3)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sink = fmt.open_sink(path, schema, options, hints)
    rows, first = 0, True
    try:
        for block in blocks:
            sink.add(fmt.encode(block, first, options, hints))
            rows += block.num_rows
            first = False
        if first:
            sink.add(fmt.encode(schema.empty_table(), True, options, hints))
        sink.commit()
    finally:
        sink.abort()
    return rows, path.stat().st_size, file_checksum(path)
