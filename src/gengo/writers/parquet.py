"""Parquet through Arrow's C++ writer: Snappy, int64 keys, DECIMAL money, TIMESTAMP(us, UTC).

Row groups always hold ``ROW_GROUP_ROWS`` rows (the last one fewer), whatever the chunk
size, so the file's bytes do not depend on how the work was split.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gengo.writers.base import temp_path
from gengo.writers.options import WriteOptions

ROW_GROUP_ROWS = 1 << 20


DICTIONARY_BUDGET = 512 * 1024  # bytes of distinct values per row group worth a dictionary


def writer_options(options: WriteOptions, hints: dict | None) -> dict:
    dictionary = list(hints["dictionary"]) if hints else True
    return {"compression": options.codec(PARQUET), "write_statistics": True, "use_dictionary": dictionary}


def dictionary_columns(sample: pa.Table, row_group_rows: int) -> tuple[str, ...]:
    """Columns whose distinct values in a full row group fit a small dictionary.

    Decided once per table from the calibration sample. Without it, Arrow tries a dictionary
    for every column and falls back to plain encoding once the dictionary page fills up:
    time lost on keys and other near-unique columns, and file sizes that a sample cannot
    predict.
    """
    n = max(len(sample), 1)
    chosen = []
    for name, column in zip(sample.column_names, sample.columns, strict=True):
        distinct = pc.count_distinct(column).as_py()
        projected = min(row_group_rows, distinct * max(1.0, row_group_rows / n))
        if distinct == n and n > 1000:
            continue  # unique in the sample: a key or free text
        width = column.nbytes / n
        if projected * width <= DICTIONARY_BUDGET:
            chosen.append(name)
    return tuple(chosen)


class ParquetSink:
    def __init__(self, path: Path, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> None:
        self.path = path
        self.tmp = temp_path(path)
        self.row_group_rows = options.row_group_rows or ROW_GROUP_ROWS
        self._file = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit/abort
        self._writer = pq.ParquetWriter(self._file, schema, **writer_options(options, hints))
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def add(self, payload: pa.Table) -> None:
        self._pending.append(payload)
        self._pending_rows += payload.num_rows
        while self._pending_rows >= self.row_group_rows:
            self._flush(self.row_group_rows)

    def bytes_written(self) -> int:
        return self._file.tell()

    def _flush(self, rows: int) -> None:
        table = pa.concat_tables(self._pending)
        # One contiguous chunk per column: page boundaries must not depend on how chunks arrived.
        self._writer.write_table(table.slice(0, rows).combine_chunks(), row_group_size=rows)
        rest = table.slice(rows)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def commit(self) -> int:
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._writer.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.tmp, self.path)
        return self.path.stat().st_size

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


class ParquetFormat:
    name = "parquet"
    extension = "parquet"

    def encode(self, table: pa.Table, first: bool, options: WriteOptions) -> pa.Table:
        return table

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> ParquetSink:
        return ParquetSink(path, schema, options, hints)

    def choose_hints(self, sample: pa.Table, options: WriteOptions) -> dict | None:
        return {"dictionary": dictionary_columns(sample, self.unit_rows(options))}

    def unit_rows(self, options: WriteOptions) -> int | None:
        return options.row_group_rows or ROW_GROUP_ROWS

    def file_bytes(self, table: pa.Table, options: WriteOptions, hints: dict | None) -> int:
        buf = pa.BufferOutputStream()
        rows = options.row_group_rows or ROW_GROUP_ROWS
        pq.write_table(table, buf, row_group_size=rows, **writer_options(options, hints))
        return buf.getvalue().size


PARQUET = ParquetFormat()
