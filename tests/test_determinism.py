"""Same seed, same bytes: whatever the worker count and chunk size, in every format."""

import pytest

from tests.helpers import gen, sha256_files


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_workers_and_chunk_sizes_do_not_change_bytes(tmp_path, fmt):
    runs = [
        gen(tmp_path / "w1", "ecommerce", "0.01", fmt, 42, "--workers", "1"),
        gen(tmp_path / "w2", "ecommerce", "0.01", fmt, 42, "--workers", "2"),
        gen(tmp_path / "w2c", "ecommerce", "0.01", fmt, 42, "--workers", "2", "--chunk-rows", "7777"),
    ]
    hashes = [sha256_files(d) for d in runs]
    ext = {"csv": "csv", "json": "jsonl", "parquet": "parquet"}[fmt]
    assert sum(name.endswith("." + ext) for name in hashes[0]) == 7 and "manifest.json" in hashes[0]
    assert hashes[0] == hashes[1] == hashes[2]


def test_compressed_output_is_deterministic_too(tmp_path):
    a = gen(tmp_path / "a", "ecommerce", "0.005", "csv", 3, "--compression", "gzip", "--workers", "1")
    b = gen(
        tmp_path / "b",
        "ecommerce",
        "0.005",
        "csv",
        3,
        "--compression",
        "gzip",
        "--workers",
        "2",
        "--chunk-rows",
        "5000",
    )
    assert sha256_files(a) == sha256_files(b)


def test_another_seed_gives_other_data(tmp_path):
    a = sha256_files(gen(tmp_path / "a", "ecommerce", "0.002", "csv", 1))
    b = sha256_files(gen(tmp_path / "b", "ecommerce", "0.002", "csv", 2))
    assert a["fact_order_items.csv"] != b["fact_order_items.csv"]
    assert a["dim_customers.csv"] != b["dim_customers.csv"]
