"""A source schema -> a model file: keys, references, row counts and a strategy per column.

Decisions, in order of precedence for a column: a key (a single primary key is a sequence, uuid or
unique code; a composite key is made unique by construction through one member, or is a
parent + position pair), a foreign key (a reference; the other columns of a composite foreign key
are lookups through it, so the pair exists in the parent), an enum or a CHECK ... IN list (a
choice), statistics when asked for (most common values, histogram bounds), a name heuristic
(marked ``guessed:``), and the type's default. CHECK ranges and the type's capacity (integer
width, decimal digits, varchar length) bound every choice, so the rows load back into the source.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from sqlglot import exp

from gengo.core.errors import GengoError
from gengo.importers.schema import ColumnStats, ForeignKey, SourceColumn, SourceSchema, SourceTable
from gengo.importers.types import TypeInfo, classify

DEFAULT_NULL_RATE = 0.05  # a nullable column without statistics
CYCLE_NULL_RATE = 0.01  # the least a nullable reference keeps when it breaks a cycle
DIM_RATIO = 0.1  # without statistics: each hop away from the scale table has a tenth of the rows
EMAIL_MAX = 47  # first (11) . last (11) row id (12 digits) @ domain (11)
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_POSITION = re.compile(
    r"(^|_)(line|line_?no|line_?num(ber)?|seq|seq_?no|sequence|position|pos|idx|index|ordinal|rank|item_?no|step|"
    r"version|revision|attempt|part_?no|sort_order|no|num)$"
)
_KEYISH = re.compile(r"(^|_)(number|num|no|id|key|code|seq|sk)$")
_PERSON_TABLES = re.compile(
    r"(user|customer|client|employee|person|people|member|staff|author|patient|student|contact)"
)
_ORG_TABLES = re.compile(r"(compan|organi[sz]ation|vendor|supplier|account|business|merchant|partner|store|shop)")


@dataclass
class Options:
    stats: bool = False
    sample_rows: int | None = None


@dataclass
class OutColumn:
    name: str
    spec: dict[str, Any]
    comment: str = ""
    guessed: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class OutTable:
    name: str
    rows: Any
    columns: list[OutColumn]
    helpers: list[OutColumn] = field(default_factory=list)  # hidden columns other columns read
    notes: list[str] = field(default_factory=list)
    source_rows: float | None = None


@dataclass
class Mapped:
    tables: list[OutTable]
    scale: str
    summary: dict[str, Any]


# --- pools: the longest value each strategy can write ---------------------------------------


@cache
def _pool(what: str) -> list[str]:
    from gengo.core import vocab

    if what in ("first", "last"):
        return vocab.locale_names("en_US", what).values.to_pylist()
    if what == "company":
        return vocab.company_names().to_pylist()
    if what == "country_name":
        return vocab.countries().to_pylist()
    if what in ("city", "region", "postcode", "street_names", "tail"):
        return getattr(vocab.address_pools(), what).to_pylist()
    if what == "address_country":
        return vocab.address_pools().countries.to_pylist()
    if what == "states_abbr":
        from faker.providers.address.en_US import Provider

        return list(Provider.states_abbr)
    if what == "alpha_2":
        from faker.providers.address import Provider

        return list(Provider.alpha_2_country_codes)
    return vocab.locale_pool("en_US", what).to_pylist()


def _longest(what: str) -> int:
    return max(len(v) for v in _pool(what))


_MAX_LEN = {
    "first_name": lambda: _longest("first"),
    "last_name": lambda: _longest("last"),
    "full_name": lambda: _longest("first") + 1 + _longest("last"),
    "company": lambda: _longest("company"),
    "job_title": lambda: _longest("job"),
    "phone": lambda: _longest("phone_number"),
    "word": lambda: _longest("word"),
    "sentence": lambda: _longest("sentence"),
    "paragraph": lambda: 3 * _longest("sentence") + 2 * 12,
    "country_name": lambda: _longest("country_name"),
    "uuid": lambda: 36,
    "email": lambda: EMAIL_MAX,
}
_ADDRESS_LEN = {
    "city": lambda: _longest("city"),
    "state": lambda: _longest("region"),
    "postcode": lambda: _longest("postcode"),
    "country": lambda: _longest("address_country"),
    "street": lambda: 5 + 1 + _longest("street_names"),
    "line": lambda: 5 + 1 + _longest("street_names") + 2 + _longest("tail"),
}


def max_length(spec: dict[str, Any]) -> int | None:
    """The longest text ``spec`` writes (None: unbounded or not a text strategy)."""
    s = spec["strategy"]
    if s == "address":
        return _ADDRESS_LEN[spec["part"]]()
    if s in _MAX_LEN:
        return _MAX_LEN[s]()
    if s == "choice":
        return max(len(str(v)) for v in spec["values"])
    return None


def _fitting(what: str, n: int, k: int = 24) -> list[str]:
    return list(dict.fromkeys(v for v in _pool(what) if len(v) <= n))[:k]


# --- the mapper ---------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _has(snake: str, pattern: str) -> bool:
    return re.search(rf"(?:^|_)(?:{pattern})(?:_|$)", snake) is not None


def _helper(column: str, suffix: str) -> str:
    return f"{column[: 60 - len(suffix)]}__{suffix}"


class Mapper:
    def __init__(self, schema: SourceSchema, options: Options) -> None:
        self.schema, self.options = schema, options
        self.tables = {t.name: t for t in schema.tables}
        self.types: dict[tuple[str, str], TypeInfo] = {}
        self.notes: list[str] = list(schema.notes)
        self.counts = {"guessed": {}, "fallback": 0, "checks": 0, "checks_skipped": 0, "fks": 0, "fks_dropped": 0}
        for t in schema.tables:
            for name, what in ((t.name, "table"), *((c.name, f"column of {t.name}") for c in t.columns)):
                if not _NAME_OK.match(name):
                    raise GengoError(
                        f"{what} '{name}': the model language needs names of letters, digits and _ (at most 63); "
                        "rename it in the source DDL or import a copy"
                    )
            for c in t.columns:
                self.types[(t.name, c.name)] = classify(c.type, schema.dialect, f"{t.name}.{c.name}", c.enum)
        self._drop_foreign_keys()
        for t in schema.tables:  # CHECK (length(c) <= n) bounds text like varchar(n)
            for check in t.checks:
                for part in _conjuncts(check):
                    got = _simple_check(part)
                    if got is not None and got[1] == "maxlen" and t.column(got[0]) is not None:
                        ti = self.types[(t.name, got[0])]
                        if ti.kind == "string":
                            n = got[2] if ti.length is None else min(ti.length, got[2])
                            self.types[(t.name, got[0])] = replace(ti, length=max(n, 1))

    def _drop_foreign_keys(self) -> None:
        """Foreign keys to tables that were not read (another schema) cannot be generated: dropped, noted."""
        for t in self.schema.tables:
            kept = []
            for fk in t.foreign_keys:
                target = self.tables.get(fk.table)
                ref_cols = fk.ref_columns or (target.primary_key if target else [])
                if target is None or len(ref_cols) != len(fk.columns):
                    self.counts["fks_dropped"] += 1
                    self.notes.append(
                        f"{t.name}({', '.join(fk.columns)}) -> {fk.table}: foreign key dropped "
                        f"({'table not imported' if target is None else 'no matching key'})"
                    )
                    continue
                kept.append(ForeignKey(fk.columns, fk.table, list(ref_cols)))
            t.foreign_keys = kept

    # --- structure -------------------------------------------------------------------------------

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {t: set() for t in self.tables}
        for t in self.schema.tables:
            for fk in t.foreign_keys:
                if fk.table != t.name:
                    out[t.name].add(fk.table)
        return out

    def scale_table(self) -> str:
        """The fact table: referenced by no other table, referencing the most (ties: more columns, then
        more rows when known, then file order)."""
        edges = self.edges()
        referenced = {p for t, ps in edges.items() for p in ps}
        candidates = [t for t in self.schema.tables if t.name not in referenced] or list(self.schema.tables)
        return max(candidates, key=lambda t: (len(edges[t.name]), t.rows or 0, len(t.columns))).name

    def map(self) -> Mapped:
        self.scale = self.scale_table()
        self.plan_keys()
        while self.scale in self.each:  # the fact table's rows are children: its parent grows with --size
            self.scale = self.each[self.scale][0]
        self.plan_references()
        self.check_required_cycles()
        out = [self.map_table(t) for t in self.schema.tables]
        self.plan_rows(out)
        self.break_nullable_cycles(out)
        return Mapped(out, self.scale, self.counts)

    # keys: which column makes each key unique -----------------------------------------------------

    def plan_keys(self) -> None:
        self.key: dict[tuple[str, str], str] = {}  # column -> sequence | uuid | code | unique_ref | parent | position
        self.unique: set[tuple[str, str]] = set()  # columns the model marks unique: true
        self.pk: set[tuple[str, str]] = set()
        self.each: dict[str, tuple[str, str]] = {}  # table -> (parent table, parent column)
        self.unique_fk: dict[str, list[ForeignKey]] = {}  # table -> foreign keys whose reference must be unique
        for t in self.schema.tables:
            fk_cols = {c for fk in t.foreign_keys for c in fk.columns}
            pk = [c for c in t.primary_key if t.column(c) is not None]
            for c in pk:
                self.pk.add((t.name, c))
            if len(pk) == 1:
                self.single_key(t, pk[0], fk_cols, primary=True)
            elif len(pk) > 1 and not self.try_each(t, pk, fk_cols):
                self.make_unique(t, pk, fk_cols, "primary key")
            for group in t.uniques:
                group = [c for c in group if t.column(c) is not None]
                if not group or group == pk:
                    continue
                if len(group) == 1:
                    if (t.name, group[0]) not in self.unique:
                        self.single_key(t, group[0], fk_cols, primary=False)
                elif not any((t.name, c) in self.unique or (len(pk) == 1 and c == pk[0]) for c in group):
                    self.make_unique(t, group, fk_cols, "unique constraint")

    def single_key(self, t: SourceTable, c: str, fk_cols: set[str], primary: bool) -> None:
        ti = self.types[(t.name, c)]
        where = (t.name, c)
        if not primary:
            self.unique.add(where)
        if c in fk_cols:
            fk = next(fk for fk in t.foreign_keys if c in fk.columns)
            self.key[where] = "unique_ref"
            self.unique_fk.setdefault(t.name, []).append(fk)
            self.unique.add(where)
            return
        if ti.kind == "int" or (ti.kind == "decimal" and ti.scale == 0):
            self.key[where] = "sequence"
        elif ti.kind == "uuid" or (ti.kind == "string" and (ti.length or 36) >= 36 and _has(_snake(c), "uuid|guid")):
            self.key[where] = "uuid"
        elif ti.kind == "string" and _has(_snake(c), "email|e_mail|email_address") and (ti.length or 99) >= EMAIL_MAX:
            self.key[where] = "email"  # unique by construction (the row id is part of it)
        elif ti.kind == "string":
            self.key[where] = "code"
        else:
            self.unique.discard(where)
            if primary:
                self.pk.discard(where)
            self.notes.append(
                f"{t.name}.{c}: a {'primary key' if primary else 'unique'} column of type {ti.model_type} cannot be "
                "unique in the model language (no unique strategy for it); generated without the key"
            )

    def try_each(self, t: SourceTable, pk: list[str], fk_cols: set[str]) -> bool:
        """(parent key, position) keys: the table's rows are children of the parent's (rows: each)."""
        for fk in t.foreign_keys:
            if len(fk.columns) != 1 or fk.columns[0] not in pk or fk.table == t.name:
                continue
            parent = self.tables[fk.table]
            target = fk.ref_columns[0]
            if not (parent.primary_key == [target] or [target] in parent.uniques):
                continue
            for c in pk:
                ti = self.types[(t.name, c)]
                if c != fk.columns[0] and c not in fk_cols and ti.kind == "int" and _POSITION.search(_snake(c)):
                    self.each[t.name] = (fk.table, target)
                    self.key[(t.name, fk.columns[0])] = "parent"
                    self.key[(t.name, c)] = "position"
                    return True
        return False

    def make_unique(self, t: SourceTable, group: list[str], fk_cols: set[str], what: str) -> None:
        """A composite key is unique when one member is: pick the member that can be."""

        def rank(c: str) -> tuple:
            ti = self.types[(t.name, c)]
            single_fk = any(fk.columns == [c] for fk in t.foreign_keys)
            if c not in fk_cols and ti.kind == "int":
                return (0, not _KEYISH.search(_snake(c)), -group.index(c))
            if c not in fk_cols and ti.kind in ("uuid", "string"):
                return (1, 0, -group.index(c))
            if single_fk:
                return (2, 0, -group.index(c))
            if c in fk_cols:
                return (3, 0, -group.index(c))
            return (9, 0, 0)

        best = min(group, key=rank)
        level = rank(best)[0]
        where = (t.name, best)
        cols = ", ".join(group)
        if level == 9:
            self.notes.append(f"{t.name}: the {what} ({cols}) cannot be made unique in the model language; not kept")
            if what == "primary key":
                for c in group:
                    self.pk.discard((t.name, c))
            return
        if level == 0:
            self.key[where] = "sequence"
        elif level == 1:
            self.key[where] = "uuid" if self.types[where].kind == "uuid" else "code"
        else:
            fk = next(fk for fk in t.foreign_keys if best in fk.columns)
            self.unique_fk.setdefault(t.name, []).append(fk)
            self.key[where] = "unique_ref"
        self.unique.add(where)
        self.key_notes = getattr(self, "key_notes", {})
        self.key_notes[where] = f"the {what} ({cols}) is unique because {best} is"

    # references ----------------------------------------------------------------------------------

    def plan_references(self) -> None:
        """Each foreign key: one member references the parent's key, the others look up the same row."""
        self.refs: dict[tuple[str, str], tuple[str, str, str]] = {}  # column -> (reference|lookup, table, column)
        for t in self.schema.tables:
            for fk in t.foreign_keys:
                target = self.tables[fk.table]
                keyed = [
                    i
                    for i, rc in enumerate(fk.ref_columns)
                    if (fk.table, rc) in self.pk or (fk.table, rc) in self.unique
                ]
                if len(fk.columns) == 1 and (fk.table, fk.ref_columns[0]) in self.pk:
                    pk = [c for c in target.primary_key if (fk.table, c) in self.pk]
                    keyed = [0] if len(pk) == 1 or len(pk) > 1 else keyed
                if not keyed:
                    self.counts["fks_dropped"] += 1
                    self.notes.append(
                        f"{t.name}({', '.join(fk.columns)}) -> {fk.table}({', '.join(fk.ref_columns)}): the referenced "
                        "columns are not a key the model can generate; foreign key not kept"
                    )
                    continue
                # the member the parent makes unique by itself, else the first keyed one
                i = next((i for i in keyed if (fk.table, fk.ref_columns[i]) in self.unique), keyed[0])
                if any(self.refs.get((t.name, c)) for c in fk.columns):
                    self.notes.append(
                        f"{t.name}({', '.join(fk.columns)}) -> {fk.table}: a column is in two foreign keys; "
                        "only the first is generated"
                    )
                    continue
                self.counts["fks"] += 1
                lead = fk.columns[i]
                self.refs[(t.name, lead)] = ("reference", fk.table, fk.ref_columns[i])
                for j, c in enumerate(fk.columns):
                    if j != i:
                        self.refs[(t.name, c)] = ("lookup", lead, fk.ref_columns[j])

    def check_required_cycles(self) -> None:
        """NOT NULL references going round: no table can be written (or loaded) first."""
        needs: dict[str, dict[str, str]] = {t: {} for t in self.tables}
        for (t, c), (kind, other, _) in self.refs.items():
            col = self.tables[t].column(c)
            if kind == "reference" and other != t and col is not None and not col.nullable:
                needs[t].setdefault(other, f"{t}.{c}")
        for t, (p, _) in self.each.items():
            needs[t].setdefault(p, f"{t} (children of {p})")
        state: dict[str, int] = {}
        stack: list[str] = []

        def visit(t: str) -> list[str] | None:
            state[t] = 1
            stack.append(t)
            for p in sorted(needs[t]):
                if state.get(p) == 1:
                    return stack[stack.index(p) :] + [p]
                if p not in state:
                    found = visit(p)
                    if found:
                        return found
            stack.pop()
            state[t] = 2
            return None

        for t in needs:
            if t not in state:
                cycle = visit(t)
                if cycle:
                    path = " -> ".join(needs[a][b] for a, b in zip(cycle, cycle[1:], strict=False)) + f" -> {cycle[0]}"
                    raise GengoError(
                        f"required foreign keys go round in a circle: {path}; every column on it is NOT NULL, so no "
                        "table can be written first (make one of them nullable in the source)"
                    )

    # checks ---------------------------------------------------------------------------------------

    def check_bounds(self, t: SourceTable) -> dict[str, tuple[Any, Any, list | None]]:
        """CHECK constraints as (low, high, allowed values) per column; what is not a simple range or IN
        list is noted (the generated values may break it)."""
        cache = getattr(self, "_bounds_cache", None)
        if cache is None:
            cache = self._bounds_cache = {}
        if t.name in cache:
            return cache[t.name]
        out: dict[str, list] = {}
        skipped: list[str] = []
        for check in t.checks:
            for part in _conjuncts(check):
                got = _simple_check(part)
                if got is None or t.column(got[0]) is None:
                    skipped.append(part.sql(self.schema.dialect))
                    continue
                ti = self.types[(t.name, got[0])]
                if got[1] == "maxlen":  # applied to the column's type (length) in __init__
                    self.counts["checks"] += 1
                    continue
                for col, op, value in _expand(got):
                    bound = out.setdefault(col, [None, None, None])
                    if op == "in":
                        bound[2] = value if bound[2] is None else [v for v in bound[2] if v in value]
                        continue
                    if op == "=":
                        bound[2] = [value]
                        continue
                    v = _bound_value(value, ti)
                    if v is None:
                        skipped.append(part.sql(self.schema.dialect))
                        break
                    if op in (">", ">="):
                        v = _strict(v, ti, +1) if op == ">" else v
                        bound[0] = v if bound[0] is None else max(bound[0], v)
                    else:
                        v = _strict(v, ti, -1) if op == "<" else v
                        bound[1] = v if bound[1] is None else min(bound[1], v)
                self.counts["checks"] += 1
        for text in skipped:
            self.counts["checks_skipped"] += 1
            self.notes.append(
                f"{t.name}: CHECK ({text}) is not a simple range or IN list: not mapped, rows may break it"
            )
        cache[t.name] = {c: tuple(v) for c, v in out.items()}
        return cache[t.name]

    # tables and columns ---------------------------------------------------------------------------

    def map_table(self, t: SourceTable) -> OutTable:
        out = OutTable(t.name, None, [], source_rows=t.rows)
        self.current = out
        self.bounds = self.check_bounds(t)
        stats_by_col = self.sample_stats(t)
        for c in t.columns:
            out.columns.append(self.map_column(t, c, stats_by_col.get(c.name)))
        return out

    def sample_stats(self, t: SourceTable) -> dict[str, ColumnStats]:
        """Catalog statistics per column, else what the sampled rows show (only with --sample-rows)."""
        out: dict[str, ColumnStats] = {}
        for c in t.columns:
            if c.stats is not None:
                out[c.name] = c.stats
            elif t.sample:
                out[c.name] = _stats_from_sample([row.get(c.name) for row in t.sample])
        return out

    def map_column(self, t: SourceTable, c: SourceColumn, stats: ColumnStats | None) -> OutColumn:
        where = (t.name, c.name)
        ti = self.types[where]
        col = OutColumn(c.name, {}, comment=c.type_text + ("" if c.nullable else " NOT NULL"))
        key = self.key.get(where)
        ref = self.refs.get(where)
        spec: dict[str, Any]
        if key == "parent":
            spec = {"strategy": "parent"}
            parent_table, parent_col = self.each[t.name]
            if self.tables[parent_table].primary_key != [parent_col]:
                spec["column"] = parent_col
        elif key == "position":
            spec = {"strategy": "position"}
        elif ref is not None and ref[0] == "reference":
            spec = {"strategy": "reference", "table": ref[1]}
            target = self.tables[ref[1]]
            if target.primary_key != [ref[2]] or len([k for k in target.primary_key if (ref[1], k) in self.pk]) != 1:
                spec["column"] = ref[2]
            if key == "unique_ref":
                spec["unique"] = True
            if ref[1] == t.name:
                col.notes.append("a self-reference points to an earlier row; the first rows are NULL")
                if not c.nullable:
                    col.notes.append("NOT NULL in the source, but the top of a hierarchy has no parent in the model")
        elif ref is not None:
            spec = {"strategy": "lookup", "via": ref[1], "column": ref[2]}
            col.notes.append(f"with {ref[1]}, part of a composite foreign key: the same parent row")
        elif key == "sequence":
            lo, hi, _ = self.bounds.get(c.name, (None, None, None))
            if lo is not None and hi is not None and ti.kind == "int":
                spec = {"strategy": "uniform", "min": int(lo), "max": int(hi), "unique": True}
                col.notes.append(f"unique within the CHECK range: at most {int(hi) - int(lo) + 1} rows")
            else:
                spec = {"strategy": "sequence"}
                if lo is not None and int(lo) > 1:
                    spec["start"] = int(lo)
                if ti.kind == "decimal":
                    ti = TypeInfo("int", "int64")
                    col.notes.append(f"a key of type {c.type_text} written as whole numbers (int64)")
        elif key == "uuid":
            spec = {"strategy": "uuid"}
        elif key == "code":
            spec = self.code(t, c.name, ti, unique=True)
        elif key == "email":
            spec = self.email_spec(t, c.name)
            col.guessed = "an email address (unique with the row id)"
        else:
            spec = self.value_strategy(t, c, ti, stats, col)
        if where in self.pk:
            spec["primary_key"] = True
        if where in self.unique and spec["strategy"] not in ("sequence", "uuid", "email", "parent", "position"):
            spec["unique"] = True
        if where in getattr(self, "key_notes", {}):
            col.notes.append(self.key_notes[where])
        spec["type"] = ti.model_type
        if c.nullable and where not in self.pk and spec["strategy"] not in ("lookup", "parent", "position"):
            rate = DEFAULT_NULL_RATE
            if stats is not None and stats.null_frac is not None:
                rate = round(float(stats.null_frac), 4)
            if ref is not None and ref[1] == t.name:
                rate = max(rate, CYCLE_NULL_RATE)
            if rate > 0:
                spec["null_rate"] = rate
        col.spec = spec
        return col

    def code(self, t: SourceTable, name: str, ti: TypeInfo, unique: bool) -> dict[str, Any]:
        """A code from the row number, zero-padded to the column's width: unique, and it fits."""
        n = ti.length
        width = min(n, 18) if n is not None and n <= 18 else 10
        if any(c.name == "id" for c in t.columns):  # {id} would read that column: number rows explicitly
            helper = _helper(name, "n")
            self.current.helpers.append(OutColumn(helper, {"strategy": "sequence", "unique": True, "hidden": True}))
            ref = helper
        else:
            ref = "id"
        if unique and n is not None and n < 7:
            self.notes.append(f"{t.name}.{name}: codes of {n} characters hold at most {10**n - 1:,} distinct rows")
        return {"strategy": "template", "template": f"{{{ref}:0{width}}}"}

    def hidden(self, name: str, suffix: str, spec: dict[str, Any]) -> str:
        helper = _helper(name, suffix)
        self.current.helpers.append(OutColumn(helper, {**spec, "hidden": True}))
        return helper

    # value columns -------------------------------------------------------------------------------

    def value_strategy(
        self, t: SourceTable, c: SourceColumn, ti: TypeInfo, stats: ColumnStats | None, col: OutColumn
    ) -> dict[str, Any]:
        lo, hi, allowed = self.bounds.get(c.name, (None, None, None))
        if c.enum is not None:
            values = [v for v in c.enum if allowed is None or v in allowed]
            return self.weighted_choice(values, stats, ti)
        if allowed is not None:
            values = [_typed(v, ti) for v in allowed]
            col.notes.append("values from the CHECK ... IN list")
            return self.weighted_choice(values, stats, ti)
        if stats is not None:
            spec = self.from_stats(ti, stats, lo, hi)
            if spec is not None:
                col.notes.append("from the source's statistics")
                return spec
        fallback = self.fallback(t, c.name, ti)
        if fallback is not None:
            return fallback
        spec, guess = self.guess(t, c.name, ti)
        if guess:
            col.guessed = guess
            self.counts["guessed"][guess] = self.counts["guessed"].get(guess, 0) + 1
        return self.bounded(spec, ti, lo, hi, col)

    def weighted_choice(self, values: list, stats: ColumnStats | None, ti: TypeInfo) -> dict[str, Any]:
        if not values:
            raise GengoError("a CHECK ... IN list and the column's type allow no value")
        spec: dict[str, Any] = {"strategy": "choice", "values": values}
        if stats is not None and stats.common_values:
            freq = dict(zip(stats.common_values, stats.common_freqs or [], strict=False))
            rest = max(0.0, 1.0 - sum(freq.values()))
            other = [v for v in values if str(v) not in freq]
            w = [round(freq.get(str(v), rest / len(other) if other else 0.0), 6) for v in values]
            if sum(w) > 0:
                spec["weights"] = w
        return spec

    def from_stats(self, ti: TypeInfo, st: ColumnStats, lo: Any, hi: Any) -> dict[str, Any] | None:
        """Most common values that cover the column -> a weighted choice; else histogram bounds -> a range."""
        covered = sum(st.common_freqs or []) + (st.null_frac or 0.0)
        few = st.n_distinct is not None and 0 < st.n_distinct <= len(st.common_values or [])
        if (
            st.common_values
            and (covered >= 0.95 or few)
            and ti.kind in ("int", "decimal", "float", "string", "boolean")
        ):
            if ti.kind == "boolean":
                freq = dict(zip(st.common_values, st.common_freqs or [], strict=False))
                true = sum(f for v, f in freq.items() if v.lower() in ("t", "true", "1"))
                total = sum(freq.values()) or 1.0
                return {"strategy": "boolean", "p": round(true / total, 4)}
            try:
                values = [_typed(v, ti) for v in st.common_values]
            except ValueError:
                return None
            keep = [(v, f) for v, f in zip(values, st.common_freqs or [], strict=False) if _within(v, lo, hi)]
            if keep:
                return {"strategy": "choice", "values": [v for v, _ in keep], "weights": [round(f, 6) for _, f in keep]}
        if st.bounds and len(st.bounds) >= 2:
            first, last = st.bounds[0], st.bounds[-1]
            try:
                if ti.kind == "int":
                    a, b = int(float(first)), int(float(last))
                    a, b = max(a, lo) if lo is not None else a, min(b, hi) if hi is not None else b
                    return {"strategy": "uniform", "min": int(a), "max": int(b)} if a <= b else None
                if ti.kind in ("decimal", "float"):
                    a, b = float(first), float(last)
                    a, b = max(a, lo) if lo is not None else a, min(b, hi) if hi is not None else b
                    return {"strategy": "uniform", "min": a, "max": b} if a <= b else None
                if ti.kind == "date":
                    return {"strategy": "uniform", "min": first[:10], "max": last[:10]}
                if ti.kind == "timestamp":
                    return {"strategy": "datetime", "start": first[:19], "end": last[:19]} if first < last else None
            except ValueError:
                return None
        return None

    def fallback(self, t: SourceTable, name: str, ti: TypeInfo) -> dict[str, Any] | None:
        """Types the model language lacks, written as text the source's type reads back."""
        kind = ti.kind
        if kind == "uuid":
            return {"strategy": "uuid"}
        if kind == "time":
            h = self.hidden(name, "h", {"strategy": "uniform", "min": 0, "max": 23})
            m = self.hidden(name, "m", {"strategy": "uniform", "min": 0, "max": 59})
            s = self.hidden(name, "s", {"strategy": "uniform", "min": 0, "max": 59})
            self.counts["fallback"] += 1
            return {"strategy": "template", "template": f"{{{h}:02}}:{{{m}:02}}:{{{s}:02}}"}
        if kind == "json":
            n = self.hidden(name, "n", {"strategy": "uniform", "min": 1, "max": 1000})
            self.counts["fallback"] += 1
            return {"strategy": "template", "template": f'{{{{"value": {{{n}}}}}}}'}
        if kind == "interval":
            d = self.hidden(name, "d", {"strategy": "uniform", "min": 0, "max": 365})
            self.counts["fallback"] += 1
            return {"strategy": "template", "template": f"{{{d}}} days"}
        if kind == "inet":
            parts = [self.hidden(name, x, {"strategy": "uniform", "min": 1, "max": 254}) for x in ("a", "b", "c")]
            self.counts["fallback"] += 1
            return {"strategy": "template", "template": "10." + ".".join(f"{{{p}}}" for p in parts)}
        if kind == "binary":
            h = self.hidden(name, "h", {"strategy": "uniform", "min": 0, "max": 99999999})
            self.counts["fallback"] += 1
            return {"strategy": "template", "template": f"\\x{{{h}:08}}"}
        if kind == "array":
            self.counts["fallback"] += 1
            el = ti.element.kind if ti.element else None
            pg = self.schema.dialect != "duckdb"
            if el == "int":
                e = self.hidden(name, "e", {"strategy": "uniform", "min": 1, "max": 100})
                return {"strategy": "template", "template": f"{{{{{{{e}}}}}}}" if pg else f"[{{{e}}}]"}
            if el == "string":
                e = self.hidden(name, "e", {"strategy": "word"})
                return {"strategy": "template", "template": f"{{{{{{{e}}}}}}}" if pg else f"['{{{e}}}']"}
            return {"strategy": "constant", "value": "{}" if pg else "[]"}
        return None

    def guess(self, t: SourceTable, name: str, ti: TypeInfo) -> tuple[dict[str, Any], str | None]:
        s = _snake(name)
        table = _snake(t.name)
        if ti.kind == "string":
            return self.guess_text(t, name, s, table, ti)
        if ti.kind == "boolean":
            if _has(s, "is_active|active|enabled|is_enabled|verified|is_verified|visible"):
                return {"strategy": "boolean", "p": 0.8}, "mostly true (active/enabled)"
            if _has(s, "deleted|is_deleted|archived|banned|is_test"):
                return {"strategy": "boolean", "p": 0.05}, "rarely true (deleted/archived)"
            return {"strategy": "boolean"}, None
        if ti.kind == "date":
            if _has(s, "birth|dob|birthday|birth_date|date_of_birth"):
                return {"strategy": "uniform", "min": "1950-01-01", "max": "2005-12-31"}, "a birth date"
            return {"strategy": "uniform", "min": "2020-01-01", "max": "2024-12-31"}, None
        if ti.kind == "timestamp":
            if _has(s, "created|created_at|inserted_at|created_on|creation_date|registered_at|signup_at"):
                spec = {"strategy": "datetime", "start": "2020-01-01", "end": "2025-01-01", "increasing": True}
                return spec, "a creation time, growing with the key"
            return {"strategy": "datetime", "start": "2020-01-01", "end": "2025-01-01"}, None
        if ti.numeric:
            return self.guess_number(s, ti)
        return {"strategy": "word"}, None

    def guess_number(self, s: str, ti: TypeInfo) -> tuple[dict[str, Any], str | None]:
        if _has(s, "percent|pct|percentage"):
            return {"strategy": "uniform", "min": 0, "max": 100}, "a percentage"
        money = "price|cost|amount|amt|total|subtotal|fee|salary|wage|balance|revenue|income|charge|paid|payment|spend"
        if _has(s, money + "|sales_price|list_price|profit|tax|credit|cash|loss"):
            return {"strategy": "lognormal", "median": 25, "sigma": 1.0, "min": 0}, "an amount of money"
        if _has(s, "quantity|qty|units|num_items|item_count|count"):
            return {"strategy": "geometric", "p": 0.3, "min": 1, "max": 100}, "a quantity"
        if _has(s, "age"):
            return {"strategy": "uniform", "min": 18, "max": 90}, "an age"
        if _has(s, "rating|score|stars"):
            return {"strategy": "uniform", "min": 1, "max": 5}, "a rating from 1 to 5"
        if _has(s, "rate|ratio|discount|share|probability") and ti.kind != "int":
            return {"strategy": "uniform", "min": 0.0, "max": 1.0}, "a rate between 0 and 1"
        if _has(s, "year"):
            return {"strategy": "uniform", "min": 1990, "max": 2025}, "a year"
        if _has(s, "lat|latitude"):
            return {"strategy": "uniform", "min": -90.0, "max": 90.0}, "a latitude"
        if _has(s, "lon|lng|longitude"):
            return {"strategy": "uniform", "min": -180.0, "max": 180.0}, "a longitude"
        if ti.kind == "int":
            return {"strategy": "uniform", "min": 1, "max": 1000}, None
        return {"strategy": "uniform", "min": 0.0, "max": 1000.0}, None

    def guess_text(
        self, t: SourceTable, name: str, s: str, table: str, ti: TypeInfo
    ) -> tuple[dict[str, Any], str | None]:
        n = ti.length
        person = _PERSON_TABLES.search(table) is not None
        org = _ORG_TABLES.search(table) is not None
        candidates: list[tuple[str, Any, str]] = []
        if _has(s, "email|e_mail|email_address|mail"):
            candidates.append(("email", lambda: self.email_spec(t, name), "an email address"))
            candidates.append(
                ("code", lambda: {"strategy": "template", "template": "user{id}@example.com"}, "an email")
            )
        if _has(s, "first_name|firstname|given_name|fname|forename"):
            candidates.append(("first_name", lambda: {"strategy": "first_name"}, "a first name"))
        if _has(s, "last_name|lastname|surname|family_name|lname"):
            candidates.append(("last_name", lambda: {"strategy": "last_name"}, "a last name"))
        if _has(s, "full_name|fullname|contact_name|customer_name|person_name|display_name|manager|author") or (
            s == "name" and person
        ):
            candidates.append(("full_name", lambda: {"strategy": "full_name"}, "a person's name"))
        if _has(s, "company|company_name|organization|organisation|employer|vendor|supplier|firm") or (
            s == "name" and org
        ):
            candidates.append(("company", lambda: {"strategy": "company"}, "a company name"))
        if _has(s, "job|job_title|occupation|profession"):
            candidates.append(("job_title", lambda: {"strategy": "job_title"}, "a job title"))
        if _has(s, "phone|phone_number|mobile|cell|fax|telephone|tel"):
            candidates.append(("phone", lambda: {"strategy": "phone"}, "a phone number"))
        if _has(s, "street_number"):
            candidates.append(("code", lambda: self.digits(name, n or 5), "a street number"))
        if _has(s, "address|address1|address_line|address_line1|addr|street|street_name|street_address"):
            part = "street" if _has(s, "street|street_name|address1|address_line1") else "line"
            candidates.append(("address", lambda: {"strategy": "address", "part": part}, f"a street address ({part})"))
            candidates.append(("address", lambda: {"strategy": "address", "part": "street"}, "a street address"))
        if _has(s, "city|town"):
            candidates.append(("address", lambda: {"strategy": "address", "part": "city"}, "a city"))
            candidates.append(("pool", lambda: self.pool_choice("city", n), "a city (names that fit)"))
        if _has(s, "state|province|region|county"):
            candidates.append(("address", lambda: {"strategy": "address", "part": "state"}, "a state or province"))
            candidates.append(("pool", lambda: self.pool_choice("states_abbr", n), "a US state code"))
        if _has(s, "zip|zipcode|zip_code|postcode|postal_code|postal"):
            candidates.append(("address", lambda: {"strategy": "address", "part": "postcode"}, "a postal code"))
            candidates.append(("code", lambda: self.digits(name, n or 5), "a postal code (digits)"))
        if _has(s, "country|country_name|country_code"):
            candidates.append(("address", lambda: {"strategy": "address", "part": "country"}, "a country"))
            candidates.append(("country_name", lambda: {"strategy": "country_name"}, "a country"))
            candidates.append(("pool", lambda: self.pool_choice("alpha_2", n), "a country code"))
        if _has(s, "currency|currency_code"):
            values = {"USD": 50, "EUR": 25, "GBP": 10, "JPY": 8, "CAD": 7}
            spec = {"strategy": "choice", "values": list(values), "weights": list(values.values())}
            candidates.append(("choice", lambda spec=spec: spec, "a currency code"))
        if _has(s, "status"):
            spec = {"strategy": "choice", "values": ["active", "pending", "closed"], "weights": [70, 20, 10]}
            candidates.append(("choice", lambda spec=spec: spec, "a status"))
        if _has(s, "gender|sex"):
            candidates.append(("choice", lambda: {"strategy": "choice", "values": ["F", "M"]}, "a gender"))
        if _has(s, "url|website|homepage|link"):
            candidates.append(
                ("code", lambda: {"strategy": "template", "template": "https://www.example.com/{id}"}, "a URL")
            )
        if _has(s, "uuid|guid"):
            candidates.append(("uuid", lambda: {"strategy": "uuid"}, "a UUID"))
        if _has(s, "description|desc|comment|comments|notes|note|bio|summary|body|message|remarks|details|text"):
            candidates.append(("sentence", lambda: {"strategy": "paragraph" if n is None else "sentence"}, "free text"))
            candidates.append(("sentence", lambda: {"strategy": "sentence"}, "free text"))
        if _has(s, "flag") and (n is None or n >= 1):
            candidates.append(("choice", lambda: {"strategy": "choice", "values": ["Y", "N"]}, "a Y/N flag"))
        if _KEYISH.search(s) or _has(s, "sku|ref|reference|login|username|user_name"):
            candidates.append(("code", lambda: self.digits(name, min(n or 10, 10)), "a code (digits)"))
        for _, make, why in candidates:
            mark = len(self.current.helpers)
            spec = make()
            if spec is not None and _fits(spec, n):
                return spec, why
            del self.current.helpers[mark:]  # a candidate that does not fit leaves no hidden column
        return self.default_text(n), None

    def email_spec(self, t: SourceTable, name: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"strategy": "email"}
        cols = {_snake(c.name): c.name for c in t.columns}
        for which, options in (
            ("first", ("first_name", "firstname", "given_name")),
            ("last", ("last_name", "surname")),
        ):
            found = next(
                (cols[o] for o in options if o in cols and self.types[(t.name, cols[o])].kind == "string"), None
            )
            found = next((c.name for c in t.columns if _has(_snake(c.name), "|".join(options))), found)
            if found is None or self.key.get((t.name, found)) or self.refs.get((t.name, found)):
                found = self.hidden(name, which, {"strategy": f"{which}_name"})
            spec[which] = found
        return spec

    def digits(self, name: str, n: int) -> dict[str, Any]:
        width = max(1, min(n, 9))
        h = _helper(name, "d")
        spec = {"strategy": "template", "template": f"{{{h}:0{width}}}"}
        self.current.helpers.append(
            OutColumn(h, {"strategy": "uniform", "min": 0, "max": 10**width - 1, "hidden": True})
        )
        return spec

    def pool_choice(self, what: str, n: int | None) -> dict[str, Any] | None:
        values = _fitting(what, n if n is not None else 10**6)
        return {"strategy": "choice", "values": values} if values else None

    def default_text(self, n: int | None) -> dict[str, Any]:
        """Words when they fit; shorter columns get the words that fit, one-letter columns letters."""
        if n is None or n >= _MAX_LEN["word"]():
            return {"strategy": "word"}
        if n == 1:
            return {"strategy": "choice", "values": ["Y", "N"]}
        words = _fitting("word", n)
        if len(words) >= 3:
            return {"strategy": "choice", "values": words}
        return {"strategy": "choice", "values": [chr(65 + i) * n for i in range(4)]}

    def bounded(self, spec: dict[str, Any], ti: TypeInfo, lo: Any, hi: Any, col: OutColumn) -> dict[str, Any]:
        """Bounds from CHECK constraints and from the type (integer width, decimal digits)."""
        if not ti.numeric and ti.kind not in ("date", "timestamp"):
            return spec
        if ti.kind in ("date", "timestamp"):
            if lo is None and hi is None:
                return spec
            key_lo, key_hi = ("start", "end") if spec["strategy"] == "datetime" else ("min", "max")
            if lo is not None:
                spec[key_lo] = max(str(lo), str(spec[key_lo]))
            if hi is not None:
                spec[key_hi] = min(str(hi), str(spec[key_hi]))
            if spec[key_lo] >= spec[key_hi]:
                spec = {"strategy": "uniform", "min": str(lo or hi), "max": str(hi or lo)}
            col.notes.append("bounded by a CHECK constraint")
            return spec
        cap = ti.cap
        type_lo = -cap if cap is not None else None
        type_hi = cap
        if ti.int_range:
            type_lo, type_hi = ti.int_range
        lo2 = lo if lo is not None else None
        hi2 = hi if hi is not None else None
        if type_lo is not None:
            lo2 = type_lo if lo2 is None else max(lo2, type_lo)
        if type_hi is not None:
            hi2 = type_hi if hi2 is None else min(hi2, type_hi)
        strategy = spec["strategy"]
        if lo is not None or hi is not None:
            col.notes.append("bounded by a CHECK constraint")
        if strategy == "uniform":
            a = spec["min"] if lo is None else lo
            b = spec["max"] if hi is None else hi
            if lo is not None and hi is None and b <= a:
                b = a + (spec["max"] - spec["min"])
            if hi is not None and lo is None and a >= b:
                a = b - (spec["max"] - spec["min"])
            a = max(a, lo2) if lo2 is not None else a
            b = min(b, hi2) if hi2 is not None else b
            if ti.kind == "int":
                a, b = math.ceil(a), math.floor(b)
            else:
                a, b = float(a), float(b)
            if a > b:
                a = b
            return {**spec, "min": a, "max": b}
        # other distributions clip at min/max
        a = spec.get("min")
        a = lo2 if a is None else (max(a, lo2) if lo2 is not None else a)
        b = spec.get("max")
        b = hi2 if b is None else (min(b, hi2) if hi2 is not None else b)
        if ti.kind == "int" or strategy == "geometric":
            a = math.ceil(a) if a is not None else None
            b = math.floor(b) if b is not None else None
        if strategy == "geometric" and (a is None or a < 1 or (b is not None and b < (a or 1))):
            return self.bounded({"strategy": "uniform", "min": 1, "max": 100}, ti, lo, hi, col)
        if strategy == "lognormal" and b is not None and spec["median"] > b:
            spec = {**spec, "median": max(b / 2, 1e-3) if b > 0 else spec["median"]}
        if strategy == "lognormal" and b is not None and b <= 0:
            return self.bounded({"strategy": "uniform", "min": a, "max": b}, ti, lo, hi, col)
        out = dict(spec)
        if a is not None:
            out["min"] = a
        if b is not None:
            out["max"] = b
        return out

    # row counts ----------------------------------------------------------------------------------

    def plan_rows(self, out: list[OutTable]) -> None:
        edges = self.edges()
        known = {t.name: t.rows for t in self.schema.tables if t.rows is not None and t.rows >= 0}
        base = known.get(self.scale)
        ratio: dict[str, float] = {}
        depth = _depths(edges, self.scale)
        for t in self.tables:
            if base and t in known:
                ratio[t] = max(known[t], 1.0) / base
            else:
                ratio[t] = max(DIM_RATIO ** depth.get(t, 1), 1e-4)
        ratio[self.scale] = 1.0
        for _ in range(len(self.tables) + 1):  # rows(T) <= rows(P) for a unique reference T -> P
            changed = False
            for t, fks in self.unique_fk.items():
                for fk in fks:
                    p = fk.table
                    if p == t or t in self.each or p in self.each:
                        continue
                    if t == self.scale and ratio[p] < 1.0:  # the fact table draws each parent once at most
                        ratio[p], changed = 1.0, True
                    elif t != self.scale and ratio[t] > ratio[p]:  # one row per parent at most (1:1)
                        ratio[t], changed = ratio[p], True
            if not changed:
                break
        for ot in out:
            if ot.name == self.scale:
                ot.rows = "scale"
            elif ot.name in self.each:
                parent = self.each[ot.name][0]
                lo, hi = 1, 5
                if ot.name in known and known.get(parent):
                    mean = known[ot.name] / max(known[parent], 1.0)
                    lo, hi = (0, 1) if mean < 1 else (1, int(min(max(1, round(2 * mean - 1)), 256)))
                ot.rows = {"each": parent, "min": lo, "max": hi}
            else:
                ot.rows = {"per": self.scale, "ratio": _sig(ratio[ot.name])}

    def break_nullable_cycles(self, out: list[OutTable]) -> None:
        """A nullable reference on a cycle keeps a null rate above zero: the compiler writes the parent
        first and lets the reference be NULL where the parent is not written yet (statistics may say 0)."""
        edges: dict[str, set[str]] = {t: set() for t in self.tables}
        for (t, _c), (kind, other, _) in self.refs.items():
            if kind == "reference" and other != t:
                edges[t].add(other)

        def reaches(a: str, b: str) -> bool:
            seen, todo = {a}, [a]
            while todo:
                for n in edges[todo.pop()]:
                    if n == b:
                        return True
                    if n not in seen:
                        seen.add(n)
                        todo.append(n)
            return False

        for ot in out:
            for col in ot.columns:
                ref = self.refs.get((ot.name, col.name))
                nullable = self.tables[ot.name].column(col.name).nullable
                if ref and ref[0] == "reference" and ref[1] != ot.name and nullable and reaches(ref[1], ot.name):
                    if col.spec.get("null_rate", 0) <= 0:
                        col.spec["null_rate"] = CYCLE_NULL_RATE
                    col.notes.append("nullable: breaks a cycle of references")


