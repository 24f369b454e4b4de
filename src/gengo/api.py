"""The library: plan a dataset, prepare a run, execute it; load PostgreSQL; verify; print DDL.

The command line is a client of these functions and nothing else::

    p = plan("ecommerce", "2GB", "parquet", seed=1)        # row counts, nothing written
    with prepare(p, "out", workers=4) as run:              # output, options, scheduler checked
        summary = run.execute(progress)                    # the files, then manifest.json
    generate("ecommerce", 0.01, "parquet", "out", seed=1)  # the three steps in one call

Worker processes are started from a fork server, never by re-running the caller's script, so
these functions work from a plain script, standard input or a notebook without a
``__main__`` guard.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from gengo.core.errors import GengoError, Interrupted
from gengo.core.units import parse_size
from gengo.engine import tuning
from gengo.models import ModelInfo, model_info, model_names, resolve_model

if TYPE_CHECKING:
    import pyarrow as pa

    from gengo.engine.inputs import check_workers, default_workers, parse_rows, parse_tables
    from gengo.engine.ledger import MANIFEST, PROGRESS, SCHEMA_SQL
    from gengo.engine.pipeline import Run
    from gengo.engine.plan import Partitioning, Plan
    from gengo.engine.results import PartResult, Progress, Summary, TableResult
    from gengo.engine.verify import Report
    from gengo.formats import resolve_format

SAMPLE_ROWS = 1 << 16  # --partition-by: the first rows of a table whose distinct values are counted before a run

# Light start-up: importing this module loads no NumPy, Arrow or polars (``gengo --help``,
# ``-V`` and ``models`` need none of them). The engine comes with the first function that needs
# it; these names are loaded on first access (PEP 562), from the module named.
_LAZY = {
    "check_workers": "gengo.engine.inputs",
    "default_workers": "gengo.engine.inputs",
    "parse_rows": "gengo.engine.inputs",
    "parse_tables": "gengo.engine.inputs",
    "MANIFEST": "gengo.engine.ledger",
    "PROGRESS": "gengo.engine.ledger",
    "SCHEMA_SQL": "gengo.engine.ledger",
    "Run": "gengo.engine.pipeline",
    "Plan": "gengo.engine.plan",
    "PartResult": "gengo.engine.results",
    "Progress": "gengo.engine.results",
    "Summary": "gengo.engine.results",
    "TableResult": "gengo.engine.results",
    "Report": "gengo.engine.verify",
    "resolve_format": "gengo.formats",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gengo.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "MANIFEST",
    "PROGRESS",
    "SCHEMA_SQL",
    "GengoError",
    "Interrupted",
    "PartResult",
    "Plan",
    "Progress",
    "Run",
    "Summary",
    "TableResult",
    "check_output",
    "check_workers",
    "ddl",
    "default_workers",
    "diagram",
    "generate",
    "load",
    "check_model",
    "describe_model",
    "model_info",
    "model_names",
    "model_schema",
    "models",
    "parse_rows",
    "parse_size",
    "parse_tables",
    "partition",
    "plan",
    "prepare",
    "previous_run",
    "resolve_format",
    "resolve_model",
    "resume_seed",
    "run",
    "stream",
    "table_format",
    "verify",
]


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
    parts: int | str | None = None,
    part_size: str | int | float | None = None,
    partition_by: Mapping[str, str] | Iterable[str] | None = None,
) -> Plan:
    """Validate the request and work out the row counts, without writing anything.

    ``workers`` (default: one per CPU) is also how many threads sample the tables for sizing.
    ``parts`` (at most N files per table) or ``part_size`` ("256MB") ask for partitioned output.
    ``partition_by`` ({"fact_orders_header": "order_timestamp:month"} or ["TABLE=COLUMN", ...])
    splits tables into Hive directories by a column's value (Parquet, Delta, Iceberg).
    """
    from gengo.engine import inputs
    from gengo.engine.plan import make_plan, select_tables
    from gengo.formats import WriteOptions, resolve_format
    from gengo.formats.hive import partition_keys

    m = resolve_model(model)
    fmt = resolve_format(format)
    target = parse_size(size) if size is not None else None
    pins = inputs.parse_rows(rows)
    spec = inputs.partitioning(parts, part_size)
    if target is None and not pins:
        raise GengoError("missing size: give --size (or --rows TABLE=N)")
    if chunk_rows is not None and chunk_rows < 1:
        raise GengoError("chunk rows must be >= 1")
    options = WriteOptions(compression.strip().lower() if compression else None, row_group_size)
    threads = inputs.check_workers(workers)
    seed = inputs.check_seed(seed)
    selected = inputs.parse_tables(tables)
    keys = partition_keys(m, fmt.name, partition_by, select_tables(m, selected))  # before the (slower) planning
    p = make_plan(m, fmt, target, seed, chunk_rows, pins, selected, options, threads)
    p = p if spec is None else replace(p, partitioning=spec)
    return _partitioned_by(p, keys) if keys else p


def _partitioned_by(p: Plan, keys: dict) -> Plan:
    """``p`` split by ``keys``, once the first rows of each table show a bounded number of values
    (and, for Delta, no value that needs a %XX escape)."""
    import numpy as np

    from gengo.formats.hive import unescapable

    for name, key in keys.items():
        n = min(p.rows[name], SAMPLE_ROWS)
        groups = key.split(p.model.table(name).generate(p.seed, p.rows, np.arange(n, dtype=np.int64)), name)
        escaped = [d for d, _ in groups if "%" in d]
        if escaped and not getattr(p.fmt, "escaped_partition_values", True):
            raise GengoError(unescapable(name, key, p.fmt.name, escaped[0]))
    return replace(p, partition_by=keys)


def partition(p: Plan, parts: int | str | None = None, part_size: str | int | float | None = None) -> Plan:
    """``p`` writing at most ``parts`` files per table, or files of about ``part_size``; unchanged if neither."""
    spec = check_parts(parts, part_size)
    return p if spec is None else replace(p, partitioning=spec)


def stream(
    model: str,
    table: str,
    size: str | float | int | None = None,
    rows: Iterable[str] | Mapping[str, int] | None = None,
    seed: int | None = None,
    workers: int | None = None,
    chunk_rows: int | None = None,
) -> pa.RecordBatchReader:
    """One table of ``model`` as a ``pyarrow.RecordBatchReader``, generated by the worker pool in
    bounded memory, in key order: the rows the files hold for the same ``seed``, ``size`` and ``rows``.

    ``size`` is the whole dataset's Parquet size (the table is the one ``gengo gen -f parquet -s SIZE``
    writes); ``rows`` fixes row counts as ``--rows`` does.

    >>> import polars as pl; df = pl.from_arrow(stream("ecommerce", "dim_customers", 0.01, seed=1))  # doctest: +SKIP
    """
    from gengo.engine.inputs import check_workers
    from gengo.engine.plan import select_tables
    from gengo.engine.stream import reader

    n = check_workers(workers)
    (name,) = select_tables(resolve_model(model), [table])
    p = _stream_plan(model, size, seed, chunk_rows, rows, name, n)
    chosen = [t if not chunk_rows else replace(t, chunk_rows=chunk_rows) for t in p.tables if t.name == name]
    return reader(replace(p, tables=tuple(chosen)), n)  # a stream has no row groups: chunks of any size


_STREAM_PLANS: dict[tuple, Plan] = {}  # the last few sized plans: streaming each table of a size plans once


def _stream_plan(model: str, size, seed: int | None, chunk_rows: int | None, rows, table: str, n: int) -> Plan:
    """The plan a stream of ``table`` reads. Sizing samples every table (0.2-0.3 s): with ``rows`` only,
    the counts do not depend on the other tables, so only this one is sampled; a size calibrates the
    whole dataset, planned once when a built-in model's tables are streamed one after another with a seed."""
    if size is None:
        return plan(model, None, "parquet", seed, chunk_rows, rows, tables=[table], workers=n)
    m = resolve_model(model)
    if m.file is not None or seed is None:  # a model file can change between calls; no seed: a new one
        return plan(model, size, "parquet", seed, chunk_rows, rows, workers=n)
    frozen = None if rows is None else tuple(sorted(rows.items()) if isinstance(rows, Mapping) else rows)
    key = (m.name, str(size), seed, chunk_rows, frozen, n)
    if key not in _STREAM_PLANS:
        if len(_STREAM_PLANS) >= 4:
            _STREAM_PLANS.clear()
        _STREAM_PLANS[key] = plan(model, size, "parquet", seed, chunk_rows, rows, workers=n)
    return _STREAM_PLANS[key]


