"""Change batches of the ecommerce-ds model (``gen --batches``): the TPC-DS data maintenance shape.

Batch b is the business day ``b`` days after the window's last (2003-01-02), as far as the
machinery of change batches allows:

- **New sales** (TPC-DS LF_SS, LF_CS, LF_WS): each channel's tickets / orders of that day, as
  many as the window has on a day of that weight (weekends, November, December), numbers and
  lines continuing the window's fan-out, every line recomputed from its ticket like the base's.
- **New returns** (LF_SR, LF_CR, LF_WR): a tenth of the lines sold in batches come back, 1-30
  days after the sale (store) or after the shipment (catalog, web); the return is inserted by the
  batch of its day, so a batch never holds a return dated after it.
- **Deletes of a date range** (DF_SS, DF_CS, DF_WS, DF_I): each batch purges the oldest sales day
  left (1998-01-02, then 1998-01-03, ...) with every return of those sales, and the inventory
  weeks dated before it: a rolling five-year window. Nothing references a fact table, so every
  key still resolves.
- **Dimension updates in place** (the non-history dimensions of TPC-DS): customers change e-mail
  address (a new provider), preferred flag and last review day (the batch's day), addresses are
  rewritten as a whole (the address block drawn again, so street, city, county, state, zip and
  GMT offset stay consistent), current item versions change price. Type-2 history rows are
  ``--history``'s, not these batches'.

Sales, returns and purges are laid out by day, so each hook computes its rows from (seed, the
counts so far, batch) alone and no batch looks ahead.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import rand
from gengo.core.arrays import join, take
from gengo.core.schema import BatchContext, ChunkContext, TableChanges
from gengo.models.ecommerce_ds import facts as f
from gengo.models.ecommerce_ds.common import (
    CUSTOMER,
    CUSTOMER_ADDRESS,
    INVENTORY,
    INVENTORY_FIRST,
    ITEM,
    SALES_DAYS,
    SALES_FIRST,
    SALES_LAST,
    WAREHOUSE,
    history,
    julian,
    money,
)
from gengo.models.ecommerce_ds.dimensions import _DOMAINS

BATCH_LIMIT = SALES_DAYS - 1  # the purge reaches the window's last day, never a batch's sales
RETURN_SHARE = 1 / f.RETURN_EVERY  # share of the lines sold in batches that come back
RETURN_LAG = 30  # days (at most) between a sale or a shipment and its return
SHIP_LAG = 90  # at most, catalog and web (``facts._header``)
EMAIL, PREFERRED, REVIEW = 0.005, 0.01, 0.02  # shares of the customers changing each per batch
MOVED = 0.005  # share of the addresses rewritten per batch
REPRICED = 0.02  # share of the current item versions whose price changes per batch

_CHANNELS = (f.STORE_CH, f.CATALOG_CH, f.WEB_CH)
_BUILD = {  # sales and returns columns of each channel, in the order the tables declare them
    f.STORE_CH: ("ss_", f._STORE_SALES_COLS, "sr_", f._STORE_RETURNS_COLS),
    f.CATALOG_CH: ("cs_", f._CATALOG_SALES_COLS, "cr_", f._CATALOG_RETURNS_COLS),
    f.WEB_CH: ("ws_", f._WEB_SALES_COLS, "wr_", f._WEB_RETURNS_COLS),
}


def batch_day(b: int) -> int:
    """The business day (since 1970-01-01) of batch b."""
    return SALES_LAST + b


# --- new sales -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _window_weight() -> float:
    return float(f.day_weight(SALES_FIRST + np.arange(SALES_DAYS)).sum())


def tickets_after(seed: int, ch: f.Channel, base_lines: int, b: int) -> int:
    """Tickets / orders of the channel after batch b: the window's, then each day's share of them
    (cumulative, so small datasets get a ticket every few days)."""
    headers = f.headers_for_lines(seed, ch, base_lines)
    if b <= 0 or base_lines <= 0:
        return headers
    weight = f.day_weight(batch_day(1) + np.arange(b)).sum()
    return headers + round(headers * weight / _window_weight())


def _sales_grow(ch: f.Channel):
    def grow(batch: BatchContext) -> int:
        base = batch.base[ch.sales]
        after = f.lines_for_headers(batch.seed, ch, tickets_after(batch.seed, ch, base, batch.batch))
        return after - batch.counts[-1][ch.sales]

    return grow


def _sales_append(ch: f.Channel):
    prefix, spec, _, _ = _BUILD[ch]

    def append(ctx: ChunkContext, batch: BatchContext) -> dict:
        v = f.sale_lines(ctx.seed, ctx.rows, ch, ctx.idx, batch_day(batch.batch))
        v["date"] = v["days"]
        if "ship_days" in v:
            v["ship_date"] = v["ship_days"]
        return f._emit(ctx, prefix, spec, v)

    return append


# --- new returns -----------------------------------------------------------------------------


def _returned(seed: int, ch: f.Channel, sold: int, lines: np.ndarray) -> np.ndarray:
    """The batch in which each line sold by batch ``sold`` comes back, 0 if it is kept."""
    u = rand.uniform(rand.stream_key(seed, ch.returns, "_changes", "returned"), lines)
    lag = 1 + rand.integers(rand.stream_key(seed, ch.returns, "_changes", "lag"), lines, 0, RETURN_LAG - 1)
    if ch is not f.STORE_CH:  # counted from the shipment (a draw of the order's header)
        ticket, _ = f._fan(seed, ch).parent_of(lines)
        lag += rand.integers(rand.stream_key(seed, ch.sales, "header", "ship_lag"), ticket, 2, SHIP_LAG)
    return np.where(u < RETURN_SHARE, sold + lag, 0)


@lru_cache(maxsize=64)
def _returns_in(seed: int, ch: f.Channel, sales: tuple[int, ...], b: int) -> tuple[np.ndarray, np.ndarray]:
    """(sale line, batch that sold it) of every return batch b inserts, in sale order.
    ``sales``: the channel's sale lines after batches 0 .. b-1."""
    reach = RETURN_LAG + (0 if ch is f.STORE_CH else SHIP_LAG)
    lines, sold = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for s in range(max(1, b - reach), b):  # a loop over the batches whose sales may come back now
        line = np.arange(sales[s - 1], sales[s], dtype=np.int64)
        back = line[_returned(seed, ch, s, line) == b]
        lines.append(back)
        sold.append(np.full(len(back), s, dtype=np.int64))
    return np.concatenate(lines), np.concatenate(sold)


