"""Sizing lands on the target; --rows, --tables, --compression, --row-group-size and --dry-run
do what they say (the files are read back)."""

import gzip
import json

import duckdb
import pyarrow.parquet as pq
import pytest

import gengo
from gengo.core.errors import GengoError
from tests.helpers import gen, manifest, run_gengo

MODELS = ["ecommerce", "ecommerce-ds", "financial", "medical"]
FORMATS = ["csv", "json", "parquet"]


def _sizes(model: str, fmt: str) -> list[str]:
    """One size per case, three across each model's formats and four across each format's models,
    so every model and every format is sized at a small and a larger scale."""
    if (model, fmt) == ("ecommerce-ds", "json"):
        return ["100MB"]  # TPC-DS's fixed calendars (date_dim, time_dim) alone are ~60 MB of JSON Lines
    return [["20MB", "40MB", "60MB"][(MODELS.index(model) + FORMATS.index(fmt)) % 3]]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("model", MODELS)
def test_written_bytes_land_within_5_percent(tmp_path, model, fmt):
    for size in _sizes(model, fmt):
        out = gen(tmp_path / size, model, size, fmt, 1)
        target = int(size.removesuffix("MB")) * 10**6
        written = sum(p.stat().st_size for p in out.iterdir() if p.name not in ("manifest.json", "schema.sql"))
        assert manifest(out)["total_bytes"] == written
        assert abs(written / target - 1) <= 0.05, f"{model} {fmt} {size}: {written:,} bytes"


def test_smallest_dataset_above_the_target_is_said(tmp_path):
    r = run_gengo("plan", "-m", "ecommerce-ds", "-s", "5MB", "-f", "json")
    assert r.returncode == 0
    assert "smallest" in r.stderr


def test_rows_fix_a_table_and_scale_its_dependents(tmp_path):
    out = gen(tmp_path / "o", "ecommerce", "1MB", "parquet", 2, "--rows", "dim_customers=1234")
    rows = {t["table"]: t["rows"] for t in manifest(out)["tables"]}
    assert rows["dim_customers"] == 1234
    assert pq.read_metadata(out / "dim_customers.parquet").num_rows == 1234
    con = duckdb.connect()
    per_customer = con.execute(
        f"SELECT count(*) / count(DISTINCT customer_id) FROM '{out}/dim_customer_addresses.parquet'"
    ).fetchone()[0]
    assert 1.5 < per_customer < 2.5  # addresses follow their customers
    assert con.execute(f"SELECT max(customer_id) FROM '{out}/fact_orders_header.parquet'").fetchone()[0] <= 1234


def test_rows_alone_size_the_dataset(tmp_path):
    out = tmp_path / "o"
    r = run_gengo(
        "gen", "-m", "ecommerce", "-f", "csv", "-o", str(out), "--seed", "1", "--rows", "fact_orders_header=5000", "-q"
    )
    assert r.returncode == 0, r.stderr
    rows = {t["table"]: t["rows"] for t in manifest(out)["tables"]}
    assert rows["fact_orders_header"] == 5000 and rows["dim_customers"] == 500


def test_tables_writes_only_those_and_keys_span_the_full_parents(tmp_path):
    full = gen(tmp_path / "full", "ecommerce", "5MB", "parquet", 3)
    pins = [f"--rows={t}={n}" for t, n in manifest(full)["planned_rows"].items()]
    part = tmp_path / "part"
    tables = ["--tables", "fact_order_items,dim_products"]
    r = run_gengo("gen", "-m", "ecommerce", "-f", "parquet", "-o", str(part), "--seed", "3", "-q", *tables, *pins)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in part.iterdir())
    assert names == ["dim_products.parquet", "fact_order_items.parquet", "manifest.json", "schema.sql"]
    # The same rows as in the full dataset: the keys refer to the full parent ranges.
    assert pq.read_table(full / "fact_order_items.parquet").equals(pq.read_table(part / "fact_order_items.parquet"))
    n_orders = manifest(full)["planned_rows"]["fact_orders_header"]
    top = duckdb.connect().execute(f"SELECT max(order_id) FROM '{part}/fact_order_items.parquet'").fetchone()[0]
    assert top == n_orders


@pytest.mark.parametrize(
    "codec,expected", [("zstd", "ZSTD"), ("gzip", "GZIP"), ("none", "UNCOMPRESSED"), ("snappy", "SNAPPY")]
)
def test_parquet_compression_and_row_group_size(tmp_path, codec, expected):
    out = gen(tmp_path / codec, "ecommerce", "5MB", "parquet", 1, "--compression", codec, "--row-group-size", "50000")
    meta = pq.read_metadata(out / "fact_order_items.parquet")
    assert meta.row_group(0).column(0).compression == expected
    assert meta.row_group(0).num_rows == 50000 and meta.num_row_groups >= 2
    assert all(meta.row_group(i).num_rows == 50000 for i in range(meta.num_row_groups - 1))
    assert manifest(out)["compression"] == codec


@pytest.mark.parametrize("codec,ext", [("gzip", "gz"), ("zstd", "zst")])
def test_compressed_text_reads_back(tmp_path, codec, ext):
    out = gen(tmp_path / codec, "ecommerce", "3MB", "csv", 1, "--compression", codec)
    path = out / f"fact_order_items.csv.{ext}"
    rows = duckdb.connect().execute(f"SELECT count(*) FROM read_csv('{path}')").fetchone()[0]
    assert rows == manifest(out)["planned_rows"]["fact_order_items"]
    if codec == "gzip":
        with gzip.open(path, "rt") as f:
            assert f.readline().startswith("order_item_id,")


