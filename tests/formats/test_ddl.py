"""`gengo ddl`: types, keys, composite keys, and DDL that DuckDB and PostgreSQL execute."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from gengo.core.schema import Column, Model, Table
from gengo.formats import ddl
from gengo.models import MODELS
from tests.db_helpers import PG_URL
from tests.helpers import run_gengo

MODEL_NAMES = sorted(MODELS)


def test_types_per_dialect():
    ts = pa.timestamp("us", tz="UTC")
    cases = {
        pa.int64(): ("BIGINT", "BIGINT", "BIGINT"),
        pa.int32(): ("INTEGER", "INTEGER", "INTEGER"),
        pa.decimal128(12, 2): ("DECIMAL(12,2)", "NUMERIC(12,2)", "DECIMAL(12,2)"),
        pa.string(): ("VARCHAR", "TEXT", "VARCHAR"),
        pa.date32(): ("DATE", "DATE", "DATE"),
        ts: ("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE"),
        pa.bool_(): ("BOOLEAN", "BOOLEAN", "BOOLEAN"),
    }
    for arrow_type, expected in cases.items():
        assert tuple(ddl.column_type(arrow_type, d) for d in ("duckdb", "postgres", "ansi")) == expected


def _toy_model() -> Model:
    """A composite primary key, a full composite reference is impossible; one column of it is referenced."""
    sales = Table(
        "sales",
        (Column("item", pa.int64(), primary_key=True), Column("ticket", pa.int64(), primary_key=True)),
        build=lambda ctx: {},
    )
    returns = Table(
        "returns",
        (
            Column("return_id", pa.int64(), primary_key=True),
            Column("ticket", pa.int64(), references="sales.ticket"),
            Column("note", pa.string(), nullable=True),
        ),
        build=lambda ctx: {},
    )
    return Model("toy", (), "", (returns, sales), row_counts=lambda scale, seed: {"sales": 1, "returns": 1})


def test_composite_keys_and_partial_references():
    text = ddl.ddl(_toy_model(), "duckdb")
    assert 'PRIMARY KEY ("item", "ticket")' in text
    assert "FOREIGN KEY (" not in text  # ticket alone is not a key of sales
    assert "-- returns.ticket -> sales.ticket: ticket is not a key of sales" in text
    assert text.index('CREATE TABLE "sales"') < text.index('CREATE TABLE "returns"')  # parents first
    assert '"note" VARCHAR,' in text and '"return_id" BIGINT NOT NULL' in text
    duckdb.connect().execute(text)


def test_ecommerce_ds_sales_have_composite_keys():
    text = ddl.ddl(MODELS["ecommerce-ds"], "duckdb")
    assert 'PRIMARY KEY ("ss_item_sk", "ss_ticket_number")' in text
    assert 'PRIMARY KEY ("inv_date_sk", "inv_item_sk", "inv_warehouse_sk")' in text
    assert 'FOREIGN KEY ("sr_item_sk") REFERENCES "item" ("i_item_sk")' in text


@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.parametrize("dialect", ["duckdb", "ansi"])
def test_cli_ddl_runs_in_duckdb(model, dialect):
    r = run_gengo("ddl", "-m", model, "--dialect", dialect)
    assert r.returncode == 0, r.stderr
    con = duckdb.connect()
    con.execute(r.stdout)
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == set(MODELS[model].table_names)
    fks = con.execute("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'FOREIGN KEY'").fetchone()[0]
    assert fks == sum(len(t.foreign_keys) for t in MODELS[model].tables)  # every reference is to a whole key


def test_cli_ddl_bad_dialect():
    r = run_gengo("ddl", "-m", "ecommerce", "--dialect", "oracle")
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "dialect" in r.stderr


@pytest.mark.skipif(not PG_URL, reason="GENGO_TEST_PG_URL not set (see .ci/run)")
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_cli_ddl_runs_in_postgres(model):
    psycopg = pytest.importorskip("psycopg")
    schema = f"gengo_ddl_{model.replace('-', '_')}"
    r = run_gengo("ddl", "-m", model, "--dialect", "postgres", "--schema", schema)
    assert r.returncode == 0, r.stderr
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        try:
            con.execute(r.stdout)
            n = con.execute(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = %s::regnamespace", (schema,)
            ).fetchone()[0]
            assert n == sum(len(t.foreign_keys) for t in MODELS[model].tables)
        finally:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