def write_stdout(p: Plan, table: str | None, sink, workers: int | None = None, arrow: bool = False) -> int:
    """``table`` of the planned dataset to a binary ``sink`` (``sys.stdout.buffer``) in the plan's text
    format (CSV, JSON Lines), or as an Arrow IPC stream (``arrow``). Returns the rows written."""
    from gengo.engine.inputs import parse_tables, run_workers
    from gengo.engine.plan import select_tables

    names = parse_tables(table) or []
    if len(names) != 1:
        raise GengoError(f"--stdout writes one table: give --tables with one of {', '.join(p.model.table_names)}")
    (name,) = select_tables(p.model, names)
    from gengo.engine.stream import write

    one = replace(p, tables=tuple(t for t in p.tables if t.name == name))
    return write(one, run_workers(workers, one.estimated_bytes), arrow, sink)


def table_format(p: Plan, catalog: str | None = None, namespace: str | None = None) -> Plan:
    """``p`` registering its tables in Iceberg ``catalog`` (a URI; default: ``catalog.db`` in the output)
    under ``namespace`` (default: the model's name); unchanged if neither is given."""
    if catalog is None and namespace is None:
        return p
    configure = getattr(p.fmt, "configured", None)
    if configure is None:
        raise GengoError(f"a catalog and a namespace apply to -f iceberg, not {p.fmt.name}")
    return replace(p, fmt=configure(catalog, namespace))