def _sales_so_far(batch: BatchContext, ch: f.Channel, upto: int) -> tuple[int, ...]:
    return tuple(int(c[ch.sales]) for c in batch.counts[:upto])


def _returns_grow(ch: f.Channel):
    def grow(batch: BatchContext) -> int:
        return len(_returns_in(batch.seed, ch, _sales_so_far(batch, ch, batch.batch), batch.batch)[0])

    return grow


def _returns_append(ch: f.Channel):
    _, _, prefix, spec = _BUILD[ch]

    def append(ctx: ChunkContext, batch: BatchContext) -> dict:
        b = batch.batch
        lines, sold = _returns_in(ctx.seed, ch, _sales_so_far(batch, ch, b), b)
        k = ctx.idx - batch.counts[b - 1][ch.returns]
        line, when = lines[k], sold[k]
        parts = []
        for s in np.unique(when):  # the sale lines, a selling batch at a time (each its own day)
            here = when == s
            parts.append((here, f.sale_lines(ctx.seed, batch.counts[int(s)], ch, line[here], batch_day(int(s)))))
        if not parts:  # no row: the sale attributes of no line
            parts.append((np.zeros(0, dtype=bool), f.sale_lines(ctx.seed, ctx.rows, ch, line, batch_day(b))))
        v = {name: np.empty(len(k), dtype=values.dtype) for name, values in parts[0][1].items()}
        for here, values in parts:
            for name, value in values.items():
                v[name][here] = value
        return f._emit(ctx, prefix, spec, f._return_values(ctx, ch, v, batch_day(b)))

    return append


# --- the purge of the oldest day ---------------------------------------------------------------


def _cut(b: int) -> int:
    """After batch b nothing sold (or counted) before this day is left."""
    return SALES_FIRST + b


@lru_cache(maxsize=256)
def _first_line_on(seed: int, ch: f.Channel, base_lines: int, day: int) -> int:
    """The first window sale line whose ticket is sold on ``day`` or later (tickets are in day order)."""
    headers = f.headers_for_lines(seed, ch, base_lines)
    lo, hi = 0, headers  # the first ticket on or after the day lies in [lo, hi]
    while lo < hi:  # bisection over tickets: a loop over about 30 halvings
        mid = (lo + hi) // 2
        if SALES_FIRST + int(f.header_day(seed, ch, headers, np.array([mid]))[0]) >= day:
            hi = mid
        else:
            lo = mid + 1
    return f.lines_for_headers(seed, ch, lo)


