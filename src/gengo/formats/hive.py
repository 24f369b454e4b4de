"""``--partition-by``: Hive-style directories ``<table>/<key>=<value>/part-NNNNN.parquet``.

A table is partitioned by one column: an integer or string column by its value, a date by its
value or by ``day`` / ``month`` / ``year``, a timestamp by one of those three. A date part gets
its own key, ``<column>_<granularity>`` (the name Iceberg gives the partition field): a
``--partition-by fact_orders_header=order_timestamp:month`` table has directories
``order_timestamp_month=2024-03``. Days are ``2024-03-15``, months ``2024-03``, years ``2024``,
of the instant in UTC (as Iceberg's transforms). A null value (and an empty string, as Hive,
Spark and Delta read it) is ``__HIVE_DEFAULT_PARTITION__``; ``%``, ``/``, ``\\``, ``=``, control
characters and a leading ``.`` are written as ``%XX`` (DuckDB and pyarrow decode them). Iceberg
records each file's value in its metadata, from the file's own column: there an empty string has
its own directory, ``<key>=`` (as Iceberg's Java library names it), for a file that held both
would be recorded as the empty string's and lost to a reader asking for the nulls.

Files are made per part (a fixed row range of the table, see ``engine.parts``): the part's rows
are split by value unit by unit (a Parquet row group's rows), so the file of (part, value) holds
that value's rows in row order and its bytes depend only on the rows, never on chunks or workers.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core.errors import GengoError
from gengo.core.schema import Model

GRANULARITIES = ("day", "month", "year")
MAX_VALUES = 10_000  # distinct values in one row group's rows: more would mean files of a few rows each
NULL_DIR = "__HIVE_DEFAULT_PARTITION__"  # Hive's name for a null value (DuckDB, pyarrow, Spark, delta-rs)
FORMATS = ("parquet", "delta", "iceberg")
EMPTY_APART = ("iceberg",)  # formats whose files keep the column: "" and null in separate files
_ESCAPED = frozenset("%/\\=") | frozenset(chr(c) for c in (*range(0x20), 0x7F))
_MAX_NAME_BYTES = 200  # a directory name stays below the file systems' 255 bytes


@dataclass(frozen=True)
class PartitionKey:
    """How one table is partitioned: by ``column``'s value, or by its day, month or year."""

    column: str
    granularity: str | None = None  # None: by value
    empty_apart: bool = False  # an empty string in its own directory, not the nulls' (Iceberg)

    @property
    def key(self) -> str:
        """The directory key: the column, or ``<column>_<granularity>``."""
        return self.column if self.granularity is None else f"{self.column}_{self.granularity}"

    @property
    def spec(self) -> str:
        return self.column if self.granularity is None else f"{self.column}:{self.granularity}"

    def key_type(self, column_type: pa.DataType) -> pa.DataType:
        """The type of the key's values: the column's, a date for days, text for months, an integer for years."""
        return {None: column_type, "day": pa.date32(), "month": pa.string(), "year": pa.int32()}[self.granularity]

    def values(self, data: pa.Table) -> pa.Array:
        """The key of every row: the column, its day (date32), month (months since year 0) or year."""
        arr = data.column(self.column).combine_chunks()
        if self.granularity is None:
            return arr
        days = _days(arr)
        if self.granularity == "day":
            return days
        year = pc.year(days)
        if self.granularity == "year":
            return year
        return pc.add(pc.multiply(year, 12), pc.subtract(pc.month(days), 1))

    def directory(self, value: object) -> str:
        """``<key>=<value>`` for one key value (as ``values`` gives it, in Python)."""
        if value == "" and self.empty_apart:
            text = ""
        elif value is None or value == "":
            text = NULL_DIR
        elif self.granularity == "month":
            text = f"{value // 12:04d}-{value % 12 + 1:02d}"
        elif hasattr(value, "isoformat"):
            text = value.isoformat()
        else:
            text = escape(str(value))
        name = f"{self.key}={text}"
        if len(name.encode()) > _MAX_NAME_BYTES:
            raise GengoError(f"--partition-by {self.spec}: a value is too long for a directory name ({text[:40]}...)")
        return name

    def split(self, data: pa.Table, table: str) -> list[tuple[str, pa.Table]]:
        """``data``'s rows grouped by directory (sorted by name), each group in row order.

        Vectorized: one dictionary encoding and one stable sort; the loop is over distinct values.
        """
        encoded = pc.dictionary_encode(self.values(data))
        values = encoded.dictionary.to_pylist()
        if len(values) > MAX_VALUES:
            raise GengoError(too_many(table, self, len(values), len(data)))
        names = [self.directory(v) for v in values] + [self.directory(None)]
        groups = sorted(set(names))  # a null and an empty string share one directory (but in Iceberg)
        group_of = {n: i for i, n in enumerate(groups)}
        remap = np.array([group_of[n] for n in names], dtype=np.int64)
        codes = remap[encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)]
        counts = np.bincount(codes, minlength=len(groups))
        if len(groups) == 1:
            return [(groups[0], data)]
        ordered = data.take(pa.array(np.argsort(codes, kind="stable")))
        starts = np.concatenate([[0], np.cumsum(counts)])
        return [(groups[i], ordered.slice(int(starts[i]), int(counts[i]))) for i in range(len(groups)) if counts[i]]


