"""Unit tests of the counter-based randomness and the variable fan-out."""

import numpy as np
import pytest

from gengo.core import rand


def test_stream_values_do_not_depend_on_chunking():
    key = rand.stream_key(7, "t", "c")
    whole = rand.uniform(key, np.arange(10_000))
    parts = np.concatenate([rand.uniform(key, np.arange(a, min(a + 333, 10_000))) for a in range(0, 10_000, 333)])
    assert np.array_equal(whole, parts)


def test_streams_differ_by_seed_and_name():
    idx = np.arange(1000)
    a = rand.uniform(rand.stream_key(1, "t", "c"), idx)
    assert not np.array_equal(a, rand.uniform(rand.stream_key(2, "t", "c"), idx))
    assert not np.array_equal(a, rand.uniform(rand.stream_key(1, "t", "d"), idx))


def test_uniform_and_integers_ranges():
    idx = np.arange(200_000)
    u = rand.uniform(rand.stream_key(1, "u"), idx)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    k = rand.integers(rand.stream_key(1, "i"), idx, -3, 5)
    assert k.min() == -3 and k.max() == 5
    counts = np.bincount(k + 3)
    assert counts.min() > 0.9 * counts.mean()


def test_weighted_choice_follows_weights():
    w = np.array([1.0, 3.0, 6.0])
    pick = rand.weighted_choice(rand.stream_key(3, "w"), np.arange(100_000), w)
    share = np.bincount(pick, minlength=3) / 100_000
    assert np.allclose(share, w / w.sum(), atol=0.01)


def test_normal_moments():
    z = rand.normal(rand.stream_key(4, "n"), np.arange(200_000))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02


@pytest.mark.parametrize("exponent", [0.8, 1.0])
def test_power_law_is_skewed_but_covers_every_rank(exponent):
    n = 1000
    r = rand.power_law_rank(rand.stream_key(5, "p"), np.arange(2_000_000), n, exponent)
    counts = np.bincount(r, minlength=n)
    assert r.min() == 0 and r.max() == n - 1
    assert (counts > 0).all(), "every key must be able to occur"
    top_share = counts[: n // 100].sum() / counts.sum()
    assert top_share > 0.15, f"top 1% of ranks get only {top_share:.1%}"
    assert counts[0] > 20 * counts[-1]


@pytest.mark.parametrize("n", [1, 2, 3, 10, 997, 1 << 20, (1 << 40) + 7])
def test_permutation_is_a_bijection(n):
    perm = rand.Permutation(rand.stream_key(9, "perm"), n)
    sample = np.arange(min(n, 100_000), dtype=np.int64)
    out = perm(sample)
    assert out.min() >= 0 and out.max() < n
    assert len(np.unique(out)) == len(sample)
    if n <= 100_000:
        assert np.array_equal(np.sort(out), sample)


# --- fan-out ---------------------------------------------------------------------------------

RANGES = [(1, 3), (1, 10), (8, 16), (4, 14)]  # addresses, order items, store and web/catalog lines


def _fan(low: int, high: int, parents: int | None = None, seed: int = 2) -> rand.FanOut:
    return rand.FanOut(rand.stream_key(seed, "fan", str(low), str(high)), low, high, parents)


@pytest.mark.parametrize("low,high", RANGES)
def test_fanout_counts_are_uniform_and_independent(low, high):
    n = 400_000
    counts = _fan(low, high).count(np.arange(n)).astype(np.float64)
    span = high - low + 1
    # Marginal: every value equally likely (chi-square with span - 1 degrees of freedom, far tail).
    freq = np.bincount(counts.astype(np.int64) - low, minlength=span)
    assert len(freq) == span and freq.min() > 0
    expected = n / span
    chi2 = ((freq - expected) ** 2 / expected).sum()
    assert chi2 < span - 1 + 6 * np.sqrt(2 * (span - 1)), chi2
    # Neighbours, including those sharing a hash word (lags 1-3) and the old mirror pairs
    # (2k, 2k + 1): correlation within 5 standard errors of 0.
    for lag in range(1, 9):
        r = np.corrcoef(counts[:-lag], counts[lag:])[0, 1]
        assert abs(r) < 5 / np.sqrt(n), (lag, r)
    pairs = counts.reshape(-1, 2)
    r = np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]
    assert abs(r) < 5 / np.sqrt(n / 2), r
    # Aggregates over many parents vary as for independent draws: variance of means of 100.
    var = (span**2 - 1) / 12
    means = counts.reshape(-1, 100).mean(axis=1)
    ratio = means.var() / (var / 100)
    assert abs(ratio - 1) < 5 * np.sqrt(2 / len(means)), ratio


