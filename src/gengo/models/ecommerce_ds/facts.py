"""The 7 TPC-DS fact tables: sales and returns of three channels, and weekly inventory.

Sales lines belong to tickets (store) or orders (catalog, web) through a fan-out whose line
count per ticket is an independent draw (``rand.FanOut``): a line finds its ticket from
per-block prefix sums and recomputes the ticket's header attributes
(date, time, customer, store, ...) from the ticket number. Pricing follows the TPC-DS
identities in integer cents. A return row ``r`` is the sale line ``10 r + k(r)`` (``k`` in
0..9): returns are a deterministic 10% subset of the sale lines, in sale order, and every
return column is recomputed from that line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gengo.core import rand
from gengo.core.schema import ChunkContext, Column, Table
from gengo.models.ecommerce_ds.common import (
    CALL_CENTER,
    CATALOG_PAGE,
    CATALOG_RETURNS,
    CATALOG_SALES,
    CUSTOMER,
    INT,
    INVENTORY,
    INVENTORY_FIRST,
    INVENTORY_WEEKS,
    ITEM,
    MONEY,
    PROMOTION,
    REASON,
    SALES_DAYS,
    SALES_FIRST,
    SHIP_MODE,
    SK,
    STORE,
    STORE_RETURNS,
    STORE_SALES,
    WAREHOUSE,
    WEB_PAGE,
    WEB_RETURNS,
    WEB_SALES,
    WEB_SITE,
    FanOut,
    NullBits,
    civil,
    coprime_step,
    field,
    ints,
    julian,
    latest_version_row,
    money,
    runs,
    scaled,
)
from gengo.models.ecommerce_ds.dimensions import customer_current, tax_hundredths

RETURN_EVERY = 10  # one sale line in 10 is returned


@dataclass(frozen=True)
class Channel:
    sales: str
    returns: str
    lo: int  # lines per ticket / order
    hi: int


STORE_CH = Channel(STORE_SALES, STORE_RETURNS, 8, 16)
CATALOG_CH = Channel(CATALOG_SALES, CATALOG_RETURNS, 4, 14)
WEB_CH = Channel(WEB_SALES, WEB_RETURNS, 4, 14)


def _fan(seed: int, ch: Channel) -> FanOut:
    return FanOut(rand.stream_key(seed, ch.sales, "fanout"), ch.lo, ch.hi)


def headers_for_lines(seed: int, ch: Channel, lines: int) -> int:
    """Tickets / orders behind the first ``lines`` sale lines (``row_counts`` ends them on a whole ticket)."""
    return _fan(seed, ch).parents_for(lines)


def lines_for_headers(seed: int, ch: Channel, headers: int) -> int:
    """Sale lines of the first ``headers`` tickets / orders."""
    return int(_fan(seed, ch).offset(np.array([headers], dtype=np.int64))[0])


# Sales per day: weekends +20%, November x1.6 and December x2 (the holiday season).
def day_weight(days: np.ndarray) -> np.ndarray:
    """Relative sales of days (since 1970-01-01), inside the window or after it (change batches)."""
    _, month, _ = civil(days)
    dow = (days + 4) % 7
    return np.where((dow == 0) | (dow == 6), 1.2, 1.0) * np.select([month == 11, month == 12], [1.6, 2.0], 1.0)


def _day_cdf() -> np.ndarray:
    cdf = np.cumsum(day_weight(SALES_FIRST + np.arange(SALES_DAYS)))
    return cdf / cdf[-1]


_DAY_CDF = _day_cdf()
_STORE_HOURS = np.array([0] * 8 + [3, 5, 7, 8, 9, 9, 8, 8, 8, 9, 10, 10, 8, 5] + [0, 0], float)


def header_day(seed: int, ch: Channel, headers: int, ticket: np.ndarray) -> np.ndarray:
    """Day (0-based in the window) of tickets of a window of ``headers`` tickets: tickets are in date
    order, so a header's position in the run picks its day by inverse CDF (non-decreasing in ticket)."""
    frac = (ticket + rand.uniform(rand.stream_key(seed, ch.sales, "header", "day"), ticket)) / max(1, headers)
    return np.minimum(np.searchsorted(_DAY_CDF, frac, side="right"), SALES_DAYS - 1)


