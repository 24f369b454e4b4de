"""Every complete model in the README's ```yaml blocks generates and verifies (a newcomer copies them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import run_gengo

README = Path(__file__).resolve().parents[3] / "README.md"
BLOCKS = [b for b in re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S) if "tables:" in b]


def test_the_readme_shows_a_model():
    assert BLOCKS


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_model_generates_and_verifies(tmp_path, i):
    (tmp_path / "m.yaml").write_text(BLOCKS[i])
    r = run_gengo("gen", "-m", str(tmp_path / "m.yaml"), "-s", "2MB", "-f", "parquet", "-o", str(tmp_path / "o"), "-q")
    assert r.returncode == 0, r.stderr
    r = run_gengo("verify", str(tmp_path / "o"))
    assert r.returncode == 0, r.stdout + r.stderr
