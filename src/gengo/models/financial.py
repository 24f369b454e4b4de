"""The `financial` model: companies, exchanges and daily stock prices (MODELS.md section 2.3).

Calendar. One fixed trading calendar, 2020-01-02 .. 2024-12-31: weekdays minus the NYSE
holidays of those years, 1,258 trading days, computed once at import and independent of the
clock and time zone. Every listing uses this calendar (a simplification for the LSE, TSE and
HKEX listings, which in reality close on their own holidays). ``date`` is a DATE.

Companies. Each company has a fixed exchange (weighted: NASDAQ 34 %, NYSE 28 %, LSE 14 %,
TSE 14 %, HKEX 10 %), appended to dim_companies as ``exchange_id``, and the fact repeats it
every day. Sectors are assigned by exact quota over a permuted rank (shares roughly those of
listed US companies), which also numbers the companies inside a sector; the company name is a
bijection of (sector, number in sector): "<Last> <sector word>" (then "<Last> & <Last> <word>")
plus a legal suffix typical of the exchange, so names are unique at every size. Tickers are a
bijection of another permuted rank onto 1-5 uppercase letters (lengths by quota: mostly 3 and
4 letters), so they are unique up to 26+26^2+...+26^5 = 12,356,630 companies, the model's
maximum (about 15.5 billion price rows).

Prices. The close follows a geometric Brownian motion per company: daily log return
``(mu - sigma^2/2)/252 + sigma/sqrt(252) * z`` with the annual drift ``mu`` = sector drift +
N(0, 0.08) and volatility ``sigma`` = sector volatility x LogNormal(0, 0.25) per company, and
a first price LogNormal(median $45, sigma 0.9). The open is the previous close times
exp(N(0, 0.25 sigma_d)) (an overnight gap), high and low extend max/min(open, close) by a
half-normal of 0.6 sigma_d. Volume is LogNormal per company (median 600,000 shares, sigma
1.3) times a daily LogNormal(0, 0.45) factor, higher on days with large moves: heavy-tailed,
always >= 100, int64.

Money is DECIMAL(12, 4): US equities trade on $0.01 ticks at or above $1 and on $0.0001 ticks
below $1 (SEC Rule 612), so four decimals hold every real tick exactly, while a float column
would print 17 digits (D18). Prices are rounded to their tick after the walk: open and close
to the nearest tick, high up and low down, then high = max(high, open, close) and low =
min(low, open, close), so low <= min(open, close) <= max(open, close) <= high holds exactly in
the written data and every price is at least $0.0001.

A chunk of price rows owns companies ``idx // 1258``; it recomputes each touched company's
whole walk (a cumulative sum over a companies x days array) from per-row counter-based
normals, so chunks are independent and any chunking gives the same values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import rand, vocab
from gengo.core.arrays import date_from_days, decimal_from_units, join, take
from gengo.core.errors import GengoError
from gengo.core.schema import ChunkContext, Column, Model, Table
from gengo.models._quota import group_of, quota, starts

COMPANIES, EXCHANGES, PRICES = "dim_companies", "dim_exchanges", "fact_daily_stock_prices"

ID = pa.int64()
PRICE = pa.decimal128(12, 4)
_UNITS = 10_000  # price units per dollar (scale 4)

# --- trading calendar ------------------------------------------------------------------------

_NYSE_HOLIDAYS = [
    "2020-01-01",
    "2020-01-20",
    "2020-02-17",
    "2020-04-10",
    "2020-05-25",
    "2020-07-03",
    "2020-09-07",
    "2020-11-26",
    "2020-12-25",
    "2021-01-01",
    "2021-01-18",
    "2021-02-15",
    "2021-04-02",
    "2021-05-31",
    "2021-07-05",
    "2021-09-06",
    "2021-11-25",
    "2021-12-24",
    "2022-01-17",
    "2022-02-21",
    "2022-04-15",
    "2022-05-30",
    "2022-06-20",
    "2022-07-04",
    "2022-09-05",
    "2022-11-24",
    "2022-12-26",
    "2023-01-02",
    "2023-01-16",
    "2023-02-20",
    "2023-04-07",
    "2023-05-29",
    "2023-06-19",
    "2023-07-04",
    "2023-09-04",
    "2023-11-23",
    "2023-12-25",
    "2024-01-01",
    "2024-01-15",
    "2024-02-19",
    "2024-03-29",
    "2024-05-27",
    "2024-06-19",
    "2024-07-04",
    "2024-09-02",
    "2024-11-28",
    "2024-12-25",
]


def _trading_days() -> np.ndarray:
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2025-01-01")).astype(np.int64)
    holidays = np.array(_NYSE_HOLIDAYS, dtype="datetime64[D]").astype(np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    assert np.all((holidays + 3) % 7 < 5), "an exchange holiday on a weekend"
    return days[(weekday < 5) & ~np.isin(days, holidays)]


TRADING_DAYS = _trading_days()  # days since 1970-01-01
DAYS = len(TRADING_DAYS)  # 1258

# --- exchanges -------------------------------------------------------------------------------

# (name as in the Go tool, country, ISO 10383 MIC, city, share of listings, legal suffixes)
_EXCHANGES = (
    ("NASDAQ", "United States", "XNAS", "New York", 0.34, ("Inc.", "Corp.", "Inc.", "Holdings Inc.", "Co.")),
    ("New York Stock Exchange", "United States", "XNYS", "New York", 0.28, ("Corp.", "Inc.", "Co.", "Group Inc.")),
    ("London Stock Exchange", "United Kingdom", "XLON", "London", 0.14, ("plc", "Group plc", "Holdings plc")),
    ("Tokyo Stock Exchange", "Japan", "XTKS", "Tokyo", 0.14, ("Co., Ltd.", "Corporation", "Holdings, Inc.")),
    ("Hong Kong Stock Exchange", "Hong Kong", "XHKG", "Hong Kong", 0.10, ("Holdings Ltd.", "Ltd.", "Group Ltd.")),
)
_EXCHANGE_WEIGHTS = np.array([e[4] for e in _EXCHANGES])
_SUFFIXES = pa.array([s for e in _EXCHANGES for s in e[5]])
_SUFFIX_COUNT = np.array([len(e[5]) for e in _EXCHANGES])
_SUFFIX_OFFSET = starts(_SUFFIX_COUNT)

# --- sectors ---------------------------------------------------------------------------------

# (sector, share of companies, annual drift, annual volatility, name words)
_SECTORS = (
    (
        "Technology",
        14,
        0.12,
        0.38,
        (
            "Technologies",
            "Systems",
            "Software",
            "Semiconductor",
            "Digital",
            "Data",
            "Micro",
            "Computing",
            "Labs",
            "Cyber",
            "Cloud",
            "Robotics",
        ),
    ),
    (
        "Healthcare",
        13,
        0.08,
        0.34,
        (
            "Pharmaceuticals",
            "Therapeutics",
            "Biosciences",
            "Medical",
            "Health",
            "Biotech",
            "Diagnostics",
            "Genomics",
            "Healthcare",
            "Life Sciences",
            "Biologics",
            "Surgical",
        ),
    ),
    (
        "Financials",
        14,
        0.07,
        0.27,
        (
            "Financial",
            "Bancorp",
            "Capital",
            "Bank",
            "Insurance",
            "Trust",
            "Investments",
            "Asset Management",
            "Credit",
            "Securities",
            "Partners",
            "Assurance",
        ),
    ),
    (
        "Consumer Discretionary",
        11,
        0.09,
        0.33,
        (
            "Retail",
            "Brands",
            "Apparel",
            "Motors",
            "Restaurants",
            "Home",
            "Leisure",
            "Stores",
            "Outfitters",
            "Hotels",
            "Entertainment",
            "Automotive",
        ),
    ),
    (
        "Communication Services",
        5,
        0.07,
        0.31,
        ("Media", "Communications", "Telecom", "Broadcasting", "Wireless", "Interactive", "Publishing", "Studios"),
    ),
    (
        "Industrials",
        14,
        0.08,
        0.26,
        (
            "Industries",
            "Aerospace",
            "Engineering",
            "Machinery",
            "Logistics",
            "Manufacturing",
            "Construction",
            "Freight",
            "Airlines",
            "Defense",
            "Rail",
            "Tools",
        ),
    ),
    (
        "Consumer Staples",
        6,
        0.05,
        0.18,
        (
            "Foods",
            "Beverages",
            "Farms",
            "Grocers",
            "Household Products",
            "Brewing",
            "Provisions",
            "Nutrition",
            "Dairy",
            "Distillers",
        ),
    ),
    (
        "Energy",
        5,
        0.04,
        0.40,
        (
            "Energy",
            "Petroleum",
            "Oil & Gas",
            "Resources",
            "Drilling",
            "Exploration",
            "Pipeline",
            "Offshore",
            "Refining",
            "Midstream",
        ),
    ),
    (
        "Utilities",
        3,
        0.04,
        0.19,
        ("Utilities", "Power", "Electric", "Water", "Gas & Electric", "Light & Power", "Renewables", "Hydro"),
    ),
    (
        "Real Estate",
        7,
        0.03,
        0.25,
        ("Realty", "Properties", "REIT", "Land", "Residential", "Estates", "Development", "Real Estate"),
    ),
    (
        "Materials",
        6,
        0.06,
        0.28,
        ("Materials", "Chemicals", "Mining", "Steel", "Metals", "Paper", "Packaging", "Minerals", "Gold", "Cement"),
    ),
)
SECTOR_NAMES = tuple(s[0] for s in _SECTORS)
_SECTOR_SHARES = np.array([s[1] for s in _SECTORS], dtype=np.float64)
_SECTOR_DRIFT = np.array([s[2] for s in _SECTORS])
_SECTOR_VOL = np.array([s[3] for s in _SECTORS])
_WORDS = pa.array([w for s in _SECTORS for w in s[4]])
_WORD_COUNT = np.array([len(s[4]) for s in _SECTORS], dtype=np.int64)
_WORD_OFFSET = starts(_WORD_COUNT)
assert len(set(_WORDS.to_pylist())) == len(_WORDS), "sector name words must be distinct across sectors"

# --- tickers ---------------------------------------------------------------------------------

_TICKER_CAPACITY = 26 ** np.arange(1, 6, dtype=np.int64)  # 1..5 letters
MAX_COMPANIES = int(_TICKER_CAPACITY.sum())  # 12,356,630
_TICKER_SHARES = np.array([0.002, 0.03, 0.30, 0.50, 0.168])


def _ticker_lengths(companies: int) -> np.ndarray:
    """Companies per ticker length (1..5), capped by the letters available."""
    counts = np.minimum(quota(companies, _TICKER_SHARES), _TICKER_CAPACITY)
    left = companies - int(counts.sum())
    for length in range(4, -1, -1):  # overflow goes to the longest lengths first (5 iterations)
        add = min(left, int(_TICKER_CAPACITY[length] - counts[length]))
        counts[length] += add
        left -= add
    return counts


def _letters(code: np.ndarray, length: np.ndarray) -> pa.Array:
    """Strings of ``length`` uppercase letters spelling ``code`` in base 26 (most significant first)."""
    pos = np.arange(5, dtype=np.int64)
    power = 26 ** np.clip(length[:, None] - 1 - pos[None, :], 0, None)
    letters = ((code[:, None] // power) % 26 + 65).astype(np.uint8)
    data = letters[pos[None, :] < length[:, None]]
    offsets = np.concatenate([[0], np.cumsum(length)]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(code), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


# --- company attributes: pure functions of (seed, company count, company index) -------------


def _check(companies: int) -> None:
    if companies > MAX_COMPANIES:
        raise GengoError(f"financial supports at most {MAX_COMPANIES:,} companies (unique 1-5 letter tickers)")


def company_exchange(seed: int, company: np.ndarray) -> np.ndarray:
    """0-based exchange of each company (fixed over time)."""
    return rand.weighted_choice(rand.stream_key(seed, COMPANIES, "exchange"), company, _EXCHANGE_WEIGHTS)


def company_sector(seed: int, companies: int, company: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(0-based sector, 0-based number of the company inside its sector)."""
    rank = rand.Permutation(rand.stream_key(seed, COMPANIES, "sector"), companies)(company)
    counts = quota(companies, _SECTOR_SHARES)
    sector = group_of(rank, counts)
    return sector, rank - starts(counts)[sector]