# --- helpers ------------------------------------------------------------------------------------


def _depths(edges: dict[str, set[str]], scale: str) -> dict[str, int]:
    """Hops from the scale table (then from other unreferenced tables) along foreign keys."""
    depth: dict[str, int] = {}
    referenced = {p for ps in edges.values() for p in ps}
    roots = [scale] + [t for t in edges if t not in referenced and t != scale]
    for root in roots:
        if root in depth:
            continue
        depth[root] = 0
        todo = deque([root])
        while todo:
            t = todo.popleft()
            for p in sorted(edges[t]):
                if p not in depth:
                    depth[p] = depth[t] + 1
                    todo.append(p)
    return depth


def _sig(x: float) -> float:
    return float(f"{x:.6g}")


def _fits(spec: dict[str, Any], n: int | None) -> bool:
    if n is None:
        return True
    if spec["strategy"] == "template":
        return _template_length(spec["template"]) <= n
    longest = max_length(spec)
    return longest is None or longest <= n


def _template_length(template: str) -> int:
    """The length of a template whose placeholders are zero-padded numbers ({x:08}), else a guess."""
    total = 0
    for m in re.finditer(r"\{([^{}]*)\}|([^{}]+)", template):
        if m.group(2) is not None:
            total += len(m.group(2))
        else:
            fmt = m.group(1).partition(":")[2]
            total += int(fmt[1:]) if fmt.startswith("0") and fmt[1:].isdigit() else 12
    return total


