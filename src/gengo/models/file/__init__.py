"""Model files: a user's own schema in YAML (or JSON), compiled onto the engine.

``load_model_file(path)`` reads, checks and compiles a file into the same ``core.schema.Model``
the built-in models declare; ``load_model_text`` does it from the text (workers and Dask
receive the text, never the path). Every problem is a ``GengoError`` of one line naming
``file:line:column``. Compiled models are cached per process by the text's SHA-256.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import re
from typing import TYPE_CHECKING, Any

from gengo.core.errors import GengoError

if TYPE_CHECKING:
    from gengo.core.schema import Model

SUFFIXES = (".yaml", ".yml", ".json")
_CACHE: dict[str, Model] = {}


def looks_like_file(name: str) -> bool:
    """Whether a ``--model`` value names a file rather than a built-in model."""
    return name.lower().endswith(SUFFIXES) or os.sep in name or "/" in name


def load_model_file(path: str) -> Model:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(2 << 20)
    except FileNotFoundError:
        raise GengoError(f"model file '{path}' does not exist") from None
    except IsADirectoryError:
        raise GengoError(f"model file '{path}' is a directory") from None
    except UnicodeDecodeError as e:
        raise GengoError(f"model file '{path}' is not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise GengoError(f"cannot read model file '{path}': {e.strerror or e}") from None
    return load_model_text(text, path)


def load_model_text(text: str, name: str = "<model>") -> Model:
    digest = hashlib.sha256(f"{name}\0{text}".encode()).hexdigest()
    model = _CACHE.get(digest)
    if model is None:
        model = _CACHE[digest] = _compile(text, name)
    return model


def load_model_data(data: str, name: str = "<model>") -> Model:
    """A model from its parsed file as JSON (``Model.file.data``): how workers receive a checked model."""
    from gengo.models.file.compile import compile_model
    from gengo.models.file.source import Source, from_json

    digest = hashlib.sha256(f"data\0{name}\0{data}".encode()).hexdigest()
    model = _CACHE.get(digest)
    if model is None:
        src = Source(name, data, from_json(data))
        model = _CACHE[digest] = compile_model(src, validate(src))
    return model


def prime_workers(path: str) -> None:
    """Compile the model file at ``path`` as workers receive it (``load_model_data``), in the fork
    server before it forks them: each finds it compiled (the same file's data, the same cache key),
    with pydantic's validators and the compiler's samples built. Any problem is the command's to
    report: here it is only a cache left empty."""
    with contextlib.suppress(Exception):
        model = load_model_file(path)
        load_model_data(model.file.data, model.file.path)


def _compile(text: str, name: str) -> Model:
    from gengo.models.file.compile import compile_model
    from gengo.models.file.source import read_source

    src = read_source(name, text)
    spec = validate(src)
    return compile_model(src, spec)


def validate(src: Any) -> Any:
    """The file's data as a checked ``spec.ModelFile``, or the first problem as one line."""
    from pydantic import ValidationError

    from gengo.models.file import spec as s

    data = src.data
    if isinstance(data, dict) and isinstance(data.get("checks"), list):
        for i, check in enumerate(data["checks"]):
            try:
                s.CheckSpec.model_validate(check)
            except ValidationError as e:
                raise _first_error(src, e, ("checks", i)) from None
    if not isinstance(data, dict):
        raise src.error((), "a model file is a mapping with 'model' and 'tables'")
    _known_keys(src, (), data, s.ModelFile)
    if "tables" not in data:
        raise src.error((), "no 'tables': a model file needs at least one table")
    if not isinstance(data["tables"], dict) or not data["tables"]:
        raise src.error(("tables",), "'tables' must map table names to tables")
    data = dict(data)
    data.setdefault("model", _default_name(src.name))
    tables = {}
    for tname, table in data["tables"].items():
        tpath = ("tables", tname)
        _check_name(src, tpath, tname, "table")
        if not isinstance(table, dict):
            raise src.error(tpath, f"table '{tname}' must be a mapping with 'rows' and 'columns'")
        _known_keys(src, tpath, table, s.TableSpec)
        for need in ("rows", "columns"):
            if need not in table:
                raise src.error(tpath, f"table '{tname}' has no '{need}'")
        _check_rows(src, (*tpath, "rows"), table["rows"])
        if isinstance(table.get("changes"), dict):
            _check_changes(src, (*tpath, "changes"), table["changes"])
        cols = table["columns"]
        if not isinstance(cols, dict) or not cols:
            raise src.error((*tpath, "columns"), f"'columns' of table '{tname}' must map column names to columns")
        new_cols = {}
        for cname, col in cols.items():
            cpath = (*tpath, "columns", cname)
            _check_name(src, cpath, cname, "column")
            if isinstance(col, str):
                col = {"strategy": col}
            if not isinstance(col, dict):
                raise src.error(cpath, f"column '{cname}' must be a strategy name or a mapping with 'strategy'")
            col = dict(col)
            if "strategy" not in col:
                if col.get("primary_key"):
                    col["strategy"] = "sequence"
                else:
                    typo = difflib.get_close_matches("strategy", [str(k) for k in col], n=1)
                    hint = f": did you mean 'strategy' for '{typo[0]}'?" if typo else ""
                    raise src.error(cpath, f"column '{cname}' has no 'strategy'{hint}")
            strategy = col["strategy"]
            if not isinstance(strategy, str) or strategy not in s.STRATEGIES:
                close = difflib.get_close_matches(str(strategy), list(s.STRATEGIES), n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"strategies are {', '.join(sorted(s.STRATEGIES))}"
                raise src.error(
                    (*cpath, "strategy") if "strategy" in cols[cname] else cpath,
                    f"table '{tname}', column '{cname}': unknown strategy '{strategy}'; {hint}",
                )
            _known_keys(src, cpath, col, s.STRATEGIES[strategy], f"strategy '{strategy}'")
            try:  # against its own strategy's class: a broken option is named, at its own line
                s.STRATEGIES[strategy].model_validate(col)
            except ValidationError as e:
                raise _first_error(src, e, cpath) from None
            new_cols[cname] = col
        tables[tname] = {**table, "columns": new_cols}
    data["tables"] = tables
    try:
        return s.ModelFile.model_validate(data)
    except ValidationError as e:
        raise _first_error(src, e) from None


def _default_name(path: str) -> str:
    import re

    stem = os.path.splitext(os.path.basename(path))[0]
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", stem).strip("-") or "model"
    return stem if stem[0].isalpha() else f"m-{stem}"


def _check_name(src: Any, path: tuple, name: str, what: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise src.error(
            path,
            f"{what} name '{name}' must be letters, digits and _ (not starting with a digit), at most 63 characters",
        )


def _known_keys(src: Any, path: tuple, data: dict, cls: Any, what: str | None = None) -> None:
    fields = set(cls.model_fields)
    for key in data:
        if key not in fields:
            if key.rstrip(") ").isdigit():  # {type: decimal(12,2)} splits at the comma in a one-line mapping
                raise src.error(path, "a type with a comma must be quoted in a one-line mapping: type: 'decimal(12,2)'")
            close = difflib.get_close_matches(key, sorted(fields), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; options are {', '.join(sorted(fields))}"
            where = f" for {what}" if what else ""
            raise src.error((*path, key), f"unknown option '{key}'{where}{hint}")


def _check_changes(src: Any, path: tuple, changes: dict) -> None:
    """A table's ``changes``: each option named, and an update's ``{rate, moves}`` checked on its
    own (as a union with a bare rate, pydantic would only say that it is not a number)."""
    from pydantic import ValidationError

    from gengo.models.file import spec as s

    _known_keys(src, path, changes, s.Changes, "changes")
    update = changes.get("update")
    if not isinstance(update, dict):
        return
    for column, up in update.items():
        if isinstance(up, dict):
            _known_keys(src, (*path, "update", column), up, s.Update, f"the update of '{column}'")
            moves = up.get("moves")
            for value, targets in moves.items() if isinstance(moves, dict) else ():
                for target, w in targets.items() if isinstance(targets, dict) else ():
                    if not isinstance(w, bool) and isinstance(w, int | float) and w <= 0:
                        raise src.error(
                            (*path, "update", column, "moves", value, target),
                            f"the move {value} -> {target} has weight {w}: a weight is > 0 (leave the move out)",
                        )
            try:
                s.Update.model_validate(up)
            except ValidationError as e:
                raise _first_error(src, e, (*path, "update", column)) from None


def _check_rows(src: Any, path: tuple, rows: Any) -> None:
    from pydantic import ValidationError

    from gengo.models.file import spec as s

    form = "rows is a whole number, 'scale', {per: TABLE, ratio: R} or {each: TABLE, min: A, max: B}"
    if isinstance(rows, bool) or rows is None:
        raise src.error(path, form)
    if isinstance(rows, int):
        if rows < 1:
            raise src.error(path, f"rows must be at least 1, not {rows}")
        return
    if isinstance(rows, str):
        if rows != "scale":
            raise src.error(path, f"rows '{rows}' is not understood; {form}")
        return
    if isinstance(rows, dict):
        for key, cls in (("per", s.Ratio), ("each", s.Each)):
            if key in rows:
                _known_keys(src, path, rows, cls, "rows")
                try:
                    cls.model_validate(rows)
                except ValidationError as e:
                    raise _first_error(src, e, path) from None
                return
    raise src.error(path, form)


def _first_error(src: Any, e: Any, prefix: tuple = ()) -> GengoError:
    err = e.errors()[0]
    loc = (*prefix, *err["loc"])
    # Drop union branch names pydantic inserts ("Ratio", "int", the strategy tag...).
    path: list = []
    node = src.data
    for part in loc:
        if (
            isinstance(node, dict)
            and part in node
            or isinstance(node, list)
            and isinstance(part, int)
            and part < len(node)
        ):
            path.append(part)
            node = node[part]
    where = _describe(tuple(path))
    value = err.get("input")
    msg = err["msg"]
    if err["type"] == "missing":
        msg = f"'{loc[-1]}' is required"
    elif err["type"] == "literal_error" and isinstance(value, str):
        allowed = [str(x) for x in (err.get("ctx") or {}).get("expected_values", ())] or re.findall(
            r"'([^']*)'", str((err.get("ctx") or {}).get("expected", ""))
        )
        close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.5)
        choices = ", ".join(allowed)
        msg = f"'{value}' is not one of {choices}" + (f"; did you mean '{close[0]}'?" if close else "")
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        msg = f"{msg} (got {value!r})"
    return src.error(tuple(path), f"{where}{msg}")


def _describe(path: tuple) -> str:
    if len(path) >= 4 and path[0] == "tables" and path[2] == "columns":
        rest = ".".join(str(p) for p in path[4:])
        return f"table '{path[1]}', column '{path[3]}'" + (f", {rest}" if rest else "") + ": "
    if len(path) >= 2 and path[0] == "tables":
        rest = ".".join(str(p) for p in path[2:])
        return f"table '{path[1]}'" + (f", {rest}" if rest else "") + ": "
    return f"{'.'.join(str(p) for p in path)}: " if path else ""


def json_schema() -> dict:
    """The JSON Schema of the model file format, for editors (YAML language servers read it too)."""
    from gengo.models.file import spec as s

    doc = s.ModelFile.model_json_schema()
    # A key column may leave out its strategy ({primary_key: true} is a sequence): the loader
    # accepts it, so the schema must too.
    key_only = {
        "type": "object",
        "properties": {"primary_key": {"const": True}},
        "required": ["primary_key"],
        "not": {"required": ["strategy"]},
        "description": "A key column without a strategy: a sequence 1, 2, 3...",
    }
    columns = doc["$defs"]["TableSpec"]["properties"]["columns"]["additionalProperties"]
    columns["anyOf"] = [*columns["anyOf"], key_only]
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "gengo model file"
    return doc
