"""Declarations shared by all models: columns, tables, models and the chunk context.

A model declares *what* is generated: its tables in dependency order, each column's Arrow
type and key role, one pure ``build`` function per table, and how row counts follow from a
single scale number. It never opens files, spawns processes or prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from gengo.core import rand


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    primary_key: bool = False
    references: str | None = None  # "table.column" of the parent key
    nullable: bool = False
    doc: str = ""


@dataclass(frozen=True)
class ChunkContext:
    """What a table's ``build`` function may depend on: seed, planned row counts, row indices."""

    seed: int
    rows: Mapping[str, int]
    table: str
    idx: np.ndarray  # 0-based row indices (int64), ascending

    def key(self, *names: str) -> np.uint64:
        """Stream key of a column (or sub-stream) of this table."""
        return rand.stream_key(self.seed, self.table, *names)

    def uniform(self, *names: str) -> np.ndarray:
        return rand.uniform(self.key(*names), self.idx)

    def integers(self, low: int, high: int, *names: str) -> np.ndarray:
        return rand.integers(self.key(*names), self.idx, low, high)

    @property
    def ids(self) -> np.ndarray:
        """1-based surrogate keys of the rows."""
        return self.idx + 1


BuildFn = Callable[[ChunkContext], Mapping[str, Any]]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    build: BuildFn
    doc: str = ""

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)

    @property
    def foreign_keys(self) -> tuple[tuple[str, str, str], ...]:
        """(column, parent table, parent column) for each reference."""
        out = []
        for c in self.columns:
            if c.references:
                parent, parent_col = c.references.split(".")
                out.append((c.name, parent, parent_col))
        return tuple(out)

    def generate(self, seed: int, rows: Mapping[str, int], idx: np.ndarray, build: BuildFn | None = None) -> pa.Table:
        """Build the rows ``idx`` of this table as an Arrow table with the declared schema (with
        ``build`` instead of the table's own: the rows a change batch inserts, ``TableChanges.append``)."""
        ctx = ChunkContext(seed=seed, rows=rows, table=self.name, idx=idx)
        data = (build or self.build)(ctx)
        arrays = []
        for col in self.columns:
            value = data[col.name]
            if isinstance(value, pa.ChunkedArray):
                value = value.combine_chunks()
            arr = value if isinstance(value, pa.Array) else pa.array(value, type=col.type)
            if arr.type != col.type:
                arr = arr.cast(col.type)
            if len(arr) != len(idx):
                raise AssertionError(f"{self.name}.{col.name}: {len(arr)} values for {len(idx)} rows")
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=self.schema)


@dataclass(frozen=True)
class Model:
    name: str
    aliases: tuple[str, ...]
    description: str
    tables: tuple[Table, ...]
    # scale (a positive int, the model's main fact count) and seed -> rows per table
    row_counts: Callable[[int, int], dict[str, int]]
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Recomputes the counts that follow from other tables (fan-outs) once ``--rows`` has
    # overridden some: derive(rows, seed, pinned=names overridden); None means overrides can only
    # steer the scale.
    derive: Callable[..., dict[str, int]] | None = None
    # One line about a plan's row counts worth printing (e.g. the TPC-DS scale factor).
    describe: Callable[[Mapping[str, int]], str] | None = None
    # A model read from a file: its path, text and SHA-256 (the text travels to workers and into
    # the manifest, so a dataset can be checked and resumed without the file at hand).
    file: Any = None
    # (seed, rows) -> {table: {defect: count}}: the pipeline-testing defects a run writes (manifest).
    quality_counts: Callable[[int, Mapping[str, int]], dict[str, dict[str, int]]] | None = None
    # Data checks over the written tables, run by the model contract suite.
    checks: tuple[Check, ...] = ()
    # How tables change from batch to batch (``gen --batches``): table -> TableChanges.
    changes: Mapping[str, TableChanges] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)


