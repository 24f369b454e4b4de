"""The interface every output format implements."""

from __future__ import annotations

import contextlib
import mmap
import os
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from gengo.formats.checksum import new_hasher
from gengo.formats.direct import DirectFile, open_for_writing
from gengo.formats.options import COMPRESSED_BLOCK_ROWS, WriteOptions, compress_text

TEMP_SUFFIX = ".gengo-tmp"
_TEXT_SUFFIX = {"none": "", "gzip": ".gz", "zstd": ".zst"}


class Sink(Protocol):
    """Receives one table's encoded chunks in order and owns its file."""

    def add(self, payload: Any) -> None: ...

    def bytes_written(self) -> int: ...

    def commit(self) -> int:
        """Finish the file, move it to its final name, return its size in bytes.

        File sinks also have ``checksum()``: the hex digest (``gengo.formats.checksum``) of the bytes written.
        """
        ...

    def abort(self) -> None:
        """Remove the temporary file; never touches the final name."""
        ...


class Format(Protocol):
    """What an output format is and can do; the engine asks these instead of naming formats."""

    name: str
    extension: str
    codecs: tuple[str, ...]  # accepted --compression values, the default first
    row_groups: bool  # --row-group-size applies
    database: bool  # one database (a file or a server) holds every table
    server: bool  # writes to a server, not into an output directory
    spooled: bool  # workers may hand payload bytes over through spool files
    partitioned: bool  # can be written as <table>/part-NNNNN.<ext> files, also to object stores
    table_format: bool  # always parts, registered as one table (a Delta log, an Iceberg catalog) once all exist
    sized_as: str | None  # the format whose measured bytes per scale start the sizing (same bytes)

    def suffix(self, codec: str) -> str:
        """File name suffix for ``codec`` (``.gz``, ``.zst``) after the extension."""
        ...

    def encode(self, table: pa.Table, first: bool, options: WriteOptions, hints: dict | None = None) -> Any:
        """Worker side: chunk -> payload. ``first`` is True for a table's first chunk."""
        ...

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> Sink:
        """Parent side: a sink writing ``path`` (through a temporary file)."""
        ...

    def open_remote_sink(
        self, fs: Any, path: str, schema: pa.Schema, options: WriteOptions, hints: dict | None
    ) -> Sink:
        """A sink streaming to ``path`` on an fsspec file system (``partitioned`` formats)."""
        ...

    def choose_hints(self, sample: pa.Table, options: WriteOptions) -> dict | None:
        """Per-table encoding decisions made once from a sample (Parquet dictionaries)."""
        ...

    def file_bytes(self, table: pa.Table, options: WriteOptions, hints: dict | None) -> int:
        """Size of a file holding exactly ``table`` (used to calibrate sizing)."""
        ...

    def unit_rows(self, options: WriteOptions, hints: dict | None = None) -> int | None:
        """Rows per independently encoded unit (row group, compressed block), None if one per file.

        Chunks always start on a unit boundary, which keeps the bytes independent of chunking.
        """
        ...

    def begin_run(self, out: Path, plan: Any) -> None:
        """Before the first chunk (a database: create it and its tables)."""
        ...

    def end_run(self, out: Path, plan: Any) -> None:
        """After the last table (a database: keys, rename into place)."""
        ...

    def abort_run(self, out: Path, plan: Any) -> None:
        """After a failure or an interrupt; must not raise."""
        ...

    # Table formats (``table_format``): the parts are plain data files, then one commit per table.
    # ``out`` is a ``formats.storage.Output`` (a local directory or an fsspec URL).

    def check_tables(self, out: Any, plan: Any, force: bool, resume: bool) -> None:
        """Before anything is written: refuse what the run could not commit (a catalog, existing tables)."""
        ...

    def prepare_tables(self, out: Any, plan: Any) -> None:
        """Before the first part: remove what an earlier run committed, so no table claims missing files."""
        ...

    def tables_soon(self, out: Any, plan: Any) -> None:
        """The last parts are running and a worker is free: get the commit ready meanwhile (nothing visible)."""
        ...

    def commit_tables(self, out: Any, plan: Any, files: dict[str, list[str]]) -> None:
        """Once every part is complete: register each table's files (names relative to ``out``)."""
        ...

    def identity(self, plan: Any) -> dict | None:
        """Settings of the table format that the manifest records (and a resume must match)."""
        ...

    def read_table(self, out: Any, table: str, manifest: dict) -> tuple[list[str], Any]:
        """For verify: the files the table's log lists (relative to ``out``) and a pyarrow dataset over it."""
        ...


