"""What a run reports: per table file, per part, the whole run, and the progress callbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class TableResult:
    name: str
    path: Path
    rows: int
    bytes: int
    seconds: float  # wall clock from the first chunk's submission to the file's commit
    generate_seconds: float = 0.0  # summed over chunks, in the workers
    encode_seconds: float = 0.0  # summed over chunks, in the workers
    write_seconds: float = 0.0  # appending payloads, Parquet footers, fsync
    checksum: str | None = None  # hex digest of the file (formats.checksum; None for sinks that are not files)


@dataclass(frozen=True)
class PartResult:
    table: str
    index: int
    name: str  # relative to the output root: <table>/part-00000.<ext>
    rows: int
    bytes: int
    checksum: str  # hex digest (formats.checksum)
    generate_seconds: float
    encode_seconds: float
    write_seconds: float
    host: str = ""


@dataclass(frozen=True)
class Summary:
    model: str
    format: str
    seed: int
    output: Path | str  # a local directory, a URL, or the PostgreSQL schema
    target_bytes: int | None
    tables: tuple[TableResult, ...]
    seconds: float
    reused: tuple[str, ...] = ()  # files kept from the interrupted run (--resume)
    parts: tuple[PartResult, ...] = ()  # partitioned output: one per part file
    batches: tuple[dict, ...] = ()  # change batches applied to a database: rows inserted, updated, deleted
    history: dict = field(default_factory=dict)  # --db --history: versions per <table>_history table

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def total_bytes(self) -> int:
        return sum(t.bytes for t in self.tables)


class Progress(Protocol):
    def advance(self, table: str, rows: int, nbytes: int) -> None: ...

    def table_done(self, result: TableResult) -> None: ...