@pytest.mark.parametrize("low,high", RANGES + [(0, 2)])
def test_fanout_offset_parent_of_and_total_agree_with_counts(low, high):
    parents = 5 * rand.FAN_BLOCK + 1234
    fan = _fan(low, high, parents)
    p = np.arange(parents)
    counts = fan.count(p)
    offsets = np.cumsum(counts) - counts
    total = int(counts.sum())
    assert fan.total() == total
    rng = np.random.default_rng(low * 100 + high)
    # Contiguous ranges cut at random points, as chunks of a table ask for them.
    for a, b in np.sort(rng.integers(0, parents, (20, 2)), axis=1):
        assert np.array_equal(fan.offset(p[a:b]), offsets[a:b])
    child_parent = np.repeat(p, counts)
    child_position = np.arange(total) - np.repeat(offsets, counts)
    for a, b in np.sort(rng.integers(0, total, (20, 2)), axis=1):
        parent, position = fan.parent_of(np.arange(a, b))
        assert np.array_equal(parent, child_parent[a:b]) and np.array_equal(position, child_position[a:b])
    # Scattered look-ups in any order, with repeats.
    q = rng.integers(0, parents, 3000)
    assert np.array_equal(fan.offset(q), offsets[q])
    c = rng.integers(0, total, 3000)
    parent, position = fan.parent_of(c)
    assert np.array_equal(parent, child_parent[c]) and np.array_equal(position, child_position[c])
    if low > 0:
        assert fan.parents_for(total) == parents
        assert fan.parents_for(total - 1) == parents
        assert fan.parents_for(int(offsets[-1])) == parents - 1
    assert fan.parents_for(0) == 0


def test_fanout_enclosing_widens_a_range_to_whole_parents():
    fan = _fan(4, 14, 2 * rand.FAN_BLOCK, seed=3)
    counts = fan.count(np.arange(2 * rand.FAN_BLOCK))
    offsets = np.cumsum(counts) - counts
    for start, stop in [
        (0, 1),
        (5, 6),
        (100, 7000),
        (int(offsets[rand.FAN_BLOCK]) - 3, int(offsets[rand.FAN_BLOCK]) + 9),
    ]:
        first, parent, position = fan.enclosing(start, stop)
        p0, p1 = fan.parent_of(np.array([start, stop - 1]))[0]
        assert first == offsets[p0] and len(parent) == counts[p0 : p1 + 1].sum()
        assert np.array_equal(parent, np.repeat(np.arange(p0, p1 + 1), counts[p0 : p1 + 1]))
        assert np.array_equal(position, np.concatenate([np.arange(k) for k in counts[p0 : p1 + 1]]))


def test_fanout_scattered_look_ups_across_many_blocks_use_the_fine_index():
    parents = 300 * rand.FAN_BLOCK
    fan = _fan(1, 3, parents, seed=11)
    counts = fan.count(np.arange(parents))
    offsets = np.cumsum(counts) - counts
    q = np.random.default_rng(3).integers(0, parents, 2000)
    assert np.array_equal(fan.offset(q), offsets[q])
    assert np.array_equal(fan.offset(np.sort(q)), np.sort(offsets[q]))
    c = offsets[q] + np.minimum(counts[q] - 1, 1)
    parent, position = fan.parent_of(c)
    assert np.array_equal(parent, q) and np.array_equal(position, np.minimum(counts[q] - 1, 1))
    assert fan._state.n_fine > 0


