"""Host-independent float math: the C kernels and the NumPy formulas agree bit for bit, and both
are within a few units in the last place of NumPy's functions."""

from __future__ import annotations

import numpy as np
import pytest

from gengo.core import fmath

pytestmark = pytest.mark.skipif(fmath.C is None, reason="the C kernels were not built")


def _values(seed: int, n: int = 200_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spread = rng.uniform(-1, 1, n) * np.exp2(rng.integers(-60, 60, n).astype(np.float64))
    special = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, np.inf, -np.inf, np.nan, 1e-310, 5e-324, 1e308, 709.7, -745.0])
    near_one = 1.0 + rng.uniform(-1e-6, 1e-6, 1000)
    return np.concatenate([spread, special, near_one, rng.uniform(0, 1, 10_000), -rng.uniform(0, 1, 10_000)])


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a.view(np.uint64), b.view(np.uint64)) or np.array_equal(a, b, equal_nan=True))


def _ulps(got: np.ndarray, want: np.ndarray) -> float:
    ok = np.isfinite(want) & (want != 0)
    return float(np.max(np.abs(got[ok] - want[ok]) / np.spacing(np.abs(want[ok]))))


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "expm1"])
def test_c_and_numpy_agree_bit_for_bit(name):
    x = _values(1)
    if name in ("exp", "expm1"):
        x = np.concatenate([x[np.abs(x) < 800], np.linspace(-750, 710, 5001)])
    c = getattr(fmath, name)(x)
    ref = getattr(fmath, f"_np_{name}")(x)
    assert np.array_equal(c, ref, equal_nan=True)


def test_power_agrees_bit_for_bit():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-3, 3, 50_000), [0.0, 0.0, 1.0, 2.0, np.inf, np.nan, -1.0, -2.0, -2.0, -1.0, -0.0]])
    y = np.concatenate([rng.uniform(-4, 4, 50_000), [1.0, -1.0, np.nan, 0.0, 2.0, 1.0, 0.5, 3.0, 2.0, 7.0, 2.0]])
    y[:20_000] = np.rint(y[:20_000])  # negative bases need whole exponents
    assert np.array_equal(fmath.power(x, y), fmath._np_power(x, y), equal_nan=True)


@pytest.mark.parametrize(
    ("name", "domain", "ulps"),
    # bounds: the largest errors seen on a million points of each (2, 3, 4, 6), all near 1e-15 relative
    [("exp", (-700, 700), 2), ("log", (1e-300, 1e300), 3), ("log1p", (-0.999999, 1e6), 4), ("expm1", (-40, 40), 6)],
)
def test_accurate_to_a_few_ulps(name, domain, ulps):
    rng = np.random.default_rng(3)
    lo, hi = domain
    wide = lo > 0 and hi - lo > 1e4
    x = np.exp(rng.uniform(np.log(lo), np.log(hi), 100_000)) if wide else rng.uniform(lo, hi, 100_000)
    if name == "log1p":
        x = np.concatenate([x, rng.uniform(-1e-8, 1e-8, 1000), rng.uniform(-0.9, 5, 10_000)])
    assert _ulps(getattr(fmath, name)(x), getattr(np, name)(x)) <= ulps


def test_special_values_match_numpy():
    specials = {
        "exp": [0.0, np.inf, -np.inf, np.nan, 800.0, -800.0],
        "log": [0.0, -1.0, 1.0, np.inf, -np.inf, np.nan],
        "log1p": [0.0, -1.0, -2.0, np.inf, np.nan, 1e-300],
        "expm1": [0.0, np.inf, -np.inf, np.nan, 1e-300, -800.0],
    }
    with np.errstate(all="ignore"):
        for name, values in specials.items():
            x = np.array(values)
            assert np.array_equal(getattr(fmath, name)(x), getattr(np, name)(x), equal_nan=True), name
    assert fmath.power(0.0, 2.0) == 0.0 and fmath.power(0.0, -1.0) == np.inf and fmath.power(5.0, 0.0) == 1.0
    assert fmath.power(-2.0, 3.0) == -8.0 and fmath.power(-2.0, 2.0) == 4.0 and np.isnan(fmath.power(-2.0, 0.5))


def test_scalars_in_scalars_out():
    assert isinstance(fmath.log(10.0), float) and abs(fmath.log(10.0) - np.log(10.0)) < 1e-15
    assert isinstance(fmath.power(2.0, 0.5), float)
    assert isinstance(fmath.exp(np.arange(3.0)), np.ndarray)


def test_power_is_close():
    """exp(y log x): the error grows with |y log x| (at most 13 units in the last place seen here)."""
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0.01, 10, 100_000), rng.uniform(-3, 3, 100_000)
    assert _ulps(fmath.power(x, y), np.power(x, y)) <= 16
    assert _ulps(fmath.power(np.array([4.0, 9.0, 10.0]), np.array([0.5, 0.5, 3.0])), np.array([2.0, 3.0, 1000.0])) <= 8


def test_the_baseline_loops_give_the_same_bits_as_the_vector_ones(tmp_path):
    """GENGO_C_SIMD=0 runs the baseline (SSE2) loops; the default takes AVX2 where the CPU has it."""
    import subprocess
    import sys

    x = _values(5)
    y = np.random.default_rng(6).uniform(-3, 3, len(x))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    code = (
        "import sys, numpy as np; from gengo.core import fmath; d = sys.argv[1]; "
        "x, y = np.load(d + '/x.npy'), np.load(d + '/y.npy'); "
        "np.save(d + '/base.npy', np.stack([fmath.exp(np.clip(x, -800, 800)), fmath.log(x), fmath.log1p(x), "
        "fmath.expm1(np.clip(x, -800, 800)), fmath.power(np.abs(x), y)]))"
    )
    env = {**__import__("os").environ, "GENGO_C_SIMD": "0"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env, timeout=120)
    base = np.load(tmp_path / "base.npy")
    here = np.stack(
        [
            fmath.exp(np.clip(x, -800, 800)),
            fmath.log(x),
            fmath.log1p(x),
            fmath.expm1(np.clip(x, -800, 800)),
            fmath.power(np.abs(x), y),
        ]
    )
    assert np.array_equal(base, here, equal_nan=True)
