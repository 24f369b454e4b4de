"""What makes change batches cheap without changing a byte.

Batch files' ``_ts`` (and history's ``valid_from``/``valid_to``) have microseconds: CSV and JSON
Lines write them from vocabularies as for whole seconds, exactly as ``strftime`` did (it was
two thirds of a CSV batch's encoding).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gengo.formats.text import iso_timestamps


def _strftime(arr: pa.Array) -> pa.Array:
    return pc.strftime(arr, format="%Y-%m-%dT%H:%M:%SZ", locale="C")


@pytest.mark.parametrize("tz", ["UTC", None])
@pytest.mark.parametrize(
    ("low", "high"),
    [
        (1_893_456_000 * 10**6, 1_893_456_000 * 10**6 + 30 * 86_400 * 10**6),  # the batches' days
        (-(10**12), 10**12),  # around 1970, negative instants included
        (-(10**17), 10**17),  # beyond years 1000-9999: strftime itself
    ],
)
def test_microsecond_timestamps_are_written_as_strftime_writes_them(tz, low: int, high: int) -> None:
    rng = np.random.default_rng(3)
    us = np.sort(rng.integers(low, high, 20_000))
    us[::5] = us[::5] // 10**6 * 10**6  # whole seconds among them: ".000000"
    arr = pa.array(us, pa.timestamp("us", tz=tz), mask=rng.random(len(us)) < 0.1)
    out = iso_timestamps(arr)
    assert out.equals(_strftime(arr))
    assert out.null_count == arr.null_count > 0


def test_other_units_and_zones_keep_strftime() -> None:
    for arr in (
        pa.array([1_893_456_000_123], pa.timestamp("ms", tz="UTC")),
        pa.array([1_893_456_000_123_456], pa.timestamp("us", tz="Europe/Paris")),
    ):
        assert iso_timestamps(arr).equals(_strftime(arr))
