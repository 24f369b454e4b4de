"""End-to-end: the real `gengo` command writes the financial model; DuckDB checks the data."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from gengo.models import financial, resolve_model
from tests.helpers import connect, gen, integrity_problems, sha256_files
from tests.model_checks import differences_from_model

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


def test_keys_join_and_no_constant_column(con):
    assert integrity_problems(con, "financial") == []


def test_ohlc_inequalities_hold_on_every_row(con):
    bad = con.execute("""SELECT count(*) FROM fact_daily_stock_prices
                         WHERE NOT (low_price > 0 AND low_price <= least(open_price, close_price)
                                    AND greatest(open_price, close_price) <= high_price AND volume > 0)""").fetchone()[
        0
    ]
    assert bad == 0


def test_trading_days_only_in_a_fixed_window(con):
    weekend, lo, hi, days = con.execute("""SELECT count(*) FILTER (WHERE isodow(date) > 5), min(date), max(date),
                                                  count(DISTINCT date) FROM fact_daily_stock_prices""").fetchone()
    assert weekend == 0
    assert (str(lo), str(hi)) == ("2020-01-02", "2024-12-31")
    assert days == financial.DAYS == 1258
    holidays = con.execute("""SELECT count(*) FROM fact_daily_stock_prices
                              WHERE date IN ('2020-12-25', '2021-07-05', '2022-11-24', '2024-01-01')""").fetchone()[0]
    assert holidays == 0
    # Every company has one row per trading day.
    shapes = con.execute("""SELECT DISTINCT n, d FROM (SELECT company_id, count(*) n, count(DISTINCT date) d
                            FROM fact_daily_stock_prices GROUP BY 1)""").fetchall()
    assert shapes == [(1258, 1258)]


def test_one_exchange_per_company_and_real_exchanges(con):
    hopping = con.execute("""SELECT count(*) FROM (SELECT company_id FROM fact_daily_stock_prices GROUP BY 1
                             HAVING count(DISTINCT exchange_id) > 1)""").fetchone()[0]
    assert hopping == 0
    mismatch = con.execute("""SELECT count(*) FROM fact_daily_stock_prices f JOIN dim_companies c USING (company_id)
                              WHERE f.exchange_id <> c.exchange_id""").fetchone()[0]
    assert mismatch == 0
    exchanges = dict(con.execute("SELECT exchange_name, country FROM dim_exchanges").fetchall())
    assert exchanges == {
        "NASDAQ": "United States",
        "New York Stock Exchange": "United States",
        "London Stock Exchange": "United Kingdom",
        "Tokyo Stock Exchange": "Japan",
        "Hong Kong Stock Exchange": "Hong Kong",
    }


def test_unique_tickers_and_names(con):
    n, tickers, names, well_formed = con.execute("""SELECT count(*), count(DISTINCT ticker_symbol),
            count(DISTINCT company_name), count(*) FILTER (WHERE regexp_full_match(ticker_symbol, '[A-Z]{1,5}'))
            FROM dim_companies""").fetchone()
    assert n > 20 and tickers == n and names == n and well_formed == n


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
    if staples is not None and tech is not None:
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


def test_same_bytes_for_any_worker_count_and_chunking(tmp_path):
    runs = [
        ("w1", "--workers", "1"),
        ("w2", "--workers", "2", "--chunk-rows", "3001"),
        ("w2big", "--workers", "2", "--chunk-rows", "40000"),
    ]
    hashes = [sha256_files(gen(tmp_path / name, "financial", "0.002", "csv", SEED, *extra)) for name, *extra in runs]
    assert hashes[0] == hashes[1] == hashes[2]


def test_chunks_are_independent():
    rows = MODEL.row_counts(10 * financial.DAYS, 5)
    table = MODEL.table(financial.PRICES)
    n = rows[financial.PRICES]
    whole = table.generate(5, rows, np.arange(n))
    cuts = [0, 1, 700, 1258, 1259, 5000, n]
    parts = [table.generate(5, rows, np.arange(a, b)) for a, b in zip(cuts, cuts[1:], strict=False)]
    import pyarrow as pa

    assert pa.concat_tables(parts).equals(whole)


def test_tickers_and_names_stay_unique_at_scale():
    assert financial._ticker_lengths(financial.MAX_COMPANIES).tolist() == financial._TICKER_CAPACITY.tolist()
    n = 60_000
    rows = {financial.COMPANIES: n, financial.EXCHANGES: 5, financial.PRICES: n * financial.DAYS}
    t = MODEL.table(financial.COMPANIES).generate(3, rows, np.arange(n))
    assert len(set(t["ticker_symbol"].to_pylist())) == n
    assert len(set(t["company_name"].to_pylist())) == n