def _header(seed: int, rows, ch: Channel, ticket: np.ndarray, days: int | None = None) -> dict:
    """Attributes shared by every line of a ticket / order (computed once per distinct header);
    ``days``: the sale day of them all (a change batch's tickets), else their place in the window."""

    def key(col: str) -> np.uint64:
        return rand.stream_key(seed, ch.sales, "header", col)

    if days is None:
        day = header_day(seed, ch, headers_for_lines(seed, ch, rows[ch.sales]), ticket)
    else:
        day = np.full(len(ticket), days - SALES_FIRST, dtype=np.int64)
    if ch is STORE_CH:
        hour = rand.weighted_choice(key("hour"), ticket, _STORE_HOURS)
        seconds = hour * 3600 + rand.integers(key("second"), ticket, 0, 3599)
    else:
        seconds = rand.integers(key("second"), ticket, 0, 86_399)
    customer = rand.integers(key("customer"), ticket, 0, rows[CUSTOMER] - 1)
    cdemo, hdemo, addr = customer_current(seed, rows, customer)
    h = {
        "days": SALES_FIRST + day,
        "seconds": seconds,
        "customer": customer,
        "cdemo": cdemo,
        "hdemo": hdemo,
        "addr": addr,
        "item_start": rand.integers(key("item"), ticket, 0, rows[ITEM] - 1),
    }
    if ch is STORE_CH:
        h["store"] = rand.integers(key("store"), ticket, 0, rows[STORE] - 1)
        h["tax"] = tax_hundredths(seed, STORE, h["store"])
        return h
    same = rand.uniform(key("ship_same"), ticket) < 0.5
    ship_customer = np.where(same, customer, rand.integers(key("ship_customer"), ticket, 0, rows[CUSTOMER] - 1))
    s_cdemo, s_hdemo, s_addr = customer_current(seed, rows, ship_customer)
    h.update(
        ship_customer=ship_customer,
        ship_cdemo=s_cdemo,
        ship_hdemo=s_hdemo,
        ship_addr=s_addr,
        ship_days=h["days"] + rand.integers(key("ship_lag"), ticket, 2, 90),
        ship_mode=rand.integers(key("ship_mode"), ticket, 0, rows[SHIP_MODE] - 1),
        warehouse=rand.integers(key("warehouse"), ticket, 0, rows[WAREHOUSE] - 1),
    )
    if ch is CATALOG_CH:
        h["call_center"] = rand.integers(key("call_center"), ticket, 0, rows[CALL_CENTER] - 1)
        h["catalog_page"] = rand.integers(key("catalog_page"), ticket, 0, rows[CATALOG_PAGE] - 1)
        h["tax"] = tax_hundredths(seed, CALL_CENTER, h["call_center"])
    else:
        h["web_page"] = rand.integers(key("web_page"), ticket, 0, rows[WEB_PAGE] - 1)
        h["web_site"] = rand.integers(key("web_site"), ticket, 0, rows[WEB_SITE] - 1)
        h["tax"] = tax_hundredths(seed, WEB_SITE, h["web_site"])
    return h