def test_fanout_dense_table_and_fine_index_give_the_same_offsets():
    parents = 40 * rand.FAN_BLOCK + 99
    rand._prefix.cache_clear()
    fan = _fan(1, 3, parents, seed=12)
    counts = fan.count(np.arange(parents))
    offsets = np.cumsum(counts) - counts
    rng = np.random.default_rng(5)
    few = rng.integers(0, parents, 500)  # too few look-ups to pay for a table: the fine index
    assert np.array_equal(fan.offset(few), offsets[few])
    assert fan._state.n_fine > 0 and len(fan._state.dense_table) == 0
    many = rng.integers(0, parents // 2, 200_000)  # a chunk's worth: the table, for what it asks
    assert np.array_equal(fan.offset(many), offsets[many])
    built = len(fan._state.dense_table)
    assert int(many.max()) < built < parents + rand.FAN_BLOCK
    # Small look-ups: the table where it reaches, the fine index beyond it; a big one grows it.
    assert np.array_equal(fan.offset(few), offsets[few])
    assert np.array_equal(fan.offset(few[few < built]), offsets[few[few < built]])
    assert np.array_equal(fan.offset(np.arange(parents)), offsets)
    assert len(fan._state.dense_table) >= parents


def test_fanout_is_the_same_in_any_chunking_and_any_cache_state():
    low, high, parents = 1, 10, 3 * rand.FAN_BLOCK + 77
    fan = _fan(low, high, parents, seed=5)
    total = fan.total()
    whole = fan.parent_of(np.arange(total))
    first = fan.offset(np.arange(parents))
    for chunk in (777, 65_536, 300_001):
        rand._prefix.cache_clear()
        # The last chunk first: the prefix sums grow in another order, the answers do not change.
        starts = list(range(0, total, chunk))[::-1]
        parts = {a: _fan(low, high, parents, seed=5).parent_of(np.arange(a, min(a + chunk, total))) for a in starts}
        parent = np.concatenate([parts[a][0] for a in sorted(parts)])
        position = np.concatenate([parts[a][1] for a in sorted(parts)])
        assert np.array_equal(parent, whole[0]) and np.array_equal(position, whole[1])
        ends = list(range(0, parents, chunk))[::-1]
        got = {a: _fan(low, high, parents, seed=5).offset(np.arange(a, min(a + chunk, parents))) for a in ends}
        assert np.array_equal(np.concatenate([got[a] for a in sorted(got)]), first)
    assert _fan(low, high, parents, seed=5).total() == total


def test_fanout_state_is_a_few_integers_per_block():
    parents = 200 * rand.FAN_BLOCK + 5
    fan = _fan(1, 10, parents, seed=8)
    fan.total()
    fan.parent_of(np.arange(fan.total() - 300_000, fan.total()))
    state = fan._state
    assert state.n_coarse <= parents // rand.FAN_BLOCK + 2
    assert state.coarse.nbytes <= 2 * 8 * state.n_coarse
    assert state.n_fine == 0  # contiguous requests never build the fine index


@pytest.mark.parametrize("low,high", [(-1, 3), (4, 3), (0, 0), (1, 300)])
def test_fanout_rejects_bad_ranges(low, high):
    with pytest.raises(ValueError):
        rand.FanOut(rand.stream_key(1, "f"), low, high, 10)


def test_weighted_fanout_draws_the_given_distribution_and_stays_consistent():
    weights = (50, 20, 15, 10, 5)
    n = 300_000
    fan = rand.FanOut(rand.stream_key(9, "t", "fanout"), 0, 4, n, weights)
    counts = fan.count(np.arange(n, dtype=np.int64))
    share = np.bincount(counts, minlength=5) / n
    expected = np.array(weights) / sum(weights)
    assert np.abs(share - expected).max() < 5 * np.sqrt(expected * (1 - expected) / n).max()
    assert fan.total() == counts.sum()
    parent, position = fan.parent_of(np.arange(fan.total(), dtype=np.int64))
    assert (np.bincount(parent, minlength=n) == counts).all()
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    probe = np.array([0, 7, 65_535, 200_001, n - 1], dtype=np.int64)
    assert (fan.offset(probe) == first[probe]).all()
    assert (position == np.arange(len(parent)) - first[parent]).all()
    # The uniform case keeps its own draws (and the built-in models their bytes).
    uniform = rand.FanOut(rand.stream_key(9, "t", "fanout"), 0, 4, n)
    assert not (uniform.count(np.arange(100)) == counts[:100]).all()


@pytest.mark.skipif(rand._C is None, reason="the C kernels were not built")
def test_c_draws_equal_the_numpy_expressions():
    key = rand.stream_key(11, "t", "c")
    edges = [-1, -(2**63), 2**63 - 1]
    idx = np.concatenate([np.arange(0, 50_000), np.arange(2**40, 2**40 + 1000), edges]).astype(np.int64)
    z = rand._bits(key, idx)
    assert np.array_equal(rand.bits(key, idx), z)
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    assert np.array_equal(rand.uniform(key, idx), u)
    for low, high in [(0, 9), (-5, 5), (1, 10**12), (0, 2**62), (-(2**40), 2**40)]:
        want = np.minimum(np.floor(u * (high - low + 1)).astype(np.int64), high - low) + low
        assert np.array_equal(rand.integers(key, idx, low, high), want), (low, high)
    # other index kinds take the same path, or NumPy's, with the same values
    assert np.array_equal(rand.bits(key, idx[:100].astype(np.int32)), z[:100])
    assert np.array_equal(rand.bits(key, idx[:100][::-1]), z[:100][::-1])
    assert rand.uniform(key, np.array(5)).shape == ()


def test_the_shipped_normal_table_is_the_normal_quantiles():
    """The table travels as data (host-independent bits); it is what NormalDist computes, to a
    few units in the last place on any host."""
    table = rand._NORMAL_TABLE
    assert len(table) == 1 << rand._NORMAL_BITS and np.all(np.diff(table) > 0)
    assert np.allclose(table, rand._normal_quantiles(len(table)), rtol=1e-14, atol=0)
