"""Model files through the real command: describe, JSON Schema, resume, verify, --rows, Dask and parts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import jsonschema
import pytest
import yaml

from tests.engine.test_partitions import part_hashes
from tests.helpers import GENGO, manifest, run_gengo, sha256_files

SHOP = Path(__file__).parent / "shop.yaml"
SEED = 77


@pytest.fixture
def shop(tmp_path) -> Path:
    """A copy of the example model file (tests edit and delete it)."""
    path = tmp_path / "shop.yaml"
    shutil.copy(SHOP, path)
    return path


def gen(model: Path, out: Path, *extra: str, size: str | None = "300KB", fmt: str = "csv") -> Path:
    sized = ("-s", size) if size else ()
    r = run_gengo("gen", "-m", str(model), *sized, "-f", fmt, "-o", str(out), "--seed", str(SEED), "-q", *extra)
    assert r.returncode == 0, r.stderr + r.stdout
    return out


def test_models_describes_every_table_and_column(shop):
    r = run_gengo("models", str(shop))
    assert r.returncode == 0, r.stderr
    spec = yaml.safe_load(SHOP.read_text())
    lines = r.stdout.splitlines()
    assert lines[0] == "shop: a small shop"
    for table, body in spec["tables"].items():
        assert any(line.startswith(f"  {table}: ") for line in lines), table
        for column in body["columns"]:
            assert any(line.startswith(f"    {column}: ") for line in lines), f"{table}.{column}"
    assert "    unit_price: decimal(12,2)" in lines
    assert "    order_id: int64  (primary key, -> orders.order_id)" in lines
    assert "    note: string  (nullable)" in lines
    assert "  items: 1-10 per row of orders [5,461]" in lines


def schema_validator() -> jsonschema.Draft202012Validator:
    r = run_gengo("model-schema")
    assert r.returncode == 0, r.stderr
    schema = json.loads(r.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def example() -> dict:
    """The example as an editor's YAML language server sees it: dates are strings."""
    return json.loads(json.dumps(yaml.safe_load(SHOP.read_text()), default=str))


def test_model_schema_validates_the_example():
    schema_validator().validate(example())


def test_model_schema_checks_model_files():
    validator = schema_validator()
    doc = example()
    for table in doc["tables"].values():  # the strategy the loader supplies for keys
        for col in table["columns"].values():
            if isinstance(col, dict) and "strategy" not in col:
                col["strategy"] = "sequence"
    validator.validate(doc)
    status = doc["tables"]["orders"]["columns"]["status"]
    status["weights"] = [1]  # a known option with a value of the right shape
    validator.validate(doc)
    # ... and it is not a schema that takes anything: a misspelt option or strategy, a bad row form.
    status["wieghts"] = [1]
    assert not validator.is_valid(doc)
    del status["wieghts"], status["weights"]
    status["strategy"] = "choise"
    assert not validator.is_valid(doc)
    status["strategy"] = "choice"
    doc["tables"]["orders"]["rows"] = "lots"
    assert not validator.is_valid(doc)
    doc["tables"]["orders"]["rows"] = {"each": "customers", "max": 3}
    validator.validate(doc)


def test_resume_with_an_edited_model_file_is_refused(shop, tmp_path):
    out = gen(shop, tmp_path / "out")
    before = sha256_files(out)
    shop.write_text(shop.read_text().replace("ratio: 0.25", "ratio: 0.3"))
    r = run_gengo("gen", "-m", str(shop), "-s", "300KB", "-f", "csv", "-o", str(out), "--resume", "-q")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "cannot resume" in lines[0] and str(shop) in lines[0] and "changed" in lines[0], lines[0]
    assert sha256_files(out) == before  # nothing touched
    # The file as it was: the resume goes ahead (and finds everything done).
    shutil.copy(SHOP, shop)
    r = run_gengo("gen", "-m", str(shop), "-s", "300KB", "-f", "csv", "-o", str(out), "--resume", "-q")
    assert r.returncode == 0, r.stderr
    assert sha256_files(out) == before


