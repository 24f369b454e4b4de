"""Model registry: canonical names, aliases and lookup with suggestions."""

from __future__ import annotations

import difflib

from gengo.core.errors import GengoError
from gengo.core.schema import Model
from gengo.models import ecommerce, ecommerce_ds, financial, medical

MODELS: dict[str, Model] = {m.name: m for m in (ecommerce.MODEL, ecommerce_ds.MODEL, financial.MODEL, medical.MODEL)}

# Every model name users of the Go tool know, with the extra short forms we accept.
_ALIASES: dict[str, tuple[str, ...]] = {
    "ecommerce": ("ecom", "e-commerce", "e"),
    "ecommerce-ds": ("ecom-ds", "e-commerce-ds", "eds", "ds", "tpcds", "tpc-ds"),
    "financial": ("fin", "f"),
    "medical": ("med", "m"),
}
_LOOKUP = {alias: name for name, aliases in _ALIASES.items() for alias in (name, *aliases)}


def model_names() -> list[str]:
    return list(_ALIASES)


def resolve_model(name: str) -> Model:
    """The model called ``name`` (any case, any alias), or a GengoError with a suggestion."""
    key = name.strip().lower()
    canonical = _LOOKUP.get(key)
    if canonical is None:
        close = difflib.get_close_matches(key, list(_LOOKUP), n=1, cutoff=0.6)
        hint = f"did you mean '{_LOOKUP[close[0]]}'? " if close else ""
        raise GengoError(f"unknown model '{name}': {hint}models are {', '.join(_ALIASES)}")
    if canonical not in MODELS:
        raise GengoError(f"model '{canonical}' is not implemented in this version yet; available: {', '.join(MODELS)}")
    return MODELS[canonical]
