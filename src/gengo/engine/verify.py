"""`gengo verify`: re-check a dataset against its manifest and its model's key constraints.

Two passes:

1. **Files against ``manifest.json``**: the run is complete (``"complete": true``), every file
   it lists is present, with the recorded size and checksum (BLAKE3; SHA-256 in older manifests).
2. **Data against the model**: every table's rows are counted by reading the file and must
   match the manifest; primary keys are non-null and unique; every non-null foreign key
   resolves to a row of its parent (when the parent table is part of the dataset).

A dataset is a local directory or an fsspec URL (``s3://bucket/prefix``; ``file://`` is local):
both are read through ``gengo.formats.storage.Output``, the layer that wrote them. Remote files
are hashed as a stream and the data pass reads them over the same fsspec file system.

The data pass uses DuckDB when it is installed (it streams and spills to disk, so it scales to
datasets larger than memory) and otherwise pyarrow, which reads only the key columns into
memory (8 bytes per key value). Both give the same report.

A DuckDB dataset is one database file holding every table (each manifest entry names it): the
file is checked once (against the manifest's ``"database"`` entry; older manifests recorded no
size or checksum for it) and its tables are queried in place, opened read-only.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq

from gengo.core.errors import GengoError
from gengo.core.schema import Model, Table
from gengo.engine.ledger import MANIFEST, PROGRESS
from gengo.formats import FORMATS, checksum
from gengo.formats.base import TEMP_SUFFIX
from gengo.formats.ddl import column_type, quote
from gengo.formats.duckdb import import_duckdb
from gengo.formats.storage import Output, is_url, local_path
from gengo.models import resolve_model

_BLOCK = 1 << 22  # bytes per read when hashing


@dataclass
class FileCheck:
    table: str
    file: str
    problems: list[str] = field(default_factory=list)
    rows: int | None = None  # counted by reading the file

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Report:
    directory: str  # the dataset as given: a directory or a URL
    model: str
    format: str
    engine: str  # "duckdb", "pyarrow" or "none" (keys not checked)
    files: list[FileCheck] = field(default_factory=list)  # one per manifest entry (a table or a part)
    checks: list[str] = field(default_factory=list)  # what passed, one line each
    problems: list[str] = field(default_factory=list)  # what failed, one line each, naming the file
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def file_count(self) -> int:
        """Distinct files (a DuckDB database is one file for every table)."""
        return len({f.file for f in self.files})


def _fail(report: Report, checks: FileCheck | list[FileCheck] | None, message: str) -> None:
    """One problem line; every check it concerns is marked failed."""
    report.problems.append(message)
    for check in checks if isinstance(checks, list) else [checks] if checks is not None else []:
        check.problems.append(message)


def _shown(directory: str | os.PathLike) -> str:
    return str(directory) if is_url(directory) else str(local_path(directory))


def load_manifest(directory: str | os.PathLike | Output, shown: str | None = None) -> dict:
    """The dataset's manifest; a one-line GengoError if there is none or it cannot be read."""
    out = directory if isinstance(directory, Output) else Output.of(directory)
    shown = shown or (out.root if isinstance(directory, Output) else _shown(directory))
    where = f"{shown.rstrip('/')}/{MANIFEST}" if out.remote else str(Path(shown) / MANIFEST)
    if not out.remote and not out.path.is_dir():
        raise GengoError(f"'{shown}' is not a directory")
    try:
        data = out.read_bytes(MANIFEST)
        unfinished = data is None and out.is_file(PROGRESS)
    except GengoError:
        raise
    except Exception as exc:  # OSError, or an object store's client error (credentials, endpoint)
        raise GengoError(f"cannot read '{where}': {_short(exc)}") from exc
    if data is None:
        if unfinished:
            raise GengoError(
                f"'{shown}' holds an unfinished run (no {MANIFEST}, only {PROGRESS}); "
                "finish it with gengo gen ... --resume"
            )
        raise GengoError(f"no {MANIFEST} in '{shown}': not a dataset written by gengo")
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise GengoError(f"cannot read '{where}': {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), list):
        raise GengoError(f"'{where}' is not a gengo manifest (no list of tables)")
    return doc


def verify(
    directory: str | os.PathLike, keys: bool = True, engine: str | None = None, storage_options: dict | None = None
) -> Report:
    """Check ``directory`` (a path or an fsspec URL) against its manifest and (if ``keys``) its model's keys.

    ``engine`` forces "duckdb" or "pyarrow" for the data pass; by default DuckDB if importable
    (always DuckDB for a DuckDB dataset). ``storage_options`` go to fsspec for a URL.
    """
    shown = _shown(directory)
    out = Output.of(directory, storage_options)
    if out.remote:
        out.fs[0].invalidate_cache()  # listings this process cached may predate the files
    doc = load_manifest(out, shown)
    try:
        text = doc.get("model_text")
        if isinstance(doc.get("model_file"), dict):
            name = str(doc["model_file"].get("path"))
            model = resolve_model(name, text if isinstance(text, str) else None)
        else:
            model = resolve_model(str(doc.get("model")))
    except GengoError as exc:
        raise GengoError(f"{out.join(MANIFEST) if out.remote else Path(shown) / MANIFEST}: {exc}") from exc
    fmt = str(doc.get("format"))
    database = fmt == "duckdb"  # one file holds every table
    if keys and (engine is None or database):
        engine = "duckdb" if database else _default_engine()
    report = Report(shown, model.name, fmt, engine if keys else "none")

    if doc.get("complete") is not True:
        pending = doc.get("pending")
        if isinstance(pending, str):  # the tables are written, what follows them is not
            _fail(report, None, f"{MANIFEST}: {pending} not written yet; finish with gengo gen ... --resume")
        else:
            _fail(report, None, f"{MANIFEST}: the run is not marked complete")
    with contextlib.suppress(Exception):  # a listing is only for this note
        leftovers = [n for n in out.listing() if n.startswith(".") and n.endswith(TEMP_SUFFIX)]
        if leftovers:
            report.notes.append(f"temporary files present (a run in progress?): {', '.join(leftovers)}")

    entries = [e for e in doc["tables"] if isinstance(e, dict)]
    checks = [FileCheck(str(e.get("table")), str(e.get("file"))) for e in entries]
    report.files = checks
    known = set(model.table_names)
    # The files to check, each with the manifest's record of its bytes and checksum: an entry's
    # own, or for a database the "database" entry (None in a manifest of an older gengo).
    users: dict[str, list[tuple[dict, FileCheck]]] = {}
    for entry, check in zip(entries, checks, strict=True):
        if check.table not in known:
            _fail(report, check, f"{check.file}: table '{check.table}' is not in model {model.name}")
        elif not _inside(out, check.file):
            _fail(report, check, f"{check.file}: not a file inside the dataset")
        else:
            users.setdefault(check.file, []).append((entry, check))
    records: dict[str, dict | None] = {}
    for name, used in users.items():
        records[name] = used[0][0]
        if database:
            record = doc.get("database")
            records[name] = record if isinstance(record, dict) else None
            if records[name] is not None and record.get("file") != name:
                _fail(report, [c for _, c in used], f"{name}: the manifest's database file is {record.get('file')!r}")
                del records[name]

    def probe(name: str) -> tuple[int, tuple[str, str] | None, str | None] | None:
        """None if the file is missing, else its size, the recorded checksum and the file's."""
        if not out.is_file(name):
            return None
        record = records[name]
        found = checksum.recorded(record) if record is not None else None
        return out.size(name), found, _digest(out, name, found[0]) if found else None

    names = list(records)
    with ThreadPoolExecutor(4) as pool:  # the hashes release the GIL: files hash in parallel
        results = list(pool.map(lambda n: _attempt(probe, n), names))
    readable: list[str] = []
    for name, result in zip(names, results, strict=True):
        mine = [c for _, c in users[name]]
        if result is None or isinstance(result, str):  # an object store's error is a finding about the file
            _fail(report, mine, f"{name}: missing" if result is None else f"{name}: cannot be read: {result}")
            continue
        readable.append(name)
        size, found, digest_ = result
        record = records[name]
        if record is None:
            report.notes.append(f"{name}: the manifest records no size or checksum for it (written by an older gengo)")
            continue
        if size != record.get("bytes"):
            _fail(report, mine, f"{name}: {size:,} bytes, the manifest says {_num(record.get('bytes'))}")
        if found is None:
            report.notes.append(f"{name}: no checksum in the manifest (written by an older gengo)")
        elif digest_ != found[1]:
            _fail(report, mine, f"{name}: {found[0]} {digest_[:16]}... differs from the manifest's")
    if database and not out.remote:
        for name in readable:
            if out.is_file(name + ".wal"):
                _fail(
                    report,
                    [c for _, c in users[name]],
                    f"{name}.wal: the database was changed after gengo wrote it (a write-ahead log is present)",
                )
    files_ok = sum(1 for name in records if all(c.ok for _, c in users[name]))
    if files_ok:
        what = "present" if database and any(r is None for r in records.values()) else "present, bytes, checksum"
        report.checks.append(f"{files_ok} of {len(records)} files match the manifest ({what})")
    _check_changes(out, report)

    if keys:
        # A table is one file, a directory of part files (each listed in the manifest), or a
        # table of the database file.
        files: dict[str, list[str]] = {}
        expected: dict[str, object] = {}
        for name in readable:
            for entry, check in users[name]:
                files.setdefault(check.table, []).append(name)
                rows = entry.get("rows")
                previous = expected.get(check.table, 0)
                both = isinstance(rows, int) and isinstance(previous, int)
                expected[check.table] = previous + rows if both else rows
        changed = doc.get("changes") if _table_format(fmt) is not None else None
        if isinstance(changed, dict) and isinstance(changed.get("rows"), dict):  # -f delta --batches
            # The parts are version 0; the tables are read at their latest version, the last batch's.
            expected.update({t: n for t, n in changed["rows"].items() if t in expected})
            report.notes.append(
                f"tables read at their latest version: the state after change batch {changed.get('batches')}"
            )
        by_table: dict[str, FileCheck] = {}
        for c in checks:
            by_table.setdefault(c.table, c)
        if database:
            if not readable:
                return report
            try:
                reader: _Reader = _DatabaseReader(out.path / readable[0])
            except Exception as exc:
                mine = [c for _, c in users[readable[0]]]
                _fail(report, mine, f"{readable[0]}: cannot be opened by DuckDB: {_short(exc)}")
                return report
        else:
            reader = _DuckReader(out, fmt, doc) if engine == "duckdb" else _ArrowReader(out, fmt, doc)
        try:
            _check_data(report, model, reader, files, expected, by_table, database)
        finally:
            reader.close()
    return report


CHANGES = f"changes/{MANIFEST}"


def _check_changes(out: Output, report: Report) -> None:
    """The batch and history files of ``--batches`` against ``changes/manifest.json``: present, with
    the recorded size and checksum (their rows are the batches' own, not the model's keys)."""
    try:
        data = out.read_bytes(CHANGES)
    except Exception as exc:
        _fail(report, None, f"{CHANGES}: cannot be read: {_short(exc)}")
        return
    if data is None:
        return
    try:
        info = json.loads(data)
    except ValueError as exc:
        _fail(report, None, f"{CHANGES}: not JSON: {exc}")
        return
    if not isinstance(info, dict) or info.get("complete") is False:
        _fail(report, None, f"{CHANGES}: the change batches are not complete; finish with gengo gen ... --resume")
        return
    entries = [e for e in [*info.get("files", ()), *info.get("history", ())] if isinstance(e, dict)]
    bad = 0
    for e in entries:
        name = e.get("file")
        if not isinstance(name, str) or not _inside(out, name):
            _fail(report, None, f"{CHANGES}: {name!r} is not a file inside the dataset")
            bad += 1
            continue
        found = checksum.recorded(e)
        try:
            size = out.size(name) if out.is_file(name) else None
            digest = _digest(out, name, found[0]) if size is not None and found else None
        except Exception as exc:
            _fail(report, None, f"{name}: cannot be read: {_short(exc)}")
            bad += 1
            continue
        problems = len(report.problems)
        if size is None:
            _fail(report, None, f"{name}: missing")
        elif size != e.get("bytes"):
            _fail(report, None, f"{name}: {size:,} bytes, {CHANGES} says {_num(e.get('bytes'))}")
        elif found is not None and digest != found[1]:
            _fail(report, None, f"{name}: {found[0]} {digest[:16]}... differs from {CHANGES}")
        bad += len(report.problems) > problems
    if entries and bad < len(entries):
        what = f"{info.get('batches')} batches" + (", history" if info.get("history") else "")
        report.checks.append(f"{len(entries) - bad} of {len(entries)} change files match {CHANGES} ({what})")


def _attempt(fn: Callable, *args):
    """``fn(*args)``, or the error as one short line."""
    try:
        return fn(*args)
    except Exception as exc:
        return _short(exc)


def _digest(out: Output, name: str, algorithm: str) -> str:
    """Hex digest of a file, streamed in blocks (an object is never downloaded whole)."""
    hasher = checksum.new_hasher(algorithm)
    with out.open_read(name) as f:
        while data := f.read(_BLOCK):
            hasher.update(data)
    return hasher.hexdigest()


def _inside(out: Output, name: str) -> bool:
    """Manifest names stay inside the dataset (``table/part-00000.csv`` is fine)."""
    if out.remote:
        parts = PurePosixPath(name).parts
        return bool(parts) and not name.startswith("/") and ".." not in parts
    try:
        (out.path / name).resolve().relative_to(out.path.resolve())
    except ValueError:
        return False
    return True


def _default_engine() -> str:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return "pyarrow"
    return "duckdb"


def _num(value) -> str:
    return f"{value:,}" if isinstance(value, int) else repr(value)


def _short(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    text = " ".join(lines[0].split())  # the first line: DuckDB adds the query after it
    return text if len(text) <= 200 else text[:197] + "..."


def _key_columns(model: Model, table: Table) -> list[str]:
    """Primary key, foreign keys and the columns other tables reference, in column order."""
    wanted = set(table.primary_key) | {col for col, _, _ in table.foreign_keys}
    for other in model.tables:
        wanted |= {pcol for _, parent, pcol in other.foreign_keys if parent == table.name}
    cols = [c.name for c in table.columns if c.name in wanted]
    return cols or [table.columns[0].name]


def _check_data(
    report: Report,
    model: Model,
    reader: _Reader,
    files: dict[str, list[str]],
    expected: dict[str, object],
    by_table: dict[str, FileCheck],
    database: bool = False,
) -> None:
    """Row counts, then keys. ``files``: each table's file names (for a database, the database file)."""
    loaded: set[str] = set()
    label: dict[str, str] = {}  # how a problem names the table's file
    for t in model.tables:
        if t.name not in files:
            continue
        check = by_table[t.name]
        n = len(files[t.name])
        if database:
            label[t.name] = f"{check.file}: table {t.name}"
        else:
            label[t.name] = check.file if n == 1 else f"{t.name} ({n} parts)"
        try:
            rows = reader.load(t, files[t.name], _key_columns(model, t))
        except _NotInDatabase:
            _fail(report, check, f"{label[t.name]} is missing from the database")
            continue
        except Exception as exc:  # any reader error is a finding about the file
            _fail(report, check, f"{label[t.name]}: cannot be read: {_short(exc)}")
            continue
        loaded.add(t.name)
        check.rows = rows
        if rows != expected[t.name]:
            where = f"{label[t.name]} has" if database else f"{label[t.name]}:"
            _fail(report, check, f"{where} {rows:,} rows, the manifest says {_num(expected[t.name])}")
    counted = [by_table[n] for n in loaded if by_table[n].rows == expected[n]]
    if counted:
        report.checks.append(f"{len(counted)} tables have the manifest's row counts")

    pk_ok = fk_ok = 0
    for t in model.tables:
        if t.name not in loaded:
            continue
        check = by_table[t.name]
        if t.primary_key:
            dup, nulls = _guard(report, check, lambda t=t: reader.key_problems(t), label[t.name])
            if dup is None:
                pass
            elif dup or nulls:
                _fail(
                    report,
                    check,
                    f"{t.name}: primary key ({', '.join(t.primary_key)}) has {dup:,} duplicated and "
                    f"{nulls:,} null values",
                )
            else:
                pk_ok += 1
        for col, parent, pcol in t.foreign_keys:
            if parent not in loaded:
                why = "not in the dataset" if parent not in files else "unreadable"
                report.notes.append(f"{t.name}.{col} -> {parent}.{pcol} not checked: {parent} is {why}")
                continue
            orphans, _ = _guard(
                report,
                check,
                lambda t=t, col=col, parent=parent, pcol=pcol: reader.orphans(t, col, parent, pcol),
                label[t.name],
            )
            if orphans is None:
                continue
            if orphans:
                _fail(report, check, f"{t.name}.{col}: {orphans:,} values missing from {parent}.{pcol}")
            else:
                fk_ok += 1
    if pk_ok:
        report.checks.append(f"{pk_ok} primary keys unique and non-null")
    if fk_ok:
        report.checks.append(f"{fk_ok} foreign keys resolve")


def _guard(report: Report, check: FileCheck, fn: Callable[[], object], where: str) -> tuple:
    try:
        value = fn()
    except Exception as exc:
        _fail(report, check, f"{where}: key check failed: {_short(exc)}")
        return None, None
    return value if isinstance(value, tuple) else (value, None)


class _Reader:
    def load(self, table: Table, names: list[str], columns: list[str]) -> int: ...

    def key_problems(self, table: Table) -> tuple[int, int]: ...

    def orphans(self, table: Table, col: str, parent: str, pcol: str) -> int: ...

    def close(self) -> None:
        pass


def _duck_type(arrow_type: pa.DataType) -> str:
    return column_type(arrow_type, "duckdb")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _duck_connect(database: str = ":memory:", read_only: bool = False):
    # Never download an extension (an s3:// path would otherwise fetch httpfs): files on an
    # object store are read through the fsspec file system registered on the connection.
    return import_duckdb().connect(database, read_only=read_only, config={"autoinstall_known_extensions": False})


def _table_format(fmt: str):
    found = FORMATS.get(fmt)
    return found if found is not None and found.table_format else None


def _by_value(doc: dict, table: Table) -> str | None:
    """The column whose value names a table's directories and is left out of its files (--partition-by)."""
    recorded = doc.get("partition_by")
    entry = recorded.get(table.name) if isinstance(recorded, dict) else None
    if isinstance(entry, dict) and entry.get("granularity") is None and entry.get("column") in table.schema.names:
        return str(entry["column"])
    return None


def _through_log(lake, out: Output, doc: dict, table: Table, names: list[str]):
    """A table format's table read as its log or metadata says (a pyarrow dataset), which must list
    exactly the parts the manifest records."""
    listed, dataset = lake.read_table(out, table.name, doc)
    if sorted(listed) != sorted(names):
        odd = sorted(set(listed) ^ set(names))
        raise ValueError(
            f"its {lake.name} log lists {len(listed)} files, the manifest {len(names)} ({odd[0] if odd else 'twice'})"
        )
    return dataset


class _DuckReader(_Reader):
    """Views over the files; DuckDB streams them and spills to disk for the joins."""

    def __init__(self, out: Output, fmt: str, doc: dict | None = None) -> None:
        self.con = _duck_connect()
        self.out = out
        self.fmt = fmt
        self.doc = doc or {}
        self.lake = _table_format(fmt)
        if out.remote:
            self.con.register_filesystem(out.fs[0])  # DuckDB reads the URLs through fsspec

    def load(self, table: Table, names: list[str], columns: list[str]) -> int:
        files = "[" + ", ".join(_lit(self.out.join(n)) for n in names) + "]"
        if self.lake is not None:  # through the table's log: DuckDB scans the pyarrow dataset (by its name here)
            table_dataset = _through_log(self.lake, self.out, self.doc, table, names)  # noqa: F841
            src = "table_dataset"
        elif self.fmt == "parquet":
            hive = ", hive_partitioning = true" if _by_value(self.doc, table) else ""  # the column is in the path
            src = f"read_parquet({files}{hive})"
        else:
            # Every column with its declared type, so the file is parsed exactly as written.
            cols = ", ".join(f"{_lit(c.name)}: {_lit(_duck_type(c.type))}" for c in table.columns)
            if self.fmt == "csv":
                src = f"read_csv({files}, header=true, auto_detect=false, columns={{{cols}}})"
            else:
                src = f"read_json({files}, format='newline_delimited', columns={{{cols}}})"
        select = ", ".join(quote(c) for c in columns)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(table.name)} AS SELECT {select} FROM {src}")
        return self.con.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0]

    def key_problems(self, table: Table) -> tuple[int, int]:
        pk = ", ".join(quote(c) for c in table.primary_key)
        name = quote(table.name)
        dup = self.con.execute(
            f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {name} GROUP BY {pk} HAVING n > 1)"
        ).fetchone()[0]
        nulls = self.con.execute(
            f"SELECT count(*) FROM {name} WHERE " + " OR ".join(f"{quote(c)} IS NULL" for c in table.primary_key)
        ).fetchone()[0]
        return int(dup), int(nulls)

    def orphans(self, table: Table, col: str, parent: str, pcol: str) -> int:
        return self.con.execute(
            f"SELECT count(*) FROM {quote(table.name)} c WHERE c.{quote(col)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {quote(parent)} p WHERE p.{quote(pcol)} = c.{quote(col)})"
        ).fetchone()[0]

    def close(self) -> None:
        self.con.close()


