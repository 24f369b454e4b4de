"""Same seed, same bytes (compressed text too); another seed, other data.

Worker count and chunk size for every model: tests/models/test_contract.py.
"""

from tests.helpers import gen, sha256_files


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
