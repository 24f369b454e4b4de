"""Shared pieces of the ecommerce-ds (TPC-DS-like) model: names, keys, calendar, vocabularies, Arrow helpers.

Everything here is a pure function of its arguments; dimensions and facts call the same
functions so that a fact recomputes the dimension attribute it needs from the key alone.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import rand, vocab
from gengo.core.arrays import decimal_from_units, take

# --- table names ---------------------------------------------------------------------------

CALL_CENTER, CATALOG_PAGE, CATALOG_RETURNS, CATALOG_SALES = (
    "call_center",
    "catalog_page",
    "catalog_returns",
    "catalog_sales",
)
CUSTOMER, CUSTOMER_ADDRESS, CUSTOMER_DEMOGRAPHICS, DATE_DIM = (
    "customer",
    "customer_address",
    "customer_demographics",
    "date_dim",
)
HOUSEHOLD_DEMOGRAPHICS, INCOME_BAND, INVENTORY, ITEM = "household_demographics", "income_band", "inventory", "item"
PROMOTION, REASON, SHIP_MODE, STORE = "promotion", "reason", "ship_mode", "store"
STORE_RETURNS, STORE_SALES, TIME_DIM, WAREHOUSE = "store_returns", "store_sales", "time_dim", "warehouse"
WEB_PAGE, WEB_RETURNS, WEB_SALES, WEB_SITE = "web_page", "web_returns", "web_sales", "web_site"

# --- Arrow types ---------------------------------------------------------------------------

SK = pa.int64()
INT = pa.int32()
TEXT = pa.string()
DATE = pa.date32()
MONEY = pa.decimal128(7, 2)
PCT = pa.decimal128(5, 2)

# --- calendar ------------------------------------------------------------------------------

JULIAN_EPOCH = 2_440_588  # Julian day number of 1970-01-01
DATE_FIRST = int(np.datetime64("1900-01-02", "D").astype(np.int64))  # days since 1970-01-01
DATE_LAST = int(np.datetime64("2100-01-01", "D").astype(np.int64))
DATE_ROWS = DATE_LAST - DATE_FIRST + 1  # 73,049
TIME_ROWS = 86_400
SALES_FIRST = int(np.datetime64("1998-01-02", "D").astype(np.int64))
SALES_LAST = int(np.datetime64("2003-01-02", "D").astype(np.int64))
SALES_DAYS = SALES_LAST - SALES_FIRST + 1  # 1,827
INVENTORY_FIRST = int(np.datetime64("1998-01-01", "D").astype(np.int64))
INVENTORY_WEEKS = 261
# TPC-DS's "current" day: d_current_* flags are 'Y' for the day/week/month/quarter/year of it.
CURRENT_DAY = int(np.datetime64("2003-01-02", "D").astype(np.int64))
# Type-2 history: every business key exists from HISTORY_START; 2 or 3 versions split at these days.
HISTORY_START = int(np.datetime64("1997-10-27", "D").astype(np.int64))
HISTORY_SPLITS = (
    int(np.datetime64("1999-10-28", "D").astype(np.int64)),
    int(np.datetime64("2000-10-27", "D").astype(np.int64)),
    int(np.datetime64("2001-10-27", "D").astype(np.int64)),
)

NULL_THRESHOLD = 8  # a nullable fact column is NULL when its hash byte is below 8: 8/256 = 3.125%
NULL_FRACTION = NULL_THRESHOLD / 256


def julian(days: np.ndarray) -> np.ndarray:
    """date_dim key (Julian day number) of days since 1970-01-01."""
    return np.asarray(days, dtype=np.int64) + JULIAN_EPOCH


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month 1-12, day 1-31) of days since 1970-01-01."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    dom = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, dom


def days_from_civil(year: np.ndarray, month: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of (year, month, day); ``dom`` is clipped to the month's length."""
    months = (np.asarray(year, dtype=np.int64) - 1970) * 12 + (np.asarray(month, dtype=np.int64) - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    length = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - first
    return first + np.minimum(dom, length) - 1


# --- keys and fan-outs ---------------------------------------------------------------------


def FanOut(key: np.uint64, lo: int, hi: int, parents: int | None = None) -> rand.FanOut:  # noqa: N802 - reads as a type
    """Children per parent, an independent uniform draw on ``lo..hi`` for every parent."""
    return rand.FanOut(key, lo, hi, parents)


runs = rand.runs  # (distinct values, inverse index) of an array whose equal values are adjacent
coprime_step = rand.coprime_step  # a stride near 0.618 n coprime with n (a full-cycle walk)


def history(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Type-2 history rows: (business key index, version 0.., number of versions) of row ``idx``.

    Every block of 6 rows holds 3 business keys with 1, 2 and 3 versions, so a table of ``n``
    rows (a multiple of 6) has ``n / 2`` business keys and the mapping is arithmetic.
    """
    block, pos = np.divmod(idx, 6)
    j = _HIST_KEY[pos]
    return block * 3 + j, _HIST_VERSION[pos], j + 1


_HIST_KEY = np.array([0, 1, 1, 2, 2, 2], dtype=np.int64)
_HIST_VERSION = np.array([0, 0, 1, 0, 1, 2], dtype=np.int64)


def history_rows(business_keys: int) -> int:
    return 2 * business_keys


def latest_version_row(business: np.ndarray) -> np.ndarray:
    """0-based row of the current (last) version of business key ``business``."""
    block, j = np.divmod(business, 3)
    return block * 6 + np.array([0, 2, 5], dtype=np.int64)[j]


def history_dates(version: np.ndarray, versions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rec_start_date days, rec_end_date days, end-is-null mask) of a history row."""
    s1, s2, s3 = HISTORY_SPLITS
    start = np.select([version == 0, versions == 2, version == 1], [HISTORY_START, s2, s1], s3)
    end = np.select([version == versions - 1, versions == 2, version == 0], [0, s2 - 1, s1 - 1], s3 - 1)
    return start, end, version == versions - 1


def bkey(keys: np.ndarray) -> pa.Array:
    """16-character business ids in the dsdgen style: 'AAAAAAAA' + 8 letters A-P of the key."""
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    data = np.full((n, 16), ord("A"), dtype=np.uint8)
    k = keys.copy()
    for pos in range(8, 16):  # a loop over 8 digit positions, not over rows
        data[:, pos] += (k & 15).astype(np.uint8)
        k >>= 4
    return fixed_width_strings(data)


def fixed_width_strings(data: np.ndarray) -> pa.Array:
    """A string array from an (n, width) uint8 matrix of ASCII bytes."""
    n, width = data.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))]
    )


