"""The ledger of a run's output: what is there, what may be replaced, what was written.

One ledger serves every layout (one file per table, ``<table>/part-NNNNN`` parts, a DuckDB
file) on a local directory or an fsspec URL alike (``formats.storage.Output``):

- **checks** before anything is written: the output is a directory, empty or holding a gengo
  run that ``--force`` may replace or ``--resume`` may finish (same parameters);
- **a lock** (local outputs): one run at a time per directory, a second one is refused naming
  the first's process id;
- **the progress file** ``.gengo-progress.json``, rewritten after every file that is complete,
  so an interrupted run can be resumed; files of the previous run that are complete and
  unchanged are kept, everything else gengo wrote before is removed or rewritten;
- **the manifest** ``manifest.json``, written last: rows, bytes and checksum of every file.
  A run is complete exactly when it exists and says ``"complete": true``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from gengo._version import __version__
from gengo.core.errors import GengoError
from gengo.engine.plan import Plan
from gengo.formats import checksum, ddl, hive
from gengo.formats.base import SPOOL_PREFIX, TEMP_SUFFIX
from gengo.formats.storage import Output

MANIFEST = "manifest.json"
SCHEMA_SQL = "schema.sql"  # CREATE TABLE statements with the keys (DuckDB / ANSI dialect)
PROGRESS = ".gengo-progress.json"  # an unfinished run: its parameters and the files already complete
LOCK = ".gengo-lock"  # held (flock) by the run writing into a local directory; holds its process id
_OWN_FILES = (MANIFEST, SCHEMA_SQL, PROGRESS)
_NOT_DATA = (LOCK,)  # present in a directory without making it "not empty"
# Names gengo gives the files it writes: <table>.<ext>[.gz|.zst], <model>.duckdb, <table>/part-00000.<ext>
# and <table>/<key>=<value>/part-00000.<ext> (--partition-by).
_DATA_NAME = re.compile(
    r"^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[a-z0-9]+){1,2}$|^[A-Za-z0-9_]+/([A-Za-z0-9_]+=[^/\x00-\x1f]+/)?part-\d{5,}(\.[a-z0-9]+){1,2}$"
)
_OBJECT_STORES = ("s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl")
PENDING = "pending"  # a manifest's note of what a run has still to write after its tables
_RESULT_KEYS = (
    *("total_rows", "total_bytes", "complete", "tables", "libraries", "run", "model_text", "quality"),
    "changes",  # -f delta --batches: the batches committed after the run
    PENDING,
)


@dataclass(frozen=True)
class Entry:
    """One complete file of the run, as the progress file and the manifest record it."""

    table: str
    file: str  # relative to the output root
    rows: int
    bytes: int
    checksum: str | None
    part: int | None = None  # the part's index (partitioned layout)

    def to_json(self, database: bool = False) -> dict:
        """``database``: the tables share one file, whose size and checksum the manifest records once."""
        doc: dict[str, Any] = {"table": self.table}
        if self.part is not None:
            doc["part"] = self.part
        if database:
            doc.update(file=self.file, rows=self.rows, bytes_in_database=self.bytes)
            return doc
        doc.update(file=self.file, rows=self.rows, bytes=self.bytes)
        doc[checksum.ALGORITHM] = self.checksum
        return doc


@dataclass(frozen=True)
class PriorRun:
    """A gengo run found in the output: its parameters and the files it completed."""

    complete: bool
    run: dict
    files: list[dict]

    @property
    def seed(self) -> int | None:
        seed = self.run.get("seed")
        return seed if isinstance(seed, int) and not isinstance(seed, bool) else None

    def own_files(self) -> list[str]:
        """The data files this run wrote (names checked: a manifest never makes gengo delete other files)."""
        names = (e.get("file") for e in self.files if isinstance(e, dict))
        return sorted({n for n in names if isinstance(n, str) and ".." not in n and _DATA_NAME.match(n)})


def identity(p: Plan) -> dict:
    """The plan's settings that the bytes depend on, as both the manifest and a resume record them."""
    doc = {
        "gengo_version": __version__,
        "model": p.model.name,
        "format": p.fmt.name,
        "seed": p.seed,
        "target_bytes": p.target_bytes,
        "rows_overrides": p.pins,
        "compression": p.options.codec(p.fmt),
        "row_group_size": p.options.row_group_rows if p.fmt.row_groups else None,
        "planned_rows": p.rows,
    }
    if p.partitioning is not None:
        doc.update(layout="parts", parts=p.partitioning.parts, part_bytes=p.partitioning.part_bytes)
    if p.partition_by:  # table -> Hive key: the file names depend on it
        doc["partition_by"] = hive.to_json(p.partition_by)
    table_format = p.fmt.identity(p) if p.fmt.table_format else None
    if table_format is not None:  # where the tables are registered (an Iceberg catalog, its namespace)
        doc["table_format"] = table_format
    if p.model.file is not None:  # the checksum makes a resume with an edited model file refuse
        doc["model_file"] = {"path": p.model.file.path, "sha256": p.model.file.sha256}
    return doc


