"""The 17 TPC-DS dimension tables (columns in the official order, TPC-DS types)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import fmath, rand, vocab
from gengo.core.arrays import join, take, to_text
from gengo.core.schema import ChunkContext, Column, Table
from gengo.models.ecommerce_ds.common import (
    BRAND_PREFIX,
    BRAND_SUFFIX,
    CALL_CENTER,
    CATALOG_PAGE,
    CATEGORIES,
    CLASSES,
    COLORS,
    CONTAINERS,
    CURRENT_DAY,
    CUSTOMER,
    CUSTOMER_ADDRESS,
    CUSTOMER_DEMOGRAPHICS,
    DATE,
    DATE_DIM,
    DATE_FIRST,
    HOUSEHOLD_DEMOGRAPHICS,
    INCOME_BAND,
    INT,
    ITEM,
    LOCATION_TYPES,
    MONEY,
    PCT,
    PROMOTION,
    REASON,
    SALES_DAYS,
    SALES_FIRST,
    SHIP_MODE,
    SIZES,
    SK,
    STORE,
    TEXT,
    TIME_DIM,
    UNITS,
    WAREHOUSE,
    WEB_PAGE,
    WEB_SITE,
    address_block,
    bkey,
    civil,
    constant_text,
    dates,
    days_from_civil,
    flag,
    gendered_first_names,
    history,
    history_dates,
    ints,
    julian,
    money,
    person_names,
    pick,
    sentence,
    syllable_name,
    words,
)

# --- shared pure functions used by facts -----------------------------------------------------


def customer_current(seed: int, rows, customer: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0-based (cdemo, hdemo, address) rows a customer currently points to."""
    cdemo = rand.integers(rand.stream_key(seed, CUSTOMER, "cdemo"), customer, 0, rows[CUSTOMER_DEMOGRAPHICS] - 1)
    hdemo = rand.integers(rand.stream_key(seed, CUSTOMER, "hdemo"), customer, 0, rows[HOUSEHOLD_DEMOGRAPHICS] - 1)
    addr = rand.integers(rand.stream_key(seed, CUSTOMER, "addr"), customer, 0, rows[CUSTOMER_ADDRESS] - 1)
    return cdemo, hdemo, addr


def tax_hundredths(seed: int, table: str, row: np.ndarray) -> np.ndarray:
    """Tax percentage (0..11 hundredths) of a store, call center or web site row."""
    return rand.integers(rand.stream_key(seed, table, "tax"), row, 0, 11)


# --- calendar dimensions -------------------------------------------------------------------

_DAY_NAMES = pa.array(["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"])


def _holiday(days: np.ndarray) -> np.ndarray:
    _, m, d = civil(days)
    dow = (days + 4) % 7
    return (
        ((m == 1) & (d == 1))
        | ((m == 7) & (d == 4))
        | ((m == 11) & (d == 11))
        | ((m == 12) & (d == 25))
        | ((m == 11) & (dow == 4) & (d >= 22) & (d <= 28))  # Thanksgiving
        | ((m == 5) & (dow == 1) & (d >= 25))  # Memorial Day
        | ((m == 9) & (dow == 1) & (d <= 7))  # Labor Day
    )


