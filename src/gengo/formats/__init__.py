"""Output formats: how a chunk is encoded (in a worker) and how a table file is written (in the parent).

Each format has two halves. ``encode`` runs in the worker that generated the chunk and turns
an Arrow table into the payload handed to the parent (bytes for the text formats, the Arrow
table itself for Parquet). ``open_sink`` runs in the parent and appends payloads, in chunk
order, to one file per table under a temporary name that becomes the final name only on
``commit``.
"""

from __future__ import annotations

import difflib

from gengo.core.errors import GengoError
from gengo.formats.base import Format, Sink
from gengo.formats.csv import CSV
from gengo.formats.delta import DELTA
from gengo.formats.duckdb import DUCKDB
from gengo.formats.iceberg import ICEBERG
from gengo.formats.jsonl import JSONL
from gengo.formats.options import WriteOptions
from gengo.formats.parquet import PARQUET
from gengo.formats.postgres import POSTGRES

FORMATS: dict[str, Format] = {f.name: f for f in (CSV, JSONL, PARQUET, DUCKDB, POSTGRES, DELTA, ICEBERG)}
_ALIASES = {
    "csv": "csv",
    "json": "json",
    "jsonl": "json",
    "ndjson": "json",
    "parquet": "parquet",
    "pq": "parquet",
    "duckdb": "duckdb",
    "postgres": "postgres",
    "postgresql": "postgres",
    "pg": "postgres",
    "delta": "delta",
    "deltalake": "delta",
    "iceberg": "iceberg",
}


def resolve_format(name: str) -> Format:
    """The format called ``name`` (any case, any alias), or a GengoError with a suggestion."""
    key = name.strip().lower()
    if key in ("arrow", "ipc"):  # a stream, not files: the command line's --stdout writes it
        raise GengoError("-f arrow writes one table as an Arrow IPC stream to standard output: add --stdout --tables T")
    if key not in _ALIASES:
        close = difflib.get_close_matches(key, list(_ALIASES), n=1, cutoff=0.6) if len(key) > 1 else []
        if not close:  # a prefix of a single format ("parq", "duck") is close too
            starts = {canonical for alias, canonical in _ALIASES.items() if key and alias.startswith(key)}
            close = list(starts) if len(starts) == 1 else []
        hint = f"did you mean '{_ALIASES[close[0]]}'? " if close else ""
        raise GengoError(
            f"unknown format '{name}': {hint}"
            "choose csv, json (JSON Lines, alias jsonl), parquet, duckdb, postgres (--db), delta, iceberg "
            "(or arrow with --stdout)"
        )
    return FORMATS[_ALIASES[key]]


__all__ = ["FORMATS", "Format", "Sink", "WriteOptions", "resolve_format"]
