"""The `ecommerce` model: a simple star of 5 dimensions and 2 facts (MODELS.md section 2.1).

``examples/models/ecommerce.yaml`` declares the same model in the model-file language and writes
the same bytes: each draw here uses the stream a model file's column of that name would use
(``stream_key(seed, table, column, ...)``), so a hidden column there is a stream name here.

Keys are 1-based int64. Popularity is a bounded Zipf-like law (``rand.power_law_rank``):
exponent 0.8 for customers, 1.0 for products, 0.8 for suppliers of products, with ranks
scattered over the key space by a per-table permutation. Fan-outs (1-3 addresses per
customer, 1-10 items per order) are independent draws per parent (``rand.FanOut``): a fact
finds the children of any parent, and a child its parent, from per-block prefix sums.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from gengo.core import distinct, fmath, rand, timezones, vocab
from gengo.core.arrays import decimal_from_units, join, take, timestamp_from_seconds, to_text, units_of_decimal
from gengo.core.schema import BatchContext, Check, ChunkContext, Column, Model, Table, TableChanges
from gengo.models._checks import daily_fanout, fanout_independence

CUSTOMERS, ADDRESSES, SUPPLIERS = "dim_customers", "dim_customer_addresses", "dim_suppliers"
CATEGORIES, PRODUCTS = "dim_product_categories", "dim_products"
ORDERS, ITEMS = "fact_orders_header", "fact_order_items"

ID = pa.int64()
MONEY = pa.decimal128(12, 2)
RATE = pa.decimal128(4, 2)
TIMESTAMP = pa.timestamp("us", tz="UTC")

CUSTOMER_EXPONENT = 0.8
PRODUCT_EXPONENT = 1.0
SUPPLIER_EXPONENT = 0.8

# Orders fall in [2020-01-01, 2025-01-01) UTC, growing over time (days counted in local time).
WINDOW_START = 1_577_836_800
WINDOW_END = 1_735_689_600
_GROWTH = 4 / 3  # time = span * fraction**(1/_GROWTH): order density grows like t**(_GROWTH - 1)
# Share of orders per hour of the customer's local day, quiet at night and busiest in the evening.
_HOUR_WEIGHTS = np.array([2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 6, 6, 6, 6, 7, 8, 9, 9, 8, 6, 4], float)

CATEGORY_NAMES = (
    "Electronics",
    "Clothing",
    "Home Goods",
    "Books",
    "Sports",
    "Toys",
    "Grocery",
    "Automotive",
    "Health",
    "Beauty",
)
_CATEGORY_WEIGHTS = np.array([14, 18, 14, 9, 9, 7, 9, 6, 7, 7], float)
# Median list price per category in dollars, and the spread of log prices.
_CATEGORY_MEDIAN_PRICE = np.array([120, 35, 45, 15, 50, 25, 8, 60, 20, 22], float)
_PRICE_SIGMA = 0.6
# Cents off the whole-dollar price (.99, .95, .49, .00) and their weights.
_CENTS_OFF = np.array([1, 5, 51, 0])
_CENTS_OFF_WEIGHTS = np.array([3, 1, 1, 1], float)

_NOUNS = (
    (
        "Headphones",
        "Monitor",
        "Keyboard",
        "Speaker",
        "Smartwatch",
        "Charger",
        "Tablet",
        "Webcam",
        "Router",
        "Power Bank",
        "Earbuds",
        "Drone",
    ),
    (
        "T-Shirt",
        "Jeans",
        "Jacket",
        "Sweater",
        "Dress",
        "Hoodie",
        "Sneakers",
        "Scarf",
        "Boots",
        "Cap",
        "Shorts",
        "Socks",
    ),
    (
        "Lamp",
        "Pillow",
        "Blanket",
        "Vase",
        "Cookware Set",
        "Towel Set",
        "Rug",
        "Shelf",
        "Mirror",
        "Candle",
        "Curtains",
        "Coffee Maker",
    ),
    (
        "Novel",
        "Cookbook",
        "Biography",
        "Atlas",
        "Poetry Collection",
        "Travel Guide",
        "Notebook",
        "Comic Collection",
        "Workbook",
        "Anthology",
    ),
    (
        "Yoga Mat",
        "Dumbbells",
        "Tennis Racket",
        "Football",
        "Bike Helmet",
        "Running Shoes",
        "Tent",
        "Water Bottle",
        "Jump Rope",
        "Backpack",
    ),
    (
        "Puzzle",
        "Building Blocks",
        "Plush Bear",
        "Board Game",
        "Toy Car",
        "Doll",
        "Kite",
        "Train Set",
        "Card Game",
    ),
    (
        "Coffee Beans",
        "Olive Oil",
        "Green Tea",
        "Pasta",
        "Granola",
        "Honey",
        "Hot Sauce",
        "Dark Chocolate",
        "Rice",
        "Maple Syrup",
    ),
    (
        "Floor Mats",
        "Car Charger",
        "Wiper Blades",
        "Seat Covers",
        "Tire Inflator",
        "Dash Cam",
        "Motor Oil",
        "Car Wax",
        "Jump Starter",
    ),
    (
        "Vitamins",
        "First Aid Kit",
        "Thermometer",
        "Heating Pad",
        "Protein Powder",
        "Hand Sanitizer",
        "Massage Gun",
        "Sleep Mask",
    ),
    (
        "Face Cream",
        "Shampoo",
        "Lipstick",
        "Perfume",
        "Hair Dryer",
        "Nail Polish",
        "Sunscreen",
        "Body Lotion",
        "Face Mask",
    ),
)
_ADJECTIVES = (
    "Classic",
    "Premium",
    "Compact",
    "Deluxe",
    "Essential",
    "Pro",
    "Ultra",
    "Eco",
    "Smart",
    "Portable",
    "Vintage",
    "Modern",
    "Organic",
    "Wireless",
    "Heavy-Duty",
    "Lightweight",
    "Signature",
    "Everyday",
    "Travel",
    "Family",
)
_EMAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
    "protonmail.com",
    "comcast.net",
)
_EMAIL_WEIGHTS = np.array([45, 15, 12, 8, 10, 4, 3, 3], float)
_QUEBEC_LOCALE = "fr_CA"
_APOSTROPHE_SHARE = 0.08  # brands that are O'Brien / D'Arcy style surnames
_FROM_ANYWHERE = 0.15  # suppliers outside the big manufacturing countries
_SUPPLIER_COUNTRIES = (
    "China",
    "United States",
    "Germany",
    "Vietnam",
    "India",
    "Mexico",
    "Japan",
    "South Korea",
    "Italy",
    "Taiwan",
    "Bangladesh",
    "Turkey",
    "Poland",
    "Canada",
)
_SUPPLIER_COUNTRY_WEIGHTS = np.array([30, 16, 8, 7, 7, 6, 5, 4, 4, 4, 2, 2, 2, 3], float)
_ADDRESS_TYPES = pa.array(["billing", "shipping", "both"])
_STATUSES = pa.array(["Pending", "Processing", "Shipped", "Delivered", "Cancelled", "Returned"])

_nouns_flat = pa.array([n for group in _NOUNS for n in group])
_noun_count = np.array([len(g) for g in _NOUNS])
_noun_offset = np.concatenate([[0], np.cumsum(_noun_count)[:-1]])

# Sizes of the nouns sold by size (each ends with the space before the noun).
_SIZES = {
    "Monitor": ('24" ', '27" ', '32" ', '34" '),
    "Tablet": ('8" ', '10.9" ', '12.9" '),
    "Speaker": ('4" ', '6.5" '),
    "Dash Cam": ('3" ', '4" '),
    "Pillow": ('20" x 26" ', '20" x 36" '),
    "Rug": ("5' x 8' ", "8' x 10' ", "3' x 5' "),
    "Mirror": ('24" x 36" ', '30" Round '),
    "Curtains": ('84" ', '95" '),
    "Wiper Blades": ('22" ', '24" ', '26" '),
    "Shelf": ('36" ', '48" '),
}
# Each noun as sold: once per size, or once bare; then every adjective before each (one take per name).
_sized_of = [[f"{size}{n}" for size in _SIZES.get(n, ("",))] for n in _nouns_flat.to_pylist()]
_SIZED_NOUNS = [s for x in _sized_of for s in x]
_SIZED_COUNT = np.array([len(x) for x in _sized_of], dtype=np.int64)
_SIZED_OFFSET = np.concatenate([[0], np.cumsum(_SIZED_COUNT)[:-1]]).astype(np.int64)
_ADJECTIVE_SIZED_NOUNS = pa.array([f"{a} {s}" for a in _ADJECTIVES for s in _SIZED_NOUNS])
# Uniform choices within a group as a model file's `conditional` makes them (one table lookup).
_NOUN_TABLE = rand.GroupedWeightedTable.of([np.ones(len(g)) for g in _NOUNS])
_SIZE_TABLE = rand.GroupedWeightedTable.of([np.ones(len(x)) for x in _sized_of])

_OPENERS = pa.array(
    [
        "Meet the new ",
        'Meet our "best value" ',
        "Small, smart and simple: the ",
        "Introducing, at last, the ",
        "Designed in Montréal: the ",
        "Crafted with care: our ",
    ]
)
_FEATURES = pa.array(
    [
        "Built to last, easy to clean, and covered by a 2-year warranty.",
        'Reviewers call it "worth every penny."',
        'Fits 15.6" laptops and most carry-on bags.',
        "Ships in 2–3 business days, gift wrap available.",
        "Dimensions: 30 × 20 × 10 cm, weight 1.2 kg.",
        'Say "hello" to effortless mornings.',
        "Water-resistant, lightweight, and recyclable.",
        "Naïve design, café-grade finish — an instant classic.",
        "Includes: 1 unit, 1 manual, 1 carrying pouch.",
        "Works with iOS, Android, and Windows.",
    ]
)
_CLOSINGS = pa.array(
    [
        'Note: colours may vary, "as shown" is indicative.',
        "Satisfaction guaranteed, or your money back.",
        "Made for everyday use.",
        "Care: hand wash cold, do not tumble dry.",
        "Questions? Ask us, we answer within 24 h.",
        "Über-comfortable, 100% recommended.",
    ]
)
_SEPARATORS = pa.array([" ", "\n", "\r\n"])
_THREE_SENTENCES = 0.6
_SEPARATOR_WEIGHTS = np.array([70, 25, 5], float)
_LEADS = pa.array([f"{o}{n.lower()}." for o in _OPENERS.to_pylist() for n in _nouns_flat.to_pylist()])
_TAILS = pa.array([f"{s}{c}" for s in _SEPARATORS.to_pylist() for c in _CLOSINGS.to_pylist()] + [""])


# --- shared pure functions of (seed, key): dimensions and facts both call these -------------


def _pick_in_group(u: np.ndarray, offset: np.ndarray, count: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Uniform index inside the slice ``[offset[g], offset[g] + count[g])`` of group ``g``."""
    return offset[group] + np.minimum((u * count[group]).astype(np.int64), count[group] - 1)


