"""What a model declares, as text lines (``gengo models FILE``)."""

from __future__ import annotations

import pyarrow as pa

from gengo.core.schema import Model


def type_name(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    return str(t)


def describe(model: Model) -> list[str]:
    rows = model.row_counts(1000, 0)
    lines = [f"{model.name}: {model.description}"]
    if model.file is not None:
        lines.append(f"  from {model.file.path} (SHA-256 {model.file.sha256[:12]}...)")
    rule = _rules(model)
    lines.append(f"  {len(model.tables)} tables, in dependency order (rows at scale 1000 in brackets):")
    for t in model.tables:
        lines.append(f"  {t.name}: {rule.get(t.name, '')} [{rows[t.name]:,}]")
        for c in t.columns:
            marks = []
            if c.primary_key:
                marks.append("primary key")
            if c.references:
                marks.append(f"-> {c.references}")
            if c.nullable:
                marks.append("nullable")
            extra = f"  ({', '.join(marks)})" if marks else ""
            lines.append(f"    {c.name}: {type_name(c.type)}{extra}")
    return lines


def _rules(model: Model) -> dict[str, str]:
    """How each table's row count follows from the scale (model files only; built-ins say 'derived')."""
    if model.file is None:
        return {t.name: "derived from the scale" for t in model.tables}
    from gengo.models.file.source import from_json

    data = from_json(model.file.data)  # parsed and checked when the model was compiled
    out = {}
    for name, table in (data.get("tables") or {}).items():
        r = table.get("rows")
        if r == "scale":
            out[name] = "scale (grows with --size)"
        elif isinstance(r, int):
            out[name] = f"{r:,} rows (fixed)"
        elif isinstance(r, dict) and "per" in r:
            out[name] = f"{r.get('ratio')} per row of {r.get('per')}"
        elif isinstance(r, dict) and "each" in r:
            out[name] = f"{r.get('min', 1)}-{r.get('max')} per row of {r.get('each')}"
    return out
