"""User-facing write options shared by every format: compression and Parquet row groups."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

import pyarrow as pa

from gengo.core.errors import GengoError

GZIP_LEVEL = 6  # zlib's default, for text and Parquet alike
COMPRESSED_BLOCK_ROWS = 1 << 16  # rows per gzip member / zstd frame in compressed text


@dataclass(frozen=True)
class WriteOptions:
    compression: str | None = None  # None: the format's default (Snappy for Parquet, none for text)
    row_group_rows: int | None = None  # Parquet only; None: the writer's default
    fsync: bool = True  # flush each file to disk before renaming it into place

    def codec(self, fmt) -> str:
        """The compression in effect: the one asked for, else the format's default."""
        return self.compression if self.compression is not None else fmt.codecs[0]

    def check(self, fmt) -> None:
        allowed = fmt.codecs  # DuckDB / PostgreSQL compress on their own: only "none"
        if self.compression is not None and self.compression not in allowed:
            raise GengoError(f"invalid compression '{self.compression}' for {fmt.name}: choose {', '.join(allowed)}")
        if self.row_group_rows is not None:
            if not fmt.row_groups:
                raise GengoError("--row-group-size applies to Parquet only")
            if self.row_group_rows < 1:
                raise GengoError(f"invalid row group size {self.row_group_rows}: it must be >= 1")

    def suffix(self, fmt) -> str:
        return fmt.suffix(self.codec(fmt))


def compress_text(data: bytes, codec: str) -> bytes:
    """Compress one chunk as a complete gzip member / zstd frame; concatenations stay valid files."""
    if codec == "none":
        return data
    if codec == "gzip":
        return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)  # mtime=0: same bytes every run
    if codec == "zstd":
        return pa.Codec("zstd", compression_level=3).compress(data, asbytes=True)
    raise ValueError(codec)
