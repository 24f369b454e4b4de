"""ER diagrams: the Mermaid text read back against each model's declarations, the DOT laid out by Graphviz."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from gengo.core.errors import GengoError
from gengo.core.schema import Column, Model, Table
from gengo.formats import diagram
from gengo.models import model_names, resolve_model

MODELS = model_names()
# Mermaid's erDiagram lexer (packages/mermaid/src/diagrams/er/parser/erDiagram.jison): one attribute word.
ATTRIBUTE_WORD = re.compile(r"[*A-Za-z_\u00C0-\uFFFF][A-Za-z0-9\-_\[\]().,\u00C0-\uFFFF*]*")
ENTITY = re.compile(r'^    (\S+|"[^"]+") \{$')
ATTRIBUTE = re.compile(r'^        (\S+) (\S+)(?: (PK|FK|PK, FK))?(?: "([^"]*)")?$')
RELATION = re.compile(r'^    (\S+|"[^"]+") (\S+) (\S+|"[^"]+") : "([^"]+)"$')


def need_dot() -> None:
    """Graphviz is optional on a developer's machine; .ci/run installs it, so in CI its absence fails."""
    if shutil.which("dot"):
        return
    if os.environ.get("CI"):
        pytest.fail("Graphviz's dot is not on PATH (.ci/run installs the graphviz package)")
    pytest.skip("Graphviz's dot is not installed")


def parse_mermaid(text: str) -> tuple[dict[str, list[tuple[str, str, str]]], list[tuple[str, str, str, str]]]:
    """{entity: [(type, name, keys)]} and [(child, cardinality, parent, label)]; any other line fails."""
    lines = text.splitlines()
    assert lines[1] == "erDiagram", lines[:2]
    assert lines[0].startswith("%% ")
    entities: dict[str, list[tuple[str, str, str]]] = {}
    relations = []
    current = None
    for line in lines[2:]:
        if current is not None:
            if line == "    }":
                current = None
            else:
                m = ATTRIBUTE.match(line)
                assert m, f"not an attribute line: {line!r}"
                # a type with a comma is written as its first word, the full type as the comment
                full = m[4] if m[4] and m[4].startswith(m[1] + "(") else m[1]
                entities[current].append((full, m[2], m[3] or ""))
        elif m := ENTITY.match(line):
            current = m[1].strip('"')
            assert current not in entities, f"{current} declared twice"
            entities[current] = []
        elif m := RELATION.match(line):
            relations.append((m[1].strip('"'), m[2], m[3].strip('"'), m[4]))
        else:
            raise AssertionError(f"unexpected line: {line!r}")
    assert current is None, "unclosed entity block"
    return entities, relations


