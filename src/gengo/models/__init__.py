"""Model registry: canonical names, aliases, descriptions and tables, and lookup with suggestions.

``CATALOG`` describes every built-in model without importing it: ``gengo models``, ``gengo
--help`` and name checks then start without NumPy, Arrow or polars (a model module imports all
three). A model module is imported when the model is first resolved; ``MODELS`` imports them all.
``tests/test_launch.py`` keeps the catalog equal to what the modules declare.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gengo.core.errors import GengoError

if TYPE_CHECKING:
    from gengo.core.schema import Model

    MODELS: dict[str, Model]  # loaded on first access, see __getattr__


@dataclass(frozen=True)
class ModelInfo:
    """What is known about a model before its module is imported."""

    name: str
    module: str
    aliases: tuple[str, ...]  # every name users of the Go tool know, with the extra short forms we accept
    description: str
    table_names: tuple[str, ...]


CATALOG: tuple[ModelInfo, ...] = (
    ModelInfo(
        "ecommerce",
        "gengo.models.ecommerce",
        ("ecom", "e-commerce", "e"),
        "Online shop star schema: customers, addresses, suppliers, products, orders, items",
        (
            "dim_customers",
            "dim_customer_addresses",
            "dim_suppliers",
            "dim_product_categories",
            "dim_products",
            "fact_orders_header",
            "fact_order_items",
        ),
    ),
    ModelInfo(
        "ecommerce-ds",
        "gengo.models.ecommerce_ds",
        ("ecom-ds", "e-commerce-ds", "eds", "ds", "tpcds", "tpc-ds"),
        "TPC-DS schema (24 tables, official names and types) with TPC-DS-like data",
        (
            "date_dim",
            "time_dim",
            "income_band",
            "household_demographics",
            "customer_demographics",
            "customer_address",
            "customer",
            "item",
            "promotion",
            "reason",
            "ship_mode",
            "store",
            "call_center",
            "catalog_page",
            "warehouse",
            "web_page",
            "web_site",
            "store_sales",
            "store_returns",
            "catalog_sales",
            "catalog_returns",
            "web_sales",
            "web_returns",
            "inventory",
        ),
    ),
    ModelInfo(
        "financial",
        "gengo.models.financial",
        ("fin", "f"),
        "Stock market: companies, exchanges and daily OHLC prices over 5 years of trading days",
        ("dim_companies", "dim_exchanges", "fact_daily_stock_prices"),
    ),
    ModelInfo(
        "medical",
        "gengo.models.medical",
        ("med", "m"),
        "Outpatient care: patients, doctors, clinics and appointments with ICD-10-CM diagnoses",
        ("dim_patients", "dim_doctors", "dim_clinics", "fact_appointments"),
    ),
)
_INFO = {m.name: m for m in CATALOG}
_LOOKUP = {alias: m.name for m in CATALOG for alias in (m.name, *m.aliases)}


def model_names() -> list[str]:
    return [m.name for m in CATALOG]


def model_info(name: str) -> ModelInfo:
    """The catalog entry of the model called ``name`` (any case, any alias), or a GengoError with a suggestion."""
    key = name.strip().lower()
    canonical = _LOOKUP.get(key)
    if canonical is None:
        import os

        files = [f"{name.strip()}{ext}" for ext in (".yaml", ".yml", ".json") if os.path.isfile(f"{name.strip()}{ext}")]
        close = difflib.get_close_matches(key, list(_LOOKUP), n=1, cutoff=0.6)
        hint = f"did you mean '{_LOOKUP[close[0]]}'? " if close else ""
        if files:  # a model file of that name, without its extension
            hint = f"did you mean the model file '{files[0]}'? "
        raise GengoError(f"unknown model '{name}': {hint}models are {', '.join(model_names())}")
    return _INFO[canonical]


def resolve_model(name: str, text: str | None = None) -> Model:
    """The model called ``name`` (any case, any alias) or in the model file ``name``, or a
    GengoError with a suggestion. ``text``: the model file's text, read elsewhere (workers)."""
    from gengo.models import file

    if text is not None:
        return file.load_model_text(text, name)
    if is_model_file(name):
        return file.load_model_file(name)
    return importlib.import_module(model_info(name).module).MODEL


def is_model_file(name: str) -> bool:
    """Whether ``name`` names a model file: a path or a .yaml/.yml/.json name, or an existing
    file that is not a built-in model's name (built-in names win)."""
    import os

    from gengo.models import file

    if file.looks_like_file(name):
        return True
    return name.strip().lower() not in _LOOKUP and os.path.isfile(name)


def __getattr__(name: str):
    if name == "MODELS":  # every model: imports every model module (NumPy, Arrow, polars)
        models = {m.name: resolve_model(m.name) for m in CATALOG}
        globals()["MODELS"] = models
        return models
    raise AttributeError(f"module 'gengo.models' has no attribute {name!r}")
