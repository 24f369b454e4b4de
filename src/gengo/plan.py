"""A plan: for one model, format and seed, the rows of every table split into chunks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from gengo import sizing
from gengo.errors import GengoError
from gengo.schema import Model
from gengo.writers import Format, WriteOptions

CHUNK_BYTES = 8 * 10**6  # encoded chunks of about this size keep NumPy's arrays near the CPU caches
MIN_CHUNK_ROWS = 16_384
MAX_CHUNK_ROWS = 1 << 18


@dataclass(frozen=True)
class TablePlan:
    name: str
    rows: int
    chunk_rows: int
    estimated_bytes: int
    hints: dict | None = None  # format-specific encoding choices (see Format.choose_hints)

    def chunks(self) -> Iterator[tuple[int, int]]:
        for start in range(0, self.rows, self.chunk_rows):
            yield start, min(start + self.chunk_rows, self.rows)

    @property
    def chunk_count(self) -> int:
        return -(-self.rows // self.chunk_rows)


@dataclass(frozen=True)
class Plan:
    model: Model
    fmt: Format
    seed: int
    target_bytes: int | None
    rows: dict[str, int]  # every table of the model: foreign keys refer to these ranges
    tables: tuple[TablePlan, ...]  # the tables to write
    options: WriteOptions = field(default_factory=WriteOptions)
    pins: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def estimated_bytes(self) -> int:
        return sum(t.estimated_bytes for t in self.tables)

    def file_name(self, table: str) -> str:
        if getattr(self.fmt, "database", False):  # one database file holds every table
            return f"{self.model.name}.{self.fmt.extension}"
        return f"{table}.{self.fmt.extension}{self.options.suffix(self.fmt)}"


def select_tables(model: Model, names: Sequence[str] | None) -> tuple[str, ...]:
    if not names:
        return model.table_names
    unknown = [n for n in names if n not in model.table_names]
    if unknown:
        raise GengoError(
            f"unknown table '{unknown[0]}' in --tables: tables of {model.name} are {', '.join(model.table_names)}"
        )
    wanted = set(names)
    return tuple(t for t in model.table_names if t in wanted)


def make_plan(
    model: Model,
    fmt: Format,
    target_bytes: int | None,
    seed: int,
    chunk_rows: int | None = None,
    pins: Mapping[str, int] | None = None,
    tables: Sequence[str] | None = None,
    options: WriteOptions | None = None,
) -> Plan:
    options = options or WriteOptions()
    options.check(fmt)
    selected = select_tables(model, tables)
    if getattr(fmt, "database", False):  # databases check foreign keys on load: parents first
        from gengo.ddl import ordered_tables

        selected = tuple(t.name for t in ordered_tables(model, selected))
    rows, est = sizing.resolve_rows(model, fmt, seed, target_bytes, pins, selected, options)
    plans = []
    for name in selected:
        e = est[name]
        if chunk_rows:
            size = chunk_rows
        else:
            size = int(CHUNK_BYTES / max(e.bytes_per_row, 1.0))
            size = min(max(size, MIN_CHUNK_ROWS), MAX_CHUNK_ROWS)
        unit = fmt.unit_rows(options, e.hints)
        if unit:  # chunks start on unit boundaries (row groups, compressed blocks)
            size = -(-size // unit) * unit if chunk_rows else unit * max(1, size // unit)
        plans.append(TablePlan(name, rows[name], max(1, size), e.total, e.hints))
    return Plan(model, fmt, seed, target_bytes, rows, tuple(plans), options, dict(pins or {}))
