"""CREATE TABLE statements for a model, with primary and foreign keys, in three SQL dialects.

``duckdb`` and ``ansi`` declare the keys inside CREATE TABLE (DuckDB cannot add a FOREIGN KEY
to an existing table). ``postgres`` creates bare tables and adds the keys afterwards with
ALTER TABLE, which is the order a bulk load wants: COPY into tables without indexes, then
build each primary key once and validate each foreign key in one pass.

Keys come from the model's declarations (``Column.primary_key``, ``Column.references``). A
FOREIGN KEY is declared only when the referenced column is the whole primary key of its table
(a foreign key must reference a primary or unique key). A reference to one column of a
composite key, or to a table left out of the selection, is kept as a comment instead.
Tables are ordered parents first, so the inline constraints of ``duckdb``/``ansi`` only ever
name tables that already exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from gengo.core.errors import GengoError
from gengo.core.schema import Model, Table

DIALECTS = ("duckdb", "postgres", "ansi")
_DIALECT_ALIASES = {"duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres", "pg": "postgres"}
_DIALECT_ALIASES["ansi"] = "ansi"
_DIALECT_ALIASES["sql"] = "ansi"


def resolve_dialect(name: str) -> str:
    key = name.strip().lower()
    if key not in _DIALECT_ALIASES:
        raise GengoError(f"unknown SQL dialect '{name}': choose {', '.join(DIALECTS)}")
    return _DIALECT_ALIASES[key]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str, schema: str | None = None) -> str:
    return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


def column_type(arrow_type: pa.DataType, dialect: str) -> str:
    """The SQL type holding an Arrow type's values without loss."""
    pg = dialect == "postgres"
    t = arrow_type
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "BIGINT"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "INTEGER"
    if pa.types.is_int16(t) or pa.types.is_int8(t) or pa.types.is_uint8(t):
        return "SMALLINT"
    if pa.types.is_decimal(t):
        return f"{'NUMERIC' if pg else 'DECIMAL'}({t.precision},{t.scale})"
    if pa.types.is_float64(t):
        return "DOUBLE" if dialect == "duckdb" else "DOUBLE PRECISION"
    if pa.types.is_float32(t):
        return "REAL"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "TEXT" if pg else "VARCHAR"
    if pa.types.is_date32(t) or pa.types.is_date64(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        if t.tz is None:
            return "TIMESTAMP"
        return "TIMESTAMPTZ" if dialect == "duckdb" else "TIMESTAMP WITH TIME ZONE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    raise GengoError(f"no SQL type for Arrow type {t}")


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"fk_{self.table}_{'_'.join(self.columns)}"

    def clause(self, schema: str | None = None) -> str:
        cols = ", ".join(quote(c) for c in self.columns)
        pcols = ", ".join(quote(c) for c in self.parent_columns)
        return f"FOREIGN KEY ({cols}) REFERENCES {qualified(self.parent, schema)} ({pcols})"


def ordered_tables(model: Model, names: Sequence[str] | None = None) -> tuple[Table, ...]:
    """The selected tables, parents before children, otherwise in model order."""
    wanted = [t for t in model.tables if names is None or t.name in names]
    done: list[Table] = []
    placed: set[str] = set()
    selected = {t.name for t in wanted}
    while len(done) < len(wanted):
        progressed = False
        for t in wanted:
            if t.name in placed:
                continue
            # A nullable reference does not order the tables: its cycle is broken by its NULLs.
            nullable = {c.name for c in t.columns if c.nullable}
            parents = {p for col, p, _ in t.foreign_keys if p in selected and p != t.name and col not in nullable}
            if parents <= placed:
                done.append(t)
                placed.add(t.name)
                progressed = True
                break  # restart: keep model order among the tables that are ready
        if not progressed:  # a cycle: a table whose pending parents are all behind nullable keys goes first
            for t in wanted:
                nullable = {c.name for c in t.columns if c.nullable}
                pending = {(c, p) for c, p, _ in t.foreign_keys if p in selected and p != t.name and p not in placed}
                if t.name not in placed and all(c in nullable for c, _ in pending):
                    done.append(t)
                    placed.add(t.name)
                    break
            else:
                raise GengoError(f"model {model.name}: foreign keys form a cycle")
    return tuple(done)


def foreign_keys(model: Model, table: Table, selected: Iterable[str]) -> tuple[list[ForeignKey], list[str]]:
    """Declarable foreign keys of ``table``, and a note for each reference that is not one."""
    selected = set(selected)
    keys, notes = [], []
    for col, parent, pcol in table.foreign_keys:
        ref = f"{table.name}.{col} -> {parent}.{pcol}"
        if parent not in selected:
            notes.append(f"{ref}: {parent} is not among the tables written, no FOREIGN KEY")
            continue
        pk = model.table(parent).primary_key
        if pk == (pcol,):
            keys.append(ForeignKey(table.name, (col,), parent, (pcol,)))
        else:
            notes.append(
                f"{ref}: {pcol} is not a key of {parent} (its primary key is {', '.join(pk) or 'none'}), no FOREIGN KEY"
            )
    return keys, notes


def _create(table: Table, dialect: str, schema: str | None, constraints: list[str], notes: list[str]) -> str:
    lines = [
        f"    {quote(c.name)} {column_type(c.type, dialect)}{'' if c.nullable else ' NOT NULL'}" for c in table.columns
    ]
    lines += [f"    {c}" for c in constraints]
    head = "".join(f"-- {n}\n" for n in notes)
    return f"{head}CREATE TABLE {qualified(table.name, schema)} (\n" + ",\n".join(lines) + "\n);"


def primary_key_clause(table: Table) -> str | None:
    if not table.primary_key:
        return None
    return f"PRIMARY KEY ({', '.join(quote(c) for c in table.primary_key)})"


def create_tables(
    model: Model,
    dialect: str,
    tables: Sequence[str] | None = None,
    schema: str | None = None,
    inline_keys: bool | None = None,
) -> list[str]:
    """One CREATE TABLE per table, parents first; keys inline unless ``inline_keys`` is False.

    ``inline_keys`` defaults to True except for ``postgres`` (see ``key_statements``).
    """
    dialect = resolve_dialect(dialect)
    inline = dialect != "postgres" if inline_keys is None else inline_keys
    ordered = ordered_tables(model, tables)
    names = [t.name for t in ordered]
    out = []
    created: set[str] = set()
    for t in ordered:
        fks, notes = foreign_keys(model, t, names)
        constraints = []
        if inline:
            pk = primary_key_clause(t)
            # An inline self-reference is checked before the rows of its own INSERT exist (DuckDB
            # refuses a manager loaded with the employee): such keys are left as a note.
            own = [fk for fk in fks if fk.parent == t.name]
            notes += [
                f"{t.name}.{', '.join(fk.columns)} -> {t.name}: a reference within the table, no FOREIGN KEY "
                "(checked by gengo verify)"
                for fk in own
            ]
            # A key to a table created later (a cycle through a nullable key) cannot be declared inline.
            later = [fk for fk in fks if fk.parent != t.name and fk.parent not in created]
            notes += [
                f"{t.name}.{', '.join(fk.columns)} -> {fk.parent}: a reference to a table created later (a cycle), "
                "no FOREIGN KEY (checked by gengo verify)"
                for fk in later
            ]
            constraints = ([pk] if pk else []) + [
                fk.clause(schema) for fk in fks if fk.parent != t.name and fk not in later
            ]
        created.add(t.name)
        out.append(_create(t, dialect, schema, constraints, notes))
    return out


def primary_key_statements(model: Model, tables: Sequence[str] | None = None, schema: str | None = None) -> list[str]:
    out = []
    for t in ordered_tables(model, tables):
        pk = primary_key_clause(t)
        if pk:
            out.append(f"ALTER TABLE {qualified(t.name, schema)} ADD CONSTRAINT {quote('pk_' + t.name)} {pk};")
    return out


def foreign_key_statements(model: Model, tables: Sequence[str] | None = None, schema: str | None = None) -> list[str]:
    ordered = ordered_tables(model, tables)
    names = [t.name for t in ordered]
    out = []
    for t in ordered:
        for fk in foreign_keys(model, t, names)[0]:
            out.append(f"ALTER TABLE {qualified(t.name, schema)} ADD CONSTRAINT {quote(fk.name)} {fk.clause(schema)};")
    return out


def ddl(
    model: Model,
    dialect: str,
    tables: Sequence[str] | None = None,
    schema: str | None = None,
) -> str:
    """The full script: CREATE TABLEs (and for ``postgres`` the ALTER TABLEs adding the keys)."""
    dialect = resolve_dialect(dialect)
    parts = [f"-- gengo model {model.name}: {len(ordered_tables(model, tables))} tables, {dialect} dialect"]
    if schema:
        parts.append(f"CREATE SCHEMA {quote(schema)};")
    parts += create_tables(model, dialect, tables, schema)
    if dialect == "postgres":
        parts.append("-- keys, added after loading the data")
        parts += primary_key_statements(model, tables, schema)
        parts += foreign_key_statements(model, tables, schema)
    return "\n\n".join(parts) + "\n"
