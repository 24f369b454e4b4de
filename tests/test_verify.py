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
from tests.helpers import run_gengo


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