@dataclass(frozen=True)
class BatchContext:
    """What a model's change hook (``TableChanges``) may depend on: the seed, the row counts so far
    (``counts[0]`` the base, ``counts[i]`` after batch i, up to the batch itself; a hook sizing the
    batch sees only the batches before it), the batch number and the table. Never a later batch."""

    seed: int
    counts: Sequence[Mapping[str, int]]
    batch: int
    table: str

    def key(self, *names: str) -> np.uint64:
        """Stream key of a change of this table in this batch."""
        return rand.stream_key(self.seed, self.table, "_changes", *names, str(self.batch))

    def uniform(self, idx: np.ndarray, *names: str) -> np.ndarray:
        return rand.uniform(self.key(*names), idx)

    def chosen(self, idx: np.ndarray, p: float, *names: str) -> np.ndarray:
        """Which of ``idx`` (ascending) a change with probability ``p`` touches, a mask (``chosen``)."""
        return rand.chosen_mask(self.key(*names), idx, p)

    @property
    def base(self) -> Mapping[str, int]:
        return self.counts[0]


# (batch, rows) -> which of the rows (existing before the batch, ascending) the hook allows
PickFn = Callable[[BatchContext, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class TableChanges:
    """What each change batch does to one table (``gen --batches``), as shares of its base rows.

    ``insert``: new rows per batch (ids continue); ``update``: column -> share of the live rows
    whose value changes; ``delete``: share of the live rows deleted. An updated column is redrawn
    from its strategy, or with ``moves`` (column -> {value: ((next value, weight), ...)}) steps
    along a state machine (an order's status); a value with no moves stays. A model declares only
    changes that keep every foreign key resolving (deletes of rows nothing references, no updates
    of keys or references). Tables of children (fan-outs) grow with their parents instead.

    Built-in models whose changes follow their own layout (the next trading day, appointments
    booked a week ahead, sales of the next day) add hooks, each a pure function of the batch
    (``BatchContext``) and the row indices, evaluated row-wise (any subset gives the same answer
    per row):

    - ``grow(batch)``: rows the batch inserts, instead of ``insert`` x base rows;
    - ``append(ctx, batch)``: the columns of the inserted rows (a ``Table.build`` with the batch),
      instead of the table's own build with the counts after the batch;
    - ``pick[column](batch, rows)``: which rows the column's update may touch (then the share
      ``update[column]`` of them does); ``delete`` likewise with ``drop(batch, rows)``;
    - ``revise[column](batch, rows as they are, row indices)``: the column's new values, instead of
      a redraw or a move (a value equal to the old one is no event);
    - ``among[column](batch, lo, hi)``: the rows of [lo, hi) the column's ``pick`` may choose (a
      superset, ascending), when few are: the walk then lists only those, not every row;
    - ``reach(batch)``: the rows ``(lo, hi)`` the batch may update or delete (the rest are never
      drawn for nor shown to a hook), when a model's layout knows (visits booked in batches, the
      oldest sales days);
    - ``limit``: the most batches the model's layout has room for.

    A share below ``rand.SPARSE_SHARE`` is drawn per chosen row (``rand.sample``), not per row.
    """

    insert: float = 0.0
    update: Mapping[str, float] = field(default_factory=dict)
    delete: float = 0.0
    moves: Mapping[str, Mapping[Any, tuple[tuple[Any, float], ...]]] = field(default_factory=dict)
    grow: Callable[[BatchContext], int] | None = None
    append: Callable[[ChunkContext, BatchContext], Mapping[str, Any]] | None = None
    pick: Mapping[str, PickFn] = field(default_factory=dict)
    among: Mapping[str, Callable[[BatchContext, int, int], np.ndarray]] = field(default_factory=dict)
    drop: PickFn | None = None
    revise: Mapping[str, Callable[[BatchContext, pa.Table, np.ndarray], Any]] = field(default_factory=dict)
    reach: Callable[[BatchContext], tuple[int, int]] | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Check:
    """A data check: a DuckDB query over the model's tables (named as declared) that returns the
    violating rows, so no row means it holds. A statistical check returns one row per failed
    statistic, with a ``message`` column saying which and by how much. Instants are read in named
    zones (``timezone('UTC', ts)``), never in the session's time zone."""

    name: str
    sql: str
    doc: str = ""
