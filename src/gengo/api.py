"""The library entry points the CLI calls: validate, plan, run, write the manifest."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from gengo._version import __version__
from gengo.engine import TableResult, execute
from gengo.engine.local import Progress
from gengo.errors import GengoError
from gengo.models import resolve_model
from gengo.plan import Plan, make_plan
from gengo.sizing import GB
from gengo.writers import WriteOptions, resolve_format
from gengo.writers.base import TEMP_SUFFIX

MANIFEST = "manifest.json"
MAX_SEED = 2**63 - 1
_UNITS = {
    "": GB,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Summary:
    model: str
    format: str
    seed: int
    output: Path
    target_bytes: int | None
    tables: tuple[TableResult, ...]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def total_bytes(self) -> int:
        return sum(t.bytes for t in self.tables)


def parse_size(value: str | float | int) -> int:
    """Target size in bytes. A bare number is gigabytes (10**9 bytes); units KB..TB, KiB..TiB."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number, unit = float(value), ""
    else:
        m = _SIZE_RE.match(str(value))
        if not m or m.group(2).lower() not in _UNITS:
            raise GengoError(f"invalid size '{value}': give a number of GB (e.g. 0.5) or a size like 500MB")
        number, unit = float(m.group(1)), m.group(2).lower()
    if not math.isfinite(number) or number <= 0:
        raise GengoError(f"invalid size '{value}': it must be a positive number")
    size = int(round(number * _UNITS[unit]))
    if size < 1:
        raise GengoError(f"invalid size '{value}': below one byte")
    if size > 10**15:
        raise GengoError(f"invalid size '{value}': above 1 PB")
    return size


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def check_workers(workers: int | None) -> int:
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise GengoError(f"invalid worker count '{workers}': it must be a whole number >= 1")
    if workers > 512:
        raise GengoError(f"invalid worker count '{workers}': at most 512")
    return workers


def check_seed(seed: int | None) -> int:
    if seed is None:
        return secrets.randbelow(2**31)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise GengoError(f"invalid seed '{seed}': use a whole number from 0 to {MAX_SEED}")
    return seed


def parse_rows(specs: Iterable[str] | Mapping[str, int] | None) -> dict[str, int]:
    """``["customers=1000", ...]`` (or a mapping) -> ``{"customers": 1000}``."""
    if not specs:
        return {}
    if isinstance(specs, Mapping):
        items = list(specs.items())
    else:
        items = []
        for spec in specs:
            name, sep, value = str(spec).partition("=")
            if not sep or not name.strip():
                raise GengoError(f"invalid --rows '{spec}': expected TABLE=N, e.g. dim_customers=1000")
            try:
                count = int(value.strip().replace("_", ""))
            except ValueError:
                raise GengoError(f"invalid --rows '{spec}': '{value}' is not a whole number") from None
            items.append((name.strip(), count))
    out: dict[str, int] = {}
    for name, count in items:
        if name in out:
            raise GengoError(f"--rows gives table '{name}' twice")
        out[name] = count
    return out


def parse_tables(spec: str | Sequence[str] | None) -> list[str] | None:
    if spec is None:
        return None
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise GengoError("--tables needs at least one table name")
    return names


def plan(
    model: str,
    size: str | float | int | None = None,
    format: str = "csv",
    seed: int | None = None,
    chunk_rows: int | None = None,
    rows: Iterable[str] | Mapping[str, int] | None = None,
    tables: str | Sequence[str] | None = None,
    compression: str | None = None,
    row_group_size: int | None = None,
) -> Plan:
    """Validate the request and work out the row counts, without writing anything."""
    m = resolve_model(model)
    fmt = resolve_format(format)
    target = parse_size(size) if size is not None else None
    pins = parse_rows(rows)
    if target is None and not pins:
        raise GengoError("missing size: give --size (or --rows TABLE=N)")
    if chunk_rows is not None and chunk_rows < 1:
        raise GengoError("chunk rows must be >= 1")
    options = WriteOptions(compression.strip().lower() if compression else None, row_group_size)
    return make_plan(m, fmt, target, check_seed(seed), chunk_rows, pins, parse_tables(tables), options)


def _owned_files(p: Plan) -> set[str]:
    """Every name a run writes. --force replaces these and nothing else."""
    return {p.file_name(t.name) for t in p.tables} | {MANIFEST}


