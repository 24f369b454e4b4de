"""Partitioned runs: ``<table>/part-NNNNN.<ext>`` written by workers, locally or on Dask, to a
directory or an fsspec URL. The client checks the output, plans the parts, tracks progress and
writes ``manifest.json`` last (rows, bytes, checksum per part).

Partitioned output is what ``--parts``/``--part-size`` ask for, and the default (parts of
``DEFAULT_PART_BYTES``) with ``--engine dask`` or a URL output: there workers write their own
files, and a table as one file would need a client-side concatenation of everything.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from gengo.core.errors import GengoError, Interrupted
from gengo.engine.parts import PartResult, plan_parts, run_local
from gengo.engine.plan import Partitioning, Plan
from gengo.engine.tables import Progress, TableResult
from gengo.formats import checksum, ddl
from gengo.formats.base import TEMP_SUFFIX
from gengo.formats.storage import Output, is_url

ENGINES = ("local", "dask")
DEFAULT_PART_BYTES = 256 * 10**6
MAX_PARTS = 100_000
_PART_RE = re.compile(r"^part-\d{5,}\.")
_OBJECT_STORES = ("s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl")


def check_engine(engine: str | None, scheduler: str | None) -> str:
    """``local`` or ``dask``; a scheduler address implies dask."""
    if engine is None or str(engine).strip() == "":
        return "dask" if scheduler else "local"
    name = str(engine).strip().lower()
    if name not in ENGINES:
        raise GengoError(f"unknown engine '{engine}': choose local or dask")
    if scheduler and name != "dask":
        raise GengoError("--scheduler applies to --engine dask")
    return name


def partitioning(parts: int | str | None = None, part_size: str | int | float | None = None) -> Partitioning | None:
    """Validate ``--parts`` / ``--part-size``; None when neither is given."""
    from gengo.api import parse_size

    if parts is not None and part_size is not None:
        raise GengoError("give --parts or --part-size, not both")
    if parts is not None:
        try:
            n = int(str(parts).strip().replace("_", ""))
        except ValueError:
            raise GengoError(f"invalid --parts '{parts}': expected a whole number >= 1") from None
        if not 1 <= n <= MAX_PARTS:
            raise GengoError(f"invalid --parts '{parts}': it must be from 1 to {MAX_PARTS:,}")
        return Partitioning(parts=n)
    if part_size is not None:
        try:
            size = parse_size(part_size)
        except GengoError:
            raise GengoError(f"invalid --part-size '{part_size}': give a size like 256MB or 1GB") from None
        return Partitioning(part_bytes=size)
    return None


def wants_parts(p: Plan, output, engine: str | None, scheduler: str | None = None) -> bool:
    return p.partitioning is not None or is_url(output) or check_engine(engine, scheduler) == "dask"


def with_parts(p: Plan) -> Plan:
    """The plan with its partitioning, or the default one (parts of 256 MB)."""
    if getattr(p.fmt, "database", False):
        raise GengoError(
            f"partitioned output (--parts, --part-size, --engine dask, URLs) is for files, not {p.fmt.name}"
        )
    if p.partitioning is None:
        p = replace(p, partitioning=Partitioning(part_bytes=DEFAULT_PART_BYTES))
    return p


def run_parameters(p: Plan) -> dict:
    from gengo.api import run_parameters as base

    spec = p.partitioning or Partitioning()
    return {**base(p), "parts": spec.parts, "part_bytes": spec.part_bytes}


def _read_json(text: str | None) -> dict | None:
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def previous_run(out: Output) -> dict | None:
    """``{"complete", "run", "files"}`` of the partitioned run recorded in ``out``, or None."""
    from gengo.api import MANIFEST, PROGRESS

    manifest = _read_json(out.read_text(MANIFEST))
    if manifest and manifest.get("complete") is True and isinstance(manifest.get("tables"), list):
        return {"complete": True, "run": manifest.get("run") or {}, "files": manifest["tables"]}
    progress = _read_json(out.read_text(PROGRESS))
    if progress and isinstance(progress.get("run"), dict) and isinstance(progress.get("files"), list):
        return {"complete": False, "run": progress["run"], "files": progress["files"]}
    return None


def check_output(out: Output, p: Plan, force: bool, resume: bool) -> dict | None:
    """Refuse a non-empty output (unless ``force``); with ``resume``, return the run to finish."""
    from gengo.api import MANIFEST, PROGRESS

    if not out.remote and out.path.exists() and not out.path.is_dir():
        raise GengoError(f"output path '{out.root}' exists and is not a directory")
    try:
        entries = out.listing()
    except OSError as exc:
        raise GengoError(f"cannot read output '{out.root}': {exc.strerror or exc}") from exc
    except Exception as exc:  # object-store clients raise their own errors (credentials, endpoint)
        raise GengoError(f"cannot read output '{out.root}': {exc}") from exc
    prior = previous_run(out) if entries and resume else None
    if prior is not None:
        now = run_parameters(p)
        if prior["run"] != now:
            diff = next((k for k in now if prior["run"].get(k) != now[k]), "options")
            raise GengoError(
                f"cannot resume in '{out.root}': that run used {diff.replace('_', ' ')} "
                f"{json.dumps(prior['run'].get(diff))}, not {json.dumps(now[diff])}; "
                "give the same options, or use --force instead of --resume to start over"
            )
    if entries and not force and prior is None:
        if not resume and PROGRESS in entries and MANIFEST not in entries:
            raise GengoError(
                f"output '{out.root}' holds an interrupted gengo run; "
                "use --resume to finish it, or --force to start over"
            )
        raise GengoError(
            f"output '{out.root}' is not empty ({len(entries)} entries); "
            "use --force to replace the files gengo writes there"
        )
    return prior


def _prepare(out: Output, p: Plan) -> bool:
    """Create the root and table directories where the file system has directories."""
    if out.remote:
        fs, _ = out.fs
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        if not set(protocols) & set(_OBJECT_STORES):  # object stores have no directories (and buckets are not ours)
            for t in p.tables:
                fs.makedirs(out.remote_path(t.name), exist_ok=True)
        return False
    created = not out.path.exists()
    try:
        for t in p.tables:
            (out.path / t.name).mkdir(parents=True, exist_ok=True)
        probe = out.path / f".gengo-probe-{os.getpid()}{TEMP_SUFFIX}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise GengoError(f"cannot write to output directory '{out.root}': {exc.strerror or exc}") from exc
    return created


def _clean(out: Output, p: Plan, keep: Iterable[str] = (), temporary_only: bool = False) -> None:
    """Remove gengo's part files (not in ``keep``) and temporary files from the table directories."""
    keep = set(keep)
    for t in p.tables:
        for name in out.files_under(t.name):
            temporary = name.startswith(".") and name.endswith(TEMP_SUFFIX)
            stale = not temporary_only and _PART_RE.match(name) and f"{t.name}/{name}" not in keep
            if temporary or stale:
                with contextlib.suppress(Exception):
                    out.remove(f"{t.name}/{name}")


