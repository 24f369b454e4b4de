"""Rendering values as text the same way in CSV and JSON Lines."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_US_PER_DAY = 86_400_000_000
# Years 1000-9999, where NumPy writes dates as strftime does (no sign, four digits).
_YEARS = (np.datetime64("1000-01-01", "D"), np.datetime64("9999-12-31", "D"))


@lru_cache(maxsize=1)
def _times_of_day() -> pa.Array:
    """``"HH:MM:SSZ"`` for each second of a day (built once per process)."""
    s = np.arange(86_400)
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    text = np.char.add(np.char.add(np.char.zfill(h.astype(str), 2), ":"), np.char.zfill(m.astype(str), 2))
    text = np.char.add(np.char.add(np.char.add(text, ":"), np.char.zfill(sec.astype(str), 2)), "Z")
    return pa.array(text.tolist(), pa.string())


def iso_timestamps(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """ISO-8601 UTC text (``2024-03-01T12:30:00Z``) for a timestamp array.

    Whole seconds are assembled from two small vocabularies (the days the chunk spans, the
    86,400 seconds of a day) by index, several times faster than formatting each value;
    timestamps with fractions of a second keep them (``...:00.250000Z``), microseconds from
    two more (their thousands and units) as ``strftime`` would write them.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    us_arr = arr.cast(pa.timestamp("us", tz=arr.type.tz)).view(pa.int64())
    us = us_arr.fill_null(0).to_numpy()
    if len(us) == 0:
        return pa.array([], pa.string())
    fraction = us % 1_000_000
    days = us // _US_PER_DAY
    first, last = np.array([days.min(), days.max()]).astype("datetime64[D]")
    if fraction.any() and not (
        arr.type.unit == "us" and arr.type.tz in (None, "UTC") and _YEARS[0] <= first <= last <= _YEARS[1]
    ):
        return pc.strftime(arr, format="%Y-%m-%dT%H:%M:%SZ", locale="C")
    seconds = (us - days * _US_PER_DAY) // 1_000_000
    span = np.arange(first, last + 1)
    dates = pa.array(np.char.add(np.datetime_as_string(span), "T").tolist(), pa.string())
    dates = dates.take(pa.array(days - days.min()))
    if fraction.any():  # microseconds, as strftime writes them (years 1000-9999, where the dates agree)
        hms, head, tail = _fractions()
        hms = hms.take(pa.array(seconds))
        parts = (dates, hms, head.take(pa.array(fraction // 1000)), tail.take(pa.array(fraction % 1000)))
        out = pc.binary_join_element_wise(*parts, "")
    else:
        out = pc.binary_join_element_wise(dates, _times_of_day().take(pa.array(seconds)), "")
    return pc.if_else(arr.is_valid(), out, pa.nulls(len(out), pa.string())) if arr.null_count else out


@lru_cache(maxsize=1)
def _fractions() -> tuple[pa.Array, pa.Array, pa.Array]:
    """``"HH:MM:SS"`` for each second of a day, then microseconds as text in two halves:
    ``".000"`` ... ``".999"`` and ``"000Z"`` ... ``"999Z"``."""
    digits = [f"{i:03d}" for i in range(1000)]
    times = pc.utf8_slice_codeunits(_times_of_day(), 0, 8)
    return times, pa.array(["." + d for d in digits], pa.string()), pa.array([d + "Z" for d in digits], pa.string())


def render_timestamps(table: pa.Table) -> pa.Table:
    """The table with every timestamp column replaced by its ISO-8601 text."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, iso_timestamps(table.column(i)))
    return table