def expected_type(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz is None else "timestamptz"
    names = {pa.int64(): "bigint", pa.int32(): "int", pa.int16(): "smallint", pa.string(): "varchar"}
    names |= {pa.date32(): "date", pa.float64(): "double", pa.float32(): "real", pa.bool_(): "boolean"}
    names |= {pa.uint32(): "bigint", pa.uint16(): "int", pa.int8(): "smallint", pa.uint8(): "smallint"}
    return names[t]


@pytest.mark.parametrize("name", MODELS)
def test_mermaid_lists_every_table_column_type_and_key(name: str) -> None:
    model = resolve_model(name)
    entities, _ = parse_mermaid(diagram.mermaid(model))
    assert list(entities) == list(model.table_names)
    for t in model.tables:
        want = []
        for c in t.columns:
            keys = ", ".join(k for k, on in (("PK", c.primary_key), ("FK", c.references)) if on)
            want.append((expected_type(c.type), c.name, keys))
        assert entities[t.name] == want, t.name
        for type_word, column, _ in entities[t.name]:
            type_word = type_word.split("(")[0] if "," in type_word else type_word
            assert "," not in type_word and ATTRIBUTE_WORD.fullmatch(type_word) and ATTRIBUTE_WORD.fullmatch(column), (
                type_word,
                column,
            )


@pytest.mark.parametrize("name", MODELS)
def test_mermaid_has_one_relationship_per_foreign_key(name: str) -> None:
    model = resolve_model(name)
    _, relations = parse_mermaid(diagram.mermaid(model))
    want = Counter()
    for t in model.tables:
        nullable = {c.name: c.nullable for c in t.columns}
        for col, parent, _ in t.foreign_keys:
            want[t.name, "}o--o|" if nullable[col] else "}o--||", parent, col] += 1
    assert Counter(relations) == want
    assert len(relations) == sum(len(t.foreign_keys) for t in model.tables) > 0


def test_nullable_and_primary_foreign_keys_are_marked() -> None:
    """TPC-DS has both: optional references (}o--o|) and key columns that are also references (PK, FK)."""
    text = diagram.mermaid(resolve_model("ecommerce-ds"))
    assert '    store }o--o| date_dim : "s_closed_date_sk"' in text.splitlines()
    assert "        bigint ss_item_sk PK, FK" in text.splitlines()
    assert '    store_sales }o--|| item : "ss_item_sk"' in text.splitlines()


def _svg(source: str) -> ET.Element:
    done = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # warnings (a bad HTML label, an unknown port) count as failures
    return ET.fromstring(done.stdout)


def _titles(svg: ET.Element, kind: str) -> list[str]:
    ns = "{http://www.w3.org/2000/svg}"
    return [g.find(f"{ns}title").text for g in svg.iter(f"{ns}g") if g.get("class") == kind]


@pytest.mark.parametrize("name", MODELS)
def test_dot_lays_out_with_graphviz(name: str) -> None:
    need_dot()
    model = resolve_model(name)
    svg = _svg(diagram.dot(model))
    assert sorted(_titles(svg, "node")) == sorted(model.table_names)
    # one edge per foreign key, child to parent (the title drops the port, which dot checked: no warning)
    edges = [tuple(part.split(":")[0] for part in title.split("->")) for title in _titles(svg, "edge")]
    assert Counter(edges) == Counter((t.name, parent) for t in model.tables for _, parent, _ in t.foreign_keys)


def _odd_model() -> Model:
    """Names Mermaid cannot take as they are, a nullable reference, a self-reference, a PK that is an FK."""
    cols = (
        Column("id", pa.int64(), primary_key=True),
        Column("parent id", pa.int64(), references='odd "table".id', nullable=True),
        Column("pk", pa.decimal128(9, 3)),
    )
    odd = Table('odd "table"', cols, build=lambda ctx: {})
    child = Table(
        "child",
        (Column("id", pa.int64(), primary_key=True, references='odd "table".id'), Column("at", pa.timestamp("us"))),
        build=lambda ctx: {},
    )
    return Model("odd", (), "test", (odd, child), row_counts=lambda scale, seed: {})


def test_names_mermaid_cannot_take_are_quoted_or_made_one_word() -> None:
    entities, relations = parse_mermaid(diagram.mermaid(_odd_model()))
    assert list(entities) == ["odd 'table'", "child"]
    odd = [("bigint", "id", "PK"), ("bigint", "parent_id", "FK"), ("decimal(9,3)", "pk_", "")]
    assert entities["odd 'table'"] == odd
    assert entities["child"] == [("bigint", "id", "PK, FK"), ("timestamp", "at", "")]
    assert relations == [
        ("odd 'table'", "}o--o|", "odd 'table'", "parent id"),
        ("child", "}o--||", "odd 'table'", "id"),
    ]


def test_odd_names_lay_out_with_graphviz() -> None:
    need_dot()
    svg = _svg(diagram.dot(_odd_model()))
    assert sorted(_titles(svg, "node")) == sorted(['odd "table"', "child"])
    assert len(_titles(svg, "edge")) == 2


def _no_temporary_files(directory: Path) -> None:
    assert [p.name for p in directory.iterdir() if p.name.startswith(".")] == []


def test_render_mermaid_and_markdown_need_no_graphviz(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no dot anywhere
    model = resolve_model("medical")
    diagram.render(model, tmp_path / "er.mmd")
    diagram.render(model, tmp_path / "er.md")
    diagram.render(model, tmp_path / "sub" / "er.dot")
    assert (tmp_path / "er.mmd").read_text() == diagram.mermaid(model)
    assert (tmp_path / "er.md").read_text() == f"```mermaid\n{diagram.mermaid(model)}```\n"
    assert (tmp_path / "sub" / "er.dot").read_text() == diagram.dot(model)
    _no_temporary_files(tmp_path)


def test_render_svg(tmp_path: Path) -> None:
    need_dot()
    model = resolve_model("financial")
    diagram.render(model, tmp_path / "er.svg")
    svg = ET.fromstring((tmp_path / "er.svg").read_bytes())
    assert sorted(_titles(svg, "node")) == sorted(model.table_names)
    diagram.render(model, tmp_path / "er.svg")  # gengo's own file: replaced without force
    _no_temporary_files(tmp_path)


def test_render_without_graphviz_is_one_line_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GengoError) as exc:
        diagram.render(resolve_model("medical"), tmp_path / "er.svg")
    message = str(exc.value)
    assert "\n" not in message
    for part in ("Graphviz", "apt-get install graphviz", "brew install graphviz", "conda install graphviz", "Mermaid"):
        assert part in message
    assert list(tmp_path.iterdir()) == []


def test_graphviz_failure_is_one_line_and_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    script = "while read -r _; do :; done\necho 'Error: renderer for png is unavailable' >&2\necho more >&2\nexit 1"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(GengoError, match=r"^Graphviz dot -Tpng failed: Error: renderer for png is unavailable$"):
        diagram.render(resolve_model("medical"), out / "er.png")
    assert list(out.iterdir()) == []


def test_render_refuses_a_file_gengo_did_not_write(tmp_path: Path) -> None:
    model = resolve_model("medical")
    mine = tmp_path / "er.mmd"
    mine.write_text("my own notes\n")
    with pytest.raises(GengoError, match="--force"):
        diagram.render(model, mine)
    assert mine.read_text() == "my own notes\n"
    diagram.render(model, mine, force=True)
    assert mine.read_text() == diagram.mermaid(model)
    diagram.render(resolve_model("financial"), mine)  # now gengo's: replaced without force
    assert mine.read_text() == diagram.mermaid(resolve_model("financial"))
    with pytest.raises(GengoError, match="is a directory"):
        diagram.render(model, tmp_path)
    _no_temporary_files(tmp_path)
