"""What an importer reads from a source: tables, columns, keys and statistics, source-neutral.

Every reader (a DDL file, a live PostgreSQL, a SQLite or DuckDB file) fills these; the mapper
turns them into a model file. Types are sqlglot ``DataType`` nodes, so one mapping serves every
dialect; enum labels come with the column because a type name alone does not carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp


@dataclass
class ColumnStats:
    """Catalog statistics of one column (pg_stats), or what ``--sample-rows`` measured."""

    null_frac: float | None = None
    n_distinct: float | None = None  # > 0: distinct values; < 0: minus the share of rows (PostgreSQL's convention)
    common_values: list[str] | None = None  # most common values, as text
    common_freqs: list[float] | None = None
    bounds: list[str] | None = None  # histogram bounds (first the minimum, last the maximum), as text


@dataclass
class SourceColumn:
    name: str
    type: exp.DataType
    type_text: str  # as the source writes it, for the comment in the model file
    nullable: bool = True
    enum: list[str] | None = None  # labels of an enum type
    stats: ColumnStats | None = None


@dataclass
class ForeignKey:
    columns: list[str]
    table: str
    ref_columns: list[str]  # empty: the referenced table's primary key


@dataclass
class SourceTable:
    name: str
    columns: list[SourceColumn]
    primary_key: list[str] = field(default_factory=list)
    uniques: list[list[str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[exp.Expression] = field(default_factory=list)
    rows: float | None = None  # row count (estimate) when statistics were asked for
    sample: list[dict[str, Any]] | None = None  # rows read with --sample-rows

    def column(self, name: str) -> SourceColumn | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None


@dataclass
class SourceSchema:
    """A source's tables, in the order the source lists them."""

    description: str  # where it came from, without any password ("postgresql://u@h:5432/db, schema public")
    dialect: str  # sqlglot dialect of type and CHECK texts
    tables: list[SourceTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader skipped

    def table(self, name: str) -> SourceTable | None:
        for t in self.tables:
            if t.name == name:
                return t
        return None