def _date_dim(ctx: ChunkContext) -> dict:
    days = DATE_FIRST + ctx.idx
    year, moy, dom = civil(days)
    dow = (days + 4) % 7
    qoy = (moy - 1) // 3 + 1
    month_seq = (year - 1900) * 12 + moy - 1
    week_seq = (days - (DATE_FIRST - 2)) // 7 + 1  # weeks start on Sunday; 1900-01-02 is in week 1
    quarter_seq = (year - 1900) * 4 + qoy
    cy, cm, _ = civil(np.array([CURRENT_DAY]))
    current_week = (CURRENT_DAY - (DATE_FIRST - 2)) // 7 + 1
    return {
        "d_date_sk": julian(days),
        "d_date_id": bkey(julian(days)),
        "d_date": dates(days),
        "d_month_seq": month_seq,
        "d_week_seq": week_seq,
        "d_quarter_seq": quarter_seq,
        "d_year": year,
        "d_dow": dow,
        "d_moy": moy,
        "d_dom": dom,
        "d_qoy": qoy,
        "d_fy_year": year,
        "d_fy_quarter_seq": quarter_seq,
        "d_fy_week_seq": week_seq,
        "d_day_name": take(_DAY_NAMES, dow),
        "d_quarter_name": join(to_text(year), "Q", to_text(qoy)),
        "d_holiday": flag(_holiday(days)),
        "d_weekend": flag((dow == 0) | (dow == 6)),
        "d_following_holiday": flag(_holiday(days - 1)),
        "d_first_dom": julian(days - dom + 1),
        "d_last_dom": julian(days_from_civil(year, moy, np.full_like(dom, 31))),
        "d_same_day_ly": julian(days_from_civil(year - 1, moy, dom)),
        "d_same_day_lq": julian(days_from_civil(year - (moy <= 3), (moy - 4) % 12 + 1, dom)),
        "d_current_day": flag(days == CURRENT_DAY),
        "d_current_week": flag(week_seq == current_week),
        "d_current_month": flag((year == cy[0]) & (moy == cm[0])),
        "d_current_quarter": flag((year == cy[0]) & (qoy == (cm[0] - 1) // 3 + 1)),
        "d_current_year": flag(year == cy[0]),
    }


def _time_dim(ctx: ChunkContext) -> dict:
    t = ctx.idx
    hour, minute, second = t // 3600, (t // 60) % 60, t % 60
    shift = np.select([hour < 8, hour < 16], [2, 0], 1)
    sub = np.select([hour < 6, hour < 12, hour < 17], [0, 1, 2], 3)
    meal = np.select([(hour >= 6) & (hour < 9), (hour >= 11) & (hour < 14), (hour >= 17) & (hour < 20)], [0, 1, 2], 3)
    meals = take(pa.array(["breakfast", "lunch", "dinner", None], TEXT), meal)
    return {
        "t_time_sk": t,
        "t_time_id": bkey(t),
        "t_time": t,
        "t_hour": hour,
        "t_minute": minute,
        "t_second": second,
        "t_am_pm": take(pa.array(["AM", "PM"]), (hour >= 12).astype(np.int64)),
        "t_shift": take(pa.array(["first", "second", "third"]), shift),
        "t_sub_shift": take(pa.array(["night", "morning", "afternoon", "evening"]), sub),
        "t_meal_time": meals,
    }


# --- people --------------------------------------------------------------------------------


def _customer_address(ctx: ChunkContext) -> dict:
    out = {"ca_address_sk": ctx.ids, "ca_address_id": bkey(ctx.ids)}
    out.update(address_block(ctx.seed, CUSTOMER_ADDRESS, ctx.idx, "ca_"))
    out["ca_location_type"] = pick(ctx.key("location_type"), ctx.idx, pa.array(LOCATION_TYPES))
    return out


_GENDERS = pa.array(["M", "F"])
_MARITAL = pa.array(["M", "S", "D", "W", "U"])
_EDUCATION = pa.array(["Primary", "Secondary", "College", "2 yr Degree", "4 yr Degree", "Advanced Degree", "Unknown"])
_CREDIT = pa.array(["Good", "High Risk", "Low Risk", "Unknown"])
# Mixed radix of the customer_demographics cross product, fastest digit first.
_CD_RADIX = (2, 5, 7, 20, 4, 7, 7, 7)  # product = 1,920,800
CD_FULL = int(np.prod(_CD_RADIX))


def _customer_demographics(ctx: ChunkContext) -> dict:
    rest = ctx.idx.copy()
    digits = []
    for radix in _CD_RADIX:  # a loop over 8 attributes
        digits.append(rest % radix)
        rest //= radix
    g, m, e, p, c, dep, emp, col = digits
    return {
        "cd_demo_sk": ctx.ids,
        "cd_gender": take(_GENDERS, g),
        "cd_marital_status": take(_MARITAL, m),
        "cd_education_status": take(_EDUCATION, e),
        "cd_purchase_estimate": (p + 1) * 500,
        "cd_credit_rating": take(_CREDIT, c),
        "cd_dep_count": dep,
        "cd_dep_employed_count": emp,
        "cd_dep_college_count": col,
    }


_BUY_POTENTIAL = pa.array(["0-500", "501-1000", "1001-5000", "5001-10000", ">10000", "Unknown"])
HD_ROWS = 7200


def _household_demographics(ctx: ChunkContext) -> dict:
    i = ctx.idx
    return {
        "hd_demo_sk": ctx.ids,
        "hd_income_band_sk": i % 20 + 1,
        "hd_buy_potential": take(_BUY_POTENTIAL, (i // 20) % 6),
        "hd_dep_count": (i // 120) % 10,
        "hd_vehicle_count": (i // 1200) % 6 - 1,
    }


def _income_band(ctx: ChunkContext) -> dict:
    i = ctx.idx
    return {
        "ib_income_band_sk": ctx.ids,
        "ib_lower_bound": np.where(i == 0, 0, i * 10000 + 1),
        "ib_upper_bound": (i + 1) * 10000,
    }


_SALUTATION_M = pa.array(["Mr.", "Mr.", "Mr.", "Sir", "Dr."])
_SALUTATION_F = pa.array(["Mrs.", "Ms.", "Miss", "Mrs.", "Dr."])
_DOMAINS = pa.array(["gmail.com", "yahoo.com", "hotmail.com", "aol.com", "msn.com", "comcast.net", "earthlink.net"])


@lru_cache(maxsize=1)
def _birth_countries() -> tuple[pa.Array, np.ndarray]:
    """(c_birth_country values, index into ``vocab.NAME_LOCALES`` of each, -1 for English names)."""
    names = vocab.countries().to_pylist()
    locale = np.full(len(names), -1, dtype=np.int64)
    for country, name_locale in vocab.NAME_COUNTRIES:
        locale[names.index(country)] = vocab.NAME_LOCALES.index(name_locale)
    return pc.utf8_upper(vocab.countries()), locale


def _names_from_abroad(ctx: ChunkContext, female: np.ndarray, country: np.ndarray, first: pa.Array, last: pa.Array):
    """(first, last, ASCII first, ASCII last): customers born in a country of ``vocab.NAME_COUNTRIES`` have
    names of its language (José Peña born in Mexico, Jürgen Müller in Germany), the others keep theirs."""
    locale = _birth_countries()[1][country]
    abroad = locale >= 0
    if not abroad.any():
        return first, last, first, last
    pool = vocab.locale_person_names()
    rows, fem, loc = ctx.idx[abroad], female[abroad], locale[abroad]
    mask = pa.array(abroad)
    names, folded = [], []
    for column, own, kinds in (
        ("first_name", first, (vocab.FEMALE_FIRST, vocab.MALE_FIRST)),
        ("last_name", last, (vocab.FEMALE_LAST, vocab.MALE_LAST)),
    ):
        at = pool.pick(loc, np.where(fem, *kinds), rand.uniform(ctx.key(column, "abroad"), rows))
        names.append(pc.replace_with_mask(own, mask, take(pool.values, at)))
        # Logins and emails in ASCII letters (Peña -> Pena, "María José" -> MariaJose, O'Brien -> OBrien).
        folded.append(pc.replace_with_mask(own, mask, pc.replace_substring_regex(take(pool.ascii, at), "[ ']", "")))
    return names[0], names[1], folded[0], folded[1]


def _customer(ctx: ChunkContext) -> dict:
    i = ctx.idx
    cdemo, hdemo, addr = customer_current(ctx.seed, ctx.rows, i)
    male_names, female_names = gendered_first_names()
    female = ctx.uniform("gender") < 0.5
    fi = ctx.integers(0, 1 << 30, "first_name")
    first = pc.if_else(
        pa.array(female), take(female_names, fi % len(female_names)), take(male_names, fi % len(male_names))
    )
    sal = ctx.integers(0, 4, "salutation")
    salutation = pc.if_else(pa.array(female), take(_SALUTATION_F, sal), take(_SALUTATION_M, sal))
    ln = vocab.last_names()
    last = take(ln.values, rand.weighted_choice(ctx.key("last_name"), i, ln.weights))
    # Born 1924-1984 (dsdgen: to 1992), so that every customer is an adult by the last sales day;
    # the first sale falls after the 18th birthday, the last review after the first sale.
    birth_year = ctx.integers(1924, 1984, "birth_year")
    birth_month, birth_day = ctx.integers(1, 12, "birth_month"), ctx.integers(1, 28, "birth_day")
    adult = _days_of(birth_year + 18, birth_month, birth_day)
    earliest = np.maximum(SALES_FIRST - 3650, adult)
    last_day = SALES_FIRST + SALES_DAYS - 1
    first_sales = earliest + (ctx.uniform("first_sales") * (last_day - earliest + 1)).astype(np.int64)
    review_from = np.maximum(SALES_LAST_REVIEW, first_sales)
    review = review_from + (ctx.uniform("review") * (SALES_LAST_REVIEW + 366 - review_from)).astype(np.int64)
    countries = _birth_countries()[0]
    country = rand.integers(ctx.key("birth_country"), i, 0, len(countries) - 1)  # as ``pick`` draws it
    first, last, first_ascii, last_ascii = _names_from_abroad(ctx, female, country, first, last)
    domain = pick(ctx.key("domain"), i, _DOMAINS)
    return {
        "c_customer_sk": ctx.ids,
        "c_customer_id": bkey(ctx.ids),
        "c_current_cdemo_sk": cdemo + 1,
        "c_current_hdemo_sk": hdemo + 1,
        "c_current_addr_sk": addr + 1,
        "c_first_shipto_date_sk": julian(first_sales + ctx.integers(0, 30, "shipto")),
        "c_first_sales_date_sk": julian(first_sales),
        "c_salutation": salutation,
        "c_first_name": first,
        "c_last_name": last,
        "c_preferred_cust_flag": flag(ctx.uniform("preferred") < 0.5),
        "c_birth_day": birth_day,
        "c_birth_month": birth_month,
        "c_birth_year": birth_year,
        "c_birth_country": take(countries, country),
        "c_login": join(pc.utf8_lower(first_ascii), to_text(birth_year % 100), to_text(ctx.ids % 1000)),
        "c_email_address": join(first_ascii, ".", last_ascii, "@", domain),
        "c_last_review_date_sk": julian(review),
    }


SALES_LAST_REVIEW = SALES_FIRST + SALES_DAYS - 366


def _days_of(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of dates given by parts (day <= 28: every month has it)."""
    months = (np.asarray(year, dtype=np.int64) - 1970) * 12 + np.asarray(month, dtype=np.int64) - 1
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + np.asarray(day) - 1


# --- items and promotions --------------------------------------------------------------------


def item_category(seed: int, business: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(category 0..9, class index inside the category) of a business item."""
    cat = rand.integers(rand.stream_key(seed, ITEM, "category"), business, 0, len(CATEGORIES) - 1)
    counts = np.array([len(c) for c in CLASSES])
    cls = (rand.uniform(rand.stream_key(seed, ITEM, "class"), business) * counts[cat]).astype(np.int64)
    return cat, np.minimum(cls, counts[cat] - 1)


_CLASS_FLAT = pa.array([c for group in CLASSES for c in group])
_CLASS_OFFSET = np.concatenate([[0], np.cumsum([len(c) for c in CLASSES])[:-1]])


def item_price_cents(seed: int, item: np.ndarray) -> np.ndarray:
    """i_current_price of an item row (0.09 .. 99.99, log-uniform-ish)."""
    u = rand.uniform(rand.stream_key(seed, ITEM, "price"), item)
    return np.maximum(9, np.round(fmath.exp(fmath.log(9) + u * (fmath.log(9999) - fmath.log(9))))).astype(np.int64)


def _item(ctx: ChunkContext) -> dict:
    business, version, versions = history(ctx.idx)
    start, end, current = history_dates(version, versions)
    cat, cls = item_category(ctx.seed, business)
    class_id = cls + 1
    brand_n = rand.integers(ctx.key("brand_n"), business, 1, 10)
    manufact = rand.integers(ctx.key("manufact"), business, 1, 1000)
    price = item_price_cents(ctx.seed, ctx.idx)
    wholesale = np.maximum(1, price * (30 + ctx.integers(0, 60, "wholesale")) // 100)
    brand = join(
        take(pa.array(BRAND_PREFIX), cat), take(pa.array(BRAND_SUFFIX), (cls + brand_n) % 10), " #", to_text(brand_n)
    )
    return {
        "i_item_sk": ctx.ids,
        "i_item_id": bkey(business + 1),
        "i_rec_start_date": dates(start),
        "i_rec_end_date": dates(end, current),
        "i_item_desc": sentence(ctx.seed, ITEM, "desc", ctx.idx, 8),
        "i_current_price": money(price),
        "i_wholesale_cost": money(wholesale),
        "i_brand_id": (cat + 1) * 1_000_000 + class_id * 1000 + brand_n,
        "i_brand": brand,
        "i_class_id": class_id,
        "i_class": take(_CLASS_FLAT, _CLASS_OFFSET[cat] + cls),
        "i_category_id": cat + 1,
        "i_category": take(pa.array(CATEGORIES), cat),
        "i_manufact_id": manufact,
        "i_manufact": syllable_name(manufact, 3),
        "i_size": pick(ctx.key("size"), ctx.idx, pa.array(SIZES)),
        "i_formulation": join(to_text(ctx.integers(10**9, 10**10 - 1, "formulation")), "pale"),
        "i_color": pick(ctx.key("color"), ctx.idx, pa.array(COLORS)),
        "i_units": pick(ctx.key("units"), ctx.idx, pa.array(UNITS)),
        "i_container": pick(ctx.key("container"), ctx.idx, pa.array(CONTAINERS)),
        "i_manager_id": ctx.integers(1, 100, "manager"),
        "i_product_name": syllable_name(ctx.ids, 4),
    }


_PURPOSES = pa.array(["Unknown", "business", "pleasure", "gift", "holiday"])


def _promotion(ctx: ChunkContext) -> dict:
    i = ctx.idx
    start = SALES_FIRST + ctx.integers(0, SALES_DAYS - 1, "start")
    channels = rand.bits(ctx.key("channels"), i)
    out = {
        "p_promo_sk": ctx.ids,
        "p_promo_id": bkey(ctx.ids),
        "p_start_date_sk": julian(start),
        "p_end_date_sk": julian(start + ctx.integers(7, 60, "length")),
        "p_item_sk": ctx.integers(1, ctx.rows[ITEM], "item"),
        "p_cost": money(ctx.integers(1, 200, "cost") * 10_000, precision=15),
        "p_response_target": ctx.integers(1, 3, "response"),
        "p_promo_name": syllable_name(ctx.ids, 1),
    }
    for b, name in enumerate(("dmail", "email", "catalog", "tv", "radio", "press", "event", "demo")):
        out[f"p_channel_{name}"] = flag(((channels >> np.uint64(b)) & np.uint64(1)).astype(bool))
    out["p_channel_details"] = sentence(ctx.seed, PROMOTION, "details", i, 6)
    out["p_purpose"] = pick(ctx.key("purpose"), i, _PURPOSES)
    out["p_discount_active"] = flag(ctx.uniform("active") < 0.5)
    return out


_REASONS = (
    "Package was damaged",
    "Stopped working",
    "Did not get it on time",
    "Not the product that was ordred",
    "Parts missing",
    "Does not work with a product that I have",
    "Gift exchange",
    "Did not like the color",
    "Did not like the model",
    "Did not like the make",
    "Did not like the warranty",
    "No service location in my area",
    "Found a better price in a store",
    "Found a better extended warranty in a store",
    "Not working any more",
    "Did not fit",
    "Wrong size",
    "Lost my job",
    "unauthoized purchase",
    "duplicate purchase",
    "its is a boy",
    "it is a girl",
)


def _reason(ctx: ChunkContext) -> dict:
    generic = join("reason ", to_text(ctx.ids))
    known = take(pa.array(_REASONS), np.minimum(ctx.idx, len(_REASONS) - 1))
    return {
        "r_reason_sk": ctx.ids,
        "r_reason_id": bkey(ctx.ids),
        "r_reason_desc": pc.if_else(pa.array(ctx.idx < len(_REASONS)), known, generic),
    }


_SM_TYPES = pa.array(["EXPRESS", "NEXT DAY", "OVERNIGHT", "TWO DAY", "REGULAR", "LIBRARY"])
_SM_CODES = pa.array(["AIR", "SURFACE", "SEA", "BIKE", "HAND CARRY", "MESSENGER"])
_CARRIERS = pa.array(
    (
        "UPS FEDEX AIRBORNE USPS DHL TBS ZHOU ZOUROS MSC LATVIAN ALLIANCE ORIENTAL BARIAN BOXBUNDLES "
        "GREAT_EASTERN DIAMOND RUPEKSA GERMA HARMSTORF PRIVATECARRIER"
    )
    .replace("GREAT_EASTERN", "GREAT EASTERN")
    .split(" ")
)


def _ship_mode(ctx: ChunkContext) -> dict:
    i = ctx.idx
    return {
        "sm_ship_mode_sk": ctx.ids,
        "sm_ship_mode_id": bkey(ctx.ids),
        "sm_type": take(_SM_TYPES, i % 6),
        "sm_code": take(_SM_CODES, (i // 6 + i) % 6),
        "sm_carrier": take(_CARRIERS, i % len(_CARRIERS)),
        "sm_contract": sentence(ctx.seed, SHIP_MODE, "contract", i, 1),
    }


# --- places and channels ---------------------------------------------------------------------

_HOURS = pa.array(["8AM-4PM", "8AM-12AM", "8AM-8AM"])
_GEOGRAPHY = pa.array(["Unknown", "urban", "suburban", "rural"])
_DIVISIONS = pa.array(["Unknown", "north", "south", "east", "west", "central"])


def _store(ctx: ChunkContext) -> dict:
    business, version, versions = history(ctx.idx)
    start, end, current = history_dates(version, versions)
    closed = ctx.uniform("closed") < 0.15
    division = rand.integers(ctx.key("division"), business, 1, 6)
    company = rand.integers(ctx.key("company"), business, 1, 6)
    out = {
        "s_store_sk": ctx.ids,
        "s_store_id": bkey(business + 1),
        "s_rec_start_date": dates(start),
        "s_rec_end_date": dates(end, current),
        "s_closed_date_sk": ints(julian(SALES_FIRST + ctx.integers(0, SALES_DAYS - 1, "closed_date")), ~closed),
        "s_store_name": syllable_name(business, 1),
        "s_number_employees": ctx.integers(200, 300, "employees"),
        "s_floor_space": ctx.integers(5_000_000, 10_000_000, "floor_space"),
        "s_hours": pick(ctx.key("hours"), ctx.idx, _HOURS),
        "s_manager": person_names(ctx.seed, STORE, "manager", ctx.idx),
        "s_market_id": ctx.integers(1, 10, "market"),
        "s_geography_class": pick(ctx.key("geography"), ctx.idx, _GEOGRAPHY),
        "s_market_desc": sentence(ctx.seed, STORE, "market_desc", ctx.idx, 10),
        "s_market_manager": person_names(ctx.seed, STORE, "market_manager", ctx.idx),
        "s_division_id": division,
        "s_division_name": take(_DIVISIONS, division - 1),
        "s_company_id": company,
        "s_company_name": syllable_name(company, 1),
    }
    out.update(address_block(ctx.seed, STORE, business, "s_", tennessee=0.7))
    out["s_tax_precentage"] = money(tax_hundredths(ctx.seed, STORE, ctx.idx), precision=5)
    return out


_CC_NAMES = pa.array(
    [
        "NY Metro",
        "Mid Atlantic",
        "North Midwest",
        "Pacific Northwest",
        "California",
        "Hawaii/Alaska",
        "South Midwest",
        "Central",
        "New England",
        "Southeast",
    ]
)
_CC_CLASSES = pa.array(["small", "medium", "large"])


def _call_center(ctx: ChunkContext) -> dict:
    business, version, versions = history(ctx.idx)
    start, end, current = history_dates(version, versions)
    closed = ctx.uniform("closed") < 0.1
    division = rand.integers(ctx.key("division"), business, 1, 6)
    company = rand.integers(ctx.key("company"), business, 1, 6)
    name = take(_CC_NAMES, business % len(_CC_NAMES))
    name = pc.if_else(pa.array(business < len(_CC_NAMES)), name, join(name, " ", to_text(business)))
    out = {
        "cc_call_center_sk": ctx.ids,
        "cc_call_center_id": bkey(business + 1),
        "cc_rec_start_date": dates(start),
        "cc_rec_end_date": dates(end, current),
        "cc_closed_date_sk": ints(julian(SALES_FIRST + ctx.integers(0, SALES_DAYS - 1, "closed_date")), ~closed),
        "cc_open_date_sk": julian(SALES_FIRST - rand.integers(ctx.key("open"), business, 30, 3000)),
        "cc_name": name,
        "cc_class": pick(ctx.key("class"), ctx.idx, _CC_CLASSES),
        "cc_employees": ctx.integers(1, 70_000, "employees"),
        "cc_sq_ft": ctx.integers(1_000, 2_000_000, "sq_ft"),
        "cc_hours": pick(ctx.key("hours"), ctx.idx, _HOURS),
        "cc_manager": person_names(ctx.seed, CALL_CENTER, "manager", ctx.idx),
        "cc_mkt_id": ctx.integers(1, 6, "mkt"),
        "cc_mkt_class": sentence(ctx.seed, CALL_CENTER, "mkt_class", ctx.idx, 5),
        "cc_mkt_desc": sentence(ctx.seed, CALL_CENTER, "mkt_desc", ctx.idx, 10),
        "cc_market_manager": person_names(ctx.seed, CALL_CENTER, "market_manager", ctx.idx),
        "cc_division": division,
        "cc_division_name": syllable_name(division, 1),
        "cc_company": company,
        "cc_company_name": syllable_name(company, 1),
    }
    out.update(address_block(ctx.seed, CALL_CENTER, business, "cc_"))
    out["cc_tax_percentage"] = money(tax_hundredths(ctx.seed, CALL_CENTER, ctx.idx), precision=5)
    return out


PAGES_PER_CATALOG = 108
_CP_TYPES = pa.array(["monthly", "quarterly", "bi-annual"])
_CP_LENGTH = np.array([30, 91, 182])


def _catalog_page(ctx: ChunkContext) -> dict:
    catalog, page = np.divmod(ctx.idx, PAGES_PER_CATALOG)
    kind = catalog % 3
    start = SALES_FIRST + (catalog * 37) % SALES_DAYS
    return {
        "cp_catalog_page_sk": ctx.ids,
        "cp_catalog_page_id": bkey(ctx.ids),
        "cp_start_date_sk": julian(start),
        "cp_end_date_sk": julian(start + _CP_LENGTH[kind] - 1),
        "cp_department": take(pa.array(CATEGORIES), rand.integers(ctx.key("department"), catalog, 0, 9)),
        "cp_catalog_number": catalog + 1,
        "cp_catalog_page_number": page + 1,
        "cp_description": sentence(ctx.seed, CATALOG_PAGE, "description", ctx.idx, 12),
        "cp_type": take(_CP_TYPES, kind),
    }


def _warehouse(ctx: ChunkContext) -> dict:
    out = {
        "w_warehouse_sk": ctx.ids,
        "w_warehouse_id": bkey(ctx.ids),
        "w_warehouse_name": pc.utf8_slice_codeunits(sentence(ctx.seed, WAREHOUSE, "name", ctx.idx, 3), 0, 20),
        "w_warehouse_sq_ft": ctx.integers(50_000, 1_000_000, "sq_ft"),
    }
    out.update(address_block(ctx.seed, WAREHOUSE, ctx.idx, "w_"))
    return out


_WP_TYPES = pa.array(["welcome", "protected", "dynamic", "feedback", "general", "ad", "order"])


def _web_page(ctx: ChunkContext) -> dict:
    business, version, versions = history(ctx.idx)
    start, end, current = history_dates(version, versions)
    autogen = ctx.uniform("autogen") < 0.3
    creation = SALES_FIRST - rand.integers(ctx.key("creation"), business, 1, 1000)
    return {
        "wp_web_page_sk": ctx.ids,
        "wp_web_page_id": bkey(business + 1),
        "wp_rec_start_date": dates(start),
        "wp_rec_end_date": dates(end, current),
        "wp_creation_date_sk": julian(creation),
        "wp_access_date_sk": julian(SALES_FIRST + SALES_DAYS - 1 - ctx.integers(0, 100, "access")),
        "wp_autogen_flag": flag(autogen),
        "wp_customer_sk": ints(ctx.integers(1, ctx.rows[CUSTOMER], "customer"), ~autogen),
        "wp_url": join("http://www.", take(_words_short(), ctx.integers(0, 99, "url")), ".com"),
        "wp_type": pick(ctx.key("type"), ctx.idx, _WP_TYPES),
        "wp_char_count": ctx.integers(100, 8000, "chars"),
        "wp_link_count": ctx.integers(2, 25, "links"),
        "wp_image_count": ctx.integers(1, 7, "images"),
        "wp_max_ad_count": ctx.integers(0, 4, "ads"),
    }


def _words_short() -> pa.Array:
    return words().slice(0, 100)


_WEB_CLASSES = pa.array(["Unknown", "large", "medium", "small"])


def _web_site(ctx: ChunkContext) -> dict:
    business, version, versions = history(ctx.idx)
    start, end, current = history_dates(version, versions)
    closed = ctx.uniform("closed") < 0.1
    company = rand.integers(ctx.key("company"), business, 1, 6)
    out = {
        "web_site_sk": ctx.ids,
        "web_site_id": bkey(business + 1),
        "web_rec_start_date": dates(start),
        "web_rec_end_date": dates(end, current),
        "web_name": join("site_", to_text(business)),
        "web_open_date_sk": julian(SALES_FIRST - rand.integers(ctx.key("open"), business, 30, 3000)),
        "web_close_date_sk": ints(julian(SALES_FIRST + ctx.integers(0, SALES_DAYS - 1, "closed_date")), ~closed),
        "web_class": pick(ctx.key("class"), ctx.idx, _WEB_CLASSES),
        "web_manager": person_names(ctx.seed, WEB_SITE, "manager", ctx.idx),
        "web_mkt_id": ctx.integers(1, 6, "mkt"),
        "web_mkt_class": sentence(ctx.seed, WEB_SITE, "mkt_class", ctx.idx, 5),
        "web_mkt_desc": sentence(ctx.seed, WEB_SITE, "mkt_desc", ctx.idx, 10),
        "web_market_manager": person_names(ctx.seed, WEB_SITE, "market_manager", ctx.idx),
        "web_company_id": company,
        "web_company_name": syllable_name(company, 1),
    }
    out.update(address_block(ctx.seed, WEB_SITE, business, "web_"))
    out["web_tax_percentage"] = money(tax_hundredths(ctx.seed, WEB_SITE, ctx.idx), precision=5)
    return out


# --- declarations --------------------------------------------------------------------------


def _c(name: str, typ: pa.DataType = TEXT, **kw) -> Column:
    return Column(name, typ, **kw)


def _pk(name: str) -> Column:
    return Column(name, SK, primary_key=True)


def _date_fk(name: str, nullable: bool = False) -> Column:
    return Column(name, SK, references="date_dim.d_date_sk", nullable=nullable)


def _address_columns(prefix: str, number_type: pa.DataType = TEXT) -> tuple[Column, ...]:
    return (
        _c(f"{prefix}street_number", number_type),
        _c(f"{prefix}street_name"),
        _c(f"{prefix}street_type"),
        _c(f"{prefix}suite_number"),
        _c(f"{prefix}city"),
        _c(f"{prefix}county"),
        _c(f"{prefix}state"),
        _c(f"{prefix}zip"),
        _c(f"{prefix}country"),
        _c(f"{prefix}gmt_offset", PCT),
    )


DIMENSIONS: tuple[Table, ...] = (
    Table(
        DATE_DIM,
        (
            _pk("d_date_sk"),
            _c("d_date_id"),
            _c("d_date", DATE),
            *(_c(n, INT) for n in ("d_month_seq", "d_week_seq", "d_quarter_seq", "d_year", "d_dow", "d_moy")),
            *(_c(n, INT) for n in ("d_dom", "d_qoy", "d_fy_year", "d_fy_quarter_seq", "d_fy_week_seq")),
            *(_c(n) for n in ("d_day_name", "d_quarter_name", "d_holiday", "d_weekend", "d_following_holiday")),
            *(_c(n, SK) for n in ("d_first_dom", "d_last_dom", "d_same_day_ly", "d_same_day_lq")),
            *(_c(f"d_current_{n}") for n in ("day", "week", "month", "quarter", "year")),
        ),
        _date_dim,
        doc="One row per day 1900-01-02 .. 2100-01-01; d_date_sk is the Julian day number.",
    ),
    Table(
        TIME_DIM,
        (
            _pk("t_time_sk"),
            _c("t_time_id"),
            *(_c(n, INT) for n in ("t_time", "t_hour", "t_minute", "t_second")),
            _c("t_am_pm"),
            _c("t_shift"),
            _c("t_sub_shift"),
            _c("t_meal_time", nullable=True),
        ),
        _time_dim,
        doc="One row per second of the day, t_time_sk 0 .. 86399.",
    ),
    Table(INCOME_BAND, (_pk("ib_income_band_sk"), _c("ib_lower_bound", INT), _c("ib_upper_bound", INT)), _income_band),
    Table(
        HOUSEHOLD_DEMOGRAPHICS,
        (
            _pk("hd_demo_sk"),
            Column("hd_income_band_sk", SK, references="income_band.ib_income_band_sk"),
            _c("hd_buy_potential"),
            _c("hd_dep_count", INT),
            _c("hd_vehicle_count", INT),
        ),
        _household_demographics,
    ),
    Table(
        CUSTOMER_DEMOGRAPHICS,
        (
            _pk("cd_demo_sk"),
            _c("cd_gender"),
            _c("cd_marital_status"),
            _c("cd_education_status"),
            _c("cd_purchase_estimate", INT),
            _c("cd_credit_rating"),
            _c("cd_dep_count", INT),
            _c("cd_dep_employed_count", INT),
            _c("cd_dep_college_count", INT),
        ),
        _customer_demographics,
        doc="The cross product of the attributes (gender fastest); truncated below TPC-DS scale factor 1.",
    ),
    Table(
        CUSTOMER_ADDRESS,
        (
            _pk("ca_address_sk"),
            _c("ca_address_id"),
            *_address_columns("ca_"),
            _c("ca_location_type"),
        ),
        _customer_address,
    ),
    Table(
        CUSTOMER,
        (
            _pk("c_customer_sk"),
            _c("c_customer_id"),
            Column("c_current_cdemo_sk", SK, references="customer_demographics.cd_demo_sk"),
            Column("c_current_hdemo_sk", SK, references="household_demographics.hd_demo_sk"),
            Column("c_current_addr_sk", SK, references="customer_address.ca_address_sk"),
            _date_fk("c_first_shipto_date_sk"),
            _date_fk("c_first_sales_date_sk"),
            _c("c_salutation"),
            _c("c_first_name"),
            _c("c_last_name"),
            _c("c_preferred_cust_flag"),
            _c("c_birth_day", INT),
            _c("c_birth_month", INT),
            _c("c_birth_year", INT),
            _c("c_birth_country"),
            _c("c_login"),
            _c("c_email_address"),
            _date_fk("c_last_review_date_sk"),
        ),
        _customer,
    ),
    Table(
        ITEM,
        (
            _pk("i_item_sk"),
            _c("i_item_id"),
            _c("i_rec_start_date", DATE),
            _c("i_rec_end_date", DATE, nullable=True),
            _c("i_item_desc"),
            _c("i_current_price", MONEY),
            _c("i_wholesale_cost", MONEY),
            _c("i_brand_id", INT),
            _c("i_brand"),
            _c("i_class_id", INT),
            _c("i_class"),
            _c("i_category_id", INT),
            _c("i_category"),
            _c("i_manufact_id", INT),
            _c("i_manufact"),
            _c("i_size"),
            _c("i_formulation"),
            _c("i_color"),
            _c("i_units"),
            _c("i_container"),
            _c("i_manager_id", INT),
            _c("i_product_name"),
        ),
        _item,
        doc="Type-2 history: i_item_id repeats over 1-3 versions (rec_start/rec_end dates).",
    ),
    Table(
        PROMOTION,
        (
            _pk("p_promo_sk"),
            _c("p_promo_id"),
            _date_fk("p_start_date_sk"),
            _date_fk("p_end_date_sk"),
            Column("p_item_sk", SK, references="item.i_item_sk"),
            _c("p_cost", pa.decimal128(15, 2)),
            _c("p_response_target", INT),
            _c("p_promo_name"),
            *(_c(f"p_channel_{n}") for n in ("dmail", "email", "catalog", "tv", "radio", "press", "event", "demo")),
            _c("p_channel_details"),
            _c("p_purpose"),
            _c("p_discount_active"),
        ),
        _promotion,
    ),
    Table(REASON, (_pk("r_reason_sk"), _c("r_reason_id"), _c("r_reason_desc")), _reason),
    Table(
        SHIP_MODE,
        (
            _pk("sm_ship_mode_sk"),
            _c("sm_ship_mode_id"),
            _c("sm_type"),
            _c("sm_code"),
            _c("sm_carrier"),
            _c("sm_contract"),
        ),
        _ship_mode,
    ),
    Table(
        STORE,
        (
            _pk("s_store_sk"),
            _c("s_store_id"),
            _c("s_rec_start_date", DATE),
            _c("s_rec_end_date", DATE, nullable=True),
            _date_fk("s_closed_date_sk", nullable=True),
            _c("s_store_name"),
            _c("s_number_employees", INT),
            _c("s_floor_space", INT),
            _c("s_hours"),
            _c("s_manager"),
            _c("s_market_id", INT),
            _c("s_geography_class"),
            _c("s_market_desc"),
            _c("s_market_manager"),
            _c("s_division_id", INT),
            _c("s_division_name"),
            _c("s_company_id", INT),
            _c("s_company_name"),
            *_address_columns("s_"),
            _c("s_tax_precentage", PCT),
        ),
        _store,
        doc="Type-2 history over 1-3 versions per s_store_id. s_tax_precentage is the spec's spelling.",
    ),
    Table(
        CALL_CENTER,
        (
            _pk("cc_call_center_sk"),
            _c("cc_call_center_id"),
            _c("cc_rec_start_date", DATE),
            _c("cc_rec_end_date", DATE, nullable=True),
            _date_fk("cc_closed_date_sk", nullable=True),
            _date_fk("cc_open_date_sk"),
            _c("cc_name"),
            _c("cc_class"),
            _c("cc_employees", INT),
            _c("cc_sq_ft", INT),
            _c("cc_hours"),
            _c("cc_manager"),
            _c("cc_mkt_id", INT),
            _c("cc_mkt_class"),
            _c("cc_mkt_desc"),
            _c("cc_market_manager"),
            _c("cc_division", INT),
            _c("cc_division_name"),
            _c("cc_company", INT),
            _c("cc_company_name"),
            *_address_columns("cc_"),
            _c("cc_tax_percentage", PCT),
        ),
        _call_center,
        doc="Type-2 history over 1-3 versions per cc_call_center_id.",
    ),
    Table(
        CATALOG_PAGE,
        (
            _pk("cp_catalog_page_sk"),
            _c("cp_catalog_page_id"),
            _date_fk("cp_start_date_sk"),
            _date_fk("cp_end_date_sk"),
            _c("cp_department"),
            _c("cp_catalog_number", INT),
            _c("cp_catalog_page_number", INT),
            _c("cp_description"),
            _c("cp_type"),
        ),
        _catalog_page,
    ),
    Table(
        WAREHOUSE,
        (
            _pk("w_warehouse_sk"),
            _c("w_warehouse_id"),
            _c("w_warehouse_name"),
            _c("w_warehouse_sq_ft", INT),
            *_address_columns("w_"),
        ),
        _warehouse,
    ),
    Table(
        WEB_PAGE,
        (
            _pk("wp_web_page_sk"),
            _c("wp_web_page_id"),
            _c("wp_rec_start_date", DATE),
            _c("wp_rec_end_date", DATE, nullable=True),
            _date_fk("wp_creation_date_sk"),
            _date_fk("wp_access_date_sk"),
            _c("wp_autogen_flag"),
            Column("wp_customer_sk", SK, references="customer.c_customer_sk", nullable=True),
            _c("wp_url"),
            _c("wp_type"),
            _c("wp_char_count", INT),
            _c("wp_link_count", INT),
            _c("wp_image_count", INT),
            _c("wp_max_ad_count", INT),
        ),
        _web_page,
        doc="Type-2 history over 1-3 versions per wp_web_page_id.",
    ),
    Table(
        WEB_SITE,
        (
            _pk("web_site_sk"),
            _c("web_site_id"),
            _c("web_rec_start_date", DATE),
            _c("web_rec_end_date", DATE, nullable=True),
            _c("web_name"),
            _date_fk("web_open_date_sk"),
            _date_fk("web_close_date_sk", nullable=True),
            _c("web_class"),
            _c("web_manager"),
            _c("web_mkt_id", INT),
            _c("web_mkt_class"),
            _c("web_mkt_desc"),
            _c("web_market_manager"),
            _c("web_company_id", INT),
            _c("web_company_name"),
            *_address_columns("web_"),
            _c("web_tax_percentage", PCT),
        ),
        _web_site,
        doc="Type-2 history over 1-3 versions per web_site_id.",
    ),
)

__all__ = ["DIMENSIONS", "CD_FULL", "HD_ROWS", "customer_current", "tax_hundredths", "constant_text"]