def prepare(
    p: Plan,
    output: str | os.PathLike,
    workers: int | None = None,
    force: bool = False,
    resume: bool = False,
    engine: str | None = None,
    scheduler: str | None = None,
    storage_options: dict | None = None,
    fsync: bool = True,
    changes: bool | str = False,
) -> Run:
    """Check everything about writing ``p`` into ``output`` and return the run, not started yet.

    ``output`` is a directory, a ``file://`` URL or an fsspec URL (``s3://bucket/prefix``, with
    ``storage_options`` for fsspec). ``engine`` is "local" (default) or "dask" (``scheduler``: a
    Dask scheduler address; none starts a local cluster). Partitioned plans, the dask engine and
    URLs write ``<table>/part-NNNNN.<ext>`` files.

    ``force`` replaces what a previous gengo run wrote there (and nothing else); ``resume``
    finishes the run recorded there (refused if its parameters differ), keeping its complete,
    unchanged files: the result is byte-identical to an uninterrupted run. ``fsync=False`` skips
    flushing each file before it is renamed into place (faster; unsafe on power loss).
    ``changes``: ``write_changes`` follows; the run notes what spares it work (``Run.moving``),
    and its manifest says ``"complete": false`` until ``write_changes`` is done (a string:
    what is pending, as ``verify`` names it). ``workers``: processes (default one per CPU; this
    process alone for a plan under 16 MB).
    """
    from gengo.engine.pipeline import Run

    return Run(p, output, workers, force, resume, engine, scheduler, storage_options, fsync, changes)


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
    """``prepare(...)`` then ``execute(progress)``: generate the planned dataset into ``output``.

    Ctrl-C raises ``Interrupted`` (a ``KeyboardInterrupt``) naming the tables complete on disk.
    """
    with prepare(p, output, workers, force, resume, engine, scheduler, storage_options, fsync) as r:
        return r.execute(progress)


def check_output(
    output: str | os.PathLike, force: bool = False, resume: bool = False, storage_options: dict | None = None
) -> None:
    """The output checks that need no plan, so that a bad ``--output`` fails before planning."""
    from gengo.engine.ledger import check_output as check
    from gengo.formats.storage import Output

    check(Output.of(output, storage_options), force, resume)


def resume_seed(output: str | os.PathLike, storage_options: dict | None = None) -> int | None:
    """The seed of the run recorded in ``output`` (so ``--resume`` needs no ``--seed``); local or URL."""
    prior = _previous(output, storage_options)
    return prior.seed if prior else None


def previous_run(output: str | os.PathLike, storage_options: dict | None = None) -> dict | None:
    """The gengo run recorded in ``output``: ``{"complete", "run", "files"}``, or None."""
    prior = _previous(output, storage_options)
    return None if prior is None else {"complete": prior.complete, "run": prior.run, "files": prior.files}


