"""JSON Lines: one object per line, keys in column order, the same values as the CSV:
decimals as JSON numbers, timestamps as ISO-8601 UTC strings, dates as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pyarrow as pa

from gengo.writers.base import ByteSink
from gengo.writers.csv import TIMESTAMP_FORMAT
from gengo.writers.options import WriteOptions, compress_text


class JsonLinesFormat:
    name = "json"
    extension = "jsonl"

    def encode(self, table: pa.Table, first: bool, options: WriteOptions) -> bytes:
        df = pl.from_arrow(table)
        converted = []
        for name, dtype in df.schema.items():
            if isinstance(dtype, pl.Decimal):
                converted.append(pl.col(name).cast(pl.Float64))
            elif isinstance(dtype, pl.Datetime):
                converted.append(pl.col(name).dt.strftime(TIMESTAMP_FORMAT))
        if converted:
            df = df.with_columns(converted)
        buf = io.BytesIO()
        df.write_ndjson(buf)
        return compress_text(buf.getvalue(), options.codec(self)) if len(table) else b""

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions) -> ByteSink:
        return ByteSink(path)

    def file_bytes(self, table: pa.Table, options: WriteOptions) -> int:
        return len(self.encode(table, True, options))


JSONL = JsonLinesFormat()
