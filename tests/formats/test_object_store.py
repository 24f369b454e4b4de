"""Output to an S3-compatible object store (issue 9): moto's server on 127.0.0.1, read back with pyarrow."""

from __future__ import annotations

import json
import socket

import blake3
import pytest

import gengo
from tests.engine.test_partitions import part_hashes
from tests.helpers import run_gengo

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

SEED = 21
BUCKET = "gengo-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint, monkeypatch):
    """Credentials and endpoint from the environment, as users give them; a fresh bucket."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    if not fs.exists(BUCKET):
        fs.mkdir(BUCKET)
    yield fs
    fs.rm(BUCKET, recursive=True)
    s3fs.S3FileSystem.clear_instance_cache()


def _pyarrow_s3(endpoint: str):
    from pyarrow import fs

    return fs.S3FileSystem(
        access_key="testing", secret_key="testing", endpoint_override=endpoint, scheme="http", region="us-east-1"
    )


def test_parquet_to_s3_reads_back_with_pyarrow(tmp_path, s3, endpoint):
    import pyarrow.dataset as ds

    common = dict(seed=SEED, parts=2, row_group_size=16_384)
    gengo.generate("ecommerce", "0.01", "parquet", f"s3://{BUCKET}/shop", workers=2, **common)
    gengo.generate("ecommerce", "0.01", "parquet", tmp_path / "local", workers=2, **common)

    local = part_hashes(tmp_path / "local")
    remote = {
        p[len(f"{BUCKET}/shop/") :]: blake3.blake3(s3.cat_file(p)).hexdigest()
        for p in sorted(s3.glob(f"{BUCKET}/shop/*/part-*"))
    }
    assert remote == local  # same seed, same bytes, wherever they are written
    doc = json.loads(s3.cat_file(f"{BUCKET}/shop/manifest.json"))
    assert doc["complete"] is True and {e["file"]: e["blake3"] for e in doc["tables"]} == local
    assert not s3.exists(f"{BUCKET}/shop/.gengo-progress.json")

    pafs = _pyarrow_s3(endpoint)
    for table in ("dim_customers", "fact_order_items"):
        from_s3 = ds.dataset(f"{BUCKET}/shop/{table}", format="parquet", filesystem=pafs).to_table()
        from_disk = ds.dataset(tmp_path / "local" / table, format="parquet").to_table()
        key = from_disk.column_names[0]
        assert from_s3.sort_by(key).equals(from_disk.sort_by(key)), table


def test_cli_csv_to_s3_and_refuses_a_non_empty_prefix(tmp_path, s3, endpoint):
    url = f"s3://{BUCKET}/csv"
    args = ["gen", "-m", "ecommerce", "-s", "0.005", "-f", "csv", "-o", url, "--seed", str(SEED), "-w", "2"]
    r = run_gengo(*args, "--part-size", "1MB")
    assert r.returncode == 0, r.stderr
    doc = json.loads(s3.cat_file(f"{BUCKET}/csv/manifest.json"))
    assert doc["part_bytes"] == 10**6
    import pyarrow.csv as pcsv

    pafs = _pyarrow_s3(endpoint)
    rows = 0
    for e in doc["tables"]:
        with pafs.open_input_stream(f"{BUCKET}/csv/{e['file']}") as f:
            rows += pcsv.read_csv(f).num_rows  # every part has its header
    assert rows == doc["total_rows"]

    r = run_gengo(*args)  # the prefix holds a dataset now
    assert r.returncode == 1 and "is not empty" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# gengo verify on an object store (issue 20, item 11): manifest and files read through fsspec.


@pytest.mark.parametrize(
    ("fmt", "extra"),
    [
        # JSON Lines reaches the object store through the same text sink as CSV; its gzip is verified
        # locally in tests/engine/test_verify.py.
        ("csv", ["--compression", "zstd"]),
        ("parquet", ["--row-group-size", "8192"]),
    ],
)
def test_verify_s3_dataset_passes_then_finds_a_truncated_and_a_removed_part(s3, fmt, extra):
    from gengo.engine.verify import verify

    url = f"s3://{BUCKET}/verify-{fmt}"
    args = ["gen", "-m", "ecommerce", "-s", "3MB", "-f", fmt, "-o", url, "--seed", str(SEED), "--part-size", "300KB"]
    r = run_gengo(*args, *extra, "-q")
    assert r.returncode == 0, r.stderr
    doc = json.loads(s3.cat_file(f"{BUCKET}/verify-{fmt}/manifest.json"))
    parts = [e["file"] for e in doc["tables"] if e["table"] == "fact_order_items"]
    assert len(parts) >= 3, parts
    r = run_gengo("verify", url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"verify {url}: ecommerce, {fmt}, {len(doc['tables'])} files, keys checked with duckdb" in r.stdout
    assert "7 tables have the manifest's row counts" in r.stdout and "8 foreign keys resolve" in r.stdout
    assert verify(url, engine="pyarrow").ok  # pyarrow reading the objects as streams

    s3.invalidate_cache()
    key = f"{BUCKET}/verify-{fmt}/{parts[-1]}"
    data = s3.cat_file(key)
    s3.pipe_file(key, data[: len(data) // 2])
    s3.rm(f"{BUCKET}/verify-{fmt}/{parts[0]}")
    r = run_gengo("verify", url)
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
    assert f"FAILED  {parts[0]}: missing" in r.stdout
    assert f"FAILED  {parts[-1]}: {len(data) // 2:,} bytes, the manifest says {len(data):,}" in r.stdout
    assert f"FAILED  {parts[-1]}: blake3 " in r.stdout
    assert f"fact_order_items ({len(parts) - 1} parts): " in r.stdout  # the data pass read what is left
    for engine in ("duckdb", "pyarrow"):
        problems = verify(url, engine=engine).problems
        assert f"{parts[0]}: missing" in problems and any(p.startswith("fact_order_items (") for p in problems)


def test_verify_s3_prefix_without_a_dataset(s3):
    r = run_gengo("verify", f"s3://{BUCKET}/nothing-here")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert f"no manifest.json in 's3://{BUCKET}/nothing-here'" in r.stderr
    s3.pipe_file(f"{BUCKET}/unfinished/.gengo-progress.json", b"{}")
    r = run_gengo("verify", f"s3://{BUCKET}/unfinished")
    assert r.returncode == 1 and "unfinished run" in r.stderr and "--resume" in r.stderr
