"""End-to-end: the real `gengo` command writes the ecommerce model; DuckDB checks the data."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from faker.providers.person.fr_CA import Provider as QuebecNames

from gengo.models import resolve_model
from gengo.models.ecommerce import row_counts
from tests.helpers import connect, gen, manifest, run_gengo

FORMATS = ["csv", "json", "parquet"]
MODEL = resolve_model("ecommerce")


@pytest.fixture(scope="session")
def datasets(tmp_path_factory):
    """``-s 0.05 --seed 1`` in every format."""
    return {fmt: gen(tmp_path_factory.mktemp(f"ecom-{fmt}"), "ecommerce", "0.05", fmt, 1) for fmt in FORMATS}


@pytest.fixture(scope="session")
def same_rows(tmp_path_factory, datasets):
    """JSON and Parquet with the CSV run's row counts: sizing is per format, the data is not."""
    rows = manifest(datasets["csv"])["planned_rows"]
    pins = [f"--rows={t}={n}" for t, n in rows.items()]
    out = {"csv": datasets["csv"]}
    for fmt in ("json", "parquet"):
        d = tmp_path_factory.mktemp(f"ecom-same-{fmt}")
        r = run_gengo("gen", "-m", "ecommerce", "-f", fmt, "-o", str(d), "--seed", "1", "-q", *pins)
        assert r.returncode == 0, r.stderr
        out[fmt] = d
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_files_and_manifest(datasets, fmt):
    out = datasets[fmt]
    m = manifest(out)
    assert m["model"] == "ecommerce" and m["seed"] == 1 and m["complete"] is True
    ext = {"csv": "csv", "json": "jsonl", "parquet": "parquet"}[fmt]
    names = {p.name for p in out.iterdir()}
    assert {f"{t}.{ext}" for t in MODEL.table_names} | {"manifest.json"} <= names
    assert not [n for n in names if n.endswith(".gengo-tmp")]
    con = connect(out, fmt, "ecommerce")
    for entry in m["tables"]:
        assert (out / entry["file"]).stat().st_size == entry["bytes"]
        assert con.execute(f'SELECT count(*) FROM "{entry["table"]}"').fetchone()[0] == entry["rows"]


def test_three_formats_hold_the_same_values(same_rows):
    cons = {fmt: connect(same_rows[fmt], fmt, "ecommerce") for fmt in FORMATS}
    for table in MODEL.tables:
        cols = ", ".join(
            f'CAST("{c.name}" AS DOUBLE)' if "decimal" in str(c.type) else f'"{c.name}"' for c in table.columns
        )
        pk = table.primary_key[0]
        ref = cons["parquet"].execute(f'SELECT {cols} FROM "{table.name}" ORDER BY "{pk}"').fetchall()
        assert ref, table.name
        for fmt in ("csv", "json"):
            got = cons[fmt].execute(f'SELECT {cols} FROM "{table.name}" ORDER BY "{pk}"').fetchall()
            assert got == ref, f"{table.name}: {fmt} differs from parquet"


def test_rows_are_in_key_order(datasets):
    con = connect(datasets["csv"], "csv", "ecommerce")
    for table in MODEL.tables:
        pk = table.primary_key[0]
        unordered = con.execute(f"""SELECT count(*) FROM (SELECT "{pk}" - lag("{pk}") OVER () AS d
                                   FROM "{table.name}") WHERE d <> 1""").fetchone()[0]
        assert unordered == 0, table.name


def test_unit_price_is_the_product_price_and_timestamps_are_real(datasets):
    con = connect(datasets["parquet"], "parquet", "ecommerce")
    mismatched = con.execute("""SELECT count(*) FROM fact_order_items i JOIN dim_products p USING (product_id)
                                WHERE i.unit_price <> p.base_price""").fetchone()[0]
    assert mismatched == 0
    lo, hi = con.execute("SELECT min(order_timestamp), max(order_timestamp) FROM fact_orders_header").fetchone()
    assert lo.year == 2020 and hi.year == 2024
    assert con.execute("SELECT min(base_price) > 0 FROM dim_products").fetchone()[0]
    # Orders grow over time: the last year has more orders than the first.
    first, last = con.execute("""SELECT count(*) FILTER (WHERE year(order_timestamp) = 2020),
                                        count(*) FILTER (WHERE year(order_timestamp) = 2024)
                                 FROM fact_orders_header""").fetchone()
    assert last > first


