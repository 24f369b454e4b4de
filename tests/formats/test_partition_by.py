"""--partition-by TABLE=COLUMN[:day|month|year] for -f parquet, delta and iceberg, end to end.

The real command writes Hive directories; DuckDB (read_parquet with hive_partitioning, delta_scan,
iceberg_scan), deltalake and pyiceberg read them back with their partition columns and the rows of
the unpartitioned Parquet output of the same seed; the files are the same bytes at any worker count
and chunk size; verify passes; an interrupted run resumes; bad input is one line and writes nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import blake3
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gengo import api
from gengo.core.errors import GengoError
from gengo.engine import parts as engine_parts
from gengo.models import resolve_model
from tests.helpers import assert_one_line_error, duckdb_with, gen, manifest, run_gengo

deltalake = pytest.importorskip("deltalake")
pyiceberg_catalog = pytest.importorskip("pyiceberg.catalog")

SIZE = "2MB"
SEED = 11
SPEC = {
    "fact_orders_header": ("order_timestamp:month", "order_timestamp_month"),
    "fact_order_items": ("quantity", "quantity"),
    "dim_customer_addresses": ("state", "state"),  # text with spaces: "Argyll and Bute"
}
FLAGS = [a for t, (c, _) in SPEC.items() for a in ("--partition-by", f"{t}={c}")]
# Small row groups and two parts per table: a value's rows are held back and flushed across units.
LAYOUT = ("--parts", "2", "--row-group-size", "16384")
MODEL = resolve_model("ecommerce")


def columns(table: str) -> str:
    return ", ".join(f'"{c.name}"' for c in MODEL.table(table).columns)


def file_hashes(root: Path) -> dict[str, str]:
    """Every data file under ``root`` (not Delta logs or Iceberg metadata) -> BLAKE3."""
    return {
        str(p.relative_to(root)): blake3.blake3(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
        if "metadata" not in p.parts and "_delta_log" not in p.parts
    }


def same_rows(con, a: str, b: str) -> bool:
    """Same multiset of rows (EXCEPT ALL both ways) and the same count, for two SELECTs."""
    counts = [con.execute(f"SELECT count(*) FROM ({q})").fetchall()[0][0] for q in (a, b)]
    left = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall()[0][0]
    right = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchall()[0][0]
    return counts[0] == counts[1] > 0 and left == right == 0


def iceberg_catalog(out: Path):
    return pyiceberg_catalog.load_catalog(
        "gengo", type="sql", uri=f"sqlite:///{out / 'catalog.db'}", warehouse="file://"
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("partition_by")
    # The same plan (sizing depends on the row group size), one file per table.
    out = {"plain": gen(root / "plain", "ecommerce", SIZE, "parquet", SEED, "-q", *LAYOUT[2:])}
    for fmt in ("parquet", "delta", "iceberg"):
        out[fmt] = gen(root / fmt, "ecommerce", SIZE, fmt, SEED, "-q", "-w", "2", *LAYOUT, *FLAGS)
    for fmt in ("parquet", "iceberg"):  # one worker, other chunks: the same bytes
        extra = ("-w", "1", "--chunk-rows", "16384")
        out[f"{fmt}-w1"] = gen(root / f"{fmt}-w1", "ecommerce", SIZE, fmt, SEED, "-q", *extra, *LAYOUT, *FLAGS)
    return out


def test_parquet_directories_hold_their_values_and_the_unpartitioned_rows(runs):
    out, plain = runs["parquet"], runs["plain"]
    doc = manifest(out)
    assert doc["partition_by"] == {
        "dim_customer_addresses": {"column": "state", "granularity": None, "key": "state"},
        "fact_order_items": {"column": "quantity", "granularity": None, "key": "quantity"},
        "fact_orders_header": {"column": "order_timestamp", "granularity": "month", "key": "order_timestamp_month"},
    }
    rows = {}
    for e in doc["tables"]:
        rows[e["table"]] = rows.get(e["table"], 0) + e["rows"]
        if e["table"] in SPEC:
            assert re.fullmatch(rf"{e['table']}/{SPEC[e['table']][1]}=[^/]+/part-0000[01]\.parquet", e["file"]), e
        else:
            assert re.fullmatch(rf"{e['table']}/part-00000\.parquet", e["file"]), e
    assert rows == {e["table"]: e["rows"] for e in manifest(plain)["tables"]}  # the unpartitioned row counts
    assert len({e["file"].split("/")[1] for e in doc["tables"] if e["table"] == "fact_orders_header"}) > 6

    con = duckdb.connect()
    for t in MODEL.tables:
        hive = f"read_parquet('{out / t.name}/**/*.parquet', hive_partitioning = true)"
        one = f"read_parquet('{plain / t.name}.parquet')"
        assert same_rows(con, f"SELECT {columns(t.name)} FROM {hive}", f"SELECT {columns(t.name)} FROM {one}"), t.name
    month = f"read_parquet('{out}/fact_orders_header/*/*.parquet', hive_partitioning = true)"
    utc_month = "strftime(timezone('UTC', order_timestamp), '%Y-%m')"
    wrong = con.execute(f"SELECT count(*) FROM {month} WHERE {utc_month} <> order_timestamp_month").fetchall()[0][0]
    assert wrong == 0
    # The value's column is in the path, not in the files (Hive); a date part keeps its column.
    some = next((out / "fact_order_items").glob("quantity=*/part-*.parquet"))
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{some}', hive_partitioning = false)").fetchall()
    assert "quantity" not in [row[0] for row in described]
    by_path = con.execute(f"SELECT DISTINCT quantity FROM read_parquet('{some}', hive_partitioning = true)").fetchall()
    assert by_path == [(int(some.parent.name.split("=")[1]),)]


@pytest.mark.duckdb_lake
def test_delta_declares_its_partition_columns_and_reads_back(runs):
    out, plain = runs["delta"], runs["plain"]
    assert file_hashes(out) == file_hashes(runs["parquet"])  # the same files as -f parquet --partition-by
    con = duckdb.connect()
    duck = duckdb_with("delta")
    for t in MODEL.tables:
        dt = deltalake.DeltaTable(str(out / t.name))
        assert dt.version() == 0
        key = SPEC.get(t.name, (None, None))[1]
        assert dt.metadata().partition_columns == ([key] if key else [])
        data = dt.to_pyarrow_table()
        con.register("delta_rows", data)
        one = f"SELECT {columns(t.name)} FROM read_parquet('{plain / t.name}.parquet')"
        assert same_rows(con, f"SELECT {columns(t.name)} FROM delta_rows", one), t.name
        if key:  # every add action's partition value is its directory's
            actions = pa.table(dt.get_add_actions(flatten=True)).to_pydict()
            for path, value in zip(actions["path"], actions[f"partition.{key}"], strict=True):
                assert unquote(path).split("/")[0] == f"{key}={value}"
        if duck is not None:
            scanned = duck.execute(f"SELECT * FROM delta_scan('{out / t.name}')").to_arrow_table()
            con.register("scanned", scanned)
            assert same_rows(con, f"SELECT {columns(t.name)} FROM scanned", one), f"delta_scan {t.name}"
            if key:
                assert key in scanned.column_names
    months = deltalake.DeltaTable(str(out / "fact_orders_header")).to_pyarrow_table()
    expected = pc.strftime(months["order_timestamp"], "%Y-%m")
    assert months["order_timestamp_month"].to_pylist() == expected.to_pylist()


@pytest.mark.duckdb_lake
def test_iceberg_partition_spec_values_and_reads(runs):
    out, plain = runs["iceberg"], runs["plain"]
    catalog = iceberg_catalog(out)
    con = duckdb.connect()
    duck = duckdb_with("avro", "iceberg")
    transforms = {"fact_orders_header": "month", "fact_order_items": "identity", "dim_customer_addresses": "identity"}
    for t in MODEL.tables:
        table = catalog.load_table(("ecommerce", t.name))
        spec = table.spec()
        assert [(str(f.transform), f.name) for f in spec.fields] == (
            [(transforms[t.name], SPEC[t.name][1])] if t.name in SPEC else []
        )
        one = f"SELECT {columns(t.name)} FROM read_parquet('{plain / t.name}.parquet')"
        con.register("scanned", table.scan().to_arrow())
        assert same_rows(con, f"SELECT {columns(t.name)} FROM scanned", one), f"pyiceberg {t.name}"
        if duck is not None:
            con.register(
                "duck", duck.execute(f"SELECT * FROM iceberg_scan('{table.metadata_location}')").to_arrow_table()
            )
            assert same_rows(con, f"SELECT {columns(t.name)} FROM duck", one), f"iceberg_scan {t.name}"
        if t.name in SPEC:  # each file's partition value (from its statistics) is its directory's
            key = SPEC[t.name][1]
            files = table.inspect.files().to_pydict()
            for path, partition in zip(files["file_path"], files["partition"], strict=True):
                value = partition[key]
                if t.name == "fact_orders_header":  # months since 1970-01
                    value = f"{1970 + value // 12:04d}-{value % 12 + 1:02d}"
                assert Path(path).parent.name == f"{key}={value}", path
    orders = catalog.load_table(("ecommerce", "fact_orders_header"))
    pruned = orders.scan(row_filter="order_timestamp >= '2099-01-01T00:00:00+00:00'").plan_files()
    assert list(pruned) == [] and len(orders.inspect.files()) > 6  # months prune whole files


def test_files_are_the_same_bytes_at_any_worker_count_and_chunk_size(runs):
    for fmt in ("parquet", "iceberg"):
        one, two = runs[f"{fmt}-w1"], runs[fmt]
        assert file_hashes(one) == file_hashes(two) and len(file_hashes(one)) > 40, fmt
        assert {e["file"]: e["blake3"] for e in manifest(one)["tables"]} == file_hashes(two)


def test_verify_passes_and_finds_a_missing_partition_file(runs, tmp_path):
    for fmt in ("parquet", "delta", "iceberg"):
        r = run_gengo("verify", str(runs[fmt]))
        assert r.returncode == 0 and "verify: OK" in r.stdout, r.stdout + r.stderr
    # A foreign key as the partition column: it is only in the paths, and verify still checks it.
    fin = gen(
        tmp_path / "fin",
        "financial",
        "1MB",
        "parquet",
        SEED,
        "-q",
        "--partition-by",
        "fact_daily_stock_prices=exchange_id",
    )
    for engine in ("duckdb", "pyarrow"):
        report = api.verify(fin, engine=engine)
        assert report.ok and "3 foreign keys resolve" in report.checks, (engine, report.problems)
    victim = next((fin / "fact_daily_stock_prices").glob("exchange_id=*/part-*.parquet"))
    victim.unlink()
    r = run_gengo("verify", str(fin))
    assert r.returncode == 1 and f"{victim.relative_to(fin)}: missing" in r.stdout, r.stdout


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_an_interrupted_run_resumes_to_the_same_files(tmp_path, monkeypatch, fmt):
    # By month: a directory per day would be thousands of files here, each costing more than its rows.
    flags = {"partition_by": {"fact_order_items": "quantity", "fact_orders_header": "order_timestamp:month"}}
    fresh = tmp_path / "fresh"
    api.generate("ecommerce", "1MB", fmt, fresh, seed=SEED, workers=1, parts=3, row_group_size=16384, **flags)

    calls = {"n": 0}
    write = engine_parts._write_by_value

    def stop_at_the_second_part(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return write(*args)

    monkeypatch.setattr(engine_parts, "_write_by_value", stop_at_the_second_part)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        api.generate("ecommerce", "1MB", fmt, out, seed=SEED, workers=1, parts=3, row_group_size=16384, **flags)
    monkeypatch.setattr(engine_parts, "_write_by_value", write)
    progress = json.loads((out / ".gengo-progress.json").read_text())
    kept = {e["file"] for e in progress["files"] if "=" in e["file"]}
    assert kept and not (out / "manifest.json").exists()
    assert not list(out.rglob("_delta_log"))

    summary = api.generate("ecommerce", "1MB", fmt, out, workers=2, parts=3, row_group_size=16384, resume=True, **flags)
    assert kept <= set(summary.reused)
    assert file_hashes(out) == file_hashes(fresh)
    assert manifest(out)["tables"] == manifest(fresh)["tables"]
    if fmt == "delta":
        dt = deltalake.DeltaTable(str(out / "fact_order_items"))
        paths = pa.table(dt.get_add_actions(flatten=True)).to_pydict()["path"]
        assert dt.version() == 0 and len(paths) == len(set(paths)) == len(
            list((out / "fact_order_items").rglob("*.parquet"))
        )
    r = run_gengo("verify", str(out))
    assert r.returncode == 0, r.stdout


TINY = """\
model: tiny
description: values that need escaping, nulls and a float
tables:
  items:
    rows: scale
    columns:
      item_id: {primary_key: true}
      label: {strategy: choice, values: {"a/b": 3, "50%": 2, ".dot": 1, "x=y": 1, "with space": 2}, null_rate: 0.1}
      score: {strategy: expr, expr: "rand()"}