class FormatBase:
    """Defaults for ``Format``: a plain file format without run-level steps."""

    name: str
    extension: str
    codecs: tuple[str, ...] = ("none",)
    row_groups = False
    database = False
    server = False
    spooled = False
    partitioned = False
    table_format = False
    sized_as: str | None = None

    def suffix(self, codec: str) -> str:
        return ""

    def open_remote_sink(
        self, fs: Any, path: str, schema: pa.Schema, options: WriteOptions, hints: dict | None
    ) -> Sink:
        raise ValueError(f"format {self.name} cannot be written to an object store")

    def choose_hints(self, sample: pa.Table, options: WriteOptions) -> dict | None:
        return None

    def unit_rows(self, options: WriteOptions, hints: dict | None = None) -> int | None:
        return None

    def begin_run(self, out: Path, plan: Any) -> None:
        pass

    def end_run(self, out: Path, plan: Any) -> None:
        pass

    def abort_run(self, out: Path, plan: Any) -> None:
        pass

    def check_tables(self, out: Any, plan: Any, force: bool, resume: bool) -> None:
        pass

    def prepare_tables(self, out: Any, plan: Any) -> None:
        pass

    def tables_soon(self, out: Any, plan: Any) -> None:
        pass

    def commit_tables(self, out: Any, plan: Any, files: dict[str, list[str]]) -> None:
        pass

    def identity(self, plan: Any) -> dict | None:
        return None

    def read_table(self, out: Any, table: str, manifest: dict) -> tuple[list[str], Any]:
        raise NotImplementedError(f"{self.name} tables are read as files")


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


SPOOL_PREFIX = ".gengo-chunk-"


def spool_path(directory: Path | str, slot: int) -> Path:
    """One of the files through which workers hand encoded chunks to the parent (hidden, temporary).

    The parent lends a slot with each task and takes it back once it has appended the chunk;
    the files are overwritten, never truncated or deleted during a run, so their memory pages
    are reused instead of being allocated and faulted in again for every chunk.
    """
    return Path(directory) / f"{SPOOL_PREFIX}{slot}{TEMP_SUFFIX}"


