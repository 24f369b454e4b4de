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
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

from gengo._version import __version__
from gengo.core.errors import GengoError, Interrupted
from gengo.engine.plan import Plan, make_plan
from gengo.engine.sizing import GB
from gengo.engine.tables import Progress, TableResult, execute
from gengo.engine.tuning import release_free_memory
from gengo.formats import WriteOptions, checksum, ddl, resolve_format
from gengo.formats.base import SPOOL_PREFIX, TEMP_SUFFIX, temp_path
from gengo.formats.storage import write_atomic
from gengo.models import resolve_model

MANIFEST = "manifest.json"
SCHEMA_SQL = "schema.sql"  # CREATE TABLE statements with the keys (DuckDB / ANSI dialect)
PROGRESS = ".gengo-progress.json"  # an unfinished run: its parameters and the files already complete
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
    reused: tuple[str, ...] = ()  # tables kept from the interrupted run (--resume)
    parts: tuple = ()  # partitioned output: engine.parts.PartResult per part file

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
    workers: int | None = None,
) -> Plan:
    """Validate the request and work out the row counts, without writing anything.

    ``workers`` (default: one per CPU) is also how many threads sample the tables for sizing.
    """
    m = resolve_model(model)
    fmt = resolve_format(format)
    target = parse_size(size) if size is not None else None
    pins = parse_rows(rows)
    if target is None and not pins:
        raise GengoError("missing size: give --size (or --rows TABLE=N)")
    if chunk_rows is not None and chunk_rows < 1:
        raise GengoError("chunk rows must be >= 1")
    options = WriteOptions(compression.strip().lower() if compression else None, row_group_size)
    threads = check_workers(workers)
    return make_plan(m, fmt, target, check_seed(seed), chunk_rows, pins, parse_tables(tables), options, threads)


def _owned_files(p: Plan) -> set[str]:
    """Every name a run writes. --force replaces these and nothing else."""
    return {p.file_name(t.name) for t in p.tables} | {MANIFEST, PROGRESS, SCHEMA_SQL}


def _identity(p: Plan) -> dict:
    """The plan's settings that the bytes depend on, as both the manifest and a resume record them."""
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
    }


def run_parameters(p: Plan) -> dict:
    """What the bytes of a run depend on; a resume must match them exactly (JSON types)."""
    params = {**_identity(p), "tables": [t.name for t in p.tables]}
    return json.loads(json.dumps(params))


