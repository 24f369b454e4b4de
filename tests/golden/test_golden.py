"""Golden bytes: the SHA-256 of every file of a small dataset, per model and output variant.

Same seed, same bytes is gengo's main promise; these checksums pin it across refactors. They
change only in a commit that says why the data changed. To regenerate after such a change:

    GENGO_UPDATE_GOLDEN=1 pytest tests/golden

Each model's checksums live in ``tests/golden/<model>.json`` with the library versions that made
them: a new pyarrow, polars, NumPy or Faker may legitimately change bytes, and the failure
message names the versions so that the cause is visible.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

import pytest

from gengo.engine.ledger import LIBRARIES  # the libraries the bytes depend on, as manifests record them
from tests.helpers import run_cli

HERE = Path(__file__).parent
MODELS = ("ecommerce", "ecommerce-ds", "financial", "medical")
SIZE = "3MB"
SEED = "20261201"
# variant -> extra `gengo gen` arguments
VARIANTS: dict[str, tuple[str, ...]] = {
    "csv": ("-f", "csv"),
    "json": ("-f", "json"),
    "parquet": ("-f", "parquet"),
    "csv-gzip": ("-f", "csv", "--compression", "gzip"),
    "json-zstd": ("-f", "json", "--compression", "zstd"),
    "parquet-zstd": ("-f", "parquet", "--compression", "zstd"),
    "parquet-parts": ("-f", "parquet", "--parts", "3"),
    "csv-parts": ("-f", "csv", "--part-size", "400KB"),
    "parquet-parts-dask": ("-f", "parquet", "--parts", "3", "--engine", "dask"),
}
UPDATE = os.environ.get("GENGO_UPDATE_GOLDEN") == "1"


def _versions() -> dict[str, str]:
    return {lib: metadata.version(lib) for lib in LIBRARIES}


def _hashes(root: Path) -> dict[str, str]:
    """Every file except the manifest (it records library versions, not data)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def _golden_path(model: str) -> Path:
    return HERE / f"{model}.json"


def _load(model: str) -> dict:
    path = _golden_path(model)
    return json.loads(path.read_text()) if path.exists() else {"libraries": {}, "variants": {}}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("model", MODELS)
def test_bytes_match_golden(tmp_path, model, variant):
    out = tmp_path / "out"
    r = run_cli("gen", "-m", model, "-s", SIZE, "-o", str(out), "--seed", SEED, "--workers", "2", *VARIANTS[variant])
    assert r.returncode == 0, r.stderr + r.stdout
    got = _hashes(out)
    assert len(got) >= 3, got  # tables and schema.sql were written
    golden = _load(model)
    if UPDATE:
        golden["libraries"] = _versions()
        golden["variants"][variant] = got
        golden["variants"] = dict(sorted(golden["variants"].items()))
        _golden_path(model).write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        return
    want = golden["variants"].get(variant)
    assert want is not None, f"no golden for {model}/{variant}: run GENGO_UPDATE_GOLDEN=1 pytest tests/golden"
    changed = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    versions = {k: (golden["libraries"].get(k), v) for k, v in _versions().items() if golden["libraries"].get(k) != v}
    assert not changed, f"{model}/{variant}: bytes changed in {changed}" + (
        f" (golden made with other library versions: {versions})" if versions else ""
    )