def test_verify_without_the_model_file(shop, tmp_path):
    out = gen(shop, tmp_path / "out", fmt="parquet")
    doc = manifest(out)
    assert doc["model_text"] == SHOP.read_text()
    assert doc["model_file"]["path"] == str(shop)
    shop.unlink()
    r = run_gengo("verify", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "foreign keys resolve" in r.stdout and "verify: OK" in r.stdout
    # A different file now at that path changes nothing: verify reads the manifest's text.
    shop.write_text(SHOP.read_text().replace("min: 1, max: 10", "min: 1, max: 2"))
    r = run_gengo("verify", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    # ... and it does check: a broken foreign key is found.
    con = duckdb.connect()
    items = out / "items.parquet"
    con.execute(
        "COPY (SELECT * REPLACE (CASE WHEN line_no = 1 AND order_id = 1 THEN 999999 ELSE product_id END "
        f"AS product_id) FROM read_parquet('{items}')) TO '{tmp_path / 'items.parquet'}' (FORMAT parquet)"
    )
    shutil.copy(tmp_path / "items.parquet", items)
    r = run_gengo("verify", str(out))
    assert r.returncode != 0, r.stdout


def test_rows_override_children_follow_the_parent(shop, tmp_path):
    out = gen(shop, tmp_path / "out", "--rows", "orders=700", fmt="parquet", size=None)
    con = duckdb.connect()

    def q(sql: str):
        return con.execute(sql.replace("{out}", str(out))).fetchall()

    assert q("SELECT count(*) FROM '{out}/orders.parquet'") == [(700,)]
    # items: 1-10 per order, for the 700 orders and no other
    per_order = q(
        "SELECT count(*), min(n), max(n), min(order_id), max(order_id) FROM "
        "(SELECT order_id, count(*) AS n FROM '{out}/items.parquet' GROUP BY order_id)"
    )
    assert per_order == [(700, 1, 10, 1, 700)]
    assert q("SELECT count(*) FROM '{out}/items.parquet'") == [(manifest(out)["planned_rows"]["items"],)]
    # addresses follow customers the same way
    assert q(
        "SELECT count(DISTINCT customer_id) = (SELECT count(*) FROM '{out}/customers.parquet') FROM "
        "'{out}/addresses.parquet'"
    ) == [(True,)]
    r = run_gengo("verify", str(out))
    assert r.returncode == 0, r.stdout + r.stderr


def test_rows_override_ratio_tables_follow_the_parent(shop, tmp_path):
    r = run_gengo("plan", "-m", str(shop), "-f", "csv", "--seed", "1", "--rows", "orders=700")
    assert r.returncode == 0, r.stderr
    table = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in r.stdout.splitlines() if "│" in line}
    assert table["orders"] == "700"
    assert table["customers"] == "70"  # rows: {per: orders, ratio: 0.1}


def test_dask_and_parts_give_the_same_bytes_as_the_local_run(shop, tmp_path):
    pytest.importorskip("distributed")
    common = ("--parts", "3", "--row-group-size", "4096")
    local = gen(shop, tmp_path / "local", *common, "-w", "2", fmt="parquet")
    one = gen(shop, tmp_path / "one", *common, "-w", "1", fmt="parquet")
    dask = gen(shop, tmp_path / "dask", *common, "--engine", "dask", "-w", "2", fmt="parquet")
    hashes = part_hashes(local)
    assert len(hashes) > len({name.split("/")[0] for name in hashes}) == 5  # several parts for the large tables
    assert part_hashes(one) == hashes
    assert part_hashes(dask) == hashes
    assert (dask / "manifest.json").read_bytes() == (local / "manifest.json").read_bytes()
    # The parts hold the rows of the unpartitioned run.
    pins = [f"--rows={t}={n}" for t, n in manifest(local)["planned_rows"].items()]  # the same counts, one file each
    whole = gen(shop, tmp_path / "whole", *pins, fmt="parquet", size=None)
    con = duckdb.connect()
    for table in ("orders", "items", "customers"):
        a = con.execute(f"SELECT * FROM read_parquet('{local}/{table}/part-*.parquet') EXCEPT ALL "
                        f"SELECT * FROM '{whole}/{table}.parquet'").fetchall()  # fmt: skip
        n = con.execute(f"SELECT count(*) FROM read_parquet('{local}/{table}/part-*.parquet')").fetchone()[0]
        assert a == [] and n == manifest(whole)["planned_rows"][table], table


def test_csv_workers_and_chunks_give_the_same_bytes(shop, tmp_path):
    a = gen(shop, tmp_path / "a", "-w", "1")
    b = gen(shop, tmp_path / "b", "-w", "2", "--chunk-rows", "1000")
    assert sha256_files(a) == sha256_files(b)


def test_rows_pinning_every_scaled_table_with_a_size_ends(shop):
    pins = ["--rows=orders=3734", "--rows=customers=373", "--rows=products=93"]
    r = run_gengo("plan", "-m", str(shop), "-s", "1MB", "-f", "csv", "--seed", "1", *pins, timeout=10)
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr


def test_a_model_file_without_a_suffix_is_found_but_built_in_names_win(shop, tmp_path):
    plain = tmp_path / "shop"
    plain.write_text(SHOP.read_text())
    r = run_gengo("plan", "-m", str(plain), "--rows", "orders=50", "-f", "csv")
    assert r.returncode == 0 and "orders" in r.stdout, r.stderr
    (tmp_path / "ecommerce").write_text(SHOP.read_text())  # a file named like a built-in
    r = subprocess.run(
        [GENGO, "plan", "-m", "ecommerce", "--rows", "fact_orders_header=50", "-f", "csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and "fact_orders_header" in r.stdout, r.stderr


def test_the_fork_server_primes_the_workers_cache(tmp_path):
    """What the fork server compiles is what each worker asks for (the same cache key), and a
    file it cannot compile leaves only the cache empty: the command reports the problem."""
    from gengo.models import file

    path = str(Path(__file__).parents[3] / "examples" / "models" / "saas.yaml")
    file._CACHE.clear()
    file.prime_workers(path)
    model = file.load_model_file(path)
    before = len(file._CACHE)
    assert file.load_model_data(model.file.data, model.file.path) is not None
    assert len(file._CACHE) == before  # a hit: no compilation in the worker
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\ntables: {t: {rows: 5, columns: {a: nosuchstrategy}}}\n")
    file.prime_workers(str(bad))
    file.prime_workers(str(tmp_path / "missing.yaml"))


def test_a_model_name_with_a_file_of_that_name_suggests_the_file(tmp_path, monkeypatch):
    from gengo.core.errors import GengoError
    from gengo.models import model_info

    (tmp_path / "library.yaml").write_text("model: library\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GengoError, match="did you mean the model file 'library.yaml'"):
        model_info("library")
