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
    """A chunk's columns as the codec reads them: kinds, parameters, int64 values (column-major),
    validity bytes, and the string columns' bytes with int64 offsets into them."""

    def __init__(self, table: pa.Table, json: bool = False) -> None:
        n, ncols = len(table), table.num_columns
        self.kinds = np.empty(ncols, np.int64)
        self.params = np.zeros(ncols, np.int64)
        self.vals = np.empty((ncols, n), np.int64)  # string columns' rows are never read
        self.nullable = np.zeros(ncols, np.uint8)
        any_nulls = any(table.column(j).null_count for j in range(ncols))
        self.valid = np.ones((ncols, n if any_nulls else 1), np.uint8)
        strings: list[pa.Array] = []
        for j, field in enumerate(table.schema):
            arr = table.column(j).combine_chunks()
            kind, values = _column(arr, field.type)
            if kind == RAW:
                arr, values = _float_text(arr, json), None
                if arr.null_count and self.valid.shape[1] != n:
                    self.valid = np.ones((ncols, len(table)), np.uint8)  # JSON: NaN and infinities are null
            self.kinds[j] = TIMESTAMP if kind == TIMESTAMP_US else kind
            if kind in (STRING, RAW):
                self.params[j] = len(strings)
                strings.append(arr)
            else:
                self.params[j] = field.type.scale if kind == DECIMAL else int(kind == TIMESTAMP_US)
                self.vals[j] = values
            if arr.null_count:
                self.nullable[j] = 1
                self.valid[j] = _validity(arr)
        self.strings = len(strings)
        self.soff = np.zeros((len(strings), n + 1), np.int64)
        parts, base = [], 0
        for k, arr in enumerate(strings):
            width = np.dtype(np.int64 if pa.types.is_large_string(arr.type) else np.int32)
            offsets = np.frombuffer(arr.buffers()[1], width, n + 1, arr.offset * width.itemsize)
            start, stop = int(offsets[0]), int(offsets[-1])
            data = arr.buffers()[2]
            parts.append(np.frombuffer(data, np.uint8, stop - start, start) if stop > start else np.empty(0, np.uint8))
            self.soff[k] = offsets - start + base
            base += stop - start
        self.sdata = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else np.empty(0, np.uint8))
        self.string_bytes = base

    def bound(self, keys: int, string_factor: int) -> int:
        """Bytes the encoded rows can take at most: what the codec checks there is room for, row by row."""
        rows = self.vals.shape[1]
        per_row = len(self.kinds) * _FIELD_MAX + 2 + keys + 2 * self.strings
        return rows * per_row + string_factor * self.string_bytes


def _validity(arr: pa.Array) -> np.ndarray:
    """One byte per value, 1 where valid, unpacked from the array's bitmap (no Arrow boolean array in between)."""
    bits = np.frombuffer(arr.buffers()[0], np.uint8)
    start = arr.offset
    return np.unpackbits(bits[start // 8 : (start + len(arr) + 7) // 8 + 1], bitorder="little")[
        start % 8 : start % 8 + len(arr)
    ]


def _column(arr: pa.Array, t: pa.DataType) -> tuple[int, Any]:
    """(kind, int64 values) of one column (strings: None, read from the array's buffers).

    Values are views of the Arrow buffers where they can be: the slots of nulls hold whatever the
    buffer holds there, and the codec never reads them."""
    if pa.types.is_integer(t):
        if t == pa.uint64():
            raise Unsupported
        return INT, np.frombuffer(arr.buffers()[1], t.to_pandas_dtype(), len(arr), arr.offset * t.bit_width // 8)
    if pa.types.is_decimal(t):
        if not pa.types.is_decimal128(t) or t.precision > _MAX_DECIMAL_PRECISION or t.scale < 0:
            raise Unsupported
        words = np.frombuffer(arr.buffers()[1], np.int64, 2 * len(arr), arr.offset * 16)
        return DECIMAL, words[0::2]  # the low 64 bits: precision <= 15 fits; nulls never read
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
        return DATE, days
    if pa.types.is_boolean(t):
        return BOOL, np.asarray(arr.fill_null(False))
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
    end = c.csv_rows(p.kinds, p.params, p.vals, p.valid, p.nullable, p.soff, p.sdata, out, len(header))
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
    end = c.json_rows(p.kinds, p.params, p.vals, p.valid, p.nullable, p.soff, p.sdata, key_data, key_off, out)
    return memoryview(out[:end])


def json_keys(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """What ``json_rows`` writes before each field (``{"name":`` then ``,"name":``), as bytes and offsets."""
    keys = [(("{" if j == 0 else ",") + json.dumps(n, ensure_ascii=False) + ":").encode() for j, n in enumerate(names)]
    key_off = np.concatenate([[0], np.cumsum([len(k) for k in keys])]).astype(np.int64)
    return np.frombuffer(b"".join(keys), np.uint8), key_off
