"""Shared by the database tests: small runs per model, and SQL that inserts an orphan row."""

from __future__ import annotations

import os

from gengo.models import resolve_model

# Small --rows per model: every table non-empty, every model loads in a few seconds.
SMALL_ROWS = {
    "ecommerce": ["fact_orders_header=3000"],
    "ecommerce-ds": ["store_sales=6000"],
    "financial": ["fact_daily_stock_prices=3000"],
    "medical": ["fact_appointments=3000"],
}
PG_URL = os.environ.get("GENGO_TEST_PG_URL")


def rows_args(model: str) -> list[str]:
    return [f"--rows={spec}" for spec in SMALL_ROWS[model]]


def orphan_insert(model: str, table: str, column: str, prefix: str = "") -> str:
    """INSERT copying one row of ``table`` with ``column`` = -1 (no such parent) and a fresh primary key."""
    t = resolve_model(model).table(table)
    name = f'{prefix}"{table}"'
    replace = {column: "-1"}
    for pk in t.primary_key:
        if pk != column:
            replace[pk] = f'(SELECT max("{pk}") + 1 FROM {name})'
    cols = ", ".join(replace.get(c.name, f'"{c.name}"') for c in t.columns)
    return f"INSERT INTO {name} SELECT {cols} FROM {name} LIMIT 1"


def duplicate_insert(model: str, table: str, prefix: str = "") -> str:
    name = f'{prefix}"{table}"'
    return f"INSERT INTO {name} SELECT * FROM {name} LIMIT 1"