def as_written(summary: Summary) -> Summary:
    """``summary`` with each table's rows and bytes as its manifest records them now: after
    ``write_changes(..., as_of=K)`` replaced the tables by their state after batch K."""
    import json
    from pathlib import Path

    from gengo.engine.ledger import MANIFEST

    doc = json.loads((Path(summary.output) / MANIFEST).read_text())
    entries = {e["file"]: e for e in doc["tables"]}
    tables = []
    for t in summary.tables:
        e = entries.get(str(Path(t.path).relative_to(summary.output)))
        tables.append(t if e is None else replace(t, rows=e["rows"], bytes=e["bytes"], checksum=e.get("blake3")))
    return replace(summary, tables=tuple(tables))


def _previous(output: str | os.PathLike, storage_options: dict | None):
    from gengo.engine.ledger import read_previous
    from gengo.formats.storage import Output

    return read_previous(Output.of(output, storage_options))


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
    partition_by: Mapping[str, str] | Iterable[str] | None = None,
) -> Summary:
    """Generate ``model`` at about ``size_gb`` GB (10**9 bytes) of ``format`` files in ``output``.

    ``rows`` fixes table row counts ({"dim_customers": 1000} or ["dim_customers=1000"]),
    ``tables`` restricts the tables written; ``resume`` finishes an interrupted run in ``output``
    (without ``seed``, the interrupted run's seed); the rest mirrors ``gengo gen`` (see ``prepare``).

    >>> summary = generate("ecommerce", 0.01, "parquet", "out", seed=1)  # doctest: +SKIP
    """
    from gengo.engine.inputs import check_workers

    n_workers = check_workers(workers)
    if resume and seed is None:
        seed = resume_seed(output, storage_options)
    p = plan(
        model,
        size_gb,
        format,
        seed,
        chunk_rows,
        rows,
        tables,
        compression,
        row_group_size,
        n_workers,
        partition_by=partition_by,
    )
    p = partition(p, parts, part_size)
    return run(p, output, n_workers, force, progress, resume, True, engine, scheduler, storage_options)


def load(
    p: Plan,
    url: str,
    schema: str | None = None,
    workers: int | None = None,
    force: bool = False,
    keep_partial: bool = False,
    progress: Progress | None = None,
    connections: int | None = None,
    batches: int | None = None,
    as_of: int | None = None,
    history: bool = False,
) -> Summary:
    """Load the planned dataset into PostgreSQL at ``url``, in ``schema`` (default: the model's name).

    The schema is created with bare tables, filled with COPY (several connections at once), then
    given its primary and foreign keys. An existing schema is refused unless ``force`` (which
    drops and recreates that schema only). On failure the schema is dropped unless ``keep_partial``.
    ``batches``: then apply change batches 1..N, each in its own transaction of INSERT, UPDATE and
    DELETE statements (``Summary.batches`` counts them); ``as_of``: load the state after batch K
    instead of the base (check both with ``check_changes`` first); ``history``: with ``batches``, also
    the type-2 ``<table>_history`` tables of the dimensions with updates (``Summary.history``).
    """
    from gengo.formats.postgres import DEFAULT_CONNECTIONS, PostgresTarget, check_url, default_schema  # psycopg

    check_url(url)
    if not p.fmt.server:
        raise GengoError(f"loading into PostgreSQL needs a plan for the postgres format, not {p.fmt.name}")
    target = PostgresTarget(url, schema or default_schema(p.model.name), force, keep_partial)
    target.connections = max(1, connections or DEFAULT_CONNECTIONS)
    from gengo.engine.pipeline import load as load_plan

    return load_plan(replace(p, fmt=target), workers, progress, batches, as_of, history)


def verify(
    directory: str | os.PathLike, keys: bool = True, engine: str | None = None, storage_options: dict | None = None
) -> Report:
    """Check a dataset (a directory or an fsspec URL) against its manifest and its model's keys."""
    from gengo.engine.verify import verify as check

    return check(directory, keys=keys, engine=engine, storage_options=storage_options)


def ddl(
    model: str, dialect: str = "duckdb", tables: str | Sequence[str] | None = None, schema: str | None = None
) -> str:
    """CREATE TABLE statements with primary and foreign keys for ``model`` (or some of its tables)."""
    from gengo.engine.inputs import parse_tables
    from gengo.engine.plan import select_tables
    from gengo.formats import ddl as _ddl

    m = resolve_model(model)
    names = parse_tables(tables)
    selected = list(select_tables(m, names)) if names else None
    return _ddl.ddl(m, _ddl.resolve_dialect(dialect), selected, schema)


