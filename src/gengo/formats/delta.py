"""Delta Lake: each table a Delta table at ``<out>/<table>/``, made of gengo's Parquet parts.

The parts are exactly the ``-f parquet --parts`` files (same bytes, written by the workers).
Once every part of the run is complete, each table gets its transaction log in one commit
(version 0) through ``deltalake`` (delta-rs): ``convert_to_deltalake`` registers the files in
place, reading only their footers for the per-file statistics, so no data is rewritten (about
10 ms per table). Before the first part is written, a log left by an earlier run is removed, so
an interrupted run never leaves a table that claims files it lacks; a resumed run commits again
from scratch, which adds every file exactly once.

With ``--batches N`` each change batch is then one more commit per table (``commit_batch``):
version k of every table is its state after batch k (a MERGE on the primary key, or an empty
commit for a table the batch leaves alone), each commit marked with its batch (``gengo.batch`` in
the commit info). The marks tell a resumed run which batches a table has (never one twice), and
tell a later run which data files gengo's batch commits wrote (``prepare_tables`` removes those,
never another writer's). A resumed run whose parts are all kept keeps the log (``committed``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from gengo.core.errors import GengoError
from gengo.formats.parquet import ParquetFormat

LOG = "_delta_log"
BATCH = "gengo.batch"  # commit info of a change batch's commit: the batch it applied
_COMMIT = re.compile(r"(\d{20})\.json")
_PART = re.compile(r"part-\d{5,}(\.[a-z0-9]+){1,2}")  # the run's own parts (``Plan.part_name``)
PENDING = "_gengo_pending.json"  # in a table's directory while a batch commit is under way: the files before it


def import_deltalake():
    try:
        import deltalake
    except ImportError:
        raise GengoError("-f delta needs deltalake: pip install 'gengo-datagen[delta]'") from None
    return deltalake


def table_uri(out: Any, table: str) -> str:
    return out.join(table)


def storage_options(out: Any) -> dict[str, str] | None:
    """delta-rs reads object-store credentials from the environment (AWS_*); a plain-HTTP endpoint
    (an S3-compatible test server) must be allowed explicitly."""
    if not out.remote:
        return None
    opts = {k: str(v) for k, v in out.storage_options.items() if isinstance(v, str | int | bool)}
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "") or str(out.storage_options.get("endpoint_url", ""))
    if endpoint:
        opts.setdefault("AWS_ENDPOINT_URL", endpoint)
        if endpoint.startswith("http://"):
            opts.setdefault("AWS_ALLOW_HTTP", "true")
    opts.setdefault("AWS_S3_ALLOW_UNSAFE_RENAME", "true")  # one writer per table: gengo's lock-free commit
    return opts


def remove_tree(out: Any, relative: str) -> None:
    """Remove a directory of the output (a log, table metadata) if it is there."""
    if out.remote:
        fs, _ = out.fs
        with contextlib.suppress(FileNotFoundError):
            fs.rm(out.remote_path(relative), recursive=True)
        return
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(out.path / relative)


def partition_schema(deltalake: Any, plan: Any, table: str) -> Any:
    """The Delta partition column of a --partition-by table (its key, typed), or None.

    A table partitioned by a column's value has that column as its partition column (the files
    leave it out, as Hive does); by a date's day, month or year, the key is an extra column of the
    table (``order_timestamp_month``, text), its value only in the log and the directory names.
    """
    import pyarrow as pa

    key = plan.partition_by.get(table)
    if key is None:
        return None
    column_type = plan.model.table(table).schema.field(key.column).type
    return deltalake.Schema.from_arrow(pa.schema([pa.field(key.key, key.key_type(column_type))]))


class DeltaFormat(ParquetFormat):
    name = "delta"
    table_format = True
    sized_as = "parquet"
    escaped_partition_values = False  # delta-rs reads a %XX in a directory name as the character: names differ

    def check_tables(self, out: Any, plan: Any, force: bool, resume: bool) -> None:
        import_deltalake()

    def prepare_tables(self, out: Any, plan: Any) -> None:
        for t in plan.model.tables:  # every table's: a --force run over other tables removes their parts too
            remove_batch_files(out, t.name)
            remove_tree(out, f"{t.name}/{LOG}")

    def committed(self, out: Any, plan: Any, files: dict[str, list[str]]) -> bool:
        """Whether every table's log is there with version 0 listing exactly ``files`` and only gengo's
        batch commits after it: a resumed run that keeps every part keeps the log (and its batches)."""
        deltalake = import_deltalake()
        for t in plan.tables:
            try:
                commits = batch_commits(out, t.name)
                dt = deltalake.DeltaTable(table_uri(out, t.name), version=0, storage_options=storage_options(out))
                listed = _listed(dt, t.name)
            except Exception:
                return False
            if sorted(listed) != sorted(files.get(t.name, [])) or any(commits[v][0] != v for v in commits if v):
                return False
        return True

    def commit_tables(self, out: Any, plan: Any, files: dict[str, list[str]]) -> None:
        deltalake = import_deltalake()
        for t in plan.tables:
            uri, wanted = table_uri(out, t.name), sorted(files.get(t.name, []))
            remove_tree(out, f"{t.name}/{LOG}")  # a resumed run's earlier commit: committed again, once
            try:
                partitions = partition_schema(deltalake, plan, t.name)
                deltalake.convert_to_deltalake(
                    uri,
                    partition_by=partitions,
                    partition_strategy="hive" if partitions is not None else None,
                    storage_options=storage_options(out),
                    name=t.name,
                )
                listed, _ = self.read_table(out, t.name, {})
            except GengoError:
                raise
            except Exception as exc:
                remove_tree(out, f"{t.name}/{LOG}")
                raise GengoError(f"cannot commit Delta table {t.name} at '{uri}': {exc}") from exc
            if sorted(listed) != wanted:  # never a table claiming other files than the run wrote
                remove_tree(out, f"{t.name}/{LOG}")
                extra = sorted(set(listed) - set(wanted)) or sorted(set(wanted) - set(listed))
                raise GengoError(f"Delta table {t.name}: the log would list {extra[0]!r}, not the run's parts")

    def read_table(self, out: Any, table: str, manifest: dict) -> tuple[list[str], Any]:
        """The files of version 0 (the run's parts) and the latest version's rows; versions after 0
        must be gengo's change batches 1..N, N as the manifest records (``"changes"``)."""
        deltalake = import_deltalake()
        dt = deltalake.DeltaTable(table_uri(out, table), storage_options=storage_options(out))
        version = dt.version()
        if version == 0:
            return _listed(dt, table), dt.to_pyarrow_dataset()
        marks = {h.get("version"): h.get(BATCH) for h in dt.history()}
        odd = [v for v in range(1, version + 1) if marks.get(v) != str(v)]
        if odd:
            raise ValueError(f"version {odd[0]} of its log is not gengo's change batch {odd[0]}")
        recorded = manifest.get("changes") if isinstance(manifest.get("changes"), dict) else {}
        if recorded.get("batches") != version:
            raise ValueError(
                f"its log has {version} change batches, the manifest records {recorded.get('batches', 0)} "
                "(an unfinished --batches run? finish it with --resume)"
            )
        base = deltalake.DeltaTable(table_uri(out, table), version=0, storage_options=storage_options(out))
        return _listed(base, table), dt.to_pyarrow_dataset()


def _listed(dt: Any, table: str) -> list[str]:
    """The data files of a table version, relative to the output (the log's paths are URIs)."""
    import pyarrow as pa

    paths = pa.table(dt.get_add_actions(flatten=True)).column("path").to_pylist()  # relative to the table
    return [f"{table}/{unquote(p)}" for p in paths]


def batch_commits(out: Any, table: str) -> dict[int, tuple[int | None, list[str]]]:
    """The table's commits, read from its log: version -> (the change batch a gengo batch commit
    applied, else None; the data files the commit added, relative to the table). {} without a log."""
    log = f"{table}/{LOG}"
    found: dict[int, tuple[int | None, list[str]]] = {}
    for name in out.files_under(log):
        match = _COMMIT.fullmatch(name)
        if match is None:
            continue
        batch, added = None, []
        for line in (out.read_text(f"{log}/{name}") or "").splitlines():
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                action = json.loads(line)
                if "commitInfo" in action:
                    mark = action["commitInfo"].get(BATCH)
                    batch = int(mark) if isinstance(mark, str) and mark.isdigit() else None
                elif "add" in action:
                    added.append(unquote(action["add"]["path"]))
        found[int(match.group(1))] = (batch, added)
    return found


def remove_unfinished(out: Any, table: str) -> None:
    """The data files of a batch commit that never happened (a kill during its MERGE): in the table's
    directory now, not when the commit began (``PENDING`` lists those), and added by no commit."""
    text = out.read_text(f"{table}/{PENDING}")
    if text is None:
        return
    with contextlib.suppress(ValueError, TypeError):
        before = set(json.loads(text)["files"])
        listed = {name for _, added in batch_commits(out, table).values() for name in added}
        for name in out.files_under(table):
            if name not in before and name not in listed and name != PENDING and name.endswith(".parquet"):
                out.remove(f"{table}/{name}")
    out.remove(f"{table}/{PENDING}")


def remove_batch_files(out: Any, table: str) -> None:
    """The data files gengo's batch commits added to the table (the log says which), and those of one
    that never happened: a new run's log would otherwise claim them. Other writers' files and the
    run's parts stay."""
    remove_unfinished(out, table)
    for batch, added in batch_commits(out, table).values():
        if batch is None:
            continue
        for name in added:
            if name and "/" not in name and ".." not in name and not _PART.fullmatch(name):  # never a run's part
                out.remove(f"{table}/{name}")


def commit_batch(
    out: Any, table: str, key: Sequence[str], columns: Sequence[str], events: Any, batch: int
) -> dict[str, int]:
    """Change batch ``batch`` applied to the Delta table in one commit, marked with the batch:
    ``events`` (the batch file's rows: full columns plus ``_op``) merged on the primary key ``key``
    (delete, update every other column, insert; appended when the batch only inserts), or an empty
    commit when there is none, so that version k is the state after batch k for every table.
    Returns the rows deleted, updated and inserted."""
    from deltalake.transaction import CommitProperties

    deltalake = import_deltalake()
    options = storage_options(out)
    dt = deltalake.DeltaTable(table_uri(out, table), storage_options=options)
    props = CommitProperties(custom_metadata={BATCH: str(batch)})
    pending = f"{table}/{PENDING}"
    out.write_text(pending, json.dumps({"batch": batch, "files": out.files_under(table)}))
    if events is None or events.num_rows == 0:
        import pyarrow as pa

        empty = pa.schema(dt.schema().to_arrow()).empty_table()
        deltalake.write_deltalake(dt, empty, mode="append", commit_properties=props, storage_options=options)
        out.remove(pending)
        return {"delete": 0, "update": 0, "insert": 0}

    ops = set(events.column("_op").unique().to_pylist())
    if ops == {"insert"}:  # only new rows: appended, no file of the table rewritten (as a MERGE would)
        rows = events.select(list(columns))
        deltalake.write_deltalake(dt, rows, mode="append", commit_properties=props, storage_options=options)
        out.remove(pending)
        return {"delete": 0, "update": 0, "insert": rows.num_rows}

    def col(side: str, name: str) -> str:
        return f"{side}.`{name}`"

    merge = dt.merge(
        events,
        predicate=" AND ".join(f"{col('t', k)} = {col('s', k)}" for k in key),
        source_alias="s",
        target_alias="t",
        commit_properties=props,
    )
    rest = [c for c in columns if c not in key]
    merge = merge.when_matched_delete(predicate="s._op = 'delete'")
    if rest:
        merge = merge.when_matched_update(updates={c: col("s", c) for c in rest}, predicate="s._op = 'update'")
    merge = merge.when_not_matched_insert(updates={c: col("s", c) for c in columns}, predicate="s._op = 'insert'")
    metrics = merge.execute()
    out.remove(pending)  # committed: its files are in the log
    return {
        "delete": int(metrics.get("num_target_rows_deleted", 0)),
        "update": int(metrics.get("num_target_rows_updated", 0)),
        "insert": int(metrics.get("num_target_rows_inserted", 0)),
    }


DELTA = DeltaFormat()
