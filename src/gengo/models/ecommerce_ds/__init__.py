"""The `ecommerce-ds` model: the 24 tables of the TPC-DS schema, TPC-DS-like data from our own generator.

Not certified dsdgen output. Table and column names, order and types are those of the TPC-DS
specification; row counts follow its ratios between tables. The scale number is the number of
``store_sales`` rows: TPC-DS scale factor ``SF`` has 2,880,404 x SF of them (see
``scale_factor``). Fixed-size tables (``date_dim``, ``time_dim``, ``household_demographics``, the
small lookup tables) keep their specification sizes; below SF 1 the tables that grow with
the data shrink linearly (``customer_demographics`` is then a prefix of its cross product);
above SF 1 dimension sizes follow the specification's table of row counts, interpolated in
log-log space between its scale factors.

Modules: ``common`` (names, calendar, keys, helpers), ``dimensions`` (17 tables), ``facts``
(sales, returns, inventory), ``changes`` (what change batches do: the TPC-DS data maintenance shape).
"""

from __future__ import annotations

import numpy as np

from gengo.core import fmath
from gengo.core.schema import Check, Model
from gengo.models._checks import daily_fanout, fanout_independence
from gengo.models.ecommerce_ds import common as c
from gengo.models.ecommerce_ds.changes import CHANGES
from gengo.models.ecommerce_ds.dimensions import CD_FULL, DIMENSIONS, HD_ROWS
from gengo.models.ecommerce_ds.facts import (
    CATALOG_CH,
    FACTS,
    STORE_CH,
    WEB_CH,
    headers_for_lines,
    inventory_rows,
    lines_for_headers,
    returns_for_lines,
)

STORE_SALES_SF1 = 2_880_404
CATALOG_SALES_SF1 = 1_441_548
WEB_SALES_SF1 = 719_384

# TPC-DS specification row counts at its scale factors (tables that do not scale linearly).
_SF = (1, 10, 100, 300, 1000, 3000, 10000, 30000, 100000)
_SPEC = {
    c.CALL_CENTER: (6, 24, 30, 36, 42, 48, 54, 60, 60),
    c.CATALOG_PAGE: (11718, 12000, 20400, 26000, 30000, 36000, 40000, 46000, 50000),
    c.CUSTOMER: (100_000, 500_000, 2_000_000, 5_000_000, 12_000_000, 30_000_000, 65_000_000, 80_000_000, 100_000_000),
    c.CUSTOMER_ADDRESS: (
        50_000,
        250_000,
        1_000_000,
        2_500_000,
        6_000_000,
        15_000_000,
        32_500_000,
        40_000_000,
        50_000_000,
    ),
    c.ITEM: (18_000, 102_000, 204_000, 264_000, 300_000, 360_000, 402_000, 462_000, 502_000),
    c.PROMOTION: (300, 500, 1000, 1300, 1500, 1800, 2000, 2300, 2500),
    c.REASON: (35, 45, 55, 60, 65, 67, 70, 72, 75),
    c.STORE: (12, 102, 402, 804, 1002, 1350, 1500, 1704, 1902),
    c.WAREHOUSE: (5, 10, 15, 17, 20, 22, 25, 27, 30),
    c.WEB_PAGE: (60, 200, 2040, 2550, 3000, 3600, 4002, 4602, 5004),
    c.WEB_SITE: (30, 42, 24, 30, 54, 66, 78, 84, 96),
}
# Below SF 1 these shrink with the data (with a floor); the others keep their SF 1 size.
_LINEAR_BELOW_1 = {c.CUSTOMER: 100, c.CUSTOMER_ADDRESS: 50, c.ITEM: 60, c.CATALOG_PAGE: 108}
_HISTORY = (c.ITEM, c.STORE, c.CALL_CENTER, c.WEB_PAGE, c.WEB_SITE)  # row counts: multiples of 6


def scale_factor(rows: dict[str, int] | int) -> float:
    """The TPC-DS scale factor a plan (its row counts, or its store_sales rows) corresponds to."""
    n = rows[c.STORE_SALES] if isinstance(rows, dict) else int(rows)
    return n / STORE_SALES_SF1


def _spec_rows(table: str, sf: float) -> int:
    values = _SPEC[table]
    if sf < 1:
        if table in _LINEAR_BELOW_1:
            return max(_LINEAR_BELOW_1[table], round(values[0] * sf))
        return values[0]
    x = fmath.log(min(sf, _SF[-1]))
    return round(fmath.exp(float(np.interp(x, fmath.log(_SF), fmath.log(values)))))