"""


def test_escaped_values_and_nulls_read_back(tmp_path):
    model = tmp_path / "tiny.yaml"
    model.write_text(TINY)
    out = tmp_path / "out"
    r = run_gengo(
        "gen",
        "-m",
        str(model),
        "--rows",
        "items=3000",
        "-f",
        "parquet",
        "-o",
        str(out),
        "-q",
        "--partition-by",
        "items=label",
    )
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (out / "items").iterdir())
    assert names == [
        "label=%2Edot",
        "label=50%25",
        "label=__HIVE_DEFAULT_PARTITION__",
        "label=a%2Fb",
        "label=with space",
        "label=x%3Dy",
    ]
    got = (
        duckdb.connect()
        .execute(
            f"SELECT label, count(*) FROM read_parquet('{out}/items/*/*.parquet', hive_partitioning = true) GROUP BY 1"
        )
        .fetchall()
    )
    labels = {label for label, _ in got}
    assert labels == {".dot", "50%", "a/b", "x=y", "with space", None} and sum(n for _, n in got) == 3000
    assert run_gengo("verify", str(out)).returncode == 0


EMPTY = """\
model: empty
description: a text column with empty strings and nulls
tables:
  items:
    rows: scale
    columns:
      item_id: {primary_key: true}
      label: {strategy: choice, values: {"": 3, "a": 2}, null_rate: 0.2}