def address_fanout(seed: int, customers: int) -> rand.FanOut:
    """1-3 addresses per customer (uniform, mean 2, independent), customer 1's addresses first."""
    return rand.FanOut(rand.stream_key(seed, ADDRESSES, "fanout"), 1, 3, customers)


def item_fanout(seed: int, orders: int) -> rand.FanOut:
    """1-10 items per order (uniform, mean 5.5, independent), order 1's items first."""
    return rand.FanOut(rand.stream_key(seed, ITEMS, "fanout"), 1, 10, orders)


def product_category(seed: int, product_idx: np.ndarray) -> np.ndarray:
    """0-based category of each product."""
    return rand.weighted_choice(rand.stream_key(seed, PRODUCTS, "category_id"), product_idx, _CATEGORY_WEIGHTS)


def product_price_cents(seed: int, product_idx: np.ndarray) -> np.ndarray:
    """List price in cents: log-normal around the category median, ending in .99/.95/.49/.00."""
    cat = product_category(seed, product_idx)
    z = rand.normal(rand.stream_key(seed, PRODUCTS, "price_z"), product_idx)
    dollars = np.maximum(1, np.rint(_CATEGORY_MEDIAN_PRICE[cat] * fmath.exp(_PRICE_SIGMA * z))).astype(np.int64)
    off = rand.weighted_choice(rand.stream_key(seed, PRODUCTS, "cents_off"), product_idx, _CENTS_OFF_WEIGHTS)
    return dollars * 100 - _CENTS_OFF[off]


