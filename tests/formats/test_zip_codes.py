"""ZIP codes with a leading zero in CSV (issue 20 item 16): the README's reader recipes keep them.

gengo writes ``ca_zip`` as text (``"02134"``); readers that guess types from the values make
it an integer and drop the zero. These tests pin both the problem and each documented fix.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tests.helpers import gen


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return gen(tmp_path_factory.mktemp("zips"), "ecommerce-ds", "0.01", "csv", 1, "--tables", "customer_address")


@pytest.fixture(scope="module")
def written(out) -> list[str]:
    """``ca_zip`` exactly as written (the csv module never converts)."""
    with open(out / "customer_address.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    zips = [r["ca_zip"] for r in rows]
    assert sum(z.startswith("0") for z in zips) > len(zips) / 50  # about 8% in TPC-DS
    return zips


def test_guessing_readers_lose_the_leading_zero(out, written):
    """The problem the README documents: default pandas / polars / pyarrow reads give integers."""
    path = out / "customer_address.csv"
    pd = pytest.importorskip("pandas")
    assert pd.read_csv(path)["ca_zip"].dtype.kind == "i"
    assert pl.read_csv(path).schema["ca_zip"].is_integer()
    assert pa.types.is_integer(pacsv.read_csv(path).schema.field("ca_zip").type)


def test_readme_recipes_keep_zip_codes_as_text(out, written):
    path = out / "customer_address.csv"
    # DuckDB: the schema.sql written next to the data, then COPY.
    con = duckdb.connect()
    con.execute((out / "schema.sql").read_text())
    con.execute(f"COPY customer_address FROM '{path}' (HEADER)")
    assert [r[0] for r in con.execute("SELECT ca_zip FROM customer_address").fetchall()] == written
    # DuckDB without the schema: types= for the column.
    rel = duckdb.sql(f"SELECT ca_zip FROM read_csv('{path}', types = {{'ca_zip': 'VARCHAR'}})")
    assert [r[0] for r in rel.fetchall()] == written
    assert pl.read_csv(path, schema_overrides={"ca_zip": pl.String})["ca_zip"].to_list() == written
    opts = pacsv.ConvertOptions(column_types={"ca_zip": pa.string()})
    assert pacsv.read_csv(path, convert_options=opts).column("ca_zip").to_pylist() == written
    pd = pytest.importorskip("pandas")
    assert pd.read_csv(path, dtype={"ca_zip": str})["ca_zip"].tolist() == written