def parameters(p: Plan) -> dict:
    """What the bytes of a run depend on; a resume must match them exactly (JSON types)."""
    return json.loads(json.dumps({**identity(p), "tables": [t.name for t in p.tables]}))


# The libraries the bytes depend on (recorded in the manifest).
LIBRARIES = ("numpy", "pyarrow", "polars", "faker", "exchange-calendars", "zipcodes", "tzdata")


def _library_versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[lib] = metadata.version(lib)
    return out


def manifest(p: Plan, entries: list[Entry], database: dict | None = None) -> dict:
    """What a run wrote; deterministic (no timings), so reruns produce the same manifest.

    A database format (one file holding every table) records that file once, under ``"database"``
    (``{"file", "bytes", "blake3"}``), and each table's share of it as ``bytes_in_database``.
    """
    doc = {
        **identity(p),
        "total_rows": sum(e.rows for e in entries),
        "total_bytes": database["bytes"] if database else sum(e.bytes for e in entries),
        "complete": True,
        "tables": [e.to_json(database is not None) for e in entries],
        "libraries": _library_versions(),
    }
    if database:
        doc["database"] = database
    if p.model.quality_counts is not None:  # how many defects a test of a pipeline should find
        written = {t.name for t in p.tables}
        doc["quality"] = {t: c for t, c in p.model.quality_counts(p.seed, p.rows).items() if t in written}
    if p.model.file is not None:  # verify and diagram need the model without the file at hand
        doc["model_text"] = p.model.file.text
    return doc


def _read_json(text: str | None) -> dict | None:
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def read_previous(out: Output) -> PriorRun | None:
    """The gengo run recorded in ``out`` (a finished one's manifest wins over a progress file)."""
    doc = _read_json(out.read_text(MANIFEST))
    if doc and doc.get("complete") is True and isinstance(doc.get("tables"), list):
        run = {k: v for k, v in doc.items() if k not in _RESULT_KEYS}
        tables = [e.get("table") for e in doc["tables"] if isinstance(e, dict)]
        run["tables"] = list(dict.fromkeys(tables))  # parts: one entry per part
        return PriorRun(True, run, doc["tables"])
    progress = _read_json(out.read_text(PROGRESS))
    if progress and isinstance(progress.get("run"), dict) and isinstance(progress.get("files"), list):
        return PriorRun(False, progress["run"], progress["files"])
    return None


def mark_pending(root: Path, what: str) -> dict:
    """Before the tables of a complete run are replaced (``--as-of``): its manifest says it is not
    complete, naming ``what``; returns the manifest as written."""
    doc = {**json.loads((root / MANIFEST).read_text()), "complete": False, PENDING: what}
    _write_json(root / MANIFEST, doc)
    return doc


def complete_pending(root: Path) -> None:
    """What ``finish(pending=...)`` left to do is written: the manifest says ``"complete": true``
    from now on, and the progress file goes."""
    doc = json.loads((root / MANIFEST).read_text())
    doc.pop(PENDING, None)
    _write_json(root / MANIFEST, {**doc, "complete": True})
    with contextlib.suppress(FileNotFoundError):
        (root / PROGRESS).unlink()