def _entry(r: PartResult) -> dict:
    return {
        "table": r.table,
        "part": r.index,
        "file": r.name,
        "rows": r.rows,
        "bytes": r.bytes,
        checksum.ALGORITHM: r.checksum,
    }


def _reusable(out: Output, p: Plan, prior: dict) -> list[PartResult]:
    """Parts of the previous run still present and unchanged (size; locally also the checksum).

    Remote parts are not read back, so only those whose manifest entry has today's checksum
    algorithm are kept (an older gengo's entry could not be carried over unread).
    """
    wanted = {part.name: part for part in plan_parts(p)}
    kept = []
    for e in prior["files"]:
        part = wanted.get(e.get("file")) if isinstance(e, dict) else None
        found = checksum.recorded(e) if part is not None else None
        if found is None or e.get("rows") != part.stop - part.start:
            continue
        digest: str | None = None
        try:
            if out.remote:
                fs, _ = out.fs
                if found[0] == checksum.ALGORITHM and fs.size(out.remote_path(part.name)) == e.get("bytes"):
                    digest = found[1]
            else:
                path = out.path / part.name
                if path.stat().st_size == e.get("bytes"):
                    digest = checksum.unchanged(path, e)
        except Exception:
            digest = None
        if digest is not None:
            kept.append(PartResult(part.table, part.index, part.name, e["rows"], e["bytes"], digest, 0, 0, 0))
    return kept


def manifest(p: Plan, results: list[PartResult]) -> dict:
    from gengo.api import manifest_dict

    doc = manifest_dict(p, [])
    spec = p.partitioning or Partitioning()
    doc.update(
        layout="parts",
        parts=spec.parts,
        part_bytes=spec.part_bytes,
        total_rows=sum(r.rows for r in results),
        total_bytes=sum(r.bytes for r in results),
        tables=[_entry(r) for r in results],
        run=run_parameters(p),
    )
    return doc


