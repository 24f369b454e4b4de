"""DuckDB: one database file holding every table, with PRIMARY KEY and FOREIGN KEY constraints.

Workers hand over Arrow tables (as for Parquet); the parent appends them in chunk order with
``INSERT INTO t SELECT * FROM <arrow>``. Tables are loaded parents first (the plan orders
them so), which keeps every foreign key satisfiable at the moment DuckDB checks it.

The keys are declared in CREATE TABLE, before the load: DuckDB cannot add a FOREIGN KEY to an
existing table. DuckDB maintains an ART index per primary key and per foreign key column and
checks every inserted row, which makes the load several times slower than loading bare tables
and the file several times larger than its data (see the README).

The database is built under a temporary name (``.<model>.duckdb.gengo-tmp``) and renamed
into place once every table is loaded (``end_run``); a failed run removes it (``abort_run``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pyarrow as pa

from gengo.core.errors import GengoError
from gengo.formats import ddl
from gengo.formats.base import FormatBase, temp_path
from gengo.formats.ddl import quote
from gengo.formats.options import WriteOptions

_CHUNK_VIEW = "gengo_chunk"


def import_duckdb():
    """The duckdb module, or a one-line error naming the extra to install."""
    try:
        import duckdb
    except ImportError:
        raise GengoError("the duckdb format needs the duckdb package: pip install 'gengo-datagen[duckdb]'") from None
    return duckdb


def _remove_database(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _size(path: Path) -> int:
    total = 0
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            total += p.stat().st_size
    return total


class DuckDBSink:
    """Appends one table's chunks to the run's database (a connection per table)."""

    def __init__(self, path: Path, table: str) -> None:
        duckdb = import_duckdb()
        self.tmp = temp_path(path)
        self.table = table
        self._start = _size(self.tmp)
        try:
            self._con = duckdb.connect(str(self.tmp))
        except duckdb.Error as exc:
            raise GengoError(f"cannot open DuckDB database '{self.tmp}': {exc}") from exc
        self._insert = f"INSERT INTO {quote(table)} SELECT * FROM {_CHUNK_VIEW}"

    def add(self, payload: pa.Table) -> None:
        duckdb = import_duckdb()
        try:
            self._con.register(_CHUNK_VIEW, payload)
            self._con.execute(self._insert)
        except duckdb.Error as exc:
            raise GengoError(f"loading {self.table} into DuckDB failed: {str(exc).splitlines()[0]}") from exc
        finally:
            with contextlib.suppress(Exception):
                self._con.unregister(_CHUNK_VIEW)

    def bytes_written(self) -> int:
        return max(_size(self.tmp) - self._start, 0)

    def checksum(self) -> None:
        return None  # tables share one file: no per-table digest

    def commit(self) -> int:
        """Checkpoint (data and indexes into the file); the table's share of the file's growth."""
        self._con.execute("CHECKPOINT")
        self._con.close()
        return max(_size(self.tmp) - self._start, 0)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._con.close()


class DuckDBFormat(FormatBase):
    name = "duckdb"
    extension = "duckdb"
    database = True  # one file for every table: Plan.file_name is <model>.duckdb

    def encode(self, table: pa.Table, first: bool, options: WriteOptions, hints: dict | None = None) -> pa.Table:
        return table

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> DuckDBSink:
        return DuckDBSink(path, (hints or {})["table"])

    def file_bytes(self, table: pa.Table, options: WriteOptions, hints: dict | None) -> int:
        """Bytes a DuckDB file grows by to hold ``table``: its data and its key indexes.

        The sample goes into a scratch database with its primary key and an index per foreign
        key column (the index DuckDB builds for a FOREIGN KEY; the parent is not needed for it).
        """
        duckdb = import_duckdb()
        pk, fks = (hints or {}).get("keys", ((), ()))
        with tempfile.TemporaryDirectory(prefix="gengo-size-") as d:
            path = os.path.join(d, "sample.duckdb")
            con = duckdb.connect(path)
            try:
                con.execute("SET threads = 1")
                con.execute("CREATE TABLE empty_file (x INTEGER)")
                con.execute("CHECKPOINT")
                empty = os.path.getsize(path)  # the file's own header blocks are not the table's
                con.register(_CHUNK_VIEW, table)
                con.execute(f"CREATE TABLE sample AS SELECT * FROM {_CHUNK_VIEW}")
                if pk:
                    con.execute(f"ALTER TABLE sample ADD PRIMARY KEY ({', '.join(quote(c) for c in pk)})")
                for i, col in enumerate(fks):
                    con.execute(f"CREATE INDEX fk{i} ON sample ({quote(col)})")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            return max(os.path.getsize(path) - empty, 0)

    # Run-level steps, called by the pipeline (gengo.engine.pipeline) around the chunks.

    def begin_run(self, out: Path, plan) -> None:
        """Create the database (under its temporary name) with every table and its keys."""
        duckdb = import_duckdb()
        path = out / plan.file_name(plan.tables[0].name)
        tmp = temp_path(path)
        _remove_database(tmp)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # --force: the old database is replaced, never mixed with the new one
        names = [t.name for t in plan.tables]
        try:
            con = duckdb.connect(str(tmp))
            try:
                for statement in ddl.create_tables(plan.model, "duckdb", names):
                    con.execute(statement)
                con.execute("CHECKPOINT")
            finally:
                con.close()
        except duckdb.Error as exc:
            _remove_database(tmp)
            raise GengoError(f"cannot create DuckDB database '{tmp}': {str(exc).splitlines()[0]}") from exc

    def end_run(self, out: Path, plan) -> None:
        path = out / plan.file_name(plan.tables[0].name)
        os.replace(temp_path(path), path)

    def abort_run(self, out: Path, plan) -> None:
        _remove_database(temp_path(out / plan.file_name(plan.tables[0].name)))


DUCKDB = DuckDBFormat()
