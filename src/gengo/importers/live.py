"""Schemas read from live sources, read-only: PostgreSQL (catalog queries in a READ ONLY
transaction), SQLite (opened ``mode=ro``) and DuckDB (opened ``read_only=True``).

Without ``stats`` only the catalog is read (tables, columns, types, constraints). ``stats`` adds
catalog statistics: PostgreSQL's ``pg_class.reltuples`` and ``pg_stats`` (null fractions,
distinct counts, most common values, histogram bounds); SQLite and DuckDB keep no such catalog,
so there it is ``count(*)`` per table. Row data is read only with ``sample_rows``.
"""

from __future__ import annotations

import re
from typing import Any

from gengo.core.errors import GengoError
from gengo.importers.ddl import parse_check, parse_type, quiet_sqlglot, read_ddl, value_to_column
from gengo.importers.schema import ColumnStats, ForeignKey, SourceColumn, SourceSchema, SourceTable

SQLITE_MAGIC = b"SQLite format 3\x00"
DUCKDB_MAGIC = b"DUCK"  # at byte 8 of a DuckDB database file


def kind_of(source: str) -> str:
    """postgres, mysql, sqlite, duckdb or ddl, from the URL scheme or the file's first bytes."""
    if re.match(r"^postgres(ql)?://", source):
        return "postgres"
    if re.match(r"^(mysql|mariadb)(\+\w+)?://", source):
        return "mysql"
    if re.match(r"^[a-z][a-z0-9+.-]*://", source):
        raise GengoError(f"unknown source '{source.split('://')[0]}://...': use a DDL file, postgresql://, or a file")
    try:
        with open(source, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        raise GengoError(f"source '{source}' does not exist (a DDL file, a SQLite/DuckDB file or a URL)") from None
    except IsADirectoryError:
        raise GengoError(f"source '{source}' is a directory") from None
    except OSError as e:
        raise GengoError(f"cannot read source '{source}': {e.strerror or e}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    return "ddl"


# --- PostgreSQL ---------------------------------------------------------------------------------

_TABLES = """
SELECT c.oid, c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.oid
"""
_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, t.typtype,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, t.typnotnull,
       CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
                                            ORDER BY e.enumsortorder) END,
       CASE WHEN t.typtype = 'd' THEN ARRAY(SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k
                                            WHERE k.contypid = t.oid AND k.contype = 'c') END,
       CASE WHEN t.typtype = 'd' THEN (SELECT ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                                       WHERE e.enumtypid = t.typbasetype ORDER BY e.enumsortorder)) END
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum
"""
_CONSTRAINTS = """
SELECT k.conrelid, k.contype,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
       f.relname,
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i),
       pg_get_constraintdef(k.oid)
FROM pg_constraint k LEFT JOIN pg_class f ON f.oid = k.confrelid
WHERE k.conrelid = ANY(%s) AND k.contype IN ('p', 'u', 'f', 'c') ORDER BY k.conrelid, k.contype, k.conname
"""
_UNIQUE_INDEXES = """
SELECT i.indrelid, ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY u(n, o)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n ORDER BY u.o)
FROM pg_index i WHERE i.indrelid = ANY(%s) AND i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL
  AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
"""
_STATS = """
SELECT tablename, attname, null_frac, n_distinct, most_common_vals::text::text[], most_common_freqs::float8[],
       histogram_bounds::text::text[]
FROM pg_stats WHERE schemaname = %s
"""


def _scrub(text: str, url: str) -> str:
    """A message without the URL's password, whatever the driver put in it."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in {password, unquote(password) if password else None} - {None, ""}:
        text = text.replace(secret, "***")
    return text


def describe_url(url: str) -> str:
    """``url`` without its password (and without options), for messages and the model file."""
    from urllib.parse import urlsplit

    try:
        u = urlsplit(url)
        user = f"{u.username}@" if u.username else ""
        return f"{u.scheme}://{user}{u.hostname or 'localhost'}:{u.port or 5432}{u.path or ''}"
    except ValueError:
        return "the given URL"


def read_postgres(url: str, schema: str | None, stats: bool, sample_rows: int | None) -> SourceSchema:
    try:
        import psycopg
    except ImportError:
        raise GengoError("reading PostgreSQL needs psycopg: pip install 'gengo-datagen[postgres]'") from None
    schema = schema or "public"
    where = describe_url(url)
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error as e:
        raise GengoError(_scrub(f"invalid PostgreSQL URL {where}: {_first_line(e)}", url)) from None
    timeout = {} if "connect_timeout" in params else {"connect_timeout": 10}
    try:
        con = psycopg.connect(url, application_name="gengo init", **timeout)
    except psycopg.Error as e:
        raise GengoError(_scrub(f"cannot connect to PostgreSQL at {where}: {_first_line(e)}", url)) from None
    try:
        con.read_only = True
        with con.transaction():
            con.execute("SET TRANSACTION READ ONLY")
            return _read_catalog(con, url, where, schema, stats, sample_rows)
    except psycopg.Error as e:
        raise GengoError(_scrub(f"reading {where}: {_first_line(e)}", url)) from None
    finally:
        con.close()


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(e).__name__


