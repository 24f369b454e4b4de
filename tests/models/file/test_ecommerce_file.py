"""examples/models/ecommerce.yaml against the built-in ecommerce: the same shape, counts and bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from gengo import api
from gengo.core import vocab
from gengo.models import resolve_model
from tests.helpers import gen, run_gengo

ROOT = Path(__file__).resolve().parents[3]
FILE = str(ROOT / "examples" / "models" / "ecommerce.yaml")


def test_same_tables_columns_types_and_keys():
    built, file = resolve_model("ecommerce"), resolve_model(FILE)
    assert file.table_names == built.table_names
    for a, b in zip(built.tables, file.tables, strict=True):
        assert [(c.name, c.type, c.primary_key, c.references) for c in b.columns] == [
            (c.name, c.type, c.primary_key, c.references) for c in a.columns
        ], a.name


@pytest.mark.parametrize("orders", [1, 999, 123_457])
def test_same_row_counts_for_the_same_rows(orders):
    pins = {"fact_orders_header": orders}
    built = api.plan("ecommerce", None, "csv", 7, rows=pins)
    file = api.plan(FILE, None, "csv", 7, rows=pins)
    assert file.rows == built.rows


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_same_row_counts_for_the_same_size(fmt):
    """Sizing depends only on the bytes a model writes, and the file writes the built-in's."""
    assert api.plan(FILE, 0.05, fmt, 1).rows == api.plan("ecommerce", 0.05, fmt, 1).rows


def _data_files(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.name not in ("manifest.json", "schema.sql")  # they name the model
    }


@pytest.mark.parametrize(
    ("fmt", "seed", "workers"), [("csv", "11", ("1", "2")), ("json", "12", ("2", "1")), ("parquet", "13", ("2", "2"))]
)
def test_the_same_bytes_as_the_built_in(tmp_path, fmt, seed, workers):
    dirs = []
    for name, model, w in (("built", "ecommerce", workers[0]), ("file", FILE, workers[1])):
        out = tmp_path / name
        r = run_gengo("gen", "-m", model, "-s", "4MB", "-f", fmt, "-o", str(out), "--seed", seed, "--workers", w)
        assert r.returncode == 0, r.stdout + r.stderr
        dirs.append(out)
    built, file = (_data_files(d) for d in dirs)
    assert len(built) == 7
    assert file == built


@pytest.fixture(scope="module")
def file_out(tmp_path_factory):
    """The acceptance command: gengo gen -m examples/models/ecommerce.yaml -s 0.05 -f parquet --seed 1."""
    return gen(tmp_path_factory.mktemp("ecommerce-file") / "out", FILE, "0.05", "parquet", 1)


def _con(directory: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for p in directory.glob("*.parquet"):
        con.execute(f"CREATE VIEW {p.stem} AS SELECT * FROM read_parquet('{p}')")
    return con


def test_the_acceptance_command_verifies(file_out):
    r = run_gengo("verify", str(file_out))
    assert r.returncode == 0, r.stdout + r.stderr


def test_prices_come_from_the_products_and_addresses_from_the_customer(file_out):
    con = _con(file_out)
    assert con.execute(
        """SELECT count(*) FROM fact_order_items i JOIN dim_products p USING (product_id)
           WHERE i.unit_price <> p.base_price"""
    ).fetchall() == [(0,)]
    assert con.execute(
        """SELECT count(*) FROM fact_orders_header o
           JOIN dim_customer_addresses a ON a.address_id = o.shipping_address_id WHERE a.customer_id <> o.customer_id"""
    ).fetchall() == [(0,)]
    assert con.execute(
        """SELECT count(*) FROM fact_orders_header o
           JOIN dim_customer_addresses a ON a.address_id = o.billing_address_id
           WHERE a.customer_id <> o.customer_id OR a.address_type = 'shipping'"""
    ).fetchall() == [(0,)]
    assert con.execute(  # an order lists each product once (the catalogue is larger than an order)
        "SELECT count(*) FROM (SELECT order_id, product_id FROM fact_order_items GROUP BY 1, 2 HAVING count(*) > 1)"
    ).fetchall() == [(0,)]
    # French-Canadian first names where the customer lives in Quebec (elsewhere only names both lists share).
    con.register("fr", pa.table({"name": vocab.locale_names("fr_CA", "first").values}))
    quebec, french, elsewhere = con.execute(
        """WITH c AS (SELECT customer_id, first_name,
                             customer_id IN (SELECT customer_id FROM dim_customer_addresses WHERE state = 'Québec') q
                      FROM dim_customers)
           SELECT count(*) FILTER (WHERE q), count(*) FILTER (WHERE q AND first_name IN (SELECT name FROM fr)),
                  avg((first_name IN (SELECT name FROM fr))::INT) FILTER (WHERE NOT q) FROM c"""
    ).fetchall()[0]
    assert quebec > 100 and french == quebec and elsewhere < 0.5, (quebec, french, elsewhere)
