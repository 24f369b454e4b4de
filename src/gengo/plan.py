"""A plan: for one model, format and seed, the rows of every table split into chunks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from gengo import sizing
from gengo.schema import Model
from gengo.writers import Format

CHUNK_BYTES = 24 * 10**6  # aim for encoded chunks of about this size
MIN_CHUNK_ROWS = 16_384
MAX_CHUNK_ROWS = 1 << 20


@dataclass(frozen=True)
class TablePlan:
    name: str
    rows: int
    chunk_rows: int
    estimated_bytes: int

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
    target_bytes: int
    tables: tuple[TablePlan, ...]
    estimated_bytes: int
    settings: dict = field(default_factory=dict)

    @property
    def rows(self) -> dict[str, int]:
        return {t.name: t.rows for t in self.tables}

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def file_name(self, table: str) -> str:
        return f"{table}.{self.fmt.extension}"


def make_plan(model: Model, fmt: Format, target_bytes: int, seed: int, chunk_rows: int | None = None) -> Plan:
    rows, est = sizing.rows_for_target(model, fmt, target_bytes, seed)
    tables = []
    for t in model.tables:
        e = est[t.name]
        if chunk_rows:
            size = chunk_rows
        else:
            size = int(CHUNK_BYTES / max(e.bytes_per_row, 1.0))
            size = min(max(size, MIN_CHUNK_ROWS), MAX_CHUNK_ROWS)
        tables.append(TablePlan(t.name, rows[t.name], max(1, size), e.total))
    return Plan(model, fmt, seed, target_bytes, tuple(tables), sum(t.estimated_bytes for t in tables))
