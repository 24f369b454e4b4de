"""The `financial` model: companies, exchanges and daily stock prices (MODELS.md section 2.3).

Window and calendars. Prices cover 2020-01-02 .. 2024-12-31, both included, and each listing
trades on its own exchange's sessions in that window as the `exchange_calendars` library gives
them (half days are sessions): XNAS and XNYS 1,258 sessions, XLON 1,262, XTKS 1,222 (from
2020-01-06 to 2024-12-30: the TSE closes from 31 December to 3 January), XHKG 1,232. That
library and pandas take about 0.3 s to import, so the session arrays are built on first use
(planning a run, or a chunk of prices) and kept in the gengo cache folder next to the
vocabularies; `gengo --help` and `gengo models` never load them. ``date`` is a DATE.

Companies. Company ids come in blocks of 1,000; each block is a deck with exact exchange quotas
(NASDAQ 34 %, NYSE 28 %, LSE 14 %, TSE 14 %, HKEX 10 %; the last, partial block has its own
quotas) shuffled by a seeded sort of the block's slots. Every full block then holds the same
number of price rows, so the first price row of a company and the company of a price row are
arithmetic plus a cumulative sum over one block: chunks stay pure and the fact stays ordered by
company, then date. Exchanges with few codes (HKEX 9,999, TSE 75,387) take a smaller share of
very large datasets, the others the rest in proportion. Sectors are assigned by exact quota over
a permuted rank (shares roughly those of listed US companies), which also numbers the companies
inside a sector; the company name is a bijection of (sector, number in sector): "<Last> <sector
word>" (then "<Last> & <Last> <word>") in a legal form typical of the exchange ("..., Inc.",
"... plc"), so names are unique at every size. Tokyo listings carry their Japanese registered
name instead, by the same kind of bijection: a stem (a surname in kanji or katakana, a place
name) and a Japanese sector word, then two stems and a word, as merged companies are named,
with 株式会社 before or after (東京ガス株式会社, 株式会社スズキ電機).

Tickers, in each exchange's style and unique per exchange: NASDAQ and NYSE 1-5 uppercase letters
(NYSE mostly 3, NASDAQ mostly 4; the two share one code space, even codes to NASDAQ and odd to
NYSE, so a US ticker names one company), LSE 2-4 letter TIDMs, TSE 4-digit codes 1301-9997 and,
past 8,697 TSE companies, the alphanumeric codes the TSE issues since 2024 (a letter other than
B, E, I, O, Q, V, Z in the second and/or fourth place, as in "130A"), HKEX 5-digit stock codes
00001-09999. The position of a company in its exchange's part of the deck numbers it inside the
exchange; tickers are bijections of that number, so they are unique at every size.

Prices are in each exchange's quote currency (``dim_exchanges.currency``): US dollars, pence
sterling (GBX) on the LSE, yen, Hong Kong dollars. The close follows a geometric Brownian motion
per company: daily log return ``(mu - sigma^2/2)/252 + sigma/sqrt(252) * z`` with the annual
drift ``mu`` = sector drift + N(0, 0.08) and volatility ``sigma`` = sector volatility x
LogNormal(0, 0.25) per company, from a first price LogNormal around a level typical of the market
($45, 350p, 2,000 yen, HK$5). The open is the previous close times exp(N(0, 0.25 sigma_d)) (an
overnight gap), high and low extend max/min(open, close) by a half-normal of 0.6 sigma_d. Volume
is LogNormal per company (median by market, sigma 1.3) times a daily LogNormal(0, 0.45) factor,
higher on days with large moves: heavy-tailed, at least 100 shares, whole 100-share units on
the TSE, int64.

Ticks. Money is DECIMAL(12, 4) and every price is a whole multiple of the tick that applies at
that price on its exchange:

* NASDAQ, NYSE: $0.01 at or above $1, $0.0001 below (SEC Rule 612).
* LSE: the MiFID II tick size table (RTS 11 annex) in pence, by price band and by the share's
  liquidity band 1-6 (the more trades, the finer); a company's band follows from its volume.
* TSE: the standard table (TOPIX 100 constituents have a finer one, not modelled), whole yen:
  1 up to 3,000 yen, 5 to 5,000, 10 to 30,000, 50 to 50,000, 100 to 300,000, 500 to 500,000,
  1,000 to 3 M, 5,000 to 5 M, 10,000 to 30 M, 50,000 to 50 M, 100,000 above.
* HKEX: the spread table: 0.001 from 0.01 to 0.25, 0.005 to 0.50, 0.01 to 10, 0.02 to 20, 0.05
  to 100, 0.10 to 200, 0.20 to 500, 0.50 to 1,000, 1 to 2,000, 2 to 5,000, 5 to 9,995 (prices
  kept within 0.01 .. 9,995).

Open and close are rounded to the nearest tick of their own price band, high up and low down;
a price rounded across a band boundary lands on the boundary, a multiple of the ticks on both
sides. Then high = max(high, open, close) and low = min(low, open, close), so low <= min(open,
close) <= max(open, close) <= high holds exactly in the written data.

A chunk of price rows finds its companies and sessions from the block layout and recomputes
the part of each touched company's walk it needs from counter-based normals, so chunks are
independent and any chunking gives the same values. The walk is built in segments of 32
sessions: one normal per segment draws its total return (the cumulative sum of those gives the
close at every segment's end), and the sessions inside a segment are a Brownian bridge between
its ends (32 normals keyed by (company, session), shifted to sum to the segment's total). The
daily returns are exactly i.i.d. normal, as a plain cumulative sum of daily draws gives, but a
close on any day costs one segment's draws plus one per earlier segment: a change batch's
corrections of scattered old rows and the window's last close (where batches go on) need tens of
draws, not one per earlier session.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import fmath, rand, vocab
from gengo.core.arrays import date_from_days, decimal_from_units, join, take, zero_pad
from gengo.core.errors import GengoError
from gengo.core.schema import BatchContext, Check, ChunkContext, Column, Model, Table, TableChanges
from gengo.models._quota import group_of, quota, starts

COMPANIES, EXCHANGES, PRICES = "dim_companies", "dim_exchanges", "fact_daily_stock_prices"

ID = pa.int64()
PRICE = pa.decimal128(12, 4)
_UNITS = 10_000  # price units per currency unit (scale 4)

# --- exchanges -------------------------------------------------------------------------------

# (name as in the Go tool, country, ISO 10383 MIC, city, quote currency, share of listings,
# legal forms: "{}" stands for the rest of the name). US companies write "Inc." with or without a
# comma; Tokyo's are named in Japanese, the kabushiki kaisha before or after the name.
_EXCHANGES = (
    (
        "NASDAQ",
        "United States",
        "XNAS",
        "New York",
        "USD",
        0.34,
        ("{} Inc.", "{}, Inc.", "{} Corp.", "{} Holdings, Inc.", "{} Co."),
    ),
    (
        "New York Stock Exchange",
        "United States",
        "XNYS",
        "New York",
        "USD",
        0.28,
        ("{} Corp.", "{} Inc.", "{}, Inc.", "{} Co.", "{} Group, Inc."),
    ),
    (
        "London Stock Exchange",
        "United Kingdom",
        "XLON",
        "London",
        "GBX",
        0.14,
        ("{} plc", "{} Group plc", "{} Holdings plc"),
    ),
    (
        "Tokyo Stock Exchange",
        "Japan",
        "XTKS",
        "Tokyo",
        "JPY",
        0.14,
        ("{}株式会社", "{}株式会社", "株式会社{}", "株式会社{}", "{}ホールディングス株式会社"),
    ),
    (
        "Hong Kong Stock Exchange",
        "Hong Kong",
        "XHKG",
        "Hong Kong",
        "HKD",
        0.10,
        ("{} Holdings Ltd.", "{} Ltd.", "{} Group Ltd."),
    ),
)
NASDAQ, NYSE, LSE, TSE, HKEX = range(5)
MICS = tuple(e[2] for e in _EXCHANGES)
_EXCHANGE_WEIGHTS = np.array([e[5] for e in _EXCHANGES])
_LEGAL_BEFORE = pa.array([form.split("{}")[0] for e in _EXCHANGES for form in e[6]])
_LEGAL_AFTER = pa.array([form.split("{}")[1] for e in _EXCHANGES for form in e[6]])
_LEGAL_COUNT = np.array([len(e[6]) for e in _EXCHANGES])
_LEGAL_OFFSET = starts(_LEGAL_COUNT)

# Per exchange: median first price in the quote currency and its log-sd (LSE in pence, so 350p
# is 3.50 GBP), median daily volume in shares, trading unit in shares (TSE: 100 since 2018).
_PRICE_LEVEL = np.array([45.0, 45.0, 350.0, 2_000.0, 5.0])
_PRICE_SPREAD = np.array([0.9, 0.9, 1.1, 0.8, 1.3])
_VOLUME_MEDIAN = np.array([600_000.0, 600_000.0, 800_000.0, 150_000.0, 3_000_000.0])
_LOT = np.array([1, 1, 1, 100, 1])
# Lowest and highest price in units: $0.0001, 0.0001p, 1 yen, HK$0.01; HKEX's table ends at
# 9,995, the others stop at 90 M (a multiple of every tick, far above any walk).
_MIN_PRICE = np.array([1, 1, 1, _UNITS, 100], dtype=np.int64)
_MAX_PRICE = np.array([90_000_000 * _UNITS] * 4 + [9_995 * _UNITS], dtype=np.int64)

# --- trading calendars -----------------------------------------------------------------------

WINDOW = ("2020-01-02", "2024-12-31")  # first and last day a session may fall on
_SLOT = 2048  # random streams index (company, session) as company * _SLOT + session
_CALENDARS = "exchange-calendars"  # the distribution whose version keys the cached sessions


# Change batches continue every company's series into the sessions after the window (batch b:
# each exchange's b-th session from 2025-01-01), as far as this second window reaches.
AFTER = ("2025-01-01", "2034-12-31")
BATCH_LIMIT = 2_400  # fewer than any exchange's sessions in AFTER (the TSE has the fewest, about 2,450)


def _build_sessions(mic: str, window: tuple[str, str] = WINDOW) -> np.ndarray:
    """The exchange's sessions inside the window, as days since 1970-01-01 (int64)."""
    import exchange_calendars  # slow import (pandas): only when the cache misses

    # A calendar a few weeks wider than the window, then cut: the library refuses a range that
    # starts before an exchange's first session (the TSE opens on 2020-01-06).
    first, last = (np.datetime64(d, "D") for d in window)
    start, end = str(first - 31), str(last + 31)
    with warnings.catch_warnings():  # the library's pandas deprecation notices are not the user's concern
        warnings.simplefilter("ignore")
        cal = exchange_calendars.get_calendar(mic, start=start, end=end)
    days = cal.sessions.values.astype("datetime64[D]").astype(np.int64)
    return days[(days >= first.astype(np.int64)) & (days <= last.astype(np.int64))]