def _write_json(path: Path, doc: dict) -> None:
    """Written whole or not at all (a temporary file renamed over it): a reader never sees half."""
    tmp = path.with_name(f".{path.name}{TEMP_SUFFIX}")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


def _describe_difference(before: dict, now: dict) -> str:
    for key in sorted(now, key=lambda k: k == "planned_rows"):  # row counts follow from the rest: last
        a, b = before.get(key), now[key]
        if a == b:
            continue
        if key == "model_file" and isinstance(a, dict) and isinstance(b, dict):
            if a.get("sha256") != b.get("sha256"):
                old = str(a.get("sha256"))[:12]
                return f"used model file {a.get('path')} as it was before it changed (SHA-256 {old}...)"
            return f"used model file {a.get('path')}, not {b.get('path')}"
        if key == "layout":
            return "wrote one file per table, not parts" if a is None else "wrote parts, not one file per table"
        if key == "planned_rows" and isinstance(a, dict):
            for table in b:
                if a.get(table) != b.get(table):
                    return f"planned {a.get(table)} rows of {table}, not {b.get(table)} (same --size and --rows?)"
        return f"used {key.replace('_', ' ')} {json.dumps(a)}, not {json.dumps(b)}"
    return "was made differently"


def _where(out: Output) -> str:
    return f"output '{out.root}'" if out.remote else f"output directory '{out.root}'"


def check_output(out: Output, force: bool, resume: bool) -> PriorRun | None:
    """The checks that need no plan (so they come before planning): returns the gengo run found there.

    Refused: a path that is a file; a non-empty output without ``force`` (or ``resume`` of a gengo
    run); ``resume`` where there is nothing to resume; an output another run is writing now.
    """
    if force and resume:
        raise GengoError("give --resume or --force, not both")
    if not out.remote and out.path.exists() and not out.path.is_dir():
        raise GengoError(f"output path '{out.root}' exists and is not a directory")
    try:
        entries = [e for e in out.listing() if e not in _NOT_DATA]
    except OSError as exc:
        raise GengoError(f"cannot read {_where(out)}: {exc.strerror or exc}") from exc
    except GengoError:
        raise
    except Exception as exc:  # object-store clients raise their own errors (credentials, endpoint)
        raise GengoError(f"cannot read {_where(out)}: {exc}") from exc
    _check_not_locked(out)
    prior = read_previous(out) if entries else None
    if resume and prior is None:
        what = "it does not exist" if not entries and not out.exists() else "it holds no gengo run"
        raise GengoError(f"nothing to resume in {_where(out)}: {what}; leave out --resume to start a new run")
    if entries and not force and not resume:
        if prior is not None and not prior.complete:
            raise GengoError(
                f"{_where(out)} holds an interrupted gengo run ({len(prior.files)} files complete); "
                "use --resume to finish it, or --force to start over"
            )
        raise GengoError(
            f"{_where(out)} is not empty ({len(entries)} entries); use --force to replace the files gengo writes there"
        )
    return prior


