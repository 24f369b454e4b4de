"""One run pipeline: a plan executed into table files, parts, a DuckDB file or PostgreSQL.

``Run`` checks everything that can be checked before a byte is written (the output, the
options, a Dask scheduler's address), then ``execute`` goes through the same steps for every
target: the ledger opens the output and keeps what a resumed run may keep, the format's run
steps bracket the chunks, an executor generates them (the parent appending chunks to one file
per table, or workers writing whole parts, locally or on Dask), every complete file is recorded
in the progress file, and the manifest comes last. A failure or Ctrl-C leaves only complete files
and the progress file that lets ``--resume`` finish the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from gengo.core.errors import GengoError, Interrupted, interruption
from gengo.engine import tuning
from gengo.engine.inputs import DEFAULT_PART_BYTES, check_engine, check_workers, run_workers
from gengo.engine.ledger import MANIFEST, Entry, Ledger, PriorRun
from gengo.engine.parts import plan_parts, run_local
from gengo.engine.plan import Partitioning, Plan
from gengo.engine.results import PartResult, Progress, Summary, TableResult
from gengo.engine.tables import execute as write_tables
from gengo.engine.worker import Job
from gengo.formats.storage import Output, is_url


def wants_parts(p: Plan, output: str | os.PathLike, engine: str) -> bool:
    """Parts when asked for, wherever workers must write their own files (Dask, URLs), for table formats
    and for --partition-by."""
    return (
        p.partitioning is not None or is_url(output) or engine == "dask" or p.fmt.table_format or bool(p.partition_by)
    )


def with_parts(p: Plan) -> Plan:
    """The plan with its partitioning, or the default one (parts of 256 MB)."""
    if not p.fmt.partitioned:
        raise GengoError(
            f"partitioned output (--parts, --part-size, --engine dask, URLs) is for files, not {p.fmt.name}"
        )
    return p if p.partitioning is not None else replace(p, partitioning=Partitioning(part_bytes=DEFAULT_PART_BYTES))


class Run:
    """A checked run of ``plan`` into ``output``; ``execute`` writes it. Also a context manager."""

    def __init__(
        self,
        plan: Plan,
        output: str | os.PathLike,
        workers: int | None = None,
        force: bool = False,
        resume: bool = False,
        engine: str | None = None,
        scheduler: str | None = None,
        storage_options: dict | None = None,
        fsync: bool = True,
        changes: bool | str = False,
    ) -> None:
        self.engine = check_engine(engine, scheduler)
        # Dask: the local cluster's size; it is started for the run whatever the plan's size.
        self.workers = check_workers(workers) if self.engine == "dask" else run_workers(workers, plan.estimated_bytes)
        # Change batches follow (``change_blocks.write_files``): the base's chunks note the rows
        # whose values can move, here per table, so that the batches need not regenerate the rest.
        self.moving: dict | None = {} if changes else None
        # Until they are written (``api.write_changes``) the run is not complete: its manifest says so.
        self.pending = (changes if isinstance(changes, str) else "the change batches") if changes else None
        if not fsync:
            plan = replace(plan, options=replace(plan.options, fsync=False))
        if plan.fmt.server:
            raise GengoError(f"the {plan.fmt.name} format loads a database: use gengo.api.load (--db)")
        if wants_parts(plan, output, self.engine):
            plan = with_parts(plan)
        self.plan = plan
        self.out = Output.of(output, storage_options)
        self.ledger = Ledger(plan, self.out)
        self.prior: PriorRun | None = self.ledger.check(force, resume)
        plan.fmt.check_tables(self.out, plan, force, resume)  # a catalog, existing tables: before any write
        self.resume = resume
        self.cluster = None
        if self.engine == "dask":  # connect before touching the output: a bad address changes nothing
            from gengo.engine.dask import Cluster, scheduler_address  # optional extra: imported when used

            self.cluster = Cluster(scheduler_address(scheduler), self.workers)

    @property
    def output(self) -> Path | str:
        return self.out.root if self.out.remote else self.out.path

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def execute(self, progress: Progress | None = None) -> Summary:
        """Write the dataset; raises ``Interrupted`` on Ctrl-C naming the tables complete on disk."""
        p, ledger = self.plan, self.ledger
        started = time.perf_counter()
        try:
            ledger.open()
            kept = ledger.reusable(self.prior if self.resume else None)
            ledger.clean(self.prior, kept)
            if self.prior is not None and not self.resume:  # batches of the replaced base no longer match
                remove_earlier_changes(self.out)
            ledger.start(kept)
            tuning.release_free_memory()  # planning's samples: ~100 MB this process no longer needs
            p.fmt.begin_run(self.out.path, p)  # a database: create it and its tables
            committed = self._committed(kept)
            if not committed:
                p.fmt.prepare_tables(self.out, p)  # a table format: an earlier run's commits go first
            if p.partitioning is None:
                tables = self._write_tables(kept, progress)
                parts: tuple[PartResult, ...] = ()
            else:
                parts = self._write_parts(kept, progress, started)
                tables = tuple(_table_result(self.out, t.name, parts, time.perf_counter() - started) for t in p.tables)
                files: dict[str, list[str]] = {}
                for r in parts:
                    files.setdefault(r.table, []).append(r.name)
                if not committed:
                    p.fmt.commit_tables(self.out, p, files)  # once every part is complete: readers never see half
            p.fmt.end_run(self.out.path, p)
            ledger.finish(self.pending)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                p.fmt.abort_run(self.out.path, p)
            ledger.abandon()
            raise self._failure(exc) from exc
        finally:
            self.close()
        reused = tuple(dict.fromkeys(e.table if e.part is None else e.file for e in kept))
        seconds = time.perf_counter() - started
        return Summary(p.model.name, p.fmt.name, p.seed, self.output, p.target_bytes, tables, seconds, reused, parts)

    def _committed(self, kept: list[Entry]) -> bool:
        """A resumed run keeping every part of a complete run keeps the table format's commits as they
        are (``committed``: -f delta, whose change batches are commits after the parts')."""
        committed = getattr(self.plan.fmt, "committed", None)
        if committed is None or not self.resume or self.prior is None or not self.prior.complete:
            return False
        if {(e.table, e.part) for e in kept} != set(self.ledger.units()):
            return False
        files: dict[str, list[str]] = {}
        for e in kept:
            files.setdefault(e.table, []).append(e.file)
        return bool(committed(self.out, self.plan, files))

    def _write_tables(self, kept: list[Entry], progress: Progress | None) -> tuple[TableResult, ...]:
        p, out_dir = self.plan, self.out.path
        reused = [TableResult(e.table, out_dir / e.file, e.rows, e.bytes, 0.0, checksum=e.checksum) for e in kept]
        for r in reused:
            if progress:
                progress.advance(r.name, r.rows, 0)
                progress.table_done(r)
        recorder = _Recorder(self.ledger, out_dir, progress)
        skip = {r.name for r in reused}
        results = write_tables(p, out_dir, self.workers, recorder, skip=skip, moving=self.moving) + reused
        order = {name: i for i, name in enumerate(p.model.table_names)}
        return tuple(sorted(results, key=lambda r: order[r.name]))

    def _write_parts(self, kept: list[Entry], progress: Progress | None, started: float) -> tuple[PartResult, ...]:
        p = self.plan
        done = [PartResult(e.table, e.part or 0, e.file, e.rows, e.bytes, e.checksum or "", 0, 0, 0) for e in kept]
        hints = {t.name: t.hints for t in p.tables}
        job = Job.of(p.model, p.fmt.name, p.seed, p.rows, p.options, hints, partition_by=dict(p.partition_by) or None)
        todo = plan_parts(p, skip={(r.table, r.index) for r in done})
        left = {t.name: 0 for t in p.tables}
        for part in todo:
            left[part.table] += 1
        for r in done:
            if progress:
                progress.advance(r.table, r.rows, 0)
        stream = self.cluster.run(job, self.out, todo) if self.cluster else run_local(job, self.out, todo, self.workers)
        waiting = len(todo)  # parts not complete yet
        if waiting < self.workers:  # a worker is free from the start: the commit gets ready on it
            p.fmt.tables_soon(self.out, p)
        for part, results in stream:  # a part's files are recorded together: a part is complete or redone
            waiting -= 1
            if waiting == self.workers - 1:  # the last parts are running: a worker is free from now on
                p.fmt.tables_soon(self.out, p)
            done.extend(results)
            self.ledger.record(*(Entry(r.table, r.name, r.rows, r.bytes, r.checksum, r.index) for r in results))
            if progress:
                progress.advance(part.table, part.stop - part.start, sum(r.bytes for r in results))
            left[part.table] -= 1
            if left[part.table] == 0 and progress:
                progress.table_done(_table_result(self.out, part.table, done, time.perf_counter() - started))
        order = {name: i for i, name in enumerate(p.model.table_names)}
        return tuple(sorted(done, key=lambda r: (order[r.table], r.index)))

    def _failure(self, exc: BaseException) -> BaseException:
        """What the caller sees: ``Interrupted`` naming what is complete, or one line with the cause."""
        p, entries = self.plan, self.ledger.entries
        units = self.ledger.units()  # files, or parts (a part split by value is several files)
        planned = Counter(table for table, _ in units)
        done = Counter(table for table, _ in self.ledger.complete_units())
        # A table is complete when all its files are; a database is removed on failure (abort_run).
        finished = () if p.fmt.database else tuple(t.name for t in p.tables if done[t.name] == planned[t.name] > 0)
        pending = tuple(t.name for t in p.tables if t.name not in finished)
        stop = interruption(exc)
        if stop is not None:  # an error raised while unwinding from Ctrl-C is the Ctrl-C
            return Interrupted(getattr(stop, "signum", 2), finished, pending, str(self.out.root))
        error = exc
        if isinstance(exc, OSError):
            error = GengoError(f"cannot write to '{exc.filename or self.out.root}': {exc.strerror or exc}")
        if isinstance(error, GengoError) and entries and not p.fmt.database:
            error = GengoError(
                f"{error} ({sum(done.values())} of {len(units)} {'parts' if p.partition_by else 'files'} complete; "
                "rerun with --resume to write the rest)"
            )
        return error


class _Recorder:
    """The caller's progress, plus a ledger record for each table file committed."""

    def __init__(self, ledger: Ledger, out_dir: Path, inner: Progress | None) -> None:
        self.ledger, self.out_dir, self.inner = ledger, out_dir, inner

    def advance(self, table: str, rows: int, nbytes: int) -> None:
        if self.inner:
            self.inner.advance(table, rows, nbytes)

    def table_done(self, result: TableResult) -> None:
        self.ledger.record(Entry(result.name, result.path.name, result.rows, result.bytes, result.checksum))
        if self.inner:
            self.inner.table_done(result)


# What an earlier run's changes manifest may name: batch files and history tables, as gengo names them.
_CHANGE_FILE = re.compile(
    r"changes/batch-\d{6}/[A-Za-z0-9_]+(\.[a-z0-9]+){1,2}|history/[A-Za-z0-9_]+_history(\.[a-z0-9]+){1,2}"
)


def remove_earlier_changes(out: Output) -> None:
    """The batch files and history of an earlier ``--batches`` run (``changes/manifest.json`` lists
    them), which follow the base that this run replaces. Only the files that manifest names (and
    that are named as gengo names them) go, then the manifest and the directories left empty."""
    if out.remote:  # batches are written to local directories only
        return
    root = out.path
    try:
        info = json.loads((root / "changes" / MANIFEST).read_text())
    except (OSError, ValueError):
        return
    names = [e.get("file") for key in ("files", "history") for e in info.get(key, ()) if isinstance(e, dict)]
    ours = [n for n in names if isinstance(n, str) and _CHANGE_FILE.fullmatch(n)]
    for name in ours:
        with contextlib.suppress(OSError):
            (root / name).unlink()
    with contextlib.suppress(OSError):
        (root / "changes" / MANIFEST).unlink()
    for d in [*sorted({str(Path(n).parent) for n in ours}, reverse=True), "changes", "history"]:
        with contextlib.suppress(OSError):
            (root / d).rmdir()  # only if nothing else is there


def _table_result(out: Output, table: str, done: list[PartResult] | tuple[PartResult, ...], seconds: float):
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


def load(
    plan: Plan,
    workers: int | None = None,
    progress: Progress | None = None,
    batches: int | None = None,
    as_of: int | None = None,
    history: bool = False,
) -> Summary:
    """Execute a plan whose format is a database server (``formats.postgres.PostgresTarget``).

    With ``as_of`` the tables are loaded as they are after that change batch; with ``batches``
    (and no ``as_of``) batches 1..``batches`` are then applied, one transaction each
    (``engine.change_apply``), and with ``history`` the ``<table>_history`` tables loaded."""
    p = plan
    n_workers = run_workers(workers, p.estimated_bytes)
    out = Path(p.fmt.schema)  # a server format names its target; nothing is written there: results are <schema>/<table>
    started = time.perf_counter()
    applied: list[dict] = []
    try:
        p.fmt.begin_run(out, p)
        if as_of is None:
            results = write_tables(p, out, n_workers, progress)
        else:
            from gengo.engine.change_apply import load_as_of

            results = load_as_of(p, out, n_workers, max(batches or 0, as_of), as_of, progress)
        p.fmt.end_run(out, p)
        if batches and as_of is None:
            from gengo.engine.change_apply import apply_batches

            applied = apply_batches(p, p.fmt.url, p.fmt.schema, n_workers, batches, history)
    except BaseException:
        with contextlib.suppress(Exception):
            p.fmt.abort_run(out, p)
        raise
    order = {name: i for i, name in enumerate(p.model.table_names)}
    results.sort(key=lambda r: order[r.name])
    seconds = time.perf_counter() - started
    summary = Summary(p.model.name, p.fmt.name, p.seed, out, p.target_bytes, tuple(results), seconds)
    versions = next((a["history"] for a in applied if "history" in a), {})
    return replace(summary, batches=tuple(a for a in applied if "history" not in a), history=versions)
