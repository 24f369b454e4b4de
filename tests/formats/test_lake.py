"""-f delta and -f iceberg end to end: the real command, read back through the table log / catalog.

Every model's tables read with deltalake, polars, pyiceberg and DuckDB's delta_scan / iceberg_scan
(the extensions from their PyPI packages, loaded offline) hold the same rows as the Parquet output
of the same seed; the data files are the ``--parts`` Parquet bytes; commits happen once, after every
part, and a resumed run commits again without adding a file twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from gengo import api
from gengo.formats import FORMATS
from gengo.models import model_names, resolve_model
from tests.helpers import assert_one_line_error, duckdb_with, gen, manifest, run_gengo

deltalake = pytest.importorskip("deltalake")
pyiceberg_catalog = pytest.importorskip("pyiceberg.catalog")

SIZE = "0.003"
SEED = 7


def same_rows(a, b) -> bool:
    """Same multiset of rows (EXCEPT ALL both ways) and the same count."""
    con = duckdb.connect()
    con.register("a", a)
    con.register("b", b)
    n_a = con.execute("SELECT count(*) FROM a").fetchall()[0][0]
    n_b = con.execute("SELECT count(*) FROM b").fetchall()[0][0]
    left = con.execute("SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)").fetchall()[0][0]
    right = con.execute("SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a)").fetchall()[0][0]
    return n_a == n_b and left == right == 0


def iceberg_catalog(out):
    return pyiceberg_catalog.load_catalog(
        "gengo", type="sql", uri=f"sqlite:///{out / 'catalog.db'}", warehouse="file://"
    )


@pytest.fixture(scope="module", params=model_names())
def datasets(request, tmp_path_factory):
    model = request.param
    root = tmp_path_factory.mktemp(model)
    outs = {fmt: gen(root / fmt, model, SIZE, fmt, SEED, "-w", "2", "-q") for fmt in ("parquet", "delta", "iceberg")}
    outs["parts"] = gen(root / "parts", model, SIZE, "parquet", SEED, "-w", "1", "-q", "--part-size", "256MB")
    return model, outs


@pytest.mark.duckdb_lake
def test_every_table_reads_back_with_the_parquet_rows(datasets):
    model, outs = datasets
    catalog = iceberg_catalog(outs["iceberg"])
    delta_duck, iceberg_duck = duckdb_with("delta"), duckdb_with("avro", "iceberg")  # None: packages not installed
    for t in resolve_model(model).tables:
        expected = pq.read_table(outs["parquet"] / f"{t.name}.parquet")
        dt = deltalake.DeltaTable(str(outs["delta"] / t.name))
        assert dt.version() == 0, t.name
        assert same_rows(expected, dt.to_pyarrow_table()), f"deltalake {t.name}"
        assert same_rows(expected, pl.read_delta(str(outs["delta"] / t.name)).to_arrow()), f"polars {t.name}"
        iceberg = catalog.load_table((resolve_model(model).name, t.name))
        assert same_rows(expected, iceberg.scan().to_arrow()), f"pyiceberg {t.name}"
        if delta_duck is not None:
            got = delta_duck.execute(f"SELECT * FROM delta_scan('{outs['delta'] / t.name}')").to_arrow_table()
            assert same_rows(expected, got), f"delta_scan {t.name}"
        if iceberg_duck is not None:
            got = iceberg_duck.execute(f"SELECT * FROM iceberg_scan('{iceberg.metadata_location}')").to_arrow_table()
            assert same_rows(expected, got), f"iceberg_scan {t.name}"


def test_data_files_are_the_parquet_parts_and_verify_reads_the_logs(datasets):
    model, outs = datasets
    parts = {e["file"]: e["blake3"] for e in manifest(outs["parts"])["tables"]}
    for fmt in ("delta", "iceberg"):
        doc = manifest(outs[fmt])
        assert doc["format"] == fmt and {e["file"]: e["blake3"] for e in doc["tables"]} == parts
        r = run_gengo("verify", str(outs[fmt]))
        assert r.returncode == 0 and "verify: OK" in r.stdout, r.stdout + r.stderr
    assert manifest(outs["iceberg"])["table_format"] == {"catalog": "catalog.db", "namespace": model}


def _log_versions(table_dir) -> list[str]:
    log = table_dir / "_delta_log"
    return sorted(p.name for p in log.iterdir()) if log.is_dir() else []


def _interrupted(out, fmt: str, monkeypatch, after_tables: int = 0):
    """A run stopped (as Ctrl-C would) while committing, after ``after_tables`` tables were committed."""
    fmt_obj = FORMATS[fmt]
    original = type(fmt_obj).commit_tables
    if fmt == "delta":
        calls = {"n": 0}
        convert = deltalake.convert_to_deltalake

        def counting(*args, **kwargs):
            if calls["n"] >= after_tables:
                raise KeyboardInterrupt
            calls["n"] += 1
            return convert(*args, **kwargs)

        monkeypatch.setattr(deltalake, "convert_to_deltalake", counting)
    else:

        def stop(self, *args):
            raise KeyboardInterrupt

        monkeypatch.setattr(type(fmt_obj), "commit_tables", stop)
    p = api.plan("ecommerce", SIZE, fmt, seed=SEED, workers=1)
    with pytest.raises(KeyboardInterrupt):
        api.run(p, out, workers=1)
    monkeypatch.setattr(type(fmt_obj), "commit_tables", original)
    monkeypatch.setattr(deltalake, "convert_to_deltalake", deltalake.convert_to_deltalake)


def test_delta_killed_before_the_commit_claims_nothing_and_resume_commits_once(tmp_path, monkeypatch):
    out = tmp_path / "out"
    convert = deltalake.convert_to_deltalake
    _interrupted(out, "delta", monkeypatch, after_tables=2)
    monkeypatch.setattr(deltalake, "convert_to_deltalake", convert)
    tables = resolve_model("ecommerce").table_names
    committed = [t for t in tables if _log_versions(out / t)]
    assert len(committed) == 2 and not (out / "manifest.json").exists()  # the run stopped mid-commit
    files_before = sorted(p.relative_to(out) for p in out.rglob("*.parquet"))

    r = run_gengo("gen", "-m", "ecommerce", "-s", SIZE, "-f", "delta", "-o", str(out), "--resume", "-q")
    assert r.returncode == 0, r.stderr
    assert sorted(p.relative_to(out) for p in out.rglob("*.parquet")) == files_before
    for t in tables:
        assert _log_versions(out / t) == ["00000000000000000000.json"], t
        dt = deltalake.DeltaTable(str(out / t))
        actions = [json.loads(line) for line in (out / t / "_delta_log" / "00000000000000000000.json").open()]
        paths = [a["add"]["path"] for a in actions if "add" in a]
        assert dt.version() == 0 and len(paths) == len(set(paths)) == len(list((out / t).glob("*.parquet")))


def test_delta_killed_before_the_commit_of_a_forced_run_leaves_no_log(tmp_path, monkeypatch):
    out = gen(tmp_path / "out", "ecommerce", SIZE, "delta", SEED, "-q")
    assert all(_log_versions(out / t) for t in resolve_model("ecommerce").table_names)
    p = api.plan("ecommerce", SIZE, "delta", seed=SEED + 1, workers=1)
    monkeypatch.setattr(type(FORMATS["delta"]), "commit_tables", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        api.run(p, out, workers=1, force=True)
    assert not list(out.rglob("_delta_log"))  # the old logs went before the first new part


def test_iceberg_resume_registers_every_file_once(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _interrupted(out, "iceberg", monkeypatch)
    assert not list(out.rglob("metadata"))
    r = run_gengo("gen", "-m", "ecommerce", "-s", SIZE, "-f", "iceberg", "-o", str(out), "--resume", "-q")
    assert r.returncode == 0, r.stderr
    catalog = iceberg_catalog(out)
    for t in resolve_model("ecommerce").table_names:
        table = catalog.load_table(("ecommerce", t))
        files = table.inspect.files().column("file_path").to_pylist()
        assert len(table.snapshots()) == 1 and len(files) == len(set(files)) == len(list((out / t).glob("*.parquet")))
    r = run_gengo("gen", "-m", "ecommerce", "-s", SIZE, "-f", "iceberg", "-o", str(out), "--resume", "-q")
    assert r.returncode == 0, r.stderr  # a complete run resumed: registered again, still once
    assert len(iceberg_catalog(out).load_table(("ecommerce", "dim_customers")).snapshots()) == 1


def test_iceberg_opens_its_catalog_off_the_main_thread_and_writes_one_metadata_file(tmp_path, monkeypatch):
    # pyiceberg's import and the catalog (0.4 CPU-s) ran on the run's critical path, twice opened;
    # now once, in a thread started when the last parts run, and each table is one transaction.
    fmt = type(FORMATS["iceberg"])
    opened, original = [], fmt.open_catalog
    monkeypatch.setattr(
        fmt, "open_catalog", lambda *a, **k: opened.append(threading.current_thread().name) or original(*a, **k)
    )
    out = tmp_path / "out"
    api.generate("ecommerce", SIZE, "iceberg", out, seed=SEED, workers=2, part_size="300KB")
    assert opened == ["gengo-iceberg"]
    catalog = iceberg_catalog(out)
    for t in resolve_model("ecommerce").table_names:
        assert len(list((out / t / "metadata").glob("*.metadata.json"))) == 1, t
        table = catalog.load_table(("ecommerce", t))
        assert len(table.snapshots()) == 1 and table.scan().to_arrow().num_rows == manifest(out)["planned_rows"][t]


def test_bad_catalog_input_is_one_line_and_writes_nothing(tmp_path):
    shared = tmp_path / "shared.db"
    first = gen(tmp_path / "a", "ecommerce", SIZE, "iceberg", SEED, "-q", "--catalog", f"sqlite:///{shared}")
    assert (first / "manifest.json").is_file() and not (first / "catalog.db").exists()
    tables = sqlite3.connect(shared).execute("SELECT count(*) FROM iceberg_tables").fetchone()[0]
    base = ("gen", "-m", "ecommerce", "-s", SIZE, "--seed", "1", "-q")
    cases = [
        (("-f", "iceberg", "--catalog", f"sqlite:///{shared}"), "exists in the catalog"),
        (("-f", "iceberg", "--catalog", "http://127.0.0.1:1"), "cannot reach Iceberg catalog"),
        (("-f", "iceberg", "--catalog", "ftp://x"), "invalid --catalog"),
        (("-f", "delta", "--catalog", f"sqlite:///{shared}"), "--catalog applies to -f iceberg"),
        (("-f", "delta", "--schema", "x"), "--schema applies to --db or -f iceberg"),
        (("-f", "iceberg", "--schema", "1x"), "invalid namespace"),
    ]
    for extra, message in cases:
        out = tmp_path / "b"
        r = run_gengo(*base, "-o", str(out), *extra)
        assert r.returncode == 1, (extra, r.stderr)
        assert_one_line_error(r, message)
        assert not out.exists(), extra
    assert sqlite3.connect(shared).execute("SELECT count(*) FROM iceberg_tables").fetchone()[0] == tables


def test_verify_fails_on_a_log_that_lists_other_files(tmp_path):
    out = gen(tmp_path / "out", "ecommerce", SIZE, "delta", SEED, "-q")
    log = out / "dim_customers" / "_delta_log" / "00000000000000000000.json"
    log.write_text("\n".join(line for line in log.read_text().splitlines() if '"add"' not in line) + "\n")
    r = run_gengo("verify", str(out))
    assert r.returncode == 1 and "dim_customers" in r.stdout and "delta log lists 0 files" in r.stdout, r.stdout