def _conjuncts(e: exp.Expression) -> list[exp.Expression]:
    e = _unwrap(e)
    if isinstance(e, exp.And):
        return _conjuncts(e.this) + _conjuncts(e.expression)
    return [e]


def _unwrap(e: Any) -> Any:
    while isinstance(e, (exp.Paren, exp.Cast)):
        e = e.this
    return e


def _literal(e: Any) -> Any:
    """A constant of a CHECK: number, text, or None when it is not a constant."""
    e = _unwrap(e)
    if isinstance(e, exp.Neg):
        v = _literal(e.this)
        return -v if isinstance(v, (int, float)) else None
    if isinstance(e, exp.Literal):
        if e.is_string:
            return e.this
        text = e.this
        try:
            return int(text)
        except ValueError:
            return float(text)
    if isinstance(e, exp.Boolean):
        return bool(e.this)
    return None


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}
_OPS = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.EQ: "="}


def _simple_check(e: exp.Expression) -> tuple[str, str, Any] | None:
    """(column, op, value) of a range bound, an IN list or BETWEEN; None for anything else."""
    e = _unwrap(e)
    if isinstance(e, exp.Between):
        col = _unwrap(e.this)
        lo, hi = _literal(e.args.get("low")), _literal(e.args.get("high"))
        if isinstance(col, exp.Column) and lo is not None and hi is not None:
            return col.name, "between", (lo, hi)
        return None
    if isinstance(e, exp.In):
        col = _unwrap(e.this)
        values = [_literal(v) for v in e.expressions]
        if isinstance(col, exp.Column) and values and all(v is not None for v in values):
            return col.name, "in", values
        return None
    for cls, op in _OPS.items():
        if isinstance(e, cls):
            left, right = _unwrap(e.this), _unwrap(e.expression)
            if isinstance(left, exp.Length) and isinstance(_unwrap(left.this), exp.Column) and op in ("<", "<="):
                n = _literal(right)  # length(c) <= n: what SQLite writes for varchar(n), which it does not enforce
                if isinstance(n, int):
                    return _unwrap(left.this).name, "maxlen", n - (op == "<")
                return None
            if isinstance(right, exp.Any):  # PostgreSQL writes IN as = ANY (ARRAY[...])
                arr = _unwrap(right.this)
                if op == "=" and isinstance(left, exp.Column) and isinstance(arr, exp.Array):
                    values = [_literal(v) for v in arr.expressions]
                    if values and all(v is not None for v in values):
                        return left.name, "in", values
                return None
            if isinstance(left, exp.Column) and _literal(right) is not None:
                return left.name, op, _literal(right)
            if isinstance(right, exp.Column) and _literal(left) is not None:
                return right.name, _FLIP[op], _literal(left)
    return None