_PRICE_TABLE_MAX = 1 << 22  # catalogues up to 4M products (32 MB of prices per worker) are looked up


_PRICE_TABLE_BLOCK = 1 << 18  # products priced at once while the table is built: bounded temporaries


@functools.lru_cache(maxsize=2)
def _price_table(seed: int, products: int) -> np.ndarray:
    # Block by block: all at once, a 4M-product table took ten temporaries of 32 MB in every process.
    table = np.empty(products, dtype=np.int64)
    for a in range(0, products, _PRICE_TABLE_BLOCK):  # a loop over blocks of products
        table[a : a + _PRICE_TABLE_BLOCK] = product_price_cents(
            seed, np.arange(a, min(a + _PRICE_TABLE_BLOCK, products), dtype=np.int64)
        )
    return table


def line_price_cents(seed: int, products: int, product_idx: np.ndarray) -> np.ndarray:
    """An order line's unit price: its product's list price (the function ``dim_products`` uses).

    A line costs three draws and an ``exp`` to recompute the price, a quarter of an order line's
    generation; for a catalogue of up to ``_PRICE_TABLE_MAX`` products every price is computed
    once per process and looked up instead (the same values: a cache of a pure function).
    """
    if products <= _PRICE_TABLE_MAX:
        return _price_table(seed, products)[product_idx]
    return product_price_cents(seed, product_idx)


def _popular(seed: int, table: str, column: str, idx: np.ndarray, n: int, exponent: float) -> np.ndarray:
    """0-based keys of a parent with ``n`` rows drawn by popularity."""
    rank = rand.power_law_rank(rand.stream_key(seed, table, column), idx, n, exponent)
    return rand.Permutation(rand.stream_key(seed, table, column, "permutation"), n)(rank)


# --- dimensions ----------------------------------------------------------------------------


def customer_country(seed: int, customer_idx: np.ndarray) -> np.ndarray:
    """Address-pool group of each customer (all their addresses are there): US, CA, QC, UK, AU.

    The stream of a model file's address column of the customers table (block ``address``),
    which the addresses' ``country_by: customer_id`` draws from too.
    """
    pools = vocab.address_pools()
    key = rand.stream_key(seed, CUSTOMERS, "address", "address", "country")
    return rand.weighted_choice(key, customer_idx, pools.country_weights)


def _names(ctx: ChunkContext, column: str, kind: str, quebec: np.ndarray):
    """(names, lower-case ASCII names) of a column: French for customers living in Quebec."""
    english, french = vocab.locale_names("en_US", kind), vocab.locale_names(_QUEBEC_LOCALE, kind)
    en = rand.weighted_choice(ctx.key(column), ctx.idx, english.weights)
    if not quebec.any():
        return take(english.values, en), take(english.lower, en)
    fr = rand.weighted_choice(ctx.key(column, _QUEBEC_LOCALE), ctx.idx, french.weights)
    values = pa.concat_arrays([english.values, french.values])
    lower = pa.concat_arrays([english.lower, french.lower])
    pick = np.where(quebec, len(english.values) + fr, en)
    return take(values, pick), take(lower, pick)


