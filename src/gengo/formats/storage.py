"""Where a partitioned dataset goes: a local directory or any fsspec URL.

Local paths (and ``file://`` URLs) keep the local code path: temporary names, fsync, rename.
Other URLs (``s3://bucket/prefix``, ``gs://``, ``abfs://``, ``memory://``) go through fsspec,
imported only then; credentials come from the usual environment of each file system (for S3:
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_PROFILE``, ``AWS_ENDPOINT_URL`` for an
S3-compatible store), or from ``storage_options`` passed to fsspec.

An ``Output`` is small and picklable: it travels with every task to the workers, which open
their own file-system client.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

from gengo.core.errors import GengoError
from gengo.formats.base import temp_path

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]+)://")
ENV_PREFIXES = ("AWS_", "GOOGLE_", "GCE_", "AZURE_", "FSSPEC_")  # what object-store clients read
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "abfs": "azure", "az": "azure", "abfss": "azure"}


def is_url(output: str | os.PathLike) -> bool:
    """True for a URL other than ``file://`` (those are local paths)."""
    m = _SCHEME.match(str(output))
    return bool(m) and m.group(1).lower() not in ("file", "local")


def local_path(output: str | os.PathLike) -> Path:
    """A local path from a path or a ``file://`` URL."""
    text = str(output)
    m = _SCHEME.match(text)
    if m and m.group(1).lower() in ("file", "local"):
        text = text[m.end() :]
        if text.startswith("localhost/"):
            text = text[len("localhost") :]
    return Path(text).expanduser()


def _fsspec():
    try:
        import fsspec
    except ImportError:
        raise GengoError(
            "writing to a URL needs fsspec: pip install 'gengo-datagen[s3]' (or fsspec with gcsfs/adlfs)"
        ) from None
    return fsspec


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary name, fsync, rename; on failure leave nothing behind."""
    tmp = temp_path(path)
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@dataclass(frozen=True)
class Output:
    """The root of a dataset: ``root`` is a local path (as text) or a URL."""

    root: str
    storage_options: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # set in the workers before opening the file system

    @classmethod
    def of(cls, output: str | os.PathLike, storage_options: dict | None = None) -> Output:
        if is_url(output):
            return cls(str(output).rstrip("/"), dict(storage_options or {}))
        return cls(str(local_path(output).absolute()), {})  # workers may run elsewhere: no cwd

    @property
    def remote(self) -> bool:
        return is_url(self.root)

    @property
    def path(self) -> Path:
        """The local directory (local outputs only)."""
        return Path(self.root)

    def join(self, relative: str) -> str:
        return f"{self.root}/{relative}" if self.remote else str(Path(self.root) / relative)

    @cached_property
    def fs(self):
        """The fsspec file system and the root's path inside it (remote outputs only)."""
        fsspec = _fsspec()
        os.environ.update(self.env)
        try:
            fs, root = fsspec.core.url_to_fs(self.root, **self.storage_options)
        except ImportError as exc:
            scheme = self.root.split("://", 1)[0].lower()
            extra = EXTRAS.get(scheme)
            driver = exc.name or exc
            hint = f"pip install 'gengo-datagen[{extra}]'" if extra == "s3" else f"install the fsspec driver ({driver})"
            raise GengoError(f"{scheme}:// needs its file system driver: {hint}") from None  # to write or verify
        except ValueError as exc:
            raise GengoError(f"unsupported URL '{self.root}': {exc}") from None
        return fs, root

    def with_local_environment(self) -> Output:
        """For workers on this machine: they get the client's credentials and endpoint variables.

        Local worker processes are forked from a server started before the caller may have set
        them. Dask workers use their own environment instead (credentials stay on their machines).
        """
        if not self.remote:
            return self
        env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}
        return Output(self.root, self.storage_options, env)

    def __getstate__(self):  # the file-system client is opened again where the object lands
        return {"root": self.root, "storage_options": self.storage_options, "env": self.env}

    def __setstate__(self, state) -> None:
        object.__setattr__(self, "root", state["root"])
        object.__setattr__(self, "storage_options", state["storage_options"])
        object.__setattr__(self, "env", state.get("env", {}))

    def remote_path(self, relative: str) -> str:
        fs, root = self.fs
        return f"{root.rstrip('/')}/{relative}"

    # Small operations the client needs on either kind of output.

    def exists(self) -> bool:
        if not self.remote:
            return self.path.exists()
        fs, root = self.fs
        return bool(fs.exists(root))

    def listing(self) -> list[str]:
        """Names directly under the root ([] if it does not exist)."""
        if not self.remote:
            return sorted(os.listdir(self.root)) if self.path.is_dir() else []
        fs, root = self.fs
        try:
            return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False))
        except FileNotFoundError:
            return []

    def files_under(self, relative: str) -> list[str]:
        """File names directly inside ``relative`` ([] if missing)."""
        if not self.remote:
            d = self.path / relative
            return sorted(p.name for p in d.iterdir() if p.is_file()) if d.is_dir() else []
        fs, root = self.fs
        try:
            entries = fs.ls(f"{root.rstrip('/')}/{relative}", detail=True)
        except FileNotFoundError:
            return []
        return sorted(e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") == "file")

    def remove(self, relative: str) -> None:
        if not self.remote:
            with contextlib.suppress(FileNotFoundError):
                (self.path / relative).unlink()
            return
        fs, _ = self.fs
        with contextlib.suppress(FileNotFoundError):
            fs.rm(self.remote_path(relative))

    def write_text(self, relative: str, text: str) -> None:
        """A small file written whole (locally: temporary name, fsync, rename)."""
        if self.remote:
            fs, _ = self.fs
            fs.pipe_file(self.remote_path(relative), text.encode())
            return
        write_atomic(self.path / relative, text)

    # Reading a dataset back (gengo verify): missing files say so, other errors propagate.

    def read_bytes(self, relative: str) -> bytes | None:
        """The whole (small) file, or None if it does not exist."""
        try:
            if self.remote:
                fs, _ = self.fs
                return fs.cat_file(self.remote_path(relative))
            return (self.path / relative).read_bytes()
        except FileNotFoundError:
            return None

    def is_file(self, relative: str) -> bool:
        if self.remote:
            fs, _ = self.fs
            return fs.isfile(self.remote_path(relative))
        return (self.path / relative).is_file()

    def size(self, relative: str) -> int:
        if self.remote:
            fs, _ = self.fs
            return int(fs.size(self.remote_path(relative)))
        return (self.path / relative).stat().st_size

    def open_read(self, relative: str) -> BinaryIO:
        """A binary stream over the file (remote: read in blocks, never downloaded whole)."""
        if self.remote:
            fs, _ = self.fs
            return fs.open(self.remote_path(relative), "rb")
        return open(self.path / relative, "rb")

    def read_text(self, relative: str) -> str | None:
        try:
            if self.remote:
                fs, _ = self.fs
                return fs.cat_file(self.remote_path(relative)).decode()
            return (self.path / relative).read_text()
        except (OSError, ValueError):
            return None
