"""Small closed-form helpers shared by the financial and medical models.

* ``quota``: split ``n`` rows into groups with fixed shares (largest remainder), so a group's
  members are a contiguous range of *ranks* and "the j-th member of group g" is arithmetic.
* ``invert``: the inverse of a ``rand.Permutation``, to go from a rank back to a row index.

Together they give attributes assigned by exact quota (sector of a company, specialization of
a doctor) whose members can be drawn by a fact without any lookup table.
"""

from __future__ import annotations

import numpy as np

from gengo.core import rand


def quota(n: int, shares: np.ndarray, minimum_one: bool = False) -> np.ndarray:
    """Group sizes summing to ``n`` in proportion to ``shares`` (largest-remainder rounding).

    With ``minimum_one`` every group with a positive share gets at least one member when
    ``n`` allows it (the largest shares first).
    """
    shares = np.asarray(shares, dtype=np.float64)
    shares = shares / shares.sum()
    counts = np.zeros(len(shares), dtype=np.int64)
    rest = int(n)
    if minimum_one:
        order = np.argsort(-shares, kind="stable")
        first = order[: min(rest, int((shares > 0).sum()))]
        counts[first] = 1
        rest -= len(first)
    exact = shares * rest
    base = np.floor(exact).astype(np.int64)
    counts += base
    left = rest - int(base.sum())
    if left > 0:
        order = np.argsort(-(exact - base), kind="stable")
        counts[order[:left]] += 1
    return counts


def starts(counts: np.ndarray) -> np.ndarray:
    """First rank of each group."""
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def group_of(rank: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Group of each rank, for ranks laid out group after group."""
    return np.searchsorted(np.cumsum(counts), rank, side="right")


def invert(perm: rand.Permutation, value: np.ndarray) -> np.ndarray:
    """``x`` such that ``perm(x) == value``."""
    n = perm.n
    if n <= 1:
        return np.zeros_like(value)
    inv = pow(int(perm.mult), -1, n)
    out = (value - perm.offset) % n
    if n <= 3_000_000_000:  # out * inv stays in int64
        out *= inv
        out %= n
        return out
    return _multiply_mod(out, inv, n)


def _multiply_mod(a: np.ndarray, b: int, n: int) -> np.ndarray:
    """``a * b % n`` for ``a < n <= 2**42`` without overflow: ``b`` taken 20 bits at a time."""
    if n > 1 << 42:
        raise ValueError("permutation too large to invert in int64")
    out = np.zeros_like(a)
    for shift in range((b.bit_length() // 20) * 20, -1, -20):
        out = (out * (1 << 20) + a * ((b >> shift) & 0xFFFFF)) % n
    return out