def _customers(ctx: ChunkContext) -> dict:
    quebec = customer_country(ctx.seed, ctx.idx) == vocab.QUEBEC
    first, first_lower = _names(ctx, "first_name", "first", quebec)
    last, last_lower = _names(ctx, "last_name", "last", quebec)
    domain = take(pa.array(_EMAIL_DOMAINS), rand.weighted_choice(ctx.key("email"), ctx.idx, _EMAIL_WEIGHTS))
    return {
        "customer_id": ctx.ids,
        "first_name": first,
        "last_name": last,
        # The customer id keeps every email unique; accents are folded away (côté -> cote).
        "email": join(first_lower, ".", last_lower, to_text(ctx.ids), "@", domain),
    }


_ADDRESS = ("address", "address")  # a model file's address streams: strategy address, block address


def _addresses(ctx: ChunkContext) -> dict:
    pools = vocab.address_pools()
    fan = address_fanout(ctx.seed, ctx.rows[CUSTOMERS])
    customer, position = fan.parent_of(ctx.idx)
    count = fan.count(customer)
    # One address serves both purposes; otherwise the first is for billing, the others shipping.
    kind = np.where(count == 1, 2, np.minimum(position, 1))
    # Country is an attribute of the customer, so all of a customer's addresses share it.
    country = customer_country(ctx.seed, customer)
    loc = _pick_in_group(ctx.uniform(*_ADDRESS, "locality"), pools.locality_offset, pools.locality_count, country)
    street = _pick_in_group(ctx.uniform(*_ADDRESS, "street"), pools.street_offset, pools.street_count, country)
    number = ctx.integers(1, 19999, *_ADDRESS, "number")
    return {
        "address_id": ctx.ids,
        "customer_id": customer + 1,
        "address_type": take(_ADDRESS_TYPES, kind),
        "address": join(to_text(number), " ", take(pools.street_names, street), ", ", take(pools.tail, loc)),
        "city": take(pools.city, loc),
        "state": take(pools.region, loc),
        "zip": take(pools.postcode, loc),
        "country": take(pools.countries, country),
    }


def _suppliers(ctx: ChunkContext) -> dict:
    names = vocab.company_names()
    # A permutation of the pool keeps names distinct until the pool is exhausted.
    name_idx = rand.Permutation(ctx.key("supplier_name", "permutation"), len(names))(ctx.idx % len(names))
    # 85% from the big manufacturing countries, the rest from anywhere in the world.
    countries = pa.concat_arrays([pa.array(_SUPPLIER_COUNTRIES), vocab.countries()])
    listed = rand.weighted_choice(ctx.key("listed_country"), ctx.idx, _SUPPLIER_COUNTRY_WEIGHTS)
    world = len(_SUPPLIER_COUNTRIES) + ctx.integers(0, len(countries) - len(_SUPPLIER_COUNTRIES) - 1, "world_country")
    country = np.where(ctx.uniform("from_anywhere") < _FROM_ANYWHERE, world, listed)
    return {
        "supplier_id": ctx.ids,
        "supplier_name": take(names, name_idx),
        "country": take(countries, country),
    }


def _categories(ctx: ChunkContext) -> dict:
    return {"category_id": ctx.ids, "category_name": take(pa.array(CATEGORY_NAMES), ctx.idx % 10)}


def _products(ctx: ChunkContext) -> dict:
    cat = product_category(ctx.seed, ctx.idx)
    ln, irish = vocab.last_names(), vocab.apostrophe_surnames()
    # Brands are surnames; about 8% are O'Brien / D'Arcy style, with an apostrophe.
    brands = pa.concat_arrays([ln.values, irish])
    plain = rand.weighted_choice(ctx.key("surname"), ctx.idx, ln.weights)
    apostrophe = len(ln.values) + rand.weighted_choice(ctx.key("irish_surname"), ctx.idx, np.ones(len(irish)))
    brand = take(brands, np.where(ctx.uniform("apostrophe") < _APOSTROPHE_SHARE, apostrophe, plain))
    adjective_idx = rand.weighted_choice(ctx.key("adjective"), ctx.idx, np.ones(len(_ADJECTIVES)))
    noun_idx = _noun_offset[cat] + _NOUN_TABLE.choose(ctx.uniform("noun"), cat)
    # Nouns sold by size carry one, written with inch and foot marks: 27" Monitor, 5' x 8' Rug.
    sized = _SIZED_OFFSET[noun_idx] + _SIZE_TABLE.choose(ctx.uniform("size"), noun_idx)
    supplier = _popular(ctx.seed, PRODUCTS, "supplier_id", ctx.idx, ctx.rows[SUPPLIERS], SUPPLIER_EXPONENT)
    return {
        "product_id": ctx.ids,
        "supplier_id": supplier + 1,
        "product_name": join(brand, " ", take(_ADJECTIVE_SIZED_NOUNS, adjective_idx * len(_SIZED_NOUNS) + sized)),
        "category_id": cat + 1,
        "base_price": decimal_from_units(product_price_cents(ctx.seed, ctx.idx), 12, 2),
        "description": _description(ctx, noun_idx),
    }


