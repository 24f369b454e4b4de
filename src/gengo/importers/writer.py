"""The model file text: one line per column (a flow mapping) with a comment saying where it came from.

Strings are written as JSON strings (valid YAML double-quoted scalars), numbers so that YAML 1.1
reads them back as numbers (1e-06 would be text), so the file means exactly what was mapped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gengo.importers.mapping import Mapped, OutColumn

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYWORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "scale"}


def scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return f"{v:.1f}"
        text = repr(v)
        if "e" in text or "E" in text:
            text = f"{v:.12f}".rstrip("0")
            text = text + "0" if text.endswith(".") else text
        return text
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {scalar(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=False)


def _key_value(k: str, v: Any) -> str:
    if k in ("strategy", "part", "type") and isinstance(v, str) and _PLAIN.match(v) and v.lower() not in _KEYWORDS:
        return f"{k}: {v}"
    if k in ("table", "via", "column", "first", "last") and isinstance(v, str) and _PLAIN.match(v):
        return f"{k}: {v}" if v.lower() not in _KEYWORDS else f"{k}: {json.dumps(v)}"
    return f"{k}: {scalar(v)}"


def _comment(text: str) -> str:
    return " ".join(text.split())


def column_line(col: OutColumn, indent: str = "      ") -> str:
    body = "{" + ", ".join(_key_value(k, v) for k, v in col.spec.items()) + "}"
    parts = [col.comment] if col.comment else []
    if col.guessed:
        parts.append(f"guessed: {col.guessed}")
    parts += [f"note: {n}" for n in col.notes]
    comment = f"  # {_comment('; '.join(parts))}" if parts else ""
    return f"{indent}{col.name}: {body}{comment}"


def render(mapped: Mapped, model: str, description: str, notes: list[str]) -> str:
    lines = [
        f"# Imported by `gengo init` from {_comment(description)}.",
        "# A starting point to edit: 'guessed:' marks a strategy chosen from a column's name, 'note:' what",
        "# the model language cannot say exactly. `gengo models FILE` describes it; README: Import a schema.",
    ]
    for n in notes:
        lines.append(f"# note: {_comment(n)}")
    lines += [f"model: {model}", f"description: {scalar(description)}", "", "tables:"]
    for t in mapped.tables:
        rows = t.rows if isinstance(t.rows, str) else scalar(t.rows)
        source = f"  # {t.source_rows:,.0f} rows in the source" if t.source_rows is not None else ""
        lines.append(f"  {t.name}:")
        lines.append(f"    rows: {rows}{source}")
        lines.append("    columns:")
        for col in t.columns:
            lines.append(column_line(col))
        for col in t.helpers:
            lines.append(column_line(col))
    return "\n".join(lines) + "\n"
