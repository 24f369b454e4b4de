"""PostgreSQL: tables created in a schema, loaded with COPY, keys added after the load.

Workers encode each chunk as CSV (the same bytes as ``--format csv`` without the header); the
parent streams the chunks to the server with ``COPY ... FROM STDIN (FORMAT csv)`` through
psycopg 3, from a small pool of threads each holding its own connection, so several COPYs run
at once (one server process each). Nothing is written to disk on the client.

Run steps (called by ``gengo.api.load``):

- ``begin_run``: connect, refuse an existing schema (``force`` drops and recreates it, and
  nothing else), create the schema and bare tables in one transaction;
- the sinks: queue each chunk's COPY; chunks of a table may load in any order, rows carry
  their own keys;
- ``end_run``: wait for every COPY, add primary keys, then foreign keys (one ALTER TABLE per
  constraint, a child table's constraints on one connection, tables in parallel), ANALYZE;
- ``abort_run``: cancel what is queued and drop the schema it created, unless ``keep_partial``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from gengo.core.errors import GengoError
from gengo.formats import ddl
from gengo.formats.base import FormatBase
from gengo.formats.csv import CSV
from gengo.formats.ddl import quote
from gengo.formats.options import WriteOptions

_SCHEMA_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
# COPY streams at once. The server parses CSV in one process per stream; against a local server
# those processes share the CPUs with gengo's workers, so half the CPUs (measured on 2 cores:
# 1 stream 28 s, 2 streams 40 s for ecommerce at 1 GB).
DEFAULT_CONNECTIONS = max(1, min(4, (os.cpu_count() or 2) // 2))


def import_psycopg():
    """The psycopg module, or a one-line error naming the extra to install."""
    try:
        import psycopg
    except ImportError:
        raise GengoError("loading into PostgreSQL needs psycopg 3: pip install 'gengo-datagen[postgres]'") from None
    logger = logging.getLogger("psycopg")
    if _quiet_copy_end not in logger.filters:
        logger.addFilter(_quiet_copy_end)
    return psycopg


def _quiet_copy_end(record: logging.LogRecord) -> bool:
    """Drop psycopg's warning that ending a failed COPY failed too ("error ignored terminating
    <psycopg.Copy [BAD]>: the connection is lost"): the error that ended the COPY is raised
    anyway, and gengo reports it in one line. Every other psycopg message passes."""
    return not str(record.msg).startswith("error ignored terminating")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def default_schema(model: str) -> str:
    return model.replace("-", "_")


def check_schema_name(name: str) -> str:
    if not _SCHEMA_RE.match(name):
        raise GengoError(
            f"invalid schema name '{name}': use letters, digits and underscores (at most 63), not starting with a digit"
        )
    return name


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    psycopg = import_psycopg()
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the given URL"
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    user = f"{params['user']}@" if params.get("user") else ""
    return f"postgresql://{user}{host}:{port}/{params.get('dbname') or ''}"


def check_url(url: str) -> str:
    """Reject what is not a PostgreSQL URL before any connection attempt."""
    psycopg = import_psycopg()
    if not re.match(r"^postgres(ql)?://", url or ""):
        raise GengoError(f"invalid --db URL '{url}': expected postgresql://user@host:port/database")
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise GengoError(f"invalid --db URL: {_first_line(exc)}") from None
    port = str(params.get("port") or "")
    if port and not all(p.isdigit() for p in port.split(",")):
        raise GengoError(f"invalid --db URL: port '{port}' is not a number")
    return url


def connect(url: str):
    psycopg = import_psycopg()
    params = psycopg.conninfo.conninfo_to_dict(url)
    timeout = {} if "connect_timeout" in params else {"connect_timeout": 10}
    try:
        return psycopg.connect(url, autocommit=True, application_name="gengo", **timeout)
    except psycopg.Error as exc:
        raise GengoError(f"cannot connect to PostgreSQL at {describe_url(url)}: {_first_line(exc)}") from None


def preflight(url: str, schema: str, force: bool) -> None:
    """Fail fast (before planning): the server answers and the schema is free (or ``force``)."""
    check_url(url)
    check_schema_name(schema)
    with connect(url) as con:
        exists = con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if exists and not force:
        raise GengoError(_exists_message(url, schema))


def _exists_message(url: str, schema: str) -> str:
    return (
        f"schema '{schema}' already exists in {describe_url(url)}; "
        "use --force to drop and recreate it, or --schema to choose another"
    )


class PostgresSink:
    """One table's chunks: each becomes a COPY queued on the target's connection pool."""

    def __init__(self, target: PostgresTarget, table: str) -> None:
        self.target = target
        self.table = table
        self._bytes = 0

    def add(self, payload: bytes) -> None:
        self.target.submit(self.table, payload)
        self._bytes += len(payload)

    def bytes_written(self) -> int:
        return self._bytes

    def checksum(self) -> None:
        return None

    def commit(self) -> int:
        return self._bytes  # the COPYs finish in the background; end_run waits for all of them

    def abort(self) -> None:
        pass


class PostgresTarget(FormatBase):
    """The ``postgres`` format; configured with a URL and schema for a load (``gengo.api.load``).

    The unconfigured instance in ``FORMATS`` is what workers use to encode. ``--size`` is sized
    as ``--format csv`` (``sizes_as``): the same size and seed load exactly the rows the CSV
    files would hold (what is streamed is that CSV text without its header rows).
    """

    name = "postgres"
    extension = "postgres"
    database = True
    server = True  # nothing is written into an output directory
    sizes_as = "csv"  # planned with the CSV format's samples and measured bytes

    def __init__(
        self,
        url: str | None = None,
        schema: str | None = None,
        force: bool = False,
        keep_partial: bool = False,
        connections: int = DEFAULT_CONNECTIONS,
    ) -> None:
        self.url = url
        self.schema = schema
        self.force = force
        self.keep_partial = keep_partial
        self.connections = max(1, connections)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()
        self._local = threading.local()
        self._open: list = []
        self._lock = threading.Lock()
        self._created = False
        self._columns: dict[str, str] = {}

    # Worker side and sizing: CSV without a header.

    def encode(self, table: pa.Table, first: bool, options: WriteOptions, hints: dict | None = None) -> bytes:
        return CSV.encode_plain(table, False) if len(table) else b""

    def choose_hints(self, sample: pa.Table, options: WriteOptions) -> dict | None:
        return None

    def unit_rows(self, options: WriteOptions, hints: dict | None = None) -> int | None:
        return None

    def file_bytes(self, table: pa.Table, options: WriteOptions, hints: dict | None) -> int:
        return len(self.encode(table, False, options))

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> PostgresSink:
        return PostgresSink(self, (hints or {})["table"])

    # Parent side.

    def _connection(self):
        con = getattr(self._local, "con", None)
        if con is None:
            con = connect(self.url)
            con.execute("SET synchronous_commit = off")
            con.execute("SET maintenance_work_mem = '256MB'")
            self._local.con = con
            with self._lock:
                self._open.append(con)
        return con

    def _copy(self, table: str, payload: bytes) -> None:
        if not payload:
            return
        psycopg = import_psycopg()
        sql = f"COPY {quote(self.schema)}.{quote(table)} ({self._columns[table]}) FROM STDIN (FORMAT csv)"
        try:
            with self._connection().cursor() as cur, cur.copy(sql) as copy:
                copy.write(payload)
        except psycopg.Error as exc:
            raise GengoError(f"COPY into {self.schema}.{table} failed: {_first_line(exc)}") from None

    def _execute(self, statements: list[str]) -> None:
        psycopg = import_psycopg()
        con = self._connection()
        for sql in statements:
            try:
                con.execute(sql)
            except psycopg.Error as exc:
                raise GengoError(f"{sql.split(' ADD ')[0]}: {_first_line(exc)}") from None

    def _raise_failed(self, wait_for_all: bool = False) -> None:
        while self._pending and (wait_for_all or self._pending[0].done()):
            self._pending.popleft().result()

    def submit(self, table: str, payload: bytes) -> None:
        assert self._pool is not None, "begin_run first"
        self._raise_failed()
        while len(self._pending) >= 2 * self.connections:  # bounded memory: wait for the oldest COPY
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._copy, table, payload))

    def _parallel(self, jobs: list[list[str]]) -> None:
        futures = [self._pool.submit(self._execute, job) for job in jobs if job]
        errors = []
        for f in futures:
            try:
                f.result()
            except GengoError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def begin_run(self, out: Path, plan) -> None:
        if not self.url:
            raise GengoError("the postgres format needs a database URL: --db postgresql://user@host:port/database")
        check_url(self.url)
        check_schema_name(self.schema)
        psycopg = import_psycopg()
        names = [t.name for t in plan.tables]
        self._columns = {
            t.name: ", ".join(quote(c.name) for c in plan.model.table(t.name).columns) for t in plan.tables
        }
        con = connect(self.url)
        try:
            exists = con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)).fetchone()
            if exists and not self.force:
                raise GengoError(_exists_message(self.url, self.schema))
            with con.transaction():
                if exists:
                    con.execute(f"DROP SCHEMA {quote(self.schema)} CASCADE")
                con.execute(f"CREATE SCHEMA {quote(self.schema)}")
                for statement in ddl.create_tables(plan.model, "postgres", names, self.schema, inline_keys=False):
                    con.execute(statement)
            self._created = True
        except psycopg.Error as exc:
            raise GengoError(f"cannot create schema '{self.schema}': {_first_line(exc)}") from None
        finally:
            con.close()
        self._pool = ThreadPoolExecutor(self.connections, thread_name_prefix="gengo-copy")

    def end_run(self, out: Path, plan) -> None:
        self._raise_failed(wait_for_all=True)
        names = [t.name for t in plan.tables]
        self._parallel([[s] for s in ddl.primary_key_statements(plan.model, names, self.schema)])
        by_child: dict[str, list[str]] = {}
        for s in ddl.foreign_key_statements(plan.model, names, self.schema):
            by_child.setdefault(s.split(" ADD ")[0], []).append(s)
        self._parallel(list(by_child.values()))
        self._parallel([[f"ANALYZE {quote(self.schema)}.{quote(n)}"] for n in names])
        self._close()

    def abort_run(self, out: Path, plan) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for con in list(self._open):  # stop running COPYs: their connections are closed below
            with contextlib.suppress(Exception):
                con.cancel_safe(timeout=5) if hasattr(con, "cancel_safe") else con.cancel()
        self._close()
        if self._created and not self.keep_partial:
            with contextlib.suppress(Exception), connect(self.url) as con:
                con.execute(f"DROP SCHEMA IF EXISTS {quote(self.schema)} CASCADE")
            self._created = False

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._lock:
            for con in self._open:
                with contextlib.suppress(Exception):
                    con.close()
            self._open.clear()


POSTGRES = PostgresTarget()
