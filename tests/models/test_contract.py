"""The contract every model keeps, checked on every model alike.

- chunk purity: rows [a, b) are the same whatever the cut points;
- the same bytes for any worker count and chunk size;
- the same values in every format (CSV, JSON Lines, Parquet read back by DuckDB);
- ``gengo verify`` passes (checksums, row counts, unique primary keys, resolving foreign keys).

Per-model files (``test_<model>.py``) keep only what is particular to a model.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gengo import api
from gengo.models import MODELS
from tests.helpers import connect, gen, run_gengo, sha256_files

MODEL_NAMES = sorted(MODELS)
FORMATS = ("csv", "json", "parquet")
SIZE = "3MB"
SEED = 424242


def same_rows(model: str) -> list[str]:
    """``--rows`` for every table: every format gets the rows CSV gets at ``SIZE``."""
    rows = api.plan(model, SIZE, "csv", seed=SEED, workers=1).rows
    pins = {table: n for table, n in rows.items() if n > 0}  # an empty table follows from its parents
    assert api.plan(model, None, "parquet", seed=SEED, workers=1, rows=pins).rows == rows
    return [arg for table, n in pins.items() for arg in ("--rows", f"{table}={n}")]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """Every model in every format with the same rows, generated once for the module."""
    root = tmp_path_factory.mktemp("contract")
    out = {}
    for model in MODEL_NAMES:
        pins = same_rows(model)
        for fmt in FORMATS:
            path = root / f"{model}-{fmt}"
            r = run_gengo("gen", "-m", model, *pins, "-f", fmt, "-o", str(path), "--seed", str(SEED), "-q")
            assert r.returncode == 0, r.stderr
            out[(model, fmt)] = path
    return out


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_chunks_are_pure_at_random_cut_points(model):
    p = api.plan(model, SIZE, "parquet", seed=SEED, workers=1)
    m = MODELS[model]
    rng = np.random.default_rng(7)
    for t in m.tables:
        n = p.rows[t.name]
        if n == 0:
            continue
        stop = min(n, 50_000)
        whole = t.generate(SEED, p.rows, np.arange(0, stop, dtype=np.int64))
        cuts = np.unique(np.concatenate([[0, stop], rng.integers(1, stop, size=min(6, stop - 1) if stop > 1 else 0)]))
        bounds = zip(cuts[:-1], cuts[1:], strict=True)
        pieces = [t.generate(SEED, p.rows, np.arange(a, b, dtype=np.int64)) for a, b in bounds]
        assert pa.concat_tables(pieces).equals(whole), f"{model}.{t.name}: rows depend on the cut points"
        # a range far from the start computed alone equals the same rows of a larger range
        if n > 10:
            lo = n - min(n // 2, 5_000)
            tail = t.generate(SEED, p.rows, np.arange(lo, n, dtype=np.int64))
            alone = t.generate(SEED, p.rows, np.arange(n - 3, n, dtype=np.int64))
            assert tail.slice(len(tail) - 3).equals(alone), f"{model}.{t.name}: the last rows depend on the range"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_worker_count_and_chunk_size_do_not_change_bytes(tmp_path, model, fmt):
    one = gen(tmp_path / "w1", model, "2MB", fmt, SEED, "--workers", "1")
    two = gen(tmp_path / "w2", model, "2MB", fmt, SEED, "--workers", "2", "--chunk-rows", "3001")
    assert sha256_files(one) == sha256_files(two)


def _table_digest(con, table: str) -> tuple[int, int]:
    """(rows, an order-independent hash of every row's values)."""
    return con.execute(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{table}" t').fetchone()


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_same_values_in_every_format(datasets, model):
    digests = {}
    for fmt in FORMATS:
        con = connect(datasets[(model, fmt)], fmt, model)
        digests[fmt] = {t.name: _table_digest(con, t.name) for t in MODELS[model].tables}
        con.close()
    for table in digests["csv"]:
        assert digests["csv"][table][0] > 0 or table, table
        assert digests["csv"][table] == digests["json"][table] == digests["parquet"][table], (
            f"{model}.{table} differs between formats: {[digests[f][table] for f in FORMATS]}"
        )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_verify_passes_on_what_gengo_wrote(datasets, model, fmt):
    r = run_gengo("verify", str(datasets[(model, fmt)]))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verify: OK" in r.stdout


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_verify_catches_an_orphaned_foreign_key(datasets, tmp_path, model):
    """The check above can fail: a foreign key pointing past its parent is reported, naming it."""
    import json
    import shutil

    import blake3
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out = tmp_path / "ds"
    shutil.copytree(datasets[(model, "parquet")], out)
    child = next(t for t in MODELS[model].tables if t.foreign_keys)
    col, parent, pcol = child.foreign_keys[0]
    path = out / f"{child.name}.parquet"
    data = pq.read_table(path)
    top = pc.max(pq.read_table(out / f"{parent}.parquet", columns=[pcol])[pcol]).as_py()
    values = data[col].to_pylist()
    values[0] = top + 1000
    pq.write_table(data.set_column(data.schema.get_field_index(col), col, pa.array(values, data[col].type)), path)
    doc = json.loads((out / "manifest.json").read_text())
    entry = next(e for e in doc["tables"] if e["table"] == child.name)
    entry.update(bytes=path.stat().st_size, blake3=blake3.blake3(path.read_bytes()).hexdigest())
    (out / "manifest.json").write_text(json.dumps(doc))
    r = run_gengo("verify", str(out))
    assert r.returncode == 1, r.stdout
    assert f"{child.name}.{col}" in r.stdout and "FAILED" in r.stdout, r.stdout


# ecommerce-ds has TPC-DS columns that are constant by specification: its own test lists them.
@pytest.mark.parametrize("model", [m for m in MODEL_NAMES if m != "ecommerce-ds"])
def test_no_constant_column(datasets, model):
    con = connect(datasets[(model, "parquet")], "parquet", model)
    constant = []
    for t in MODELS[model].tables:
        n = con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
        if n < 10:  # a handful of rows may share a value by chance (two clinics in one time zone)
            continue
        for c in t.columns:
            if con.execute(f'SELECT count(DISTINCT "{c.name}") FROM "{t.name}"').fetchone()[0] <= 1:
                constant.append(f"{t.name}.{c.name}")
    assert constant == []