def _description(ctx: ChunkContext, noun_idx: np.ndarray) -> pa.Array:
    """Free text of two or three sentences: commas, double quotes, non-ASCII characters, and
    sentences separated by a space, a line break (``\\n``) or sometimes ``\\r\\n``.

    Assembled by index from small vocabularies, so it exercises every CSV quoting rule
    (RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled).
    """
    # Joined parts are vocabularies too (opener x noun, separator x closing): one take each.
    opener = rand.weighted_choice(ctx.key("opener"), ctx.idx, np.ones(len(_OPENERS))) * len(_nouns_flat) + noun_idx
    middle = rand.weighted_choice(ctx.key("feature"), ctx.idx, np.ones(len(_FEATURES)))
    closing = rand.weighted_choice(ctx.key("closing"), ctx.idx, np.ones(len(_CLOSINGS)))
    sep1 = rand.weighted_choice(ctx.key("break1"), ctx.idx, _SEPARATOR_WEIGHTS)
    sep2 = rand.weighted_choice(ctx.key("break2"), ctx.idx, _SEPARATOR_WEIGHTS)
    three = ctx.uniform("three_sentences") < _THREE_SENTENCES
    tail = np.where(three, sep2 * len(_CLOSINGS) + closing, len(_TAILS) - 1)
    return join(take(_LEADS, opener), take(_SEPARATORS, sep1), take(_FEATURES, middle), take(_TAILS, tail))


# --- facts ---------------------------------------------------------------------------------


def billing_zone(seed: int, customer: np.ndarray, address: np.ndarray) -> np.ndarray:
    """Time zone (index into ``vocab.locality_zones().names``) of a customer's address.

    The same draws as ``_addresses``: the country is the customer's, the locality the address's.
    """
    pools = vocab.address_pools()
    country = customer_country(seed, customer)
    u = rand.uniform(rand.stream_key(seed, ADDRESSES, *_ADDRESS, "locality"), address)
    return vocab.locality_zones().zone[_pick_in_group(u, pools.locality_offset, pools.locality_count, country)]


def _order_seconds(ctx: ChunkContext, customer: np.ndarray, billing: np.ndarray, day: int | None) -> np.ndarray:
    """UTC instant of each order: the day grows over the window (or is ``day``, a change batch's,
    in seconds), the hour follows the billing address's local daily rhythm (its zone, daylight
    saving time included)."""
    if day is None:
        n = ctx.rows[ORDERS]
        frac = (ctx.idx + ctx.uniform("order_timestamp")) / n
        seconds = (WINDOW_START + (WINDOW_END - WINDOW_START) * fmath.power(frac, 1.0 / _GROWTH)).astype(np.int64)
        start, end = WINDOW_START, WINDOW_END
    else:
        seconds, start, end = np.full(len(ctx.idx), day, dtype=np.int64), day - 86400, day + 2 * 86400
    hour = rand.weighted_choice(ctx.key("order_timestamp", "hour"), ctx.idx, _HOUR_WEIGHTS)
    local = seconds - seconds % 86400 + hour * 3600 + ctx.integers(0, 3599, "order_timestamp", "second")
    names = tuple(vocab.locality_zones().names.to_pylist())
    return timezones.to_utc_within(names, billing_zone(ctx.seed, customer, billing), local, start, end)


def _order_status(ctx: ChunkContext, seconds: np.ndarray) -> np.ndarray:
    """Recent orders are still open; older ones are mostly delivered (age in calendar days, UTC)."""
    age_days = WINDOW_END // 86400 - seconds // 86400
    u = ctx.uniform("status_draw")
    fresh = np.where(u < 0.4, 0, 1)  # Pending / Processing
    moving = np.where(u < 0.2, 1, 2)  # Processing / Shipped
    settled = np.select([u < 0.89, u < 0.95], [3, 4], 5)  # Delivered / Cancelled / Returned
    return np.select([age_days < 3, age_days < 10], [fresh, moving], settled)


def _orders(ctx: ChunkContext) -> dict:
    return _orders_columns(ctx, None)


def _orders_columns(ctx: ChunkContext, day: int | None) -> dict:
    customers = ctx.rows[CUSTOMERS]
    customer = _popular(ctx.seed, ORDERS, "customer_id", ctx.idx, customers, CUSTOMER_EXPONENT)
    fan = address_fanout(ctx.seed, customers)
    first, count = fan.offset(customer), fan.count(customer)
    # Billing: the customer's first address; shipping: one of the others (or the only one).
    extra = np.minimum((ctx.uniform("shipping_address_id") * (count - 1)).astype(np.int64), count - 2)
    shipping = first + np.where(count == 1, 0, 1 + extra)
    seconds = _order_seconds(ctx, customer, first, day)
    return {
        "order_id": ctx.ids,
        "customer_id": customer + 1,
        "shipping_address_id": shipping + 1,
        "billing_address_id": first + 1,
        "order_timestamp": timestamp_from_seconds(seconds),
        "order_status": take(_STATUSES, _order_status(ctx, seconds)),
    }


