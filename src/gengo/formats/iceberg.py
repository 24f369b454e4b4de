"""Apache Iceberg: each table an Iceberg table under ``<out>/<table>/``, registered in a catalog.

The data files are gengo's Parquet parts (the ``-f parquet --parts`` bytes). Once all are
complete, each table is created in the catalog (``pyiceberg``) with the model's schema and the
parts are added as they are, in one transaction per table (``add_files`` reads their footers for
the statistics and maps columns by name; nothing is rewritten). Importing pyiceberg and
SQLAlchemy and opening the catalog cost about 0.4 CPU-s: on a fresh output that happens in a
background thread once the last parts run (``tables_soon``: a worker is then free, its core
idle), so the commit only registers.

The catalog is a SQL catalog in a SQLite file inside the output directory (``catalog.db``)
unless ``catalog`` names another (``sqlite:///...``, ``postgresql://...`` or a REST catalog's
``http(s)://`` URL); the namespace is the model's name unless ``namespace`` is given. Tables an
earlier run registered are dropped before the first part is written (with ``force`` or
``resume``; otherwise an existing table is refused), so an interrupted run leaves no table that
claims files it lacks.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from gengo.core.errors import GengoError
from gengo.formats.delta import remove_tree
from gengo.formats.parquet import ParquetFormat

DEFAULT_CATALOG = "catalog.db"  # inside the output directory
METADATA = "metadata"  # <table>/metadata/: pyiceberg's metadata and manifest files
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def import_pyiceberg():
    try:
        import pyiceberg.catalog
    except ImportError:
        raise GengoError("-f iceberg needs pyiceberg: pip install 'gengo-datagen[iceberg]'") from None
    return pyiceberg.catalog


class _Opening:
    """The catalog and the tables' schemas, prepared in a daemon thread (a run that fails before its
    commit does not wait for it); ``result`` joins it and raises what it raised. Not of a lower
    priority: a thread cannot raise its priority back, and the commit may have to wait for it."""

    def __init__(self, fmt: IcebergFormat, out: Any, plan: Any) -> None:
        self._value: tuple[Any, dict] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fmt, out, plan), name="gengo-iceberg", daemon=True)
        self._thread.start()

    def _run(self, fmt: IcebergFormat, out: Any, plan: Any) -> None:
        try:
            self._value = (fmt.open_catalog(out), _schemas(plan))
        except BaseException as exc:
            self._error = exc

    def result(self) -> tuple[Any, dict]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


# (output, --catalog) -> the run's catalog: None until ``tables_soon`` starts opening it (a new output's only)
_opening: dict[tuple[str, str | None], _Opening | None] = {}


def _hide_password(uri: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", uri)


def _short(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    text = " ".join(lines[0].split())
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class IcebergFormat(ParquetFormat):
    catalog: str | None = None  # a catalog URI; None: a SQLite catalog in the output directory
    namespace: str | None = None  # None: the model's name

    name = "iceberg"
    table_format = True
    sized_as = "parquet"
    partition_columns_in_files = True  # Iceberg reads partition values from the files' columns

    def configured(self, catalog: str | None, namespace: str | None) -> IcebergFormat:
        """This format writing into ``catalog`` and ``namespace`` (checked, nothing connected)."""
        if namespace is not None and not _NAME.match(namespace):
            raise GengoError(f"invalid namespace '{namespace}': use letters, digits and _ (not first a digit)")
        if catalog is not None and not re.match(r"^(sqlite|postgresql[+a-z0-9]*|https?)://", catalog):
            raise GengoError(
                f"invalid --catalog '{_hide_password(catalog)}': give sqlite:///path, postgresql://... or a REST "
                "catalog's http(s):// URL"
            )
        return IcebergFormat(catalog, namespace)

    def namespace_for(self, plan: Any) -> str:
        return self.namespace or plan.model.name

    def identity(self, plan: Any) -> dict:
        where = _hide_password(self.catalog) if self.catalog else DEFAULT_CATALOG
        return {"catalog": where, "namespace": self.namespace_for(plan)}

    def open_catalog(self, out: Any, uri: str | None = None) -> Any:
        """The catalog (SQL or REST) a run or verify uses; a one-line error if it cannot be reached."""
        catalogs = import_pyiceberg()
        uri = uri or self.catalog
        properties = {"uri": uri}
        if uri is None:
            if out.remote:
                raise GengoError("-f iceberg to a URL needs --catalog URI (the default SQLite catalog is a local file)")
            properties = {"uri": f"sqlite:///{out.path / DEFAULT_CATALOG}", "type": "sql"}
        if properties["uri"].startswith(("sqlite", "postgresql")):
            properties.update(type="sql", warehouse=out.root if out.remote else f"file://{out.path}")
        properties.update(file_io_properties(out))
        try:
            return catalogs.load_catalog("gengo", **properties)
        except Exception as exc:
            shown = _hide_password(properties["uri"])
            raise GengoError(f"cannot reach Iceberg catalog '{shown}': {_short(exc)}") from exc

    def check_tables(self, out: Any, plan: Any, force: bool, resume: bool) -> None:
        if self.catalog is None:
            if out.remote:
                self.open_catalog(out)  # the one-line refusal
            if importlib.util.find_spec("pyiceberg") is None:  # installed? (the import itself comes later)
                import_pyiceberg()
            return  # created with the output directory, which is empty or gengo's (the ledger checked)
        catalog = self.open_catalog(out)
        ns = self.namespace_for(plan)
        if force or resume:
            return
        try:
            found = [t.name for t in plan.tables if catalog.table_exists((ns, t.name))]
        except Exception as exc:
            raise GengoError(f"cannot read Iceberg catalog '{_hide_password(self.catalog)}': {_short(exc)}") from exc
        if found:
            raise GengoError(f"Iceberg table {ns}.{found[0]} exists in the catalog; use --force to replace it")

    def prepare_tables(self, out: Any, plan: Any) -> None:
        """Drop what an earlier run registered (a resumed run's commit is redone, each file once). A new
        default catalog holds nothing yet: it is opened while the last parts are written."""
        key = (str(out.root), self.catalog)
        _opening.pop(key, None)
        if self.catalog is None and not out.remote and not (out.path / DEFAULT_CATALOG).exists():
            for t in plan.model.tables:
                remove_tree(out, f"{t.name}/{METADATA}")
            _opening[key] = None
            return
        catalog = self.open_catalog(out)
        ns = self.namespace_for(plan)
        for t in plan.model.tables:
            with contextlib.suppress(Exception):  # NoSuchTableError, or no such namespace yet
                catalog.drop_table((ns, t.name))
            remove_tree(out, f"{t.name}/{METADATA}")

    def tables_soon(self, out: Any, plan: Any) -> None:
        key = (str(out.root), self.catalog)
        if key in _opening and _opening[key] is None:
            _opening[key] = _Opening(self, out, plan)

    def commit_tables(self, out: Any, plan: Any, files: dict[str, list[str]]) -> None:
        """Each table created with its files in one transaction: one metadata file, one snapshot, and no
        table visible before its files are (``prepare_tables`` dropped any earlier one)."""
        opening = _opening.pop((str(out.root), self.catalog), None)
        catalog, schemas = opening.result() if opening is not None else (self.open_catalog(out), _schemas(plan))
        ns = self.namespace_for(plan)
        try:
            catalog.create_namespace_if_not_exists(ns)
        except Exception as exc:
            raise GengoError(f"cannot create Iceberg namespace {ns}: {_short(exc)}") from exc
        for t in plan.tables:
            try:
                schema, spec = schemas[t.name]
                txn = catalog.create_table_transaction(
                    (ns, t.name), schema=schema, location=self._url(out, t.name), partition_spec=spec
                )
                txn.add_files([self._url(out, name) for name in sorted(files.get(t.name, []))])
                txn.commit_transaction()
            except Exception as exc:
                with contextlib.suppress(Exception):
                    catalog.drop_table((ns, t.name))
                raise GengoError(f"cannot commit Iceberg table {ns}.{t.name}: {_short(exc)}") from exc

    def abort_run(self, out: Any, plan: Any) -> None:
        for key in [k for k in _opening if k[0] == str(out)]:  # the catalog a failed run was opening
            _opening.pop(key, None)

    @staticmethod
    def _url(out: Any, relative: str) -> str:
        return out.join(relative) if out.remote else f"file://{out.path / relative}"

    def read_table(self, out: Any, table: str, manifest: dict) -> tuple[list[str], Any]:
        recorded = manifest.get("table_format") if isinstance(manifest.get("table_format"), dict) else {}
        where = recorded.get("catalog")
        catalog = self.open_catalog(out, None if where in (None, DEFAULT_CATALOG) else str(where))
        ns = str(recorded.get("namespace") or manifest.get("model"))
        iceberg = catalog.load_table((ns, table))
        root = self._url(out, "")
        listed = iceberg.inspect.files().column("file_path").to_pylist()  # a scan would skip empty files
        names = [p[len(root) :].lstrip("/") if p.startswith(root) else p for p in listed]
        return names, _dataset(out, [n for n in names if "://" not in n])


def file_io_properties(out: Any) -> dict[str, str]:
    """pyiceberg's S3 settings for an ``s3://`` output: its PyArrow FileIO reads the credentials from the
    environment but not the endpoint of an S3-compatible store (``AWS_ENDPOINT_URL``, as s3fs and
    delta-rs do), and without a region it asks AWS for the bucket's, which such a store cannot answer."""
    if not out.remote or not out.root.lower().startswith(("s3://", "s3a://")):
        return {}
    opts = out.storage_options
    client = opts.get("client_kwargs") if isinstance(opts.get("client_kwargs"), dict) else {}
    endpoint = (
        opts.get("endpoint_url")
        or client.get("endpoint_url")
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    region = client.get("region_name") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    found = {"s3.endpoint": endpoint, "s3.region": region}
    return {k: str(v) for k, v in found.items() if v}


def _schemas(plan: Any) -> dict[str, tuple[Any, Any]]:
    """Each planned table's Iceberg schema and partition spec."""
    schemas = {t.name: t.schema for t in plan.model.tables}
    return {t.name: partitioned(plan, t.name, schemas[t.name]) for t in plan.tables}


def partitioned(plan: Any, table: str, schema: Any) -> tuple[Any, Any]:
    """The schema and partition spec of a table: for --partition-by, an identity or a day / month / year
    transform of the column, its field named as the directory key. ``add_files`` reads each file's
    partition value from the column's statistics (the files keep the column)."""
    from pyiceberg.io.pyarrow import pyarrow_to_schema
    from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionField, PartitionSpec
    from pyiceberg.table.name_mapping import MappedField, NameMapping
    from pyiceberg.transforms import DayTransform, IdentityTransform, MonthTransform, YearTransform

    key = plan.partition_by.get(table)
    if key is None:
        return schema, UNPARTITIONED_PARTITION_SPEC
    # The spec names its column by field id: the schema gets ids 1, 2, ... in column order first.
    ids = NameMapping([MappedField(field_id=i + 1, names=[f.name]) for i, f in enumerate(schema)])
    iceberg = pyarrow_to_schema(schema, name_mapping=ids)
    transform = {None: IdentityTransform, "day": DayTransform, "month": MonthTransform, "year": YearTransform}
    field = PartitionField(iceberg.find_field(key.column).field_id, 1000, transform[key.granularity](), key.key)
    return iceberg, PartitionSpec(field)


def _dataset(out: Any, names: list[str]) -> Any:
    """The listed files as one pyarrow dataset (the files the metadata lists, nothing else)."""
    import pyarrow.dataset as ds

    if out.remote:
        fs, _ = out.fs
        return ds.dataset([out.remote_path(n) for n in names], format="parquet", filesystem=fs)
    return ds.dataset([str(out.path / n) for n in names], format="parquet")


ICEBERG = IcebergFormat()