def _purge_sales(ch: f.Channel):
    def drop(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
        base = batch.base[ch.sales]
        return idx < min(base, _first_line_on(batch.seed, ch, base, _cut(batch.batch)))

    return drop


def _purged_lines(ch: f.Channel):
    """The sale lines batch b may purge: the window's before the cut (the earlier ones are gone already)."""

    def reach(batch: BatchContext) -> tuple[int, int]:
        base = batch.base[ch.sales]
        return 0, min(base, _first_line_on(batch.seed, ch, base, _cut(batch.batch)))

    return reach


def _purged_returns(ch: f.Channel):
    """The returns batch b may purge: window returns of lines before the cut (``returned_line`` of
    return r is in [r * RETURN_EVERY, (r + 1) * RETURN_EVERY))."""

    def reach(batch: BatchContext) -> tuple[int, int]:
        first = _first_line_on(batch.seed, ch, batch.base[ch.sales], _cut(batch.batch))
        return 0, min(batch.base[ch.returns], first // f.RETURN_EVERY + 1)

    return reach


def _purge_returns(ch: f.Channel):
    def drop(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
        base = batch.base[ch.sales]
        first = _first_line_on(batch.seed, ch, base, _cut(batch.batch))
        window = idx < batch.base[ch.returns]  # returns of batch sales are never purged (BATCH_LIMIT)
        return window & (f.returned_line(batch.seed, ch, idx) < first)

    return drop


def _inventory_week(batch: BatchContext) -> int:
    return (batch.base[ITEM] // 2) * batch.base[WAREHOUSE]


def _inventory_grow(batch: BatchContext) -> int:
    """A week of counts when the batch's day is an inventory Thursday (batch 1 has 2003-01-02's)."""
    day = batch_day(batch.batch) - 1
    return _inventory_week(batch) if (day - INVENTORY_FIRST) % 7 == 0 else 0


def _purged_inventory(batch: BatchContext) -> tuple[int, int]:
    weeks = -(-(_cut(batch.batch) - INVENTORY_FIRST) // 7)  # weeks dated before the cut
    return 0, weeks * _inventory_week(batch)


def _purge_inventory(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    return idx < _purged_inventory(batch)[1]


# --- dimension updates -------------------------------------------------------------------------


def _new_email(batch: BatchContext, rows: pa.Table, idx: np.ndarray) -> pa.Array:
    """The same login (the name as the base folded it to ASCII) at another provider."""
    domain = take(_DOMAINS, rand.integers(batch.key("domain"), idx, 0, len(_DOMAINS) - 1))
    login = pc.replace_substring_regex(rows.column("c_email_address").combine_chunks(), "@[^@]*$", "")
    return join(login, "@", domain)


def _flipped(batch: BatchContext, rows: pa.Table, idx: np.ndarray) -> pa.Array:
    current = rows.column("c_preferred_cust_flag").combine_chunks()
    return pc.if_else(pc.equal(current, "Y"), "N", "Y")


def _reviewed(batch: BatchContext, rows: pa.Table, idx: np.ndarray) -> np.ndarray:
    return np.full(len(idx), julian(batch_day(batch.batch)), dtype=np.int64)


def _current_version(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    _, version, versions = history(idx)
    return version == versions - 1


def _moving(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    """Addresses rewritten this batch: one choice per address, shared by all its columns."""
    return batch.chosen(idx, MOVED, "moved")


def _moving_rows(batch: BatchContext, lo: int, hi: int) -> np.ndarray:
    """The addresses of [lo, hi) that ``_moving`` chooses, found without listing the others."""
    return rand.chosen_rows(batch.key("moved"), lo, hi, MOVED)


def _repriced(batch: BatchContext, rows: pa.Table, idx: np.ndarray) -> pa.Array:
    """A price change of -10% .. +15%, in cents, 0.09 .. 999.99."""
    cents = pc.cast(pc.multiply(rows.column("i_current_price").combine_chunks(), 100), pa.int64()).to_numpy()
    factor = 0.9 + 0.25 * batch.uniform(idx, "factor")
    new = np.clip(np.rint(cents * factor).astype(np.int64), 9, 99_999)
    return money(np.where(new == cents, cents + 1, new))


_ADDRESS = (
    "ca_street_number",
    "ca_street_name",
    "ca_street_type",
    "ca_suite_number",
    "ca_city",
    "ca_county",
    "ca_state",
    "ca_zip",
    "ca_country",
    "ca_gmt_offset",
    "ca_location_type",
)


def _channel_changes() -> dict[str, TableChanges]:
    out = {}
    for ch in _CHANNELS:
        out[ch.sales] = TableChanges(
            grow=_sales_grow(ch),
            append=_sales_append(ch),
            delete=1.0,
            drop=_purge_sales(ch),
            reach=_purged_lines(ch),
            limit=BATCH_LIMIT,
        )
        out[ch.returns] = TableChanges(
            grow=_returns_grow(ch),
            append=_returns_append(ch),
            delete=1.0,
            drop=_purge_returns(ch),
            reach=_purged_returns(ch),
            limit=BATCH_LIMIT,
        )
    return out


CHANGES: dict[str, TableChanges] = {
    CUSTOMER_ADDRESS: TableChanges(
        update=dict.fromkeys(_ADDRESS, 1.0),
        pick=dict.fromkeys(_ADDRESS, _moving),
        among=dict.fromkeys(_ADDRESS, _moving_rows),
    ),
    CUSTOMER: TableChanges(
        update={"c_preferred_cust_flag": PREFERRED, "c_email_address": EMAIL, "c_last_review_date_sk": REVIEW},
        revise={"c_preferred_cust_flag": _flipped, "c_email_address": _new_email, "c_last_review_date_sk": _reviewed},
    ),
    ITEM: TableChanges(
        update={"i_current_price": REPRICED},
        pick={"i_current_price": _current_version},
        revise={"i_current_price": _repriced},
    ),
    **_channel_changes(),
    INVENTORY: TableChanges(
        grow=_inventory_grow, delete=1.0, drop=_purge_inventory, reach=_purged_inventory, limit=BATCH_LIMIT
    ),
}
