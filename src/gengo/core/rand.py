"""Counter-based randomness: every value is a pure function of (seed, stream, row index).

A stream key is a 64-bit hash of the seed and a path of names (table, column, ...). The
value for row ``i`` is SplitMix64's finaliser applied to ``key + i * golden``, so a row gets
the same numbers whatever chunk it is generated in. All functions take and return whole
NumPy arrays; none loops over rows.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from gengo.core import fmath

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


_C = fmath.C  # the C kernels (``_kernels.c``); the NumPy expressions below are the reference and the fallback


def _rows(idx: np.ndarray) -> np.ndarray | None:
    """``idx`` as the kernel reads it (contiguous 8-byte integers), or None to take the NumPy path."""
    if _C is None or not isinstance(idx, np.ndarray) or idx.dtype.kind not in "iu":
        return None
    if idx.dtype.itemsize != 8:
        idx = idx.astype(np.int64)
    return idx if idx.flags.c_contiguous else np.ascontiguousarray(idx)


def _draw(name: str, dtype: type, key: np.uint64, idx: np.ndarray, *args: int) -> np.ndarray | None:
    """The C kernel ``name``'s draws for ``idx``, or None where the NumPy path must take them."""
    rows = _rows(idx)
    if rows is None:
        return None
    out = np.empty(rows.shape, dtype)
    getattr(_C, name)(int(key), rows, out, *args)
    return out


