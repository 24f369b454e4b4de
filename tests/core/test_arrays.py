"""NumPy columns to Arrow arrays: decimals from floats, in C and in NumPy alike."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from gengo.core import arrays, fmath


def _values() -> np.ndarray:
    rng = np.random.default_rng(7)
    halves = np.arange(-20, 21) / 200  # x.xx5: ties, rounded half to even as np.rint rounds
    return np.concatenate([rng.uniform(-1e6, 1e6, 5000), rng.lognormal(3, 2, 5000), halves, [0.0, -0.0, -0.004]])


@pytest.mark.parametrize("kernels", [True, False], ids=["c", "numpy"])
def test_decimals_from_floats_are_the_rounded_values(monkeypatch, kernels):
    if kernels and fmath.C is None:
        pytest.skip("the C kernels are not built")
    if not kernels:
        monkeypatch.setattr(fmath, "C", None)
    x = _values()
    arr = arrays.decimal_from_floats(x, 18, 2)
    assert arr.type == pa.decimal128(18, 2)
    units = np.rint(x * 100).astype(np.int64)
    assert arr.equals(arrays.decimal_from_units(units, 18, 2))
    assert arr[0].as_py() == Decimal(int(units[0])).scaleb(-2)


@pytest.mark.parametrize("kernels", [True, False], ids=["c", "numpy"])
@pytest.mark.parametrize("bad", [np.nan, 1e4, -1e4, 9999.995, np.inf])
def test_a_value_that_does_not_fit_gives_none(monkeypatch, kernels, bad):
    if kernels and fmath.C is None:
        pytest.skip("the C kernels are not built")
    if not kernels:
        monkeypatch.setattr(fmath, "C", None)
    x = np.array([1.25, 3.5, bad, 2.0])
    assert arrays.decimal_from_floats(x, 6, 2) is None  # 6 digits: |units| < 10**6
    assert arrays.decimal_from_floats(x[:2], 6, 2).to_pylist() == [Decimal("1.25"), Decimal("3.50")]
    assert arrays.decimal_from_floats(np.array([9999.994]), 6, 2).to_pylist() == [Decimal("9999.99")]


@pytest.mark.parametrize("kernels", [True, False], ids=["c", "numpy"])
def test_decimals_from_units_are_the_values(monkeypatch, kernels):
    if kernels and fmath.C is None:
        pytest.skip("the C kernels are not built")
    if not kernels:
        monkeypatch.setattr(fmath, "C", None)
    units = np.array([0, 1, -1, 12_345, -99_999, 2**62, -(2**62), 2**63 - 1, -(2**63)], dtype=np.int64)
    arr = arrays.decimal_from_units(units[::-1][::-1], 38, 2)  # a view: made contiguous first
    assert arr.to_pylist() == [Decimal(int(u)).scaleb(-2) for u in units]
