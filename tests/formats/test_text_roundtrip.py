"""CSV quoting and UTF-8: the text columns of ecommerce read back exactly by common readers.

The real `gengo` command writes the same rows as CSV, JSON Lines and Parquet; every reader
must return, for every text column, exactly the values the Parquet file holds (quotes
doubled, fields with commas or line breaks quoted, accents and symbols in UTF-8).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest

from tests.helpers import gen, manifest, run_gengo

TABLES = ("dim_customers", "dim_customer_addresses", "dim_products")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """ecommerce ``-s 0.02 --seed 5`` as CSV, then JSON Lines and Parquet with the same rows."""
    out = {"csv": gen(tmp_path_factory.mktemp("text-csv"), "ecommerce", "0.02", "csv", 5, "--tables", ",".join(TABLES))}
    pins = [f"--rows={t}={n}" for t, n in manifest(out["csv"])["planned_rows"].items()]
    for fmt in ("json", "parquet"):
        d = tmp_path_factory.mktemp(f"text-{fmt}")
        r = run_gengo(
            "gen", "-m", "ecommerce", "-f", fmt, "-o", str(d), "--seed", "5", "-q", "--tables", ",".join(TABLES), *pins
        )
        assert r.returncode == 0, r.stderr
        out[fmt] = d
    return out


def _expected(outputs, table: str) -> dict[str, list[str]]:
    """The text columns of ``table`` as the Parquet file holds them."""
    t = pq.read_table(outputs["parquet"] / f"{table}.parquet")
    return {f.name: t.column(f.name).to_pylist() for f in t.schema if pa.types.is_string(f.type)}


def _csv_path(outputs, table: str) -> Path:
    return outputs["csv"] / f"{table}.csv"


def _read_duckdb(path: Path) -> dict[str, list]:
    rel = duckdb.sql(f"SELECT * FROM read_csv('{path}', all_varchar = true)")
    return {name: list(col) for name, col in zip(rel.columns, zip(*rel.fetchall(), strict=True), strict=True)}


def _read_pyarrow(path: Path) -> dict[str, list]:
    # pyarrow splits rows at every line break unless told that quoted values may hold them.
    t = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=False, column_types={}, auto_dict_encode=False),
    )
    return {name: [None if v is None else str(v) for v in t.column(name).to_pylist()] for name in t.column_names}


def _read_polars(path: Path) -> dict[str, list]:
    return pl.read_csv(path, infer_schema=False).to_dict(as_series=False)


def _read_csv_module(path: Path) -> dict[str, list]:
    with open(path, newline="", encoding="utf-8") as f:  # newline="": the csv module handles line ends
        rows = list(csv.reader(f))
    return {name: [r[i] for r in rows[1:]] for i, name in enumerate(rows[0])}


def _read_pandas(path: Path) -> dict[str, list]:
    pd = pytest.importorskip("pandas")
    return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict(orient="list")


READERS = {
    "duckdb": _read_duckdb,
    "pyarrow": _read_pyarrow,
    "polars": _read_polars,
    "csv-module": _read_csv_module,
    "pandas": _read_pandas,
}


def test_the_data_exercises_quoting_and_utf8(outputs):
    """Not a vacuous round trip: the text holds every case RFC 4180 quoting must handle."""
    values = [v for table in TABLES for col in _expected(outputs, table).values() for v in col]
    for needle in (",", '"', "\n", "\r\n", "'"):
        assert any(needle in v for v in values), repr(needle)
    assert any(not v.isascii() for v in values)
    names = _expected(outputs, "dim_customers")
    assert any(not v.isascii() for v in names["first_name"] + names["last_name"])  # Quebec customers
    assert all(e.isascii() for e in names["email"])
    products = _expected(outputs, "dim_products")["product_name"]
    assert any('" ' in p for p in products) and any("'" in p for p in products)  # 27" Monitor, O'Brien
    addresses = _expected(outputs, "dim_customer_addresses")
    assert "Québec" in addresses["state"]
    raw = _csv_path(outputs, "dim_products").read_bytes()
    assert b'""' in raw and b"\r\n" in raw  # quotes doubled, a CRLF inside a quoted field
    raw.decode("utf-8")


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("table", TABLES)
def test_csv_readers_get_the_parquet_values(outputs, reader, table):
    expected = _expected(outputs, table)
    got = READERS[reader](_csv_path(outputs, table))
    for name, values in expected.items():
        assert got[name] == values, f"{reader} {table}.{name}"


@pytest.mark.parametrize("table", TABLES)
def test_json_lines_readers_get_the_parquet_values(outputs, table):
    expected = _expected(outputs, table)
    path = outputs["json"] / f"{table}.jsonl"
    rel = duckdb.sql(f"SELECT * FROM read_json('{path}', format = 'newline_delimited')")
    by_duckdb = dict(zip(rel.columns, map(list, zip(*rel.fetchall(), strict=True)), strict=True))
    by_pyarrow = pajson.read_json(path).to_pydict()
    for name, values in expected.items():
        assert by_duckdb[name] == values, f"duckdb {table}.{name}"
        assert by_pyarrow[name] == values, f"pyarrow {table}.{name}"


def test_csv_is_valid_utf8_with_lf_row_ends(outputs):
    """Row ends are ``\\n``; a ``\\r\\n`` only ever appears inside a quoted description."""
    text = _csv_path(outputs, "dim_products").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert sum(len(r) for r in rows) == len(rows) * len(rows[0])
    outside = "".join(text.split('"')[::2])  # the text outside quoted fields
    assert "\r" not in outside