def order_products(
    seed: int, rows: dict[str, int], line: np.ndarray, order: np.ndarray, position: np.ndarray
) -> np.ndarray:
    """0-based product of each order line (whole orders, in position order), drawn by popularity and
    distinct within an order while the catalogue is big enough (``distinct.distinct_picks``)."""
    n = rows[PRODUCTS]
    perm = rand.Permutation(rand.stream_key(seed, ITEMS, "product_id", "permutation"), n)

    def draw(attempt: int, lines: np.ndarray) -> np.ndarray:
        names = ("product_id",) if attempt == 0 else ("product_id", "redraw", str(attempt))
        return perm(rand.power_law_rank(rand.stream_key(seed, ITEMS, *names), lines, n, PRODUCT_EXPONENT))

    return distinct.distinct_picks(draw, n, line, order, position)


_QUANTITY_P = 0.5934  # geometric: 1 for about 60% of lines, rarely above 5
_DISCOUNTED = 0.3  # share of lines with a discount of 5-25%


def _items(ctx: ChunkContext, price=None) -> dict:
    """Order lines; ``price(product)``: their unit prices in cents (default: the list price)."""
    fan = item_fanout(ctx.seed, ctx.rows[ORDERS])
    # Products are distinct within an order: draw them for the whole orders the chunk touches.
    ext_line, ext_order, ext_position, pick = distinct.widen(fan, ctx.idx)
    product = order_products(ctx.seed, ctx.rows, ext_line, ext_order, ext_position)[pick]
    order = ext_order[pick]
    quantity = np.minimum(1 + rand.geometric(ctx.key("quantity"), ctx.idx, _QUANTITY_P), 20)
    discount = np.where(ctx.uniform("discounted") < _DISCOUNTED, 5 * ctx.integers(1, 5, "discount_steps"), 0)
    return {
        "order_item_id": ctx.ids,
        "order_id": order + 1,
        "product_id": product + 1,
        "quantity": quantity.astype(np.int32),
        "unit_price": decimal_from_units(
            line_price_cents(ctx.seed, ctx.rows[PRODUCTS], product) if price is None else price(product), 12, 2
        ),
        "discount": decimal_from_units(discount, 4, 2),
    }


def derive(rows: dict[str, int], seed: int, pinned: tuple[str, ...] = ()) -> dict[str, int]:
    """Counts that follow from others: addresses from customers, items from orders."""
    return {
        ADDRESSES: address_fanout(seed, rows[CUSTOMERS]).total(),
        ITEMS: item_fanout(seed, rows[ORDERS]).total(),
    }


def row_counts(orders: int, seed: int) -> dict[str, int]:
    """Go tool ratios: 10 orders per customer, 100 customers per supplier, 4 per product."""
    orders = max(1, int(orders))
    customers = max(1, round(orders / 10))
    rows = {
        CUSTOMERS: customers,
        ADDRESSES: 0,
        SUPPLIERS: max(1, round(customers / 100)),
        CATEGORIES: len(CATEGORY_NAMES),
        PRODUCTS: max(1, round(customers / 4)),
        ORDERS: orders,
        ITEMS: 0,
    }
    rows.update(derive(rows, seed))
    return rows


def _fk(table: str, column: str) -> str:
    return f"{table}.{column}"


# --- data checks (run over the written tables by the contract suite) -------------------------

# US states of one time zone each, and the United Kingdom: local hours by DuckDB's own zone rules.
_CHECK_ZONES = (
    ("California", "America/Los_Angeles"),
    ("Washington", "America/Los_Angeles"),
    ("New York", "America/New_York"),
    ("Pennsylvania", "America/New_York"),
    ("Ohio", "America/New_York"),
    ("Georgia", "America/New_York"),
    ("North Carolina", "America/New_York"),
    ("Illinois", "America/Chicago"),
    ("Missouri", "America/Chicago"),
    ("Minnesota", "America/Chicago"),
    ("Colorado", "America/Denver"),
)
_ZONE_ROWS = ", ".join(
    [f"('United States', '{state}', '{zone}')" for state, zone in _CHECK_ZONES]
    + ["('United Kingdom', NULL, 'Europe/London')"]
)