def test_dry_run_and_plan_print_the_plan_and_write_nothing(tmp_path):
    out = tmp_path / "o"
    r = run_gengo("gen", "-m", "medical", "-s", "50MB", "-f", "parquet", "-o", str(out), "--dry-run", "--seed", "1")
    assert r.returncode == 0 and "fact_appointments" in r.stdout and not out.exists()
    r2 = run_gengo("plan", "-m", "medical", "-s", "50MB", "-f", "parquet", "--seed", "1")
    assert r2.stdout == r.stdout


def test_manifest_records_the_options(tmp_path):
    out = gen(tmp_path / "o", "ecommerce", "2MB", "json", 9, "--compression", "gzip", "--rows", "dim_customers=300")
    m = json.loads((out / "manifest.json").read_text())
    assert m["compression"] == "gzip" and m["rows_overrides"] == {"dim_customers": 300}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_planning_threads_do_not_change_the_plan(fmt):
    one = gengo.plan("ecommerce-ds", "0.05", fmt, seed=3, workers=1)
    two = gengo.plan("ecommerce-ds", "0.05", fmt, seed=3, workers=2)
    assert one.rows == two.rows
    assert [(t.chunk_rows, t.estimated_bytes, t.hints) for t in one.tables] == [
        (t.chunk_rows, t.estimated_bytes, t.hints) for t in two.tables
    ]


@pytest.mark.parametrize("model", ["ecommerce", "medical"])
def test_scale_search_gives_the_same_answer_from_any_starting_guess(model):
    """The bracket starts at the previous round's scale to avoid passes over parents far beyond the
    answer; where it starts must never change the answer (and so the bytes)."""
    from gengo.engine import sizing
    from gengo.formats import resolve_format
    from gengo.formats.options import WriteOptions
    from gengo.models import resolve_model

    m, fmt = resolve_model(model), resolve_format("csv")
    rows = m.row_counts(2_000, sizing._CALIBRATION_SEED)
    est = sizing.estimate(m, rows, fmt, sizing._CALIBRATION_SEED, m.table_names, WriteOptions())
    for target in (10**6, 3 * 10**7, 5 * 10**8):
        want = sizing._solve(m, est, target, {}, 1)
        assert want > 1
        for guess in (2, want // 3, want - 1, want, want + 1, 3 * want, 1000 * want):
            assert sizing._solve(m, est, target, {}, max(1, guess)) == want, (target, guess)


def _bisection(size, target, lo, hi):
    """The scale search as it was before interpolation: the reference."""
    while lo < hi:
        mid = (lo + hi) // 2
        if size(mid) < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


def test_interpolated_search_gives_bisections_answer_in_fewer_steps():
    """``_first_reaching`` must find what bisection finds for any non-decreasing size (plans and
    bytes depend on it), with steps, flats and jumps; on near-linear sizes in a handful of calls."""
    import numpy as np

    from gengo.engine import sizing

    rng = np.random.default_rng(5)
    for case in range(300):
        n = int(rng.integers(2, 5000))
        kind = case % 3
        steps = rng.integers(0, 3 if kind else 1000, n) * (rng.random(n) < (0.3 if kind == 1 else 1.0))
        values = np.cumsum(steps) + (np.arange(n) * 1000 if kind == 2 else 0)
        calls = []

        def size(s, values=values, calls=calls):
            calls.append(s)  # distinct scales count: _solve memoizes its sizes
            return int(values[s - 1])

        lo = int(rng.integers(1, n + 1))
        hi = int(rng.integers(lo, n + 1))
        for target in {int(values[lo - 1]), int(values[hi - 1]), int(rng.integers(0, int(values[-1]) + 2))}:
            want = _bisection(size, target, lo, hi)
            calls.clear()
            assert sizing._first_reaching(size, target, lo, hi) == want, (case, lo, hi, target)
            if kind == 2 and hi - lo > 64:  # near-linear: interpolation lands at once
                assert len(set(calls)) <= 6, (case, sorted(set(calls)))


def test_pins_of_growing_tables_never_count_at_a_billion_parents():
    """A model file's nested fan-outs summed over 10**9 parents took seconds per pinned table."""
    from dataclasses import replace

    from gengo.core.errors import GengoError
    from gengo.engine.sizing import check_pins
    from gengo.models import resolve_model

    model = resolve_model("examples/models/iot.yaml")
    scales: list[int] = []

    def counting(scale, seed):
        scales.append(scale)
        return model.row_counts(scale, seed)

    spy = replace(model, row_counts=counting)
    rows = model.row_counts(50, 0)
    check_pins(spy, {t: n * 2 if rows[t] != model.row_counts(4096, 0)[t] else n for t, n in rows.items()})
    assert scales and max(scales) < 10**9
    fixed = [t for t in rows if rows[t] == model.row_counts(1, 0)[t] == model.row_counts(4096, 0)[t]]
    for t in fixed:  # a fixed table asked to change still gets the closer look, and the refusal
        with pytest.raises(GengoError, match="always has"):
            check_pins(spy, {t: rows[t] + 1})


def test_a_pinned_child_count_that_size_overrides_is_refused():
    """--rows on a table whose count follows from its parent's, with --size sizing the parent: one
    line saying so (the plan used to keep the size's count and print a note)."""
    from gengo import api

    with pytest.raises(GengoError, match="--rows fact_order_items=1,000 cannot hold with --size"):
        api.plan("ecommerce", 0.01, "csv", seed=1, rows=["fact_order_items=1000"])
    p = api.plan("ecommerce", 0.01, "csv", seed=1, rows=["dim_customers=1000"])  # a count that holds
    assert p.rows["dim_customers"] == 1000
    p = api.plan("ecommerce", None, "csv", seed=1, rows=["fact_order_items=1000"])  # --rows alone: the nearest
    assert abs(p.rows["fact_order_items"] - 1000) < 100
