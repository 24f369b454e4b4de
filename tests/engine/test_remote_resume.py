"""--resume on an object store (moto's S3 server on 127.0.0.1) takes the interrupted run's seed."""

from __future__ import annotations

import json

import pytest

import gengo
from tests.helpers import run_gengo

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

from tests.formats.test_object_store import BUCKET, endpoint, s3  # noqa: E402, F401 - fixtures


def test_resume_on_s3_without_seed_finishes_the_run(s3):  # noqa: F811 - the fixture
    url = f"s3://{BUCKET}/resume"
    gengo.generate("ecommerce", "2MB", "csv", url, seed=987, workers=2, parts=3)
    full = {p: s3.cat_file(p) for p in sorted(s3.find(f"{BUCKET}/resume")) if p.endswith(".csv")}
    doc = json.loads(s3.cat_file(f"{BUCKET}/resume/manifest.json"))
    run = gengo.api.previous_run(url)["run"]
    lost = doc["tables"][-1]["file"]
    s3.rm(f"{BUCKET}/resume/{lost}")
    s3.rm(f"{BUCKET}/resume/manifest.json")
    files = [e for e in doc["tables"] if e["file"] != lost]
    progress = {"complete": False, "run": run, "files": files}
    s3.pipe_file(f"{BUCKET}/resume/.gengo-progress.json", json.dumps(progress).encode())

    r = run_gengo("gen", "-m", "ecommerce", "-s", "2MB", "-f", "csv", "-o", url, "--parts", "3", "--resume", "-q")
    assert r.returncode == 0, r.stderr
    assert json.loads(s3.cat_file(f"{BUCKET}/resume/manifest.json"))["seed"] == 987
    again = {p: s3.cat_file(p) for p in sorted(s3.find(f"{BUCKET}/resume")) if p.endswith(".csv")}
    assert again == full
    assert not s3.exists(f"{BUCKET}/resume/.gengo-progress.json")