def _read_catalog(con: Any, url: str, where: str, schema: str, stats: bool, sample_rows: int | None) -> SourceSchema:
    out = SourceSchema(f"{where}, schema {schema}", "postgres")
    rows = con.execute(_TABLES, (schema,)).fetchall()
    if not rows:
        raise GengoError(f"{where}: schema '{schema}' has no tables (see --schema)")
    by_oid: dict[int, SourceTable] = {}
    for oid, name, reltuples in rows:
        t = SourceTable(name, [])
        if stats:
            t.rows = float(reltuples) if reltuples is not None and reltuples >= 0 else None
        by_oid[oid] = t
        out.tables.append(t)
    oids = list(by_oid)
    with quiet_sqlglot():
        for rel, name, type_text, notnull, typtype, base, dom_notnull, labels, dom_checks, base_labels in con.execute(
            _COLUMNS, (oids,)
        ).fetchall():
            t = by_oid[rel]
            text = base if typtype == "d" else type_text
            col = SourceColumn(name, parse_type(text, "postgres"), type_text, nullable=not (notnull or dom_notnull))
            if typtype == "e":
                col.enum = list(labels)
            elif typtype == "d" and base_labels:
                col.enum = list(base_labels)
            t.columns.append(col)
            for check in dom_checks or []:
                parsed = parse_check(check, "postgres")
                if parsed is not None:
                    t.checks.append(value_to_column(parsed, name))
        for rel, kind, cols, ftable, fcols, definition in con.execute(_CONSTRAINTS, (oids,)).fetchall():
            t = by_oid[rel]
            if kind == "p":
                t.primary_key = list(cols)
            elif kind == "u":
                t.uniques.append(list(cols))
            elif kind == "f":
                t.foreign_keys.append(ForeignKey(list(cols), ftable, list(fcols)))
            elif kind == "c":
                parsed = parse_check(definition, "postgres")
                if parsed is None:
                    out.notes.append(f"{t.name}: {definition} could not be read; not mapped")
                else:
                    t.checks.append(parsed)
        for rel, cols in con.execute(_UNIQUE_INDEXES, (oids,)).fetchall():
            by_oid[rel].uniques.append(list(cols))
    if stats:
        tables = {t.name: t for t in out.tables}
        for tname, col, null_frac, n_distinct, mcv, mcf, bounds in con.execute(_STATS, (schema,)).fetchall():
            t = tables.get(tname)
            c = t.column(col) if t else None
            if c is not None:
                c.stats = ColumnStats(null_frac, n_distinct, mcv, mcf, bounds)
    if sample_rows:
        from psycopg import sql

        for t in out.tables:
            q = sql.SQL("SELECT * FROM {}.{} LIMIT {}").format(
                sql.Identifier(schema), sql.Identifier(t.name), sql.Literal(sample_rows)
            )
            cur = con.execute(q)
            names = [d.name for d in cur.description]
            t.sample = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return out


# --- SQLite -------------------------------------------------------------------------------------


def read_sqlite(path: str, stats: bool, sample_rows: int | None) -> SourceSchema:
    import sqlite3
    from pathlib import Path

    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True)
        try:
            rows = con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND sql IS NOT NULL ORDER BY rowid"
            ).fetchall()
            indexes = con.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid"
            ).fetchall()
            if not rows:
                raise GengoError(f"{path}: the SQLite database has no tables")
            text = ";\n".join([r[1] for r in rows] + [r[0] for r in indexes]) + ";"
            out = read_ddl(text, path, "sqlite")
            out.description = f"{path} (SQLite)"
            for t in out.tables:
                if stats:
                    t.rows = float(con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0])
                if sample_rows:
                    cur = con.execute(f'SELECT * FROM "{t.name}" LIMIT ?', (sample_rows,))
                    names = [d[0] for d in cur.description]
                    t.sample = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            return out
        finally:
            con.close()
    except sqlite3.Error as e:
        raise GengoError(f"{path}: cannot read the SQLite database: {e}") from None


# --- DuckDB -------------------------------------------------------------------------------------


def read_duckdb(path: str, schema: str | None, stats: bool, sample_rows: int | None) -> SourceSchema:
    try:
        import duckdb
    except ImportError:
        raise GengoError("reading DuckDB files needs duckdb: pip install 'gengo-datagen[duckdb]'") from None
    schema = schema or "main"
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as e:
        raise GengoError(f"{path}: cannot open the DuckDB database: {_first_line(e)}") from None
    try:
        rows = con.execute(
            "SELECT table_name, sql FROM duckdb_tables() WHERE schema_name = ? AND database_name = current_database() "
            "ORDER BY table_oid",
            [schema],
        ).fetchall()
        if not rows:
            raise GengoError(f"{path}: schema '{schema}' has no tables (see --schema)")
        text = "\n".join(r[1] for r in rows)
        out = read_ddl(text, path, "duckdb")
        out.description = f"{path} (DuckDB), schema {schema}"
        out.notes.append("DuckDB keeps no varchar(n) lengths: text columns are unbounded")
        for t in out.tables:
            name = f'"{schema}"."{t.name}"'
            if stats:
                t.rows = float(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            if sample_rows:
                cur = con.execute(f"SELECT * FROM {name} LIMIT {int(sample_rows)}")
                names = [d[0] for d in cur.description]
                t.sample = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        return out
    except duckdb.Error as e:
        raise GengoError(f"{path}: cannot read the DuckDB database: {_first_line(e)}") from None
    finally:
        con.close()