def write_spooled(path: Path | str, payload: bytes | memoryview) -> None:
    """Worker side: overwrite the start of a slot file with ``payload`` (no truncation)."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(payload)


def add_spooled(sink: Sink, path: Path | str, size: int) -> None:
    """Append the ``size`` bytes a worker left at the start of ``path``.

    A sink that can read the file itself (``add_from_file``: straight into its O_DIRECT buffers)
    does; others get a memory map. Either way the bytes are hashed where they land, with no
    pickling and no pipe in between.
    """
    if size == 0:
        sink.add(b"")
        return
    if getattr(sink, "add_from_file", None) is not None and sink.add_from_file(path, size):
        return
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    try:
        sink.add(view)
    finally:
        # Interrupted inside ``add``, the frames of the exception may still hold a buffer of the
        # map: closing would raise BufferError over the interruption; the map goes with them.
        with contextlib.suppress(BufferError):
            view.release()
            mapped.close()


class LocalFile:
    """Where a sink's bytes go on a local file system: a hidden temporary file beside ``path``,
    flushed (fsync) and renamed into place on commit, removed on abort.

    Sinks call ``_open`` once, ``_place`` to commit (returns the file's size) and ``_discard``
    to abort; ``RemoteFile`` overrides the three for object stores.
    """

    path: Path
    _file: Any
    _fsync: bool = True

    def _open(self):
        self.tmp = temp_path(self.path)
        return open_for_writing(self.tmp)  # closed in commit/abort

    def _place(self) -> int:
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.tmp, self.path)
        return self.path.stat().st_size

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            getattr(self._file, "discard", self._file.close)()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


class RemoteFile:
    """``LocalFile``'s three hooks for an fsspec file system: no temporary name, no rename."""

    fs: Any
    path: str
    _file: Any

    def _open(self):
        return self.fs.open(self.path, "wb")

    def _place(self) -> int:
        size = self._file.tell()
        self._file.close()  # completes the upload: only now does the object exist
        return size

    def _discard(self) -> None:
        f = self._file
        with contextlib.suppress(Exception):
            f.discard()  # abort a multipart upload; nothing becomes visible
        with contextlib.suppress(Exception):
            f.closed = True  # never upload on garbage collection
        if not hasattr(f, "discard"):  # a file system writing in place: remove what was written
            with contextlib.suppress(Exception):
                f.close()
                self.fs.rm(self.path)


class ByteSink(LocalFile):
    """Appends byte payloads to a temporary file; renamed into place on commit.

    The file's checksum is computed as payloads are appended (no second read).
    """

    def __init__(self, path: Path, empty_payload: bytes = b"", fsync: bool = True) -> None:
        self.path = path
        self._empty = empty_payload
        self._fsync = fsync
        self._wrote = False
        self._hash = new_hasher()
        self._file = self._open()

    def add(self, payload: bytes) -> None:
        self._file.write(payload)
        self._hash.update(payload)
        self._wrote = True

    def add_from_file(self, path: Path | str, size: int) -> bool:
        """Append the first ``size`` bytes of ``path`` if the file can take them directly (O_DIRECT)."""
        if not isinstance(self._file, DirectFile):
            return False
        fd = os.open(path, os.O_RDONLY)
        try:
            self._file.write_from(fd, size, 0, self._hash)
        finally:
            os.close(fd)
        self._wrote = True
        return True

    def bytes_written(self) -> int:
        return self._file.tell()

    def checksum(self) -> str:
        return self._hash.hexdigest()

    def commit(self) -> int:
        if not self._wrote and self._empty:
            self._file.write(self._empty)
            self._hash.update(self._empty)
        return self._place()

    def abort(self) -> None:
        self._discard()


class RemoteByteSink(RemoteFile, ByteSink):
    def __init__(self, fs, path: str, empty_payload: bytes = b"") -> None:
        self.fs = fs
        super().__init__(path, empty_payload, fsync=False)


class TextFormat(FormatBase):
    """CSV and JSON Lines: chunks become bytes that are simply appended.

    Compressed output is made of independent gzip members / zstd frames, one per block of
    ``COMPRESSED_BLOCK_ROWS`` rows counted from the table's first row. Chunks start on block
    boundaries (see ``plan``), so the bytes do not depend on the chunk size.
    """

    codecs = ("none", "gzip", "zstd")
    spooled = True
    partitioned = True

    def suffix(self, codec: str) -> str:
        return _TEXT_SUFFIX[codec]

    def encode_plain(self, table: pa.Table, first: bool) -> bytes | memoryview:
        raise NotImplementedError

    def encode(
        self, table: pa.Table, first: bool, options: WriteOptions, hints: dict | None = None
    ) -> bytes | memoryview:
        codec = options.codec(self)
        if codec == "none":
            return self.encode_plain(table, first)
        blocks = range(0, max(len(table), 1), COMPRESSED_BLOCK_ROWS)  # a loop over blocks, not rows
        return b"".join(
            compress_text(self.encode_plain(table.slice(at, COMPRESSED_BLOCK_ROWS), first and at == 0), codec)
            for at in blocks
        )

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> ByteSink:
        return ByteSink(path, empty_payload=self.encode(schema.empty_table(), True, options), fsync=options.fsync)

    def open_remote_sink(
        self, fs: Any, path: str, schema: pa.Schema, options: WriteOptions, hints: dict | None
    ) -> RemoteByteSink:
        return RemoteByteSink(fs, path, empty_payload=self.encode(schema.empty_table(), True, options))

    def file_bytes(self, table: pa.Table, options: WriteOptions, hints: dict | None) -> int:
        return len(self.encode(table, True, options))

    def unit_rows(self, options: WriteOptions, hints: dict | None = None) -> int | None:
        return None if options.codec(self) == "none" else COMPRESSED_BLOCK_ROWS