def row_counts(scale: int, seed: int) -> dict[str, int]:
    """Rows per table for ``scale`` store_sales rows (TPC-DS SF = scale / 2,880,404)."""
    scale = max(1, int(scale))
    sf = scale / STORE_SALES_SF1
    rows = {t: _spec_rows(t, sf) for t in _SPEC}
    for t in _HISTORY:
        rows[t] = max(6, 6 * round(rows[t] / 6))
    rows[c.DATE_DIM] = c.DATE_ROWS
    rows[c.TIME_DIM] = c.TIME_ROWS
    rows[c.INCOME_BAND] = 20
    rows[c.SHIP_MODE] = 20
    rows[c.HOUSEHOLD_DEMOGRAPHICS] = HD_ROWS
    rows[c.CUSTOMER_DEMOGRAPHICS] = min(CD_FULL, max(5_600, round(CD_FULL * sf)))

    def lines(ch, target: float) -> int:
        # The tickets / orders whose lines first reach the target: the table ends on a whole ticket.
        return lines_for_headers(seed, ch, max(1, headers_for_lines(seed, ch, round(target))))

    rows[c.STORE_SALES] = lines(STORE_CH, scale)
    rows[c.CATALOG_SALES] = lines(CATALOG_CH, CATALOG_SALES_SF1 * sf)
    rows[c.WEB_SALES] = lines(WEB_CH, WEB_SALES_SF1 * sf)
    for ch in (STORE_CH, CATALOG_CH, WEB_CH):
        rows[ch.returns] = returns_for_lines(rows[ch.sales])
    rows[c.INVENTORY] = inventory_rows(rows[c.ITEM], rows[c.WAREHOUSE])
    return {t.name: rows[t.name] for t in TABLES}


TABLES = DIMENSIONS + FACTS


def _sf_text(sf: float) -> str:
    return f"{sf:,.0f}" if sf >= 100 else f"{sf:.3g}"


# --- data checks (run over the written tables by the contract suite) -------------------------

# (sales table, ticket / order number, item key, fewest and most lines), as documented in ``facts``.
_LINES = (
    ("store_sales", "ss_ticket_number", "ss_item_sk", 8, 16),
    ("catalog_sales", "cs_order_number", "cs_item_sk", 4, 14),
    ("web_sales", "ws_order_number", "ws_item_sk", 4, 14),
)


def _channel_checks(table: str, ticket: str, item: str, low: int, high: int) -> tuple[Check, ...]:
    return (
        Check(
            f"{table}_one_line_per_item_and_ticket",
            f"""SELECT {ticket}, {item}, count(*) AS lines FROM {table} GROUP BY 1, 2 HAVING count(*) > 1""",
            f"({item}, {ticket}) is the TPC-DS primary key: an item appears once per ticket (issue 20, item 14)",
        ),
        Check(
            f"{table}_tickets_numbered_without_gaps",
            f"""SELECT max({ticket}) AS highest, count(DISTINCT {ticket}) AS tickets FROM {table}
                HAVING max({ticket}) <> count(DISTINCT {ticket})""",
            "tickets are numbered 1.. and the table ends on a whole ticket",
        ),
        fanout_independence(f"{table}_lines_per_ticket_are_independent_draws", table, ticket, low, high),
    )


CHECKS = (
    *(check for channel in _LINES for check in _channel_checks(*channel)),
    daily_fanout(
        "store_sales_daily_lines_of_independent_tickets",
        """SELECT any_value(ss_sold_date_sk) AS day, count(*) AS n FROM store_sales GROUP BY ss_ticket_number""",
        8,
        16,
        "lines per store ticket",
    ),
)


MODEL = Model(
    name="ecommerce-ds",
    aliases=("ecom-ds", "e-commerce-ds", "eds", "ds", "tpcds", "tpc-ds"),
    description="TPC-DS schema (24 tables, official names and types) with TPC-DS-like data",
    tables=TABLES,
    row_counts=row_counts,
    describe=lambda rows: (
        f"TPC-DS-like data at about scale factor {_sf_text(scale_factor(dict(rows)))} "
        "(store_sales rows / 2,880,404); not dsdgen output"
    ),
    notes=(
        "TPC-DS-like data from gengo's own generator, not certified dsdgen output.",
        "scale = store_sales rows; TPC-DS scale factor = store_sales rows / 2,880,404.",
        "About 3.1% (1/32) NULLs, independently per column, in nullable fact foreign keys and measures.",
    ),
    checks=CHECKS,
    changes=CHANGES,
)

__all__ = ["MODEL", "row_counts", "scale_factor"]
