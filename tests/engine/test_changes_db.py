"""``gen --db URL --batches N``: the base load, then each batch one transaction of INSERT, UPDATE
and DELETE statements; the final state is ``--as-of N``'s. ``--db --as-of K`` loads the snapshot.

The loading tests need a server: .ci/run starts one and exports GENGO_TEST_PG_URL.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from gengo.models import resolve_model
from tests.db_helpers import PG_URL
from tests.engine.test_changes import SHOP
from tests.helpers import assert_one_line_error, run_gengo

needs_pg = pytest.mark.skipif(not PG_URL, reason="GENGO_TEST_PG_URL not set (see .ci/run)")
ECOMMERCE = ("-m", "ecommerce", "--rows", "fact_orders_header=3000", "--seed", "5")  # rows pinned: files and --db alike


def _gen(*args: str) -> None:
    r = run_gengo("gen", "-q", *args)
    assert r.returncode == 0, r.stderr + r.stdout


def _rows(con, schema: str, table: str, key: tuple[str, ...]) -> list[tuple]:
    order = ", ".join(f'"{c}"' for c in key)
    return con.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY {order}').fetchall()


@pytest.fixture
def pg():
    psycopg = pytest.importorskip("psycopg")
    schemas: list[str] = []
    with psycopg.connect(PG_URL, autocommit=True) as con:
        yield con, schemas
        for s in schemas:
            con.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')


@needs_pg
def test_batches_applied_in_postgres_equal_the_as_of_files(pg, tmp_path: Path) -> None:
    con, schemas = pg
    schemas += ["gengo_test_batches", "gengo_test_as_of"]
    _gen(*ECOMMERCE, "--db", PG_URL, "--schema", schemas[0], "--force", "--batches", "3")
    _gen(*ECOMMERCE, "--db", PG_URL, "--schema", schemas[1], "--force", "--as-of", "3")
    _gen(*ECOMMERCE, "-f", "parquet", "-o", str(tmp_path / "snap"), "--as-of", "3")
    model = resolve_model("ecommerce")
    for t in model.tables:
        files = duckdb.connect().execute(
            f"SELECT * FROM '{tmp_path / 'snap' / f'{t.name}.parquet'}' ORDER BY "
            + ", ".join(f'"{c}"' for c in t.primary_key)
        )
        expected = files.fetchall()
        assert expected, t.name
        assert _rows(con, schemas[0], t.name, t.primary_key) == expected, t.name  # batches applied
        assert _rows(con, schemas[1], t.name, t.primary_key) == expected, t.name  # the snapshot loaded


@needs_pg
def test_each_batch_is_one_transaction_of_row_statements(pg, tmp_path: Path) -> None:
    """New orders of the three batches carry three transaction ids (xmin), one per batch, and
    updated base rows carry those ids too; foreign keys held throughout (they are enforced)."""
    con, schemas = pg
    schemas.append("gengo_test_batch_tx")
    _gen(*ECOMMERCE, "-f", "parquet", "-o", str(tmp_path / "base"))
    orders = tmp_path / "base" / "fact_orders_header.parquet"
    n = duckdb.connect().execute(f"SELECT max(order_id) FROM '{orders}'").fetchone()[0]
    _gen(*ECOMMERCE, "--db", PG_URL, "--schema", schemas[0], "--force", "--batches", "3")
    s = f'"{schemas[0]}"'
    new = con.execute(f"SELECT count(DISTINCT xmin::text) FROM {s}.fact_orders_header WHERE order_id > %s", (n,))
    assert new.fetchone()[0] == 3
    load = con.execute(f"SELECT xmin::text FROM {s}.dim_suppliers LIMIT 1").fetchone()[0]  # never changes: the load's
    changed = con.execute(
        f"SELECT count(*) FROM {s}.fact_orders_header WHERE order_id <= %s AND xmin::text <> %s", (n, load)
    ).fetchone()[0]
    assert changed > 0  # status updates of base orders
    fks = con.execute(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = %s::regnamespace", (schemas[0],)
    ).fetchone()[0]
    assert fks == sum(len(t.foreign_keys) for t in resolve_model("ecommerce").tables)


@needs_pg
def test_deletes_and_updates_reach_postgres(pg, tmp_path: Path) -> None:
    """A model with deletes (children's lines), inserts and updates: applied == loaded snapshot."""
    con, schemas = pg
    schemas += ["gengo_test_shop_batches", "gengo_test_shop_as_of"]
    model = tmp_path / "shop.yaml"
    model.write_text(SHOP)
    args = ("-m", str(model), "--rows", "orders=300", "--seed", "7")
    _gen(*args, "--db", PG_URL, "--schema", schemas[0], "--force", "--batches", "4", "--workers", "2")
    _gen(*args, "--db", PG_URL, "--schema", schemas[1], "--force", "--as-of", "4", "--workers", "1")
    shop = resolve_model(str(model))
    for t in shop.tables:
        assert _rows(con, schemas[0], t.name, t.primary_key) == _rows(con, schemas[1], t.name, t.primary_key)
    r = run_gengo("gen", *args, "--db", PG_URL, "--schema", schemas[0], "--force", "--batches", "4")
    assert r.returncode == 0, r.stderr
    assert "deletes" in r.stdout and " 0 deletes" not in r.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--batches", "2", "--change-format", "debezium"), "--change-format"),
        (("--as-of", "2", "--history"), "give --batches"),  # --history with --batches loads <table>_history
        (("--batches", "2", "--as-of", "3"), "beyond --batches"),
    ],
)
def test_bad_db_change_options(args: tuple[str, ...], fragment: str) -> None:
    pytest.importorskip("psycopg")
    url = PG_URL or "postgresql://nobody@127.0.0.1:1/x"
    if fragment in ("beyond --batches", "give --batches") and not PG_URL:
        pytest.skip("checked after connecting: needs a server")
    r = run_gengo("gen", *ECOMMERCE, "--db", url, "--schema", "gengo_test_bad_changes", "--force", *args)
    assert_one_line_error(r, fragment)
    if PG_URL:  # nothing created
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as con:
            found = con.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'gengo_test_bad_changes'").fetchone()
        assert found is None