def check_output(output: str | os.PathLike, p: Plan, force: bool) -> Path:
    """Refuse an output path that is a file or a non-empty directory (unless ``force``)."""
    out = Path(output).expanduser()
    if out.exists() and not out.is_dir():
        raise GengoError(f"output path '{out}' exists and is not a directory")
    if out.is_dir():
        try:
            entries = sorted(os.listdir(out))
        except OSError as exc:
            raise GengoError(f"cannot read output directory '{out}': {exc.strerror}") from exc
        if entries and not force:
            raise GengoError(
                f"output directory '{out}' is not empty ({len(entries)} entries); "
                "use --force to replace the files gengo writes there"
            )
        for name in _owned_files(p):
            target = out / name
            if target.exists() and not target.is_file():
                raise GengoError(f"cannot replace '{target}': it is not a regular file")
    return out


def _prepare_directory(out: Path) -> bool:
    """Create ``out`` if needed and prove it is writable; return whether we created it."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".gengo-probe-{os.getpid()}{TEMP_SUFFIX}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()
        raise GengoError(f"cannot write to output directory '{out}': {exc.strerror or exc}") from exc
    return created


def _library_versions() -> dict[str, str]:
    out = {}
    for lib in ("numpy", "pyarrow", "polars", "faker"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[lib] = metadata.version(lib)
    return out


def manifest_dict(p: Plan, results: list[TableResult] | tuple[TableResult, ...]) -> dict:
    """What a run wrote; deterministic (no timings), so reruns produce the same manifest."""
    files = [{"table": r.name, "file": r.path.name, "rows": r.rows, "bytes": r.bytes} for r in results]
    return {
        "gengo_version": __version__,
        "model": p.model.name,
        "format": p.fmt.name,
        "seed": p.seed,
        "target_bytes": p.target_bytes,
        "rows_overrides": p.pins,
        "compression": p.options.codec(p.fmt),
        "row_group_size": p.options.row_group_rows if p.fmt.name == "parquet" else None,
        "planned_rows": p.rows,
        "total_rows": sum(r.rows for r in results),
        "total_bytes": sum(r.bytes for r in results),
        "complete": True,
        "tables": files,
        "libraries": _library_versions(),
    }


def run(
    p: Plan,
    output: str | os.PathLike,
    workers: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Generate the planned dataset into ``output``."""
    n_workers = check_workers(workers)
    out = check_output(output, p, force)
    created = _prepare_directory(out)
    started = time.perf_counter()
    try:
        results = execute(p, out, n_workers, progress)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only succeeds if we left nothing behind
        raise
    order = {name: i for i, name in enumerate(p.model.table_names)}
    results.sort(key=lambda r: order[r.name])
    manifest = json.dumps(manifest_dict(p, results), indent=2) + "\n"
    tmp = out / f".{MANIFEST}{TEMP_SUFFIX}"
    tmp.write_text(manifest)
    os.replace(tmp, out / MANIFEST)
    return Summary(p.model.name, p.fmt.name, p.seed, out, p.target_bytes, tuple(results), time.perf_counter() - started)


def generate(
    model: str,
    size_gb: str | float | int | None = None,
    format: str = "csv",
    output: str | os.PathLike = ".",
    seed: int | None = None,
    workers: int | None = None,
    force: bool = False,
    chunk_rows: int | None = None,
    progress: Progress | None = None,
    rows: Iterable[str] | Mapping[str, int] | None = None,
    tables: str | Sequence[str] | None = None,
    compression: str | None = None,
    row_group_size: int | None = None,
) -> Summary:
    """Generate ``model`` at about ``size_gb`` GB (10**9 bytes) of ``format`` files in ``output``.

    ``rows`` fixes table row counts ({"dim_customers": 1000} or ["dim_customers=1000"]),
    ``tables`` restricts the tables written; the rest mirrors the ``gengo gen`` options.

    >>> summary = generate("ecommerce", 0.01, "parquet", "out", seed=1)  # doctest: +SKIP
    """
    n_workers = check_workers(workers)
    p = plan(model, size_gb, format, seed, chunk_rows, rows, tables, compression, row_group_size)
    check_output(output, p, force)
    return run(p, output, n_workers, force, progress)
