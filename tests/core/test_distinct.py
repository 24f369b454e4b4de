"""Picks distinct within a parent: the C scan of repeats and the NumPy lags agree."""

from __future__ import annotations

import numpy as np
import pytest

from gengo.core import distinct, fmath, rand


def _picks(n: int, low: int, high: int, start: int, stop: int) -> np.ndarray:
    fan = rand.FanOut(rand.stream_key(5, "child", "fanout"), low, high)
    rows, parent, position, pick = distinct.widen(fan, np.arange(start, stop, dtype=np.int64))

    def draw(attempt: int, lines: np.ndarray) -> np.ndarray:
        return rand.integers(rand.stream_key(5, "child", "pick", str(attempt)), lines, 0, n - 1)

    return distinct.distinct_picks(draw, n, rows, parent, position)[pick], parent[pick]


@pytest.mark.skipif(fmath.C is None, reason="the C kernels are not built")
@pytest.mark.parametrize(
    ("n", "low", "high"),
    [(3, 1, 10), (10, 1, 10), (12, 0, 6), (1000, 1, 10), (2**61, 1, 4)],  # last: (parent, pick) overflows one int64
)
def test_c_scan_equals_numpy(monkeypatch: pytest.MonkeyPatch, n: int, low: int, high: int) -> None:
    with_c, parents = _picks(n, low, high, 1_000, 41_000)
    monkeypatch.setattr(fmath, "C", None)
    without_c, _ = _picks(n, low, high, 1_000, 41_000)
    assert np.array_equal(with_c, without_c)
    # Distinct within each parent while it has at most n children (a parent's rows are together).
    if n >= high:
        keys = parents.astype(object) * n + with_c.astype(object) if n > 2**31 else parents * n + with_c
        assert len(np.unique(keys)) == len(keys)


def test_repeats_kernel_looks_back_to_the_siblings_only() -> None:
    if fmath.C is None:
        pytest.skip("the C kernels are not built")
    pick = np.array([4, 4, 7, 4, 7, 1, 1], dtype=np.int64)
    position = np.array([0, 1, 0, 1, 2, 0, 1], dtype=np.int64)  # parents [4 4] [7 4 7] [1 1]
    out = np.zeros(len(pick), dtype=np.uint8)
    fmath.C.repeats(pick, position, out)
    assert out.tolist() == [0, 1, 0, 0, 1, 0, 1]