CHECKS = (
    Check(
        "one_line_per_product_in_an_order",
        f"""SELECT order_id, product_id, count(*) AS lines FROM {ITEMS}
            WHERE order_id IN (SELECT order_id FROM {ITEMS} GROUP BY 1
                               HAVING count(*) <= (SELECT count(*) FROM {PRODUCTS}))
            GROUP BY 1, 2 HAVING count(*) > 1""",
        "an order lists each product once (only orders longer than the catalogue repeat one; issue 20, item 14)",
    ),
    Check(
        "order_addresses_are_the_customers",
        f"""SELECT o.order_id, o.customer_id, s.customer_id AS shipping_customer, s.address_type AS shipping_type,
                   b.customer_id AS billing_customer, b.address_type AS billing_type
            FROM {ORDERS} o JOIN {ADDRESSES} s ON s.address_id = o.shipping_address_id
            JOIN {ADDRESSES} b ON b.address_id = o.billing_address_id
            WHERE s.customer_id <> o.customer_id OR b.customer_id <> o.customer_id
               OR s.address_type NOT IN ('shipping', 'both') OR b.address_type NOT IN ('billing', 'both')""",
        "shipping and billing addresses of an order belong to its customer and have the matching type",
    ),
    Check(
        "one_to_three_addresses_per_customer",
        f"""SELECT c.customer_id, count(a.address_id) AS addresses
            FROM {CUSTOMERS} c LEFT JOIN {ADDRESSES} a USING (customer_id)
            GROUP BY 1 HAVING count(a.address_id) NOT BETWEEN 1 AND 3""",
        "every customer has 1-3 addresses",
    ),
    Check(
        "orders_peak_in_the_local_evening",
        f"""WITH zones(country, state, tz) AS (VALUES {_ZONE_ROWS}),
            hours AS (
                SELECT z.country AS region, hour(timezone(z.tz, o.order_timestamp)) AS h, count(*) AS n
                FROM {ORDERS} o JOIN {ADDRESSES} b ON b.address_id = o.billing_address_id
                JOIN zones z ON z.country = b.country AND (z.state = b.state OR z.state IS NULL)
                GROUP BY ALL
                UNION ALL
                SELECT 'UTC', hour(timezone('UTC', order_timestamp)), count(*) FROM {ORDERS} GROUP BY ALL),
            r AS (SELECT region, sum(n) AS orders, arg_max(h, n) AS peak,
                         coalesce(sum(n) FILTER (WHERE h IN (19, 20)), 0) AS evening,
                         coalesce(sum(n) FILTER (WHERE h IN (3, 4)), 0) AS night
                  FROM hours GROUP BY region HAVING sum(n) > 1000)
            SELECT printf('%s orders peak at %d h local time, not 18-21 h', region, peak) AS message
            FROM r WHERE region <> 'UTC' AND peak NOT BETWEEN 18 AND 21
            UNION ALL
            SELECT printf('%s orders: %d at 19-20 h local time, not over 3 x %d at 3-4 h', region, evening, night)
            FROM r WHERE region <> 'UTC' AND NOT evening > 3 * night
            UNION ALL
            SELECT printf('all orders peak at %d h UTC, as if local evenings were labelled UTC', peak)
            FROM r WHERE region = 'UTC' AND peak BETWEEN 18 AND 21""",
        "order timestamps are UTC instants of the billing address's local evening rhythm, judged where a region "
        "(single-zone US states, the United Kingdom) has over 1,000 orders (issue 20, item 7)",
    ),
    fanout_independence("items_per_order_are_independent_draws", ITEMS, "order_id", 1, 10),
    fanout_independence("addresses_per_customer_are_independent_draws", ADDRESSES, "customer_id", 1, 3),
    daily_fanout(
        "daily_basket_size_of_independent_orders",
        f"""SELECT CAST(timezone('UTC', o.order_timestamp) AS DATE) AS day, count(*) AS n
            FROM {ORDERS} o JOIN {ITEMS} i USING (order_id) GROUP BY o.order_id, day""",
        1,
        10,
        "items per order",
    ),
)


# gen --batches: new customers (with their addresses), products and orders (with their items)
# arrive; open orders move on, Pending -> Processing -> Shipped -> Delivered or Returned (or a
# Pending order is cancelled); customers change email; products change price, while order items
# keep the price they were sold at: a line sold in batch b has its product's price after b - 1.

_REPRICED = 0.02  # share of the products whose price changes in a batch
_REPRICE_RANGE = (0.9, 1.15)  # a new price is -10% .. +15% of the current one


