"""A schema from SQL DDL text, parsed with sqlglot in the source's dialect.

CREATE TABLE (columns, inline and table constraints), ALTER TABLE ... ADD CONSTRAINT (how
pg_dump writes keys), CREATE UNIQUE INDEX, CREATE TYPE ... AS ENUM and CREATE DOMAIN are read;
other statements (indexes, sequences, grants, SET) carry no shape and are skipped. SQLite and
DuckDB files keep their tables' DDL in the catalog, so their readers come here too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from gengo.core.errors import GengoError
from gengo.importers.schema import ForeignKey, SourceColumn, SourceSchema, SourceTable

DIALECTS = ("postgres", "mysql", "sqlite", "duckdb", "snowflake", "bigquery", "tsql", "oracle", "redshift", "trino")
_DOMAIN = re.compile(r"(?is)^\s*DOMAIN\s+(?P<name>[\w.\"]+)\s+(?:AS\s+)?(?P<rest>.+)$")
_DOMAIN_CLAUSE = re.compile(r"(?i)\s+(NOT\s+NULL|NULL|CHECK|DEFAULT|CONSTRAINT|COLLATE)\b")


@contextmanager
def quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning for each statement it falls back on; the reader reports skips itself."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def check_dialect(dialect: str) -> str:
    from sqlglot.dialects.dialect import Dialect

    try:
        Dialect.get_or_raise(dialect)
    except (ValueError, SqlglotError):
        raise GengoError(f"unknown SQL dialect '{dialect}'; dialects include {', '.join(DIALECTS)}") from None
    return dialect


def parse_type(text: str, dialect: str) -> exp.DataType:
    """A type as a catalog writes it ("character varying(20)", "integer[]", a type name)."""
    with quiet_sqlglot():
        try:
            return exp.DataType.build(text, dialect=dialect, udt=True)
        except (ParseError, SqlglotError, ValueError):
            return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=exp.to_identifier(text))


def parse_check(text: str, dialect: str) -> exp.Expression | None:
    """A CHECK constraint's condition from its text ("CHECK ((a > 0))" or "a > 0"); None if unreadable."""
    text = re.sub(r"(?is)^\s*CHECK\s*", "", text.strip())
    text = re.sub(r"(?is)\s+NOT\s+VALID\s*$", "", text)
    with quiet_sqlglot():
        try:
            return sqlglot.parse_one(text, read=dialect)
        except (ParseError, SqlglotError, ValueError):
            return None


def read_ddl(text: str, name: str, dialect: str, schema: str | None = None) -> SourceSchema:
    """The tables a DDL text creates; a syntax error is one line naming ``name:line:column``."""
    check_dialect(dialect)
    with quiet_sqlglot():
        try:
            statements = sqlglot.parse(text, read=dialect)
        except ParseError as e:
            first = e.errors[0] if e.errors else {}
            where = f"{name}:{first.get('line', '?')}:{first.get('col', '?')}"
            what = first.get("description") or str(e).splitlines()[0]
            raise GengoError(f"{where}: cannot parse the DDL ({dialect}): {what}") from None
        except SqlglotError as e:
            raise GengoError(f"{name}: cannot parse the DDL ({dialect}): {str(e).splitlines()[0]}") from None
    out = SourceSchema(f"{name} ({dialect} DDL)", dialect)
    builder = _Builder(out, dialect, schema)
    for st in statements:
        if st is not None:
            builder.statement(st)
    builder.finish()
    if not out.tables:
        raise GengoError(f"{name}: no CREATE TABLE statement" + (f" in schema '{schema}'" if schema else ""))
    return out


