"""The Dask engine (issue 9): a LocalCluster's workers write the same part files as the local engine."""

from __future__ import annotations

import json

import pytest

import gengo
from tests.engine.test_partitions import part_hashes
from tests.helpers import run_gengo

distributed = pytest.importorskip("distributed")

SEED = 11


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as c:
        yield c


@pytest.mark.parametrize(("fmt", "extra"), [("parquet", {"row_group_size": 16_384}), ("csv", {})])
def test_dask_parts_equal_local_parts(tmp_path, cluster, fmt, extra):
    common = dict(seed=SEED, parts=3, **extra)
    local = gengo.generate("ecommerce", "0.01", fmt, tmp_path / "local", workers=2, **common)
    dask = gengo.generate(
        "ecommerce", "0.01", fmt, tmp_path / "dask", engine="dask", scheduler=cluster.scheduler_address, **common
    )
    hashes = part_hashes(tmp_path / "local")
    assert len(hashes) > len(local.tables)  # several parts for the large tables
    assert part_hashes(tmp_path / "dask") == hashes
    doc = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert {e["file"]: e["blake3"] for e in doc["tables"]} == hashes  # checksums as returned by the workers
    assert (tmp_path / "dask" / "manifest.json").read_bytes() == (tmp_path / "local" / "manifest.json").read_bytes()
    assert dask.total_rows == local.total_rows


def test_scheduler_from_environment(tmp_path, cluster, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    gengo.generate("ecommerce", "0.005", "csv", tmp_path / "local", seed=SEED, workers=1, parts=2)
    gengo.generate("ecommerce", "0.005", "csv", tmp_path / "dask", seed=SEED, parts=2, engine="dask")
    assert part_hashes(tmp_path / "dask") == part_hashes(tmp_path / "local")


def test_cli_engine_dask_starts_a_local_cluster(tmp_path):
    r = run_gengo(
        "gen", "-m", "ecommerce", "-s", "0.005", "-f", "parquet", "-o", str(tmp_path / "d"), "--seed", str(SEED),
        "--engine", "dask", "--workers", "2", "--part-size", "1MB", "--row-group-size", "16384",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "local Dask cluster, 2 workers" in r.stdout
    gengo.generate(
        "ecommerce", "0.005", "parquet", tmp_path / "l", seed=SEED, part_size="1MB", row_group_size=16384, workers=2
    )
    assert part_hashes(tmp_path / "d") == part_hashes(tmp_path / "l")


def test_unreachable_scheduler_fails_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "1s")  # Dask's own setting: a short wait
    out = tmp_path / "out"
    r = run_gengo(
        "gen", "-m", "ecommerce", "-s", "0.005", "-f", "csv", "-o", str(out), "--seed", "1",
        "--scheduler", "tcp://127.0.0.1:9",
    )  # fmt: skip
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect to the Dask scheduler at tcp://127.0.0.1:9" in lines[0], r.stderr
    assert not out.exists()
