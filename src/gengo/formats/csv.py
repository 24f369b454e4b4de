"""CSV: RFC 4180 (comma, double-quote quoting only where needed, quotes doubled), header row,
UTF-8, ``\\n`` line ends, ISO-8601 UTC timestamps (``2024-03-01T12:30:00Z``), decimals as
plain text. Encoding is ``textcodec``'s C row writer where it takes the chunk's columns,
else polars' CSV writer (one thread per worker process); both write the same bytes.
"""

from __future__ import annotations

import io

import pyarrow as pa

from gengo.formats import textcodec
from gengo.formats.base import TextFormat
from gengo.formats.text import render_timestamps


class CsvFormat(TextFormat):
    name = "csv"
    extension = "csv"

    def encode_plain(self, table: pa.Table, first: bool) -> bytes | memoryview:
        fast = textcodec.encode_csv(table, first)
        return fast if fast is not None else self.encode_polars(table, first)

    def encode_polars(self, table: pa.Table, first: bool) -> memoryview:
        """The reference encoding (and the fallback): polars' writer."""
        import polars as pl  # imported when needed: 85 ms of every command's start-up otherwise

        buf = io.BytesIO()
        pl.from_arrow(render_timestamps(table)).write_csv(buf, include_header=first, quote_style="necessary")
        return buf.getbuffer()  # a view: no copy of the encoded chunk


CSV = CsvFormat()