def sale_lines(seed: int, rows, ch: Channel, line: np.ndarray, days: int | None = None) -> dict:
    """Every attribute of the sale lines ``line`` (ascending), before NULLs: integer arrays, cents;
    ``days``: the sale day of all (lines a change batch inserts), else from the window's layout."""
    ticket, position = _fan(seed, ch).parent_of(line)
    distinct, inverse = runs(ticket)
    head = _header(seed, rows, ch, distinct, days)
    out = {name: values[inverse] for name, values in head.items()}
    out["ticket"], out["position"] = ticket, position
    n_items = rows[ITEM]
    # Lines of a ticket walk the item keys with a stride coprime to their count: distinct items.
    out["item"] = (out["item_start"] + position * coprime_step(n_items)) % n_items

    h1 = rand.bits(rand.stream_key(seed, ch.sales, "pricing"), line)
    h2 = rand.bits(rand.stream_key(seed, ch.sales, "extras"), line)
    q = 1 + scaled(field(h1, 0, 16), 100, 16)
    wholesale = 100 + scaled(field(h1, 16, 16), 9901, 16)  # 1.00 .. 100.00
    markup = scaled(field(h1, 32, 16), 201, 16)  # list = wholesale * (1 + 0..200%)
    discount = scaled(field(h1, 48, 16), 101, 16)  # sales = list * (1 - 0..100%)
    list_price = (wholesale * (100 + markup) + 50) // 100
    sales_price = (list_price * (100 - discount) + 50) // 100
    ext_sales = sales_price * q
    has_coupon = field(h2, 32, 8) < 51  # about 20% of lines
    coupon = np.where(has_coupon, (ext_sales * scaled(field(h2, 40, 8), 101, 8) + 50) // 100, 0)
    net_paid = ext_sales - coupon
    ext_tax = (net_paid * out["tax"] + 50) // 100
    ship_pct = scaled(field(h2, 48, 8), 51, 8)
    out.update(
        promo=scaled(field(h2, 0, 32), rows[PROMOTION], 32),
        quantity=q,
        wholesale=wholesale,
        list_price=list_price,
        sales_price=sales_price,
        ext_discount=(list_price - sales_price) * q,
        ext_sales=ext_sales,
        ext_wholesale=wholesale * q,
        ext_list=list_price * q,
        ext_tax=ext_tax,
        coupon=coupon,
        ext_ship=(list_price * q * ship_pct + 50) // 100,
        net_paid=net_paid,
        net_paid_inc_tax=net_paid + ext_tax,
        net_profit=net_paid - wholesale * q,
    )
    out["net_paid_inc_ship"] = net_paid + out["ext_ship"]
    out["net_paid_inc_ship_tax"] = out["net_paid_inc_ship"] + ext_tax
    return out


# --- sales tables ----------------------------------------------------------------------------

# (output column suffix, line attribute, kind) in the official order; kind: fk / key / int / money
_STORE_SALES_COLS = (
    ("sold_date_sk", "date", "date"),
    ("sold_time_sk", "seconds", "time"),
    ("item_sk", "item", "key"),
    ("customer_sk", "customer", "fk"),
    ("cdemo_sk", "cdemo", "fk"),
    ("hdemo_sk", "hdemo", "fk"),
    ("addr_sk", "addr", "fk"),
    ("store_sk", "store", "fk"),
    ("promo_sk", "promo", "fk"),
    ("ticket_number", "ticket", "key"),
    ("quantity", "quantity", "int"),
    ("wholesale_cost", "wholesale", "money"),
    ("list_price", "list_price", "money"),
    ("sales_price", "sales_price", "money"),
    ("ext_discount_amt", "ext_discount", "money"),
    ("ext_sales_price", "ext_sales", "money"),
    ("ext_wholesale_cost", "ext_wholesale", "money"),
    ("ext_list_price", "ext_list", "money"),
    ("ext_tax", "ext_tax", "money"),
    ("coupon_amt", "coupon", "money"),
    ("net_paid", "net_paid", "money"),
    ("net_paid_inc_tax", "net_paid_inc_tax", "money"),
    ("net_profit", "net_profit", "money"),
)


def _remote_cols(site: tuple) -> tuple:
    return (
        ("sold_date_sk", "date", "date"),
        ("sold_time_sk", "seconds", "time"),
        ("ship_date_sk", "ship_date", "date"),
        *site[:1],
        ("bill_customer_sk", "customer", "fk"),
        ("bill_cdemo_sk", "cdemo", "fk"),
        ("bill_hdemo_sk", "hdemo", "fk"),
        ("bill_addr_sk", "addr", "fk"),
        ("ship_customer_sk", "ship_customer", "fk"),
        ("ship_cdemo_sk", "ship_cdemo", "fk"),
        ("ship_hdemo_sk", "ship_hdemo", "fk"),
        ("ship_addr_sk", "ship_addr", "fk"),
        *site[1:],
        ("promo_sk", "promo", "fk"),
        ("order_number", "ticket", "key"),
        ("quantity", "quantity", "int"),
        ("wholesale_cost", "wholesale", "money"),
        ("list_price", "list_price", "money"),
        ("sales_price", "sales_price", "money"),
        ("ext_discount_amt", "ext_discount", "money"),
        ("ext_sales_price", "ext_sales", "money"),
        ("ext_wholesale_cost", "ext_wholesale", "money"),
        ("ext_list_price", "ext_list", "money"),
        ("ext_tax", "ext_tax", "money"),
        ("coupon_amt", "coupon", "money"),
        ("ext_ship_cost", "ext_ship", "money"),
        ("net_paid", "net_paid", "money"),
        ("net_paid_inc_tax", "net_paid_inc_tax", "money"),
        ("net_paid_inc_ship", "net_paid_inc_ship", "money"),
        ("net_paid_inc_ship_tax", "net_paid_inc_ship_tax", "money"),
        ("net_profit", "net_profit", "money"),
    )


# catalog_sales puts cs_item_sk after the warehouse; web_sales puts ws_item_sk right after the ship date.
_CATALOG_SALES_COLS = _remote_cols(
    (
        (),
        ("call_center_sk", "call_center", "fk"),
        ("catalog_page_sk", "catalog_page", "fk"),
        ("ship_mode_sk", "ship_mode", "fk"),
        ("warehouse_sk", "warehouse", "fk"),
        ("item_sk", "item", "key"),
    )
)
_CATALOG_SALES_COLS = tuple(c for c in _CATALOG_SALES_COLS if c != ())
_WEB_SALES_COLS = _remote_cols(
    (
        ("item_sk", "item", "key"),
        ("web_page_sk", "web_page", "fk"),
        ("web_site_sk", "web_site", "fk"),
        ("ship_mode_sk", "ship_mode", "fk"),
        ("warehouse_sk", "warehouse", "fk"),
    )
)

_PARENTS = {
    "customer": "customer.c_customer_sk",
    "ship_customer": "customer.c_customer_sk",
    "cdemo": "customer_demographics.cd_demo_sk",
    "ship_cdemo": "customer_demographics.cd_demo_sk",
    "hdemo": "household_demographics.hd_demo_sk",
    "ship_hdemo": "household_demographics.hd_demo_sk",
    "addr": "customer_address.ca_address_sk",
    "ship_addr": "customer_address.ca_address_sk",
    "store": "store.s_store_sk",
    "promo": "promotion.p_promo_sk",
    "item": "item.i_item_sk",
    "call_center": "call_center.cc_call_center_sk",
    "catalog_page": "catalog_page.cp_catalog_page_sk",
    "ship_mode": "ship_mode.sm_ship_mode_sk",
    "warehouse": "warehouse.w_warehouse_sk",
    "web_page": "web_page.wp_web_page_sk",
    "web_site": "web_site.web_site_sk",
    "reason": "reason.r_reason_sk",
}


def _columns(prefix: str, spec: tuple, composite_pk: bool) -> tuple[Column, ...]:
    cols = []
    for suffix, attr, kind in spec:
        name = prefix + suffix
        if kind == "key":
            ref = _PARENTS.get(attr)
            cols.append(Column(name, SK, primary_key=composite_pk, references=ref))
        elif kind == "date":
            cols.append(Column(name, SK, references="date_dim.d_date_sk", nullable=True))
        elif kind == "time":
            cols.append(Column(name, SK, references="time_dim.t_time_sk", nullable=True))
        elif kind == "fk":
            cols.append(Column(name, SK, references=_PARENTS[attr], nullable=True))
        elif kind == "int":
            cols.append(Column(name, INT, nullable=True))
        else:
            cols.append(Column(name, MONEY, nullable=True))
    return tuple(cols)


def _emit(ctx: ChunkContext, prefix: str, spec: tuple, values: dict) -> dict:
    """Arrow columns from line attributes, with independent NULL masks on nullable columns."""
    nullable = [s for s in spec if s[2] != "key"]
    nulls = NullBits(ctx.key("nulls"), ctx.idx, len(nullable))
    out = {}
    slot = 0
    for suffix, attr, kind in spec:
        v = values[attr]
        if kind == "key":
            out[prefix + suffix] = v + 1
            continue
        mask = nulls.mask(slot)
        slot += 1
        if kind == "date":
            out[prefix + suffix] = ints(julian(v), mask)
        elif kind == "time":
            out[prefix + suffix] = ints(v, mask)
        elif kind == "fk":
            out[prefix + suffix] = ints(v + 1, mask)
        elif kind == "int":
            out[prefix + suffix] = ints(v, mask, INT)
        else:
            out[prefix + suffix] = money(v, mask)
    return out


def _sales_builder(ch: Channel, prefix: str, spec: tuple):
    def build(ctx: ChunkContext) -> dict:
        v = sale_lines(ctx.seed, ctx.rows, ch, ctx.idx)
        v["date"] = v["days"]
        if "ship_days" in v:
            v["ship_date"] = v["ship_days"]
        return _emit(ctx, prefix, spec, v)

    return build


# --- returns -----------------------------------------------------------------------------------


def returned_line(seed: int, ch: Channel, r: np.ndarray) -> np.ndarray:
    """The sale line (0-based) that return row ``r`` takes back."""
    return r * RETURN_EVERY + rand.integers(rand.stream_key(seed, ch.returns, "line"), r, 0, RETURN_EVERY - 1)


def returns_for_lines(lines: int) -> int:
    return lines // RETURN_EVERY


def _return_values(ctx: ChunkContext, ch: Channel, v: dict | None = None, days: int | None = None) -> dict:
    """Every attribute of return rows ``ctx.idx``: of the sale lines ``v`` (else of the line each
    takes back in the window), returned on ``days`` (else some days after the sale or shipment)."""
    r = ctx.idx
    v = sale_lines(ctx.seed, ctx.rows, ch, returned_line(ctx.seed, ch, r)) if v is None else v
    h = rand.bits(ctx.key("amounts"), r)
    q = v["quantity"]
    rq = 1 + scaled(field(h, 0, 16), 1 << 16, 16) * q // (1 << 16)  # 1 .. sold quantity
    # The refund is the returned share of what was paid: after the line's coupon, never more.
    amt = (v["net_paid"] * rq + q // 2) // q
    tax = (amt * v["tax"] + 50) // 100
    inc_tax = amt + tax
    cash = inc_tax * scaled(field(h, 16, 8), 101, 8) // 100
    charge = (inc_tax - cash) * scaled(field(h, 24, 8), 101, 8) // 100
    fee = 50 + scaled(field(h, 32, 16), 9951, 16)  # 0.50 .. 100.00
    ship = (v["list_price"] * rq * scaled(field(h, 48, 8), 51, 8) + 50) // 100
    start = v.get("ship_days", v["days"])
    lag = rand.integers(ctx.key("lag"), r, 1, 90)
    if ch is STORE_CH:
        seconds = 8 * 3600 + rand.integers(ctx.key("time"), r, 0, 14 * 3600 - 1)
    else:
        seconds = rand.integers(ctx.key("time"), r, 0, 86_399)
    v.update(
        date=start + lag if days is None else np.full(len(r), days, dtype=np.int64),
        seconds=seconds,
        reason=rand.integers(ctx.key("reason"), r, 0, ctx.rows[REASON] - 1),
        return_quantity=rq,
        return_amt=amt,
        return_tax=tax,
        return_amt_inc_tax=inc_tax,
        fee=fee,
        return_ship_cost=ship,
        refunded_cash=cash,
        reversed_charge=charge,
        store_credit=inc_tax - cash - charge,
        net_loss=fee + ship + tax,
    )
    return v


_RETURN_AMOUNTS = (
    ("return_tax", "return_tax", "money"),
    ("return_amt_inc_tax", "return_amt_inc_tax", "money"),
    ("fee", "fee", "money"),
    ("return_ship_cost", "return_ship_cost", "money"),
    ("refunded_cash", "refunded_cash", "money"),
    ("reversed_charge", "reversed_charge", "money"),
)
_STORE_RETURNS_COLS = (
    ("returned_date_sk", "date", "date"),
    ("return_time_sk", "seconds", "time"),
    ("item_sk", "item", "key"),
    ("customer_sk", "customer", "fk"),
    ("cdemo_sk", "cdemo", "fk"),
    ("hdemo_sk", "hdemo", "fk"),
    ("addr_sk", "addr", "fk"),
    ("store_sk", "store", "fk"),
    ("reason_sk", "reason", "fk"),
    ("ticket_number", "ticket", "key"),
    ("return_quantity", "return_quantity", "int"),
    ("return_amt", "return_amt", "money"),
    *_RETURN_AMOUNTS,
    ("store_credit", "store_credit", "money"),
    ("net_loss", "net_loss", "money"),
)


def _remote_returns_cols(site: tuple, amount_name: str, credit_name: str) -> tuple:
    return (
        ("returned_date_sk", "date", "date"),
        ("returned_time_sk", "seconds", "time"),
        ("item_sk", "item", "key"),
        ("refunded_customer_sk", "customer", "fk"),
        ("refunded_cdemo_sk", "cdemo", "fk"),
        ("refunded_hdemo_sk", "hdemo", "fk"),
        ("refunded_addr_sk", "addr", "fk"),
        ("returning_customer_sk", "ship_customer", "fk"),
        ("returning_cdemo_sk", "ship_cdemo", "fk"),
        ("returning_hdemo_sk", "ship_hdemo", "fk"),
        ("returning_addr_sk", "ship_addr", "fk"),
        *site,
        ("reason_sk", "reason", "fk"),
        ("order_number", "ticket", "key"),
        ("return_quantity", "return_quantity", "int"),
        (amount_name, "return_amt", "money"),
        *_RETURN_AMOUNTS,
        (credit_name, "store_credit", "money"),
        ("net_loss", "net_loss", "money"),
    )


_CATALOG_RETURNS_COLS = _remote_returns_cols(
    (
        ("call_center_sk", "call_center", "fk"),
        ("catalog_page_sk", "catalog_page", "fk"),
        ("ship_mode_sk", "ship_mode", "fk"),
        ("warehouse_sk", "warehouse", "fk"),
    ),
    "return_amount",
    "store_credit",
)
_WEB_RETURNS_COLS = _remote_returns_cols((("web_page_sk", "web_page", "fk"),), "return_amt", "account_credit")


def _returns_builder(ch: Channel, prefix: str, spec: tuple):
    def build(ctx: ChunkContext) -> dict:
        return _emit(ctx, prefix, spec, _return_values(ctx, ch))

    return build


# --- inventory -----------------------------------------------------------------------------------


def inventory_rows(items: int, warehouses: int) -> int:
    return INVENTORY_WEEKS * (items // 2) * warehouses


def _inventory(ctx: ChunkContext) -> dict:
    business_items = ctx.rows[ITEM] // 2
    warehouses = ctx.rows[WAREHOUSE]
    week, rest = np.divmod(ctx.idx, business_items * warehouses)
    item, warehouse = np.divmod(rest, warehouses)
    quantity = ctx.integers(0, 1000, "quantity")
    mask = NullBits(ctx.key("nulls"), ctx.idx, 1).mask(0)
    return {
        "inv_date_sk": julian(INVENTORY_FIRST + 7 * week),
        "inv_item_sk": latest_version_row(item) + 1,
        "inv_warehouse_sk": warehouse + 1,
        "inv_quantity_on_hand": ints(quantity, mask, INT),
    }


FACTS: tuple[Table, ...] = (
    Table(
        STORE_SALES,
        _columns("ss_", _STORE_SALES_COLS, True),
        _sales_builder(STORE_CH, "ss_", _STORE_SALES_COLS),
        doc="8-16 lines per ticket; primary key (ss_item_sk, ss_ticket_number).",
    ),
    Table(
        STORE_RETURNS,
        _columns("sr_", _STORE_RETURNS_COLS, True),
        _returns_builder(STORE_CH, "sr_", _STORE_RETURNS_COLS),
        doc="Every 10th sale line on average; same ticket and item as the sale.",
    ),
    Table(
        CATALOG_SALES,
        _columns("cs_", _CATALOG_SALES_COLS, True),
        _sales_builder(CATALOG_CH, "cs_", _CATALOG_SALES_COLS),
        doc="4-14 lines per order; primary key (cs_item_sk, cs_order_number).",
    ),
    Table(
        CATALOG_RETURNS,
        _columns("cr_", _CATALOG_RETURNS_COLS, True),
        _returns_builder(CATALOG_CH, "cr_", _CATALOG_RETURNS_COLS),
    ),
    Table(
        WEB_SALES,
        _columns("ws_", _WEB_SALES_COLS, True),
        _sales_builder(WEB_CH, "ws_", _WEB_SALES_COLS),
        doc="4-14 lines per order; primary key (ws_item_sk, ws_order_number).",
    ),
    Table(
        WEB_RETURNS,
        _columns("wr_", _WEB_RETURNS_COLS, True),
        _returns_builder(WEB_CH, "wr_", _WEB_RETURNS_COLS),
    ),
    Table(
        INVENTORY,
        (
            Column("inv_date_sk", SK, primary_key=True, references="date_dim.d_date_sk"),
            Column("inv_item_sk", SK, primary_key=True, references="item.i_item_sk"),
            Column("inv_warehouse_sk", SK, primary_key=True, references="warehouse.w_warehouse_sk"),
            Column("inv_quantity_on_hand", INT, nullable=True),
        ),
        _inventory,
        doc="Weekly snapshots (261 Thursdays from 1998-01-01) of every current item in every warehouse.",
    ),
)

__all__ = ["FACTS", "STORE_CH", "CATALOG_CH", "WEB_CH", "sale_lines", "returned_line", "pa"]
