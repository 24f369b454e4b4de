"""Reading a model file safely: YAML (or JSON) to plain data, with the line of every value.

YAML is parsed with PyYAML's safe composer only: no tags (``!!python/...`` or any other), no
custom constructors, nothing executed. Files over ``MAX_BYTES``, nesting deeper than
``MAX_DEPTH`` and documents that expand past ``MAX_NODES`` values (an alias bomb) are refused.
Every mapping key and value keeps its position, so an error names ``file:line:column``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from gengo.core.errors import GengoError

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_NODES = 100_000

Path = tuple[str | int, ...]


@dataclass
class Source:
    """A model file's data and where each part of it was written."""

    name: str  # the path as the user wrote it (for messages)
    text: str
    data: Any = None
    where: dict[Path, tuple[int, int]] = field(default_factory=dict)  # path -> (line, column), 1-based

    def at(self, path: Path) -> str:
        """``file:line:column`` of the value at ``path`` (or of its nearest written parent)."""
        path = tuple(path)
        while path and path not in self.where:
            path = path[:-1]
        line, col = self.where.get(path, (1, 1))
        return f"{self.name}:{line}:{col}"

    def error(self, path: Path, message: str) -> GengoError:
        # One line whatever the file's names hold: a key can be any string, newlines included.
        return GengoError(f"{self.at(path)}: {message.translate(_ESCAPES)}")


# Control characters as Python writes them in a string literal (\n, \t, \x1b).
_ESCAPES = {c: repr(chr(c))[1:-1] for c in [*range(32), 127]}


def read_source(name: str, text: str) -> Source:
    """Parse ``text`` (YAML 1.1 safe subset, which includes JSON) into a :class:`Source`."""

    src = Source(name, text)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise GengoError(f"{name}: model file is larger than {MAX_BYTES // 1024} KiB; is it the right file?")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: 10x faster, same results
    try:
        nodes = list(yaml.compose_all(text, Loader=loader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = e.problem or e.context or ""
        hint = ""
        if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
            hint = " (a tab: YAML indents with spaces only)"
        elif "expected key" in problem or "mapping values are not allowed" in problem:
            hint = " (check this line's indentation against the lines above, and a ': ' inside a value: quote it)"
        raise GengoError(f"{where}: not valid YAML: {problem}{hint}") from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow: its line from the offset
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        raise GengoError(
            f"{name}:{line}:{column}: not valid YAML: character {e.character!r} is not allowed ({e.reason})"
        ) from None
    except yaml.YAMLError as e:
        raise GengoError(f"{name}: not valid YAML: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise GengoError(f"{name}: nested more than {MAX_DEPTH} levels deep") from None
    if not nodes or nodes[0] is None:
        raise GengoError(f"{name}: the model file is empty")
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        raise GengoError(f"{name}:{mark.line + 1}: a model file holds one YAML document, this one has more")
    _refuse_tags(src, nodes[0])
    counter = [0]
    src.data = _convert(src, nodes[0], (), 0, counter, yaml.SafeLoader(""))
    return src


# The tags plain YAML resolves by itself; any other came from an explicit ``!tag`` in the file.
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
}


def _refuse_tags(src: Source, root: Any) -> None:
    stack, seen = [root], 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:  # aliases can make the graph far larger than the text
            mark = node.start_mark
            raise GengoError(
                f"{src.name}:{mark.line + 1}:{mark.column + 1}: more than {MAX_NODES} values "
                "(anchors and aliases expand to too much)"
            )
        if node.tag not in _PLAIN_TAGS:
            mark = node.start_mark
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise GengoError(
                f"{src.name}:{mark.line + 1}:{mark.column + 1}: YAML tags (here {tag!r}) "
                "are not allowed in a model file"
            )
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _convert(src: Source, node: Any, path: Path, depth: int, counter: list[int], loader: yaml.SafeLoader) -> Any:
    """``loader``: one scalar constructor for the whole file (making one per value was most of the reading)."""
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise src.error(path, f"more than {MAX_NODES} values (anchors and aliases expand to too much)")
    if depth > MAX_DEPTH:
        raise src.error(path, f"nested more than {MAX_DEPTH} levels deep")
    src.where.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise src.error(path, "YAML merge keys ('<<') are not supported in a model file; write the keys out")
            key = (
                loader.construct_object(key_node)  # scalar keys only: a mapping or list as a key is an error
                if isinstance(key_node, yaml.ScalarNode)
                else None
            )
            if not isinstance(key, (str, int, float, bool)) or isinstance(key, bool):
                if isinstance(key, bool):  # yes/no/on/off read as booleans in YAML 1.1
                    key = key_node.value
                else:
                    mark = key_node.start_mark
                    raise GengoError(f"{src.name}:{mark.line + 1}:{mark.column + 1}: a key must be a plain name")
            key = str(key)
            if key in out:
                mark = key_node.start_mark
                raise GengoError(f"{src.name}:{mark.line + 1}:{mark.column + 1}: '{key}' is given twice")
            child = (*path, key)
            src.where[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _convert(src, value_node, child, depth + 1, counter, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(src, item, (*path, i), depth + 1, counter, loader) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node)
    except ValueError as e:  # a date-like scalar that is no date (2020-13-01)
        mark = node.start_mark
        raise GengoError(
            f"{src.name}:{mark.line + 1}:{mark.column + 1}: '{node.value}' is not a valid value: {e}"
        ) from None


def to_json(data: Any) -> str:
    """The parsed file as JSON, dates and timestamps tagged so :func:`from_json` restores them."""
    import datetime as dt
    import json

    def tag(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return {"$datetime": v.isoformat()}
        if isinstance(v, dt.date):
            return {"$date": v.isoformat()}
        raise TypeError(f"cannot encode {type(v).__name__}")

    return json.dumps(data, default=tag, ensure_ascii=False)


def from_json(text: str) -> Any:
    import datetime as dt
    import json

    def untag(d: dict) -> Any:
        if len(d) == 1 and "$datetime" in d:
            return dt.datetime.fromisoformat(d["$datetime"])
        if len(d) == 1 and "$date" in d:
            return dt.date.fromisoformat(d["$date"])
        return d

    return json.loads(text, object_hook=untag)
