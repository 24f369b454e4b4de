"""Counter-based randomness: every value is a pure function of (seed, stream, row index).

A stream key is a 64-bit hash of the seed and a path of names (table, column, ...). The
value for row ``i`` is SplitMix64's finaliser applied to ``key + i * golden``, so a row gets
the same numbers whatever chunk it is generated in. All functions take and return whole
NumPy arrays; none loops over rows.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TWO_POW_M53 = 1.0 / (1 << 53)


def stream_key(seed: int, *names: str) -> np.uint64:
    """A 64-bit key for the stream named by ``names`` under ``seed``."""
    h = hashlib.blake2b(digest_size=8)
    h.update(int(seed).to_bytes(16, "little", signed=True))
    for name in names:
        h.update(name.encode())
        h.update(b"\x00")
    return np.uint64(int.from_bytes(h.digest(), "little"))


def bits(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    """64 uniform random bits per index (uint64 array)."""
    z = idx.astype(np.uint64, copy=True)
    z *= _GOLDEN
    z += key
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def uniform(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    """Uniform float64 in [0, 1), 53 bits of resolution."""
    return (bits(key, idx) >> _S11).astype(np.float64) * _TWO_POW_M53


def integers(key: np.uint64, idx: np.ndarray, low: int, high: int) -> np.ndarray:
    """Uniform int64 in [low, high], both ends inclusive."""
    span = high - low + 1
    if span <= 0:
        raise ValueError(f"empty range [{low}, {high}]")
    out = np.floor(uniform(key, idx) * span).astype(np.int64)
    np.minimum(out, span - 1, out=out)
    out += low
    return out


def bernoulli(key: np.uint64, idx: np.ndarray, p: float) -> np.ndarray:
    """Boolean array, True with probability ``p``."""
    return uniform(key, idx) < p


def weighted_choice(key: np.uint64, idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Indices into ``weights`` drawn in proportion to them (see ``WeightedTable``)."""
    w = np.ascontiguousarray(weights, dtype=np.float64)
    digest = hashlib.blake2b(w.tobytes(), digest_size=16).digest()
    table = _TABLES.get(digest)
    if table is None:
        table = _TABLES[digest] = WeightedTable(w)
    return table.sample(key, idx)


_TABLES: dict[bytes, WeightedTable] = {}


class WeightedTable:
    """Weighted choice by table lookup: the top bits of a row's random word index a table.

    Built once per vocabulary. Each entry's probability is rounded to a multiple of
    1/size (size >= 64 entries per choice), far finer than anything a dataset shows, and a
    draw costs one hash and one gather instead of a binary search.
    """

    def __init__(self, weights: np.ndarray | list[float]) -> None:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or len(w) == 0 or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be a non-empty vector of non-negative numbers")
        bits = max(12, int(np.ceil(np.log2(len(w) * 64))))
        self._shift = np.uint64(64 - bits)
        cdf = np.cumsum(w) / w.sum()
        points = (np.arange(1 << bits, dtype=np.float64) + 0.5) / (1 << bits)
        table = np.minimum(np.searchsorted(cdf, points, side="right"), len(w) - 1)
        self.table = table.astype(np.uint16 if len(w) < 1 << 16 else np.int64)
        self.size = len(w)

    def sample(self, key: np.uint64, idx: np.ndarray) -> np.ndarray:
        slot = (bits(key, idx) >> self._shift).astype(np.intp)
        return self.table[slot].astype(np.int64)


