"""``gengo init --from SOURCE``: a model file from a schema the user already has.

A reader (``ddl`` for SQL files, ``live`` for PostgreSQL, SQLite and DuckDB) gives a
source-neutral :class:`~gengo.importers.schema.SourceSchema`; ``mapping`` chooses the tables'
row rules and a strategy per column; ``writer`` writes the YAML with a comment on every guess.
The result is compiled before it is written, so a file ``init`` writes always generates.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from gengo.core.errors import GengoError


@dataclass
class Imported:
    text: str  # the model file
    summary: list[str]  # what was mapped and guessed, for the terminal


def import_schema(
    source: str,
    output: str,
    dialect: str | None = None,
    schema: str | None = None,
    stats: bool = False,
    sample_rows: int | None = None,
) -> Imported:
    """Read ``source`` and return the model file text (not written) with a summary."""
    from gengo.importers import live
    from gengo.importers.ddl import read_ddl
    from gengo.importers.mapping import Mapper, Options
    from gengo.importers.writer import render

    if sample_rows is not None and sample_rows < 1:
        raise GengoError(f"--sample-rows must be at least 1, not {sample_rows}")
    kind = live.kind_of(source)
    if kind != "ddl" and dialect is not None:
        raise GengoError("--dialect is for DDL files; a database source names its own dialect")
    if kind == "postgres":
        src = live.read_postgres(source, schema, stats, sample_rows)
    elif kind == "mysql":
        raise GengoError(
            "reading a live MySQL/MariaDB server is not supported yet; export its schema with "
            "`mysqldump --no-data` and import that file with --dialect mysql"
        )
    elif kind == "sqlite":
        src = live.read_sqlite(source, stats, sample_rows)
    elif kind == "duckdb":
        src = live.read_duckdb(source, schema, stats, sample_rows)
    else:
        if stats or sample_rows:
            raise GengoError("--stats and --sample-rows need a database source; a DDL file has no rows")
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as e:
            raise GengoError(f"{source}: not UTF-8 text (byte {e.start}); is it a DDL file?") from None
        src = read_ddl(text, source, dialect or "postgres", schema)
    mapper = Mapper(src, Options(stats=stats, sample_rows=sample_rows))
    mapped = mapper.map()
    name = model_name(output)
    text = render(mapped, name, src.description, mapper.notes)
    _check_compiles(text, output)
    return Imported(text, _summary(src, mapped, mapper, output))


def model_name(output: str) -> str:
    stem = os.path.splitext(os.path.basename(output))[0]
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", stem).strip("-") or "model"
    return stem if stem[0].isalpha() else f"m-{stem}"


def _check_compiles(text: str, output: str) -> None:
    from gengo.models.file import load_model_text

    try:
        load_model_text(text, output)
    except GengoError as e:
        raise GengoError(f"the imported model does not compile (please report it): {e}") from None


def _summary(src, mapped, mapper, output: str) -> list[str]:
    tables = mapped.tables
    columns = sum(len(t.columns) for t in tables)
    pks = sum(1 for t in src.tables if t.primary_key)
    composite = sum(1 for t in src.tables if len(t.primary_key) > 1)
    children = sum(1 for t in tables if isinstance(t.rows, dict) and "each" in t.rows)
    c = mapped.summary
    guessed = sum(c["guessed"].values())
    lines = [
        f"read {len(tables)} tables, {columns} columns from {src.description}",
        f"scale table: {mapped.scale} (rows: scale); {len(tables) - 1 - children} tables follow it by ratio"
        + (f", {children} as children of a parent" if children else ""),
        f"keys: {pks} primary keys ({composite} composite), {c['fks']} foreign keys"
        + (f" ({c['fks_dropped']} dropped)" if c["fks_dropped"] else "")
        + f", {c['checks']} CHECK conditions mapped"
        + (f", {c['checks_skipped']} not" if c["checks_skipped"] else ""),
    ]
    if guessed:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(c["guessed"].items(), key=lambda kv: -kv[1])[:8])
        lines.append(f"guessed from column names: {guessed} columns ('# guessed:' in the file): {kinds}")
    if c["fallback"]:
        lines.append(f"text fallbacks for types the model language lacks: {c['fallback']} columns")
    for n in mapper.notes:
        lines.append(f"note: {n}")
    return lines
