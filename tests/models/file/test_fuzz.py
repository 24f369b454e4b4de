"""Property tests: whatever a model file says, it compiles or fails with a GengoError, never anything else.

Mutations start from the example ``shop.yaml``: keys dropped or renamed, values replaced by
random scalars, lists and mappings, names replaced by random strings, and the YAML text itself
cut and spliced. What compiles must also generate its first rows (or fail with a GengoError).
"""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gengo.core.errors import GengoError
from gengo.models.file import load_model_text
from tests.helpers import run_gengo

SHOP_TEXT = (Path(__file__).parent / "shop.yaml").read_text()
SHOP = yaml.safe_load(SHOP_TEXT)
NAMES = ["orders", "customers", "addresses", "items", "products", "customer_id", "order_id", "price", "id", "scale"]
STRATEGY_NAMES = ["uniform", "reference", "lookup", "belongs_to", "expr", "template", "parent", "position", "choice"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(NAMES + STRATEGY_NAMES),
    st.sampled_from(["2020-01-01", "2020-13-45", "1e400", "-0", "{id:08}", "{x|lower}", "a +", "decimal(3,9)"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(NAMES)), inner, max_size=4),
    ),
    max_leaves=8,
)


def paths(node: Any, here: tuple = ()) -> list[tuple]:
    """Every path to a value inside ``node`` (mapping keys and list positions)."""
    out = [here]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(paths(v, (*here, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(paths(v, (*here, i)))
    return out


def at(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def mutate(doc: Any, path: tuple, how: str, new: Any) -> Any:
    """``doc`` with the value at ``path`` dropped, renamed (its key becomes ``new``) or replaced by ``new``."""
    if not path:
        return new if how == "replace" else doc
    parent = at(doc, path[:-1])
    key = path[-1]
    if how == "drop":
        del parent[key]
    elif how == "rename" and isinstance(parent, dict):
        parent[str(new)] = parent.pop(key)
    else:
        parent[key] = new
    return doc


# Known bugs of the model language (none today), each pinned by an xfail test in test_bad_models.py; the fuzz
# passes over them so that it keeps looking for new ones.
KNOWN: dict = {}


def known(e: BaseException) -> bool:
    return any(match(e) for match in KNOWN.values())


def compile_or_gengo_error(text: str) -> None:
    """``text`` compiles and its first rows generate, or a one-line GengoError says why."""
    try:
        model = load_model_text(text, "fuzz.yaml")
    except Exception as e:  # noqa: BLE001 - the property: nothing but a GengoError
        if not known(e):
            assert isinstance(e, GengoError), f"{type(e).__name__}: {e}"
            one_line(str(e))
            assert str(e).startswith("fuzz.yaml"), str(e)  # a compile error names the file
        return
    try:
        rows = model.row_counts(50, 1)
        for t in model.tables:
            t.generate(1, rows, np.arange(min(rows[t.name], 20), dtype=np.int64))
    except Exception as e:  # noqa: BLE001
        if not known(e):
            assert isinstance(e, GengoError), f"{type(e).__name__}: {e}"
            one_line(str(e))


def one_line(message: str) -> None:
    """One line, but for names echoed from the file in quotes (a random name may hold a line break)."""
    assert "\n" not in re.sub(r"'[^']*'", "", message, flags=re.DOTALL), message


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.data())
def test_mutated_model_data(data):
    doc = copy.deepcopy(SHOP)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths(doc)))
        how = data.draw(st.sampled_from(["drop", "rename", "replace", "replace"]))
        new = data.draw(st.one_of(st.text(max_size=10), st.sampled_from(NAMES)) if how == "rename" else values)
        doc = mutate(doc, path, how, new)
    try:
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        return
    compile_or_gengo_error(text)


@FAST
@given(st.data())
def test_mutated_model_text(data):
    text = SHOP_TEXT
    for _ in range(data.draw(st.integers(1, 4))):
        a = data.draw(st.integers(0, len(text)))
        b = data.draw(st.integers(a, min(len(text), a + 40)))
        piece = data.draw(
            st.one_of(
                st.text(max_size=8),
                st.sampled_from(["&x ", "*x", "!!str ", "{", "]", ": ", "\n  ", "\t", "- ", "'", '"', "#", "---\n"]),
                st.just(text[b : b + 30]),  # a copy of what follows: duplicated keys and lines
            )
        )
        text = text[:a] + piece + text[b:]
    compile_or_gengo_error(text)


@FAST
@given(st.text(max_size=200))
def test_random_text(text):
    compile_or_gengo_error(text)


def test_names_are_checked_whatever_they_are():
    for name in ["", " ", "a b", "1st", "x" * 64, "ünïcode", "select", "a-b", "A_b9"]:
        doc = copy.deepcopy(SHOP)
        doc["tables"]["products"]["columns"][name] = doc["tables"]["products"]["columns"].pop("name")
        compile_or_gengo_error(yaml.safe_dump(doc, allow_unicode=True))


def command_mutations(count: int) -> list[str]:
    """A fixed handful of mutated texts (seeded), for the real command."""
    rnd = random.Random(15)
    out = []
    doc_paths = paths(SHOP)
    junk = [None, -1, 0, 1.5, "", "scale", [], {}, {"each": "orders"}, "customers", ["a", 1], {"strategy": "uuid"}]
    while len(out) < count:
        doc = copy.deepcopy(SHOP)
        path = rnd.choice(doc_paths)
        how = rnd.choice(["drop", "rename", "replace"])
        doc = mutate(doc, path, how, rnd.choice(junk) if how == "replace" else rnd.choice(NAMES))
        out.append(yaml.safe_dump(doc, sort_keys=False))
    return out


@pytest.mark.parametrize("text", command_mutations(6))
def test_mutations_through_the_command(tmp_path, text):
    file = tmp_path / "m.yaml"
    file.write_text(text)
    r = run_gengo("plan", "-m", str(file), "-s", "1MB", "-f", "csv")
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    assert r.returncode in (0, 1), r.stderr
    if r.returncode == 1:
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