def _read_json(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def previous_run(output: str | os.PathLike) -> dict | None:
    """The gengo run recorded in ``output``: ``{"complete", "run", "files"}``, or None.

    An unfinished run is described by ``.gengo-progress.json`` (rewritten after each table
    file is committed), a finished one by ``manifest.json`` with ``"complete": true``, which
    is written last and wins if both exist.
    """
    out = Path(output).expanduser()
    manifest = _read_json(out / MANIFEST)
    if manifest and manifest.get("complete") is True and isinstance(manifest.get("tables"), list):
        run = {k: manifest.get(k) for k in _PARAM_KEYS}
        run["tables"] = [f.get("table") for f in manifest["tables"]]
        return {"complete": True, "run": run, "files": manifest["tables"]}
    progress = _read_json(out / PROGRESS)
    if progress and isinstance(progress.get("run"), dict) and isinstance(progress.get("files"), list):
        return {"complete": False, "run": progress["run"], "files": progress["files"]}
    return None


_PARAM_KEYS = (
    "gengo_version",
    "model",
    "format",
    "seed",
    "target_bytes",
    "rows_overrides",
    "tables",
    "compression",
    "row_group_size",
    "planned_rows",
)


def _describe_difference(before: dict, now: dict) -> str:
    for key in _PARAM_KEYS:
        a, b = before.get(key), now.get(key)
        if a == b:
            continue
        if key == "planned_rows" and isinstance(a, dict):
            for table in now[key]:
                if a.get(table) != b.get(table):
                    return f"planned {a.get(table)} rows of {table}, not {b.get(table)} (same --size and --rows?)"
        label = key.replace("_", " ")
        return f"used {label} {json.dumps(a)}, not {json.dumps(b)}"
    return "was made differently"


def resume_seed(output: str | os.PathLike) -> int | None:
    """The seed of the run recorded in ``output`` (so ``--resume`` needs no ``--seed``)."""
    prior = previous_run(output)
    seed = prior["run"].get("seed") if prior else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def check_resume(output: str | os.PathLike, p: Plan) -> dict | None:
    """The previous run in ``output`` if ``p`` may resume it; raise if its parameters differ."""
    prior = previous_run(output)
    if prior is None:
        return None
    now = run_parameters(p)
    if {k: prior["run"].get(k) for k in _PARAM_KEYS} != now:
        hint = f" (add --seed {prior['run'].get('seed')})" if prior["run"].get("seed") != now["seed"] else ""
        raise GengoError(
            f"cannot resume in '{Path(output).expanduser()}': that run {_describe_difference(prior['run'], now)}"
            f"{hint}; give the same options, or use --force instead of --resume to start over"
        )
    return prior


def check_output(output: str | os.PathLike, p: Plan, force: bool, resume: bool = False) -> Path:
    """Refuse an output path that is a file or a non-empty directory (unless ``force``).

    With ``resume``, a directory holding a run of the same parameters is accepted (one with
    other parameters is refused); a non-empty directory without a gengo run still needs ``force``.
    """
    out = Path(output).expanduser()
    if out.exists() and not out.is_dir():
        raise GengoError(f"output path '{out}' exists and is not a directory")
    if out.is_dir():
        try:
            entries = sorted(os.listdir(out))
        except OSError as exc:
            raise GengoError(f"cannot read output directory '{out}': {exc.strerror}") from exc
        prior = check_resume(out, p) if resume else None
        if entries and not force and prior is None:
            interrupted = not resume and (out / PROGRESS).exists() and not (out / MANIFEST).exists()
            if interrupted:
                done = len((previous_run(out) or {}).get("files", []))
                raise GengoError(
                    f"output directory '{out}' holds an interrupted gengo run ({done} table files complete); "
                    "use --resume to finish it, or --force to start over"
                )
            raise GengoError(
                f"output directory '{out}' is not empty ({len(entries)} entries); "
                "use --force to replace the files gengo writes there"
                + ("" if not resume else " (there is no gengo run to resume in it)")
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


def _file_entry(r: TableResult, database: bool = False) -> dict:
    if database:  # tables share one file: its size and checksum are the manifest's "database" entry
        return {"table": r.name, "file": r.path.name, "rows": r.rows, "bytes_in_database": r.bytes}
    return {"table": r.name, "file": r.path.name, "rows": r.rows, "bytes": r.bytes, checksum.ALGORITHM: r.checksum}


def manifest_dict(p: Plan, results: list[TableResult] | tuple[TableResult, ...]) -> dict:
    """What a run wrote; deterministic (no timings), so reruns produce the same manifest.

    The run is complete exactly when ``manifest.json`` exists and says ``"complete": true``.
    A database format (one file holding every table) records that file once, under ``"database"``.
    """
    database = bool(getattr(p.fmt, "database", False)) and bool(results)
    files = [_file_entry(r, database) for r in results]
    doc = {
        **_identity(p),
        "total_rows": sum(r.rows for r in results),
        "total_bytes": sum(r.bytes for r in results),
        "complete": True,
        "tables": files,
        "libraries": _library_versions(),
    }
    if database:
        path = results[0].path
        size = path.stat().st_size
        doc["database"] = {"file": path.name, "bytes": size, checksum.ALGORITHM: checksum.file_checksum(path)}
        doc["total_bytes"] = size
    return doc


class _Recorder:
    """Wraps the caller's progress: after each committed table file, rewrites the progress file."""

    def __init__(self, out: Path, params: dict, files: list[dict], inner: Progress | None) -> None:
        self.out, self.params, self.files, self.inner = out, params, files, inner

    def save(self) -> None:
        doc = {"complete": False, "run": self.params, "files": self.files}
        write_atomic(self.out / PROGRESS, json.dumps(doc, indent=2) + "\n")

    def advance(self, table: str, rows: int, nbytes: int) -> None:
        if self.inner:
            self.inner.advance(table, rows, nbytes)

    def table_done(self, result: TableResult) -> None:
        self.files.append(_file_entry(result))
        self.save()
        if self.inner:
            self.inner.table_done(result)


def _remove_temporary_files(out: Path, p: Plan) -> None:
    for name in _owned_files(p):
        with contextlib.suppress(OSError):
            temp_path(out / name).unlink()
    for spooled in out.glob(f"{SPOOL_PREFIX}*{TEMP_SUFFIX}"):  # chunks a killed run left behind
        with contextlib.suppress(OSError):
            spooled.unlink()


def _reusable(out: Path, p: Plan, prior: dict) -> list[TableResult]:
    """Files of the previous run that are complete and unchanged (size and checksum re-checked)."""
    planned = {t.name for t in p.tables}
    kept = []
    for entry in prior["files"]:
        if not isinstance(entry, dict):
            continue
        name = entry.get("table")
        if name not in planned or entry.get("file") != p.file_name(name) or entry.get("rows") != p.rows[name]:
            continue
        path = out / p.file_name(name)
        try:
            if not path.is_file() or path.stat().st_size != entry.get("bytes"):
                continue
            digest = checksum.unchanged(path, entry)
            if digest is None:
                continue
        except OSError:
            continue
        kept.append(TableResult(name, path, p.rows[name], entry["bytes"], 0.0, checksum=digest))
    return kept


def _run_step(p: Plan, step: str, out: Path) -> None:
    """A format's run-level step (``begin_run``, ``end_run``, ``abort_run``), if it has one."""
    hook = getattr(p.fmt, step, None)
    if hook is None:
        return
    if step == "abort_run":
        with contextlib.suppress(Exception):
            hook(out, p)
    else:
        hook(out, p)


def run(
    p: Plan,
    output: str | os.PathLike,
    workers: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    resume: bool = False,
    fsync: bool = True,
    engine: str | None = None,
    scheduler: str | None = None,
    storage_options: dict | None = None,
) -> Summary:
    """Generate the planned dataset into ``output``.

    ``engine`` is "local" (default) or "dask" (``scheduler``: a Dask scheduler address; none
    starts a local cluster). A plan with a partitioning (``partition``), the dask engine or an
    fsspec URL as ``output`` (``s3://bucket/prefix``; ``storage_options`` for fsspec) write
    ``<table>/part-NNNNN.<ext>`` files (see ``gengo.engine.partitioned``).

    ``fsync=False`` skips flushing each file to disk before it is renamed into place: faster,
    but after a power loss a file could be incomplete (benchmarks measure without it).

    With ``resume``, finish the run recorded in ``output`` (refused if its parameters differ):
    table files that are complete and unchanged are kept, the others are written again; the
    result is byte-identical to an uninterrupted run. Ctrl-C raises ``Interrupted`` (a
    ``KeyboardInterrupt``) naming the tables complete on disk.
    """
    n_workers = check_workers(workers)
    if not fsync:
        p = replace(p, options=replace(p.options, fsync=False))
    from gengo.engine import partitioned

    if partitioned.wants_parts(p, output, engine, scheduler):
        return partitioned.run(p, output, n_workers, force, progress, resume, engine, scheduler, storage_options)
    out = check_output(output, p, force, resume)
    prior = check_resume(out, p) if resume and out.is_dir() else None
    created = _prepare_directory(out)
    started = time.perf_counter()
    release_free_memory()  # planning's samples: ~100 MB the parent no longer needs
    reused = _reusable(out, p, prior) if prior else []
    _remove_temporary_files(out, p)  # leftovers of a killed run
    recorder = _Recorder(out, run_parameters(p), [_file_entry(r) for r in reused], progress)
    try:
        recorder.save()
        with contextlib.suppress(FileNotFoundError):
            (out / MANIFEST).unlink()  # from here on the directory holds an unfinished run
        for r in reused:
            if progress:
                progress.advance(r.name, r.rows, 0)
                progress.table_done(r)
        _run_step(p, "begin_run", out)  # database formats: create the database and its tables
        results = execute(p, out, n_workers, recorder, skip={r.name for r in reused})
        _run_step(p, "end_run", out)
    except BaseException as exc:
        _remove_temporary_files(out, p)  # sinks remove theirs; this also covers a signal between open and bookkeeping
        _run_step(p, "abort_run", out)
        finished = tuple(f["table"] for f in recorder.files)
        if not finished:  # nothing to resume: leave the directory as it was
            with contextlib.suppress(OSError):
                (out / PROGRESS).unlink()
            if created:
                with contextlib.suppress(OSError):
                    out.rmdir()  # only succeeds if we left nothing behind
        pending = tuple(t.name for t in p.tables if t.name not in finished)
        if isinstance(exc, KeyboardInterrupt):
            signum = getattr(exc, "signum", 2)
            raise Interrupted(signum, finished, pending, str(out)) from exc
        error = exc
        if isinstance(exc, OSError):
            error = GengoError(f"cannot write to '{exc.filename or out}': {exc.strerror or exc}")
        if isinstance(error, GengoError) and finished:
            error = GengoError(
                f"{error} ({len(finished)} of {len(p.tables)} table files complete; "
                "rerun with --resume to write the rest)"
            )
        if error is exc:
            raise
        raise error from exc
    results = results + reused
    order = {name: i for i, name in enumerate(p.model.table_names)}
    results.sort(key=lambda r: order[r.name])
    missing = [t.name for t in p.tables if t.name not in {r.name for r in results}]
    if missing:  # never report success with a table missing
        raise GengoError(f"internal error: tables {', '.join(missing)} were not written")
    manifest = json.dumps(manifest_dict(p, results), indent=2) + "\n"
    try:
        write_atomic(out / SCHEMA_SQL, ddl.ddl(p.model, "duckdb", [t.name for t in p.tables]))
        write_atomic(out / MANIFEST, manifest)
    except OSError as exc:
        raise GengoError(
            f"cannot write '{out / MANIFEST}': {exc.strerror or exc} (all table files are complete; "
            "rerun with --resume to write the manifest)"
        ) from exc
    with contextlib.suppress(FileNotFoundError):
        (out / PROGRESS).unlink()
    return Summary(
        p.model.name,
        p.fmt.name,
        p.seed,
        out,
        p.target_bytes,
        tuple(results),
        time.perf_counter() - started,
        tuple(r.name for r in reused),
    )


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
    resume: bool = False,
    parts: int | None = None,
    part_size: str | int | float | None = None,
    engine: str | None = None,
    scheduler: str | None = None,
    storage_options: dict | None = None,
) -> Summary:
    """Generate ``model`` at about ``size_gb`` GB (10**9 bytes) of ``format`` files in ``output``.

    ``parts`` (at most N per table) or ``part_size`` ("256MB") write ``<table>/part-NNNNN.<ext>``;
    ``engine="dask"`` runs on a Dask cluster (``scheduler`` address, or a local cluster);
    ``output`` may be an fsspec URL (``s3://bucket/prefix``).

    ``rows`` fixes table row counts ({"dim_customers": 1000} or ["dim_customers=1000"]),
    ``tables`` restricts the tables written; ``resume`` finishes an interrupted run in ``output``
    (without ``seed``, the interrupted run's seed); the rest mirrors the ``gengo gen`` options.

    >>> summary = generate("ecommerce", 0.01, "parquet", "out", seed=1)  # doctest: +SKIP
    """
    n_workers = check_workers(workers)
    if resume and seed is None:
        seed = resume_seed(output)
    p = partition(
        plan(model, size_gb, format, seed, chunk_rows, rows, tables, compression, row_group_size), parts, part_size
    )
    from gengo.engine import partitioned

    if not partitioned.wants_parts(p, output, engine, scheduler):
        check_output(output, p, force, resume)
    options = {"engine": engine, "scheduler": scheduler, "storage_options": storage_options}
    return run(p, output, n_workers, force, progress, resume, **options)


def partition(p: Plan, parts: int | str | None = None, part_size: str | int | float | None = None) -> Plan:
    """``p`` writing at most ``parts`` files per table, or files of about ``part_size``; unchanged if neither."""
    from gengo.engine import partitioned

    spec = partitioned.partitioning(parts, part_size)
    return p if spec is None else replace(p, partitioning=spec)


def load(
    p: Plan,
    url: str,
    schema: str | None = None,
    workers: int | None = None,
    force: bool = False,
    keep_partial: bool = False,
    progress: Progress | None = None,
    connections: int | None = None,
) -> Summary:
    """Load the planned dataset into PostgreSQL at ``url``, in ``schema`` (default: the model's name).

    The schema is created with bare tables, filled with COPY (several connections at once), then
    given its primary and foreign keys. An existing schema is refused unless ``force`` (which
    drops and recreates that schema only). On failure the schema is dropped unless ``keep_partial``.
    """
    import dataclasses

    from gengo.formats.postgres import DEFAULT_CONNECTIONS, PostgresTarget, check_url, default_schema

    n_workers = check_workers(workers)
    check_url(url)
    if p.fmt.name != "postgres":
        raise GengoError(f"loading into PostgreSQL needs a plan for the postgres format, not {p.fmt.name}")
    target = PostgresTarget(url, schema or default_schema(p.model.name), force, keep_partial)
    target.connections = max(1, connections or DEFAULT_CONNECTIONS)
    p = dataclasses.replace(p, fmt=target)
    out = Path(target.schema)  # nothing is written there: table results are named <schema>/<table>
    started = time.perf_counter()
    try:
        target.begin_run(out, p)
        results = execute(p, out, n_workers, progress)
        target.end_run(out, p)
    except BaseException:
        target.abort_run(out, p)
        raise
    order = {name: i for i, name in enumerate(p.model.table_names)}
    results.sort(key=lambda r: order[r.name])
    return Summary(p.model.name, "postgres", p.seed, out, p.target_bytes, tuple(results), time.perf_counter() - started)