"""


def _empty_strings_iceberg(tmp_path):
    """EMPTY as an Iceberg table partitioned by ``label``: (model file, output, table, nulls, empty strings)."""
    model = tmp_path / "empty.yaml"
    model.write_text(EMPTY)
    out = tmp_path / "out"
    r = run_gengo(
        "gen", "-m", str(model), "--rows", "items=2000", "--seed", "3", "-o", str(out), "-q",
        "-f", "iceberg", "--partition-by", "items=label",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    catalog = pyiceberg_catalog.load_catalog("gengo", type="sql", uri=f"sqlite:///{out / 'catalog.db'}")
    table = catalog.load_table(("empty", "items"))
    rows = table.scan().to_arrow()
    nulls, empty = rows["label"].null_count, pc.sum(pc.equal(rows["label"], "")).as_py()
    assert rows.num_rows == 2000 and nulls > 0 and empty > 0
    return model, out, table, nulls, empty


def test_iceberg_keeps_empty_strings_and_nulls_in_separate_files(tmp_path):
    # Iceberg records each file's partition value from its column: a file holding both "" and nulls
    # was recorded as "", and a scan for the nulls skipped it.
    model, out, table, nulls, empty = _empty_strings_iceberg(tmp_path)
    assert sorted(p.name for p in (out / "items").iterdir() if p.name != "metadata") == [
        "label=",
        "label=__HIVE_DEFAULT_PARTITION__",
        "label=a",
    ]
    assert table.scan(row_filter="label IS NULL").to_arrow().num_rows == nulls
    assert table.scan(row_filter="label == ''").to_arrow().num_rows == empty
    again = api.generate(
        str(model),
        None,
        "iceberg",
        out,
        seed=3,
        workers=1,
        rows=["items=2000"],
        partition_by=["items=label"],
        resume=True,
    )
    assert "items/label=/part-00000.parquet" in again.reused  # a resumed run knows the empty string's file
    assert api.verify(out).ok


BASE = ("gen", "-m", "ecommerce", "-s", "1MB", "--seed", "1", "-q")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("-f", "parquet", "--partition-by", "fact_order_itemz=quantity"), "did you mean 'fact_order_items'"),
        (("-f", "parquet", "--partition-by", "fact_order_items=quantty"), "did you mean 'quantity'"),
        (("-f", "csv", "--partition-by", "fact_order_items=quantity"), "not csv"),
        (("-f", "json", "--partition-by", "fact_order_items=quantity"), "not json"),
        (("-f", "duckdb", "--partition-by", "fact_order_items=quantity"), "not duckdb"),
        (("--db", "postgresql://gengo@127.0.0.1:1/x", "--partition-by", "fact_order_items=quantity"), "not --db"),
        (("-f", "parquet", "--partition-by", "fact_order_items=unit_price"), "decimal128(12, 2) column"),
        (("-f", "delta", "--partition-by", "fact_order_items=quantity:month"), "applies to date and timestamp"),
        (("-f", "iceberg", "--partition-by", "fact_orders_header=order_timestamp:week"), "use day, month or year"),
        (("-f", "parquet", "--partition-by", "fact_orders_header=order_timestamp"), "needs :day, :month or :year"),
        (("-f", "parquet", "--partition-by", "fact_order_items=order_item_id"), "distinct values"),
        (("-f", "parquet", "--partition-by", "fact_order_items"), "use TABLE=COLUMN"),
        (
            (
                "-f",
                "parquet",
                "--partition-by",
                "fact_order_items=quantity",
                "--partition-by",
                "fact_order_items=order_id",
            ),
            "twice",
        ),
        (
            ("-f", "parquet", "--tables", "dim_customers", "--partition-by", "fact_order_items=quantity"),
            "--tables leaves out",
        ),
    ],
)
def test_bad_partition_by_is_one_line_and_writes_nothing(tmp_path, extra, message):
    out = tmp_path / "out"
    r = run_gengo(*BASE, "-o", str(out), *extra)
    assert r.returncode == 1, r.stderr
    assert_one_line_error(r, message)
    assert not out.exists()


def test_bad_partition_by_from_a_model_file_and_the_api(tmp_path):
    model = tmp_path / "tiny.yaml"
    model.write_text(TINY)
    out = tmp_path / "out"
    for fmt, spec, message in [
        ("parquet", "items=score", "a double column"),  # a float
        ("delta", "items=label", "as delta: label=%2Edot"),  # Delta readers take %XX literally
    ]:
        r = run_gengo(
            "gen", "-m", str(model), "--rows", "items=3000", "-f", fmt, "-o", str(out), "--partition-by", spec
        )
        assert r.returncode == 1
        assert_one_line_error(r, message)
        assert not out.exists()
    with pytest.raises(GengoError, match="unknown column 'nope' of dim_customers"):
        api.generate("ecommerce", "1MB", "parquet", out, seed=1, partition_by={"dim_customers": "nope"})
    assert not out.exists()


def test_a_part_with_more_values_than_the_open_file_limit(tmp_path):
    """A part keeps a file per value open until it is complete: more days than the soft limit on
    open files (often 1024; 300 here) still work, in this process (one worker)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(300, hard), hard))
    try:
        summary = api.generate(
            "ecommerce",
            "1MB",
            "parquet",
            tmp_path / "out",
            seed=SEED,
            workers=1,
            tables="fact_orders_header",
            partition_by={"fact_orders_header": "order_timestamp:day"},
        )
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    days = {Path(p.name).parent.name for p in summary.parts}
    assert len(days) > 300 and sum(p.rows for p in summary.parts) == summary.total_rows


@pytest.mark.duckdb_lake
def test_duckdb_reads_an_iceberg_empty_string_partition_apart_from_the_nulls(tmp_path):
    _, _, table, nulls, empty = _empty_strings_iceberg(tmp_path)
    duck = duckdb_with("avro", "iceberg")
    assert duck is not None, "the duckdb-lake extra is not installed"
    scan = f"iceberg_scan('{table.metadata_location}')"
    got = duck.execute(
        f"SELECT count(*), count(*) FILTER (label IS NULL), count(*) FILTER (label = '') FROM {scan}"
    ).fetchone()
    assert got == (2000, nulls, empty)
    assert duck.execute(f"SELECT count(*) FROM {scan} WHERE label IS NULL").fetchone()[0] == nulls