class _Builder:
    def __init__(self, out: SourceSchema, dialect: str, schema: str | None) -> None:
        self.out, self.dialect, self.schema = out, dialect, schema
        self.enums: dict[str, list[str]] = {}
        self.domains: dict[str, tuple[exp.DataType, str, bool, exp.Expression | None]] = {}
        self.skipped: dict[str, int] = {}

    def _wanted(self, table: exp.Table) -> bool:
        return self.schema is None or not table.db or table.db == self.schema

    def statement(self, st: exp.Expression) -> None:
        if isinstance(st, exp.Create):
            kind = (st.args.get("kind") or "").upper()
            if kind == "TABLE" and isinstance(st.this, exp.Schema):
                if self._wanted(st.this.this):
                    self.create_table(st.this)
                return
            if kind == "TYPE" and isinstance(st.expression, exp.DataType):
                dt = st.expression
                if dt.this == exp.DataType.Type.ENUM:
                    self.enums[st.this.name] = [e.name for e in dt.expressions]
                return
            if kind == "INDEX" and st.args.get("unique"):
                self.unique_index(st.this)
                return
            if kind == "TABLE":
                self.out.notes.append(f"CREATE TABLE {st.this.name} without columns (AS SELECT?) skipped")
                return
            self.skipped[f"CREATE {kind}"] = self.skipped.get(f"CREATE {kind}", 0) + 1
            return
        if isinstance(st, exp.Alter) and (st.args.get("kind") or "").upper() == "TABLE":
            table = self.out.table(st.this.name) if self._wanted(st.this) else None
            for action in st.args.get("actions") or []:
                if isinstance(action, exp.AddConstraint) and table is not None:
                    for c in action.expressions:
                        self.table_constraint(table, c)
            return
        if isinstance(st, exp.Command) and st.name.upper() == "CREATE":
            m = _DOMAIN.match(str(st.expression or ""))
            if m:
                self.domain(m.group("name"), m.group("rest"))
                return
        label = st.key.upper() if not isinstance(st, exp.Command) else f"{st.name.upper()} ..."
        self.skipped[label] = self.skipped.get(label, 0) + 1

    def domain(self, name: str, rest: str) -> None:
        cut = _DOMAIN_CLAUSE.search(rest)
        type_text, clauses = (rest[: cut.start()], rest[cut.start() :]) if cut else (rest, "")
        check = None
        m = re.search(r"(?is)\bCHECK\s*(\(.*\))", clauses)
        if m:
            check = parse_check(m.group(1), self.dialect)
        not_null = bool(re.search(r"(?i)\bNOT\s+NULL\b", clauses))
        dt = parse_type(type_text.strip(), self.dialect)
        self.domains[name.strip('"').split(".")[-1]] = (dt, type_text.strip(), not_null, check)

    def create_table(self, schema: exp.Schema) -> None:
        name = schema.this.name
        table = SourceTable(name, [])
        existing = self.out.table(name)
        if existing is not None:
            self.out.tables.remove(existing)
            self.out.notes.append(f"table {name} is created twice: the last definition is used")
        self.out.tables.append(table)
        for item in schema.expressions:
            if isinstance(item, exp.ColumnDef):
                self.column(table, item)
            else:
                self.table_constraint(table, item)

    def column(self, table: SourceTable, cd: exp.ColumnDef) -> None:
        dt = cd.args.get("kind")
        if not isinstance(dt, exp.DataType):  # SQLite allows a column without a type
            dt = exp.DataType.build("TEXT")
        col = SourceColumn(cd.name, dt, dt.sql(self.dialect))
        table.columns.append(col)
        for cc in cd.constraints:
            kind = cc.args.get("kind")
            if isinstance(kind, exp.NotNullColumnConstraint):
                col.nullable = bool(kind.args.get("allow_null"))
            elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
                table.primary_key = [col.name]
                col.nullable = False
            elif isinstance(kind, exp.UniqueColumnConstraint):
                table.uniques.append([col.name])
            elif isinstance(kind, exp.Reference):
                self.reference(table, [col.name], kind)
            elif isinstance(kind, exp.CheckColumnConstraint):
                table.checks.append(kind.this)

    def table_constraint(self, table: SourceTable, item: exp.Expression) -> None:
        if isinstance(item, exp.Constraint):
            for inner in item.expressions:
                self.table_constraint(table, inner)
            return
        if isinstance(item, exp.PrimaryKey):
            table.primary_key = [_name(e) for e in item.expressions]
            for c in table.primary_key:
                col = table.column(c)
                if col is not None:
                    col.nullable = False
        elif isinstance(item, exp.ForeignKey):
            ref = item.args.get("reference")
            if isinstance(ref, exp.Reference):
                self.reference(table, [_name(e) for e in item.expressions], ref)
        elif isinstance(item, exp.UniqueColumnConstraint):
            cols = item.this.expressions if isinstance(item.this, exp.Schema) else []
            if cols:
                table.uniques.append([_name(e) for e in cols])
        elif isinstance(item, exp.CheckColumnConstraint):
            table.checks.append(item.this)
        elif isinstance(item, exp.PrimaryKeyColumnConstraint) and isinstance(item.this, exp.Schema):
            table.primary_key = [_name(e) for e in item.this.expressions]

    def reference(self, table: SourceTable, columns: list[str], ref: exp.Reference) -> None:
        target = ref.this
        if isinstance(target, exp.Schema):
            ref_table, ref_cols = target.this.name, [_name(e) for e in target.expressions]
        else:
            ref_table, ref_cols = target.name, []
        table.foreign_keys.append(ForeignKey(columns, ref_table, ref_cols))

    def unique_index(self, index: exp.Expression) -> None:
        if not isinstance(index, exp.Index):
            return
        table = self.out.table(index.args["table"].name) if index.args.get("table") is not None else None
        params = index.args.get("params")
        if table is None or params is None:
            return
        cols = [o.this for o in params.args.get("columns") or []]
        if cols and all(isinstance(c, exp.Column) for c in cols):
            table.uniques.append([c.name for c in cols])

    def finish(self) -> None:
        """Resolve enum and domain types now that every CREATE TYPE / DOMAIN has been read."""
        for table in self.out.tables:
            for col in table.columns:
                dt = col.type
                if dt.this == exp.DataType.Type.ENUM:
                    col.enum = [e.name for e in dt.expressions]
                elif dt.this == exp.DataType.Type.USERDEFINED:
                    udt = dt.args.get("kind")
                    key = (udt.name if isinstance(udt, exp.Expression) else str(udt or "")).split(".")[-1]
                    if key in self.enums:
                        col.enum = self.enums[key]
                    elif key in self.domains:
                        base, text, not_null, check = self.domains[key]
                        col.type, col.type_text = base, f"{key} (domain over {text})"
                        col.nullable = col.nullable and not not_null
                        if check is not None:
                            table.checks.append(value_to_column(check, col.name))
        if self.skipped:
            what = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in sorted(self.skipped.items()))
            self.out.notes.append(f"statements with no table shape skipped: {what}")


def _name(e: exp.Expression) -> str:
    return e.name if isinstance(e, (exp.Identifier, exp.Column)) else e.sql()


def value_to_column(check: exp.Expression, column: str) -> exp.Expression:
    """A domain's CHECK (VALUE > 0) as the column's own check."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name.upper() == "VALUE":
            return exp.column(column)
        return node

    return check.copy().transform(swap)
