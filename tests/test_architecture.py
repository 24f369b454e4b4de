"""The package's shape: layers that import only downwards, no import cycle, a side-effect-free import."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def _module_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("gengo")
    return {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_gengo():
    edges = _module_graph()
    assert len(edges) > 30  # the graph really is gengo's
    assert _cycles(edges) == []


def test_import_linter_contracts_hold():
    r = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "broken" in r.stdout and "0 broken" in r.stdout, r.stdout


def test_nothing_below_the_api_imports_the_api_or_the_cli():
    edges = _module_graph()
    top = ("gengo.api", "gengo.cli", "gengo.launch")
    below = [m for m in edges if m.startswith(("gengo.engine", "gengo.formats", "gengo.models", "gengo.core"))]
    offenders = {m: sorted(t for t in edges[m] if t in top) for m in below}
    assert not {m: t for m, t in offenders.items() if t}


def test_import_gengo_changes_nothing_in_the_process():
    """No environment variable, no allocator option: a library user's process stays theirs."""
    code = (
        "import json, os, sys\n"
        "import numpy, polars, pyarrow, faker, click, rich  # what they set on import themselves is theirs\n"
        "before, cpus = dict(os.environ), pyarrow.cpu_count()\n"
        "import gengo, gengo.api\n"
        "from gengo.engine import pipeline, worker, pool, tuning\n"
        "after = dict(os.environ)\n"
        "import pyarrow as pa\n"
        "print(json.dumps({'env': {k: v for k, v in after.items() if before.get(k) != v},"
        " 'cpus': [cpus, pa.cpu_count()], 'tuned': tuning._tuned_parent}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("_RJEM_MALLOC_CONF", "MIMALLOC_PURGE_DELAY")}
    env.pop("POLARS_MAX_THREADS", None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["env"] == {}
    assert doc["tuned"] is False
    # Arrow's thread count left as it was (compared inside the child: this test process may have
    # been tuned by a test that generated in it).
    assert doc["cpus"][0] == doc["cpus"][1]


def test_the_gengo_command_tunes_its_own_process():
    """The other side of the rule: the console entry applies the settings, explicitly."""
    code = (
        "import os, sys\n"
        "sys.argv = ['gengo', '--version']\n"
        "from gengo import launch\n"
        "try:\n"
        "    launch.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ.get('MIMALLOC_PURGE_DELAY'), os.environ.get('POLARS_MAX_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MIMALLOC_PURGE_DELAY", "POLARS_MAX_THREADS")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "500 1"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**env, "GENGO_NO_TUNING": "1"}, timeout=120
    )
    assert r.stdout.strip().splitlines()[-1] == "None None"


# NumPy's (and math's) transcendental functions differ in the last bit from CPU to CPU (NumPy
# dispatches them to SIMD/SVML code on AVX-512 hosts): values go through gengo.core.fmath.
_HOST_DEPENDENT = re.compile(
    r"\b(?:np|numpy|math)\.(?:exp|exp2|expm1|log|log2|log10|log1p|power|pow|lgamma)\(|\bnp\.dot\("
)


def test_value_paths_use_host_independent_math():
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for folder in ("core", "models", "engine")
        for path in sorted((ROOT / "src" / "gengo" / folder).rglob("*.py"))
        if path.name != "fmath.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if _HOST_DEPENDENT.search(line.split("#", 1)[0])
    ]
    assert not found, "use gengo.core.fmath:\n" + "\n".join(found)


def test_the_guard_sees_a_numpy_exp():
    assert _HOST_DEPENDENT.search("x = np.exp(y)") and not _HOST_DEPENDENT.search("x = fmath.exp(y)")