def _build_calendars(window: tuple[str, str] = WINDOW) -> np.ndarray:
    """Sessions per exchange, then every exchange's sessions: one array, so one cache file."""
    days = [_build_sessions(mic, window) for mic in MICS]
    return np.concatenate([[len(d) for d in days], *days]).astype(np.int64)


@lru_cache(maxsize=2)
def _calendars(window: tuple[str, str] = WINDOW) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(every exchange's sessions concatenated, index of each exchange's first, sessions per exchange)."""
    name = f"sessions-{'-'.join(MICS)}-{window[0]}-{window[1]}"
    packed = np.asarray(vocab.disk_cached(name, lambda: _build_calendars(window), _CALENDARS), dtype=np.int64)
    counts = packed[: len(MICS)]
    if window != WINDOW and counts.min() < BATCH_LIMIT:
        raise AssertionError(f"fewer sessions after the window than BATCH_LIMIT: {counts.tolist()}")
    return packed[len(MICS) :], starts(counts), counts


def sessions(exchange: int) -> np.ndarray:
    """Trading days (days since 1970-01-01) of a 0-based exchange inside the window."""
    days, first, count = _calendars()
    return days[first[exchange] : first[exchange] + count[exchange]]


def session_counts() -> np.ndarray:
    """Sessions per exchange inside the window (NASDAQ, NYSE, LSE, TSE, HKEX)."""
    return _calendars()[2].copy()


# --- ticks -----------------------------------------------------------------------------------

# Each tick regime is (first price of each band in units, tick of the band in units); bands are
# closed below. Tables whose bands are closed above (TSE "up to 3,000 yen", HKEX "over 0.25 to
# 0.50") start the next band one unit (0.0001) higher.
_US_REGIME = ([0, _UNITS], [1, 100])
# MiFID II: band limits 0, 0.1, 0.2, 0.5, 1, 2, 5, ... 50,000 (in pence here); in liquidity band
# b the tick of price band r is the 1-2-5 series value S[r + 3 - b], at least 0.0001 (S[0]). This
# reproduces the annex table (0.0005 .. 500 in band 1, 0.0001 .. 10 in band 6).
_MIFID_STARTS = [0] + [m * 10**k for k in range(3, 9) for m in (1, 2, 5)]
_SERIES = [m * 10**k for k in range(0, 8) for m in (1, 2, 5)]  # 1, 2, 5, 10, ... units
_LSE_REGIMES = [(_MIFID_STARTS, [_SERIES[max(r + 3 - b, 0)] for r in range(len(_MIFID_STARTS))]) for b in range(1, 7)]


def _closed_above(upper: list[float], ticks: list[float]) -> tuple[list[int], list[int]]:
    return [0] + [round(u * _UNITS) + 1 for u in upper], [round(t * _UNITS) for t in ticks]


_TSE_REGIME = _closed_above(
    [3_000, 5_000, 30_000, 50_000, 300_000, 500_000, 3e6, 5e6, 3e7, 5e7],
    [1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000],
)
_HKEX_REGIME = _closed_above(
    [0.25, 0.5, 10, 20, 100, 200, 500, 1_000, 2_000, 5_000],
    [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
)
# Regime 0: US, 1-6: LSE liquidity bands 1-6, 7: TSE, 8: HKEX.
_REGIMES = [_US_REGIME, *_LSE_REGIMES, _TSE_REGIME, _HKEX_REGIME]
_BOUNDS = np.unique(np.concatenate([np.array(s, dtype=np.int64) for s, _ in _REGIMES]))
_TICKS = np.array(
    [np.array(t, dtype=np.int64)[np.searchsorted(s, _BOUNDS, side="right") - 1] for s, t in _REGIMES]
)  # regime x band of _BOUNDS -> tick in units
_BOUNDS_F = np.append(_BOUNDS, np.inf).astype(np.float64)  # with an upper end for the last band
_TICKS_F = _TICKS.astype(np.float64)
# LSE liquidity band from the company's volume z-score: limits between bands 1|2, ..., 5|6.
_BAND_LIMITS = np.array([-1.6, -0.9, -0.3, 0.3, 0.9])


def _on_ticks(prices: tuple[np.ndarray, ...], hows: tuple, regime: np.ndarray) -> list[np.ndarray]:
    """Prices (float, in units, overwritten) moved to the tick grid of their regime, each with its
    ``how`` (rint, ceil, floor).

    The prices of a row are close together: the band found for the first one is checked for the
    others, and only those that left it are searched again (a search costs more than two compares).
    """
    band = np.searchsorted(_BOUNDS_F, prices[0], side="right") - 1
    lower, upper = _BOUNDS_F[band], _BOUNDS_F[band + 1]
    out = []
    for i, (price, how) in enumerate(zip(prices, hows, strict=True)):
        own = band
        if i:
            moved = np.flatnonzero((price < lower) | (price >= upper))
            if len(moved):
                own = band.copy()
                own[moved] = np.searchsorted(_BOUNDS_F, price[moved], side="right") - 1
        tick = _TICKS_F[regime, own]
        # Rounding up a price just under a band's end can land past it, on a point off the next
        # band's coarser grid (HK$10.00005 to 10.01, where ticks are 0.02): those take that tick.
        edge = np.flatnonzero(price > _BOUNDS_F[own + 1] - tick) if how is np.ceil else ()
        below = price[edge] if len(edge) else None
        q = np.divide(price, tick, out=price)  # in place: the caller hands the prices over
        how(q, out=q)
        q *= tick
        if below is not None:
            past = q[edge] >= _BOUNDS_F[own[edge] + 1]
            if past.any():
                at, coarse = edge[past], _TICKS_F[regime[edge[past]], own[edge[past]] + 1]
                q[at] = np.ceil(below[past] / coarse) * coarse
        out.append(q.astype(np.int64))
    return out


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
# The same sectors' words in Japanese company names (電機 electric machinery, 製薬 pharmaceuticals,
# 地所 estates, ...), as in 日立製作所, 武田薬品工業, 三菱地所, 東京ガス.
_JAPANESE_WORDS = {
    "Technology": ("電機", "電子", "半導体", "情報システム", "ソフトウェア", "システムズ", "テクノロジーズ", "データ",
                   "デジタル", "精機", "計測器", "ロボティクス"),
    "Healthcare": ("製薬", "薬品工業", "医薬品", "メディカル", "ヘルスケア", "バイオ", "医療機器", "ライフサイエンス",
                   "診断薬", "創薬"),
    "Financials": ("銀行", "信託銀行", "証券", "損害保険", "生命保険", "キャピタル", "ファイナンス", "リース",
                   "アセットマネジメント", "フィナンシャル"),
    "Consumer Discretionary": ("自動車", "自動車工業", "百貨店", "アパレル", "ホテル", "観光", "レジャー", "家具",
                               "玩具", "外食", "スポーツ", "タイヤ"),
    "Communication Services": ("通信", "放送", "テレビ", "出版", "広告", "メディア", "映画", "ネットワークス"),
    "Industrials": ("建設", "工業", "重工業", "機械", "製作所", "運輸", "物流", "商事", "鉄道", "航空", "造船",
                    "エンジニアリング"),
    "Consumer Staples": ("食品", "製菓", "乳業", "水産", "ビール", "酒造", "製粉", "飲料", "製糖", "ストア"),
    "Energy": ("石油", "エネルギー", "資源", "石油開発", "燃料", "石炭", "天然ガス", "エナジー", "海洋開発", "オイル"),
    "Utilities": ("電力", "ガス", "電気", "水道", "パワー", "発電", "瓦斯", "熱供給"),
    "Real Estate": ("不動産", "地所", "土地", "住宅", "リアルティ", "ビルディング", "都市開発", "レジデンス"),
    "Materials": ("化学", "製鉄", "鉄鋼", "金属", "製紙", "鉱業", "セメント", "ガラス", "化成", "素材"),
}  # fmt: skip
SECTOR_NAMES = tuple(s[0] for s in _SECTORS)
_SECTOR_SHARES = np.array([s[1] for s in _SECTORS], dtype=np.float64)
_SECTOR_DRIFT = np.array([s[2] for s in _SECTORS])
_SECTOR_VOL = np.array([s[3] for s in _SECTORS])
_WORDS = pa.array([w for s in _SECTORS for w in s[4]])
_WORD_COUNT = np.array([len(s[4]) for s in _SECTORS], dtype=np.int64)
_WORD_OFFSET = starts(_WORD_COUNT)
assert len(set(_WORDS.to_pylist())) == len(_WORDS), "sector name words must be distinct across sectors"
_JA_WORDS = pa.array([w for name in SECTOR_NAMES for w in _JAPANESE_WORDS[name]])
_JA_WORD_COUNT = np.array([len(_JAPANESE_WORDS[name]) for name in SECTOR_NAMES], dtype=np.int64)
_JA_WORD_OFFSET = starts(_JA_WORD_COUNT)
assert len(set(_JA_WORDS.to_pylist())) == len(_JA_WORDS), "Japanese sector words must be distinct across sectors"


# --- tickers ---------------------------------------------------------------------------------

# Shares of ticker lengths 1-5 per exchange. NASDAQ and NYSE split each length's 26**L codes
# (even codes NASDAQ, odd NYSE); the LSE uses 2-4 letters.
_LETTER_SHARES = {
    NASDAQ: np.array([0.002, 0.01, 0.10, 0.80, 0.088]),
    NYSE: np.array([0.01, 0.12, 0.60, 0.27, 0.0]),
    LSE: np.array([0.0, 0.06, 0.55, 0.39, 0.0]),
}
_US_CAPACITY = 26 ** np.arange(1, 6, dtype=np.int64) // 2
_LETTER_CAPACITY = {
    NASDAQ: _US_CAPACITY,
    NYSE: _US_CAPACITY,
    LSE: 26 ** np.arange(1, 6, dtype=np.int64) * [0, 1, 1, 1, 0],
}
_TSE_NUMERIC = 9997 - 1301 + 1  # 8,697 codes 1301..9997
_TSE_LETTERS = np.frombuffer(b"0123456789ACDFGHJKLMNPRSTUWXY", dtype=np.uint8)  # digits + 19 letters
_TSE_PAIRS = 29 * 29 - 10 * 10  # second and fourth characters, at least one a letter: 741
_TSE_ALNUM = 9 * 10 * _TSE_PAIRS  # first character 1-9, third 0-9: 66,690
_HKEX_CODES = 9_999
# Companies an exchange can list with unique tickers.
_CAPACITY = np.array(
    [_US_CAPACITY.sum(), _US_CAPACITY.sum(), _LETTER_CAPACITY[LSE].sum(), _TSE_NUMERIC + _TSE_ALNUM, _HKEX_CODES]
)


def _ticker_lengths(companies: int, shares: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Companies per ticker length (1..5), capped by the codes available."""
    counts = np.minimum(quota(companies, shares), capacity)
    left = companies - int(counts.sum())
    for length in range(4, -1, -1):  # overflow goes to the longest lengths first (5 iterations)
        add = min(left, int(capacity[length] - counts[length]))
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


