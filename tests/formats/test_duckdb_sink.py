"""`--format duckdb`: one database per run, the same rows as the file formats, keys enforced."""

from __future__ import annotations

import duckdb
import pytest

from gengo.models import MODELS
from tests.db_helpers import duplicate_insert, orphan_insert, rows_args
from tests.helpers import manifest, run_gengo

MODEL_NAMES = sorted(MODELS)


def _gen(out, model, fmt, *extra):
    r = run_gengo("gen", "-m", model, "-f", fmt, "-o", str(out), "--seed", "3", "-q", *rows_args(model), *extra)
    assert r.returncode == 0, r.stderr + r.stdout
    return manifest(out)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_duckdb_matches_parquet_and_enforces_keys(tmp_path, model):
    m = MODELS[model]
    pq = _gen(tmp_path / "pq", model, "parquet")
    db = _gen(tmp_path / "db", model, "duckdb", "--workers", "2")
    path = tmp_path / "db" / f"{m.name}.duckdb"
    assert sorted(p.name for p in (tmp_path / "db").iterdir()) == sorted([path.name, "manifest.json", "schema.sql"])
    assert {t["table"]: t["rows"] for t in db["tables"]} == {t["table"]: t["rows"] for t in pq["tables"]}
    assert all(t["file"] == path.name for t in db["tables"])

    con = duckdb.connect(str(path))
    for t in m.tables:
        n = con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
        assert n == db["planned_rows"][t.name], t.name
    # The same values as the Parquet files, row for row.
    for t in m.tables:
        parquet = tmp_path / "pq" / f"{t.name}.parquet"
        diff = con.execute(
            f"SELECT count(*) FROM (SELECT * FROM \"{t.name}\" EXCEPT ALL SELECT * FROM read_parquet('{parquet}'))"
        ).fetchone()[0]
        assert diff == 0, t.name

    kinds = dict(con.execute("SELECT constraint_type, count(*) FROM duckdb_constraints() GROUP BY ALL").fetchall())
    assert kinds["PRIMARY KEY"] == sum(1 for t in m.tables if t.primary_key)
    assert kinds["FOREIGN KEY"] == sum(len(t.foreign_keys) for t in m.tables)
    # Every foreign key is enforced: an orphan row is refused; so is a duplicate primary key.
    for t in m.tables:
        for col, _, _ in t.foreign_keys:
            with pytest.raises(duckdb.ConstraintException):
                con.execute(orphan_insert(model, t.name, col))
        with pytest.raises(duckdb.ConstraintException):
            con.execute(duplicate_insert(model, t.name))
    # schema.sql is the DDL of the database.
    fresh = duckdb.connect()
    fresh.execute((tmp_path / "db" / "schema.sql").read_text())
    assert len(fresh.execute("SELECT * FROM duckdb_tables()").fetchall()) == len(m.tables)


def test_duckdb_sized_run_lands_near_target(tmp_path):
    r = run_gengo("gen", "-m", "ecommerce", "-s", "20MB", "-f", "duckdb", "-o", str(tmp_path), "--seed", "1", "-q")
    assert r.returncode == 0, r.stderr
    size = (tmp_path / "ecommerce.duckdb").stat().st_size
    assert 0.9 * 20e6 <= size <= 1.1 * 20e6, size
    assert manifest(tmp_path)["format"] == "duckdb"


def test_duckdb_force_replaces_database_and_refuses_compression(tmp_path):
    _gen(tmp_path, "financial", "duckdb")
    r = run_gengo("gen", "-m", "fin", "-f", "duckdb", "-o", str(tmp_path), "--seed", "3", *rows_args("financial"))
    assert r.returncode != 0 and "not empty" in r.stderr
    _gen(tmp_path, "financial", "duckdb", "--force")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    r = run_gengo("gen", "-m", "fin", "-f", "duckdb", "-o", str(tmp_path / "x"), "-s", "0.01", "--compression", "zstd")
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "compression" in r.stderr


def test_file_outputs_write_schema_sql(tmp_path):
    _gen(tmp_path, "medical", "csv")
    text = (tmp_path / "schema.sql").read_text()
    assert 'CREATE TABLE "fact_appointments"' in text and "FOREIGN KEY" in text
    con = duckdb.connect()
    con.execute(text)