def diagram(model: str, output: str | os.PathLike | None = None, force: bool = False) -> str:
    """The Mermaid ER diagram of ``model``; with ``output``, also written there (.svg/.png/.pdf through
    Graphviz, .dot the DOT text, .mmd/.md the Mermaid text). ``force`` replaces a file gengo did not write."""
    from gengo.formats import diagram as _diagram

    m = resolve_model(model)
    if output is not None:
        _diagram.render(m, output, force)
    return _diagram.mermaid(m)


def check_db(url: str, schema: str | None = None) -> None:
    """Check a PostgreSQL URL and schema name (no connection)."""
    from gengo.formats.postgres import check_schema_name, check_url  # psycopg: an optional extra

    check_url(url)
    if schema is not None:
        check_schema_name(schema)


def preflight_db(url: str, model: str, schema: str | None, force: bool) -> None:
    """Connect and check that ``schema`` (default: the model's name) may be created."""
    from gengo.formats.postgres import default_schema, preflight  # psycopg: an optional extra

    preflight(url, schema or default_schema(resolve_model(model).name), force)


def describe_db(url: str) -> str:
    """``url`` without its password, for printing."""
    from gengo.formats.postgres import describe_url  # psycopg: an optional extra

    return describe_url(url)


def dask_scheduler(scheduler: str | None) -> str | None:
    """The Dask scheduler a run would use: ``scheduler``, else $DASK_SCHEDULER_ADDRESS, else None (local)."""
    from gengo.engine.dask import scheduler_address  # distributed: an optional extra, imported there

    return scheduler_address(scheduler)


def check_scheduler(scheduler: str | None) -> None:
    """For ``engine="dask"``: Dask is installed, and a scheduler address (given or from the environment)
    answers; checked in a moment, before planning (a run connects again)."""
    from gengo.engine.dask import _distributed, check_reachable, scheduler_address

    _distributed()
    address = scheduler_address(scheduler)
    if address:
        check_reachable(address)


# Process set-up for the command line (a library caller's process is left as it is).
tune_process = tuning.tune_parent


def prewarm(workers: int | None = None, size: str | float | None = None) -> None:
    """Start the workers' fork server in the background, if the run will need one: a worker count
    over one, or with none given a ``size`` (as given) of 16 MB or more (``forkserver.worth_starting``)."""
    from gengo.engine import forkserver

    if forkserver.worth_starting(workers, size):
        forkserver.prewarm(workers)


def finish_prewarm() -> None:
    """At exit: stop the fork server this process started (never cut off half-way)."""
    from gengo.engine import forkserver

    forkserver.finish_prewarm()


def check_engine(engine: str | None, scheduler: str | None) -> str:
    """``local`` or ``dask``; a scheduler address implies dask."""
    from gengo.engine import inputs

    return inputs.check_engine(engine, scheduler)


def check_parts(parts: int | str | None = None, part_size: str | int | float | None = None) -> Partitioning | None:
    """Validate ``parts`` / ``part_size`` (``--parts`` / ``--part-size``); None when neither is given."""
    from gengo.engine import inputs

    return inputs.partitioning(parts, part_size)


def check_model(name: str) -> str:
    """``name`` if it names a built-in model or a valid model file, else a GengoError of one line.

    A model file is read and compiled here (errors name ``file:line:column``); a built-in name
    is looked up in the catalog only (no import)."""
    from gengo.models import is_model_file

    if is_model_file(name):
        resolve_model(name)
    else:
        model_info(name)
    return name


def describe_model(model: str) -> list[str]:
    """Lines describing a model (built-in or file): tables with their row rule, columns, types and keys."""
    from gengo.models.file.describe import describe

    return describe(resolve_model(model))


def model_schema() -> dict:
    """The JSON Schema of model files (what ``gengo model-schema`` prints)."""
    from gengo.models.file import json_schema

    return json_schema()


def models() -> list[ModelInfo]:
    """The built-in models (name, aliases, description, table names), in the order ``gengo models`` lists
    them; read from the catalog, without importing the models."""
    from gengo.models import CATALOG

    return list(CATALOG)


