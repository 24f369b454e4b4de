"""``gen --db URL --batches N --history``: the ``<table>_history`` tables in PostgreSQL hold the rows
of the files' ``history/<table>_history.parquet``. Needs a server: .ci/run exports GENGO_TEST_PG_URL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from gengo.engine.history import history_tables
from gengo.models import resolve_model
from tests.db_helpers import PG_URL
from tests.helpers import run_gengo

needs_pg = pytest.mark.skipif(not PG_URL, reason="GENGO_TEST_PG_URL not set (see .ci/run)")
ECOMMERCE = ("-m", "ecommerce", "--rows", "fact_orders_header=1000", "--seed", "5", "-q")
SCHEMA = "gengo_test_history"


@needs_pg
def test_history_tables_in_postgres_equal_the_history_files(tmp_path: Path) -> None:
    psycopg = pytest.importorskip("psycopg")
    r = run_gengo("gen", *ECOMMERCE, "--db", PG_URL, "--schema", SCHEMA, "--force", "--batches", "2", "--history")
    assert r.returncode == 0, r.stderr + r.stdout
    r = run_gengo("gen", *ECOMMERCE, "-f", "parquet", "-o", str(tmp_path / "files"), "--batches", "2", "--history")
    assert r.returncode == 0, r.stderr + r.stdout
    model = resolve_model("ecommerce")
    names = history_tables(model, model.table_names)
    assert names
    with psycopg.connect(PG_URL, autocommit=True) as con:
        try:
            for name in names:
                key = ", ".join(f'"{c}"' for c in [*model.table(name).primary_key, "valid_from"])
                path = tmp_path / "files" / "history" / f"{name}_history.parquet"
                expected = duckdb.connect().execute(f"SELECT * FROM '{path}' ORDER BY {key}").fetchall()
                got = con.execute(f'SELECT * FROM "{SCHEMA}"."{name}_history" ORDER BY {key}').fetchall()
                assert any(not row[-1] for row in got), name  # versions that ended (is_current false)
                assert got == expected, name
        finally:
            con.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
