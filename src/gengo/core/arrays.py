"""Turning NumPy columns into typed Arrow arrays without per-row Python work."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import fmath


def decimal_from_units(units: np.ndarray, precision: int, scale: int, validity: pa.Buffer | None = None) -> pa.Array:
    """Decimal128 array from integers counted in units of 10**-scale (cents for scale 2), NULL
    where the ``validity`` bitmap (Arrow's: 1 = valid) says so.

    Built straight from the 16-byte little-endian two's-complement layout: no Python
    Decimal objects, no per-value formatting.
    """
    units = np.ascontiguousarray(units, dtype=np.int64)
    words = np.empty((len(units), 2), dtype=np.int64)
    fill = getattr(fmath.C, "decimal_units", None)
    if fill is not None:
        fill(units, words)
    else:
        words[:, 0] = units
        words[:, 1] = units >> 63  # sign extension
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(units), [validity, pa.py_buffer(words)])


def units_of_decimal(arr: pa.Array) -> np.ndarray:
    """The unscaled integers of a DECIMAL(p <= 18) array without nulls: each value's low 64-bit
    word (two's complement, so negatives too), read in place."""
    if arr.null_count or arr.type.precision > 18:
        raise ValueError("units_of_decimal: a DECIMAL(p <= 18) array without nulls")
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return words[2 * arr.offset : 2 * (arr.offset + len(arr)) : 2].copy()


def decimal_from_floats(values: np.ndarray, precision: int, scale: int) -> pa.Array | None:
    """Decimal128 array of floats rounded to ``scale`` decimals (half to even), or None where a value
    does not fit ``precision`` digits (or is NaN): the caller says which. One pass in C."""
    x = np.ascontiguousarray(values, dtype=np.float64)
    limit = min(10.0**precision, 2.0**63)
    if fmath.C is not None:
        words = np.empty(2 * len(x), dtype=np.int64)
        if fmath.C.decimal_words(x, words, float(10**scale), limit) >= 0:
            return None
        return pa.Array.from_buffers(pa.decimal128(precision, scale), len(x), [None, pa.py_buffer(words)])
    rounded = np.rint(x * 10**scale)
    if len(rounded) and not (-limit < rounded.min() and rounded.max() < limit):  # NaN fails it
        return None
    return decimal_from_units(rounded.astype(np.int64), precision, scale)


def timestamp_from_seconds(seconds: np.ndarray) -> pa.Array:
    """UTC timestamp (microsecond unit) from Unix seconds."""
    us = np.asarray(seconds, dtype=np.int64) * 1_000_000
    return pa.array(us, type=pa.timestamp("us", tz="UTC"))


def date_from_days(days: np.ndarray) -> pa.Array:
    """Date32 from days since 1970-01-01."""
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.date32())


def take(vocab: pa.Array, indices: np.ndarray) -> pa.Array:
    """Vocabulary values at ``indices``."""
    return vocab.take(pa.array(indices, type=pa.int64()))


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays (and literal strings) element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def to_text(values: np.ndarray) -> pa.Array:
    """Integers rendered as decimal strings."""
    return pc.cast(pa.array(values), pa.string())


def zero_pad(values: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded strings of ``width`` characters."""
    return pc.utf8_lpad(to_text(values), width=width, padding="0")
