"""Sinks writing to an fsspec file system (``s3://``, ``gs://``, ``abfs://``, ``memory://``...).

Object stores have no rename, so a part is streamed to its final name: an object store shows
an object only once its upload completes (``close``), and an aborted upload is discarded (a
multipart upload is aborted), so readers never see a partial file. fsspec is imported by the
caller (``gengo.formats.storage``) only when an output is a URL; the core install does not need it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pyarrow as pa

from gengo.formats.base import ByteSink, Format, TextFormat
from gengo.formats.options import WriteOptions
from gengo.formats.parquet import ParquetSink


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


class RemoteByteSink(RemoteFile, ByteSink):
    def __init__(self, fs, path: str, empty_payload: bytes = b"") -> None:
        self.fs = fs
        super().__init__(path, empty_payload, fsync=False)


class RemoteParquetSink(RemoteFile, ParquetSink):
    def __init__(self, fs, path: str, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> None:
        self.fs = fs
        super().__init__(path, schema, options, hints)


def open_remote_sink(fs, path: str, fmt: Format, schema: pa.Schema, options: WriteOptions, hints: dict | None):
    """The remote counterpart of ``fmt.open_sink`` for the file formats."""
    if fmt.name == "parquet":
        return RemoteParquetSink(fs, path, schema, options, hints)
    if isinstance(fmt, TextFormat):
        return RemoteByteSink(fs, path, empty_payload=fmt.encode(schema.empty_table(), True, options))
    raise ValueError(f"format {fmt.name} cannot be written to an object store")