def _bound_value(value: Any, ti: TypeInfo) -> Any:
    if ti.numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if ti.kind in ("date", "timestamp") and isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\d", value):
        return value[:10] if ti.kind == "date" else value[:19]
    return None


def _strict(v: Any, ti: TypeInfo, direction: int) -> Any:
    if ti.kind == "int":
        return math.floor(v) + 1 if direction > 0 else math.ceil(v) - 1
    if ti.kind == "decimal":
        step = 10 ** -(ti.scale or 0)
        return round(v + direction * step, ti.scale or 0)
    if ti.kind == "float":
        return v + direction * 1e-6 * (abs(v) + 1)
    return v  # dates: a day/second off matters little, and datetime ends are exclusive


def _typed(v: Any, ti: TypeInfo) -> Any:
    if ti.kind == "int":
        return int(float(v))
    if ti.kind in ("decimal", "float"):
        return float(v)
    if ti.kind == "boolean":
        return str(v).lower() in ("t", "true", "1", "yes")
    return str(v)


def _within(v: Any, lo: Any, hi: Any) -> bool:
    if not isinstance(v, (int, float)):
        return True
    return (lo is None or v >= lo) and (hi is None or v <= hi)


def _stats_from_sample(values: list[Any]) -> ColumnStats:
    """Null share, the values of a column with few of them, and the range, from ``--sample-rows``."""
    n = len(values)
    present = [v for v in values if v is not None]
    st = ColumnStats(null_frac=(n - len(present)) / n if n else None)
    if not present:
        return st
    text = [("t" if v else "f") if isinstance(v, bool) else str(v) for v in present]
    counts: dict[str, int] = {}
    for v in text:
        counts[v] = counts.get(v, 0) + 1
    if len(counts) <= 12 and len(present) >= 20:
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        st.common_values = [k for k, _ in ordered]
        st.common_freqs = [c / n for _, c in ordered]
        st.n_distinct = float(len(counts))
    try:
        ordered_values = sorted(present)
        st.bounds = [_text(ordered_values[0]), _text(ordered_values[-1])]
    except TypeError:
        pass
    return st


def _text(v: Any) -> str:
    if hasattr(v, "isoformat"):
        return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
    return str(v)


# fix BETWEEN into two bounds when reading checks
def _expand(got: tuple[str, str, Any]) -> list[tuple[str, str, Any]]:
    col, op, value = got
    if op == "between":
        return [(col, ">=", value[0]), (col, "<=", value[1])]
    return [got]
