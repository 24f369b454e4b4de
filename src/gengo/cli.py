"""The `gengo` command line: parses, prompts and prints; the work is in gengo.api.

``gengo.api`` loads the engine (NumPy, Arrow, polars) only when a command first needs it, so
``gengo --help``, ``-V`` and ``models`` start in a fraction of the time a run needs.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from gengo import api
from gengo._version import __version__
from gengo.core.errors import GengoError, Interrupted

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

SIZE_HELP = "Target size of the written files in GB (1 GB = 10^9 bytes), or with a unit: 500MB, 2GiB."
FORMAT_HELP = (
    "Output format: csv, json (JSON Lines; alias jsonl), parquet, duckdb (one database file), "
    "postgres (with --db: load a PostgreSQL server), delta (Delta Lake tables), iceberg (Iceberg tables)."
)


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.2f} {unit}"
        n /= 1000
    return f"{n:.2f} TB"


def _interactive() -> bool:
    return sys.stdin.isatty()


def _ask(value, flag: str, question: str, check=None):
    """Use the flag's value, ask on a terminal, or fail naming the flag.

    An answer that ``check`` refuses (a GengoError) is explained, with its suggestion, and
    asked again: one typo at a prompt does not end the command. A bad flag value still does.
    """
    if value is not None and value != "":
        return value
    if not _interactive():
        raise GengoError(f"missing option {flag} (stdin is not a terminal, so gengo cannot ask for it)")

    def checked(answer: str) -> str:
        answer = answer.strip()
        if not answer:
            raise click.BadParameter("an answer is needed")
        if check is not None:
            try:
                check(answer)
            except GengoError as exc:
                raise click.BadParameter(_one_line(str(exc))) from None
        return answer

    return click.prompt(question, value_proc=checked)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="gengo")
def cli() -> None:
    """Generate large synthetic relational datasets whose keys join."""


def _dataset_options(func):
    """Options shared by `gen` and `plan`: what to generate."""
    options = [
        click.option(
            "-m",
            "--model",
            help=f"Model: {', '.join(api.model_names())} (aliases: ecom, eds, fin, med...), or a model file (.yaml).",
        ),
        click.option("-s", "--size", help=SIZE_HELP),
        click.option("-f", "--format", "fmt", help=FORMAT_HELP),
        click.option("--seed", help="Random seed (0 to 2^63-1); the same seed gives the same bytes. Default: random."),
        click.option(
            "--rows",
            multiple=True,
            metavar="TABLE=N",
            help="Fix a table's row count (repeatable); dependent tables scale with it.",
        ),
        click.option("--tables", metavar="A,B", help="Write only these tables (keys still span the full parents)."),
        click.option(
            "--compression",
            help="Parquet: snappy (default), zstd, gzip, lz4, none. CSV/JSON: none (default), gzip, zstd.",
        ),
        click.option("--row-group-size", metavar="ROWS", help="Rows per Parquet row group (default 1,048,576)."),
        click.option("--chunk-rows", hidden=True, help="Rows per chunk (tuning and tests; output does not change)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _ask_dataset(model, size, fmt, rows):
    """Check what was given, then ask for what is missing (on a terminal): model, size, format."""
    pins = api.parse_rows(rows)
    # Check every given value before asking for a missing one, so a typo fails fast.
    if model:
        api.check_model(model)
    if size:
        api.parse_size(size)
    if fmt:
        api.resolve_format(fmt)
    model = _ask(model, "--model", f"Model ({'/'.join(api.model_names())} or a model file)", api.check_model)
    if not pins:
        size = _ask(size, "--size", "Approximate size in GB", api.parse_size)
    fmt = _ask(fmt, "--format", "Format (csv/json/parquet/duckdb)", api.resolve_format)
    return model, size or None, fmt, pins


def _numbers(seed, chunk_rows, row_group_size) -> tuple[int | None, int | None, int | None]:
    """--seed, --chunk-rows and --row-group-size as whole numbers (checked before any question)."""
    seed_value = _parse_int(seed, "--seed") if seed is not None else None
    chunk_value = _parse_int(chunk_rows, "--chunk-rows") if chunk_rows is not None else None
    if chunk_value is not None and chunk_value < 1:
        raise GengoError("invalid --chunk-rows: it must be >= 1")
    group_value = _parse_int(row_group_size, "--row-group-size") if row_group_size is not None else None
    return seed_value, chunk_value, group_value


@cli.command()
@_dataset_options
@click.option("-o", "--output", help="Output directory (created if missing).")
@click.option(
    "-w",
    "--workers",
    help="Worker processes. Default: the number of CPUs; one (this process) for a run planned under 16 MB.",
)
@click.option("--force", is_flag=True, help="Write into a non-empty directory, replacing only gengo's own files.")
@click.option(
    "--resume",
    is_flag=True,
    help="Finish an interrupted run in the output directory (same options; its seed if --seed is not given).",
)
@click.option(
    "--stdout",
    "to_stdout",
    is_flag=True,
    help="Write one table (--tables T) to standard output: -f csv, json or arrow (an Arrow IPC stream).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan (tables, rows, estimated bytes) and write nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--db", metavar="URL", help="Load into PostgreSQL, not files: postgresql://user@host:port/database.")
@click.option(
    "--schema",
    "db_schema",
    metavar="NAME",
    help="PostgreSQL schema for --db, Iceberg namespace (default: the model name).",
)
@click.option("--catalog", metavar="URI", help="-f iceberg: sqlite:///..., postgresql://... or a REST catalog URL.")
@click.option("--keep-partial", is_flag=True, help="With --db: keep the schema if the load fails (default: drop it).")
@click.option("--connections", metavar="N", help="With --db: COPY streams at once (default: half the CPUs, 1 to 4).")
@click.option("--parts", metavar="N", help="Partitioned output: at most N files per table, <table>/part-00000.<ext>...")
@click.option("--part-size", metavar="SIZE", help="Partitioned output: files of about SIZE (e.g. 256MB).")
@click.option(
    "--partition-by",
    "partition_by",
    metavar="TABLE=COLUMN[:day|month|year]",
    multiple=True,
    help="-f parquet/delta/iceberg: Hive directories <table>/<column>=<value>/ by an integer, string or date "
    "column; a date or timestamp by :day, :month or :year as <column>_month=2024-03 (repeatable, one per table).",
)
@click.option(
    "--engine",
    metavar="local|dask",
    help="local (default): processes on this machine; dask: a Dask cluster (writes parts, 256MB unless told).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler (tcp://host:8786; default $DASK_SCHEDULER_ADDRESS, else a local cluster of --workers).",
)
@click.option("--batches", metavar="N", help="Also write N change batches: changes/batch-000001/<table>.<ext>, ...")
@click.option("--as-of", "as_of", metavar="K", help="Write the state after change batch K instead of the base.")
@click.option(
    "--change-format",
    metavar="rows|debezium",
    help="Batch files: rows (default: the table's format with _op, _batch, _ts) or debezium (JSON Lines events).",
)
@click.option(
    "--history",
    is_flag=True,
    help="With --batches: also write type-2 versions of the dimension tables with updates, history/<table>_history "
    "(with --db: tables <table>_history).",
)
def gen(
    model,
    size,
    fmt,
    seed,
    rows,
    tables,
    compression,
    row_group_size,
    chunk_rows,
    output,
    workers,
    force,
    resume,
    to_stdout,
    dry_run,
    quiet,
    db,
    db_schema,
    catalog,
    keep_partial,
    connections,
    parts,
    part_size,
    partition_by,
    engine,
    scheduler,
    batches,
    as_of,
    change_format,
    history,
) -> None:
    """Generate a dataset: one file per table in the output directory (or one DuckDB file, or --db).

    With --parts/--part-size, --engine dask or an fsspec URL as --output (s3://bucket/prefix),
    each table is a directory of part files written by the workers. --partition-by TABLE=COLUMN
    splits a table's parts into Hive directories by value (-f parquet, delta, iceberg; a Delta
    partition column, an Iceberg partition spec).
    """
    engine = api.check_engine(engine, scheduler)
    batches_value = _parse_int(batches, "--batches") if batches is not None else None
    as_of_value = _parse_int(as_of, "--as-of") if as_of is not None else None
    changing = batches_value is not None or as_of_value is not None or change_format is not None or history
    if changing and (to_stdout or engine != "local" or partition_by):
        raise GengoError("--batches, --as-of and --history: leave out --stdout, --engine and --partition-by")
    if db and change_format is not None:
        raise GengoError("--db applies the batches to the database: --change-format writes files")
    if to_stdout:
        if partition_by:
            raise GengoError("--stdout writes one stream: leave out --partition-by")
        _to_stdout(model, size, fmt, seed, rows, tables, compression, chunk_rows, output, workers, db, parts, part_size)
        return
    api.check_parts(parts, part_size)  # checked before planning: a typo fails fast
    if db and (parts or part_size or engine != "local"):
        raise GengoError("--db loads into PostgreSQL: --parts, --part-size and --engine apply to file output")
    if db and partition_by:
        raise GengoError("--partition-by applies to -f parquet, delta and iceberg, not --db (PostgreSQL)")
    workers_value = api.check_workers(_parse_int(workers, "--workers")) if workers is not None else None
    if not dry_run and engine == "local":
        api.prewarm(workers_value, size)
    started = time.perf_counter()
    fmt = _database_options(fmt, db, db_schema, keep_partial, connections, output, resume, catalog)
    numbers = _numbers(seed, chunk_rows, row_group_size)
    model, size, fmt, pins = _ask_dataset(model, size, fmt, rows)
    lake = db is None and (catalog is not None or db_schema is not None)
    if engine == "dask" and not dry_run:  # a scheduler that does not answer fails before planning too
        api.check_scheduler(scheduler)
    if db and not dry_run:  # connection and schema checked before the (slower) planning
        api.preflight_db(db, model, db_schema, force)
    if not db and not dry_run:  # the output too (asked for now if missing): a bad one fails before planning
        if output:
            api.check_output(output, force, resume)
        output = _ask(output, "--output", "Output directory", lambda answer: api.check_output(answer, force, resume))
    if resume and seed is None and output:
        recorded = api.resume_seed(output)
        numbers = (recorded, *numbers[1:])
    plan = api.plan(
        model,
        size,
        fmt,
        numbers[0],
        numbers[1],
        pins,
        tables,
        compression,
        numbers[2],
        workers_value,
        partition_by=partition_by,
    )
    plan = api.table_format(plan, catalog, db_schema) if lake else plan
    plan = api.partition(plan, parts, part_size)
    n_batches = api.check_changes(plan, batches_value, as_of_value, change_format, history, output) if changing else 0
    if not quiet or dry_run:
        _print_plan(plan)
    if dry_run:
        return
    if db:
        changes = (n_batches if batches_value is not None else None, as_of_value, history)
        _load_database(plan, db, db_schema, workers_value, force, keep_partial, connections, quiet, started, changes)
        return
    pending = api.describe_changes(n_batches, as_of_value) if changing else False
    with api.prepare(plan, output, workers_value, force, resume, engine, scheduler, changes=pending) as run:
        if not quiet and run.plan.partitioning is not None:
            _print_parts(run.plan, engine, scheduler, workers_value)
        if quiet:
            run.execute()
        else:
            with _ProgressReporter(run.plan) as progress:
                summary = run.execute(progress)
    if changing:
        if not quiet:  # the base's progress bars are done; this step has none of its own
            out.print(f"Writing {pending} ...")
        info = api.write_changes(
            run.plan, output, n_batches, as_of_value, change_format, workers_value, history, run.moving, resume
        )
        if not quiet:
            files = len(info.get("files", ()))
            out.print(f"Wrote {pending}" + (f" ({files} files in {Path(output) / 'changes'})" if files else ""))
            if "delta" in info:
                out.print(
                    f"Committed each batch to the Delta tables: version k is the state after batch k (1..{n_batches})"
                )
            for h in info.get("history", ()):
                out.print(f"History of {h['table']}: {h['rows']:,} versions in {Path(output) / h['file']}")
        if as_of_value is not None and not quiet:
            summary = api.as_written(summary)  # the snapshot's rows, not the base's
    if quiet:
        return
    _print_summary(summary, time.perf_counter() - started)
    registered = run.plan.fmt.identity(run.plan) if run.plan.fmt.table_format else None
    if registered:  # where the tables are registered (a catalog inside the output is a path there)
        where = registered["catalog"]
        where = Path(summary.output) / where if "://" not in where and not isinstance(summary.output, str) else where
        out.print(f"{summary.format} catalog: {where}; namespace: {registered['namespace']}", soft_wrap=True)


def _to_stdout(model, size, fmt, seed, rows, tables, compression, chunk_rows, output, workers, db, parts, part_size):
    """gen --stdout: one table of the dataset (as -s/--rows plan it whole) in key order on standard output."""
    if output or db or parts or part_size:
        raise GengoError("--stdout writes to standard output: leave out --output, --db, --parts and --part-size")
    arrow = (fmt or "").strip().lower() in ("arrow", "ipc")
    if not model:
        raise GengoError("missing option --model")
    if not fmt or not arrow and api.resolve_format(fmt).name not in ("csv", "json"):
        raise GengoError("--stdout needs -f csv, json or arrow")
    seed_value, chunk_value, _ = _numbers(seed, chunk_rows, None)
    if not tables or "," in tables:
        raise GengoError("--stdout writes one table: give --tables with one table name")
    n = api.check_workers(_parse_int(workers, "--workers")) if workers is not None else None
    plan = api.plan(
        model or "", size, "parquet" if arrow else fmt, seed_value, chunk_value, rows, None, compression, None, n
    )
    api.write_stdout(plan, tables, sys.stdout.buffer, n, arrow)


def _print_parts(plan, engine: str, scheduler: str | None, workers: int | None) -> None:
    spec = plan.partitioning
    count = sum(len(plan.part_ranges(t)) for t in plan.tables)
    how = f"at most {spec.parts} per table" if spec.parts else f"about {_fmt_bytes(spec.part_bytes)} each"
    where = "local processes"
    if engine == "dask":
        address = api.dask_scheduler(scheduler)
        workers = workers or api.default_workers()
        where = f"Dask scheduler {address}" if address else f"local Dask cluster, {workers} workers"
    layout = "<table>/part-NNNNN"
    if plan.partition_by:  # a part is then a file per value
        count = f"{count} parts"
        layout += ", " + ", ".join(f"{t}/{k.key}=*/part-NNNNN" for t, k in plan.partition_by.items())
    else:
        count = f"{count} part files"
    out.print(f"{count} ({how}), {layout}; engine: {where}", soft_wrap=True)


def _database_options(fmt, db, db_schema, keep_partial, connections, output, resume, catalog=None):
    """Check the --db options against the others; with --db the format is postgres."""
    named = api.resolve_format(fmt).name if fmt else None
    if catalog is not None and (db is not None or named != "iceberg"):
        raise GengoError("--catalog applies to -f iceberg only")
    if db is None:
        if named == "postgres":
            raise GengoError("--format postgres needs --db postgresql://user@host:port/database")
        table_schema = named == "iceberg"  # --schema: the Iceberg namespace
        for flag, value in (("--schema", db_schema and not table_schema), ("--keep-partial", keep_partial)):
            if value:
                raise GengoError(f"{flag} applies to --db{' or -f iceberg' if flag == '--schema' else ''} only")
        if connections:
            raise GengoError("--connections applies to --db only")
        return fmt
    if named not in (None, "postgres"):
        raise GengoError(f"--db loads into PostgreSQL: leave out --format {fmt} (or use --format postgres)")
    if output:
        raise GengoError("--db loads into PostgreSQL and writes no files: leave out --output")
    if resume:
        raise GengoError("--resume applies to file output, not --db")
    api.check_db(db, db_schema)
    if connections is not None and _parse_int(connections, "--connections") < 1:
        raise GengoError("invalid --connections: it must be >= 1")
    return "postgres"


def _load_database(plan, db, db_schema, workers, force, keep_partial, connections, quiet, started, changes) -> None:
    n = _parse_int(connections, "--connections") if connections is not None else None
    batches, as_of, history = changes
    if quiet:
        summary = api.load(plan, db, db_schema, workers, force, keep_partial, None, n, batches, as_of, history)
        return
    with _ProgressReporter(plan) as progress:
        summary = api.load(plan, db, db_schema, workers, force, keep_partial, progress, n, batches, as_of, history)
    table = Table(title=f"Loaded {api.describe_db(db)}, schema {summary.output}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("CSV bytes", justify="right")
    for r in summary.tables:
        table.add_row(f"{summary.output}.{r.name}", f"{r.rows:,}", _fmt_bytes(r.bytes))
    table.add_row("total", f"{summary.total_rows:,}", _fmt_bytes(summary.total_bytes), style="bold")
    out.print(table)
    out.print(
        f"{summary.total_rows / max(summary.seconds, 1e-9):,.0f} rows/s in {summary.seconds:.1f} s "
        f"(keys included); total {time.perf_counter() - started:.1f} s; seed {summary.seed}"
    )
    if as_of is not None:
        out.print(f"Loaded the state after batch {as_of}")
    if summary.batches:
        total = {op: sum(b[op] for b in summary.batches) for op in ("insert", "update", "delete")}
        out.print(
            f"Applied {len(summary.batches)} change batches, one transaction each: {total['insert']:,} inserts, "
            f"{total['update']:,} updates, {total['delete']:,} deletes"
        )
    for name, versions in summary.history.items():
        out.print(f"History of {name}: {versions:,} versions in {summary.output}.{name}_history")


@cli.command("ddl")
@click.option("-m", "--model", help=f"Model: {', '.join(api.model_names())}, or a model file (.yaml).")
@click.option("--dialect", default="duckdb", show_default=True, help="SQL dialect: duckdb, postgres or ansi.")
@click.option("--schema", "db_schema", metavar="NAME", help="Qualify the tables with this schema (and create it).")
@click.option("--tables", metavar="A,B", help="Only these tables (foreign keys to the others become comments).")
def ddl_command(model, dialect, db_schema, tables) -> None:
    """Print CREATE TABLE statements with primary and foreign keys."""
    model = _ask(model, "--model", f"Model ({'/'.join(api.model_names())} or a model file)", api.check_model)
    click.echo(api.ddl(model, dialect, tables, db_schema), nl=False)


@cli.command("plan")
@_dataset_options
def plan_command(model, size, fmt, seed, rows, tables, compression, row_group_size, chunk_rows) -> None:
    """Print the planned tables, rows and estimated bytes without writing anything."""
    seed_value, chunk_value, group_value = _numbers(seed, chunk_rows, row_group_size)
    model, size, fmt, pins = _ask_dataset(model, size, fmt, rows)
    _print_plan(api.plan(model, size, fmt, seed_value, chunk_value, pins, tables, compression, group_value))


@cli.command("models")
@click.argument("model_file", required=False, metavar="[MODEL_FILE]")
def list_models(model_file: str | None) -> None:
    """List the built-in models, or describe a model file: tables, row counts, columns and keys."""
    if model_file is not None:
        for line in api.describe_model(model_file):
            out.print(line, soft_wrap=True, markup=False, highlight=False)
        return
    for m in api.models():
        out.print(f"[bold]{m.name}[/bold] (aliases: {', '.join(m.aliases)}): {m.description}", soft_wrap=True)
        out.print(f"  {len(m.table_names)} tables: {', '.join(m.table_names)}", soft_wrap=True)


@cli.command("model-schema")
def model_schema_command() -> None:
    """Print the JSON Schema of model files (for editors: completion and checks as you type)."""
    import json

    click.echo(json.dumps(api.model_schema(), indent=2))


class _Dataset(click.ParamType):
    """A dataset directory or URL (``s3://bucket/prefix``, ``file:///abs/path``), checked by verify itself.

    A NUL byte is a usage error here: os.stat would raise ValueError on it.
    """

    name = "DIRECTORY|URL"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and "\x00" in value:
            self.fail("a path cannot contain a NUL byte", param, ctx)
        return os.fspath(value)


@cli.command("verify")
@click.argument("directory", type=_Dataset())
@click.option("--no-keys", is_flag=True, help="Only check the files against manifest.json (skip reading the data).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the problems.")
def verify_command(directory: str, no_keys: bool, quiet: bool) -> int:
    """Check a dataset (a directory or an fsspec URL such as s3://bucket/prefix): files against
    manifest.json (rows, bytes, checksum), then unique and resolving keys.

    Exit code 0 when everything holds, 1 otherwise.
    """
    report = api.verify(directory, keys=not no_keys)
    if not quiet:
        engine = "" if report.engine == "none" else f", keys checked with {report.engine}"
        files = f"{report.file_count} files"
        if report.format == "duckdb":  # one database file holds every table
            files = f"{report.file_count} database file, {len(report.files)} tables"
        out.print(
            f"verify {report.directory}: {report.model}, {report.format}, {files}{engine}", markup=False, soft_wrap=True
        )
        for line in report.checks:
            out.print(f"  ok      {line}", markup=False)
        for line in report.notes:
            out.print(f"  note    {line}", markup=False, soft_wrap=True)
    for line in report.problems:
        out.print(f"  FAILED  {line}", markup=False, soft_wrap=True)
    if report.ok:
        if not quiet:
            out.print("verify: OK")
        return 0
    n = len(report.problems)
    out.print(f"verify: FAILED ({n} problem{'' if n == 1 else 's'})")
    return 1


@cli.command("diagram")
@click.option("-m", "--model", help=f"Model: {', '.join(api.model_names())}, or a model file (.yaml).")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write FILE: .svg/.png/.pdf (needs Graphviz), .dot, or .mmd/.md (Mermaid). Default: print Mermaid.",
)
@click.option("--force", is_flag=True, help="Replace an existing FILE that gengo did not write.")
def diagram_command(model, output, force) -> None:
    """Print the model's entity-relationship diagram (Mermaid erDiagram), or write it to a file."""
    model = _ask(model, "--model", f"Model ({'/'.join(api.model_names())})", api.model_info)
    text = api.diagram(model, output, force)
    if output is None:
        click.echo(text, nl=False)
    else:
        out.print(_one_line(f"wrote {output}"), markup=False, soft_wrap=True)


def _parse_int(value: str, flag: str) -> int:
    try:
        return int(str(value).strip().replace("_", ""))
    except ValueError:
        raise GengoError(f"invalid {flag} '{value}': expected a whole number") from None


def _print_plan(plan) -> None:
    target = f"target {_fmt_bytes(plan.target_bytes)}" if plan.target_bytes else "sized by --rows"
    out.print(
        f"[bold]Plan[/bold]: {plan.model.name}, {plan.fmt.name} ({plan.options.codec(plan.fmt)}), "
        f"{target}, seed {plan.seed}",
        soft_wrap=True,
    )
    table = Table()
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("estimated size", justify="right")
    for t in plan.tables:
        table.add_row(t.name, f"{t.rows:,}", _fmt_bytes(t.estimated_bytes))
    table.add_row("total", f"{plan.total_rows:,}", _fmt_bytes(plan.estimated_bytes), style="bold")
    out.print(table)
    if plan.model.describe:
        out.print(plan.model.describe(plan.rows), soft_wrap=True)
    if plan.target_bytes and not plan.pins and plan.estimated_bytes > 1.05 * plan.target_bytes:
        err.print(
            f"note: the smallest {plan.model.name} dataset in {plan.fmt.name} is about "
            f"{_fmt_bytes(plan.estimated_bytes)} (its fixed-size tables alone exceed the target)",
            soft_wrap=True,
        )
    for name, wanted in plan.pins.items():
        if plan.rows[name] != wanted:
            err.print(
                f"note: {name} has {plan.rows[name]:,} rows, not {wanted:,}: its count follows from "
                "its parent table, so the nearest reachable count was used",
                soft_wrap=True,
            )


def _short(n: float) -> str:
    """Three significant digits and a unit (K, M, G, T): progress columns stay narrow at any size."""
    if n < 10_000:
        return f"{n:,.0f}"
    for unit in ("K", "M", "G", "T"):
        n /= 1000
        if n < 999.5 or unit == "T":
            return f"{n:.3g}{unit}" if n < 100 else f"{n:.0f}{unit}"
    return f"{n:.0f}T"


class _RowsColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{_short(task.completed)}/{_short(task.total or 0)} rows", style="progress.download")


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0
        nbytes = task.fields.get("bytes", 0)
        rate = nbytes / elapsed if elapsed > 0 else 0.0
        return Text(f"{_short(nbytes)}B {_short(rate)}B/s", style="progress.data.speed")


class _ProgressReporter:
    """Adapts the engine's callbacks to a Rich progress bar over all rows of the plan.

    One line that fits 80 columns: the numbers never wrap or get cut (the bar and, at worst, the
    table name give way), and they are short (7.65M rows, 300MB); the summary has them in full.
    """

    def __init__(self, plan) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis")),
            BarColumn(bar_width=None),
            _RowsColumn(table_column=Column(no_wrap=True)),
            _RateColumn(table_column=Column(no_wrap=True)),
            TextColumn("ETA", table_column=Column(no_wrap=True)),
            TimeRemainingColumn(table_column=Column(no_wrap=True)),
            console=out,
            transient=False,
        )
        self.task = self.progress.add_task("generating", total=plan.total_rows, bytes=0)
        self.bytes = 0

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def advance(self, table: str, rows: int, nbytes: int) -> None:
        self.bytes += nbytes
        self.progress.update(self.task, advance=rows, bytes=self.bytes, description=table)

    def table_done(self, result: api.TableResult) -> None:
        pass


def _print_summary(summary: api.Summary, seconds: float) -> None:
    table = Table(title=f"Wrote {summary.output}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("bytes", justify="right")
    table.add_column("seconds", justify="right")
    for r in summary.tables:
        table.add_row(r.path.name, f"{r.rows:,}", _fmt_bytes(r.bytes), f"{r.seconds:.2f}")
    table.add_row(
        "total",
        f"{summary.total_rows:,}",
        _fmt_bytes(summary.total_bytes),
        f"{summary.seconds:.2f}",
        style="bold",
    )
    out.print(table)
    ratio = f"; size {summary.total_bytes / summary.target_bytes:.1%} of target" if summary.target_bytes else ""
    if summary.reused:
        out.print(
            f"resumed: kept {len(summary.reused)} complete files of the previous run ({', '.join(summary.reused)})"
        )
    out.print(
        f"{summary.total_bytes / max(summary.seconds, 1e-9) / 1e6:,.1f} MB/s, "
        f"{summary.total_rows / max(summary.seconds, 1e-9):,.0f} rows/s{ratio}; total {seconds:.1f} s"
    )
    out.print(
        f"seed: {summary.seed} (repeat with --seed {summary.seed}); manifest: {_manifest_location(summary.output)}"
    )


def _manifest_location(output) -> str:
    return f"{output}/{api.MANIFEST}" if isinstance(output, str) else str(Path(output) / api.MANIFEST)


def _one_line(message: str) -> str:
    """Escape line breaks and other control characters (from user input) so an error stays one line."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode() for ch in message)


def _on_signal(signum: int, frame) -> None:
    """SIGINT / SIGTERM: unwind (workers stop, temporary files go); a second signal exits at once."""
    if getattr(_on_signal, "fired", False):
        os._exit(128 + signum)
    _on_signal.fired = True
    raise Interrupted(signum)


def _install_signal_handlers() -> dict:
    """Handlers for a direct call of ``main``; the ``gengo`` command's (``gengo.launch``) stay in place."""
    previous = {}
    if getattr(signal.getsignal(signal.SIGINT), "gengo_launch", False):
        return previous
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, _on_signal)
        except ValueError:  # not the main thread: leave signals alone
            break
    _on_signal.fired = False
    return previous


def _report_interrupt(exc: KeyboardInterrupt) -> int:
    code = exc.exit_code if isinstance(exc, Interrupted) else 130
    name = signal.Signals(code - 128).name if code - 128 in signal.Signals._value2member_map_ else "signal"
    finished = getattr(exc, "finished", ())
    pending = getattr(exc, "pending", ())
    if not finished and not pending:
        err.print(f"gengo: interrupted ({name})", markup=False)
        return code
    if not finished:  # nothing to resume: one line
        err.print(f"gengo: interrupted ({name}); temporary files removed, no table was complete", markup=False)
        return code
    err.print(f"gengo: interrupted ({name}); temporary files removed", markup=False)
    err.print(
        f"gengo: complete: {', '.join(finished)}; not written: {', '.join(pending) or 'none'}",
        markup=False,
        soft_wrap=True,
    )
    err.print(f"gengo: finish with the same command plus --resume (output {exc.output})", markup=False)
    return code


def main(argv: list[str] | None = None) -> int:
    """Console entry point: every failure becomes one line on stderr and a non-zero exit."""
    api.tune_process()  # planning (and --workers 1) build chunks in this process too
    previous = _install_signal_handlers()
    try:
        return _main(argv)
    finally:
        api.finish_prewarm()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(argv: list[str] | None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="gengo", standalone_mode=False)
    except click.exceptions.Abort as exc:
        cause = exc.__cause__ or exc.__context__  # click turns KeyboardInterrupt into Abort
        if isinstance(cause, KeyboardInterrupt):
            return _report_interrupt(cause)
        err.print("gengo: aborted")
        return 130
    except KeyboardInterrupt as exc:
        return _report_interrupt(exc)
    except click.exceptions.UsageError as exc:
        if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())) and exc.ctx:
            click.echo(exc.ctx.get_help())
            return 0
        err.print(f"gengo: error: {_one_line(exc.format_message())}", markup=False, soft_wrap=True)
        return 2
    except click.exceptions.ClickException as exc:
        err.print(f"gengo: error: {_one_line(exc.format_message())}", markup=False, soft_wrap=True)
        return exc.exit_code or 1
    except GengoError as exc:
        err.print(f"gengo: error: {_one_line(str(exc))}", markup=False, soft_wrap=True)
        return 1
    except OSError as exc:
        err.print(
            _one_line(f"gengo: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")),
            markup=False,
            soft_wrap=True,
        )
        return 1
    return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0


