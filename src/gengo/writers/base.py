"""The interface every output format implements."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from gengo.writers.options import WriteOptions

TEMP_SUFFIX = ".gengo-tmp"


class Sink(Protocol):
    """Receives one table's encoded chunks in order and owns its file."""

    def add(self, payload: Any) -> None: ...

    def bytes_written(self) -> int: ...

    def commit(self) -> int:
        """Finish the file, move it to its final name, return its size in bytes."""
        ...

    def abort(self) -> None:
        """Remove the temporary file; never touches the final name."""
        ...


class Format(Protocol):
    name: str
    extension: str

    def encode(self, table: pa.Table, first: bool, options: WriteOptions) -> Any:
        """Worker side: chunk -> payload. ``first`` is True for a table's first chunk."""
        ...

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions) -> Sink:
        """Parent side: a sink writing ``path`` (through a temporary file)."""
        ...

    def file_bytes(self, table: pa.Table, options: WriteOptions) -> int:
        """Size of a file holding exactly ``table`` (used to calibrate sizing)."""
        ...


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


class ByteSink:
    """Appends byte payloads to a temporary file; renamed into place on commit."""

    def __init__(self, path: Path, empty_payload: bytes = b"") -> None:
        self.path = path
        self.tmp = temp_path(path)
        self._empty = empty_payload
        self._wrote = False
        self._file = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit/abort

    def add(self, payload: bytes) -> None:
        self._file.write(payload)
        self._wrote = True

    def bytes_written(self) -> int:
        return self._file.tell()

    def commit(self) -> int:
        if not self._wrote and self._empty:
            self._file.write(self._empty)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.tmp, self.path)
        return self.path.stat().st_size

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()
