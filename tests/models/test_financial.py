"""End-to-end: the real `gengo` command writes the financial model; DuckDB checks the data."""

import functools
import os
import re
import subprocess
import sys
import warnings

import duckdb
import exchange_calendars
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gengo.models import financial, resolve_model
from tests.helpers import assert_one_line_error, connect, gen, run_gengo
from tests.model_checks import differences_from_model, violations

FORMATS = ["csv", "json", "parquet"]
MODEL = resolve_model("fin")
SIZE = "0.005"
SEED = 11


@pytest.fixture(scope="session")
def fin_datasets(tmp_path_factory):
    return {fmt: gen(tmp_path_factory.mktemp(f"fin-{fmt}"), "financial", SIZE, fmt, SEED) for fmt in FORMATS}


@pytest.fixture(params=FORMATS)
def con(request, fin_datasets):
    c = connect(fin_datasets[request.param], request.param, "financial")
    c.execute("SET TimeZone = 'UTC'")
    return c


def test_ohlc_inequalities_hold_on_every_row(con):
    bad = con.execute("""SELECT count(*) FROM fact_daily_stock_prices
                         WHERE NOT (low_price > 0 AND low_price <= least(open_price, close_price)
                                    AND greatest(open_price, close_price) <= high_price AND volume > 0)""").fetchone()[
        0
    ]
    assert bad == 0


MICS = ("XNAS", "XNYS", "XLON", "XTKS", "XHKG")  # exchange_id 1..5


@functools.cache
def _library_sessions(mic: str) -> list[str]:
    with warnings.catch_warnings():  # the library's pandas deprecation notices
        warnings.simplefilter("ignore")
        days = exchange_calendars.get_calendar(mic).sessions_in_range("2020-01-02", "2024-12-31")
    return [str(d.date()) for d in days]


def test_each_exchange_trades_on_its_own_calendar(con):
    for exchange_id, mic in enumerate(MICS, 1):
        dates = con.execute(
            "SELECT DISTINCT date FROM fact_daily_stock_prices WHERE exchange_id = ? ORDER BY 1", [exchange_id]
        ).fetchall()
        assert [str(d) for (d,) in dates] == _library_sessions(mic), mic
    # Every company has one row per session of its exchange, no more.
    counts = dict(zip(range(1, 6), (len(_library_sessions(m)) for m in MICS), strict=True))
    shapes = con.execute("""SELECT exchange_id, count(*), count(DISTINCT date) FROM fact_daily_stock_prices
                            GROUP BY company_id, exchange_id""").fetchall()
    assert shapes and all(n == d == counts[e] for e, n, d in shapes)
    # Weekends, yearly holidays and a few that differ between the markets: a declared check of the model.


def test_one_exchange_per_company_and_real_exchanges(con):
    hopping = con.execute("""SELECT count(*) FROM (SELECT company_id FROM fact_daily_stock_prices GROUP BY 1
                             HAVING count(DISTINCT exchange_id) > 1)""").fetchone()[0]
    assert hopping == 0
    mismatch = con.execute("""SELECT count(*) FROM fact_daily_stock_prices f JOIN dim_companies c USING (company_id)
                              WHERE f.exchange_id <> c.exchange_id""").fetchone()[0]
    assert mismatch == 0
    exchanges = con.execute("SELECT exchange_name, country, mic, currency FROM dim_exchanges ORDER BY exchange_id")
    assert exchanges.fetchall() == [
        ("NASDAQ", "United States", "XNAS", "USD"),
        ("New York Stock Exchange", "United States", "XNYS", "USD"),
        ("London Stock Exchange", "United Kingdom", "XLON", "GBX"),
        ("Tokyo Stock Exchange", "Japan", "XTKS", "JPY"),
        ("Hong Kong Stock Exchange", "Hong Kong", "XHKG", "HKD"),
    ]


TICKER_STYLE = {1: "[A-Z]{1,5}", 2: "[A-Z]{1,5}", 3: "[A-Z]{2,4}", 4: "[1-9][0-9A-Z][0-9][0-9A-Z]", 5: "0[0-9]{4}"}