def _fixed_width(chars: np.ndarray) -> pa.Array:
    """Strings from a (rows, width) array of ASCII codes."""
    rows, width = chars.shape
    offsets = (np.arange(rows + 1, dtype=np.int32) * width).astype(np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.Array.from_buffers(pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _tse_codes(seed: int, number: np.ndarray) -> pa.Array:
    """TSE codes: the first 8,697 companies get the numeric codes 1301..9997, later ones (as
    listings since 2024) alphanumeric codes; each set is permuted so codes do not follow ids."""
    chars = np.empty((len(number), 4), dtype=np.uint8)
    numeric = number < _TSE_NUMERIC
    key = rand.stream_key(seed, COMPANIES, "ticker", "XTKS")
    code = 1301 + rand.Permutation(key, _TSE_NUMERIC)(np.where(numeric, number, 0))
    for i, power in enumerate((1000, 100, 10, 1)):
        chars[:, i] = 48 + (code // power) % 10
    a = rand.Permutation(rand.stream_key(seed, COMPANIES, "ticker", "XTKS", "alnum"), _TSE_ALNUM)(
        np.where(numeric, 0, number - _TSE_NUMERIC)
    )
    q = a % _TSE_PAIRS
    second_letter = q < 19 * 29
    q2 = q - 19 * 29
    c2 = np.where(second_letter, 10 + q // 29, q2 // 19)
    c4 = np.where(second_letter, q % 29, 10 + q2 % 19)
    alnum = np.stack(
        [48 + 1 + a // (10 * _TSE_PAIRS), _TSE_LETTERS[c2], 48 + (a // _TSE_PAIRS) % 10, _TSE_LETTERS[c4]], 1
    )
    chars[~numeric] = alnum[~numeric]
    return _fixed_width(chars)


def _tickers(seed: int, exchange: int, listed: int, number: np.ndarray) -> pa.Array:
    """Tickers of the companies numbered ``number`` among the ``listed`` companies of ``exchange``."""
    mic = MICS[exchange]
    if exchange == TSE:
        return _tse_codes(seed, number)
    if exchange == HKEX:
        code = 1 + rand.Permutation(rand.stream_key(seed, COMPANIES, "ticker", mic), _HKEX_CODES)(number)
        return zero_pad(code, 5)
    # Letters: a permuted rank picks the length (so short tickers are not the first ids), then a
    # permutation of that length's code space (one for both US exchanges, which split it).
    rank = rand.Permutation(rand.stream_key(seed, COMPANIES, "ticker", mic), listed)(number)
    per_length = _ticker_lengths(listed, _LETTER_SHARES[exchange], _LETTER_CAPACITY[exchange])
    length_idx = group_of(rank, per_length)
    within = rank - starts(per_length)[length_idx]
    space = "US" if exchange in (NASDAQ, NYSE) else mic
    code = np.zeros_like(within)
    for li in np.unique(length_idx):  # at most 5 iterations
        m = length_idx == li
        codes = 26 ** (int(li) + 1)
        own = within[m] * 2 + exchange if space == "US" else within[m]
        code[m] = rand.Permutation(rand.stream_key(seed, COMPANIES, "ticker", space, str(li)), codes)(own)
    return _letters(code, length_idx + 1)


# --- listing: which exchange each company is on, as a deck of exact quotas per block ----------

_BLOCK = 1_000  # companies per deck


def _capped_quota(size: int, caps: np.ndarray) -> np.ndarray:
    """Companies per exchange out of ``size`` by the exchange shares, none above its cap."""
    counts = quota(size, _EXCHANGE_WEIGHTS)
    if (counts == 0).any():  # a handful of companies: still one on each exchange first
        counts = quota(size, _EXCHANGE_WEIGHTS, minimum_one=True)
    counts = np.minimum(counts, caps)
    for _ in range(len(caps)):  # each round fills at least one exchange or places everyone
        left = size - int(counts.sum())
        room = caps - counts
        if left == 0 or not (room > 0).any():
            break
        counts += np.minimum(quota(left, _EXCHANGE_WEIGHTS * (room > 0)), room)
    return counts


@dataclass(frozen=True)
class _Decks:
    full: int  # full blocks of _BLOCK companies
    per_block: np.ndarray  # companies per exchange in a full block
    partial: np.ndarray  # ... in the last, partial block (zeros if there is none)
    listed: np.ndarray  # companies per exchange in all

    def counts(self, block: np.ndarray) -> np.ndarray:
        return np.where((block == self.full)[:, None], self.partial[None, :], self.per_block[None, :])


@lru_cache(maxsize=16)
def _decks(companies: int) -> _Decks:
    full, rest = divmod(companies, _BLOCK)
    caps = _CAPACITY // (full + (rest > 0))  # every block within its share of the codes
    per_block = _capped_quota(_BLOCK, caps) if full else np.zeros(5, dtype=np.int64)
    partial = _capped_quota(rest, caps) if rest else np.zeros(5, dtype=np.int64)
    if int(per_block.sum()) + int(partial.sum()) != (_BLOCK if full else 0) + rest:
        raise AssertionError("no room for the companies: _check should have refused")
    return _Decks(full, per_block, partial, full * per_block + partial)


def _max_companies() -> int:
    """Largest company count whose decks fit the exchanges' codes (a multiple of _BLOCK)."""
    lo, hi = 1, int(_CAPACITY.sum()) // _BLOCK + 1
    while lo < hi:  # largest block count k with sum(capacity // k) >= _BLOCK
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if int((_CAPACITY // mid).sum()) >= _BLOCK else (lo, mid - 1)
    return lo * _BLOCK


MAX_COMPANIES = _max_companies()  # 12,871,000


def _shuffle(seed: int, decks: _Decks, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(exchange, number inside the block's part for that exchange) of every slot of ``block``.

    Slots past the partial block's companies get exchange 5 (no company).
    """
    slots = np.arange(_BLOCK, dtype=np.int64)
    counts = decks.counts(block)  # blocks x 5
    size = counts.sum(axis=1)
    u = rand.bits(rand.stream_key(seed, COMPANIES, "exchange"), (block[:, None] * _BLOCK + slots).ravel())
    u = (u >> np.uint64(1)).reshape(len(block), _BLOCK)
    u[slots[None, :] >= size[:, None]] = np.uint64(1 << 63)  # empty slots sort last
    order = np.argsort(u, axis=1, kind="stable")  # order[:, c]: the slot that gets card c
    card = np.empty_like(order)
    np.put_along_axis(card, order, np.broadcast_to(slots, order.shape), axis=1)
    ends = np.cumsum(counts, axis=1)
    label = np.zeros((len(block), _BLOCK), dtype=np.int64)
    for e in range(5):  # card c belongs to the first exchange whose cards end after c
        label += slots[None, :] >= ends[:, e : e + 1]
    exchange = np.take_along_axis(label, card, axis=1)
    first = np.concatenate([ends - counts, size[:, None]], axis=1)
    return exchange, card - np.take_along_axis(first, exchange, axis=1)


def _distinct_sorted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for ascending values, without sorting."""
    new = np.empty(len(values), dtype=bool)
    new[:1] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return values[new], np.cumsum(new) - 1


def company_listing(seed: int, companies: int, company: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(0-based exchange, 0-based number of the company among its exchange's companies), for
    ascending ``company`` (a chunk's rows)."""
    decks = _decks(companies)
    block = company // _BLOCK
    touched, row = _distinct_sorted(block)
    exchange, within = _shuffle(seed, decks, touched)
    slot = company - block * _BLOCK
    e = exchange[row, slot]
    return e, block * decks.per_block[e] + within[row, slot]


def _price_rows(companies: int) -> tuple[int, int]:
    """(price rows of a full block, price rows in all)."""
    decks = _decks(companies)
    days = session_counts()
    per_block = int(decks.per_block @ days)
    return per_block, decks.full * per_block + int(decks.partial @ days)


@dataclass(frozen=True)
class _Located:
    """Where price rows fall: per row, and per distinct company of the rows (in row order)."""

    company: np.ndarray
    exchange: np.ndarray
    session: np.ndarray  # 0-based session of the company's exchange
    touched: np.ndarray  # the distinct companies, ascending
    touched_exchange: np.ndarray
    row_of: np.ndarray  # index into ``touched`` of each row


def _locate(seed: int, companies: int, row: np.ndarray) -> _Located:
    """Companies and sessions of (ascending) price rows: rows run company by company, then by date."""
    decks = _decks(companies)
    per_block, _ = _price_rows(companies)
    days = np.append(session_counts(), 0)  # exchange 5: an empty slot
    if len(row) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Located(empty, empty, empty, empty, empty, empty)
    first_block, last_block = (min(int(r) // max(per_block, 1), decks.full) for r in (row[0], row[-1]))
    if last_block - first_block <= 2:  # a chunk: its few blocks (one without rows adds nothing)
        blocks = np.arange(first_block, last_block + 1, dtype=np.int64)
    else:  # rows sampled over the whole table
        blocks, _ = _distinct_sorted(np.minimum(row // max(per_block, 1), decks.full))
    exchange, _ = _shuffle(seed, decks, blocks)
    exchange = exchange.ravel()
    # First row after each slot's company, ascending over the touched blocks' slots; the rows are
    # ascending too, so cutting them at those ends (a few thousand searches) finds every row's slot.
    ends = (np.cumsum(days[exchange].reshape(len(blocks), _BLOCK), axis=1) + (blocks * per_block)[:, None]).ravel()
    per_slot = np.diff(np.searchsorted(row, ends), prepend=0)
    used = np.flatnonzero(per_slot)
    row_of = np.repeat(np.arange(len(used)), per_slot[used])
    touched = blocks[used // _BLOCK] * _BLOCK + used % _BLOCK
    touched_exchange = exchange[used]
    first = ends[used] - days[touched_exchange]
    return _Located(touched[row_of], touched_exchange[row_of], row - first[row_of], touched, touched_exchange, row_of)


# --- company attributes: pure functions of (seed, company count, company index) -------------


def _check(companies: int) -> None:
    if companies > MAX_COMPANIES:
        raise GengoError(f"financial supports at most {MAX_COMPANIES:,} companies (unique tickers per exchange)")


def company_sector(seed: int, companies: int, company: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(0-based sector, 0-based number of the company inside its sector)."""
    rank = rand.Permutation(rand.stream_key(seed, COMPANIES, "sector"), companies)(company)
    counts = quota(companies, _SECTOR_SHARES)
    sector = group_of(rank, counts)
    return sector, rank - starts(counts)[sector]


def _volume_z(seed: int, company: np.ndarray) -> np.ndarray:
    return rand.normal(rand.stream_key(seed, COMPANIES, "volume"), company)


def liquidity_band(seed: int, company: np.ndarray) -> np.ndarray:
    """MiFID II liquidity band 1-6 of each company (it sets the tick of LSE listings)."""
    return 1 + np.searchsorted(_BAND_LIMITS, _volume_z(seed, company))


def tick_regime(seed: int, company: np.ndarray, exchange: np.ndarray) -> np.ndarray:
    """Row of the tick table: 0 US, 1-6 LSE liquidity bands, 7 TSE, 8 HKEX."""
    regime = np.array([0, 0, 0, 7, 8])[exchange]
    return np.where(exchange == LSE, liquidity_band(seed, company), regime)


def _company_params(seed: int, companies: int, company: np.ndarray, exchange: np.ndarray):
    """Daily drift, daily volatility, log first price and log median volume of each company."""
    sector, _ = company_sector(seed, companies, company)
    key = rand.stream_key(seed, COMPANIES, "params")
    mu = _SECTOR_DRIFT[sector] + 0.08 * rand.normal(rand.stream_key(seed, COMPANIES, "drift"), company)
    sigma = _SECTOR_VOL[sector] * fmath.exp(0.25 * rand.normal(key, company))
    sigma_d = sigma / np.sqrt(252.0)
    drift_d = (mu - 0.5 * sigma * sigma) / 252.0
    first = rand.normal(rand.stream_key(seed, COMPANIES, "first_price"), company)
    log_p0 = fmath.log(_PRICE_LEVEL[exchange]) + _PRICE_SPREAD[exchange] * first
    log_volume = fmath.log(_VOLUME_MEDIAN[exchange]) + 1.3 * _volume_z(seed, company)
    return drift_d, sigma_d, log_p0, log_volume


# --- dimensions ------------------------------------------------------------------------------


def _name_stems(
    seed: int, sector: np.ndarray, number: np.ndarray, stems: int, words: np.ndarray, tag: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A bijection of the number inside the sector onto (one stem, word), then (two stems, word).

    Returns (single, first stem, second stem, word inside the sector's words). The numbers are
    scattered over the stems so the first companies are not all "Smith ...".
    """
    count = words[sector]
    in_single = number < stems * count
    q1 = np.zeros_like(number)
    q2 = np.zeros_like(number)
    for s in np.unique(sector):  # at most 11 iterations per chunk
        m = sector == s
        w = int(words[s])
        p1 = rand.Permutation(rand.stream_key(seed, COMPANIES, "name1", str(s), *tag), stems * w)
        p2 = rand.Permutation(rand.stream_key(seed, COMPANIES, "name2", str(s), *tag), stems * stems * w)
        num = number[m]
        q1[m] = p1(np.minimum(num, stems * w - 1))
        q2[m] = p2(np.maximum(num - stems * w, 0))
    word = np.where(in_single, q1 % count, q2 % count)
    first = np.where(in_single, q1 // count, (q2 // count) // stems)
    return in_single, first, (q2 // count) % stems, word


@lru_cache(maxsize=1)
def _japanese_stems() -> pa.Array:
    """The stems of Japanese names, leaving out any a sector word begins with: a name reads back one way only."""
    stems = vocab.japanese_name_stems()
    words = _JA_WORDS.to_pylist()
    return pa.array([s for s in stems.to_pylist() if not any(w.startswith(s) for w in words)], pa.string())


def _japanese_names(seed: int, sector: np.ndarray, number: np.ndarray) -> pa.Array:
    """Tokyo listings' names without legal form: stem + word, or two stems + word (merged, as 三井住友).

    Unique: no stem begins another or a word, so a name splits into its stems and word one way only.
    """
    stems = _japanese_stems()
    single, first, second, word = _name_stems(seed, sector, number, len(stems), _JA_WORD_COUNT, ("ja",))
    lead = pc.if_else(pa.array(single), take(stems, first), join(take(stems, first), take(stems, second)))
    return join(lead, take(_JA_WORDS, _JA_WORD_OFFSET[sector] + word))


def _companies(ctx: ChunkContext) -> dict:
    n = ctx.rows[COMPANIES]
    _check(n)
    k = ctx.idx
    sector, number = company_sector(ctx.seed, n, k)
    exchange, listed_as = company_listing(ctx.seed, n, k)
    # Name: a bijection of the number inside the sector onto (last name(s), sector word).
    last = vocab.last_names().values
    single, first_last, second_last, word = _name_stems(ctx.seed, sector, number, len(last), _WORD_COUNT)
    lead = take(last, first_last)
    lead = pc.if_else(pa.array(single), lead, join(lead, " & ", take(last, second_last)))
    name = join(lead, " ", take(_WORDS, _WORD_OFFSET[sector] + word))
    tokyo = exchange == TSE
    if tokyo.any():  # in Japanese: unique among themselves, and no Latin name is written so
        japanese = _japanese_names(ctx.seed, sector[tokyo], number[tokyo])
        name = pc.replace_with_mask(name, pa.array(tokyo), japanese)
    legal = _LEGAL_OFFSET[exchange] + ctx.integers(0, 1 << 30, "suffix") % _LEGAL_COUNT[exchange]
    name = join(take(_LEGAL_BEFORE, legal), name, take(_LEGAL_AFTER, legal))
    # Ticker: per exchange (at most 5 iterations), then back in row order.
    listed = _decks(n).listed
    parts, rows = [pa.array([], pa.string())], [np.zeros(0, dtype=np.int64)]
    for e in np.unique(exchange):
        m = np.flatnonzero(exchange == e)
        parts.append(_tickers(ctx.seed, int(e), int(listed[e]), listed_as[m]))
        rows.append(m)
    tickers = pa.concat_arrays(parts).take(pa.array(np.argsort(np.concatenate(rows))))
    return {
        "company_id": ctx.ids,
        "company_name": name,
        "ticker_symbol": tickers,
        "sector": take(pa.array(SECTOR_NAMES), sector),
        "exchange_id": exchange + 1,
    }


def _exchanges(ctx: ChunkContext) -> dict:
    def col(i: int) -> pa.Array:
        return take(pa.array([e[i] for e in _EXCHANGES]), ctx.idx)

    return {
        "exchange_id": ctx.ids,
        "exchange_name": col(0),
        "country": col(1),
        "mic": col(2),
        "city": col(3),
        "currency": col(4),
    }


# --- fact ------------------------------------------------------------------------------------


def _prices(ctx: ChunkContext) -> dict:
    n = ctx.rows[COMPANIES]
    _check(n)
    at = _locate(ctx.seed, n, ctx.idx)
    company, exchange, day, touched, touched_exchange, row_of = (
        at.company,
        at.exchange,
        at.session,
        at.touched,
        at.touched_exchange,
        at.row_of,
    )
    all_days, first_day, _ = _calendars()
    drift_d, sigma_d, log_p0, log_volume = _company_params(ctx.seed, n, touched, touched_exchange)
    log_p0 += fmath.log(_UNITS)
    previous, close_today, move = _walk(ctx.seed, touched, touched_exchange, (drift_d, sigma_d, log_p0), row_of, day)
    slot = company * _SLOT + day  # (company, session): the same numbers in any chunking
    regime = tick_regime(ctx.seed, touched, touched_exchange)[row_of]
    lot = _LOT[touched_exchange]
    out = _bars(
        ctx.key,
        slot,
        (previous, close_today, sigma_d[row_of], move),
        (exchange, regime, lot[row_of], (log_volume - fmath.log(lot))[row_of], (-(-100 // lot))[row_of]),
    )
    return {
        "price_id": ctx.ids,
        "date": date_from_days(all_days[first_day[exchange] + day]),
        "company_id": company + 1,
        "exchange_id": exchange + 1,
        **out,
    }


# A company's walk (its log closes, in price units) is built in segments of this many sessions:
# first each segment's total return (one draw, the sum of its daily returns), summed into the log
# close at every segment's end; then the days inside a segment by a Brownian bridge between its
# ends (its own daily draws, shifted to sum to the segment's total). The daily returns are exactly
# independent normals, as a plain cumulative sum gives, but the close on any day costs a segment's
# draws plus one per earlier segment, not one per earlier day: a batch's corrections (scattered
# old rows) and the window's last close (where the batches go on) cost tens of draws, not a
# thousand.
_SEGMENT = 32


def _segment_ends(
    seed: int, company: np.ndarray, exchange: np.ndarray, walk: tuple, segments: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log close at the end of each of the first ``segments`` segments of each company (companies x
    segments; a segment past the company's sessions adds nothing), the standard normal that set
    each segment's total return, and the segment's sessions. ``walk``: (daily drift, daily
    volatility, log first price). A prefix of a cumulative sum: the same bits for any ``segments``."""
    drift_d, sigma_d, log_p0 = walk
    length = _segment_lengths(exchange, segments)
    j = np.arange(segments, dtype=np.int64)
    w = rand.normal(rand.stream_key(seed, PRICES, "segment"), (company[:, None] * _SLOT + j[None, :]).ravel())
    w = w.reshape(length.shape)
    ends = np.cumsum(length * drift_d[:, None] + sigma_d[:, None] * np.sqrt(length) * w, axis=1)
    ends += log_p0[:, None]
    return ends, w, length


def _segment_lengths(exchange: np.ndarray, segments: int) -> np.ndarray:
    """Sessions in each of the first ``segments`` segments of each listing (0 past its last)."""
    count = _calendars()[2][exchange]
    j = np.arange(segments, dtype=np.int64)
    return np.clip(count[:, None] - j[None, :] * _SEGMENT, 0, _SEGMENT).astype(np.float64)


def _walk(
    seed: int, touched: np.ndarray, exchange: np.ndarray, walk: tuple, row_of: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row (a session ``day`` of company ``touched[row_of]``, rows ascending): (previous log
    close, log close, |the day's return draw|), from the segments the rows fall in. ``walk``:
    (daily drift, daily volatility, log first price) of each touched company."""
    drift_d, sigma_d, log_p0 = walk
    if len(day) == 0:
        empty = np.zeros(0)
        return empty, empty, empty
    seg = day // _SEGMENT
    segments = int(seg.max()) + 1
    ends, w, lengths = _segment_ends(seed, touched, exchange, walk, segments)
    # The (company, segment) pairs the rows fall in: ascending, as the rows are.
    pairs, pair_of = _distinct_sorted(row_of * segments + seg)
    c, s = pairs // segments, pairs % segments
    k = np.arange(_SEGMENT, dtype=np.int64)
    idx = (touched[c] * _SLOT + s * _SEGMENT)[:, None] + k[None, :]
    z = rand.normal(rand.stream_key(seed, PRICES, "return"), idx.ravel()).reshape(idx.shape)
    length = lengths[c, s]
    last = length.astype(np.int64) - 1
    rows = np.arange(len(pairs))
    # The draws' running sums; each day's return is its draw plus one shift per segment, so
    # that they sum to the segment's total: the k-th close is start + k (drift + sigma shift)
    # + sigma (draws up to k), one cumulative sum for both.
    path = np.cumsum(z, axis=1)
    shift = (np.sqrt(length) * w[c, s] - path[rows, last]) / length
    days = np.arange(1, _SEGMENT + 1, dtype=np.float64)
    path *= sigma_d[c, None]
    path += days[None, :] * (drift_d[c] + sigma_d[c] * shift)[:, None]
    start = np.where(s > 0, ends[c, np.maximum(s - 1, 0)], log_p0[c])
    path += start[:, None]
    path[rows, last] = ends[c, s]  # the segment's end is the sum of segment totals, whatever the rounding
    within = day - seg * _SEGMENT
    close = path[pair_of, within]
    previous = np.where(within > 0, path[pair_of, np.maximum(within - 1, 0)], start[pair_of])
    return previous, close, np.abs(z[pair_of, within] + shift[pair_of])


def _bars(key, slot: np.ndarray, walk: tuple, listing: tuple) -> dict:
    """Open, high, low, close and volume of one session per row, from the walk's log closes.

    ``key(name)`` gives the stream of each draw, indexed by ``slot`` (company and session);
    ``walk`` is (previous log close, log close, daily volatility, |return z|) and ``listing``
    (exchange, tick regime, lot, log median volume in lots, fewest lots) per row.
    """
    previous, close_today, sd, move = walk
    exchange, regime, lot, log_lots, fewest = listing
    open_ = fmath.exp(previous + 0.25 * sd * rand.normal(key("gap"), slot))
    close = fmath.exp(close_today)
    high = np.maximum(open_, close) * fmath.exp(0.6 * sd * np.abs(rand.normal(key("high"), slot)))
    low = np.minimum(open_, close) * fmath.exp(-0.6 * sd * np.abs(rand.normal(key("low"), slot)))
    # To the exchange's tick grid, inside its price limits (both ends lie on every grid).
    lo, hi = _MIN_PRICE[exchange], _MAX_PRICE[exchange]
    for price in (open_, close, high, low):
        np.clip(price, lo, hi, out=price)
    open_u, close_u, high_u, low_u = _on_ticks((open_, close, high, low), (np.rint, np.rint, np.ceil, np.floor), regime)
    np.maximum(high_u, np.maximum(open_u, close_u), out=high_u)
    np.minimum(low_u, np.minimum(open_u, close_u), out=low_u)
    # Volume: heavier on days with large moves, in whole trading units (lots).
    lots = fmath.exp(log_lots + 0.45 * rand.normal(key("volume"), slot)) * (0.7 + 0.4 * move)
    volume = np.maximum(np.rint(lots), fewest).astype(np.int64)
    volume *= lot
    return {
        "open_price": decimal_from_units(open_u, 12, 4),
        "high_price": decimal_from_units(high_u, 12, 4),
        "low_price": decimal_from_units(low_u, 12, 4),
        "close_price": decimal_from_units(close_u, 12, 4),
        "volume": volume,
    }


def derive(rows: dict[str, int], seed: int, pinned: tuple[str, ...] = ()) -> dict[str, int]:
    """Price rows follow from companies: one row per company and session of its exchange."""
    _check(rows[COMPANIES])
    return {EXCHANGES: len(_EXCHANGES), PRICES: _price_rows(rows[COMPANIES])[1]}


def row_counts(prices: int, seed: int) -> dict[str, int]:
    """Go tool ratio: one company per 5 years of trading days (1,222 to 1,262 rows each)."""
    per_company = float(np.sum(_EXCHANGE_WEIGHTS * session_counts()))  # not @: BLAS's sum order depends on the CPU
    rows = {COMPANIES: min(max(1, round(int(prices) / per_company)), MAX_COMPANIES), EXCHANGES: 0, PRICES: 0}
    rows.update(derive(rows, seed))
    return rows


# --- change batches (gen --batches): the next session of every company, and corrections ------

_AFTER_SLOT = 1 << 16  # streams of the sessions after the window index (company, session) as company * this + session
_STEP_CELLS = 1 << 22  # companies x sessions per block of the walk after the window
CORRECTED_CLOSE = 0.0001  # share of the price rows whose close a batch corrects
CORRECTED_VOLUME = 0.0002  # ... whose volume it revises


def sessions_after(exchange: int) -> np.ndarray:
    """Sessions of a 0-based exchange from 2025-01-01 (days since 1970-01-01): batch b adds the b-th."""
    days, first, count = _calendars(AFTER)
    return days[first[exchange] : first[exchange] + count[exchange]]


def _window_close(seed: int, companies: int, company: np.ndarray, exchange: np.ndarray, walk: tuple) -> np.ndarray:
    """Each company's log close (in price units) on its exchange's last session of the window:
    the end of its last segment, the same bits as the base's walk has there (``_walk``). Every
    batch starts from the same closes, so a range of companies is computed once per process
    (``companies``, the count, sets each company's listing and parameters: part of the key)."""
    key = (seed, companies, int(company[0]), len(company)) if len(company) else None
    contiguous = key is not None and int(company[-1]) - int(company[0]) == len(company) - 1
    if contiguous and key in _CLOSES:
        return _CLOSES[key]
    last = (_calendars()[2][exchange] - 1) // _SEGMENT
    ends, _, _ = _segment_ends(seed, company, exchange, walk, int(last.max(initial=0)) + 1)
    out = ends[np.arange(len(company)), last]
    if contiguous:
        out.flags.writeable = False  # shared by every batch
        if sum(len(v) for v in _CLOSES.values()) + len(out) > _CLOSES_MAX:
            _CLOSES.clear()
        _CLOSES[key] = out
    return out


_CLOSES: dict[tuple[int, int, int, int], np.ndarray] = {}  # (seed, companies, first, how many) -> closes
_CLOSES_MAX = 1 << 20  # closes kept at most (8 MB), whatever the number of companies


def _after_key(seed: int):
    return lambda name: rand.stream_key(seed, PRICES, name, "after")


def _next_session(ctx: ChunkContext, batch: BatchContext) -> dict:
    """The rows batch b inserts: every company's b-th session after the window, in company order.

    The walk goes on from the window's last close with returns keyed by (company, session after
    the window), so a batch's open follows the previous batch's close and no batch looks ahead.
    """
    n = ctx.rows[COMPANIES]
    k = batch.batch - 1  # 0-based session after the window
    company = ctx.idx - batch.counts[k][PRICES]
    exchange, _ = company_listing(ctx.seed, n, company)
    drift_d, sigma_d, log_p0, log_volume = _company_params(ctx.seed, n, company, exchange)
    key = _after_key(ctx.seed)
    last = _window_close(ctx.seed, n, company, exchange, (drift_d, sigma_d, log_p0 + fmath.log(_UNITS)))
    close_today, previous, move = np.empty(len(company)), last.copy(), np.empty(len(company))
    step = max(1, _STEP_CELLS // (k + 1))
    for a in range(0, len(company), step):  # blocks of companies: the walk is companies x sessions
        s = slice(a, a + step)
        grid = company[s, None] * _AFTER_SLOT + np.arange(k + 1, dtype=np.int64)[None, :]
        z = rand.normal(key("return"), grid.ravel()).reshape(grid.shape)
        walk = np.cumsum(drift_d[s, None] + sigma_d[s, None] * z, axis=1)
        close_today[s] = last[s] + walk[:, k]
        if k:
            previous[s] = last[s] + walk[:, k - 1]
        move[s] = np.abs(z[:, k])
    lot = _LOT[exchange]
    out = _bars(
        key,
        company * _AFTER_SLOT + k,
        (previous, close_today, sigma_d, move),
        (exchange, tick_regime(ctx.seed, company, exchange), lot, log_volume - fmath.log(lot), -(-100 // lot)),
    )
    days, first, _ = _calendars(AFTER)
    return {
        "price_id": ctx.ids,
        "date": date_from_days(days[first[exchange] + k]),
        "company_id": company + 1,
        "exchange_id": exchange + 1,
        **out,
    }


def _units(prices: pa.Array) -> np.ndarray:
    """DECIMAL(12, 4) prices as int64 counts of 0.0001 (the low word of each 16-byte value)."""
    prices = prices.combine_chunks() if isinstance(prices, pa.ChunkedArray) else prices
    words = np.frombuffer(prices.buffers()[1], dtype=np.int64)
    return words[2 * prices.offset : 2 * (prices.offset + len(prices)) : 2].copy()


def _listing_of(rows: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    return (rows.column(c).to_numpy() - 1 for c in ("company_id", "exchange_id"))


def _corrected_close(batch: BatchContext, rows: pa.Table, idx: np.ndarray) -> pa.Array:
    """A close corrected by a few ticks (a bad print replaced), kept on the grid and inside [low, high]."""
    company, exchange = _listing_of(rows)
    price = _units(rows.column("close_price")) * fmath.exp(0.002 * rand.normal(batch.key("close"), idx))
    np.clip(price, _MIN_PRICE[exchange], _MAX_PRICE[exchange], out=price)
    (close,) = _on_ticks((price,), (np.rint,), tick_regime(batch.seed, company, exchange))
    close = np.clip(close, _units(rows.column("low_price")), _units(rows.column("high_price")))
    return decimal_from_units(close, 12, 4)


def _revised_volume(batch: BatchContext, rows: pa.Table, idx: np.ndarray) -> np.ndarray:
    """A volume revised by late trade reports (mostly up by a few per cent), in whole lots."""
    _, exchange = _listing_of(rows)
    lot = _LOT[exchange]
    factor = fmath.exp(0.02 + 0.05 * rand.normal(batch.key("volume"), idx))
    lots = np.maximum(np.rint(rows.column("volume").to_numpy() / lot * factor), -(-100 // lot))
    return lots.astype(np.int64) * lot


CHANGES = {
    PRICES: TableChanges(
        grow=lambda batch: batch.base[COMPANIES],  # one new session per company
        append=_next_session,
        update={"close_price": CORRECTED_CLOSE, "volume": CORRECTED_VOLUME},
        revise={"close_price": _corrected_close, "volume": _revised_volume},
        limit=BATCH_LIMIT,
    )
}


def _fk(table: str, column: str) -> str:
    return f"{table}.{column}"


# --- data checks (run over the written tables by the contract suite) -------------------------

# The exchanges' tick tables as published, written out independently of the compact form above so
# that a slip in one shows against the other. MiFID II (RTS 11 annex), prices in pence: lower end
# of the price band, then the tick in liquidity bands 1..6.
MIFID_TICKS = """
0      0.0005 0.0002 0.0001 0.0001 0.0001 0.0001
0.1    0.001  0.0005 0.0002 0.0001 0.0001 0.0001
0.2    0.002  0.001  0.0005 0.0002 0.0001 0.0001
0.5    0.005  0.002  0.001  0.0005 0.0002 0.0001
1      0.01   0.005  0.002  0.001  0.0005 0.0002
2      0.02   0.01   0.005  0.002  0.001  0.0005
5      0.05   0.02   0.01   0.005  0.002  0.001
10     0.1    0.05   0.02   0.01   0.005  0.002
20     0.2    0.1    0.05   0.02   0.01   0.005
50     0.5    0.2    0.1    0.05   0.02   0.01
100    1      0.5    0.2    0.1    0.05   0.02
200    2      1      0.5    0.2    0.1    0.05
500    5      2      1      0.5    0.2    0.1
1000   10     5      2      1      0.5    0.2
2000   20     10     5      2      1      0.5
5000   50     20     10     5      2      1
10000  100    50     20     10     5      2
20000  200    100    50     20     10     5
50000  500    200    100    50     20     10
"""
# (highest price of the band, tick), bands closed above; the last band has no upper end.
TSE_TICKS = ((3_000, 1), (5_000, 5), (30_000, 10), (50_000, 50), (300_000, 100), (500_000, 500), (3e6, 1_000),
             (5e6, 5_000), (3e7, 10_000), (5e7, 50_000), (None, 100_000))  # fmt: skip
HKEX_TICKS = ((0.25, 0.001), (0.5, 0.005), (10, 0.01), (20, 0.02), (100, 0.05), (200, 0.1), (500, 0.2),
              (1_000, 0.5), (2_000, 1), (5_000, 2), (None, 5))  # fmt: skip
_NO_END = 1 << 62


def _tick_rows() -> str:
    """VALUES rows (mic, liquidity band or 0, lowest price, price above the band, tick), prices in 1e-4."""
    rows = []
    for mic in ("XNAS", "XNYS"):  # Reg NMS Rule 612: a cent from one dollar, else 0.0001
        rows += [(mic, 0, 1, 10_000, 1), (mic, 0, 10_000, _NO_END, 100)]
    mifid = [[float(v) for v in line.split()] for line in MIFID_TICKS.strip().splitlines()]
    for band in range(1, 7):
        for r, line in enumerate(mifid):
            high = round(mifid[r + 1][0] * _UNITS) if r + 1 < len(mifid) else _NO_END
            rows.append(("XLON", band, max(1, round(line[0] * _UNITS)), high, round(line[band] * _UNITS)))
    for mic, table in (("XTKS", TSE_TICKS), ("XHKG", HKEX_TICKS)):
        low = 1
        for upper, tick in table:
            high = _NO_END if upper is None else round(upper * _UNITS) + 1
            rows.append((mic, 0, low, high, round(tick * _UNITS)))
            low = high
    return ", ".join(f"('{m}', {b}, {lo}, {hi}, {t})" for m, b, lo, hi, t in rows)


# Sessions known without the calendar library: (day, exchanges closed that day, why); the
# other exchanges trade.
_SPOT_SESSIONS = (
    ("2020-07-03", ("XNAS", "XNYS"), "Independence Day observed"),
    ("2024-11-28", ("XNAS", "XNYS"), "Thanksgiving"),
    ("2020-12-25", ("XNAS", "XNYS", "XLON", "XHKG"), "Christmas Day"),
    ("2021-11-03", ("XTKS",), "Culture Day"),
    ("2022-09-19", ("XLON", "XTKS"), "the Queen's funeral; Respect for the Aged Day"),
    ("2024-02-12", ("XTKS", "XHKG"), "National Foundation Day observed; Lunar New Year"),
)
_SPOT_ROWS = ", ".join(
    f"('{mic}', DATE '{day}', {str(mic in closed).lower()}, '{why.replace(chr(39), chr(39) * 2)}')"
    for day, closed, why in _SPOT_SESSIONS
    for mic in ("XNAS", "XNYS", "XLON", "XTKS", "XHKG")
)
_PRICED = f"SELECT p.*, e.mic FROM {PRICES} p JOIN {EXCHANGES} e USING (exchange_id)"

CHECKS = (
    Check(
        "prices_on_the_exchange_tick_grid",
        f"""WITH ticks(mic, band, lo, hi, tick) AS (VALUES {_tick_rows()}),
            u AS (SELECT price_id, company_id, mic, col, v FROM (
                      SELECT price_id, company_id, mic, open_price, high_price, low_price, close_price FROM ({_PRICED}))
                  UNPIVOT (v FOR col IN (open_price, high_price, low_price, close_price))),
            p AS (SELECT *, (v * 10000)::BIGINT AS units FROM u),
            g AS (SELECT p.*, t.band, t.tick, p.units % t.tick <> 0 AS off
                  FROM p JOIN ticks t ON t.mic = p.mic AND p.units >= t.lo AND p.units < t.hi),
            lse AS (SELECT company_id, arg_min(band, misses) AS band, min(misses) AS misses FROM (
                        SELECT company_id, band, count(*) FILTER (WHERE off) AS misses FROM g
                        WHERE mic = 'XLON' GROUP BY ALL) GROUP BY 1)
            SELECT g.price_id, g.company_id, g.mic, g.col, g.v AS price, g.tick / 10000 AS tick, g.band
            FROM g LEFT JOIN lse USING (company_id)
            WHERE g.off AND (g.mic <> 'XLON' OR lse.misses > 0 AND g.band = lse.band)
            UNION ALL
            SELECT price_id, company_id, mic, col, v, NULL, NULL FROM p
            WHERE NOT EXISTS (SELECT 1 FROM ticks t WHERE t.mic = p.mic AND p.units >= t.lo AND p.units < t.hi)""",
        "open, high, low and close are positive multiples of the tick of their exchange at that price (US Rule 612, "
        "TSE, HKEX); on the LSE one MiFID II liquidity band fits all of a company's prices (issue 20, item 13)",
    ),
    Check(
        "tse_volume_in_trading_units",
        f"SELECT price_id, company_id, volume FROM ({_PRICED}) WHERE mic = 'XTKS' AND volume % 100 <> 0",
        "Tokyo trades in units of 100 shares",
    ),
    Check(
        "trading_days_are_the_exchange_sessions",
        f"""WITH f AS (SELECT DISTINCT mic, date FROM ({_PRICED})),
            spot(mic, date, closed, why) AS (VALUES {_SPOT_ROWS})
            SELECT mic, date, 'a weekend' AS why FROM f WHERE isodow(date) > 5
            UNION ALL
            SELECT mic, date, 'outside 2020-01-02..2024-12-31' FROM f
            WHERE date < DATE '2020-01-02' OR date > DATE '2024-12-31'
            UNION ALL
            SELECT mic, date, 'New Year''s Day' FROM f WHERE month(date) = 1 AND day(date) = 1
            UNION ALL
            SELECT mic, date, 'Christmas Day' FROM f WHERE mic <> 'XTKS' AND month(date) = 12 AND day(date) = 25
            UNION ALL
            SELECT mic, date, 'Boxing Day' FROM f WHERE mic IN ('XLON', 'XHKG') AND month(date) = 12 AND day(date) = 26
            UNION ALL
            SELECT mic, date, 'the Japanese year-end holidays' FROM f
            WHERE mic = 'XTKS' AND (month(date) = 1 AND day(date) IN (2, 3) OR month(date) = 12 AND day(date) = 31)
            UNION ALL
            SELECT mic, date, why FROM f JOIN spot USING (mic, date) WHERE closed
            UNION ALL
            SELECT s.mic, s.date, 'no prices on a session' FROM spot s
            WHERE NOT s.closed AND s.mic IN (SELECT mic FROM f)
              AND NOT EXISTS (SELECT 1 FROM f WHERE f.mic = s.mic AND f.date = s.date)""",
        "prices fall on sessions of the company's exchange: weekdays of the window, none on holidays that hold every "
        "year, and the right side of a few holidays that differ between the markets (issue 20, item 13)",
    ),
    Check(
        "one_price_per_company_and_session",
        f"""WITH listed AS (SELECT exchange_id, count(DISTINCT company_id) AS companies FROM {PRICES} GROUP BY 1)
            SELECT exchange_id, date, count(*) AS prices, count(DISTINCT company_id) AS companies,
                   any_value(listed.companies) AS listed
            FROM {PRICES} JOIN listed USING (exchange_id) GROUP BY 1, 2
            HAVING count(*) <> any_value(listed.companies) OR count(DISTINCT company_id) <> count(*)""",
        "every company of an exchange has one row on each of its sessions, so all share one calendar",
    ),
)


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
                Column("ticker_symbol", pa.string(), doc="unique per exchange, in the exchange's style"),
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
                Column("currency", pa.string(), doc="appended: quote currency of the prices (GBX: pence sterling)"),
            ),
            _exchanges,
        ),
        Table(
            PRICES,
            (
                Column("price_id", ID, primary_key=True),
                Column("date", pa.date32(), doc="a session of the company's exchange"),
                Column("company_id", ID, references=_fk(COMPANIES, "company_id")),
                Column("exchange_id", ID, references=_fk(EXCHANGES, "exchange_id"), doc="the company's listing"),
                Column("open_price", PRICE, doc="in the exchange's currency, on its tick grid"),
                Column("high_price", PRICE),
                Column("low_price", PRICE),
                Column("close_price", PRICE),
                Column("volume", pa.int64()),
            ),
            _prices,
        ),
    ),
    row_counts=row_counts,
    derive=derive,
    notes=(
        "Each exchange's own sessions (exchange_calendars), 2020-01-02..2024-12-31; prices in its currency and ticks.",
        f"At most {MAX_COMPANIES:,} companies (unique tickers per exchange).",
    ),
    checks=CHECKS,
    changes=CHANGES,
)