class _NotInDatabase(Exception):
    pass


class _DatabaseReader(_DuckReader):
    """The tables of a DuckDB database file, queried in place (opened read-only: nothing changes)."""

    def __init__(self, path: Path) -> None:
        self.con = _duck_connect(str(path), read_only=True)
        listed = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
        self.tables = {name for (name,) in listed}

    def load(self, table: Table, names: list[str], columns: list[str]) -> int:
        if table.name not in self.tables:
            raise _NotInDatabase(table.name)
        return self.con.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0]


class _ArrowReader(_Reader):
    """Only the key columns, read into memory with pyarrow."""

    def __init__(self, out: Output, fmt: str, doc: dict | None = None) -> None:
        self.out = out
        self.fmt = fmt
        self.doc = doc or {}
        self.lake = _table_format(fmt)
        self.tables: dict[str, pa.Table] = {}

    def load(self, table: Table, names: list[str], columns: list[str]) -> int:
        if self.lake is not None:
            data = _through_log(self.lake, self.out, self.doc, table, names).to_table(columns=columns)
        elif self.fmt == "parquet" and _by_value(self.doc, table):
            data = self._hive(table, names).to_table(columns=columns)
        else:
            data = pa.concat_tables([self._read(table, n, columns) for n in names])
        self.tables[table.name] = data
        return data.num_rows

    def _read(self, table: Table, name: str, columns: list[str]) -> pa.Table:
        types = {c.name: c.type for c in table.columns}
        with contextlib.ExitStack() as stack:
            # A local file by its path (pyarrow reads it natively), a remote one as a stream.
            source = stack.enter_context(self.out.open_read(name)) if self.out.remote else self.out.join(name)
            if self.fmt == "parquet":
                return pq.read_table(source, columns=columns)
            stream = _text_stream(source, name)
            if self.fmt == "csv":
                convert = pcsv.ConvertOptions(include_columns=columns, column_types={c: types[c] for c in columns})
                return pcsv.read_csv(stream, convert_options=convert)
            schema = pa.schema([pa.field(c, types[c]) for c in columns])
            parse = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
            return pjson.read_json(stream, parse_options=parse)

    def _hive(self, table: Table, names: list[str]):
        """Parquet files of a table split by a column's value (--partition-by): the value is in the path."""
        import pyarrow.dataset as ds

        column = _by_value(self.doc, table)
        key = pa.schema([pa.field(column, table.schema.field(column).type)])
        hive = ds.partitioning(key, flavor="hive")
        if self.out.remote:
            fs, _ = self.out.fs
            paths = [self.out.remote_path(n) for n in names]
            base = self.out.remote_path(table.name)
            return ds.dataset(paths, format="parquet", filesystem=fs, partitioning=hive, partition_base_dir=base)
        paths = [str(self.out.path / n) for n in names]
        return ds.dataset(
            paths, format="parquet", partitioning=hive, partition_base_dir=str(self.out.path / table.name)
        )

    def key_problems(self, table: Table) -> tuple[int, int]:
        data = self.tables[table.name].select(list(table.primary_key))
        nulls = 0
        for column in data.columns:
            nulls += column.null_count
        groups = data.group_by(list(table.primary_key)).aggregate([([], "count_all")])
        counts = groups.column("count_all")
        dup = pc.sum(pc.subtract(counts, 1)).as_py() or 0
        return int(dup), int(nulls)

    def orphans(self, table: Table, col: str, parent: str, pcol: str) -> int:
        child = self.tables[table.name].column(col).drop_null()
        keys = self.tables[parent].column(pcol).drop_null().unique()
        found = pc.is_in(child, value_set=keys)
        return int(len(child) - pc.sum(found.cast(pa.int64())).as_py()) if len(child) else 0


def _text_stream(source, name: str):
    """A decompressing stream for .gz / .zst text (concatenated gzip members are read whole).

    ``source`` is a local path or an open binary file (a remote object).
    """
    if name.endswith(".gz"):
        return pa.PythonFile(gzip.open(source, "rb"), mode="r")
    if isinstance(source, str):
        return pa.input_stream(source, compression="zstd") if name.endswith(".zst") else source
    stream = pa.PythonFile(source, mode="r")
    return pa.CompressedInputStream(stream, "zstd") if name.endswith(".zst") else stream
