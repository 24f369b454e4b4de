"""CSV: RFC 4180 (comma, double-quote quoting only where needed, quotes doubled), header row,
UTF-8, ``\\n`` line ends, ISO-8601 UTC timestamps (``2024-03-01T12:30:00Z``), decimals as
plain text. Encoding is polars' CSV writer, one thread per worker process.
"""

from __future__ import annotations

import io

import polars as pl
import pyarrow as pa

from gengo.formats.base import TextFormat
from gengo.formats.text import render_timestamps


class CsvFormat(TextFormat):
    name = "csv"
    extension = "csv"

    def encode_plain(self, table: pa.Table, first: bool) -> bytes | memoryview:
        buf = io.BytesIO()
        pl.from_arrow(render_timestamps(table)).write_csv(buf, include_header=first, quote_style="necessary")
        return buf.getbuffer()  # a view: no copy of the encoded chunk


CSV = CsvFormat()
