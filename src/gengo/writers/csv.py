"""CSV: RFC 4180 (comma, double-quote quoting only where needed, quotes doubled), header row,
UTF-8, ``\\n`` line ends, ISO-8601 UTC timestamps (``2024-03-01T12:30:00Z``), decimals as
plain text. Encoding is polars' CSV writer, one thread per worker process.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pyarrow as pa

from gengo.writers.base import ByteSink
from gengo.writers.options import WriteOptions, compress_text

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class CsvFormat:
    name = "csv"
    extension = "csv"

    def encode(self, table: pa.Table, first: bool, options: WriteOptions) -> bytes:
        buf = io.BytesIO()
        pl.from_arrow(table).write_csv(
            buf, include_header=first, datetime_format=TIMESTAMP_FORMAT, quote_style="necessary"
        )
        return compress_text(buf.getvalue(), options.codec(self))

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions) -> ByteSink:
        return ByteSink(path, empty_payload=self.encode(schema.empty_table(), True, options))

    def file_bytes(self, table: pa.Table, options: WriteOptions) -> int:
        return len(self.encode(table, True, options))


CSV = CsvFormat()