class GroupedWeightedTable:
    """Weighted choice among K items with weights that depend on a row's group (G x K weights).

    One lookup table per group, as in ``WeightedTable``: a draw is one gather instead of a
    binary search over all groups' cumulative weights (5-10x faster for a few thousand entries).
    """

    def __init__(self, weights: np.ndarray) -> None:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 2 or 0 in w.shape or (w < 0).any() or (w.sum(axis=1) <= 0).any():
            raise ValueError("weights must be a G x K matrix of non-negative numbers, each row with a positive sum")
        groups, k = w.shape
        self.size = 1 << max(12, int(np.ceil(np.log2(k * 64))))
        cdf = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
        offsets = np.arange(groups, dtype=np.float64)[:, None]
        points = (offsets + (np.arange(self.size) + 0.5) / self.size).ravel()
        pos = np.searchsorted((offsets + cdf).ravel(), points, side="right").reshape(groups, self.size)
        first = np.arange(groups)[:, None] * k
        table = np.minimum(pos, first + k - 1) - first
        self.table = table.ravel().astype(np.uint16 if k < 1 << 16 else np.int64)

    def choose(self, u: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Item for each row, from its uniform draw ``u`` in [0, 1) and its ``group``."""
        slot = np.minimum((u * self.size).astype(np.intp), self.size - 1)
        return self.table[group * self.size + slot].astype(np.int64)


def _normal_quantiles(points: int) -> np.ndarray:
    from statistics import NormalDist

    inv = NormalDist().inv_cdf
    return np.array([inv((i + 0.5) / points) for i in range(points)])


_NORMAL_BITS = 14
_NORMAL_TABLE = _normal_quantiles(1 << _NORMAL_BITS)
_NORMAL_STEP = np.append(np.diff(_NORMAL_TABLE), 0.0)


def normal(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    """Standard normal draws by interpolating a quantile table (tails cut at about 4 sigma)."""
    b = bits(key, idx)
    i = (b >> np.uint64(64 - _NORMAL_BITS)).astype(np.intp)
    frac = (b & np.uint64((1 << 50) - 1)).astype(np.float64) * (1.0 / (1 << 50))
    return _NORMAL_TABLE[i] + frac * _NORMAL_STEP[i]


def power_law_rank(key: np.uint64, idx: np.ndarray, n: int, exponent: float) -> np.ndarray:
    """Popularity ranks in [0, n) from a bounded Zipf-like law.

    Rank ``r`` has probability proportional to the integral of ``x**-exponent`` over
    ``[r+1, r+2)``: close to Zipf(``exponent``) yet drawn by a closed-form inverse CDF (no
    lookup table), and every rank keeps a non-zero probability.
    """
    u = uniform(key, idx)
    if abs(exponent - 1.0) < 1e-12:
        x = np.exp(u * math.log(n + 1.0))
    else:
        e = 1.0 - exponent
        x = np.power(1.0 + u * ((n + 1.0) ** e - 1.0), 1.0 / e)
    r = x.astype(np.int64) - 1
    np.clip(r, 0, n - 1, out=r)
    return r


class Permutation:
    """A bijection of [0, n) (affine map modulo n) that scatters popular ranks over the key space."""

    def __init__(self, key: np.uint64, n: int) -> None:
        self.n = n
        k = int(key)
        # Keep rank * mult below 2**63 so the map stays in int64 arithmetic.
        limit = max(3, min(n, (1 << 63) // max(n, 1)))
        mult = k % limit
        # Walk to a multiplier coprime with n (runs once per table, not per row).
        while n > 2 and (mult < 2 or math.gcd(mult, n) != 1):
            mult = (mult + 1) % limit
        self.mult = mult if n > 2 else 1
        self.offset = (k >> 32) % n if n > 0 else 0

    def __call__(self, rank: np.ndarray) -> np.ndarray:
        if self.n <= 1:
            return np.zeros_like(rank)
        out = rank * self.mult
        out %= self.n
        out += self.offset
        out %= self.n
        return out


class PairedFanOut:
    """Children per parent in closed form: parents come in pairs that share ``per_pair`` children.

    The first parent of pair ``j`` gets a uniform ``low .. per_pair - low`` children (``low``
    is 1 unless given) and the second the rest, so each parent's count is uniform on that
    range, the mean is
    ``per_pair / 2`` and both directions (parent -> child range, child -> parent) are
    arithmetic: no chunk needs a prefix sum over other chunks.
    """

    def __init__(self, key: np.uint64, per_pair: int, parents: int, low: int = 1) -> None:
        if low < 1 or per_pair < 2 * low:
            raise ValueError("need 1 <= low and 2 * low <= per_pair")
        self.key = key
        self.per_pair = per_pair
        self.parents = parents
        self.low = low  # every parent gets low .. per_pair - low children

    def _first(self, pair: np.ndarray) -> np.ndarray:
        return integers(self.key, pair, self.low, self.per_pair - self.low)

    def total(self) -> int:
        pairs, odd = divmod(self.parents, 2)
        total = pairs * self.per_pair
        if odd:
            total += int(self._first(np.array([pairs], dtype=np.int64))[0])
        return total

    def count(self, parent: np.ndarray) -> np.ndarray:
        first = self._first(parent // 2)
        return np.where(parent % 2 == 0, first, self.per_pair - first)

    def offset(self, parent: np.ndarray) -> np.ndarray:
        """Index of the parent's first child."""
        pair = parent // 2
        return pair * self.per_pair + np.where(parent % 2 == 0, 0, self._first(pair))

    def parent_of(self, child: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(parent index, position of the child among its parent's children)."""
        pair = child // self.per_pair
        rest = child - pair * self.per_pair
        first = self._first(pair)
        second = rest >= first
        parent = pair * 2 + second
        position = rest - np.where(second, first, 0)
        return parent, position
