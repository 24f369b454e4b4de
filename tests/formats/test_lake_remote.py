"""-f delta and -f iceberg on an object store (moto's S3 server on 127.0.0.1) and with --engine dask (issue 17).

On S3 the run commits once, ``gengo verify s3://...`` reads each table through its log or catalog, the
tables read back with deltalake / pyiceberg and hold the local run's files, and ``--resume`` after a
kill before the commit commits once. With Dask the workers write the local engine's files, committed once.
``--partition-by`` to S3 (Parquet, Delta, Iceberg) reads back with its partition column.
"""

from __future__ import annotations

import json
import re

import blake3
import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import gengo
from gengo import api
from gengo.core.errors import GengoError
from gengo.formats import FORMATS
from gengo.models import resolve_model
from tests.formats import test_object_store as object_store
from tests.formats.test_lake import same_rows
from tests.helpers import manifest, run_gengo

deltalake = pytest.importorskip("deltalake")
pyiceberg_catalog = pytest.importorskip("pyiceberg.catalog")

SIZE = "2MB"
SEED = 5
BUCKET = object_store.BUCKET
TABLES = resolve_model("ecommerce").table_names
endpoint = object_store.endpoint  # the moto server and a fresh bucket, as test_object_store uses them
s3 = object_store.s3


def _local(out, fmt: str, **extra):
    gengo.generate("ecommerce", SIZE, fmt, out, seed=SEED, workers=2, **extra)
    return out


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """The local -f parquet parts of the seed: a Delta or Iceberg table's files, wherever written (test_lake)."""
    return _local(tmp_path_factory.mktemp("parts"), "parquet", part_size="256MB")


def _remote_files(fs, prefix: str) -> dict[str, str]:
    """Data files under the prefix (relative name -> blake3), the table logs and metadata left out."""
    return {
        p[len(prefix) + 1 :]: blake3.blake3(fs.cat_file(p)).hexdigest()
        for p in sorted(fs.find(prefix))
        if p.endswith(".parquet") and "/metadata/" not in p
    }


def _local_files(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): blake3.blake3(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
        if "metadata" not in p.parts
    }