@cli.command("init")
@click.option(
    "--from", "source", required=True, metavar="SOURCE", help="A DDL file, postgresql://URL, SQLite or DuckDB file."
)
@click.option("-o", "--output", required=True, metavar="FILE", help="The model file to write (e.g. model.yaml).")
@click.option(
    "--dialect", metavar="D", help="SQL dialect of a DDL file: postgres (default), mysql, sqlite, duckdb, ..."
)
@click.option("--schema", "db_schema", metavar="NAME", help="Schema to read (PostgreSQL: public, DuckDB: main).")
@click.option("--stats", is_flag=True, help="Also read catalog statistics: row counts, null fractions, common values.")
@click.option("--sample-rows", metavar="N", help="Also read up to N rows per table (off unless given).")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def init_command(source, output, dialect, db_schema, stats, sample_rows, force) -> None:
    """Write a model file from an existing schema: tables, types, keys, references, checks."""
    sample = _parse_int(sample_rows, "--sample-rows") if sample_rows is not None else None
    for line in api.init(source, output, dialect, db_schema, stats, sample, force):
        out.print(line, markup=False, soft_wrap=True, highlight=False)
    out.print(
        _one_line(f"wrote {output}; next: gengo gen -m {output} -s 0.1 -f parquet -o out"), markup=False, soft_wrap=True
    )


if __name__ == "__main__":
    sys.exit(main())