def _check_not_locked(out: Output) -> None:
    if out.remote or not (out.path / LOCK).exists():
        return
    try:
        fd = os.open(out.path / LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise GengoError(_in_use_message(out, fd)) from None
    finally:
        os.close(fd)


def _in_use_message(out: Output, fd: int) -> str:
    pid = ""
    with contextlib.suppress(OSError):
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return f"{_where(out)} is in use by another gengo run (process {pid or '?'}); wait for it or stop it first"


class Ledger:
    """Checks, progress file, lock and manifest of one run writing ``plan`` into ``out``."""

    def __init__(self, plan: Plan, out: Output) -> None:
        self.plan = plan
        self.out = out
        self.entries: list[Entry] = []
        self.params = parameters(plan)
        self._lock_fd: int | None = None
        self._created: list[str] = []  # directories this run made (removed again if it leaves nothing)

    @property
    def where(self) -> str:
        return _where(self.out)

    # Before writing: checks that change nothing.

    def previous(self) -> PriorRun | None:
        return read_previous(self.out)

    def check(self, force: bool, resume: bool) -> PriorRun | None:
        """Refuse an output that is a file or holds other data (unless ``force``).

        Returns the previous gengo run found there: the one ``resume`` finishes, or the one whose
        files ``force`` replaces.
        """
        prior = check_output(self.out, force, resume)
        if resume and prior is not None and prior.run != self.params:
            seed = prior.run.get("seed")
            hint = f" (add --seed {seed})" if seed != self.params["seed"] else ""
            raise GengoError(
                f"cannot resume in '{self.out.root}': that run {_describe_difference(prior.run, self.params)}{hint}; "
                "give the same options, or use --force instead of --resume to start over"
            )
        if not self.out.remote:
            for name in self._final_names():
                target = self.out.path / name
                if target.exists() and not target.is_file():
                    raise GengoError(f"cannot replace '{target}': it is not a regular file")
        return prior

    def _final_names(self) -> set[str]:
        p = self.plan
        if p.partitioning is not None:
            return set(_OWN_FILES)
        return {p.file_name(t.name) for t in p.tables} | set(_OWN_FILES)

    # Writing.

    def open(self) -> None:
        """Create the output (and table directories for parts), take the lock, prove it is writable."""
        out, p = self.out, self.plan
        dirs = [t.name for t in p.tables] if p.partitioning is not None else []
        if out.remote:
            fs, _ = out.fs
            protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
            if not set(protocols) & set(_OBJECT_STORES):  # object stores have no directories (and buckets are not ours)
                for d in dirs:
                    fs.makedirs(out.remote_path(d), exist_ok=True)
            return
        try:
            if not out.path.exists():
                self._created.append("")
            out.path.mkdir(parents=True, exist_ok=True)
            self._lock()
            for d in dirs:
                if not (out.path / d).exists():
                    self._created.append(d)
                (out.path / d).mkdir(exist_ok=True)
            probe = out.path / f".gengo-probe-{os.getpid()}{TEMP_SUFFIX}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            self._remove_created()
            raise GengoError(f"cannot write to {self.where}: {exc.strerror or exc}") from exc

    def _lock(self) -> None:
        path = self.out.path / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = _in_use_message(self.out, fd)
            os.close(fd)
            raise GengoError(message) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def release(self) -> None:
        """Drop the lock (and its file: it is only a token while a run lives)."""
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            (self.out.path / LOCK).unlink()
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)
        self._lock_fd = None

    def reusable(self, prior: PriorRun | None) -> list[Entry]:
        """Files of ``prior`` that this plan writes identically: present, same size and checksum.

        Remote files are not read back, so only those whose entry has today's checksum algorithm
        are kept (an older gengo's entry could not be carried over unread). A database file is
        always rebuilt. A part split by value (--partition-by) is kept whole or not at all.
        """
        if prior is None or self.plan.fmt.database:
            return []
        units, wanted = self.units(), self.wanted()
        groups: dict[tuple[str, int | None], list[Entry]] = {}
        spoiled: set[tuple[str, int | None]] = set()
        for e in prior.files:
            unit = self._unit_of(e, wanted, units)
            if unit is None:
                continue
            entry = self._unchanged(e, *unit)
            if entry is None:
                spoiled.add(unit)
            else:
                groups.setdefault(unit, []).append(entry)
        kept = []
        for unit, entries in groups.items():
            if unit not in spoiled and sum(e.rows for e in entries) == units[unit]:
                kept.extend(entries)
        return kept

    def _unit_of(self, e: object, wanted: dict, units: dict) -> tuple[str, int | None] | None:
        """The (table, part) of this plan that a prior run's manifest entry ``e`` belongs to, if any."""
        if not isinstance(e, dict) or not isinstance(e.get("file"), str):
            return None
        if e["file"] in wanted:
            table, part, rows = wanted[e["file"]]
            return (table, part) if e.get("table") == table and e.get("rows") == rows else None
        p, name = self.plan, e["file"]
        table = name.split("/", 1)[0]
        key = p.partition_by.get(table)
        if key is None or e.get("table") != table or not isinstance(e.get("part"), int) or ".." in name:
            return None
        ext = re.escape(f"{p.fmt.extension}{p.options.suffix(p.fmt)}")
        if not re.fullmatch(rf"{re.escape(table)}/{re.escape(key.key)}=[^/]*/part-{e['part']:05d}\.{ext}", name):
            return None
        return (table, e["part"]) if (table, e["part"]) in units and isinstance(e.get("rows"), int) else None

    def _unchanged(self, e: dict, table: str, part: int | None) -> Entry | None:
        """``e`` as an entry of this run if its file is there unchanged, else None."""
        found = checksum.recorded(e)
        if found is None:
            return None
        digest = None
        try:
            if self.out.remote:
                fs, _ = self.out.fs
                if found[0] == checksum.ALGORITHM and fs.size(self.out.remote_path(e["file"])) == e.get("bytes"):
                    digest = found[1]
            else:
                path = self.out.path / e["file"]
                if path.is_file() and path.stat().st_size == e.get("bytes"):
                    digest = checksum.unchanged(path, e)
        except Exception:
            digest = None
        return None if digest is None else Entry(table, e["file"], e["rows"], e["bytes"], digest, part)

    def wanted(self) -> dict[str, tuple[str, int | None, int]]:
        """Every data file of the plan whose name is known before it is written: name -> (table,
        part index or None, rows). Tables split by value (--partition-by) have no such names."""
        p = self.plan
        if p.partitioning is None:
            return {p.file_name(t.name): (t.name, None, t.rows) for t in p.tables}
        out = {}
        for t in p.tables:
            if t.name in p.partition_by:
                continue
            for i, (a, b) in enumerate(p.part_ranges(t)):
                out[p.part_name(t.name, i)] = (t.name, i, b - a)
        return out

    def units(self) -> dict[tuple[str, int | None], int]:
        """What the plan writes, file by file or (parts) part by part: (table, part index or None) -> rows."""
        p = self.plan
        if p.partitioning is None:
            return {(t.name, None): t.rows for t in p.tables}
        return {(t.name, i): b - a for t in p.tables for i, (a, b) in enumerate(p.part_ranges(t))}

    def complete_units(self) -> set[tuple[str, int | None]]:
        """The units whose files are all recorded (a part is recorded with all its files at once)."""
        return {(e.table, e.part) for e in self.entries}

    def clean(self, prior: PriorRun | None, keep: list[Entry]) -> None:
        """Remove temporary files, and the files of ``prior`` that are not kept (replaced or stale)."""
        kept = {e.file for e in keep}
        dirs = {""} | {t.name for t in self.plan.tables}
        if prior is not None:
            for name in prior.own_files():
                if name not in kept:
                    self._remove(name)
                    if "/" in name:
                        dirs.add(name.split("/", 1)[0])
                    if name.count("/") == 2 and not self.out.remote:  # a --partition-by directory left empty
                        with contextlib.suppress(OSError):
                            (self.out.path / name).parent.rmdir()
            self._remove(SCHEMA_SQL)
        self.remove_temporary(dirs)
        if not self.out.remote and prior is not None:  # table directories of an older run that are now empty
            planned = {t.name for t in self.plan.tables} if self.plan.partitioning is not None else set()
            for d in dirs - planned - {""}:
                with contextlib.suppress(OSError):
                    (self.out.path / d).rmdir()

    def remove_temporary(self, dirs: set[str] | None = None) -> None:
        """gengo's temporary files (``.*.gengo-tmp``, spooled chunks) in the root and table directories."""
        if dirs is None:
            dirs = {""} | {t.name for t in self.plan.tables}
        if not self.out.remote:  # --partition-by: the value directories of the tables too
            for d in list(dirs):
                if d and (self.out.path / d).is_dir():
                    dirs |= {f"{d}/{e.name}" for e in os.scandir(self.out.path / d) if e.is_dir() and "=" in e.name}
        for d in sorted(dirs):
            try:
                names = self.out.files_under(d) if d else self._root_files()
            except Exception:
                continue
            for name in names:
                if name.startswith(".") and name.endswith(TEMP_SUFFIX) or name.startswith(SPOOL_PREFIX):
                    self._remove(f"{d}/{name}" if d else name)

    def _root_files(self) -> list[str]:
        if self.out.remote:
            return self.out.files_under("")
        return sorted(e.name for e in os.scandir(self.out.path) if e.is_file()) if self.out.path.is_dir() else []

    def _remove(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.out.remove(name)

    def start(self, kept: list[Entry]) -> None:
        """Record the run as unfinished: progress file first, then the old manifest goes."""
        self.entries = list(kept)
        try:
            self._save()
        except GengoError:
            raise
        except Exception as exc:
            raise GengoError(f"cannot write to {self.where}: {getattr(exc, 'strerror', None) or exc}") from exc
        self._remove(MANIFEST)

    def record(self, *entries: Entry) -> None:
        """Files complete (all those of one part together), saved in the progress file."""
        self.entries.extend(entries)
        self._save()

    def _save(self) -> None:
        doc = {"complete": False, "run": self.params, "files": [e.to_json() for e in self.entries]}
        self.out.write_text(PROGRESS, json.dumps(doc, indent=2) + "\n")

    def finish(self, pending: str | None = None) -> None:
        """schema.sql and the manifest (last: from then on the run is complete).

        ``pending``: what is still to be written after the tables (the change batches or an
        as-of snapshot): the manifest then says ``"complete": false`` and names it, and the
        progress file stays, so an interruption before ``complete_pending`` leaves a run that
        ``--resume`` finishes and ``verify`` refuses, never one that looks done."""
        p = self.plan
        order = {name: i for i, name in enumerate(p.model.table_names)}
        self.entries.sort(key=lambda e: (order[e.table], e.part or 0, e.file))
        names = {e.file for e in self.entries}
        missing = [n for n in self.wanted() if n not in names]
        by_value = Counter()
        for e in self.entries:
            if e.table in p.partition_by:
                by_value[(e.table, e.part)] += e.rows
        missing += [
            f"{t} part {i}" for (t, i), n in self.units().items() if t in p.partition_by and by_value[(t, i)] != n
        ]
        if missing and not p.fmt.database:  # never report success with a file missing
            raise GengoError(f"internal error: {', '.join(missing[:3])} were not written")
        database = None
        if p.fmt.database and self.entries and not self.out.remote:
            path = self.out.path / self.entries[0].file
            digest = checksum.file_checksum(path)
            database = {"file": path.name, "bytes": path.stat().st_size, checksum.ALGORITHM: digest}
        doc = manifest(p, self.entries, database)
        if pending is not None:
            doc = {**doc, "complete": False, PENDING: pending}
        try:
            self.out.write_text(SCHEMA_SQL, ddl.ddl(p.model, "duckdb", [t.name for t in p.tables]))
            self.out.write_text(MANIFEST, json.dumps(doc, indent=2) + "\n")
        except Exception as exc:
            raise GengoError(
                f"cannot write '{self.out.join(MANIFEST)}': {getattr(exc, 'strerror', None) or exc} "
                "(all data files are complete; rerun with --resume to write the manifest)"
            ) from exc
        if pending is None:
            self._remove(PROGRESS)
        self.release()

    def abandon(self) -> None:
        """After a failure: temporary files go; with nothing complete, the output is left as it was."""
        self.remove_temporary()
        if not self.entries:
            self._remove(PROGRESS)
        self.release()  # before the clean-up below: the lock file would keep the directory non-empty
        if not self.entries:
            self._remove_created()

    def _remove_created(self) -> None:
        if self.out.remote:
            return
        for d in sorted(self._created, reverse=True):  # table directories before the root
            if d == "":
                continue
            with contextlib.suppress(OSError):
                (self.out.path / d).rmdir()
        if "" in self._created:
            self.release()
            with contextlib.suppress(OSError):
                self.out.path.rmdir()  # only succeeds if nothing is left