def _repriced(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    """Which products of ``idx`` batch ``batch`` reprices (one draw per product and batch)."""
    return batch.chosen(idx, _REPRICED, "repriced")


def _repriced_rows(batch: BatchContext, lo: int, hi: int) -> np.ndarray:
    """The products of [lo, hi) that ``_repriced`` chooses, found without listing the others."""
    return rand.chosen_rows(batch.key("repriced"), lo, hi, _REPRICED)


def _reprice_cents(batch: BatchContext, idx: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """New prices in cents of products ``idx`` at ``cents``: -10% .. +15% in whole dollars, the
    product's ending (.99, .95, .49, .00) kept, and never the same price."""
    off = _CENTS_OFF[rand.weighted_choice(rand.stream_key(batch.seed, PRODUCTS, "cents_off"), idx, _CENTS_OFF_WEIGHTS)]
    lo, hi = _REPRICE_RANGE
    factor = lo + (hi - lo) * batch.uniform(idx, "price_factor")
    dollars = (cents + off) // 100
    new = np.maximum(1, np.rint(dollars * factor).astype(np.int64))
    new = np.where(new == dollars, dollars + 1, new)
    return new * 100 - off


def _new_base_price(batch: BatchContext, rows: pa.Table, idx: np.ndarray) -> pa.Array:
    cents = units_of_decimal(rows.column("base_price").combine_chunks())
    return decimal_from_units(_reprice_cents(batch, idx, cents), 12, 2)


def price_after(seed: int, counts, product: np.ndarray, upto: int) -> np.ndarray:
    """Cents: each product's price after batches 1..``upto`` (``counts[k]``: the rows after batch
    k), the repricings of ``CHANGES`` replayed: what a line sold in batch ``upto + 1`` costs."""
    base = counts[0][PRODUCTS]
    cents = line_price_cents(seed, base, np.minimum(product, base - 1))  # the base's: looked up
    new = np.flatnonzero(product >= base)
    if len(new):  # a product a batch added: priced by the function, not in the base's table
        cents[new] = product_price_cents(seed, product[new])
    size = int(product.max()) + 1 if len(product) else 0
    for k in range(1, upto + 1):  # a loop over batches, vectorized over the lines
        batch = BatchContext(seed, counts, k, PRODUCTS)
        chosen = _repriced_rows(batch, 0, counts[k - 1][PRODUCTS])  # those it reprices
        if len(chosen) == 0:
            continue
        marked = np.zeros(size, dtype=bool)  # a gather per line, not a search
        marked[chosen[chosen < size]] = True
        hit = np.flatnonzero(marked[product])
        if len(hit):
            cents[hit] = _reprice_cents(batch, product[hit], cents[hit])
    return cents


def _new_orders(ctx: ChunkContext, batch: BatchContext) -> dict:
    """Orders batch b takes: placed on the b-th day after the base's window (in the customer's
    local day, as the base's), all Pending; later batches move them on."""
    v = _orders_columns(ctx, 86400 * (WINDOW_END // 86400 + batch.batch - 1))
    v["order_status"] = take(_STATUSES, np.zeros(len(ctx.idx), dtype=np.int64))
    return v


def _new_items(ctx: ChunkContext, batch: BatchContext) -> dict:
    """The lines of the orders batch b takes, at their products' prices after batch b - 1."""
    return _items(ctx, lambda product: price_after(ctx.seed, batch.counts, product, batch.batch - 1))


CHANGES = {
    CUSTOMERS: TableChanges(insert=0.02, update={"email": 0.01}),
    PRODUCTS: TableChanges(
        insert=0.01,
        update={"base_price": 1.0},  # of the products ``_repriced`` picks: the model knows which
        pick={"base_price": _repriced},
        among={"base_price": _repriced_rows},
        revise={"base_price": _new_base_price},
    ),
    ITEMS: TableChanges(append=_new_items),  # rows arrive with their orders
    ORDERS: TableChanges(
        insert=0.03,
        append=_new_orders,
        update={"order_status": 0.6},
        moves={
            "order_status": {
                "Pending": (("Processing", 9.0), ("Cancelled", 1.0)),
                "Processing": (("Shipped", 1.0),),
                "Shipped": (("Delivered", 9.0), ("Returned", 1.0)),
            }
        },
    ),
}

MODEL = Model(
    name="ecommerce",
    aliases=("ecom", "e-commerce", "e"),
    description="Online shop star schema: customers, addresses, suppliers, products, orders, items",
    tables=(
        Table(
            CUSTOMERS,
            (
                Column("customer_id", ID, primary_key=True),
                Column("first_name", pa.string()),
                Column("last_name", pa.string()),
                Column("email", pa.string()),
            ),
            _customers,
        ),
        Table(
            ADDRESSES,
            (
                Column("address_id", ID, primary_key=True),
                Column("customer_id", ID, references=_fk(CUSTOMERS, "customer_id")),
                Column("address_type", pa.string(), doc="billing, shipping, or both for a single address"),
                Column("address", pa.string()),
                Column("city", pa.string()),
                Column("state", pa.string()),
                Column("zip", pa.string()),
                Column("country", pa.string()),
            ),
            _addresses,
        ),
        Table(
            SUPPLIERS,
            (
                Column("supplier_id", ID, primary_key=True),
                Column("supplier_name", pa.string()),
                Column("country", pa.string()),
            ),
            _suppliers,
        ),
        Table(
            CATEGORIES,
            (
                Column("category_id", ID, primary_key=True),
                Column("category_name", pa.string()),
            ),
            _categories,
        ),
        Table(
            PRODUCTS,
            (
                Column("product_id", ID, primary_key=True),
                Column("supplier_id", ID, references=_fk(SUPPLIERS, "supplier_id")),
                Column("product_name", pa.string()),
                Column("category_id", ID, references=_fk(CATEGORIES, "category_id")),
                Column("base_price", MONEY),
                Column(
                    "description",
                    pa.string(),
                    doc="free text with commas, quotes, line breaks (LF, sometimes CRLF) and accents",
                ),
            ),
            _products,
        ),
        Table(
            ORDERS,
            (
                Column("order_id", ID, primary_key=True),
                Column("customer_id", ID, references=_fk(CUSTOMERS, "customer_id")),
                Column("shipping_address_id", ID, references=_fk(ADDRESSES, "address_id")),
                Column("billing_address_id", ID, references=_fk(ADDRESSES, "address_id")),
                Column("order_timestamp", TIMESTAMP),
                Column("order_status", pa.string()),
            ),
            _orders,
        ),
        Table(
            ITEMS,
            (
                Column("order_item_id", ID, primary_key=True),
                Column("order_id", ID, references=_fk(ORDERS, "order_id")),
                Column("product_id", ID, references=_fk(PRODUCTS, "product_id")),
                Column("quantity", pa.int32()),
                Column("unit_price", MONEY),
                Column("discount", RATE),
            ),
            _items,
        ),
    ),
    row_counts=row_counts,
    derive=derive,
    checks=CHECKS,
    changes=CHANGES,
)
