"""CSV and JSON Lines encoding in one pass over a chunk's rows: each field formatted straight into
one output buffer by a small C extension (``_textcodec.c``).

The bytes are exactly those of the polars writers in ``csv.py`` and ``jsonl.py``, which stay the
reference and the fallback: a chunk with a column kind the codec does not take (floats, lists,
timestamps with fractions of a second, dates outside years 1-9999, decimals wider than 15
digits...) goes to polars, and so does everything where the extension was not built (no C
compiler at install) or ``GENGO_TEXT_CODEC=0`` is set. ``tests/formats/test_textcodec.py``
compares the two on every model and on adversarial values.

Why not polars alone: its writers go through a generic row serializer, 9-12 ns per integer
field and 15-20 per decimal here, and its JSON writer more; a loop specialised to the column
kinds gengo writes formats integers and decimals from a two-digit table (no division by a
variable) and copies strings with one scan for the bytes that need quoting or escaping.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

INT, DECIMAL, STRING, TIMESTAMP, DATE, BOOL, RAW = range(7)
TIMESTAMP_US = 100  # a TIMESTAMP column with parameter 1: microseconds
_MAX_DECIMAL_PRECISION = 15  # unscaled values fit int64, and as JSON floats they print as written
_MAX_JSON_SCALE = 5  # polars prints 1e-6 and smaller in exponent form
_DAYS_0001 = -719_162  # 0001-01-01
_DAYS_10000 = 2_932_897  # 10000-01-01
_US = 1_000_000
_FIELD_MAX = 32  # as in _textcodec.c: the longest non-string field and its separator


@functools.cache
def codec() -> Any | None:
    """The C extension, or None (not built, or switched off with ``GENGO_TEXT_CODEC=0``)."""
    if os.environ.get("GENGO_TEXT_CODEC", "1").strip() == "0":
        return None
    try:  # by name: a C module, and ``from gengo.formats import`` would make an import cycle
        return importlib.import_module("gengo.formats._textcodec")
    except ImportError:
        return None


class Unsupported(Exception):
    """A column the codec does not format: the chunk goes to polars."""


class Packed:
    """A chunk's columns as the codec reads them: kinds, parameters, and per column its Arrow
    buffers as they are (``cols``: values, stride, validity bits and their offset, string offsets
    and bytes). Only what is not an int64 in Arrow is converted (narrow integers, timestamps,
    dates, booleans); int64 and Decimal128 values, validity and strings are read in place."""

    def __init__(self, table: pa.Table, json: bool = False) -> None:
        n, ncols = len(table), table.num_columns
        self.rows = n
        self.kinds = np.empty(ncols, np.int64)
        self.params = np.zeros(ncols, np.int64)
        cols = []
        self.strings = self.string_bytes = 0
        for j, field in enumerate(table.schema):
            column = table.column(j)
            # combine_chunks copies even a single chunk (a chunk's worth of memory per column)
            arr = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
            kind, values = _column(arr, field.type)
            if kind == RAW:
                arr = _float_text(arr, json)  # JSON: NaN and infinities are null
            self.kinds[j] = TIMESTAMP if kind == TIMESTAMP_US else kind
            bitmap = arr.buffers()[0] if arr.null_count else None
            if kind in (STRING, RAW):
                width = np.dtype(np.int64 if pa.types.is_large_string(arr.type) else np.int32)
                offsets = np.frombuffer(arr.buffers()[1], width, n + 1, arr.offset * width.itemsize)
                data = arr.buffers()[2]
                if data is None:  # every value empty or null
                    data = np.empty(0, np.uint8)
                self.strings += 1
                self.string_bytes += int(offsets[-1]) - int(offsets[0])
                cols.append((None, 1, bitmap, arr.offset, offsets, data))
            else:
                self.params[j] = field.type.scale if kind == DECIMAL else int(kind == TIMESTAMP_US)
                stride = 2 if kind == DECIMAL else 1
                cols.append((values, stride, bitmap, arr.offset, None, None))
        self.cols = tuple(cols)

    def bound(self, keys: int, string_factor: int) -> int:
        """Bytes the encoded rows can take at most: what the codec checks there is room for, row by row."""
        per_row = len(self.kinds) * _FIELD_MAX + 2 + keys + 2 * self.strings
        return self.rows * per_row + string_factor * self.string_bytes


def _column(arr: pa.Array, t: pa.DataType) -> tuple[int, Any]:
    """(kind, int64 values) of one column (strings: None, read from the array's buffers).

    Values are views of the Arrow buffers where they can be: the slots of nulls hold whatever the
    buffer holds there, and the codec never reads them."""
    if pa.types.is_integer(t):
        if t == pa.uint64():
            raise Unsupported
        values = np.frombuffer(arr.buffers()[1], t.to_pandas_dtype(), len(arr), arr.offset * t.bit_width // 8)
        return INT, values if values.dtype == np.int64 else values.astype(np.int64)
    if pa.types.is_decimal(t):
        if not pa.types.is_decimal128(t) or t.precision > _MAX_DECIMAL_PRECISION or t.scale < 0:
            raise Unsupported
        # Read every other word, the low 64 bits: precision <= 15 fits; nulls never read.
        return DECIMAL, np.frombuffer(arr.buffers()[1], np.int64, 2 * len(arr), arr.offset * 16)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return STRING, None
    if pa.types.is_timestamp(t):
        if t.unit == "ns" or t.tz not in (None, "UTC", "+00:00", "Z"):
            raise Unsupported
        us = arr.cast(pa.timestamp("us", tz=t.tz)).view(pa.int64()).fill_null(0).to_numpy()
        seconds = us // _US
        _check_days(seconds // 86_400)
        if (us - seconds * _US).any():  # a fraction anywhere: every value with six digits, as strftime
            if t.unit != "us":
                raise Unsupported  # strftime prints a millisecond column with three
            return TIMESTAMP_US, us
        return TIMESTAMP, seconds
    if pa.types.is_date32(t):
        days = arr.view(pa.int32()).fill_null(0).to_numpy()
        _check_days(days)
        return DATE, days.astype(np.int64)
    if pa.types.is_boolean(t):
        return BOOL, np.asarray(arr.fill_null(False)).astype(np.int64)
    if pa.types.is_floating(t) and not pa.types.is_float16(t):
        return RAW, None
    raise Unsupported


def _float_text(arr: pa.Array, json: bool) -> pa.Array:
    """Floats as polars' writers print them (its cast to text is the same shortest form); in
    JSON, as polars writes them, NaN and infinities are null."""
    import polars as pl

    if json:
        arr = pc.if_else(pc.is_finite(arr), arr, pa.nulls(len(arr), arr.type))
    return pl.from_arrow(arr).cast(pl.String).to_arrow().cast(pa.large_string())


def _check_days(days: np.ndarray) -> None:
    if len(days) and (int(days.min()) < _DAYS_0001 or int(days.max()) >= _DAYS_10000):
        raise Unsupported


def _csv_field(name: str) -> str:
    return f'"{name.replace(chr(34), chr(34) * 2)}"' if name == "" or any(c in name for c in ',"\n\r') else name


def encode_csv(table: pa.Table, first: bool) -> memoryview | None:
    """The chunk as CSV (with the header row if ``first``), or None: polars writes it."""
    c = codec()
    if c is None or table.num_columns == 0:
        return None
    header = (",".join(_csv_field(n) for n in table.column_names) + "\n").encode() if first else b""
    if len(table) == 0:
        return memoryview(header)
    try:
        p = Packed(table)
    except Unsupported:
        return None
    out = np.empty(len(header) + p.bound(0, 2), np.uint8)
    out[: len(header)] = np.frombuffer(header, np.uint8)
    end = c.csv_rows(p.kinds, p.params, p.rows, p.cols, out, len(header))
    return memoryview(out[:end])


def encode_json(table: pa.Table) -> memoryview | None:
    """The chunk as JSON Lines, or None: polars writes it."""
    c = codec()
    if c is None or table.num_columns == 0:
        return None
    if len(table) == 0:
        return memoryview(b"")
    if any(pa.types.is_decimal(t) and t.scale > _MAX_JSON_SCALE for t in table.schema.types):
        return None
    key_data, key_off = json_keys(table.column_names)
    try:
        p = Packed(table, json=True)
    except Unsupported:
        return None
    out = np.empty(p.bound(len(key_data), 6), np.uint8)
    end = c.json_rows(p.kinds, p.params, p.rows, p.cols, key_data, key_off, out)
    return memoryview(out[:end])


def json_keys(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """What ``json_rows`` writes before each field (``{"name":`` then ``,"name":``), as bytes and offsets."""
    keys = [(("{" if j == 0 else ",") + json.dumps(n, ensure_ascii=False) + ":").encode() for j, n in enumerate(names)]
    key_off = np.concatenate([[0], np.cumsum([len(k) for k in keys])]).astype(np.int64)
    return np.frombuffer(b"".join(keys), np.uint8), key_off