def init(
    source: str,
    output: str | os.PathLike,
    dialect: str | None = None,
    schema: str | None = None,
    stats: bool = False,
    sample_rows: int | None = None,
    force: bool = False,
) -> list[str]:
    """Import a schema (a DDL file, postgresql:// URL, SQLite or DuckDB file) into a model file at
    ``output``; returns the summary lines. An existing ``output`` is kept unless ``force``. The source
    is only read: its catalog, plus statistics with ``stats`` and up to ``sample_rows`` rows per table."""
    from gengo.importers import import_schema

    path = os.fspath(output)
    if os.path.exists(path) and not force:
        raise GengoError(f"{path} already exists; use --force to replace it")
    imported = import_schema(source, path, dialect, schema, stats, sample_rows)
    with open(path, "w", encoding="utf-8") as f:
        f.write(imported.text)
    return imported.summary


def check_changes(
    p: Plan,
    batches: int | None,
    as_of: int | None,
    change_format: str | None = None,
    history: bool = False,
    output: str | os.PathLike | None = None,
) -> int:
    """Check ``--batches``/``--as-of``/``--history`` against the plan (and the ``output`` it is written
    to) before anything is written (a PostgreSQL plan loads the batches: no change format); the
    batches to compute."""
    from gengo.engine import history as hist
    from gengo.engine.changes import CHANGE_FORMATS, check
    from gengo.formats import resolve_format
    from gengo.formats.storage import Output

    if output is not None and Output.of(output).remote:
        raise GengoError("--batches, --as-of and --history write to a local directory, not a URL")

    if change_format is not None and change_format not in CHANGE_FORMATS:
        raise GengoError(f"unknown --change-format '{change_format}': choose {', '.join(CHANGE_FORMATS)}")
    if change_format is not None and (batches is None or as_of is not None):
        raise GengoError("--change-format applies to the batch files of --batches (without --as-of)")
    if p.fmt.server and change_format is not None:
        raise GengoError("--db applies the batches to the database: --change-format writes files")
    if p.fmt.name == "delta" and change_format is not None:
        raise GengoError("-f delta commits the batches to the tables: their files are Parquet rows, no --change-format")
    if p.fmt.name == "delta":
        for t in p.tables:
            if not p.model.table(t.name).primary_key:
                raise GengoError(f"-f delta --batches: table {t.name} has no primary key to merge the changes on")
    fmt = resolve_format("csv") if p.fmt.server else p.fmt  # a server takes the rows as the CSV files hold them
    n = check(p.model, fmt, batches, as_of, p.partitioning is not None)
    if history:
        hist.check(p.model, [t.name for t in p.tables], batches, as_of)
    return n


def describe_changes(batches: int, as_of: int | None = None) -> str:
    """What ``write_changes(p, out, batches, as_of)`` writes, in words ("3 change batches")."""
    from gengo.engine.changes import describe

    return describe(batches, as_of)


def write_changes(
    p: Plan,
    output: str | os.PathLike,
    batches: int,
    as_of: int | None = None,
    change_format: str | None = None,
    workers: int | None = None,
    history: bool = False,
    moving: dict | None = None,
    resume: bool = False,
) -> dict:
    """After ``run(p, output)``: write change batches 1..``batches`` into ``<output>/changes/``, or
    with ``as_of`` replace the tables by their state after batch ``as_of`` (manifest updated, so
    ``verify`` checks the snapshot). ``change_format="debezium"`` writes the batches as JSON Lines
    change events (before, after, op, ts_ms, source); ``history`` adds the type-2 history of the
    dimension tables with updates (``<output>/history/<table>_history.<ext>``). The work runs on
    ``workers`` processes; ``moving``: a ``prepare(..., changes=True)`` run's ``Run.moving``
    (the same bytes, less work). Returns the changes manifest.

    With ``-f delta`` the batch files are Parquet and each batch is also committed to every table,
    so version k is the state after batch k (``engine.change_lake``); ``resume`` commits only the
    batches an interrupted run did not."""
    from pathlib import Path

    from gengo.engine.change_blocks import remove_temporaries, write_files
    from gengo.engine.ledger import complete_pending

    out = Path(output)
    try:
        if p.fmt.name == "delta":
            from gengo.engine.change_lake import write_delta

            info = write_delta(p, out, batches, workers, history, moving, resume)
        else:
            info = write_files(p, out, batches, as_of, change_format, workers, history, moving)
    except KeyboardInterrupt as exc:
        remove_temporaries(out)
        what = describe_changes(batches, as_of)
        raise Interrupted(getattr(exc, "signum", 2), tuple(t.name for t in p.tables), (what,), str(out)) from exc
    except BaseException:
        remove_temporaries(out)
        raise
    complete_pending(out)
    return info