def _company_params(seed: int, companies: int, company: np.ndarray):
    """Daily drift, daily volatility, log first price and log median volume of each company."""
    sector, _ = company_sector(seed, companies, company)
    key = rand.stream_key(seed, COMPANIES, "params")
    mu = _SECTOR_DRIFT[sector] + 0.08 * rand.normal(rand.stream_key(seed, COMPANIES, "drift"), company)
    sigma = _SECTOR_VOL[sector] * np.exp(0.25 * rand.normal(key, company))
    sigma_d = sigma / np.sqrt(252.0)
    drift_d = (mu - 0.5 * sigma * sigma) / 252.0
    log_p0 = np.log(45.0) + 0.9 * rand.normal(rand.stream_key(seed, COMPANIES, "first_price"), company)
    log_volume = np.log(600_000.0) + 1.3 * rand.normal(rand.stream_key(seed, COMPANIES, "volume"), company)
    return drift_d, sigma_d, log_p0, log_volume


# --- dimensions ------------------------------------------------------------------------------


def _companies(ctx: ChunkContext) -> dict:
    n = ctx.rows[COMPANIES]
    _check(n)
    k = ctx.idx
    sector, number = company_sector(ctx.seed, n, k)
    exchange = company_exchange(ctx.seed, k)
    # Name: a bijection of the number inside the sector onto (last name(s), sector word).
    last = vocab.last_names().values
    n_last = len(last)
    words = _WORD_COUNT[sector]
    single = n_last * words
    in_single = number < single
    # Scatter the numbers over last names so the first companies are not all "Smith ...".
    q1 = np.zeros_like(number)
    q2 = np.zeros_like(number)
    for s in np.unique(sector):  # at most 11 iterations per chunk
        m = sector == s
        w = int(_WORD_COUNT[s])
        p1 = rand.Permutation(rand.stream_key(ctx.seed, COMPANIES, "name1", str(s)), n_last * w)
        p2 = rand.Permutation(rand.stream_key(ctx.seed, COMPANIES, "name2", str(s)), n_last * n_last * w)
        num = number[m]
        q1[m] = p1(np.minimum(num, n_last * w - 1))
        q2[m] = p2(np.maximum(num - n_last * w, 0))
    word = np.where(in_single, q1 % words, q2 % words)
    first_last = np.where(in_single, q1 // words, (q2 // words) // n_last)
    second_last = (q2 // words) % n_last
    lead = take(last, first_last)
    pair = join(lead, " & ", take(last, second_last))
    lead = pc.if_else(pa.array(in_single), lead, pair)
    suffix_idx = _SUFFIX_OFFSET[exchange] + ctx.integers(0, 1 << 30, "suffix") % _SUFFIX_COUNT[exchange]
    name = join(lead, " ", take(_WORDS, _WORD_OFFSET[sector] + word), " ", take(_SUFFIXES, suffix_idx))
    # Ticker: a bijection of another permuted rank onto 1-5 letter strings.
    rank = rand.Permutation(ctx.key("ticker"), n)(k)
    per_length = _ticker_lengths(n)
    length_idx = group_of(rank, per_length)
    within = rank - starts(per_length)[length_idx]
    code = np.zeros_like(within)
    for li in np.unique(length_idx):  # at most 5 iterations
        m = length_idx == li
        code[m] = rand.Permutation(ctx.key("ticker", str(li)), int(_TICKER_CAPACITY[li]))(within[m])
    return {
        "company_id": ctx.ids,
        "company_name": name,
        "ticker_symbol": _letters(code, length_idx + 1),
        "sector": take(pa.array(SECTOR_NAMES), sector),
        "exchange_id": exchange + 1,
    }


def _exchanges(ctx: ChunkContext) -> dict:
    def col(i: int) -> pa.Array:
        return take(pa.array([e[i] for e in _EXCHANGES]), ctx.idx)

    return {"exchange_id": ctx.ids, "exchange_name": col(0), "country": col(1), "mic": col(2), "city": col(3)}


# --- fact ------------------------------------------------------------------------------------


def _to_ticks(price: np.ndarray, how) -> np.ndarray:
    """Price units (1e-4 dollar) on the tick grid: $0.01 at or above $1, $0.0001 below."""
    tick = np.where(price >= 1.0, 100, 1)
    return how(price * _UNITS / tick).astype(np.int64) * tick


def _prices(ctx: ChunkContext) -> dict:
    n = ctx.rows[COMPANIES]
    _check(n)
    idx = ctx.idx
    company = idx // DAYS
    day = idx - company * DAYS
    # The walk of every company this chunk touches, from its first trading day.
    touched, row_of = np.unique(company, return_inverse=True)
    drift_d, sigma_d, log_p0, log_volume = _company_params(ctx.seed, n, touched)
    grid = touched[:, None] * DAYS + np.arange(DAYS, dtype=np.int64)[None, :]
    z = rand.normal(ctx.key("return"), grid.ravel()).reshape(grid.shape)
    log_close = np.cumsum(drift_d[:, None] + sigma_d[:, None] * z, axis=1)
    log_close += log_p0[:, None]
    close_today = log_close[row_of, day]
    previous = np.where(day > 0, log_close[row_of, np.maximum(day - 1, 0)], log_p0[row_of])
    sd = sigma_d[row_of]
    log_open = previous + 0.25 * sd * rand.normal(ctx.key("gap"), idx)
    open_ = np.maximum(np.exp(log_open), 0.01)
    close = np.maximum(np.exp(close_today), 0.01)
    high = np.maximum(open_, close) * np.exp(0.6 * sd * np.abs(rand.normal(ctx.key("high"), idx)))
    low = np.minimum(open_, close) * np.exp(-0.6 * sd * np.abs(rand.normal(ctx.key("low"), idx)))
    open_u = np.maximum(_to_ticks(open_, np.rint), 1)
    close_u = np.maximum(_to_ticks(close, np.rint), 1)
    high_u = np.maximum(np.maximum(_to_ticks(high, np.ceil), open_u), close_u)
    low_u = np.minimum(np.minimum(np.maximum(_to_ticks(low, np.floor), 1), open_u), close_u)
    # Volume: heavier on days with large moves.
    move = np.abs(z[row_of, day])
    volume = np.exp(log_volume[row_of] + 0.45 * rand.normal(ctx.key("volume"), idx)) * (0.7 + 0.4 * move)
    return {
        "price_id": ctx.ids,
        "date": date_from_days(TRADING_DAYS[day]),
        "company_id": company + 1,
        "exchange_id": company_exchange(ctx.seed, company) + 1,
        "open_price": decimal_from_units(open_u, 12, 4),
        "high_price": decimal_from_units(high_u, 12, 4),
        "low_price": decimal_from_units(low_u, 12, 4),
        "close_price": decimal_from_units(close_u, 12, 4),
        "volume": np.maximum(np.rint(volume), 100).astype(np.int64),
    }


def derive(rows: dict[str, int], seed: int) -> dict[str, int]:
    """Price rows follow from companies: one row per company and trading day."""
    return {EXCHANGES: len(_EXCHANGES), PRICES: rows[COMPANIES] * DAYS}


def row_counts(prices: int, seed: int) -> dict[str, int]:
    """Go tool ratio: one company per 5 years of trading days (here exactly 1,258 rows each)."""
    rows = {COMPANIES: max(1, round(int(prices) / DAYS)), EXCHANGES: 0, PRICES: 0}
    rows.update(derive(rows, seed))
    return rows


def _fk(table: str, column: str) -> str:
    return f"{table}.{column}"


MODEL = Model(
    name="financial",
    aliases=("fin", "f"),
    description="Stock market: companies, exchanges and daily OHLC prices over 5 years of trading days",
    tables=(
        Table(
            COMPANIES,
            (
                Column("company_id", ID, primary_key=True),
                Column("company_name", pa.string(), doc="unique"),
                Column("ticker_symbol", pa.string(), doc="unique, 1-5 uppercase letters"),
                Column("sector", pa.string()),
                Column("exchange_id", ID, references=_fk(EXCHANGES, "exchange_id"), doc="appended: listing"),
            ),
            _companies,
        ),
        Table(
            EXCHANGES,
            (
                Column("exchange_id", ID, primary_key=True),
                Column("exchange_name", pa.string()),
                Column("country", pa.string()),
                Column("mic", pa.string(), doc="appended: ISO 10383 market identifier code"),
                Column("city", pa.string(), doc="appended"),
            ),
            _exchanges,
        ),
        Table(
            PRICES,
            (
                Column("price_id", ID, primary_key=True),
                Column("date", pa.date32(), doc="trading day"),
                Column("company_id", ID, references=_fk(COMPANIES, "company_id")),
                Column("exchange_id", ID, references=_fk(EXCHANGES, "exchange_id"), doc="the company's listing"),
                Column("open_price", PRICE),
                Column("high_price", PRICE),
                Column("low_price", PRICE),
                Column("close_price", PRICE),
                Column("volume", pa.int64()),
            ),
            _prices,
        ),
    ),
    row_counts=row_counts,
    bytes_per_scale={"csv": 66.0, "json": 166.0, "parquet": 26.0},  # measured at 1 GB
    derive=derive,
    notes=(
        "One fixed trading calendar (NYSE holidays, 2020-01-02..2024-12-31, 1,258 days) for every listing.",
        f"At most {MAX_COMPANIES:,} companies (unique 1-5 letter tickers).",
    ),
)