def test_popularity_is_skewed_yet_broad(datasets):
    con = connect(datasets["parquet"], "parquet", "ecommerce")
    n_products = con.execute("SELECT count(*) FROM dim_products").fetchone()[0]
    shares = con.execute("""SELECT count(*) / sum(count(*)) OVER () AS s FROM fact_order_items
                            GROUP BY product_id ORDER BY s DESC""").fetchall()
    top1 = sum(s for (s,) in shares[: max(1, n_products // 100)])
    assert top1 > 0.3, f"top 1% of products carry only {top1:.1%} of items"
    assert len(shares) > 0.5 * n_products, "most products should sell at least once"
    customers = con.execute("SELECT count(*) FROM dim_customers").fetchone()[0]
    ordering = con.execute("SELECT count(DISTINCT customer_id) FROM fact_orders_header").fetchone()[0]
    assert ordering > 0.6 * customers


def test_parquet_types(datasets):
    schema = pq.read_schema(datasets["parquet"] / "fact_orders_header.parquet")
    assert str(schema.field("order_id").type) == "int64"
    assert str(schema.field("order_timestamp").type) == "timestamp[us, tz=UTC]"
    meta = pq.ParquetFile(datasets["parquet"] / "fact_order_items.parquet").metadata
    assert meta.row_group(0).column(0).compression == "SNAPPY"
    assert (
        str(pq.read_schema(datasets["parquet"] / "fact_order_items.parquet").field("unit_price").type)
        == "decimal128(12, 2)"
    )


def test_csv_is_rfc4180_with_iso_timestamps(datasets):
    import csv

    header_line = (datasets["csv"] / "fact_orders_header.csv").read_text().splitlines()[:2]
    assert header_line[0] == (
        "order_id,customer_id,shipping_address_id,billing_address_id,order_timestamp,order_status"
    )
    assert header_line[1].split(",")[4].endswith("Z") and "T" in header_line[1].split(",")[4]
    with open(datasets["csv"] / "dim_suppliers.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert all(len(r) == 3 for r in rows)
    assert any("," in r[1] for r in rows[1:]), "company names with commas must be quoted"


def test_us_addresses_name_one_state_per_state_code(datasets):
    con = connect(datasets["parquet"], "parquet", "ecommerce")
    mixed = con.execute(r"""
        SELECT count(*) FROM (
            SELECT state FROM dim_customer_addresses WHERE country = 'United States'
            GROUP BY state HAVING count(DISTINCT regexp_extract(address, ', ([A-Z]{2}) \d{5}$', 1)) <> 1)
    """).fetchone()[0]
    assert mixed == 0
    zips = con.execute("""SELECT count(*) FILTER (WHERE NOT regexp_matches(zip, '^\\d{5}$'))
                          FROM dim_customer_addresses WHERE country = 'United States'""").fetchone()[0]
    assert zips == 0


# --- baskets (issue 20, item 14); fan-outs, one product per order line, addresses of the ordering
# customer and the local evening peak are declared checks of the model (tests/models/test_contract.py)


@pytest.mark.parametrize("products", [3, 12, 2000])
def test_distinct_products_per_order_in_any_chunking(products):
    """Orders cut by chunk boundaries get the same products; tiny catalogues exercise re-draws and the walk."""
    rows = row_counts(1000, 4)
    rows["dim_products"] = products
    items = MODEL.table("fact_order_items")
    n = rows["fact_order_items"]
    whole = items.generate(4, rows, np.arange(n, dtype=np.int64))
    for chunk in (13, 1000):
        parts = [items.generate(4, rows, np.arange(a, min(a + chunk, n), dtype=np.int64)) for a in range(0, n, chunk)]
        assert pa.concat_tables(parts).equals(whole), chunk
    single = [items.generate(4, rows, np.array([i], dtype=np.int64)) for i in range(100)]
    assert pa.concat_tables(single).equals(whole.slice(0, 100))
    scattered = np.random.default_rng(products).permutation(n)[:500]  # as sizing samples ask, in any order
    assert items.generate(4, rows, scattered).equals(whole.take(pa.array(scattered)))
    order = whole.column("order_id").to_numpy()
    product = whole.column("product_id").to_numpy()
    lines = np.bincount(order)[order]
    pairs = np.unique(np.stack([order, product]), axis=1).shape[1]
    fits = lines <= products
    # Every order with no more lines than products lists distinct products; larger ones cycle.
    assert np.unique(np.stack([order[fits], product[fits]]), axis=1).shape[1] == fits.sum()
    assert pairs == sum(min(int(c), products) for c in np.bincount(order) if c)


def test_quebec_customers_have_french_names_and_addresses(datasets):
    """A customer's country group decides both the address pool and the name pool."""
    con = connect(datasets["parquet"], "parquet", "ecommerce")
    rows = con.execute("""
        SELECT c.first_name, c.last_name, c.email, bool_and(a.state = 'Québec'), bool_or(a.state = 'Québec')
        FROM dim_customers c JOIN dim_customer_addresses a USING (customer_id) GROUP BY ALL
    """).fetchall()
    quebec = [r for r in rows if r[4]]
    assert quebec and all(r[3] for r in quebec)  # all of a customer's addresses in one place
    assert 0.005 < len(quebec) / len(rows) < 0.03
    assert all(r[0] in QuebecNames.first_names and r[1] in QuebecNames.last_names for r in quebec)
    assert any(not (r[0] + r[1]).isascii() for r in quebec)
    assert all(r[2].isascii() for r in quebec)
    street = con.execute("SELECT address FROM dim_customer_addresses WHERE state = 'Québec' LIMIT 1").fetchone()[0]
    assert "(QC)" in street


def test_order_time_zone_is_the_billing_address_zone_quebec_included():
    """billing_zone repeats the address draws: its zone must be the zone of the address actually written."""
    import numpy as np

    from gengo import api
    from gengo.core import vocab
    from gengo.models import ecommerce

    p = api.plan("ecommerce", "5MB", "parquet", seed=9, workers=1)
    addresses = ecommerce.MODEL.table(ecommerce.ADDRESSES)
    n = p.rows[ecommerce.ADDRESSES]
    rows = addresses.generate(9, p.rows, np.arange(n, dtype=np.int64))
    zones = vocab.locality_zones()
    pools = vocab.address_pools()
    got = ecommerce.billing_zone(9, np.asarray(rows["customer_id"]) - 1, np.arange(n, dtype=np.int64))
    states = rows["state"].to_pylist()
    names = zones.names.to_pylist()
    quebec = [names[z] for z, s in zip(got, states, strict=True) if s == "Québec"]
    assert quebec and set(quebec) == {"America/Toronto"}
    assert len(pools.countries) >= 4
