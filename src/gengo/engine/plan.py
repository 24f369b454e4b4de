"""A plan: for one model, format and seed, the rows of every table split into chunks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from gengo.core.errors import GengoError
from gengo.core.schema import Model
from gengo.engine import sizing
from gengo.formats import Format, WriteOptions
from gengo.formats.ddl import ordered_tables
from gengo.formats.hive import PartitionKey

CHUNK_BYTES = 8 * 10**6  # encoded chunks of about this size keep NumPy's arrays near the CPU caches
MIN_CHUNK_ROWS = 16_384
MAX_CHUNK_ROWS = 1 << 18
PART_ALIGN_ROWS = 8192  # parts of formats without encoding units start on multiples of this


@dataclass(frozen=True)
class Partitioning:
    """Partitioned output: ``<table>/part-00000.<ext>``, ... instead of one file per table.

    ``parts``: at most this many parts per table; ``part_bytes``: parts of about this size
    (from the plan's estimate). A part is a run of whole encoding units (Parquet row groups,
    compressed-text blocks; multiples of ``PART_ALIGN_ROWS`` rows for plain text), so its bytes
    depend only on its row range, never on chunking or workers. Small tables get fewer parts.
    """

    parts: int | None = None
    part_bytes: int | None = None


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
    partitioning: Partitioning | None = None  # None: one file per table
    partition_by: Mapping[str, PartitionKey] = field(default_factory=dict)  # table -> Hive key (--partition-by)

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def estimated_bytes(self) -> int:
        return sum(t.estimated_bytes for t in self.tables)

    def file_name(self, table: str) -> str:
        if self.fmt.database:  # one database file holds every table
            return f"{self.model.name}.{self.fmt.extension}"
        return f"{table}.{self.fmt.extension}{self.options.suffix(self.fmt)}"

    def part_name(self, table: str, index: int) -> str:
        """``<table>/part-00000.<ext>``: Hive/Spark-style, read back as one table by a glob."""
        return f"{table}/part-{index:05d}.{self.fmt.extension}{self.options.suffix(self.fmt)}"

    def part_ranges(self, t: TablePlan) -> list[tuple[int, int]]:
        """Row ranges of ``t``'s parts: deterministic, from rows, units and the partitioning alone."""
        spec = self.partitioning or Partitioning(parts=1)
        align = self.fmt.unit_rows(self.options, t.hints) or PART_ALIGN_ROWS
        units = max(1, -(-t.rows // align))
        wanted = spec.parts if spec.parts else -(-t.estimated_bytes // max(spec.part_bytes or 1, 1))
        n = min(max(1, wanted), units)
        bounds = [min(t.rows, (k * units // n) * align) for k in range(n + 1)]
        return list(zip(bounds[:-1], bounds[1:], strict=True))


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
    threads: int = 1,
) -> Plan:
    options = options or WriteOptions()
    options.check(fmt)
    selected = select_tables(model, tables)
    if fmt.database:  # databases check foreign keys on load: parents first
        selected = tuple(t.name for t in ordered_tables(model, selected))
    rows, est = sizing.resolve_rows(model, fmt, seed, target_bytes, pins, selected, options, threads)
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
