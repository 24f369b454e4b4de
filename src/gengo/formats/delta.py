"""Delta Lake: each table a Delta table at ``<out>/<table>/``, made of gengo's Parquet parts.

The parts are exactly the ``-f parquet --parts`` files (same bytes, written by the workers).
Once every part of the run is complete, each table gets its transaction log in one commit
(version 0) through ``deltalake`` (delta-rs): ``convert_to_deltalake`` registers the files in
place, reading only their footers for the per-file statistics, so no data is rewritten (about
10 ms per table). Before the first part is written, a log left by an earlier run is removed, so
an interrupted run never leaves a table that claims files it lacks; a resumed run commits again
from scratch, which adds every file exactly once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import Any
from urllib.parse import unquote

from gengo.core.errors import GengoError
from gengo.formats.parquet import ParquetFormat

LOG = "_delta_log"


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
            remove_tree(out, f"{t.name}/{LOG}")

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
        import pyarrow as pa

        deltalake = import_deltalake()
        dt = deltalake.DeltaTable(table_uri(out, table), storage_options=storage_options(out))
        paths = pa.table(dt.get_add_actions(flatten=True)).column("path").to_pylist()  # relative to the table
        return [f"{table}/{unquote(p)}" for p in paths], dt.to_pyarrow_dataset()  # the log's paths are URIs


DELTA = DeltaFormat()
