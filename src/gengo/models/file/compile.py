"""A checked model file becomes a ``core.schema.Model``: the engine runs it like a built-in.

Compiling resolves every name (tables, columns, strategies), derives the table order from the
references, the row counts from the count graph (``scale``, fixed, ratios, fan-outs), each
column's Arrow type, and refuses what cannot be generated (cycles of required references or of
columns, keys that cannot be unique, types that do not fit a strategy), each with one line
naming the place in the file. It happens once per process; chunks then only evaluate columns.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from gengo.core import rand
from gengo.core.arrays import decimal_from_floats, decimal_from_units
from gengo.core.errors import GengoError
from gengo.core.schema import Check, ChunkContext, Column, Model, Table, TableChanges
from gengo.models.file import columns as strategies
from gengo.models.file import expr as expressions
from gengo.models.file import quality, source
from gengo.models.file import spec as s
from gengo.models.file.source import Source

_TYPE_NAMES = {
    "int64": pa.int64(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "int32": pa.int32(),
    "integer": pa.int32(),
    "int16": pa.int16(),
    "smallint": pa.int16(),
    "int8": pa.int8(),
    "tinyint": pa.int8(),
    "float64": pa.float64(),
    "double": pa.float64(),
    "float": pa.float64(),
    "float32": pa.float32(),
    "real": pa.float32(),
    "string": pa.string(),
    "text": pa.string(),
    "varchar": pa.string(),
    "boolean": pa.bool_(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
_DECIMAL = re.compile(r"^(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
TIMESTAMP = pa.timestamp("us", tz="UTC")
# Strategies whose values are distinct by construction (a primary key may use them alone).
_UNIQUE_CAPABLE = {"sequence", "uuid", "email"}
_REFERENCE_LIKE = {"reference", "parent", "belongs_to"}


def parse_type(text: str) -> pa.DataType:
    t = text.strip().lower()
    m = _DECIMAL.match(t)
    if m:
        p, sc = int(m.group(1)), int(m.group(2))
        if not 1 <= p <= 38 or sc > p:
            raise ValueError(f"decimal({p},{sc}): precision must be 1-38 and scale at most the precision")
        return pa.decimal128(p, sc)
    if re.match(r"^(varchar|char)\s*\(\s*\d+\s*\)$", t):
        return pa.string()
    if t in _TYPE_NAMES:
        return _TYPE_NAMES[t]
    close = difflib.get_close_matches(t, [*_TYPE_NAMES, "decimal(12,2)"], n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise ValueError(
        f"unknown type '{text}'{hint}; types are int64, int32, int16, int8, float64, float32, "
        "decimal(P,S), string, boolean, date, timestamp"
    )


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t):
        return "text"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "time"
    return "other"


@dataclass
class CompiledModel:
    name: str
    source: Source
    tables: dict[str, s.TableSpec] = field(default_factory=dict)
    types: dict[tuple[str, str], pa.DataType] = field(default_factory=dict)
    expressions: dict[tuple[str, str], expressions.Expression] = field(default_factory=dict)
    functions: dict[tuple[str, str], Any] = field(default_factory=dict)
    inherits_nulls: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    null_when: dict[tuple[str, str], expressions.Expression] = field(default_factory=dict)
    refs: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # column -> (table, column)
    deps: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)
    # Hidden lookups of an address's time zone that only local_time_in reads: they carry the zone
    # numbers, never the names (see ``zones_only``).
    zone_numbers: set[tuple[str, str]] = field(default_factory=set)

    # --- what the strategies ask -------------------------------------------------------------

    def parent_table(self, table: str) -> str:
        return self.tables[table].rows.each  # type: ignore[union-attr]

    def fanout(self, table: str, seed: int, rows: Mapping[str, int]) -> rand.FanOut:
        each = self.tables[table].rows
        assert isinstance(each, s.Each)
        weights = tuple(each.weights) if each.weights else None
        return rand.FanOut(rand.stream_key(seed, table, "fanout"), each.min, each.max, rows[each.each], weights)

    def referenced_table(self, table: str, column: str) -> str:
        return self.refs[(table, column)][0]

    def referenced_column(self, table: str, column: str) -> str:
        return self.refs[(table, column)][1]

    def extra_nulls(self, env: strategies.Env, name: str, mask: np.ndarray) -> None:
        env.extra_nulls[name] = mask if name not in env.extra_nulls else (env.extra_nulls[name] | mask)

    # --- chunks ------------------------------------------------------------------------------

    def line_of(self, path: tuple[str, ...]) -> str:
        """``file:line:column`` where the file's lines are known (the parent), else the file's name
        (a worker receives the parsed data, without lines)."""
        return self.source.at(path) if path in self.source.where else self.source.name

    def build(self, table: str):
        visible = [c for c, col in self.tables[table].columns.items() if not col.hidden]

        tspec = self.tables[table]
        defects = tspec.quality is not None or any(col.quality for col in tspec.columns.values())

        # Where a value that does not fit its type is reported: the column's line in the file.
        where = {c: f"{self.line_of(('tables', table, 'columns', c))}: {table}.{c}" for c in visible}

        def build(ctx: ChunkContext) -> dict[str, pa.Array]:
            idx = quality.source_rows(ctx.seed, table, tspec.quality, ctx.idx) if defects else ctx.idx
            env = strategies.Env(self, table, ctx.seed, ctx.rows, idx)
            out = {c: to_arrow(env.value(c), self.types[(table, c)], env.null(c), where[c]) for c in visible}
            return quality.apply(env, out) if defects else out

        return build


def zones_only(cm: CompiledModel) -> set[tuple[str, str]]:
    """The hidden lookups of an address's ``time_zone`` whose every reader is a ``local_time_in``:
    the conversion to UTC takes the zones' numbers, so the names (a take of strings per row) are
    never built. A table with a Python column is left out: its function may read any column."""
    found = set()
    for (t, c), col in ((k, cm.tables[k[0]].columns[k[1]]) for k in cm.deps):
        if not (col.hidden and isinstance(col, s.Lookup)):
            continue
        target = cm.tables[cm.referenced_table(t, col.via)].columns[col.column]
        if not (isinstance(target, s.Address) and target.part == "time_zone" and target.null_rate == 0):
            continue
        if any(isinstance(o, s.Python) for o in cm.tables[t].columns.values()):
            continue
        readers = [(rt, rc) for (rt, rc), deps in cm.deps.items() if (t, c) in deps and (rt, rc) != (t, c)]
        if all(rt == t and getattr(cm.tables[t].columns[rc], "local_time_in", None) == c for rt, rc in readers):
            found.add((t, c))
    return found


def _refuse_non_finite(value: Any, t: pa.DataType, where: str) -> None:
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        raise GengoError(
            f"{where}: a value is {value} (an expression without a finite result: log or sqrt out of range, "
            f"a division by zero?); {t} holds finite numbers only: guard it with where(...)"
        )


def to_arrow(value: Any, t: pa.DataType, nulls: np.ndarray | None, where: str) -> pa.Array:
    """The internal value of a column as an Arrow array of its declared type, nulls applied."""
    mask = pa.array(nulls) if nulls is not None and nulls.any() else None
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        arr = value if value.type == t else value.cast(t)
        return pa.compute.if_else(mask, pa.nulls(len(arr), t), arr) if mask is not None else arr
    v = np.asarray(value)
    if pa.types.is_decimal(t):
        arr = decimal_from_floats(v, t.precision, t.scale)
        if arr is None:  # a value that does not fit, or NaN (a NULL row's may be)
            limit = min(10.0**t.precision, 2.0**63)
            rounded = np.rint(np.asarray(v, dtype=np.float64) * 10**t.scale)
            bad = ~np.isfinite(rounded) | (np.abs(rounded) >= limit)
            if nulls is not None:
                bad &= ~nulls
            if bad.any():
                _refuse_non_finite(v[bad][0], t, where)
                nines = f"{10**t.precision - 1:d}"
                largest = (
                    f"{nines[: len(nines) - t.scale] or '0'}.{nines[len(nines) - t.scale :]}" if t.scale else nines
                )
                raise GengoError(
                    f"{where}: a value ({v[bad][0]}) does not fit decimal({t.precision},{t.scale}) (at most "
                    f"{largest} either way): give the column a wider type"
                )
            units = np.where(np.isfinite(rounded), rounded, 0).astype(np.int64)
            arr = decimal_from_units(units, t.precision, t.scale)
        return pa.compute.if_else(mask, pa.nulls(len(arr), t), arr) if mask is not None else arr
    if pa.types.is_integer(t):
        info = np.iinfo(t.to_pandas_dtype())
        if v.dtype == np.int64 and t == pa.int64():  # keys and counts: nothing to check or convert
            return pa.array(v, mask=nulls, type=t)
        if v.dtype.kind == "f":
            v = np.rint(v)
            bad = ~np.isfinite(v) | (v < info.min) | (v >= -float(info.min))
        elif v.dtype.kind in "iu" and (len(v) == 0 or info.min <= v.min() and v.max() <= info.max):
            bad = None  # two reductions, no masks
        elif v.dtype.kind in "iu":
            bad = (v < info.min) | (v > info.max)
        else:
            bad = np.zeros(len(v), dtype=bool)
        if bad is not None and nulls is not None:
            bad &= ~nulls
        if bad is not None and bad.any():
            _refuse_non_finite(v[bad][0], t, where)
            raise GengoError(
                f"{where}: a value ({v[bad][0]}) does not fit {t} ({info.min} to {info.max}): "
                "give the column a wider type or bound its values"
            )
        v = np.where(np.isfinite(v), v, 0).astype(np.int64) if v.dtype.kind == "f" else v.astype(np.int64, copy=False)
    elif pa.types.is_floating(t):
        v = v.astype(np.float64, copy=False)
    elif pa.types.is_date(t):
        v = v.astype("datetime64[D]", copy=False)
    elif pa.types.is_timestamp(t):
        us = v.astype("datetime64[us]", copy=False).view(np.int64)  # microseconds, as the type holds them
        return pa.array(us, mask=nulls, type=t)
    elif pa.types.is_string(t):
        return to_arrow(strategies._as_text(v), t, nulls, where)
    return pa.array(v, mask=nulls, type=t)


# --- compiling ---------------------------------------------------------------------------------


def compile_model(src: Source, spec: s.ModelFile) -> Model:
    cm = CompiledModel(spec.model, src, dict(spec.tables))
    c = _Checker(src, cm)
    c.check_rows()
    c.check_columns()
    order = c.order()
    tables = []
    for name in order:
        tspec = cm.tables[name]
        cols = []
        for cname, col in tspec.columns.items():
            if col.hidden:
                continue
            ref = cm.refs.get((name, cname))
            nullable = col.null_rate > 0 or col.null_when is not None or bool(_inherited_nullable(cm, name, cname))
            duplicated = tspec.quality is not None and tspec.quality.duplicates > 0  # its keys repeat too
            cols.append(
                Column(
                    cname,
                    cm.types[(name, cname)],
                    primary_key=col.primary_key and not duplicated,
                    references=f"{ref[0]}.{ref[1]}" if ref else None,
                    nullable=nullable,
                    doc=col.doc,
                )
            )
        tables.append(Table(name, tuple(cols), cm.build(name), doc=tspec.doc))
    counts = _RowCounts(cm, order)
    digest = hashlib.sha256(src.text.encode()).hexdigest()
    return Model(
        name=spec.model,
        aliases=(),
        description=spec.description or f"model file {src.name}",
        tables=tuple(tables),
        row_counts=counts,
        derive=counts.derive,
        file=ModelFileInfo(src.name, src.text, digest, source.to_json(src.data)),
        checks=tuple(Check(c.name, c.sql, c.doc) for c in spec.checks),
        quality_counts=(lambda seed, rows: quality.counts(cm, seed, rows)) if _has_quality(cm) else None,
        changes=_changes(cm),
    )


@dataclass(frozen=True)
class ModelFileInfo:
    path: str
    text: str  # as written (the manifest keeps it)
    sha256: str
    data: str = ""  # the parsed file as JSON: what workers compile (JSON parses in C, YAML resolves in Python)


# Columns that follow other rows (their parent, siblings, a looked-up value): never redrawn alone.
_NO_UPDATE = frozenset({"parent", "position", "siblings", "belongs_to", "lookup", "sequence"})


def _changes(cm: CompiledModel) -> dict[str, TableChanges]:
    out = {}
    for t, spec in cm.tables.items():
        ch = spec.changes
        if ch is not None and (ch.insert > 0 or ch.update or ch.delete > 0):
            rates = {c: u.rate if isinstance(u, s.Update) else u for c, u in ch.update.items()}
            moves = {
                c: {
                    value: tuple(targets.items() if isinstance(targets, dict) else ((v, 1.0) for v in targets))
                    for value, targets in u.moves.items()
                }
                for c, u in ch.update.items()
                if isinstance(u, s.Update) and u.moves
            }
            out[t] = TableChanges(ch.insert, rates, ch.delete, moves)
    return out


def _has_quality(cm: CompiledModel) -> bool:
    return any(
        spec.quality is not None or any(col.quality for col in spec.columns.values()) for spec in cm.tables.values()
    )


def _inherited_nullable(cm: CompiledModel, table: str, column: str, seen: frozenset = frozenset()) -> bool:
    col = cm.tables[table].columns[column]
    if isinstance(col, (s.Choice, s.Conditional, s.Constant)) and None in _listed_values(col):
        return True
    for dep in cm.inherits_nulls.get((table, column), ()):
        col = cm.tables[table].columns[dep]
        if (
            col.null_rate > 0
            or col.null_when is not None
            or ((table, dep) not in seen and _inherited_nullable(cm, table, dep, seen | {(table, column)}))
        ):
            return True
    if isinstance(cm.tables[table].columns[column], s.Lookup):
        via_name = cm.tables[table].columns[column].via
        via = cm.tables[table].columns[via_name]
        if (
            via.null_rate > 0
            or via.null_when is not None
            or ((table, via_name) not in seen and _inherited_nullable(cm, table, via_name, seen | {(table, column)}))
        ):
            return True
        col = cm.tables[table].columns[column]
        ref_table = cm.referenced_table(table, col.via)
        target = cm.tables[ref_table].columns[col.column]
        if (
            target.null_rate > 0
            or target.null_when is not None
            or _inherited_nullable(cm, ref_table, col.column, seen | {(table, column)})
        ):
            return True
    if isinstance(cm.tables[table].columns[column], s.BelongsTo):
        rows = cm.tables[cm.tables[table].columns[column].table].rows
        return isinstance(rows, s.Each) and rows.min == 0
    return False


def _listed_values(col: s.Choice | s.Conditional | s.Constant) -> list[Any]:
    if isinstance(col, s.Constant):
        return [col.value]
    return [v for vals in _value_groups(col) for v in strategies.value_list(vals, None)[0]]


def _value_groups(col: s.Choice | s.Conditional) -> list[s.Values]:
    """A choice's values, or a conditional's per case (and its default)."""
    if isinstance(col, s.Choice):
        return [col.values]
    return [*col.cases.values(), *([col.default] if col.default else [])]


class _RowCounts:
    """scale -> rows per table, following the count graph; ``derive`` recomputes the fan-outs."""

    def __init__(self, cm: CompiledModel, order: list[str]) -> None:
        self.cm = cm
        self.order = self._count_order(order)

    def _count_order(self, order: list[str]) -> list[str]:
        done: list[str] = []
        pending = list(order)
        while pending:
            for t in pending:
                r = self.cm.tables[t].rows
                dep = r.per if isinstance(r, s.Ratio) else r.each if isinstance(r, s.Each) else None
                if dep is None or dep in done:
                    done.append(t)
                    pending.remove(t)
                    break
            else:  # cycles were refused when checking
                raise AssertionError(pending)
        return done

    def __call__(self, scale: int, seed: int) -> dict[str, int]:
        rows: dict[str, int] = {}
        for t in self.order:
            r = self.cm.tables[t].rows
            if r == "scale":
                rows[t] = max(1, int(scale))
            elif isinstance(r, int):
                rows[t] = r
            elif isinstance(r, s.Ratio):
                rows[t] = max(1, round(rows[r.per] * r.ratio))
            else:
                rows[t] = self.cm.fanout(t, seed, rows).total()
        return {t: rows[t] for t in self.cm.tables}

    def derive(self, rows: dict[str, int], seed: int, pinned: tuple[str, ...] = ()) -> dict[str, int]:
        """Counts that follow from others, parents first: ratio tables follow their (maybe
        overridden) table unless ``--rows`` pinned them; fan-outs always follow their parents."""
        out = dict(rows)
        for t in self.order:
            r = self.cm.tables[t].rows
            if isinstance(r, s.Each):
                out[t] = self.cm.fanout(t, seed, out).total()
            elif isinstance(r, s.Ratio) and t not in pinned:
                out[t] = max(1, round(out[r.per] * r.ratio))
        return {t: out[t] for t in self.order if isinstance(self.cm.tables[t].rows, (s.Each, s.Ratio))}


class _Checker:
    def __init__(self, src: Source, cm: CompiledModel) -> None:
        self.src, self.cm = src, cm

    def err(self, path: tuple, message: str) -> GengoError:
        if len(path) >= 3 and path[1] == "columns" and not message.startswith("table '"):
            message = f"{path[0]}.{path[2]}: {message}"  # the column, besides its line
        elif len(path) >= 1 and not message.startswith("table '") and f"'{path[0]}'" not in message:
            message = f"table '{path[0]}': {message}"
        return self.src.error(("tables", *path), message)

    def table_name(self, path: tuple, name: str, what: str = "table") -> str:
        if name not in self.cm.tables:
            close = difflib.get_close_matches(name, list(self.cm.tables), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; tables are {', '.join(self.cm.tables)}"
            raise self.err(path, f"no {what} '{name}'{hint}")
        return name

    def column_name(self, path: tuple, table: str, name: str) -> str:
        cols = self.cm.tables[table].columns
        if name not in cols:
            close = difflib.get_close_matches(name, list(cols), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; its columns are {', '.join(cols)}"
            raise self.err(path, f"table '{table}' has no column '{name}'{hint}")
        return name

    # --- row counts ----------------------------------------------------------------------------

    def check_rows(self) -> None:
        scale = [t for t, spec in self.cm.tables.items() if spec.rows == "scale"]
        if len(scale) != 1:
            where = ("tables", scale[1], "rows") if len(scale) > 1 else ("tables",)
            raise self.src.error(
                where,
                "exactly one table needs 'rows: scale' (the table --size grows; the others follow from it)"
                + (f", not {len(scale)}: {', '.join(scale)}" if scale else ""),
            )
        for t, spec in self.cm.tables.items():
            r = spec.rows
            if isinstance(r, s.Ratio):
                self.table_name((t, "rows", "per"), r.per)
            if isinstance(r, s.Each):
                self.table_name((t, "rows", "each"), r.each)
                if r.max < r.min:
                    raise self.err((t, "rows", "max"), f"max ({r.max}) is less than min ({r.min})")
                if r.max - r.min + 1 > 256:
                    raise self.err((t, "rows"), "at most 256 different child counts (max - min + 1 <= 256)")
                if r.weights is not None:
                    if len(r.weights) != r.max - r.min + 1:
                        raise self.err(
                            (t, "rows", "weights"),
                            f"{len(r.weights)} weights for the {r.max - r.min + 1} counts {r.min}..{r.max}",
                        )
                    if not np.isfinite(r.weights).all() or min(r.weights) < 0 or sum(r.weights) <= 0:
                        raise self.err((t, "rows", "weights"), "weights must be non-negative and not all zero")
        for t in self.cm.tables:  # cycles in the count graph
            seen = [t]
            r = self.cm.tables[t].rows
            while isinstance(r, (s.Ratio, s.Each)):
                nxt = r.per if isinstance(r, s.Ratio) else r.each
                if nxt in seen:
                    raise self.err((t, "rows"), f"row counts go round in a circle: {' -> '.join([*seen, nxt])}")
                seen.append(nxt)
                r = self.cm.tables[nxt].rows

    # --- columns -------------------------------------------------------------------------------

    def check_columns(self) -> None:
        for t, spec in self.cm.tables.items():
            if not any(not col.hidden for col in spec.columns.values()):
                raise self.err((t, "columns"), f"table '{t}' has no column to write")
            for c, col in spec.columns.items():
                self.check_column(t, c, col)
        for t, spec in self.cm.tables.items():
            for c in spec.columns:
                self.resolve_type(t, c, ())
        for t, spec in self.cm.tables.items():
            for c, col in spec.columns.items():
                self.check_fit(t, c, col)
            self.check_keys(t)
            self.check_quality(t)
        for t in self.cm.tables:
            self.check_changes(t)
        self.cm.zone_numbers = zones_only(self.cm)

    def check_column(self, t: str, c: str, col: s.ColumnBase) -> None:
        path = (t, "columns", c)
        spec = self.cm.tables[t]
        deps: set[tuple[str, str]] = set()
        local: list[str] = []
        if isinstance(col, s.Reference):
            self.table_name((*path, "table"), col.table)
            fixed = self.cm.tables[col.table].rows
            if col.table == t and col.null_rate == 0:
                raise self.err(
                    path,
                    "a reference to its own table points to an earlier row, and the first row has none: give it "
                    "a null_rate (the rows at the top of the hierarchy)",
                )
            if col.table == t and (col.unique or col.weights is not None):
                raise self.err(path, "a reference to its own table cannot be unique or weighted")
            if col.distinct_within_parent and (col.table == t or col.unique or not isinstance(spec.rows, s.Each)):
                raise self.err(
                    (*path, "distinct_within_parent"),
                    "distinct_within_parent needs a table of children (rows: {each: PARENT}) referencing another, "
                    "non-unique table",
                )
            if col.weights is not None:
                if not isinstance(fixed, int) or isinstance(fixed, bool):
                    raise self.err(
                        (*path, "weights"), f"weights need a fixed number of rows in '{col.table}' (rows: N)"
                    )
                if len(col.weights) != fixed:
                    raise self.err(
                        (*path, "weights"), f"{len(col.weights)} weights for the {fixed} rows of '{col.table}'"
                    )
                if not np.isfinite(col.weights).all() or min(col.weights) < 0 or sum(col.weights) <= 0:
                    raise self.err((*path, "weights"), "weights must be non-negative and not all zero")
            self.cm.refs[(t, c)] = (col.table, self.key_of((*path, "column"), col.table, col.column))
        elif isinstance(col, (s.Parent, s.Position)):
            if not isinstance(spec.rows, s.Each):
                raise self.err(
                    path, f"'{col.strategy}' needs the table's rows to be children: rows: {{each: PARENT, ...}}"
                )
            if isinstance(col, s.Parent):
                self.cm.refs[(t, c)] = (spec.rows.each, self.key_of((*path, "column"), spec.rows.each, col.column))
        elif isinstance(col, s.BelongsTo):
            self.table_name((*path, "table"), col.table)
            self.column_name((*path, "via"), t, col.via)
            child = self.cm.tables[col.table].rows
            via = spec.columns[col.via]
            if not isinstance(child, s.Each):
                raise self.err((*path, "table"), f"'{col.table}' must have rows: {{each: PARENT}} for belongs_to")
            if via.strategy not in _REFERENCE_LIKE:
                raise self.err(
                    (*path, "via"), f"'{col.via}' must be a reference (strategy reference, parent or belongs_to)"
                )
            via_table = self._via_table(t, col.via)
            if via_table != child.each:
                raise self.err(
                    (*path, "via"),
                    f"'{col.via}' points to '{via_table}', but the rows of '{col.table}' belong to '{child.each}'",
                )
            self.cm.refs[(t, c)] = (col.table, self.key_of((*path, "column"), col.table, col.column))
            local.append(col.via)
        elif isinstance(col, s.Lookup):
            self.column_name((*path, "via"), t, col.via)
            if spec.columns[col.via].strategy not in _REFERENCE_LIKE:
                raise self.err(
                    (*path, "via"), f"'{col.via}' must be a reference (strategy reference, parent or belongs_to)"
                )
            ref_table = self._via_table(t, col.via)
            self.column_name((*path, "column"), ref_table, col.column)
            local.append(col.via)
            deps.add((ref_table, col.column))
        elif isinstance(col, s.Template):
            parts = strategies.template_parts(col.template)
            for _, ref, _fmt, filters in parts:
                if ref is None:
                    continue
                if ref != "id" or "id" in spec.columns:
                    self.column_name((*path, "template"), t, ref)
                    local.append(ref)
                if _fmt is not None and not strategies.supported_format(_fmt):
                    raise self.err(
                        (*path, "template"),
                        f"format ':{_fmt}' is not supported: :0N pads whole numbers with zeros (N up to 30), "
                        ":.Nf writes N decimals (N up to 12)",
                    )
                for f in filters:
                    if f not in strategies._FILTERS:
                        raise self.err(
                            (*path, "template"), f"unknown filter '|{f}'; filters are lower, upper, title, ascii"
                        )
            self.cm.inherits_nulls[(t, c)] = tuple(x for x in local)
        elif isinstance(col, s.Expression):
            names = set(spec.columns) | {"id"}
            try:
                parsed = expressions.parse(col.expr, names)
            except GengoError as e:
                raise self.err((*path, "expr"), str(e)) from None
            self.cm.expressions[(t, c)] = parsed
            local.extend(n for n in parsed.names if n != "id" or "id" in spec.columns)
            self.cm.inherits_nulls[(t, c)] = tuple(n for n in parsed.nulls_from if n in spec.columns)
        elif isinstance(col, s.Conditional):
            self.column_name((*path, "by"), t, col.by)
            local.append(col.by)
        elif isinstance(col, s.Email):
            for which, ref in (("first", col.first or "first_name"), ("last", col.last or "last_name")):
                self.column_name((*path, which), t, ref)
                local.append(ref)
        elif isinstance(col, s.Address) and col.country_by:
            self.column_name((*path, "country_by"), t, col.country_by)
            if spec.columns[col.country_by].strategy not in _REFERENCE_LIKE:
                raise self.err((*path, "country_by"), f"'{col.country_by}' must be a reference column")
            ref = spec.columns[col.country_by]
            target = getattr(ref, "table", None) or (spec.rows.each if isinstance(spec.rows, s.Each) else None)
            parent = self.cm.tables.get(target)
            for name, other in parent.columns.items() if parent is not None else ():
                # The country is drawn as the referenced row's address would draw it: among the same shares.
                if isinstance(other, s.Address) and other.countries != col.countries:
                    raise self.err(
                        (*path, "country_by"),
                        f"country_by {col.country_by}: give this column the same 'countries' as {target}.{name} "
                        f"({other.countries or 'the default shares'}), or its addresses fall in other countries",
                    )
            local.append(col.country_by)
        elif isinstance(col, s.Person) and col.locales is not None:
            self.column_name((*path, "locales", "by"), t, col.locales.by)
            local.append(col.locales.by)
        elif isinstance(col, s.DateTime) and col.local_time_in is not None:
            self.column_name((*path, "local_time_in"), t, col.local_time_in)
            local.append(col.local_time_in)
        elif isinstance(col, s.Python):
            try:
                self.cm.functions[(t, c)] = strategies.LazyFunction(col.function)
            except GengoError as e:
                raise self.err((*path, "function"), str(e)) from None
            if col.type is None:
                raise self.err(path, "a python column needs its 'type'")
        if isinstance(col, s.Address) and col.countries:
            for code in col.countries:
                if code not in strategies.ADDRESS_COUNTRIES:
                    raise self.err(
                        (*path, "countries", code),
                        f"unknown country '{code}'; address countries are {', '.join(strategies.ADDRESS_COUNTRIES)}",
                    )
        if isinstance(col, (s.Person, s.Vocabulary)):
            from gengo.core import vocab

            locales = [((*path, "locale"), col.locale)]
            if isinstance(col, s.Person) and col.locales is not None:
                locales += [((*path, "locales", "cases", k), v) for k, v in col.locales.cases.items()]
            for where, locale in locales:
                if locale == "en_US":
                    continue
                try:
                    vocab.check_locale(locale)
                except ValueError as e:
                    raise self.err(where, str(e)) from None
        if isinstance(col, s.DateTime):
            for what in ("hours", "weekdays"):
                w = getattr(col, what)
                want = 24 if what == "hours" else 7
                if w is not None and (len(w) != want or min(w) < 0 or sum(w) <= 0):
                    raise self.err((*path, what), f"'{what}' needs {want} non-negative weights, not all zero")
            for what in ("start", "end"):
                try:
                    strategies.moment(getattr(col, what))
                except GengoError as e:
                    raise self.err((*path, what), str(e)) from None
            start, end = (strategies.moment(x).astype("datetime64[s]") for x in (col.start, col.end))
            if end <= start:
                raise self.err((*path, "end"), f"end ({col.end}) must be after start ({col.start})")
        if isinstance(col, (s.Choice, s.Conditional)):
            groups = _value_groups(col)
            for vals in groups:
                items, w = strategies.value_list(vals, getattr(col, "weights", None))
                if not np.isfinite(w).all():
                    raise self.err(path, "weights must be finite numbers")
                if not items:
                    raise self.err(path, "needs at least one value")
                if len(w) != len(items):
                    raise self.err((*path, "weights"), f"{len(items)} values but {len(w)} weights")
                if (w < 0).any() or w.sum() <= 0:
                    raise self.err(path, "weights must be non-negative and not all zero")
        if isinstance(col, s.Uniform):
            moments = [strategies.is_moment(col.min), strategies.is_moment(col.max)]
            numbers = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in (col.min, col.max)]
            if not (all(moments) or all(numbers)):
                raise self.err(path, "min and max must both be numbers, or both dates/timestamps")
            lo, hi = (
                (strategies.moment(col.min).astype("datetime64[s]"), strategies.moment(col.max).astype("datetime64[s]"))
                if all(moments)
                else (col.min, col.max)
            )
            if hi < lo:
                raise self.err((*path, "max"), f"max ({col.max}) is less than min ({col.min})")
            if all(numbers) and not all(np.isfinite([col.min, col.max])):
                raise self.err(path, "min and max must be finite numbers")
            if all(numbers) and isinstance(col.min, int) and isinstance(col.max, int) and col.max - col.min >= 1 << 62:
                raise self.err(path, "the range is too wide for uniform whole numbers (at most 2**62 values)")
        if isinstance(col, (s.Normal, s.LogNormal, s.Exponential, s.Geometric, s.Poisson)):
            numbers = [v for v in vars(col).values() if isinstance(v, float)]
            if not all(np.isfinite(numbers)):
                raise self.err(path, "parameters must be finite numbers")
            if col.min is not None and col.max is not None and col.min > col.max:
                raise self.err((*path, "max"), f"max ({col.max}) is less than min ({col.min})")
        if isinstance(col, s.Poisson) and col.mean > 1e12:
            raise self.err((*path, "mean"), "mean must be at most 1e12")
        for what in ("weights", "hours", "weekdays"):
            w = getattr(col, what, None)
            if w is not None and not np.isfinite(np.asarray(w, dtype=np.float64)).all():
                raise self.err((*path, what), "weights must be finite numbers")
        if col.null_when is not None:
            try:
                when = expressions.parse(col.null_when, set(spec.columns) | {"id"})
            except GengoError as e:
                raise self.err((*path, "null_when"), str(e)) from None
            if when.draws:
                raise self.err((*path, "null_when"), "null_when cannot draw random numbers: use null_rate for that")
            self.cm.null_when[(t, c)] = when
            local.extend(n for n in when.names if n in spec.columns)
        for ref in local:
            deps.add((t, ref))
        if isinstance(col, (s.Reference, s.Parent, s.BelongsTo)):
            deps.add(self.cm.refs[(t, c)])
        self.cm.deps[(t, c)] = deps

    def _via_table(self, t: str, via: str) -> str:
        col = self.cm.tables[t].columns[via]
        if (t, via) not in self.cm.refs:
            self.check_column(t, via, col)
        return self.cm.refs[(t, via)][0]

    def key_of(self, path: tuple, table: str, column: str | None) -> str:
        cols = self.cm.tables[table].columns
        if column is None:
            pk = [c for c, col in cols.items() if col.primary_key]
            if len(pk) != 1:
                raise self.err(
                    path[:-1],
                    f"table '{table}' has {'no' if not pk else 'a composite'} primary key: "
                    "name the referenced column ('column: ...')",
                )
            return pk[0]
        self.column_name(path, table, column)
        if not (cols[column].primary_key or cols[column].unique):
            raise self.err(path, f"'{table}.{column}' is not a primary key or unique column: a reference needs one")
        return column

    # --- types ---------------------------------------------------------------------------------

    def natural_type(self, t: str, c: str, col: s.ColumnBase, stack: tuple) -> pa.DataType:
        if isinstance(col, (s.Sequence, s.Geometric, s.Poisson, s.Position)):
            return pa.int64()
        if isinstance(col, s.Uniform):
            if strategies.is_moment(col.min):
                lo, hi = strategies.moment(col.min), strategies.moment(col.max)
                return pa.date32() if lo.dtype == hi.dtype == np.dtype("datetime64[D]") else TIMESTAMP
            return pa.int64() if isinstance(col.min, int) and isinstance(col.max, int) else pa.float64()
        if isinstance(col, (s.Normal, s.LogNormal, s.Exponential)):
            return pa.float64()
        if isinstance(col, (s.Choice, s.Conditional, s.Constant)):
            return _infer(_listed_values(col))
        if isinstance(col, s.Boolean):
            return pa.bool_()
        if isinstance(col, s.DateTime):
            return TIMESTAMP
        if isinstance(col, (s.Reference, s.Parent, s.BelongsTo)):
            rt, rc = self.cm.refs[(t, c)]
            return self.resolve_type(rt, rc, stack)
        if isinstance(col, s.Lookup):
            rt = self._via_table(t, col.via)
            return self.resolve_type(rt, col.column, stack)
        if isinstance(col, s.Expression):
            for dep in self.cm.expressions[(t, c)].names:
                if dep in self.cm.tables[t].columns:
                    self.resolve_type(t, dep, stack)
            return self.sample_type(t, c)
        if isinstance(col, s.Python):
            raise AssertionError("checked")
        return pa.string()

    def resolve_type(self, t: str, c: str, stack: tuple) -> pa.DataType:
        if (t, c) in self.cm.types:
            return self.cm.types[(t, c)]
        if (t, c) in stack:
            cycle = " -> ".join(f"{a}.{b}" for a, b in (*stack[stack.index((t, c)) :], (t, c)))
            raise self.err((t, "columns", c), f"columns depend on each other in a circle: {cycle}")
        stack = (*stack, (t, c))
        for dep in sorted(self.cm.deps.get((t, c), ())):
            if dep != (t, c):
                self.resolve_type(*dep, stack)
        col = self.cm.tables[t].columns[c]
        path = (t, "columns", c)
        if col.type is not None:
            try:
                declared = parse_type(col.type)
            except ValueError as e:
                raise self.err((*path, "type"), str(e)) from None
        else:
            declared = None
        if declared is not None and isinstance(col, s.Python):
            self.cm.types[(t, c)] = declared
            return declared
        natural = self.natural_type(t, c, col, stack)
        chosen = declared or natural
        # Anything can be written as text; otherwise the kinds must agree.
        if declared is not None and _kind(declared) not in (_kind(natural), "text"):
            raise self.err(
                (*path, "type"),
                f"strategy '{col.strategy}' gives {_kind(natural)} values ({_short(natural)}), which do not fit "
                f"type {col.type}",
            )
        self.cm.types[(t, c)] = chosen
        return chosen

    def sample_type(self, t: str, c: str) -> pa.DataType:
        """The type an expression gives, found by evaluating it on one row."""
        rows = {name: spec.rows if isinstance(spec.rows, int) else 1 for name, spec in self.cm.tables.items()}
        env = strategies.Env(self.cm, t, 0, rows, np.zeros(1, dtype=np.int64))
        try:
            value = env.value(c)
        except GengoError as e:
            raise self.err((t, "columns", c, "expr"), str(e)) from None
        except Exception as e:  # noqa: BLE001 - a user's expression may fail in any NumPy way
            raise self.err((t, "columns", c, "expr"), f"expression cannot be evaluated: {e}") from None
        if isinstance(value, pa.Array):
            return pa.string()
        arr = np.asarray(value)
        if arr.dtype.kind == "b":
            return pa.bool_()
        if arr.dtype.kind in "iu":
            return pa.int64()
        if arr.dtype.kind == "f":
            return pa.float64()
        if arr.dtype == np.dtype("datetime64[D]"):
            return pa.date32()
        if arr.dtype.kind == "M":
            return TIMESTAMP
        if arr.dtype.kind == "m":
            raise self.err((t, "columns", c, "expr"), "the expression gives a duration: use days_between(a, b)")
        raise self.err((t, "columns", c, "expr"), f"the expression gives values of an unsupported kind ({arr.dtype})")

    def check_fit(self, t: str, c: str, col: s.ColumnBase) -> None:
        path = (t, "columns", c)
        typ = self.cm.types[(t, c)]
        if isinstance(col, (s.Sequence,)) and not pa.types.is_integer(typ) and _kind(typ) != "text":
            raise self.err((*path, "type"), f"a sequence is a whole number, not {col.type}")

    def check_keys(self, t: str) -> None:
        spec = self.cm.tables[t]
        pk = [c for c, col in spec.columns.items() if col.primary_key]
        for c, col in spec.columns.items():
            path = (t, "columns", c)
            if col.primary_key and col.hidden:
                raise self.err(path, "a primary key column cannot be hidden")
            if col.primary_key and (col.null_rate > 0 or col.null_when is not None):
                raise self.err((*path, "null_rate"), "a primary key column cannot hold NULLs")
            if (col.unique or (col.primary_key and len(pk) == 1)) and not self.can_be_unique(t, c, col):
                raise self.err(
                    path,
                    f"'{c}' cannot be unique with strategy '{col.strategy}': use sequence, uuid, a template with "
                    "{id} or a unique column, a reference with unique: true, or uniform integers with unique: true",
                )
        if len(pk) > 1 and not any(self.can_be_unique(t, c, spec.columns[c]) for c in pk):
            strategies_used = {spec.columns[c].strategy for c in pk}
            if not ({"parent", "position"} <= strategies_used):
                raise self.err(
                    (t, "columns", pk[0]),
                    f"the composite key ({', '.join(pk)}) cannot be unique: use a parent column with a position "
                    "column, or make one of them unique",
                )

    def check_quality(self, t: str) -> None:
        spec = self.cm.tables[t]
        q = spec.quality
        if q is not None and q.duplicates > 0:
            for other, ospec in self.cm.tables.items():
                r = ospec.rows
                if isinstance(r, s.Each) and r.each == t:
                    raise self.err(
                        (t, "quality", "duplicates"), f"'{t}' has duplicates, so '{other}' cannot be its children"
                    )
                for c in ospec.columns:
                    if self.cm.refs.get((other, c), ("",))[0] == t:
                        raise self.err(
                            (t, "quality", "duplicates"),
                            f"'{t}' has duplicate rows (keys too), so {other}.{c} cannot reference it",
                        )
        if q is not None and q.late > 0:
            if q.late_column is None:
                raise self.err((t, "quality"), "late rows need 'late_column': the date or timestamp to move back")
            self.column_name((t, "quality", "late_column"), t, q.late_column)
            if _kind(self.cm.types[(t, q.late_column)]) != "time":
                raise self.err((t, "quality", "late_column"), f"'{q.late_column}' is not a date or timestamp")
        for c, col in spec.columns.items():
            cq = col.quality
            if cq is None:
                continue
            kind = _kind(self.cm.types[(t, c)])
            path = (t, "columns", c, "quality")
            if col.hidden or col.primary_key or (t, c) in self.cm.refs:
                raise self.err(
                    path, "quality defects go on written value columns, not keys, references or hidden columns"
                )
            if cq.outliers > 0 and kind != "number":
                raise self.err((*path, "outliers"), "outliers need a numeric column")
            if (cq.whitespace > 0 or cq.case > 0) and kind != "text":
                raise self.err(path, "whitespace and case defects need a text column")
            if cq.out_of_domain > 0 and not isinstance(col, (s.Choice, s.Conditional)):
                raise self.err((*path, "out_of_domain"), "out-of-domain values need a choice or conditional column")
            if col.null_rate == 0 and _inherited_nullable(self.cm, t, c):
                raise self.err(path, "quality defects on a column that inherits NULLs from others are not supported")

    def check_changes(self, t: str) -> None:
        """Changes (``gen --batches``) that keep every foreign key resolving in every snapshot."""
        spec = self.cm.tables[t]
        ch = spec.changes
        if ch is None:
            return
        path = (t, "changes")
        if spec.quality is not None or any(col.quality for col in spec.columns.values()):
            raise self.err(path, "a table with quality defects cannot have changes")
        if ch.insert > 0 and isinstance(spec.rows, s.Each):
            raise self.err(
                (*path, "insert"), f"rows of '{t}' arrive with their parent's ('{spec.rows.each}'): no insert"
            )
        if (ch.update or ch.delete > 0) and not any(col.primary_key for col in spec.columns.values()):
            raise self.err(path, f"updates and deletes need a primary key in '{t}'")
        for c in ch.update:
            self.column_name((*path, "update", c), t, c)
            col = spec.columns[c]
            if col.primary_key or col.unique or col.hidden or (t, c) in self.cm.refs or col.strategy in _NO_UPDATE:
                raise self.err(
                    (*path, "update", c), f"'{c}' cannot be updated: keys, unique, hidden and reference columns stay"
                )
            readers = [o for o in spec.columns if (t, c) in self.cm.deps.get((t, o), set()) and o != c]
            if readers:
                raise self.err((*path, "update", c), f"'{c}' cannot be updated: '{readers[0]}' is computed from it")
            reads = sorted(o for tt, o in self.cm.deps.get((t, c), set()) if (tt, o) != (t, c))
            if isinstance(col, s.Python):  # its function may read any column of the row
                reads = reads or ["the row's other columns"]
            if isinstance(col, (s.Expression, s.Python, s.Conditional)) and reads:
                # A redraw regenerates the row's other columns too: the new value would follow
                # values the row does not hold (a thermometer's reading drawn as a hygrometer's).
                raise self.err(
                    (*path, "update", c),
                    f"'{c}' cannot be updated: it is computed from '{reads[0]}' (a batch's new value would not "
                    "follow the row's); update a column drawn on its own",
                )
            up = ch.update[c]
            if isinstance(up, s.Update) and up.moves:
                if not isinstance(col, s.Choice) or self.cm.types[(t, c)] != pa.string():
                    raise self.err((*path, "update", c, "moves"), "moves need a choice column of text values")
                known = set(col.values)
                for value, targets in up.moves.items():
                    for v in (value, *targets):
                        if v not in known:
                            raise self.err(
                                (*path, "update", c, "moves", value), f"'{v}' is not one of the values of '{c}'"
                            )
        if ch.delete > 0:
            for other, ospec in self.cm.tables.items():
                r = ospec.rows
                if isinstance(r, s.Each) and r.each == t:
                    raise self.err((*path, "delete"), f"'{t}' rows cannot be deleted: '{other}' holds their children")
                for c in ospec.columns:
                    if self.cm.refs.get((other, c), ("",))[0] == t:
                        raise self.err((*path, "delete"), f"'{t}' rows cannot be deleted: {other}.{c} references them")

    def can_be_unique(self, t: str, c: str, col: s.ColumnBase) -> bool:
        if col.strategy in _UNIQUE_CAPABLE:
            return True
        if isinstance(col, (s.Reference, s.Uniform)):
            return col.unique and (not isinstance(col, s.Uniform) or pa.types.is_integer(self.cm.types[(t, c)]))
        if isinstance(col, s.Template):
            spec = self.cm.tables[t]
            for _, ref, _, _ in strategies.template_parts(col.template):
                if ref == "id" and "id" not in spec.columns:
                    return True
                keyed = ref in spec.columns and (
                    (spec.columns[ref].primary_key and self._single_pk(t)) or spec.columns[ref].unique
                )
                if keyed and self.can_be_unique(t, ref, spec.columns[ref]):
                    return True
            return False
        if isinstance(col, s.Expression):
            return False
        return False

    def _single_pk(self, t: str) -> bool:
        return sum(col.primary_key for col in self.cm.tables[t].columns.values()) == 1

    # --- table order ---------------------------------------------------------------------------

    def order(self) -> list[str]:
        """Tables in dependency order (file order where free); required references may not form a cycle."""
        names = list(self.cm.tables)
        needs: dict[str, set[str]] = {t: set() for t in names}
        for t, spec in self.cm.tables.items():
            r = spec.rows
            if isinstance(r, s.Each):
                needs[t].add(r.each)
            for c, col in spec.columns.items():
                if (t, c) in self.cm.refs and col.null_rate == 0:
                    other = self.cm.refs[(t, c)][0]
                    if other != t:
                        needs[t].add(other)
        order: list[str] = []
        pending = list(names)
        while pending:
            ready = [t for t in pending if needs[t] <= set(order)]
            if not ready:
                cycle = _find_cycle(needs, pending)
                raise self.err(
                    (cycle[0],),
                    f"required references go round in a circle: {' -> '.join(cycle)}; make one of them nullable "
                    "(null_rate > 0) to break it",
                )
            order.append(ready[0])
            pending.remove(ready[0])
        return order


def _find_cycle(needs: dict[str, set[str]], pending: list[str]) -> list[str]:
    start = pending[0]
    path = [start]
    while True:
        nxt = sorted(n for n in needs[path[-1]] if n in pending)[0]
        if nxt in path:
            return [*path[path.index(nxt) :], nxt]
        path.append(nxt)


def _infer(items: list[Any]) -> pa.DataType:
    vals = [v for v in items if v is not None]
    if vals and all(isinstance(v, bool) for v in vals):
        return pa.bool_()
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return pa.int64()
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return pa.float64()
    import datetime as dt

    if vals and all(isinstance(v, dt.datetime) for v in vals):
        return TIMESTAMP
    if vals and all(isinstance(v, dt.date) for v in vals):
        return pa.date32()
    return pa.string()


def _short(t: pa.DataType) -> str:
    return "timestamp" if pa.types.is_timestamp(t) else str(t)
