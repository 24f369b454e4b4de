"""exp, log, log1p, expm1 and power that give the same bits on every machine.

NumPy's float64 ``exp``, ``log``, ``log1p``, ``expm1`` and ``power`` dispatch on the CPU: on hosts
with AVX-512 they run NumPy's SIMD (and Intel SVML) versions, elsewhere the C library's, and
the results differ in the last bit now and then. A generated value computed through them (a
price, a duration, a popularity rank) then depended on the machine, and so did the bytes of a
dataset, against gengo's promise (same seed, same bytes) and within one Dask run whose workers
differ. These functions use only IEEE additions, multiplications, divisions, ``frexp``, ``ldexp``
and ``rint``, each correctly rounded on every CPU, in a fixed order: a series for log
(``2 atanh(f / (2 + f))`` after scaling to [sqrt(1/2), sqrt(2))), Cody and Waite's reduction and
a Taylor polynomial for exp (both evaluated by Estrin's scheme), the rounding-error-cancelling
forms of log1p and expm1, and ``exp(y log x)`` for power (whole exponents up to 1024 by
repeated squaring, exact where the result is representable; a negative base takes whole
exponents only). They are accurate to 2 to 6 units in the last place (``tests/core/test_fmath.py``).

The loops run in C (``_kernels.c``, built with fused multiply-add off); the NumPy expressions
below compute the same bits when the extension is absent (no C compiler at install) or
``GENGO_C_KERNELS=0`` is set. Every function takes arrays or scalars and returns the same.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np

LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
SQRT_HALF = 0.70710678118654752440
EXP_MAX = 709.782712893384
EXP_MIN = -745.1332191019412
LOG_C = [1.0 / (2 * k + 1) for k in range(12)]
EXP_C = [1.0]
for _k in range(1, 14):
    EXP_C.append(EXP_C[-1] / _k)


def _load() -> Any | None:
    if os.environ.get("GENGO_C_KERNELS", "1").strip() == "0":
        return None
    try:  # by name: a C module that may be absent
        return importlib.import_module("gengo.core._kernels")
    except ImportError:
        return None


C = _load()  # the C kernels, shared with rand.py, or None


def _unary(name: str, fallback: Any, x: Any) -> Any:
    a = np.asarray(x, dtype=np.float64)
    if C is None:
        out = fallback(a)
    else:
        src = a if a.flags.c_contiguous else np.ascontiguousarray(a)
        out = np.empty(src.shape, np.float64)
        getattr(C, name)(src, out)
    return _like(out, x)


def _like(out: np.ndarray, *inputs: Any) -> Any:
    """An array if any input was one, a float for scalars."""
    if any(isinstance(v, np.ndarray) for v in inputs):
        return out
    return float(out) if out.ndim == 0 else out


def exp(x: Any) -> Any:
    return _unary("exp", _np_exp, x)


def log(x: Any) -> Any:
    return _unary("log", _np_log, x)


def log1p(x: Any) -> Any:
    return _unary("log1p", _np_log1p, x)


def expm1(x: Any) -> Any:
    return _unary("expm1", _np_expm1, x)


def power(x: Any, y: Any) -> Any:
    a, b = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    if C is None:
        out = _np_power(a, b)
    else:
        a, b = (v if v.flags.c_contiguous else np.ascontiguousarray(v) for v in (a, b))
        out = np.empty(a.shape, np.float64)
        C.power(a, b, out)
    return _like(out, x, y)


# --- the same formulas in NumPy (the reference for tests and the fallback) -------------------


def _log_poly(z: np.ndarray) -> np.ndarray:
    """Estrin's scheme, as ``log_poly`` in _kernels.c."""
    c = LOG_C
    z2 = z * z
    z4 = z2 * z2
    z8 = z4 * z4
    a = [c[i] + c[i + 1] * z for i in range(0, 12, 2)]
    b0, b1, b2 = a[0] + a[1] * z2, a[2] + a[3] * z2, a[4] + a[5] * z2
    return (b0 + b1 * z4) + b2 * z8


def _exp_poly(r: np.ndarray) -> np.ndarray:
    c = EXP_C
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    a = [c[i] + c[i + 1] * r for i in range(0, 14, 2)]
    b0, b1, b2, b3 = a[0] + a[1] * r2, a[2] + a[3] * r2, a[4] + a[5] * r2, a[6]
    return (b0 + b1 * r4) + (b2 + b3 * r4) * r8


def _np_log(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        m, e = np.frexp(x)
        small = m < SQRT_HALF
        m = np.where(small, m * 2.0, m)
        e = e - small
        f = m - 1.0
        s = f / (2.0 + f)
        p = _log_poly(s * s)
        de = e.astype(np.float64)
        out = de * LN2_HI + ((2.0 * s) * p + de * LN2_LO)
        out = np.where(x == np.inf, np.inf, out)
        out = np.where(x == 0.0, -np.inf, out)
        return np.where(np.isnan(x) | (x < 0.0), np.nan, out)


def _np_exp(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        k = np.rint(x * INV_LN2)
        r = (x - k * LN2_HI) - k * LN2_LO
        p = _exp_poly(r)
        ok = (x <= EXP_MAX) & (x >= EXP_MIN)
        out = np.ldexp(p, np.where(ok, k, 0).astype(np.int32))
        out = np.where(x > EXP_MAX, np.inf, np.where(x < EXP_MIN, 0.0, out))
        return np.where(np.isnan(x), x, out)


def _np_log1p(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        u = 1.0 + x
        out = _np_log(u) * (x / (u - 1.0))
        return np.where(u == 1.0, x, np.where(u == np.inf, u, out))


def _np_expm1(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        u = _np_exp(x)
        out = (u - 1.0) * (x / _np_log(u))
        out = np.where((u == np.inf) | (u - 1.0 == -1.0), u - 1.0, out)
        out = np.where(u == 1.0, x, out)
        return np.where((x > 1.0) | (x < -1.0) | np.isnan(x), u - 1.0, out)


POW_SQUARING = 1024  # as in _kernels.c


def _np_power(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        whole = np.rint(y) == y
        squaring = whole & (np.abs(y) <= POW_SQUARING)
        out = _np_exp(y * _np_log(ax))
        out = np.where(ax == 0.0, np.where(y > 0.0, 0.0, np.inf), out)
        if squaring.any():
            k = np.where(squaring, np.abs(y), 0).astype(np.int64)
            r, b = np.ones(x.shape), ax
            while k.any():
                r = np.where(k & 1 == 1, r * b, r)
                k >>= 1
                b = b * b
            out = np.where(squaring, np.where(y < 0.0, 1.0 / r, r), out)
        odd = np.rint(y * 0.5) != y * 0.5
        out = np.where(x < 0.0, np.where(whole, np.where(odd, -out, out), np.nan), out)
        out = np.where(np.isnan(x) | np.isnan(y), np.nan, out)
        return np.where((y == 0.0) | (x == 1.0), 1.0, out)
