"""The model-file guide is real: every YAML block generates (or fails as it says), every strategy,
function and type is in it, its error example is the command's output, and the published JSON
Schema is the one ``gengo model-schema`` prints."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from gengo.core.errors import GengoError
from gengo.models.file import expr, load_model_text
from gengo.models.file import spec as s
from gengo.models.file.compile import _TYPE_NAMES
from tests.helpers import GENGO, run_gengo

DOCS = Path(__file__).parents[3] / "docs"
GUIDE = (DOCS / "model-files.md").read_text()
FENCE = re.compile(r"(?:<!-- fails: (?P<fails>.*?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.DOTALL)


def blocks(lang: str) -> list[tuple[str, str | None]]:
    """(text, expected error or None) of every fenced block in ``lang``."""
    return [(m["body"], m["fails"]) for m in FENCE.finditer(GUIDE) if m["lang"] == lang]


YAML = blocks("yaml")


def name_of(text: str) -> str:
    return yaml.safe_load(text)["model"]


@pytest.fixture
def guide_modules(tmp_path, monkeypatch) -> None:
    """The guide's Python blocks (each starting ``# module.py``), importable."""
    for text, _ in blocks("python"):
        first = text.splitlines()[0]
        m = re.fullmatch(r"# (\w+)\.py", first)
        assert m, f"a python block starts with '# module.py', not {first!r}"
        (tmp_path / f"{m[1]}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_every_yaml_block_is_a_complete_model():
    assert len(YAML) >= 15
    for text, _ in YAML:
        doc = yaml.safe_load(text)
        assert isinstance(doc, dict) and doc.get("tables") and doc.get("model"), text[:80]
    names = [name_of(text) for text, _ in YAML]
    assert len(set(names)) == len(names), "each example has its own name"


@pytest.mark.parametrize(("text", "fails"), [pytest.param(t, f, id=name_of(t)) for t, f in YAML])
def test_guide_example_generates(text, fails, guide_modules):
    name = f"{name_of(text)}.yaml"
    if fails:
        with pytest.raises(GengoError) as e:
            load_model_text(text, name)
        assert str(e.value).startswith(f"{name}:") and fails in str(e.value), str(e.value)
        return
    model = load_model_text(text, name)
    rows = model.row_counts(300, 5)
    for t in model.tables:
        data = t.generate(5, rows, np.arange(rows[t.name], dtype=np.int64))
        assert data.num_rows == rows[t.name]
        if t.primary_key:
            keys = data.select(list(t.primary_key)).to_pylist()
            assert len({tuple(k.values()) for k in keys}) == len(keys), f"{t.name}: duplicate keys"
        for column, parent, parent_column in t.foreign_keys:
            target = model.table(parent)
            values = target.generate(5, rows, np.arange(rows[parent], dtype=np.int64)).column(parent_column)
            refs = data.column(column).drop_null()
            assert set(refs.to_pylist()) <= set(values.to_pylist()), f"{t.name}.{column}"


def used_strategies() -> set[str]:
    used = set()
    for text, _ in YAML:
        for table in yaml.safe_load(text)["tables"].values():
            for col in table["columns"].values():
                used.add(col if isinstance(col, str) else col.get("strategy", "sequence"))
    return used


def test_every_strategy_has_an_example():
    assert set(s.STRATEGIES) - used_strategies() == set()


def test_every_function_and_type_is_listed():
    for fn in [*expr.FUNCTIONS, *expr.RANDOM_FUNCTIONS, *expr.NULL_FUNCTIONS]:
        assert f"`{fn}(" in GUIDE, fn
    types = GUIDE.split("## Types")[1].split("##")[0]
    for t in _TYPE_NAMES:
        assert f"`{t}`" in types, t


def test_the_error_example_is_what_the_command_prints(tmp_path):
    text, fails = next((t, f) for t, f in YAML if name_of(t) == "typo")
    (tmp_path / "typo.yaml").write_text(text)
    r = subprocess.run(
        [GENGO, "plan", "-m", "typo.yaml", "-s", "1MB", "-f", "csv"], cwd=tmp_path, capture_output=True, text=True
    )
    shown = GUIDE.split("```text\n", 1)[1].split("```", 1)[0]
    assert r.returncode == 1 and r.stderr == shown, r.stderr


def test_a_recipe_through_the_command(tmp_path):
    text = next(t for t, _ in YAML if name_of(t) == "order-lines")
    (tmp_path / "order-lines.yaml").write_text(text)
    out = tmp_path / "out"
    r = run_gengo("gen", "-m", str(tmp_path / "order-lines.yaml"), "-s", "200KB", "-f", "parquet", "-o", str(out), "-q")
    assert r.returncode == 0, r.stderr
    r = run_gengo("verify", str(out))
    assert r.returncode == 0 and "verify: OK" in r.stdout, r.stdout + r.stderr


def test_published_schema_is_current():
    r = run_gengo("model-schema")
    assert r.returncode == 0, r.stderr
    assert (DOCS / "model-schema.json").read_text() == r.stdout, (
        "docs/model-schema.json is stale: gengo model-schema > docs/model-schema.json"
    )
