"""What a change batch costs per base row: rows chosen without a draw per row, walks only where a
batch may reach (issue 18: batches at most 2x the per-row cost of plain generation)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gengo import api
from gengo.core import fmath, rand
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


def test_financial_scattered_price_rows_are_the_base_rows_and_the_window_close_its_last() -> None:
    """A batch's corrections regenerate scattered old rows and its new sessions start from the
    window's last close: both from the walk's segments alone, with the base's bits."""
    from gengo.models import financial as fin

    p = api.plan("financial", "1MB", "parquet", 3)
    n, prices = p.rows[fin.COMPANIES], p.model.table(fin.PRICES)
    rows = p.rows[fin.PRICES]
    full = pa.concat_tables(
        prices.generate(p.seed, p.rows, np.arange(a, min(a + 7_919, rows), dtype=np.int64))  # chunks cut companies
        for a in range(0, rows, 7_919)
    )
    scattered = np.unique(np.random.default_rng(0).integers(0, rows, 300))
    assert prices.generate(p.seed, p.rows, scattered).equals(full.take(pa.array(scattered)))
    company = np.arange(n, dtype=np.int64)
    exchange, _ = fin.company_listing(p.seed, n, company)
    drift_d, sigma_d, log_p0, _ = fin._company_params(p.seed, n, company, exchange)
    log_p0 += fmath.log(fin._UNITS)
    walk = (drift_d, sigma_d, log_p0)
    last_day = fin._calendars()[2][exchange] - 1
    _, close, _ = fin._walk(p.seed, company, exchange, walk, company, last_day)
    assert close.tobytes() == fin._window_close(p.seed, n, company, exchange, walk).tobytes()
    # A run of another size in the same process (another company count, so other listings and
    # parameters for the same company numbers) does not get these closes from the cache.
    m = n + 7
    other = np.arange(m, dtype=np.int64)
    ex_m, _ = fin.company_listing(p.seed, m, other)
    d_m, s_m, p_m, _ = fin._company_params(p.seed, m, other, ex_m)
    walk_m = (d_m, s_m, p_m + fmath.log(fin._UNITS))
    _, close_m, _ = fin._walk(p.seed, other, ex_m, walk_m, other, fin._calendars()[2][ex_m] - 1)
    fin._window_close(p.seed, m, other[:n], ex_m[:n], (d_m[:n], s_m[:n], walk_m[2][:n]))  # same key but the count
    assert fin._window_close(p.seed, m, other[:n], ex_m[:n], (d_m[:n], s_m[:n], walk_m[2][:n])).tobytes() == (
        close_m[:n].tobytes()
    )
    assert fin._window_close(p.seed, n, company, exchange, walk).tobytes() == close.tobytes()


def test_financial_walk_returns_are_independent_standard_normals_across_segments() -> None:
    """The bridge inside a segment keeps daily returns i.i.d. N(0, 1) (drift 0, volatility 1):
    on a segment's first and last day as on the others, uncorrelated day to day, and a segment's
    total has variance equal to its sessions."""
    from gengo.models import financial as fin

    companies = 3_000
    company = np.arange(companies, dtype=np.int64)
    exchange = np.zeros(companies, dtype=np.int64)  # all on one calendar
    days = int(fin._calendars()[2][0])
    walk = (np.zeros(companies), np.ones(companies), np.zeros(companies))
    row_of = np.repeat(company, days)
    day = np.tile(np.arange(days, dtype=np.int64), companies)
    previous, close, move = fin._walk(11, company, exchange, walk, row_of, day)
    r = (close - previous).reshape(companies, days)
    assert np.allclose(np.abs(r), move.reshape(companies, days))
    assert abs(r.mean()) < 0.005 and abs(r.var() - 1) < 0.01
    within = np.arange(days) % fin._SEGMENT
    for k in (0, 1, fin._SEGMENT - 1):
        assert abs(r[:, within == k].var() - 1) < 0.03, k
    lag = (r[:, 1:] * r[:, :-1]).mean()
    assert abs(lag) < 0.005
    full = days // fin._SEGMENT * fin._SEGMENT
    totals = r[:, :full].reshape(companies, -1, fin._SEGMENT).sum(axis=2)
    assert abs(totals.var() / fin._SEGMENT - 1) < 0.03


@pytest.mark.parametrize(
    ("model", "table"), [("ecommerce-ds", "customer_address"), ("financial", "fact_daily_stock_prices")]
)
def test_a_sparse_walk_lists_every_row_a_batch_changes_and_few_others(model: str, table: str) -> None:
    """A pick that knows its rows (``among``) or a small share: the walk's rows, found without listing
    the table's, hold every row some batch updates or deletes, and are a small part of the table."""
    ch = _changes(model, "5MB")
    assert ch.sparse(table)
    n = ch.counts[0][table]
    idx = np.arange(n, dtype=np.int64)
    deleted = ch.deleted_in(table, idx, 3)
    changed = set(idx[deleted > 0])
    for b in range(1, 4):
        for column in ch._spec(table).update:
            changed |= set(idx[ch.updated_at(table, column, idx, b, deleted)])
    drawn = ch.drawn(table, 0, n, 3)
    assert changed and changed <= set(drawn)
    assert len(drawn) < n / 10
