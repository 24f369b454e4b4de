"""Unit tests of the counter-based randomness and closed-form fan-out."""

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


@pytest.mark.parametrize("parents", [1, 2, 7, 1000, 1001])
@pytest.mark.parametrize("per_pair,low", [(4, 1), (11, 1), (20, 4)])
def test_paired_fanout_is_consistent_both_ways(parents, per_pair, low):
    fan = rand.PairedFanOut(rand.stream_key(2, "fan"), per_pair, parents, low=low)
    p = np.arange(parents)
    counts, offsets = fan.count(p), fan.offset(p)
    assert counts.min() >= low and counts.max() <= per_pair - low
    assert offsets[0] == 0
    assert np.array_equal(offsets[1:], np.cumsum(counts)[:-1])
    total = fan.total()
    assert total == counts.sum()
    parent, position = fan.parent_of(np.arange(total))
    assert np.array_equal(parent, np.repeat(p, counts))
    assert np.array_equal(position, np.arange(total) - np.repeat(offsets, counts))