def ticker_problems(con) -> list[str]:
    """Tickers off their exchange's style or repeated inside an exchange (or across the US ones)."""
    problems = []
    for exchange_id, pattern in TICKER_STYLE.items():
        bad = con.execute(
            "SELECT list(ticker_symbol) FILTER (WHERE NOT regexp_full_match(ticker_symbol, ?)) FROM dim_companies "
            "WHERE exchange_id = ?",
            [pattern, exchange_id],
        ).fetchone()[0]
        if bad:
            problems.append(f"exchange {exchange_id}: {bad[:5]}")
    dup = con.execute("""SELECT count(*) FROM (SELECT CASE WHEN exchange_id <= 2 THEN 0 ELSE exchange_id END,
                         ticker_symbol FROM dim_companies GROUP BY ALL HAVING count(*) > 1)""").fetchone()[0]
    if dup:
        problems.append(f"{dup} tickers repeated inside an exchange")
    numeric = con.execute("""SELECT count(*) FILTER (WHERE regexp_full_match(ticker_symbol, '[0-9]{4}')
                             AND NOT TRY_CAST(ticker_symbol AS INT) BETWEEN 1301 AND 9997), count(*) FILTER (WHERE
                             exchange_id = 5 AND ticker_symbol = '00000') FROM dim_companies
                             WHERE exchange_id >= 4""").fetchone()
    if any(numeric):
        problems.append(f"codes out of range: {numeric}")
    return problems


def test_tickers_in_each_exchange_style_and_unique_names(con):
    assert ticker_problems(con) == []
    n, names, exchanges = con.execute(
        "SELECT count(*), count(DISTINCT company_name), count(DISTINCT exchange_id) FROM dim_companies"
    ).fetchone()
    assert n > 20 and names == n and exchanges == 5
    # At this size every TSE code is one of the numeric codes, as before 2024.
    (tse,) = con.execute("""SELECT bool_and(regexp_full_match(ticker_symbol, '[0-9]{4}')) FROM dim_companies
                            WHERE exchange_id = 4""").fetchone()
    assert tse


def test_walk_is_believable(con):
    # Open near the previous close, volume heavy-tailed, sectors drive volatility.
    (max_gap,) = con.execute("""SELECT max(abs(open_price / prev - 1)) FROM (SELECT open_price,
                              lag(close_price) OVER (PARTITION BY company_id ORDER BY date) prev
                              FROM fact_daily_stock_prices) WHERE prev IS NOT NULL""").fetchone()
    assert max_gap < 0.25
    (ratio,) = con.execute("SELECT max(volume) / median(volume) FROM fact_daily_stock_prices").fetchone()
    assert ratio > 20
    staples, tech = con.execute("""SELECT
            median(sd) FILTER (WHERE sector = 'Consumer Staples'), median(sd) FILTER (WHERE sector = 'Technology')
            FROM (SELECT company_id, stddev(ln(close_price / prev)) sd FROM (SELECT company_id, close_price,
                  lag(close_price) OVER (PARTITION BY company_id ORDER BY date) prev FROM fact_daily_stock_prices)
                  GROUP BY 1) JOIN dim_companies USING (company_id)""").fetchone()
    assert staples is not None and tech is not None, "the dataset has both sectors"
    assert staples < tech


def test_formats_hold_the_model_values(fin_datasets):
    for fmt in FORMATS:
        c = connect(fin_datasets[fmt], fmt, "financial")
        assert differences_from_model(c, fin_datasets[fmt], "financial", SEED) == [], fmt


def test_parquet_types(fin_datasets):
    schema = pq.read_schema(fin_datasets["parquet"] / "fact_daily_stock_prices.parquet")
    assert str(schema.field("date").type) == "date32[day]"
    assert str(schema.field("price_id").type) == "int64"
    assert str(schema.field("close_price").type) == "decimal128(12, 4)"
    assert str(schema.field("volume").type) == "int64"
    assert schema.names[:9] == [
        "price_id",
        "date",
        "company_id",
        "exchange_id",
        "open_price",
        "high_price",
        "low_price",
        "close_price",
        "volume",
    ]


