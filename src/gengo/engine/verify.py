"""`gengo verify`: re-check a dataset against its manifest and its model's key constraints.

Two passes:

1. **Files against ``manifest.json``**: the run is complete (``"complete": true``), every file
   it lists is present, with the recorded size and checksum (BLAKE3; SHA-256 in older manifests).
2. **Data against the model**: every table's rows are counted by reading the file and must
   match the manifest; primary keys are non-null and unique; every non-null foreign key
   resolves to a row of its parent (when the parent table is part of the dataset).

The data pass uses DuckDB when it is installed (it streams and spills to disk, so it scales to
datasets larger than memory) and otherwise pyarrow, which reads only the key columns into
memory (8 bytes per key value). Both give the same report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from gengo.core.errors import GengoError
from gengo.core.schema import Model, Table
from gengo.formats import checksum
from gengo.formats.base import TEMP_SUFFIX
from gengo.formats.ddl import column_type, quote
from gengo.models import resolve_model

MANIFEST = "manifest.json"
PROGRESS = ".gengo-progress.json"


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
    directory: Path
    model: str
    format: str
    engine: str  # "duckdb", "pyarrow" or "none" (keys not checked)
    files: list[FileCheck] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # what passed, one line each
    problems: list[str] = field(default_factory=list)  # what failed, one line each, naming the file
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _fail(report: Report, check: FileCheck | None, message: str) -> None:
    report.problems.append(message)
    if check is not None:
        check.problems.append(message)


def load_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise GengoError(f"'{directory}' is not a directory")
    if not path.exists():
        if (directory / PROGRESS).exists():
            raise GengoError(
                f"'{directory}' holds an unfinished run (no {MANIFEST}, only {PROGRESS}); "
                "finish it with gengo gen ... --resume"
            )
        raise GengoError(f"no {MANIFEST} in '{directory}': not a dataset written by gengo")
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GengoError(f"cannot read '{path}': {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), list):
        raise GengoError(f"'{path}' is not a gengo manifest (no list of tables)")
    return doc


def verify(directory: str | Path, keys: bool = True, engine: str | None = None) -> Report:
    """Check ``directory`` against its manifest and (if ``keys``) its model's key constraints.

    ``engine`` forces "duckdb" or "pyarrow" for the data pass; by default DuckDB if importable.
    """
    directory = Path(directory).expanduser()
    doc = load_manifest(directory)
    try:
        model = resolve_model(str(doc.get("model")))
    except GengoError as exc:
        raise GengoError(f"{directory / MANIFEST}: {exc}") from exc
    fmt = str(doc.get("format"))
    if engine is None:
        engine = _default_engine() if keys else "none"
    report = Report(directory, model.name, fmt, engine if keys else "none")

    if doc.get("complete") is not True:
        _fail(report, None, f"{MANIFEST}: the run is not marked complete")
    leftovers = sorted(p.name for p in directory.glob(f".*{TEMP_SUFFIX}"))
    if leftovers:
        report.notes.append(f"temporary files present (a run in progress?): {', '.join(leftovers)}")

    entries = [e for e in doc["tables"] if isinstance(e, dict)]
    checks = [FileCheck(str(e.get("table")), str(e.get("file"))) for e in entries]
    report.files = checks
    known = set(model.table_names)
    present: list[tuple[dict, FileCheck]] = []
    for entry, check in zip(entries, checks, strict=True):
        path = directory / check.file
        if check.table not in known:
            _fail(report, check, f"{check.file}: table '{check.table}' is not in model {model.name}")
        elif not _inside(directory, path) or not path.is_file():
            _fail(report, check, f"{check.file}: missing")
        else:
            present.append((entry, check))

    def digest(item: tuple[dict, FileCheck]) -> tuple[int, tuple[str, str] | None, str | None]:
        path = directory / item[1].file
        found = checksum.recorded(item[0])
        return path.stat().st_size, found, checksum.file_checksum(path, found[0]) if found else None

    with ThreadPoolExecutor(4) as pool:  # the hashes release the GIL: files hash in parallel
        sums = list(pool.map(digest, present))
    for (entry, check), (size, found, digest_) in zip(present, sums, strict=True):
        if size != entry.get("bytes"):
            _fail(report, check, f"{check.file}: {size:,} bytes, the manifest says {_num(entry.get('bytes'))}")
        if found is None:
            report.notes.append(f"{check.file}: no checksum in the manifest (written by an older gengo)")
        elif digest_ != found[1]:
            _fail(report, check, f"{check.file}: {found[0]} {digest_[:16]}... differs from the manifest's")
    files_ok = sum(1 for c in checks if c.ok)
    if files_ok:
        report.checks.append(f"{files_ok} of {len(checks)} files match the manifest (present, bytes, checksum)")

    if keys:
        # A table is one file, or a directory of part files (each listed in the manifest).
        readable: dict[str, list[Path]] = {}
        expected: dict[str, object] = {}
        for entry, check in present:
            readable.setdefault(check.table, []).append(directory / check.file)
            rows = entry.get("rows")
            previous = expected.get(check.table, 0)
            expected[check.table] = previous + rows if isinstance(rows, int) and isinstance(previous, int) else rows
        by_table: dict[str, FileCheck] = {}
        for c in checks:
            by_table.setdefault(c.table, c)
        reader = _DuckReader(model, fmt) if engine == "duckdb" else _ArrowReader(model, fmt)
        _check_data(report, model, reader, readable, expected, by_table)
    return report


def _inside(directory: Path, path: Path) -> bool:
    """Manifest names stay inside the dataset directory (``table/part-00000.csv`` is fine)."""
    try:
        path.resolve().relative_to(directory.resolve())
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
    files: dict[str, list[Path]],
    expected: dict[str, object],
    by_table: dict[str, FileCheck],
) -> None:
    loaded: set[str] = set()
    for t in model.tables:
        if t.name not in files:
            continue
        check = by_table[t.name]
        try:
            rows = reader.load(t, files[t.name], _key_columns(model, t))
        except Exception as exc:  # any reader error is a finding about the file
            _fail(report, check, f"{check.file}: cannot be read: {_short(exc)}")
            continue
        loaded.add(t.name)
        check.rows = rows
        if rows != expected[t.name]:
            where = check.file if len(files[t.name]) == 1 else f"{t.name} ({len(files[t.name])} parts)"
            _fail(report, check, f"{where}: {rows:,} rows, the manifest says {_num(expected[t.name])}")
    counted = [by_table[n] for n in loaded if by_table[n].rows == expected[n]]
    if counted:
        report.checks.append(f"{len(counted)} tables have the manifest's row counts")

    pk_ok = fk_ok = 0
    for t in model.tables:
        if t.name not in loaded:
            continue
        check = by_table[t.name]
        if t.primary_key:
            dup, nulls = _guard(report, check, lambda t=t: reader.key_problems(t))
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
                report, check, lambda t=t, col=col, parent=parent, pcol=pcol: reader.orphans(t, col, parent, pcol)
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


def _guard(report: Report, check: FileCheck, fn: Callable[[], object]) -> tuple:
    try:
        value = fn()
    except Exception as exc:
        _fail(report, check, f"{check.file}: key check failed: {_short(exc)}")
        return None, None
    return value if isinstance(value, tuple) else (value, None)


class _Reader:
    def load(self, table: Table, paths: list[Path], columns: list[str]) -> int: ...

    def key_problems(self, table: Table) -> tuple[int, int]: ...

    def orphans(self, table: Table, col: str, parent: str, pcol: str) -> int: ...


def _duck_type(arrow_type: pa.DataType) -> str:
    return column_type(arrow_type, "duckdb")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _DuckReader(_Reader):
    """Views over the files; DuckDB streams them and spills to disk for the joins."""

    def __init__(self, model: Model, fmt: str) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.fmt = fmt

    def load(self, table: Table, paths: list[Path], columns: list[str]) -> int:
        files = "[" + ", ".join(_lit(str(p)) for p in paths) + "]"
        if self.fmt == "parquet":
            src = f"read_parquet({files})"
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


class _ArrowReader(_Reader):
    """Only the key columns, read into memory with pyarrow."""

    def __init__(self, model: Model, fmt: str) -> None:
        self.fmt = fmt
        self.tables: dict[str, pa.Table] = {}

    def load(self, table: Table, paths: list[Path], columns: list[str]) -> int:
        data = pa.concat_tables([self._read(table, p, columns) for p in paths])
        self.tables[table.name] = data
        return data.num_rows

    def _read(self, table: Table, path: Path, columns: list[str]) -> pa.Table:
        types = {c.name: c.type for c in table.columns}
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            data = pq.read_table(path, columns=columns)
        elif self.fmt == "csv":
            import pyarrow.csv as pcsv

            convert = pcsv.ConvertOptions(include_columns=columns, column_types={c: types[c] for c in columns})
            data = pcsv.read_csv(_text_stream(path), convert_options=convert)
        else:
            import pyarrow.json as pjson

            schema = pa.schema([pa.field(c, types[c]) for c in columns])
            parse = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
            data = pjson.read_json(_text_stream(path), parse_options=parse)
        return data

    def key_problems(self, table: Table) -> tuple[int, int]:
        import pyarrow.compute as pc

        data = self.tables[table.name].select(list(table.primary_key))
        nulls = 0
        for column in data.columns:
            nulls += column.null_count
        groups = data.group_by(list(table.primary_key)).aggregate([([], "count_all")])
        counts = groups.column("count_all")
        dup = pc.sum(pc.subtract(counts, 1)).as_py() or 0
        return int(dup), int(nulls)

    def orphans(self, table: Table, col: str, parent: str, pcol: str) -> int:
        import pyarrow.compute as pc

        child = self.tables[table.name].column(col).drop_null()
        keys = self.tables[parent].column(pcol).drop_null().unique()
        found = pc.is_in(child, value_set=keys)
        return int(len(child) - pc.sum(found.cast(pa.int64())).as_py()) if len(child) else 0


def _text_stream(path: Path):
    """A decompressing stream for .gz / .zst text (concatenated gzip members are read whole)."""
    name = path.name
    if name.endswith(".gz"):
        import gzip

        return pa.PythonFile(gzip.open(path, "rb"), mode="r")
    if name.endswith(".zst"):
        return pa.input_stream(str(path), compression="zstd")
    return str(path)