# --- null masks and Arrow arrays -----------------------------------------------------------


class NullBits:
    """Independent NULL masks, 8 columns per 64-bit hash: a column is NULL where its byte is < 8 (1/32)."""

    per_hash = 8

    def __init__(self, key: np.uint64, idx: np.ndarray, columns: int) -> None:
        self.bytes = [
            np.asarray(rand.bits(key ^ np.uint64(h * 0x9E3779B97F4A7C15 % (1 << 64)), idx), "<u8")
            .view(np.uint8)
            .reshape(-1, 8)
            for h in range(-(-columns // self.per_hash))
        ]

    def mask(self, column: int) -> np.ndarray:
        h, slot = divmod(column, self.per_hash)
        return self.bytes[h][:, slot] < NULL_THRESHOLD


def _validity(mask: np.ndarray | None) -> pa.Buffer | None:
    if mask is None or not mask.any():
        return None
    return pa.py_buffer(np.packbits(~mask, bitorder="little"))


def money(cents: np.ndarray, mask: np.ndarray | None = None, precision: int = 7, scale: int = 2) -> pa.Array:
    """Decimal array from integer units of 10**-scale, NULL where ``mask``."""
    return decimal_from_units(cents, precision, scale, _validity(mask))


def ints(values: np.ndarray, mask: np.ndarray | None = None, typ: pa.DataType = SK) -> pa.Array:
    """Integer array (int64 or int32), NULL where ``mask``."""
    dtype = np.int64 if typ == pa.int64() else np.int32
    arr = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(typ, len(arr), [_validity(mask), pa.py_buffer(arr)])


def dates(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    arr = np.ascontiguousarray(days, dtype=np.int32)
    return pa.Array.from_buffers(DATE, len(arr), [_validity(mask), pa.py_buffer(arr)])


def with_nulls(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    """``arr`` with NULL where ``mask`` (any type)."""
    return pc.if_else(pa.array(mask), pa.nulls(len(arr), arr.type), arr)


def constant_text(value: str, n: int) -> pa.Array:
    return take(pa.array([value], TEXT), np.zeros(n, dtype=np.int64))


def flag(values: np.ndarray) -> pa.Array:
    """'Y' / 'N' strings from a boolean array."""
    return take(_YN, np.asarray(values, dtype=np.int64))


_YN = pa.array(["N", "Y"])


def pick(ctx_key: np.uint64, idx: np.ndarray, pool: pa.Array) -> pa.Array:
    """Uniform pick from a small pool."""
    return take(pool, rand.integers(ctx_key, idx, 0, len(pool) - 1))


def scaled(field: np.ndarray, n: int, bits: int) -> np.ndarray:
    """A ``bits``-bit unsigned field mapped uniformly onto ``[0, n)`` as int64."""
    return (field.astype(np.int64, copy=False) * n) >> bits


def field(h: np.ndarray, shift: int, bits: int) -> np.ndarray:
    """Bits ``shift .. shift+bits`` of a uint64 hash as int64."""
    return ((h >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).view(np.int64)  # < 2**63: the same values


# --- vocabularies --------------------------------------------------------------------------

SYLLABLES = ("ought", "able", "pri", "ese", "anti", "cally", "ation", "eing", "n st", "bar")

CATEGORIES = ("Women", "Men", "Children", "Shoes", "Music", "Jewelry", "Home", "Sports", "Books", "Electronics")
CLASSES = (
    ("dresses", "fragrances", "maternity", "swimwear"),
    ("accessories", "pants", "shirts", "sports-apparel"),
    ("infants", "newborn", "school-uniforms", "toddlers"),
    ("athletic", "kids", "mens", "womens"),
    ("classical", "country", "pop", "rock"),
    ("bracelets", "costume", "diamonds", "earings", "estate", "gold", "loose stones", "mens watch", "pendants"),
    ("accent", "bathroom", "bedding", "curtains/drapes", "decor", "flatware", "furniture", "glassware", "lighting"),
    ("archery", "athletic shoes", "baseball", "basketball", "camping", "fishing", "fitness", "football", "golf"),
    ("arts", "business", "computers", "cooking", "fiction", "history", "reference", "romance", "self-help"),
    ("audio", "cameras", "camcorders", "disk drives", "memory", "monitors", "personal", "portable", "televisions"),
)
BRAND_PREFIX = (
    "amalg",
    "importo",
    "edu pack",
    "exporti",
    "scholar",
    "corp",
    "namelessnameless",
    "univ",
    "brand",
    "maxi",
)
BRAND_SUFFIX = ("amalg", "importo", "edu pack", "exporti", "scholar", "corp", "nameless", "univ", "brand", "maxi")
COLORS = [
    "almond",
    "antique",
    "aquamarine",
    "azure",
    "beige",
    "bisque",
    "black",
    "blanched",
    "blue",
    "blush",
    "brown",
    "burlywood",
    "burnished",
    "chartreuse",
    "chiffon",
    "chocolate",
    "coral",
    "cornflower",
    "cornsilk",
    "cream",
    "cyan",
    "dark",
    "deep",
    "dim",
    "dodger",
    "drab",
    "firebrick",
    "floral",
    "forest",
    "frosted",
    "gainsboro",
    "ghost",
    "goldenrod",
    "green",
    "grey",
    "honeydew",
    "hot",
    "indian",
    "ivory",
    "khaki",
    "lace",
    "lavender",
    "lawn",
    "lemon",
    "light",
    "lime",
    "linen",
    "magenta",
    "maroon",
    "medium",
    "metallic",
    "midnight",
    "mint",
    "misty",
    "moccasin",
    "navajo",
    "navy",
    "olive",
    "orange",
    "orchid",
    "pale",
    "papaya",
    "peach",
    "peru",
    "pink",
    "plum",
    "powder",
    "puff",
    "purple",
    "red",
    "rose",
    "rosy",
    "royal",
    "saddle",
    "salmon",
    "sandy",
    "seashell",
    "sienna",
    "sky",
    "slate",
    "smoke",
    "snow",
    "spring",
    "steel",
    "tan",
    "thistle",
    "tomato",
    "turquoise",
    "violet",
    "wheat",
    "white",
    "yellow",
]
SIZES = ("small", "medium", "large", "extra large", "economy", "petite", "N/A")
UNITS = [
    "Each",
    "Dozen",
    "Case",
    "Pound",
    "Ounce",
    "Box",
    "Bunch",
    "Carton",
    "Cup",
    "Dram",
    "Gram",
    "Gross",
    "Lb",
    "N/A",
    "Oz",
    "Pallet",
    "Tbl",
    "Tsp",
    "Ton",
    "Unknown",
]
CONTAINERS = ("Unknown", "Box", "Bag", "Can", "Bottle", "Jar", "Pouch", "Tube")
STREET_TYPES = [
    "Street",
    "Avenue",
    "Boulevard",
    "Circle",
    "Court",
    "Drive",
    "Lane",
    "Parkway",
    "Road",
    "Way",
    "Ln",
    "Dr",
    "Ave",
    "Blvd",
    "Ct",
    "Pkwy",
    "RD",
    "ST",
    "Wy",
    "Cir",
]
LOCATION_TYPES = ("apartment", "condo", "single family")
# State -> GMT offset, for the states the address pool uses.
_EASTERN = [
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "IN",
    "KY",
    "ME",
    "MD",
    "MA",
    "MI",
    "NH",
    "NJ",
    "NY",
    "NC",
    "OH",
    "PA",
    "RI",
    "SC",
    "TN",
    "VT",
    "VA",
    "WV",
]
_CENTRAL = ["AL", "AR", "IL", "IA", "KS", "LA", "MN", "MS", "MO", "NE", "ND", "OK", "SD", "TX", "WI"]
_MOUNTAIN = ["AZ", "CO", "ID", "MT", "NM", "UT", "WY"]
_PACIFIC = ["CA", "NV", "OR", "WA"]


def _gmt(abbr: str) -> int:
    if abbr in _EASTERN:
        return -500
    if abbr in _CENTRAL:
        return -600
    if abbr in _MOUNTAIN:
        return -700
    if abbr in _PACIFIC:
        return -800
    return -900 if abbr == "AK" else -1000


_COUNTY_NAMES = (
    "Williamson County",
    "Ziebach County",
    "Walker County",
    "Richland County",
    "Barrow County",
    "Franklin Parish",
    "Daviess County",
    "Luce County",
    "Fairfield County",
    "Jackson County",
    "Bronx County",
    "Orange County",
    "Dona Ana County",
    "Mesa County",
    "Huron County",
    "Kittitas County",
    "Raleigh County",
    "Jefferson Davis Parish",
    "Maverick County",
    "Levy County",
)


class UsPlaces:
    """US localities (city, county, state, zip, gmt offset) from the shared Faker address pool."""

    def __init__(self) -> None:
        pools = vocab.address_pools()
        start, count = int(pools.locality_offset[0]), int(pools.locality_count[0])
        self.count = count
        self.city = pools.city.slice(start, count)
        self.zip = pools.postcode.slice(start, count)
        names = pools.region.slice(start, count).to_pylist()  # once per process, not per row
        abbr_of = _state_abbreviations()
        abbrs = [abbr_of.get(n, "TN") for n in names]
        self.state = pa.array(abbrs, TEXT)
        self.gmt = np.array([_gmt(a) for a in abbrs], dtype=np.int64)
        tn = [i for i, a in enumerate(abbrs) if a == "TN"]
        self.tennessee = np.array(tn or [0], dtype=np.int64)
        self.streets = pools.street_names.slice(int(pools.street_offset[0]), int(pools.street_count[0]))
        ln = vocab.last_names().values.to_pylist()[:400]
        self.counties = pa.array(list(_COUNTY_NAMES) + [f"{n} County" for n in ln], TEXT)


@lru_cache(maxsize=1)
def us_places() -> UsPlaces:
    return UsPlaces()


# Faker's lists through the vocabularies' disk cache: importing any Faker module first imports the
# package, which lists every locale it has (47 ms of each process's start, in the sizing of every
# ecommerce-ds run).
def _faker_list(name: str, build) -> list[str]:
    return [str(v) for v in vocab.disk_cached(name, build, "faker")]


def _state_abbreviations() -> dict[str, str]:
    def build() -> list[str]:
        from faker.providers.address.en_US import Provider

        return [f"{n}|{a}" for n, a in zip(Provider.states, Provider.states_abbr, strict=False)]

    return dict(pair.split("|", 1) for pair in _faker_list("us-state-abbreviations", build))


@lru_cache(maxsize=1)
def words() -> pa.Array:
    def build() -> list[str]:
        from faker.providers.lorem.en_US import Provider

        return sorted(set(Provider.word_list))

    return pa.array(_faker_list("lorem-words", build), TEXT)


@lru_cache(maxsize=1)
def gendered_first_names() -> tuple[pa.Array, pa.Array]:
    # The vocabularies' gendered names (disk-cached), without their weights: Faker's lists in order.
    return vocab.gendered_first_names(False).values, vocab.gendered_first_names(True).values


def sentence(seed: int, table: str, column: str, idx: np.ndarray, n_words: int) -> pa.Array:
    """``n_words`` words from the lorem pool joined by spaces (a loop over words, not rows)."""
    pool = words()
    parts = [
        take(pool, rand.integers(rand.stream_key(seed, table, column, str(w)), idx, 0, len(pool) - 1))
        for w in range(n_words)
    ]
    return pc.binary_join_element_wise(*parts, " ")


def person_names(seed: int, table: str, column: str, idx: np.ndarray) -> pa.Array:
    """'First Last' names (managers)."""
    fn, ln = vocab.first_names(), vocab.last_names()
    first = take(fn.values, rand.weighted_choice(rand.stream_key(seed, table, column, "first"), idx, fn.weights))
    last = take(ln.values, rand.weighted_choice(rand.stream_key(seed, table, column, "last"), idx, ln.weights))
    return pc.binary_join_element_wise(first, last, " ")


def syllable_name(values: np.ndarray, digits: int) -> pa.Array:
    """dsdgen-style made-up names: the syllables of the decimal digits of ``values``."""
    pool = pa.array(SYLLABLES, TEXT)
    v = np.asarray(values, dtype=np.int64)
    parts = []
    for d in range(digits - 1, -1, -1):  # most significant syllable first
        parts.append(take(pool, (v // 10**d) % 10))
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")


def address_block(seed: int, table: str, key: np.ndarray, prefix: str, tennessee: float = 0.0) -> dict:
    """The TPC-DS address columns (street_number .. gmt_offset) for entity keys ``key``.

    ``tennessee`` is the share of entities placed in Tennessee (dsdgen puts most stores there).
    """
    p = us_places()

    def k(col: str) -> np.uint64:
        return rand.stream_key(seed, table, "address", col)

    loc = rand.integers(k("locality"), key, 0, p.count - 1)
    if tennessee > 0:
        tn = p.tennessee[rand.integers(k("tn"), key, 0, len(p.tennessee) - 1)]
        loc = np.where(rand.uniform(k("in_tn"), key) < tennessee, tn, loc)
    suite = rand.integers(k("suite"), key, 0, 99)
    suite_text = pc.binary_join_element_wise("Suite ", pc.cast(pa.array(suite * 10), TEXT), "")
    county = rand.integers(k("county"), loc, 0, len(p.counties) - 1)
    county = np.where(rand.uniform(k("county_first"), loc) < 0.5, loc % 10, county)
    return {
        f"{prefix}street_number": pc.cast(pa.array(rand.integers(k("number"), key, 1, 999)), TEXT),
        f"{prefix}street_name": take(p.streets, rand.integers(k("street"), key, 0, len(p.streets) - 1)),
        f"{prefix}street_type": pick(k("type"), key, pa.array(STREET_TYPES, TEXT)),
        f"{prefix}suite_number": suite_text,
        f"{prefix}city": take(p.city, loc),
        f"{prefix}county": take(p.counties, county),
        f"{prefix}state": take(p.state, loc),
        f"{prefix}zip": take(p.zip, loc),
        f"{prefix}country": constant_text("United States", len(key)),
        f"{prefix}gmt_offset": money(p.gmt[loc], precision=5),
    }
