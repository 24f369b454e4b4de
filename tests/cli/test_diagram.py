"""The real `gengo diagram` command: Mermaid on stdout, an SVG through Graphviz, one-line refusals."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gengo.models import resolve_model
from tests.helpers import assert_one_line_error, run_gengo


def need_dot() -> None:
    """Graphviz is optional on a developer's machine; .ci/run installs it, so in CI its absence fails."""
    if shutil.which("dot"):
        return
    if os.environ.get("CI"):
        pytest.fail("Graphviz's dot is not on PATH (.ci/run installs the graphviz package)")
    pytest.skip("Graphviz's dot is not installed")


def test_prints_mermaid() -> None:
    r = run_gengo("diagram", "-m", "ecom")  # an alias, as for the other commands
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[1] == "erDiagram"
    model = resolve_model("ecommerce")
    for t in model.tables:
        assert f"    {t.name} {{" in lines
    relations = [line for line in lines if " }o--" in line]
    assert len(relations) == sum(len(t.foreign_keys) for t in model.tables)
    assert '    fact_order_items }o--|| fact_orders_header : "order_id"' in relations


def test_unknown_model_suggests() -> None:
    r = run_gengo("diagram", "-m", "ecommrce")
    assert r.returncode == 1
    assert_one_line_error(r, "unknown model", "did you mean 'ecommerce'")


def test_writes_svg(tmp_path: Path) -> None:
    need_dot()
    out = tmp_path / "er.svg"
    r = run_gengo("diagram", "-m", "medical", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {out}"
    svg = ET.fromstring(out.read_bytes())
    ns = "{http://www.w3.org/2000/svg}"
    nodes = [g.find(f"{ns}title").text for g in svg.iter(f"{ns}g") if g.get("class") == "node"]
    assert sorted(nodes) == sorted(resolve_model("medical").table_names)
    again = run_gengo("diagram", "-m", "financial", "-o", str(out))  # gengo's own file: no --force needed
    assert again.returncode == 0, again.stderr
    assert "dim_exchanges" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["er.svg"]


def test_without_graphviz_one_line_and_mermaid_still_works(tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # the command and its Python are absolute paths
    r = run_gengo("diagram", "-m", "medical", "-o", str(tmp_path / "er.svg"))
    assert r.returncode == 1
    assert_one_line_error(r, "graphviz", "apt-get install graphviz", "brew install graphviz", "conda install graphviz")
    assert not (tmp_path / "er.svg").exists()
    r = run_gengo("diagram", "-m", "medical", "-o", str(tmp_path / "er.mmd"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "er.mmd").read_text() == run_gengo("diagram", "-m", "medical").stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "er.mmd"]


def test_refuses_to_overwrite_a_users_file_without_force(tmp_path: Path) -> None:
    mine = tmp_path / "er.md"
    mine.write_text("# my notes\n")
    r = run_gengo("diagram", "-m", "medical", "-o", str(mine))
    assert r.returncode == 1
    assert_one_line_error(r, "er.md", "--force")
    assert mine.read_text() == "# my notes\n"
    r = run_gengo("diagram", "-m", "medical", "-o", str(mine), "--force")
    assert r.returncode == 0, r.stderr
    text = mine.read_text()
    assert text.startswith("```mermaid\n") and "erDiagram" in text and "dim_patients" in text
    r = run_gengo("diagram", "-m", "financial", "-o", str(mine))  # gengo's own file now
    assert r.returncode == 0, r.stderr
    assert "dim_exchanges" in mine.read_text()
