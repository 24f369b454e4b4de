"""Shared test helpers: run the real CLI, read datasets back with DuckDB, check integrity."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from gengo.formats.ddl import column_type
from gengo.models import resolve_model

GENGO = str(Path(sys.executable).parent / "gengo")
EXT = {"csv": "csv", "json": "jsonl", "parquet": "parquet"}


def run_gengo(*args: str, input: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed `gengo` command (no terminal on stdin unless the caller gives one)."""
    env = dict(os.environ, COLUMNS="120")
    return subprocess.run(
        [GENGO, *args],
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The command line's ``main`` in this process, output captured: for the many one-line error
    cases and the datasets tests read back, which would each spend most of a second starting a
    ``gengo`` process. What only the real command does (its launcher: signals, the fork server)
    is tested through ``run_gengo``."""
    import contextlib
    import io

    from gengo import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(list(args))
    return subprocess.CompletedProcess([GENGO, *args], code, stdout.getvalue(), stderr.getvalue())


def assert_one_line_error(r: subprocess.CompletedProcess, *fragments: str) -> None:
    """A failed run: non-zero exit, one line on stderr naming ``fragments``, no traceback."""
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    for frag in fragments:
        assert frag.lower() in r.stderr.lower(), r.stderr


def gen(out: Path, model: str = "ecommerce", size: str = "0.02", fmt: str = "csv", seed: int = 1, *extra: str) -> Path:
    """A dataset written by ``gengo gen`` (in process: the datasets tests read back are many, and a
    process start costs about twice a small run; the real command is ``run_gengo``'s)."""
    r = run_cli("gen", "-m", model, "-s", size, "-f", fmt, "-o", str(out), "--seed", str(seed), *extra)
    assert r.returncode == 0, r.stderr + r.stdout
    return out


def sha256_files(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def connect(directory: Path, fmt: str, model: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per table of ``model`` over the files in ``directory``."""
    con = duckdb.connect()
    m = resolve_model(model)
    for t in m.tables:
        path = str(directory / f"{t.name}.{EXT[fmt]}")
        if fmt == "csv":
            # Types from the model, so CSV is read exactly as declared.
            cols = ", ".join(f"'{c.name}': '{duck_type(c.type)}'" for c in t.columns)
            src = f"read_csv('{path}', header=true, columns={{{cols}}})"
        elif fmt == "json":
            cols = ", ".join(f"'{c.name}': '{duck_type(c.type)}'" for c in t.columns)
            src = f"read_json('{path}', format='newline_delimited', columns={{{cols}}})"
        else:
            src = f"read_parquet('{path}')"
        con.execute(f'CREATE VIEW "{t.name}" AS SELECT * FROM {src}')
    return con


def duckdb_with(*extensions: str) -> duckdb.DuckDBPyConnection | None:
    """A DuckDB connection with ``extensions`` loaded from their PyPI packages (``duckdb-extension-NAME``,
    the duckdb-lake extra), offline; None if a package is not installed. A package built for another DuckDB
    release fails the calling test: it would otherwise skip the read-back silently."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    version = con.execute("PRAGMA version").fetchall()[0][0]
    for name in extensions:
        try:
            module = importlib.import_module(f"duckdb_extension_{name}")
        except ImportError:
            return None
        path = Path(module.__file__).parent / "extensions" / version / f"{name}.duckdb_extension"
        built = sorted(
            p.parent.name for p in Path(module.__file__).parent.glob(f"extensions/*/{name}.duckdb_extension")
        )
        assert path.is_file(), f"duckdb-extension-{name} is built for DuckDB {built}, this is DuckDB {version}"
        con.execute(f"LOAD '{path}'")
    return con


def duck_type(arrow_type) -> str:
    return column_type(arrow_type, "duckdb")