def run(
    p: Plan,
    output: str | os.PathLike,
    workers: int,
    force: bool = False,
    progress: Progress | None = None,
    resume: bool = False,
    engine: str | None = None,
    scheduler: str | None = None,
    storage_options: dict | None = None,
):
    """Write ``p`` as parts (see the module doc); returns an ``api.Summary``."""
    from gengo.api import MANIFEST, PROGRESS, SCHEMA_SQL, Summary
    from gengo.engine.worker import Job

    engine = check_engine(engine, scheduler)
    p = with_parts(p)
    out = Output.of(output, storage_options)
    prior = check_output(out, p, force, resume)
    cluster = None
    if engine == "dask":  # connect before touching the output: a bad address changes nothing
        from gengo.engine.dask import Cluster, scheduler_address

        cluster = Cluster(scheduler_address(scheduler), workers)
    started = time.perf_counter()
    params = run_parameters(p)
    done: list[PartResult] = []
    created = False
    try:
        created = _prepare(out, p)
        reused = _reusable(out, p, prior) if prior else []
        done.extend(reused)
        _clean(out, p, keep={r.name for r in reused})

        def save() -> None:
            doc = {"complete": False, "run": params, "files": [_entry(r) for r in done]}
            out.write_text(PROGRESS, json.dumps(doc, indent=2) + "\n")

        try:
            save()
        except Exception as exc:
            raise GengoError(f"cannot write to output '{out.root}': {exc}") from exc
        out.remove(MANIFEST)  # from here on the output holds an unfinished run
        hints = {t.name: t.hints for t in p.tables}
        job = Job(p.model.name, p.fmt.name, p.seed, p.rows, p.options, hints)
        todo = plan_parts(p, skip={r.name for r in reused})
        left = {t.name: 0 for t in p.tables}
        for part in todo:
            left[part.table] += 1
        stream = cluster.run(job, out, todo) if cluster else run_local(job, out, todo, workers)
        for r in reused:
            if progress:
                progress.advance(r.table, r.rows, 0)
        for r in stream:
            done.append(r)
            save()
            if progress:
                progress.advance(r.table, r.rows, r.bytes)
            left[r.table] -= 1
            if left[r.table] == 0 and progress:
                progress.table_done(_table_result(p, out, r.table, done, time.perf_counter() - started))
    except BaseException as exc:
        with contextlib.suppress(Exception):
            _clean(out, p, temporary_only=True)
        finished = tuple(sorted({r.table for r in done}))
        if not done and not out.remote:  # nothing to resume: leave the directory as it was
            with contextlib.suppress(OSError):
                (out.path / PROGRESS).unlink()
            if created:
                for t in p.tables:
                    with contextlib.suppress(OSError):
                        (out.path / t.name).rmdir()
                with contextlib.suppress(OSError):
                    out.path.rmdir()
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(getattr(exc, "signum", 2), finished, (), str(out.root)) from exc
        if isinstance(exc, GengoError) and done:
            raise GengoError(f"{exc} ({len(done)} parts complete; rerun with --resume to write the rest)") from exc
        raise
    finally:
        if cluster is not None:
            cluster.close()
    order = {name: i for i, name in enumerate(p.model.table_names)}
    done.sort(key=lambda r: (order[r.table], r.index))
    expected = {part.name for part in plan_parts(p)}
    if {r.name for r in done} != expected:  # never report success with a part missing
        raise GengoError("internal error: not every part was written")
    try:
        out.write_text(SCHEMA_SQL, ddl.ddl(p.model, "duckdb", [t.name for t in p.tables]))
        out.write_text(MANIFEST, json.dumps(manifest(p, done), indent=2) + "\n")  # last: the run is complete
    except Exception as exc:
        raise GengoError(f"cannot write '{out.join(MANIFEST)}': {exc} (rerun with --resume to write it)") from exc
    out.remove(PROGRESS)
    seconds = time.perf_counter() - started
    tables = tuple(_table_result(p, out, t.name, done, seconds) for t in p.tables)
    root = out.root if out.remote else out.path
    return Summary(p.model.name, p.fmt.name, p.seed, root, p.target_bytes, tables, seconds, parts=tuple(done))


def _table_result(p: Plan, out: Output, table: str, done: list[PartResult], seconds: float) -> TableResult:
    mine = [r for r in done if r.table == table]
    return TableResult(
        table,
        Path(out.join(table)),
        sum(r.rows for r in mine),
        sum(r.bytes for r in mine),
        seconds,
        sum(r.generate_seconds for r in mine),
        sum(r.encode_seconds for r in mine),
        sum(r.write_seconds for r in mine),
        checksum=None,
    )
