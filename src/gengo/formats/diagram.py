"""A model's entity-relationship diagram: Mermaid ``erDiagram`` text, Graphviz DOT, or an image.

Every table with its columns (short SQL type names, ``PK``/``FK`` markers) and one relationship
per foreign key, many children to one parent: ``}o--||`` when the reference is required,
``}o--o|`` when it may be null. Mermaid text needs nothing to produce; an image (``.svg``,
``.png``, ``.pdf``...) is the DOT text laid out by Graphviz's ``dot`` program.

Mermaid's parser before 11.16 stops at a comma in an attribute type (checked with mermaid.parse),
so ``decimal(12,2)`` is written as type ``decimal`` with the full type as the attribute's comment.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pyarrow as pa

from gengo.core.errors import GengoError
from gengo.core.schema import Column, Model
from gengo.formats.ddl import column_type

# Every file gengo writes carries this mark in its first kilobyte (a Mermaid or DOT comment, the
# graph's comment in SVG/PostScript): such a file may be replaced without --force.
MARK = "gengo diagram: model "
# Extensions Graphviz renders (``dot -T<ext>``); .dot/.gv get the DOT text itself.
IMAGES = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps")
DOT_SOURCE = ("dot", "gv")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def type_name(t: pa.DataType) -> str:
    """Short SQL-ish name of an Arrow type: bigint, int, decimal(12,2), varchar, date, timestamp..."""
    try:
        name = column_type(t, "duckdb").lower()
    except GengoError:  # a type without an SQL equivalent: its Arrow name, as one word
        return re.sub(r"[^A-Za-z0-9_(),]+", "_", str(t)).strip("_") or "unknown"
    return "int" if name == "integer" else name


def _keys(column: Column) -> str:
    marks = (["PK"] if column.primary_key else []) + (["FK"] if column.references else [])
    return ", ".join(marks)


def _entity(name: str) -> str:
    """A Mermaid entity name: as is when it is a plain word, otherwise quoted."""
    return name if _WORD.fullmatch(name) else '"' + re.sub(r"[%\\\r\n\v\x08]", "_", name.replace('"', "'")) + '"'


def _attribute(name: str) -> str:
    """A Mermaid attribute name must be one word: other characters become ``_``."""
    word = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if word.lower() in ("pk", "fk", "uk"):  # Mermaid reads these as key markers
        word += "_"
    return word if word[:1].isalpha() or word[:1] == "_" else "_" + word


def _header(model: Model) -> str:
    n_fk = sum(len(t.foreign_keys) for t in model.tables)
    name = " ".join(model.name.split())  # one line, whatever a model file calls itself
    return f"{MARK}{name} ({len(model.tables)} tables, {n_fk} foreign keys)"


def mermaid(model: Model) -> str:
    """The Mermaid ``erDiagram`` of ``model``: tables with their columns, then one line per foreign key."""
    lines = [f"%% {_header(model)}", "erDiagram"]
    for t in model.tables:
        lines.append(f"    {_entity(t.name)} {{")
        for c in t.columns:
            keys = _keys(c)
            # Mermaid before 11.16 rejects a comma in a type: decimal(12,2) is written as decimal
            # with the full type as the attribute's comment.
            full = type_name(c.type)
            word, comment = (full.split("(")[0], f' "{full}"') if "," in full else (full, "")
            lines.append(f"        {word} {_attribute(c.name)}{' ' + keys if keys else ''}{comment}")
        lines.append("    }")
    for t in model.tables:
        nullable = {c.name: c.nullable for c in t.columns}
        for col, parent, _ in t.foreign_keys:
            card = "}o--o|" if nullable[col] else "}o--||"
            label = col.replace('"', "'")
            lines.append(f'    {_entity(t.name)} {card} {_entity(parent)} : "{label}"')
    return "\n".join(lines) + "\n"


def _id(name: str) -> str:
    """A DOT quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(model: Model) -> str:
    """Graphviz DOT of the same diagram: one HTML-label node per table (a row per column), an edge per
    foreign key from the child's column to the parent's, crow's foot at the child."""
    header = _header(model)
    lines = [
        f"// {header}",
        f"digraph {_id(model.name)} {{",
        f"    comment={_id(header)}",
        '    graph [rankdir=LR, fontname="Helvetica", nodesep=0.4, ranksep=1.0]',
        '    node [shape=plaintext, fontname="Helvetica", fontsize=10]',
        '    edge [fontname="Helvetica", fontsize=9, dir=both, arrowtail=crowodot, color="#555555"]',
    ]
    ports: dict[tuple[str, str], str] = {}  # a column's row: in on its name (west), out on its keys (east)
    for t in model.tables:
        rows = [f'<TR><TD COLSPAN="3" BGCOLOR="#d9e2ef"><B>{html.escape(t.name)}</B></TD></TR>']
        for i, c in enumerate(t.columns):
            ports[t.name, c.name] = str(i)
            name = f"<U>{html.escape(c.name)}</U>" if c.primary_key else html.escape(c.name)
            rows.append(
                f'<TR><TD PORT="i{i}" ALIGN="LEFT">{name}</TD><TD ALIGN="LEFT">{html.escape(type_name(c.type))}</TD>'
                f'<TD PORT="o{i}" ALIGN="LEFT">{_keys(c)}</TD></TR>'
            )
        table = '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">' + "".join(rows) + "</TABLE>"
        lines.append(f"    {_id(t.name)} [label=<{table}>]")
    for t in model.tables:
        nullable = {c.name: c.nullable for c in t.columns}
        for col, parent, pcol in t.foreign_keys:
            # Child's column on the right (east) side to the parent's key on the left (west): rankdir=LR.
            head = _id(parent) + (f":i{ports[parent, pcol]}:w" if (parent, pcol) in ports else "")
            style = "arrowhead=teeodot, style=dashed" if nullable[col] else "arrowhead=teetee"
            lines.append(f"    {_id(t.name)}:o{ports[t.name, col]}:e -> {head} [label={_id(col)}, {style}]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(model: Model, path: str | os.PathLike, force: bool = False) -> Path:
    """Write the diagram to ``path``: an image through Graphviz for .svg/.png/.pdf..., the DOT text for
    .dot/.gv, the Mermaid text otherwise (fenced for .md). An existing file is replaced only when gengo
    wrote it (its mark) or with ``force``; the file appears whole or not at all."""
    if "\x00" in os.fspath(path):
        raise GengoError("invalid output path: it contains a NUL byte")
    target = Path(path)
    ext = target.suffix.lower().lstrip(".")
    if target.is_dir():
        raise GengoError(f"{target} is a directory: give a file name, e.g. {target / 'er.svg'}")
    if target.exists() and not force and not _ours(target):
        raise GengoError(f"{target} exists and is not a diagram gengo wrote: give --force to replace it")
    if ext in IMAGES:
        data = _graphviz(dot(model), ext, target.name)
    elif ext in DOT_SOURCE:
        data = dot(model).encode()
    elif ext == "md":
        data = f"```mermaid\n{mermaid(model)}```\n".encode()
    else:
        data = mermaid(model).encode()
    _write_atomic(target, data)
    return target


def _ours(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return MARK.encode() in f.read(1024)
    except OSError:
        return False


def _graphviz(source: str, fmt: str, name: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise GengoError(
            f"writing {name} needs Graphviz's dot program (apt-get install graphviz, brew install graphviz "
            "or conda install graphviz); without -o, or with -o er.mmd, the Mermaid text needs nothing"
        )
    done = subprocess.run([exe, f"-T{fmt}"], input=source.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise GengoError(f"Graphviz dot -T{fmt} failed: {reason[0] if reason else f'exit code {done.returncode}'}")
    return done.stdout


def _write_atomic(target: Path, data: bytes) -> None:
    """Write a temporary file beside ``target`` (the umask applies), flush it, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