def escape(text: str) -> str:
    """A value as a directory name: ``%XX`` for the characters a path or a Hive reader would misread."""
    out = "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in text)
    return "%2E" + out[1:] if out.startswith(".") else out


def too_many(table: str, key: PartitionKey, n: int, rows: int) -> str:
    return (
        f"cannot partition {table} by {key.spec}: {n:,} distinct values in {rows:,} rows (at most {MAX_VALUES:,}); "
        "choose a column with fewer values" + (" or a coarser granularity" if key.granularity else "")
    )


def unescapable(table: str, key: PartitionKey, fmt_name: str, directory: str) -> str:
    return (
        f"cannot partition {table} by {key.spec} as {fmt_name}: {directory} has a character written as %XX, "
        f"which {fmt_name} readers take literally; partition by another column or use -f parquet or iceberg"
    )


def _days(arr: pa.Array) -> pa.Array:
    """Dates (date32) of a date or timestamp array; a timestamp's date in UTC."""
    if pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.timestamp(arr.type.unit))  # the UTC instant, without the zone's local time
    return arr.cast(pa.date32())


def _kind(t: pa.DataType) -> str | None:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    return None


def parse(specs: Mapping[str, str] | Iterable[str] | None) -> dict[str, str]:
    """``{"table": "column[:granularity]"}`` from a mapping or ``TABLE=COLUMN[:G]`` strings."""
    if not specs:
        return {}
    if isinstance(specs, Mapping):
        items = [(str(k), str(v)) for k, v in specs.items()]
    else:
        items = []
        for spec in [specs] if isinstance(specs, str) else specs:
            table, sep, column = str(spec).partition("=")
            if not sep or not table.strip() or not column.strip():
                raise GengoError(f"invalid --partition-by '{spec}': use TABLE=COLUMN (or TABLE=COLUMN:month)")
            items.append((table, column))
    out: dict[str, str] = {}
    for table, column in items:
        table = table.strip()
        if table in out:
            raise GengoError(f"--partition-by names table {table} twice: a table is partitioned by one column")
        out[table] = column.strip()
    return out


def partition_keys(
    model: Model, fmt_name: str, specs: Mapping[str, str] | Iterable[str] | None, tables: Iterable[str]
) -> dict[str, PartitionKey]:
    """The checked ``--partition-by`` of a run writing ``tables`` of ``model`` as ``fmt_name``."""
    wanted = parse(specs)
    if not wanted:
        return {}
    if fmt_name not in FORMATS:
        raise GengoError(f"--partition-by applies to -f parquet, delta and iceberg, not {fmt_name}")
    written = set(tables)
    keys = {}
    for table, spec in wanted.items():
        if table not in model.table_names:
            hint = _did_you_mean(table, model.table_names)
            raise GengoError(
                f"unknown table '{table}' in --partition-by{hint}: tables of {model.name} are "
                f"{', '.join(model.table_names)}"
            )
        if table not in written:
            raise GengoError(f"--partition-by names {table}, which --tables leaves out")
        column, _, granularity = spec.partition(":")
        column, granularity = column.strip(), granularity.strip().lower() or None
        types = {c.name: c.type for c in model.table(table).columns}
        if column not in types:
            hint = _did_you_mean(column, list(types))
            raise GengoError(
                f"unknown column '{column}' of {table} in --partition-by{hint}: columns are {', '.join(types)}"
            )
        kind = _kind(types[column])
        if kind is None:
            raise GengoError(
                f"cannot partition {table} by {column}, a {types[column]} column: use a date, timestamp, integer "
                "or string column"
            )
        if granularity is not None and granularity not in GRANULARITIES:
            raise GengoError(
                f"invalid granularity '{granularity}' in --partition-by {table}={spec}: use day, month or year"
            )
        if granularity is not None and kind not in ("date", "timestamp"):
            raise GengoError(
                f"--partition-by {table}={spec}: :{granularity} applies to date and timestamp columns, "
                f"{column} is {types[column]}"
            )
        if granularity is None and kind == "timestamp":
            raise GengoError(f"--partition-by {table}={column}: a timestamp needs :day, :month or :year")
        keys[table] = PartitionKey(column, granularity, fmt_name in EMPTY_APART)
    return keys


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def to_json(keys: Mapping[str, PartitionKey]) -> dict[str, dict]:
    """The manifest's record: table -> {column, granularity, key}."""
    return {t: {"column": k.column, "granularity": k.granularity, "key": k.key} for t, k in sorted(keys.items())}