def lse_tick(band: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Tick in 1e-4 pence of an LSE price (in the same units) in MiFID II liquidity band 1..6."""
    mifid = np.array([[float(v) for v in line.split()] for line in financial.MIFID_TICKS.strip().splitlines()])
    row = np.searchsorted(mifid[:, 0], units / 10_000, side="right") - 1
    return np.rint(mifid[row, band] * 10_000).astype(np.int64)


@pytest.fixture(scope="session")
def tick_data(tmp_path_factory):
    """500 companies as Parquet: enough LSE listings to span the liquidity bands."""
    out = tmp_path_factory.mktemp("fin-ticks") / "out"
    args = ["gen", "-m", "financial", "--rows", "dim_companies=500", "-f", "parquet", "-o", str(out), "--seed"]
    r = run_gengo(*args, str(SEED), "-q")  # sized by --rows alone (with --size both could not hold)
    assert r.returncode == 0, r.stderr
    return connect(out, "parquet", "financial")


def test_every_price_is_on_its_exchange_tick_grid(tick_data):
    """The declared tick checks hold over 500 companies; what SQL cannot say is checked here: an LSE
    listing's tick is the one of the liquidity band the model gives the company (from its volume)."""
    for name in ("prices_on_the_exchange_tick_grid", "tse_volume_in_trading_units"):
        found = violations(tick_data, next(c for c in MODEL.checks if c.name == name))
        assert found[0] == 0, (name, found)
    rows = tick_data.execute("""SELECT company_id, exchange_id,
                                (open_price * 10000)::BIGINT o, (high_price * 10000)::BIGINT h,
                                (low_price * 10000)::BIGINT l, (close_price * 10000)::BIGINT c
                                FROM fact_daily_stock_prices""").fetchnumpy()
    exchange_id = rows["exchange_id"]
    lse = exchange_id == 3
    band = financial.liquidity_band(SEED, rows["company_id"][lse] - 1)
    for col in "ohlc":
        units = rows[col][lse]
        off = units % lse_tick(band, units) != 0
        assert not off.any(), (col, units[off][:5], band[off][:5])
    assert np.all(rows["l"] <= np.minimum(rows["o"], rows["c"]))
    assert np.all(np.maximum(rows["o"], rows["c"]) <= rows["h"])
    # The LSE listings span several liquidity bands, and coarse ticks really are used.
    assert len(np.unique(band)) >= 4
    assert np.any(rows["c"][exchange_id == 4] % 50_000 == 0) and np.any(rows["c"][exchange_id == 4] > 3_000 * 10_000)


def test_a_price_rounded_up_past_a_band_end_takes_the_coarser_tick():
    """HK$10.00005 rounded up on the 0.01 grid would be 10.01, inside the 0.02 band; TSE 3,000.5 yen
    on the 1-yen grid 3,001, inside the 5-yen band: each goes to the next point of the band it lands in."""
    units = financial._UNITS
    hk = np.array([10.00005, 10.0, 9.995, 19.99999]) * units
    tse = np.array([3_000.5, 2_999.2]) * units
    regime = np.array([8] * len(hk) + [7] * len(tse))
    (up,) = financial._on_ticks((np.concatenate([hk, tse]),), (np.ceil,), regime)
    assert list(up) == [v * units for v in (10.02, 10.0, 10.0, 20.0)] + [3_005 * units, 3_000 * units]


def test_price_levels_typical_of_each_market(tick_data):
    levels = dict(
        (e, (p05, med, p95))
        for e, p05, med, p95 in tick_data.execute("""SELECT exchange_id, quantile_cont(close_price, 0.05),
            median(close_price), quantile_cont(close_price, 0.95) FROM fact_daily_stock_prices GROUP BY 1""").fetchall()
    )
    for exchange_id, (low, high) in {
        1: (10, 150),
        2: (10, 150),
        3: (80, 1_500),
        4: (500, 10_000),
        5: (0.5, 40),
    }.items():
        p05, med, p95 = (float(v) for v in levels[exchange_id])
        assert low <= med <= high, (exchange_id, med)
        assert low / 30 <= p05 and p95 <= high * 30, (exchange_id, p05, p95)


def test_tickers_of_a_larger_dataset(tick_data):
    assert ticker_problems(tick_data) == []


def test_chunks_are_independent():
    rows = MODEL.row_counts(10 * 1250, 5)
    assert rows[financial.COMPANIES] == 10
    table = MODEL.table(financial.PRICES)
    n = rows[financial.PRICES]
    whole = table.generate(5, rows, np.arange(n))
    cuts = [0, 1, 700, 1222, 1258, 1259, 5000, 8000, n]
    parts = [table.generate(5, rows, np.arange(a, b)) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert pa.concat_tables(parts).equals(whole)


def test_price_rows_run_company_by_company_over_their_exchange_sessions():
    """Over a full block of companies and a partial one: the closed-form layout matches the listing."""
    n = 1_500
    seed = 4
    total = MODEL.row_counts(1, seed) | {financial.COMPANIES: n}
    total.update(financial.derive(total, seed))
    at = financial._locate(seed, n, np.arange(total[financial.PRICES]))
    company, exchange, day = at.company, at.exchange, at.session
    listed, _ = financial.company_listing(seed, n, np.arange(n))
    counts = financial.session_counts()
    assert np.array_equal(np.bincount(company, minlength=n), counts[listed])
    assert np.all(np.diff(company) >= 0) and np.array_equal(exchange, listed[company])
    first = np.concatenate([[0], np.cumsum(counts[listed])[:-1]])
    assert np.array_equal(day, np.arange(len(company)) - first[company])
    # Chunks cut around the first company of the second block give the same rows.
    table = MODEL.table(financial.PRICES)
    edge = int(first[1_000])
    whole = table.generate(seed, total, np.arange(edge - 2_000, edge + 2_000))
    parts = [table.generate(seed, total, np.arange(a, b)) for a, b in ((edge - 2_000, edge - 1), (edge - 1, edge),
             (edge, edge + 2_000))]  # fmt: skip
    assert pa.concat_tables(parts).equals(whole)
    # Exchange shares are exact per block of 1,000 companies.
    assert np.bincount(listed[:1_000], minlength=5).tolist() == [340, 280, 140, 140, 100]


def test_tickers_and_names_stay_unique_at_scale():
    # 150,000 companies: more TSE listings than numeric codes, and the HKEX share capped at its 9,999 codes.
    n = 150_000
    rows = {financial.COMPANIES: n, financial.EXCHANGES: 5, financial.PRICES: 0}
    t = MODEL.table(financial.COMPANIES).generate(3, rows, np.arange(n))
    con = duckdb.connect()
    con.register("dim_companies", t)
    assert ticker_problems(con) == []
    per_exchange = dict(con.execute("SELECT exchange_id, count(*) FROM dim_companies GROUP BY 1").fetchall())
    assert per_exchange[5] <= 9_999 and per_exchange[4] > 8_697 and sum(per_exchange.values()) == n
    (alnum,) = con.execute("""SELECT count(*) FROM dim_companies
                              WHERE exchange_id = 4 AND regexp_matches(ticker_symbol, '[A-Z]')""").fetchone()
    assert alnum == per_exchange[4] - 8_697
    assert len(set(t["company_name"].to_pylist())) == n
    # At the largest size every exchange stays within its codes.
    decks = financial._decks(financial.MAX_COMPANIES)
    assert decks.listed.sum() == financial.MAX_COMPANIES and np.all(decks.listed <= financial._CAPACITY)


def test_too_many_companies_is_one_clear_line(tmp_path):
    too_many = f"dim_companies={financial.MAX_COMPANIES + 1}"
    r = run_gengo("gen", "-m", "fin", "-f", "csv", "-o", str(tmp_path), "--rows", too_many)
    assert_one_line_error(r, "at most", "companies")


def _imports_calendars(*gengo_args: str, cache: str) -> bool:
    code = (
        "import sys\nfrom gengo.cli import main\n"
        f"main({list(gengo_args)!r})\n"
        "print('exchange_calendars' in sys.modules)"
    )
    env = dict(os.environ, GENGO_CACHE_DIR=cache)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and not r.stderr, r.stderr
    return r.stdout.strip().splitlines()[-1] == "True"


def test_calendars_load_only_when_needed_and_once(tmp_path):
    cache = str(tmp_path / "cache")
    assert not _imports_calendars("--help", cache=cache)
    assert not _imports_calendars("models", cache=cache)
    # The first plan builds the sessions with the library; later processes read them back.
    assert _imports_calendars("plan", "-m", "fin", "-f", "csv", "-s", "10MB", cache=cache)
    assert any(p.name.startswith("sessions-") for p in (tmp_path / "cache" / "gengo").iterdir())
    assert not _imports_calendars("plan", "-m", "fin", "-f", "csv", "-s", "10MB", cache=cache)


# --- names: Tokyo listings in Japanese, US forms with a comma (issue 20, item 15) ---------------------


def test_tokyo_listings_have_japanese_names(fin_datasets):
    """A TSE company's name is its Japanese registered name (株式会社 before or after it); the others are in
    English, US ones often with a comma before "Inc.", and every name is unique."""
    con = connect(fin_datasets["parquet"], "parquet", "financial")
    rows = con.execute("SELECT mic, company_name FROM dim_companies JOIN dim_exchanges USING (exchange_id)").fetchall()
    tokyo = [name for mic, name in rows if mic == "XTKS"]
    others = [name for mic, name in rows if mic != "XTKS"]
    assert tokyo and others
    japanese = r"(株式会社)?[\u3005\u3040-\u30ff\u4e00-\u9fff]+"  # kanji, hiragana, katakana
    for name in tokyo:
        assert re.fullmatch(japanese, name) and name.count("株式会社") == 1, name
        assert name.startswith("株式会社") or name.endswith("株式会社"), name
    assert sum(name.startswith("株式会社") for name in tokyo) not in (0, len(tokyo))
    assert all(name.isascii() for name in others)
    us = [name for mic, name in rows if mic in ("XNAS", "XNYS")]
    assert any(name.endswith(", Inc.") for name in us) and any(name.endswith(" Inc.") for name in us)
    assert len({name for _, name in rows}) == len(rows)


def test_japanese_names_read_back_one_way():
    """What makes Tokyo names unique: no stem begins another stem or a sector word, the words are distinct."""
    stems = financial._japanese_stems().to_pylist()
    words = financial._JA_WORDS.to_pylist()
    assert len(stems) > 150 and len(set(words)) == len(words)
    assert not [(a, b) for a in stems for b in stems if a != b and b.startswith(a)]
    assert not [(s, w) for s in stems for w in words if w.startswith(s)]
    assert set(financial._JAPANESE_WORDS) == set(financial.SECTOR_NAMES)
