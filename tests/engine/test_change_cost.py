"""What a change batch costs per base row: rows chosen without a draw per row, walks only where a
batch may reach (issue 18: batches at most 2x the per-row cost of plain generation)."""

from __future__ import annotations

import numpy as np
import pytest

from gengo import api
from gengo.core import rand
from gengo.core.rand import SAMPLE_ROWS, chosen, sample
from gengo.engine import change_blocks
from gengo.engine.changes import Changes

KEY = rand.stream_key(5, "t", "_changes", "update", "c", "1")


@pytest.mark.parametrize("p", [1e-4, 0.01, 1 / 16])
def test_sampled_rows_are_a_function_of_the_row_whatever_the_range(p: float) -> None:
    n = 5 * SAMPLE_ROWS + 123
    every = sample(KEY, 0, n, p)
    assert np.all(np.diff(every) > 0) and every.min() >= 0 and every.max() < n
    assert abs(len(every) - n * p) < 6 * np.sqrt(n * p) + 2  # each row with probability p
    for lo, hi in [(1, n - 1), (SAMPLE_ROWS - 7, 3 * SAMPLE_ROWS + 5), (4321, 4322)]:
        assert np.array_equal(sample(KEY, lo, hi, p), every[(every >= lo) & (every < hi)])
    full = np.arange(n, dtype=np.int64)
    picked = full[chosen(KEY, full, p)]
    idx = full[::3]  # any ascending subset: the same rows
    assert np.array_equal(idx[chosen(KEY, idx, p)], np.intersect1d(idx, picked))


def test_a_small_share_draws_per_chosen_row_not_per_row(monkeypatch) -> None:
    drawn = []
    uniform = rand.uniform
    monkeypatch.setattr(rand, "uniform", lambda key, idx: drawn.append(len(idx)) or uniform(key, idx))
    n = 40 * SAMPLE_ROWS
    hits = chosen(KEY, np.arange(n, dtype=np.int64), 1e-4)
    assert 0 < len(hits) < n * 1e-3
    assert sum(drawn) < n / 100  # a draw per row would be n


def _changes(model: str, size: str, batches: int = 3) -> Changes:
    p = api.plan(model, size, "parquet", 1)
    return Changes(p.model, p.seed, p.rows, batches)


def test_medical_walks_only_the_visits_booked_in_batches() -> None:
    ch = _changes("medical", "2MB")
    base = ch.counts[0]["fact_appointments"]
    lo, hi = change_blocks.walk_rows(ch, "fact_appointments", history=False)
    assert (lo, hi) == (base, ch.counts[-2]["fact_appointments"])  # no base row is walked
    assert change_blocks.walk_rows(ch, "fact_appointments", history=True) == (0, ch.counts[-1]["fact_appointments"])


def test_financial_window_closes_noted_by_the_base_are_the_recomputed_bits() -> None:
    from gengo.models import financial as fin

    p = api.plan("financial", "1MB", "parquet", 3)
    n, prices = p.rows[fin.COMPANIES], p.model.table(fin.PRICES)
    fin._LAST_CLOSE.clear()
    recomputed = fin._window_close(p.seed, n)
    fin._LAST_CLOSE.clear()
    rows = p.rows[fin.PRICES]
    for a in range(0, rows, 7_919):  # chunks cutting through companies
        prices.generate(p.seed, p.rows, np.arange(a, min(a + 7_919, rows), dtype=np.int64))
    noted = fin._known_closes(p.seed, n).copy()
    assert not np.isnan(noted).any()  # every company's last close came from the base's walk
    assert noted.tobytes() == recomputed.tobytes()
    fin._LAST_CLOSE.clear()
