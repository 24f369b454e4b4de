"""`gengo verify`: passes on good data, names the problem for each kind of damage."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import gengo
from gengo.cli import main
from gengo.core.errors import GengoError
from gengo.engine.verify import verify
from gengo.models import resolve_model
from tests.helpers import run_cli, run_gengo


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("verify")
    out = {}
    for fmt, extra in [("csv", {}), ("parquet", {}), ("json", {"compression": "gzip"})]:
        out[fmt] = base / fmt
        gengo.generate("ecommerce", 0.005, fmt, out[fmt], seed=5, workers=1, chunk_rows=4096, **extra)
    return out


def copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
@pytest.mark.parametrize("engine", ["duckdb", "pyarrow"])
def test_good_dataset_passes(datasets, fmt, engine):
    report = verify(datasets[fmt], engine=engine)
    assert report.ok, report.problems
    assert report.engine == engine
    assert all(f.ok and f.rows is not None for f in report.files)
    text = " ".join(report.checks)
    assert "7 of 7 files" in text and "7 primary keys" in text and "8 foreign keys resolve" in text


def test_cli_ok(datasets, capsys):
    assert main(["verify", str(datasets["csv"])]) == 0
    assert "verify: OK" in capsys.readouterr().out


def test_manifest_of_an_older_gengo_with_sha256(datasets, tmp_path):
    """Manifests written before the switch to BLAKE3 carry sha256: still checked."""
    out = copy(datasets["csv"], tmp_path)
    doc = json.loads((out / "manifest.json").read_text())
    for f in doc["tables"]:
        del f["blake3"]
        f["sha256"] = hashlib.sha256((out / f["file"]).read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(doc))
    assert verify(out).ok
    path = out / "dim_products.csv"
    data = bytearray(path.read_bytes())
    data[-5] = ord("#") if data[-5] != ord("#") else ord("%")  # same size, other bytes
    path.write_bytes(bytes(data))
    report = verify(out)
    assert not report.ok and any("dim_products.csv: sha256" in p for p in report.problems), report.problems


@pytest.mark.parametrize("engine", ["duckdb", "pyarrow"])
def test_row_removed_from_csv(datasets, tmp_path, capsys, engine):
    out = copy(datasets["csv"], tmp_path)
    path = out / "dim_customers.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:10] + lines[11:]))  # customer 10 is gone
    report = verify(out, engine=engine)
    problems = "\n".join(report.problems)
    rows = next(
        f["rows"] for f in json.loads((out / "manifest.json").read_text())["tables"] if f["table"] == "dim_customers"
    )
    assert f"dim_customers.csv: {rows - 1:,} rows, the manifest says {rows:,}" in problems, problems
    assert "dim_customers.csv: " in problems and "bytes" in problems and "blake3" in problems
    assert "values missing from dim_customers.customer_id" in problems  # orphaned addresses / orders
    assert main(["verify", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "FAILED" in printed and "dim_customers.csv" in printed


@pytest.mark.parametrize("engine", ["duckdb", "pyarrow"])
def test_truncated_parquet(datasets, tmp_path, engine):
    out = copy(datasets["parquet"], tmp_path)
    path = out / "fact_orders_header.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    report = verify(out, engine=engine)
    problems = "\n".join(report.problems)
    assert "fact_orders_header.parquet: " in problems
    assert "cannot be read" in problems and "bytes, the manifest says" in problems, problems
    assert [f.file for f in report.files if not f.ok] == ["fact_orders_header.parquet"]


def test_missing_file(datasets, tmp_path, capsys):
    out = copy(datasets["parquet"], tmp_path)
    (out / "dim_products.parquet").unlink()
    report = verify(out)
    assert "dim_products.parquet: missing" in report.problems
    assert any("not checked: dim_products" in n for n in report.notes)  # items -> products skipped, said so
    assert main(["verify", str(out)]) == 1
    assert "dim_products.parquet: missing" in capsys.readouterr().out


def test_duplicate_key_is_found(datasets, tmp_path):
    out = copy(datasets["csv"], tmp_path)
    path = out / "dim_suppliers.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines + [lines[1]]))
    for engine in ("duckdb", "pyarrow"):
        problems = "\n".join(verify(out, engine=engine).problems)
        assert "dim_suppliers: primary key (supplier_id) has 1 duplicated" in problems, problems


def test_not_a_dataset_or_unfinished(tmp_path, capsys):
    with pytest.raises(GengoError, match="no manifest.json"):
        verify(tmp_path)
    (tmp_path / ".gengo-progress.json").write_text("{}")
    with pytest.raises(GengoError, match="--resume"):
        verify(tmp_path)
    assert main(["verify", str(tmp_path / "nosuch")]) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_verify_checks_partitioned_output(tmp_path):
    out = tmp_path / "parts"
    r = run_gengo("gen", "-m", "ecom", "-s", "0.005", "-f", "csv", "-o", str(out), "--parts", "2", "--seed", "4")
    assert r.returncode == 0, r.stderr
    assert run_gengo("verify", str(out)).returncode == 0
    part = sorted((out / "fact_order_items").glob("part-*.csv"))[-1]
    lines = part.read_text().splitlines(keepends=True)
    part.write_text("".join(lines[:1] + lines[2:]))  # drop one data row
    r = run_gengo("verify", str(out))
    assert r.returncode == 1
    assert "fact_order_items (2 parts)" in r.stdout and "blake3" in r.stdout


# DuckDB datasets (issue 20, item 1): one database file holding every table.


def _blake3(path: Path) -> str:
    import blake3

    return blake3.blake3(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def duck(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("verify-duckdb") / "ddb"
    r = run_gengo("gen", "-m", "ecommerce", "-s", "5MB", "-f", "duckdb", "-o", str(out), "--seed", "3", "-q")
    assert r.returncode == 0, r.stderr
    return out


def test_duckdb_manifest_records_the_database_file(duck):
    doc = json.loads((duck / "manifest.json").read_text())
    path = duck / "ecommerce.duckdb"
    assert doc["database"] == {"file": path.name, "bytes": path.stat().st_size, "blake3": _blake3(path)}
    assert doc["total_bytes"] == path.stat().st_size
    assert {e["file"] for e in doc["tables"]} == {path.name} and len(doc["tables"]) == 7
    assert all("bytes" not in e and e["bytes_in_database"] > 0 for e in doc["tables"])


@pytest.mark.parametrize("no_keys", [False, True])
def test_fresh_duckdb_dataset_passes(duck, no_keys):
    before = _blake3(duck / "ecommerce.duckdb")
    r = run_gengo("verify", str(duck), *(["--no-keys"] if no_keys else []))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ecommerce, duckdb, 1 database file, 7 tables" in r.stdout and "verify: OK" in r.stdout
    assert "1 of 1 files match the manifest (present, bytes, checksum)" in r.stdout
    if not no_keys:
        for line in ("7 tables have the manifest's row counts", "7 primary keys unique", "8 foreign keys resolve"):
            assert line in r.stdout, r.stdout
    assert _blake3(duck / "ecommerce.duckdb") == before  # opened read-only
    assert not (duck / "ecommerce.duckdb.wal").exists()


def test_duckdb_byte_changed(duck, tmp_path):
    out = copy(duck, tmp_path)
    path = out / "ecommerce.duckdb"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    for args in ([], ["--no-keys"]):
        r = run_gengo("verify", str(out), *args)
        assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
        assert "FAILED  ecommerce.duckdb: blake3 " in r.stdout and "differs from the manifest's" in r.stdout


def test_duckdb_row_deleted_and_table_dropped(duck, tmp_path):
    import duckdb

    out = copy(duck, tmp_path)
    rows = {e["table"]: e["rows"] for e in json.loads((out / "manifest.json").read_text())["tables"]}
    con = duckdb.connect(str(out / "ecommerce.duckdb"))
    con.execute("DELETE FROM fact_order_items WHERE rowid = 7")
    con.close()
    r = run_gengo("verify", str(out))
    assert r.returncode == 1
    n = rows["fact_order_items"]
    assert f"ecommerce.duckdb: table fact_order_items has {n - 1:,} rows, the manifest says {n:,}" in r.stdout
    assert "ecommerce.duckdb: blake3 " in r.stdout  # the file changed too
    assert "6 tables have the manifest's row counts" in r.stdout

    con = duckdb.connect(str(out / "ecommerce.duckdb"))
    con.execute("DROP TABLE fact_order_items")
    con.close()
    report = verify(out)
    assert "ecommerce.duckdb: table fact_order_items is missing from the database" in report.problems


def test_duckdb_manifest_of_an_older_gengo(duck, tmp_path):
    """Before the "database" entry: per-table bytes (the table's share) and a null checksum."""
    import duckdb

    out = copy(duck, tmp_path)
    doc = json.loads((out / "manifest.json").read_text())
    del doc["database"]
    for e in doc["tables"]:
        e["bytes"] = e.pop("bytes_in_database")
        e["blake3"] = None
    (out / "manifest.json").write_text(json.dumps(doc))
    report = verify(out)
    assert report.ok, report.problems
    assert any("ecommerce.duckdb: the manifest records no size or checksum" in n for n in report.notes)
    assert "7 tables have the manifest's row counts" in report.checks
    con = duckdb.connect(str(out / "ecommerce.duckdb"))
    con.execute("DELETE FROM dim_product_categories WHERE category_id NOT IN (SELECT category_id FROM dim_products)")
    con.execute("DELETE FROM fact_order_items WHERE rowid < 3")
    con.close()
    problems = verify(out).problems
    n = next(e["rows"] for e in doc["tables"] if e["table"] == "fact_order_items")
    assert f"ecommerce.duckdb: table fact_order_items has {n - 3:,} rows, the manifest says {n:,}" in problems


def test_file_url(datasets, tmp_path):
    out = copy(datasets["parquet"], tmp_path)
    r = run_gengo("verify", out.as_uri())
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"verify {out}: ecommerce, parquet, 7 files" in r.stdout
    (out / "dim_suppliers.parquet").unlink()
    r = run_gengo("verify", out.as_uri())
    assert r.returncode == 1 and "FAILED  dim_suppliers.parquet: missing" in r.stdout


# Every built-in model partitioned and as a DuckDB file (one file per table in csv, json and
# parquet: tests/models/test_contract.py).

VARIANTS = {"parts": ("json", "--parts", "2"), "duckdb": ("duckdb",)}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("model", ["ecommerce", "ecommerce-ds", "financial", "medical"])
def test_every_model_and_format_passes(tmp_path, model, variant):
    fmt, *extra = VARIANTS[variant]
    out = tmp_path / "out"
    r = run_cli("gen", "-m", model, "-s", "2MB", "-f", fmt, "-o", str(out), "--seed", "8", "-q", *extra)
    assert r.returncode == 0, r.stderr
    r = run_gengo("verify", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verify: OK" in r.stdout and "FAILED" not in r.stdout
    n = len(resolve_model(model).tables)
    if variant != "duckdb":
        assert f"{n} tables have the manifest's row counts" in r.stdout
    if variant == "parts":
        assert any(p.is_dir() for p in out.iterdir())


def test_change_files_are_checked_against_their_manifest(tmp_path):
    """--batches: a batch file changed, removed or left unfinished fails verify, naming it."""
    from gengo import api

    p = api.plan("ecommerce", 0.005, "csv", seed=5, workers=1)
    with api.prepare(p, tmp_path / "run", 1) as run:
        run.execute()
    api.write_changes(run.plan, tmp_path / "run", 2, workers=1, history=True)
    good = verify(tmp_path / "run", keys=False)
    assert good.ok, good.problems
    assert any("change files match changes/manifest.json (2 batches, history)" in c for c in good.checks)

    bad = copy(tmp_path / "run", tmp_path / "bad")
    info = json.loads((bad / "changes" / "manifest.json").read_text())
    first, second = info["files"][0]["file"], info["files"][1]["file"]
    with (bad / first).open("ab") as f:
        f.write(b"junk\n")
    (bad / second).unlink()
    report = verify(bad, keys=False)
    assert any(p.startswith(first) and "bytes" in p for p in report.problems), report.problems
    assert f"{second}: missing" in report.problems

    info["complete"] = False
    (bad / "changes" / "manifest.json").write_text(json.dumps(info))
    assert any("change batches are not complete" in p for p in verify(bad, keys=False).problems)