def _delta_options(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1"}


def _iceberg(catalog_db, endpoint: str):
    return pyiceberg_catalog.load_catalog(
        "gengo", type="sql", uri=f"sqlite:///{catalog_db}", **{"s3.endpoint": endpoint, "s3.region": "us-east-1"}
    )


def _gen(url: str, fmt: str, *extra: str):
    return run_gengo("gen", "-m", "ecommerce", "-s", SIZE, "-f", fmt, "-o", url, "--seed", str(SEED), "-q", *extra)


def _verified(url: str) -> None:
    r = run_gengo("verify", url)
    assert r.returncode == 0 and "verify: OK" in r.stdout, r.stdout + r.stderr
    assert f"verify {url}: ecommerce, " in r.stdout


def _checksums(doc: dict) -> dict[str, str]:
    return {e["file"]: e["blake3"] for e in doc["tables"]}


def test_delta_on_s3_commits_once_verifies_and_reads_back(s3, endpoint, parts):
    url = f"s3://{BUCKET}/delta"
    r = _gen(url, "delta")
    assert r.returncode == 0, r.stderr
    _verified(url)
    assert _remote_files(s3, f"{BUCKET}/delta") == _local_files(parts)  # the same parts, wherever written
    doc = json.loads(s3.cat_file(f"{BUCKET}/delta/manifest.json"))
    assert doc["format"] == "delta" and _checksums(doc) == _checksums(manifest(parts))
    for t in TABLES:
        assert s3.ls(f"{BUCKET}/delta/{t}/_delta_log") == [f"{BUCKET}/delta/{t}/_delta_log/00000000000000000000.json"]
        remote = deltalake.DeltaTable(f"{url}/{t}", storage_options=_delta_options(endpoint))
        assert remote.version() == 0, t
        assert same_rows(remote.to_pyarrow_table(), pq.read_table(parts / t)), t


def test_iceberg_on_s3_needs_a_catalog_and_reads_back(tmp_path, s3, endpoint, parts):
    url = f"s3://{BUCKET}/ice"
    p = api.plan("ecommerce", SIZE, "iceberg", seed=SEED, workers=1)
    with pytest.raises(GengoError, match="^-f iceberg to a URL needs --catalog URI"):  # (the CLI prints one line)
        api.run(p, url, workers=1)  # the default catalog is a SQLite file in the output: no such file on S3
    assert not s3.exists(f"{BUCKET}/ice")

    catalog_db = tmp_path / "catalog.db"
    r = _gen(url, "iceberg", "--catalog", f"sqlite:///{catalog_db}")
    assert r.returncode == 0, r.stderr
    _verified(url)
    assert _remote_files(s3, f"{BUCKET}/ice") == _local_files(parts)
    catalog = _iceberg(catalog_db, endpoint)
    for t in TABLES:
        table = catalog.load_table(("ecommerce", t))
        assert table.metadata_location.startswith(f"{url}/{t}/metadata/"), t
        assert len(table.snapshots()) == 1, t
        assert same_rows(table.scan().to_arrow(), pq.read_table(parts / t)), t


def _plan(fmt: str, catalog: str | None):
    """Several parts per large table, so that a file added twice would show."""
    p = api.plan("ecommerce", SIZE, fmt, seed=SEED, workers=1, row_group_size=8192, part_size="300KB")
    return api.table_format(p, catalog, None)


def _killed_before_commit(url: str, fmt: str, catalog: str | None, monkeypatch) -> None:
    """An in-process run stopped (as Ctrl-C would) once every part is written, before the commit."""

    def stop(self, *args):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(type(FORMATS[fmt]), "commit_tables", stop)
        with pytest.raises(KeyboardInterrupt):
            api.run(_plan(fmt, catalog), url, workers=1)


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_resume_on_s3_after_a_kill_before_the_commit_commits_once(tmp_path, s3, endpoint, monkeypatch, fmt):
    url, prefix = f"s3://{BUCKET}/resume-{fmt}", f"{BUCKET}/resume-{fmt}"
    catalog_db = tmp_path / "catalog.db"
    catalog = f"sqlite:///{catalog_db}" if fmt == "iceberg" else None
    _killed_before_commit(url, fmt, catalog, monkeypatch)
    s3.invalidate_cache()
    written = _remote_files(s3, prefix)
    assert len(written) > len(TABLES)  # every part there, no table claims them
    assert not s3.exists(f"{prefix}/manifest.json")
    assert not [p for p in s3.find(prefix) if "/_delta_log/" in p or "/metadata/" in p]

    api.run(_plan(fmt, catalog), url, workers=1, resume=True)  # what gengo gen ... --resume runs
    s3.invalidate_cache()
    assert _remote_files(s3, prefix) == written  # the same files, none added
    assert json.loads(s3.cat_file(f"{prefix}/manifest.json"))["complete"] is True
    iceberg = _iceberg(catalog_db, endpoint) if fmt == "iceberg" else None
    for t in TABLES:
        parts = sorted(n for n in written if n.startswith(f"{t}/"))
        if fmt == "delta":
            log = s3.ls(f"{prefix}/{t}/_delta_log")
            assert log == [f"{prefix}/{t}/_delta_log/00000000000000000000.json"], t
            actions = [json.loads(line) for line in s3.cat_file(log[0]).decode().splitlines()]
            paths = sorted(f"{t}/{a['add']['path']}" for a in actions if "add" in a)
        else:
            table = iceberg.load_table(("ecommerce", t))
            assert len(table.snapshots()) == 1, t
            paths = sorted(p[len(url) + 1 :] for p in table.inspect.files().column("file_path").to_pylist())
        assert paths == parts, t  # each file once


# --engine dask: a LocalCluster's workers (as tests/engine/test_dask.py runs them).


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as c:
        yield c


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_dask_writes_the_local_files_and_commits_once(tmp_path, cluster, fmt):
    common = dict(part_size="300KB", row_group_size=8192)
    local = _local(tmp_path / "local", fmt, **common)
    out = tmp_path / "dask"
    gengo.generate("ecommerce", SIZE, fmt, out, seed=SEED, engine="dask", scheduler=cluster.scheduler_address, **common)
    files = _local_files(local)
    assert len(files) > len(TABLES)  # several parts for the large tables
    assert _local_files(out) == files
    assert (out / "manifest.json").read_bytes() == (local / "manifest.json").read_bytes()
    if fmt == "iceberg":
        catalog = pyiceberg_catalog.load_catalog("gengo", type="sql", uri=f"sqlite:///{out / 'catalog.db'}")
    for t in TABLES:
        parts = sorted(n for n in files if n.startswith(f"{t}/"))
        if fmt == "delta":
            assert sorted(p.name for p in (out / t / "_delta_log").iterdir()) == ["00000000000000000000.json"], t
            listed = deltalake.DeltaTable(str(out / t)).file_uris()
            assert sorted(u.split(f"/{out.name}/", 1)[1] for u in listed) == parts, t
        else:
            table = catalog.load_table(("ecommerce", t))
            assert len(table.snapshots()) == 1, t
            listed = table.inspect.files().column("file_path").to_pylist()
            assert sorted(u.split(f"/{out.name}/", 1)[1] for u in listed) == parts, t
    r = run_gengo("verify", str(out))
    assert r.returncode == 0 and "verify: OK" in r.stdout, r.stdout + r.stderr


# --partition-by to an object store: Hive directories on S3, read back with their partition column.

BY = "fact_order_items"


@pytest.fixture(scope="module")
def by_rows(tmp_path_factory):
    """The table's rows, unpartitioned, in a local run of the same plan (the one table at SIZE)."""
    return pq.read_table(_local(tmp_path_factory.mktemp("by"), "parquet", tables=[BY]) / f"{BY}.parquet")


@pytest.mark.parametrize("fmt", ["parquet", "delta", "iceberg"])
def test_partition_by_on_s3_reads_back_with_the_partition_column(tmp_path, s3, endpoint, by_rows, fmt):
    url, prefix = f"s3://{BUCKET}/by-{fmt}", f"{BUCKET}/by-{fmt}"
    catalog_db = tmp_path / "catalog.db"
    p = api.plan("ecommerce", SIZE, fmt, seed=SEED, workers=1, tables=[BY], partition_by=[f"{BY}=quantity"])
    p = api.table_format(p, f"sqlite:///{catalog_db}" if fmt == "iceberg" else None, None)
    api.run(p, url, workers=1)
    s3.invalidate_cache()
    written = _remote_files(s3, prefix)
    assert written and all(re.fullmatch(rf"{BY}/quantity=\d+/part-00000\.parquet", n) for n in written), written
    expected = by_rows
    if fmt == "parquet":  # the files of a local run at two workers, byte for byte
        local = _local(tmp_path / "local", "parquet", tables=[BY], partition_by=[f"{BY}=quantity"])
        assert written == _local_files(local)
        con = duckdb.connect()
        con.register_filesystem(s3)
        got = con.sql(
            f"SELECT * FROM read_parquet('{url}/{BY}/*/*.parquet', hive_partitioning = true, "
            "hive_types = {'quantity': INTEGER})"
        ).to_arrow_table()
    elif fmt == "delta":
        table = deltalake.DeltaTable(f"{url}/{BY}", storage_options=_delta_options(endpoint))
        assert table.version() == 0 and table.metadata().partition_columns == ["quantity"]
        got = table.to_pyarrow_table()
    else:
        table = _iceberg(catalog_db, endpoint).load_table(("ecommerce", BY))
        assert [f.name for f in table.spec().fields] == ["quantity"] and len(table.snapshots()) == 1
        three = table.scan(row_filter="quantity == 3").to_arrow()  # pruned by the files' partition values
        assert len(three) == pc.sum(pc.equal(expected["quantity"], 3)).as_py() > 0
        got = table.scan().to_arrow()
    assert same_rows(got.select(expected.column_names).cast(expected.schema), expected)
    assert api.verify(url).ok
