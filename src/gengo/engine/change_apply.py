"""Change batches applied to PostgreSQL (``gen --db URL --batches N``, ``--as-of K``).

After the base load (COPY, then keys), each batch is one transaction of real row-level
statements, as logical replication and CDC tools want to see them: every changing table's events
are copied into a temporary table (``ON COMMIT DROP``, never replicated), then

1. ``DELETE ... USING`` the deletes, children's tables before their parents',
2. ``UPDATE ... FROM`` the updates (every non-key column set to the row after the event),
3. ``INSERT ... SELECT`` the inserts, parents' tables before their children's, in event-time order,

so every foreign key holds when each statement ends (updates never touch keys or references). Each
statement must touch exactly the rows its events name, or the batch is rolled back with one line:
the database was not the state the batch follows. The events come from the worker pool as for
files (``change_blocks.run_batches``, CSV as COPY reads it). ``--as-of K`` loads the snapshot
instead: unchanged tables as the base, the others' blocks generated in their state after batch K.

``--history`` adds ``<table>_history`` tables (``engine.history``: the table's columns plus
``valid_from``, ``valid_to``, ``is_current``; primary key: the table's plus ``valid_from``) for the
dimensions with updates, computed by the same walk as the events and copied in after the last
batch, in one transaction of their own: the rows of ``history/<table>_history.<ext>``.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path

from gengo.core.errors import GengoError
from gengo.engine import history as hist
from gengo.engine.change_blocks import ChangeJob, run_batches, write_as_of
from gengo.engine.pool import Pool
from gengo.engine.results import Progress, TableResult
from gengo.engine.spool import remove_spool, spool_directory
from gengo.engine.tables import execute as write_tables
from gengo.engine.worker import Job
from gengo.formats.ddl import column_type, ordered_tables, quote

EXTRA = (("_op", "text"), ("_batch", "integer"), ("_ts", "timestamptz"))  # a batch file's columns after the row


def _job(p, batches: int, history: tuple[str, ...] = ()) -> ChangeJob:
    return ChangeJob(Job.of(p.model, "postgres", p.seed, p.rows, p.options, {}), batches, history=history)


def load_as_of(p, out: Path, workers: int, batches: int, k: int, progress: Progress | None) -> list[TableResult]:
    """The tables of plan ``p`` as they are after batch k, through the plan's PostgreSQL target
    (between its ``begin_run`` and ``end_run``): unchanged tables as the base loads them."""
    cj = _job(p, batches)
    ch = cj.changes()
    names = [t.name for t in p.tables]
    changing = [n for n in names if ch.changing(n)]
    results = write_tables(p, out, workers, progress, skip=set(changing))
    started = time.perf_counter()
    with Pool(workers) as pool:
        for name, rows, size, _ in write_as_of(pool, cj, changing, k, lambda n: out / n, p.fmt):
            result = TableResult(name, out / name, rows, size, time.perf_counter() - started)
            results.append(result)
            if progress:
                progress.advance(name, rows, size)
                progress.table_done(result)
    return results


def apply_batches(p, url: str, schema: str, workers: int, batches: int, history: bool = False) -> list[dict]:
    """Batches 1..``batches`` applied to ``schema`` (loaded with the base), one transaction each;
    returns per batch the rows inserted, updated and deleted. ``history``: then the ``<table>_history``
    tables (the last item: ``{"history": {table: versions}}``)."""
    from gengo.formats.postgres import _first_line, connect, import_psycopg

    psycopg = import_psycopg()
    names = [t.name for t in p.tables]
    wanted = hist.history_tables(p.model, names) if history else []
    for name in wanted:
        if f"{name}_history" in p.model.table_names:
            raise GengoError(f"--history: model {p.model.name} has a table {name}_history already")
    cj = _job(p, batches, tuple(wanted))
    ch = cj.changes()
    tables = [t for t in ordered_tables(p.model, names) if ch.changing(t.name)]
    for t in tables:
        if not t.primary_key:
            raise GengoError(f"--db --batches: table {t.name} has no primary key to apply updates and deletes by")
    local = Path(tempfile.mkdtemp(prefix="gengo-batches-"))
    spool = spool_directory(local)
    versions = dict.fromkeys(wanted, 0)

    def keep_history(table: str, payload, rows: int = 0) -> None:  # blocks in key order: CSV for COPY
        with open(local / f"history-{table}.csv", "ab") as f:
            f.write(payload)
        versions[table] += rows

    try:
        with Pool(workers) as pool:
            files = run_batches(
                pool,
                cj,
                [t.name for t in tables],
                spool,
                lambda n, b: spool / f"batch-{b}-{n}.csv",
                "postgres",
                keep_history if wanted else None,
            )
        paths = {(f.table, f.batch): Path(f.path) for f in files}
        applied = []
        with connect(url) as con:
            for b in range(1, batches + 1):
                try:
                    with con.transaction():
                        applied.append(_apply(con, schema, tables, b, paths))
                except psycopg.Error as exc:
                    raise GengoError(f"applying batch {b} to schema {schema}: {_first_line(exc)}") from None
                for t in tables:
                    with contextlib.suppress(OSError):
                        paths[(t.name, b)].unlink()
            if wanted:
                try:
                    with con.transaction():
                        for name in wanted:
                            _load_history(con, schema, p.model.table(name), local / f"history-{name}.csv")
                except psycopg.Error as exc:
                    raise GengoError(f"loading the history tables into schema {schema}: {_first_line(exc)}") from None
                applied.append({"history": versions})
            for t in tables:
                con.execute(f"ANALYZE {quote(schema)}.{quote(t.name)}")
        return applied
    finally:
        remove_spool(spool, local)
        shutil.rmtree(local, ignore_errors=True)


def _apply(con, schema: str, tables: list, b: int, paths: dict) -> dict:
    """One batch inside the caller's transaction: events copied, then deletes, updates, inserts."""
    temp: dict[str, str] = {}
    wanted: dict[str, dict[str, int]] = {}
    for i, t in enumerate(tables):
        temp[t.name] = name = quote(f"gengo_batch_{i}")
        target = f"{quote(schema)}.{quote(t.name)}"
        con.execute(f"CREATE TEMP TABLE {name} (LIKE {target}) ON COMMIT DROP")
        con.execute(f"ALTER TABLE {name} " + ", ".join(f"ADD COLUMN {quote(c)} {kind}" for c, kind in EXTRA))
        columns = ", ".join(quote(c) for c in [*(c.name for c in t.columns), *(c for c, _ in EXTRA)])
        payload = paths[(t.name, b)].read_bytes()
        if payload:
            with con.cursor().copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(payload)
        rows = con.execute(f'SELECT "_op", count(*) FROM {name} GROUP BY "_op"').fetchall()
        wanted[t.name] = dict(rows)
    done = {"batch": b, "insert": 0, "update": 0, "delete": 0}

    def run(sql: str, t, op: str) -> None:
        n = con.execute(sql).rowcount
        if n != wanted[t.name].get(op, 0):
            raise GengoError(
                f"applying batch {b} to {schema}.{t.name}: {op} touched {n} rows, the batch has "
                f"{wanted[t.name].get(op, 0)} (the schema is not the state this batch follows)"
            )
        done[op] += n

    for t in reversed(tables):  # children's deletes first
        if wanted[t.name].get("delete"):
            sql = f"DELETE FROM {_target(schema, t)} USING {temp[t.name]} e WHERE e._op = 'delete' AND {_key(t)}"
            run(sql, t, "delete")
    for t in tables:
        rest = [c.name for c in t.columns if not c.primary_key]
        if wanted[t.name].get("update") and rest:
            sets = ", ".join(f"{quote(c)} = e.{quote(c)}" for c in rest)
            sql = f"UPDATE {_target(schema, t)} SET {sets} FROM {temp[t.name]} e WHERE e._op = 'update' AND {_key(t)}"
            run(sql, t, "update")
    for t in tables:  # parents' inserts first
        if wanted[t.name].get("insert"):
            columns = ", ".join(quote(c.name) for c in t.columns)
            run(
                f"INSERT INTO {quote(schema)}.{quote(t.name)} ({columns}) SELECT {columns} FROM {temp[t.name]} "
                "WHERE _op = 'insert' ORDER BY _ts",
                t,
                "insert",
            )
    return done


def _target(schema: str, t) -> str:
    return f"{quote(schema)}.{quote(t.name)} AS r"


def _key(t) -> str:
    return " AND ".join(f"r.{quote(c)} = e.{quote(c)}" for c in t.primary_key)


def _load_history(con, schema: str, t, path: Path) -> None:
    """``<table>_history`` created (the history file's columns, the key plus ``valid_from``) and filled."""
    fields = hist.schema(t)
    target = f"{quote(schema)}.{quote(t.name + '_history')}"
    lines = [f"{quote(f.name)} {column_type(f.type, 'postgres')}{'' if f.nullable else ' NOT NULL'}" for f in fields]
    key = ", ".join(quote(c) for c in [*t.primary_key, "valid_from"])
    con.execute(f"CREATE TABLE {target} ({', '.join(lines)}, PRIMARY KEY ({key}))")
    if path.is_file() and path.stat().st_size:
        columns = ", ".join(quote(f.name) for f in fields)
        with con.cursor().copy(f"COPY {target} ({columns}) FROM STDIN (FORMAT csv)") as copy, open(path, "rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