def bits(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    """64 uniform random bits per index (uint64 array)."""
    out = _draw("bits", np.uint64, key, idx)
    return _bits(key, idx) if out is None else out


def _bits(key: np.uint64, idx: np.ndarray) -> np.ndarray:
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
    out = _draw("uniform", np.float64, key, idx)
    return (_bits(key, idx) >> _S11).astype(np.float64) * _TWO_POW_M53 if out is None else out


def integers(key: np.uint64, idx: np.ndarray, low: int, high: int) -> np.ndarray:
    """Uniform int64 in [low, high], both ends inclusive."""
    span = high - low + 1
    if span <= 0:
        raise ValueError(f"empty range [{low}, {high}]")
    if low >= -(1 << 63) and high < (1 << 63) and span < (1 << 63):  # the kernel's int64 arguments
        out = _draw("integers", np.int64, key, idx, low, span)
        if out is not None:
            return out
    out = np.floor(uniform(key, idx) * span).astype(np.int64)
    np.minimum(out, span - 1, out=out)
    out += low
    return out


def bernoulli(key: np.uint64, idx: np.ndarray, p: float) -> np.ndarray:
    """Boolean array, True with probability ``p``."""
    return uniform(key, idx) < p


def geometric(key: np.uint64, idx: np.ndarray, p: float) -> np.ndarray:
    """Failures before the first success of trials with success probability ``p`` (int64 >= 0)."""
    if p >= 1:
        return np.zeros(len(idx), dtype=np.int64)
    return np.floor(fmath.log1p(-uniform(key, idx)) / fmath.log1p(-p)).astype(np.int64)


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
        bits = max(12, (len(w) * 64 - 1).bit_length())  # ceil(log2), in integers
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
        self.size = 1 << max(12, (k * 64 - 1).bit_length())
        cdf = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
        offsets = np.arange(groups, dtype=np.float64)[:, None]
        points = (offsets + (np.arange(self.size) + 0.5) / self.size).ravel()
        pos = np.searchsorted((offsets + cdf).ravel(), points, side="right").reshape(groups, self.size)
        first = np.arange(groups)[:, None] * k
        table = np.minimum(pos, first + k - 1) - first
        self.table = table.ravel().astype(np.uint16 if k < 1 << 16 else np.int64)

    @classmethod
    def of(cls, rows: list[np.ndarray]) -> GroupedWeightedTable:
        """A table of weight vectors of different lengths (each normalised, padded with zeros)."""
        table = np.zeros((len(rows), max(len(w) for w in rows)))
        for i, w in enumerate(rows):
            w = np.asarray(w, dtype=np.float64)
            table[i, : len(w)] = w / w.sum()
        return cls(table)

    def choose(self, u: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Item for each row, from its uniform draw ``u`` in [0, 1) and its ``group``."""
        slot = np.minimum((u * self.size).astype(np.intp), self.size - 1)
        return self.table[group * self.size + slot].astype(np.int64)


def _normal_quantiles(points: int) -> np.ndarray:
    from statistics import NormalDist

    inv = NormalDist().inv_cdf
    return np.array([inv((i + 0.5) / points) for i in range(points)])


_NORMAL_BITS = 14
# Shipped as data: statistics.NormalDist computes its tails with the C library's log, whose last
# bit may differ between hosts; the file holds _normal_quantiles(1 << 14) as computed once.
_NORMAL_TABLE = np.load(Path(__file__).parent / "data" / f"normal-quantiles-{_NORMAL_BITS}.npy", allow_pickle=False)
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
        x = fmath.exp(u * fmath.log(n + 1.0))
    else:
        e = 1.0 - exponent
        x = fmath.power(1.0 + u * (fmath.power(n + 1.0, e) - 1.0), 1.0 / e)
    r = x.astype(np.int64) - 1
    np.clip(r, 0, n - 1, out=r)
    return r


def coprime_step(n: int) -> int:
    """A stride near 0.618 n that is coprime with n (a full-cycle walk over [0, n))."""
    if n <= 2:
        return 1
    s = max(1, int(n * 0.6180339887))
    while math.gcd(s, n) != 1:
        s += 1
    return s


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


# --- variable fan-out ---------------------------------------------------------------------

FAN_BLOCK = 1 << 14  # parents per block of the prefix sums: one int64 of state per block
FAN_FINE = 32  # parents per slot of the fine index, built only for scattered look-ups
FAN_DENSE = 1 << 22  # parents (32 MB of int64) up to which scattered look-ups use a full table of offsets
_FAN_PACK = 4  # parents per 64-bit hash, a 16-bit field each
_FAN_BATCH = 8  # blocks per vectorized step when prefix sums grow (2**17 parents: scratch stays in cache)
_FAN_TASK = 64  # steps per task when a long pass is split over threads (about 10 ms of work)
_FAN_SCAN = 8 * FAN_BLOCK  # a look-up may always recount this many parents instead of using the fine index
_FAN_MAX_SPAN = 256  # 16-bit fields: each value's probability is within a relative span / 65536 of 1 / span


def _fan_counts(key: np.uint64, low: int, span: int, words: np.ndarray, lut: np.ndarray | None = None) -> np.ndarray:
    """Counts of the 4 parents of each hash word, ``words.shape[:-1] + (4 * words.shape[-1],)`` (uint32).

    ``lut``: the count for each 16-bit field (a weighted distribution); without it, uniform."""
    fields = bits(key, words).astype("<u8", copy=False).view("<u2")
    if lut is not None:
        return lut[fields]
    out = fields.astype(np.uint32)
    out *= span
    out >>= 16
    out += low
    return out


class _Prefix:
    """Prefix sums of one fan-out stream, grown on demand and shared by every FanOut over it.

    ``coarse[b]`` is the number of children before block ``b``; ``fine[s]`` the number before
    slot ``s`` counted from the start of the slot's block (so it fits 16 bits for small counts).
    Both depend on (key, low, high) only, not on the number of parents: the candidate sizes of a
    plan and the successive chunks of a worker extend the same arrays instead of recounting.
    """

    def __init__(self, key: np.uint64, low: int, high: int, weights: tuple[float, ...] | None = None) -> None:
        self.key, self.low, self.span = key, low, high - low + 1
        self.lut = count_table(low, weights) if weights is not None else None
        self.mean = (low + high) / 2 if self.lut is None else float(self.lut.mean())
        self.coarse = np.zeros(1, dtype=np.int64)
        self.n_coarse = 1  # valid entries of coarse
        wide = (FAN_BLOCK - FAN_FINE) * high >= 1 << 16
        self.fine = np.zeros(0, dtype=np.uint32 if wide else np.uint16)
        self.n_fine = 0  # blocks whose fine slots are valid
        self.dense_table = np.zeros(0, dtype=np.int64)  # children before each of the first parents
        self.lock = threading.Lock()

    def block_counts(self, blocks: np.ndarray) -> np.ndarray:
        """(len(blocks), FAN_BLOCK) counts of every parent of the given blocks."""
        per = FAN_BLOCK // _FAN_PACK
        words = blocks.astype(np.int64)[:, None] * per + np.arange(per, dtype=np.int64)
        return _fan_counts(self.key, self.low, self.span, words, self.lut)

    def blocks(self, last: int) -> np.ndarray:
        """``coarse`` valid at least through index ``last`` (children before block ``last``)."""
        with self.lock:
            if self.n_coarse <= last:
                if len(self.coarse) <= last:
                    grown = np.empty(max(last + 1, 2 * len(self.coarse)), dtype=np.int64)
                    grown[: self.n_coarse] = self.coarse[: self.n_coarse]
                    self.coarse = grown
                first = self.n_coarse - 1
                sums = np.empty(last - first, dtype=np.int64)

                def step(a: int, b: int) -> None:
                    sums[a - first : b - first] = self.block_counts(np.arange(a, b)).sum(axis=1, dtype=np.int64)

                _each_step(first, last, step)
                dest = self.coarse[first + 1 : last + 1]
                np.cumsum(sums, out=dest)
                dest += self.coarse[first]
                self.n_coarse = last + 1
            return self.coarse[: self.n_coarse]

    def covering(self, children: int) -> np.ndarray:
        """``coarse`` long enough that its last entry is at least ``children``."""
        coarse = self.blocks(0)
        while coarse[-1] < children:
            more = -(-(children - int(coarse[-1])) // max(1, int(FAN_BLOCK * self.mean)))
            coarse = self.blocks(len(coarse) - 1 + more)
        return coarse

    def dense(self, last: int) -> np.ndarray:
        """Children before each parent, for parents 0 .. at least ``last`` (``last < FAN_DENSE``).

        A look-up is then one gather: the fine index costs ``FAN_FINE`` passes over the look-ups.
        """
        have = self.dense_table
        if len(have) > last:
            return have
        blocks = min(-(-max(last + 1, 2 * len(have)) // FAN_BLOCK), FAN_DENSE // FAN_BLOCK)
        coarse = self.blocks(blocks)
        first = len(have) // FAN_BLOCK
        table = np.empty(blocks * FAN_BLOCK, dtype=np.int64)
        table[: len(have)] = have
        # A few blocks at a time: the counts and hash words of up to FAN_DENSE parents at once
        # were several times the table's own 32 MB in temporaries, in every process.
        for a in range(first, blocks, _FAN_BATCH):  # a loop over blocks of parents, not over parents
            b = min(a + _FAN_BATCH, blocks)
            counts = self.block_counts(np.arange(a, b))
            start = table[a * FAN_BLOCK : b * FAN_BLOCK].reshape(b - a, FAN_BLOCK)
            np.cumsum(counts, axis=1, dtype=np.int64, out=start)
            start -= counts
            start += coarse[a:b][:, None]
        with self.lock:
            if len(table) > len(self.dense_table):
                self.dense_table = table
            return self.dense_table

    def fine_slots(self, blocks: int) -> np.ndarray:
        """``fine`` valid for the first ``blocks`` blocks."""
        per = FAN_BLOCK // FAN_FINE
        with self.lock:
            if self.n_fine < blocks:
                if len(self.fine) < blocks * per:
                    grown = np.empty(max(blocks, 2 * len(self.fine) // per) * per, dtype=self.fine.dtype)
                    grown[: self.n_fine * per] = self.fine[: self.n_fine * per]
                    self.fine = grown
                fine = self.fine

                def step(a: int, b: int) -> None:
                    slot = self.block_counts(np.arange(a, b)).reshape(b - a, per, FAN_FINE).sum(axis=2, dtype=np.int64)
                    before = np.cumsum(slot, axis=1)
                    before -= slot
                    fine[a * per : b * per] = before.ravel()

                _each_step(self.n_fine, blocks, step)
                self.n_fine = blocks
            return self.fine[: self.n_fine * per]


def _each_step(first: int, stop: int, step: Callable[[int, int], None]) -> None:
    """``step(a, b)`` over blocks ``first .. stop - 1`` in steps of ``_FAN_BATCH``, on threads when long.

    NumPy releases the GIL in the hashing, so a pass over 10**10 parents takes seconds, not tens
    of seconds; the steps write disjoint slices, so the result does not depend on the threads.
    """
    bounds = [(a, min(a + _FAN_BATCH, stop)) for a in range(first, stop, _FAN_BATCH)]
    tasks = [bounds[i : i + _FAN_TASK] for i in range(0, len(bounds), _FAN_TASK)]

    def run(task: list[tuple[int, int]]) -> None:
        for a, b in task:
            step(a, b)

    threads = min(_THREADS, len(tasks))
    if threads <= 1:
        for task in tasks:
            run(task)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(run, tasks):
            pass


_THREADS = min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@functools.lru_cache(maxsize=64)
def _prefix(key: int, low: int, high: int, weights: tuple[float, ...] | None = None) -> _Prefix:
    return _Prefix(np.uint64(key), low, high, weights)


def count_table(low: int, weights: tuple[float, ...]) -> np.ndarray:
    """The child count for each of the 65,536 values of a 16-bit field: ``low + k`` with probability
    ``weights[k] / sum(weights)``, each within 1 / 65536 (the field is cut at the cumulative weights)."""
    w = np.asarray(weights, dtype=np.float64)
    edges = np.rint(np.cumsum(w) / w.sum() * 65536).astype(np.int64)
    fields = np.arange(65536, dtype=np.int64)
    return (low + np.searchsorted(edges, fields, side="right")).astype(np.uint32)


def runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, index of each element's value) of an array whose equal values are adjacent."""
    change = np.empty(len(values), dtype=bool)
    change[:1] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    row = np.cumsum(change, dtype=np.int64)
    row -= 1
    return values[change], row


def is_range(idx: np.ndarray) -> bool:
    """Whether ``idx`` is ``a, a + 1, ..., b`` (the row indices of a chunk)."""
    n = len(idx)
    return n > 0 and int(idx[-1]) - int(idx[0]) == n - 1 and bool((np.diff(idx) == 1).all())


def _scan_plan(block: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(blocks to recount, row of each element) when recounting whole blocks is cheap, else None."""
    n = len(block)
    limit = max(FAN_FINE * n, _FAN_SCAN)
    lo, hi = int(block.min()), int(block.max())
    if (hi - lo + 1) * FAN_BLOCK <= limit:
        return np.arange(lo, hi + 1, dtype=np.int64), block - lo
    if bool((block[1:] >= block[:-1]).all()):
        distinct, row = runs(block)
        return (distinct, row) if len(distinct) * FAN_BLOCK <= limit else None
    if n * FAN_BLOCK <= limit:
        distinct, row = np.unique(block, return_inverse=True)
        return distinct, row.reshape(-1)
    return None


class FanOut:
    """Children per parent, an independent draw on ``low .. high`` for every parent: uniform, or
    with ``weights`` (one per count) any distribution on that range.

    A parent's count is a pure function of (key, parent index): 16 bits of the hash of
    ``parent // 4``. Children are numbered parent by parent, so a parent's first child is the
    sum of the counts before it. That sum comes from per-process prefix sums, one int64 per
    block of ``FAN_BLOCK`` parents, plus a recount of the blocks a request touches: contiguous
    chunks of children or parents touch a few. Scattered look-ups (the addresses of random
    customers) use a finer index instead, one 16- or 32-bit integer per ``FAN_FINE`` parents,
    built on the first such look-up. The prefix sums cost one vectorized pass over the parents
    before the last one asked for, made once per process and stream and then extended.
    ``parents`` is needed by ``total`` only: the other methods treat the parent sequence as
    unbounded, so a table of children that does not end on a parent boundary still resolves.
    """

    def __init__(
        self, key: np.uint64, low: int, high: int, parents: int | None = None, weights: tuple[float, ...] | None = None
    ) -> None:
        if not 0 <= low <= high or high < 1 or high - low + 1 > _FAN_MAX_SPAN:
            raise ValueError(f"need 0 <= low <= high, high >= 1 and at most {_FAN_MAX_SPAN} values")
        if weights is not None and (len(weights) != high - low + 1 or min(weights) < 0 or sum(weights) <= 0):
            raise ValueError(f"need {high - low + 1} non-negative weights, not all zero")
        self.key = np.uint64(key)
        self.low, self.high, self.parents = low, high, parents
        self._state = _prefix(int(self.key), low, high, tuple(float(x) for x in weights) if weights else None)
        self._total: int | None = None
        # The last enclosing() result: a chunk's parent, position and widened columns each ask for it.
        self._enclosed: tuple[tuple[int, int], tuple[int, np.ndarray, np.ndarray]] | None = None

    def count(self, parent: np.ndarray) -> np.ndarray:
        """Children of each parent (int64)."""
        p = np.asarray(parent, dtype=np.int64)
        w = bits(self.key, p >> 2)
        w >>= (p & 3).astype(np.uint64) * np.uint64(16)
        w &= np.uint64(0xFFFF)
        if self._state.lut is not None:
            return self._state.lut[w].astype(np.int64)
        w *= np.uint64(self.high - self.low + 1)
        w >>= np.uint64(16)
        out = w.astype(np.int64)
        out += self.low
        return out

    def offset(self, parent: np.ndarray) -> np.ndarray:
        """Index of each parent's first child (int64); any order, repeats allowed."""
        p = np.asarray(parent, dtype=np.int64)
        if p.size == 0:
            return np.zeros(0, dtype=np.int64)
        top = int(p.max())
        # Enough look-ups to pay for the table (or it exists): one gather each.
        if top < FAN_DENSE and (len(self._state.dense_table) > top or p.size * 64 > top):
            return self._state.dense(top)[p]
        block = p // FAN_BLOCK
        coarse = self._state.blocks(int(block.max()))
        plan = _scan_plan(block)
        if plan is not None:
            distinct, row = plan
            counts = self._state.block_counts(distinct)
            start = np.cumsum(counts, axis=1, dtype=np.int64)
            start -= counts
            start += coarse[distinct][:, None]
            return start[row, p % FAN_BLOCK]
        fine = self._state.fine_slots(int(block.max()) + 1)
        slot = p // FAN_FINE
        out = coarse[block] + fine[slot]
        # Children of the parents before p in its slot: up to FAN_FINE - 1 counts per look-up.
        first, before = slot * FAN_FINE, p % FAN_FINE
        for j, counts in self._slot_counts(first):
            out += np.where(j < before, counts, 0)
        return out

    def parent_of(self, child: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(parent index, position of the child among its parent's children); any order."""
        c = np.asarray(child, dtype=np.int64)
        if c.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if c.size > 2 and is_range(c):  # a chunk: repeat its parents instead of searching per child
            first, parent, position = self.enclosing(int(c[0]), int(c[-1]) + 1)
            cut = slice(int(c[0]) - first, int(c[0]) - first + c.size)
            return parent[cut], position[cut]
        coarse = self._state.covering(int(c.max()) + 1)
        block = np.searchsorted(coarse, c, side="right") - 1
        plan = _scan_plan(block)
        if plan is not None:
            distinct, _ = plan
            counts = self._state.block_counts(distinct)
            end = np.cumsum(counts, axis=1, dtype=np.int64)
            end += coarse[distinct][:, None]
            end, counts = end.ravel(), counts.ravel()
            k = np.searchsorted(end, c, side="right")
            parent = distinct[k // FAN_BLOCK] * FAN_BLOCK + k % FAN_BLOCK
            return parent, c - end[k] + counts[k]
        # Scattered children: binary search of the block's fine slots, then walk one slot.
        fine = self._state.fine_slots(int(block.max()) + 1)
        rest = c - coarse[block]
        per = FAN_BLOCK // FAN_FINE
        slot = block * per
        step = per // 2
        while step:  # log2(per) vectorized steps, not a loop over rows
            cand = slot + step
            slot = np.where(fine[cand] <= rest, cand, slot)
            step //= 2
        rest -= fine[slot]
        first = slot * FAN_FINE
        parent = np.full(len(c), -1, dtype=np.int64)
        position = np.zeros(len(c), dtype=np.int64)
        seen = np.zeros(len(c), dtype=np.int64)
        for j, counts in self._slot_counts(first):
            hit = (parent < 0) & (rest < seen + counts)
            parent[hit] = first[hit] + j
            position[hit] = rest[hit] - seen[hit]
            seen += counts
        return parent, position

    def enclosing(self, start: int, stop: int) -> tuple[int, np.ndarray, np.ndarray]:
        """The children of every parent owning one of the children ``start .. stop - 1``.

        Returns (index of the first of them, parent of each, position of each): the range
        widened to whole parents, for columns that depend on a parent's other children.
        """
        if stop <= start:
            return start, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        last = self._enclosed
        if last is not None and last[0] == (start, stop):  # a chunk's columns ask twice
            return last[1]
        (p0, p1), (pos0, _) = self.parent_of(np.array([start, stop - 1], dtype=np.int64))
        parents = np.arange(p0, p1 + 1, dtype=np.int64)
        counts = self.count(parents)
        parent = np.repeat(parents, counts)
        begin = np.cumsum(counts)
        begin -= counts
        position = np.arange(len(parent), dtype=np.int64)
        position -= np.repeat(begin, counts)
        parent.flags.writeable = position.flags.writeable = False  # shared with the next caller
        result = (start - int(pos0), parent, position)
        self._enclosed = ((start, stop), result)
        return result

    def _slot_counts(self, first: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """(j, count of parent ``first + j``) for j in 0 .. FAN_FINE - 1 (``first`` is slot-aligned)."""
        span = self.high - self.low + 1
        for w in range(FAN_FINE // _FAN_PACK):
            counts = _fan_counts(self.key, self.low, span, (first >> 2) + w, self._state.lut).reshape(-1, _FAN_PACK)
            for k in range(_FAN_PACK):
                yield w * _FAN_PACK + k, counts[:, k].astype(np.int64)

    def total(self) -> int:
        """Children of all ``parents`` parents."""
        if self.parents is None:
            raise ValueError("total() needs the number of parents")
        if self._total is None:
            block, rest = divmod(int(self.parents), FAN_BLOCK)
            total = int(self._state.blocks(block)[block])
            if rest:
                total += int(self._state.block_counts(np.array([block]))[0, :rest].sum(dtype=np.int64))
            self._total = total
        return self._total

    def parents_for(self, children: int) -> int:
        """Number of parents whose children start before child ``children`` (covering ``[0, children)``)."""
        if children <= 0:
            return 0
        return int(self.parent_of(np.array([children - 1], dtype=np.int64))[0][0]) + 1


# --- rows chosen with a small probability, from draws per chosen row -----------------------------

SAMPLE_ROWS = 1 << 16  # rows per block of ``sample``: a block's chosen rows come from its own draws
SPARSE_SHARE = 1 / 16  # above this share ``chosen`` draws per row (fewer draws than gaps)
_GAP_SLOT = 1 << 32  # gap draws of block j are indexed j * this + gap
_SAMPLE_KEY = np.uint64(0x243F6A8885A308D3)  # ``chosen``'s gaps: a stream apart from the key's per-row draws


def sample(key: np.uint64, lo: int, hi: int, p: float) -> np.ndarray:
    """The rows of [lo, hi) chosen each with probability ``p`` independently (ascending), from
    O(chosen rows) draws, not one per row: the gaps between chosen rows are geometric, drawn per
    block of ``SAMPLE_ROWS`` rows (indexed by block and gap), so a row's fate is a pure function
    of (key, its block) whatever range it is asked in."""
    if hi <= lo or p <= 0:
        return np.zeros(0, dtype=np.int64)
    blocks = np.arange(lo // SAMPLE_ROWS, (hi - 1) // SAMPLE_ROWS + 1, dtype=np.int64)
    mean = SAMPLE_ROWS * p
    m = int(math.ceil(mean + 8 * math.sqrt(mean) + 16))  # gaps per block that almost always pass its end
    log_q = fmath.log1p(-p) if p < 1 else -math.inf
    pos = _gaps(key, blocks, 0, m, log_q)
    short = np.flatnonzero(pos[:, -1] < SAMPLE_ROWS)  # blocks whose m gaps end inside them: more gaps
    rows = [(blocks[:, None] * SAMPLE_ROWS + pos)[pos < SAMPLE_ROWS]]
    for i in map(int, short):  # a loop over the rare blocks that need more gaps, not over rows
        at, more = pos[i, -1], m
        while at < SAMPLE_ROWS:
            step = at + 1 + _gaps(key, blocks[i : i + 1], more, m, log_q)[0]
            rows.append(blocks[i] * SAMPLE_ROWS + step[step < SAMPLE_ROWS])
            at, more = step[-1], more + m
    out = np.sort(np.concatenate(rows))
    return out[(out >= lo) & (out < hi)]


def _gaps(key: np.uint64, blocks: np.ndarray, first: int, m: int, log_q: float) -> np.ndarray:
    """Positions in each block after gaps ``first .. first + m`` (cumulative, from -1)."""
    idx = blocks[:, None] * _GAP_SLOT + np.arange(first, first + m, dtype=np.int64)[None, :]
    u = uniform(key, idx.ravel()).reshape(idx.shape)
    with np.errstate(divide="ignore"):
        skip = np.floor(fmath.log1p(-u) / log_q) if log_q > -math.inf else np.zeros_like(u)
    skip = np.minimum(skip, 2.0 * SAMPLE_ROWS)  # past the block anyway: keeps the sum exact in int64
    return np.cumsum(skip.astype(np.int64) + 1, axis=1) - 1


def chosen(key: np.uint64, idx: np.ndarray, p: float) -> np.ndarray:
    """Positions in ``idx`` (ascending rows) of the rows chosen with probability ``p``: by ``sample``
    for a small share (draws per chosen row), else by a draw per row."""
    if len(idx) == 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    if p >= 1:
        return np.arange(len(idx), dtype=np.int64)
    if p > SPARSE_SHARE:
        return np.flatnonzero(uniform(key, idx) < p)
    rows = sample(key ^ _SAMPLE_KEY, int(idx[0]), int(idx[-1]) + 1, p)
    at = np.minimum(np.searchsorted(idx, rows), len(idx) - 1)
    return at[idx[at] == rows]


def chosen_rows(key: np.uint64, lo: int, hi: int, p: float) -> np.ndarray:
    """The rows of [lo, hi) that ``chosen`` picks for a share ``p`` up to ``SPARSE_SHARE`` from
    any ``idx`` holding them (ascending): found without an ``idx``, so a sparse walk need not
    list every row of its range."""
    if p > SPARSE_SHARE:
        raise ValueError(f"chosen_rows needs a share of at most {SPARSE_SHARE}, not {p}")
    return sample(key ^ _SAMPLE_KEY, lo, hi, p)


def chosen_mask(key: np.uint64, idx: np.ndarray, p: float) -> np.ndarray:
    """``chosen`` as a mask over ``idx``."""
    out = np.zeros(len(idx), dtype=bool)
    out[chosen(key, idx, p)] = True
    return out
