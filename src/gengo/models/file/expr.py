"""Column expressions: a small, safe language over a row's other columns, evaluated on arrays.

Parsed with Python's ``ast`` and limited to arithmetic, comparisons, ``and``/``or``/``not``,
conditional ``a if c else b`` and a fixed list of functions; no attribute access, no
subscripts, no names but the table's columns. Each function call that draws random numbers
has its own stream (keyed by its position in the expression), so an expression is a pure
function of the row like every other column.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import fmath
from gengo.core.errors import GengoError

_BINOPS = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide,
    ast.Mod: np.mod,
    ast.Pow: lambda a, b: fmath.power(a, b) if _floats(a, b) else np.asarray(a) ** b,  # integers: exact
}
_CMPOPS = {
    ast.Eq: (np.equal, pc.equal),
    ast.NotEq: (np.not_equal, pc.not_equal),
    ast.Lt: (np.less, pc.less),
    ast.LtE: (np.less_equal, pc.less_equal),
    ast.Gt: (np.greater, pc.greater),
    ast.GtE: (np.greater_equal, pc.greater_equal),
}
RANDOM_FUNCTIONS = {"randint", "rand", "normal_draw"}
NULL_FUNCTIONS = {"is_null", "coalesce"}  # read a column's NULLs: their first argument is a column name


def _floats(a: Any, b: Any) -> bool:
    """A power with a float operand: computed by ``fmath`` (the same bits on every host); integer
    powers stay NumPy's, exact."""
    return any(np.asarray(v).dtype.kind == "f" for v in (a, b))


def _np(x: Any) -> Any:
    """A NumPy view of a value (Arrow strings stay Arrow)."""
    if isinstance(x, pa.ChunkedArray):
        x = x.combine_chunks()
    if isinstance(x, pa.Array) and not pa.types.is_string(x.type) and not pa.types.is_large_string(x.type):
        return x.to_numpy(zero_copy_only=False)
    return x


def _text(x: Any, n: int) -> pa.Array:
    if isinstance(x, pa.Array):
        return x if pa.types.is_string(x.type) else pc.cast(x, pa.string())
    if isinstance(x, str):
        return pa.scalar(x, pa.string())
    arr = np.asarray(x)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.dtype.kind == "M":
        return pc.cast(pa.array(arr), pa.string())
    return pc.cast(pa.array(arr), pa.string())


def _is_text(x: Any) -> bool:
    return isinstance(x, str) or (isinstance(x, pa.Array) and pa.types.is_string(x.type))


def _duration(unit: str) -> Callable[[Any], Any]:
    def make(x: Any) -> Any:
        return np.rint(np.asarray(x, dtype=np.float64)).astype(np.int64).astype(f"timedelta64[{unit}]")

    return make


def _part(code: str) -> Callable[[Any], Any]:
    def get(x: Any) -> Any:
        a = np.asarray(x)
        if a.dtype.kind != "M":
            raise GengoError(f"{code}() needs a date or timestamp")
        if code == "year":
            return a.astype("datetime64[Y]").astype(np.int64) + 1970
        if code == "month":
            return a.astype("datetime64[M]").astype(np.int64) % 12 + 1
        if code == "day":
            return (a.astype("datetime64[D]") - a.astype("datetime64[M]")).astype(np.int64) + 1
        if code == "weekday":  # Monday 0 ... Sunday 6
            return (a.astype("datetime64[D]").astype(np.int64) + 3) % 7
        if code == "hour":
            return (a.astype("datetime64[h]") - a.astype("datetime64[D]")).astype(np.int64)
        raise AssertionError(code)

    return get


def _case(*args: Any) -> Any:
    if len(args) < 3 or len(args) % 2 == 0:
        raise GengoError("case() takes condition, value pairs and a final default: case(c1, v1, c2, v2, default)")
    # (A case whose values are all text literals never gets here: the evaluator takes it as labels.)
    out = args[-1]
    for i in range(len(args) - 3, -1, -2):
        out = _where(args[i], args[i + 1], out)
    return out


def _check_moment_arithmetic(a: Any, b: Any, op: str) -> None:
    """A date or timestamp plus a bare number would count the number in the column's own unit
    (microseconds for a timestamp): refused, a duration says which unit."""
    kinds = [np.asarray(_np(x)).dtype.kind if not isinstance(x, str) else "U" for x in (a, b)]
    if ("M" in kinds) and any(k in "iuf" for k in kinds):
        raise GengoError(
            f"a date or timestamp {op} a number: say the unit with days(n), hours(n), minutes(n) or seconds(n)"
        )


def _where(cond: Any, a: Any, b: Any) -> Any:
    cond = np.asarray(_np(cond), dtype=bool)
    if isinstance(a, str) and isinstance(b, str):
        return pa.array([b, a], pa.string()).take(pa.array(cond.astype(np.int64)))
    if _is_text(a) or _is_text(b):
        n = len(cond)
        return pc.if_else(pa.array(cond), _text(a, n), _text(b, n))
    return np.where(cond, _np(a), _np(b))


def _round(x: Any, digits: int = 0) -> Any:
    return np.round(np.asarray(_np(x), dtype=np.float64), int(digits))


def _scalar(x: Any) -> bool:
    """A constant (a literal, or arithmetic of literals): one value for every row."""
    return not isinstance(x, pa.Array | pa.ChunkedArray) and np.ndim(x) == 0


def _scalar_text(x: Any) -> str:
    """A constant as text, as Arrow casts a column of it (true/false, 3, 2.5)."""
    v = x.item() if isinstance(x, np.generic | np.ndarray) else x
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else _text(np.asarray([v]), 1)[0].as_py()


def _concat(*parts: Any) -> Any:
    if all(_scalar(p) for p in parts):  # constants only: one text for every row
        return "".join(_scalar_text(p) for p in parts)
    n = max(len(p) for p in parts if not _scalar(p))
    return pc.binary_join_element_wise(*[p if isinstance(p, str) else _text(_np(p), n) for p in parts], "")


def _text_function(arrow: Callable[[Any], Any], python: Callable[[str], Any]) -> Callable[[Any], Any]:
    """lower, upper, length: of a column, or of a constant (a value for every row)."""

    def apply(s: Any) -> Any:
        if _scalar(s):
            return python(_scalar_text(s))
        return arrow(_text(_np(s), len(s)))

    return apply


def _date(x: Any) -> Any:
    return np.asarray(x).astype("datetime64[D]")


def _days_between(a: Any, b: Any) -> Any:
    return (np.asarray(b).astype("datetime64[D]") - np.asarray(a).astype("datetime64[D]")).astype(np.int64)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "where": _where,
    "case": _case,
    "round": _round,
    "floor": lambda x: np.floor(_np(x)),
    "ceil": lambda x: np.ceil(_np(x)),
    "abs": lambda x: np.abs(_np(x)),
    "min": lambda a, b: np.minimum(_np(a), _np(b)),
    "max": lambda a, b: np.maximum(_np(a), _np(b)),
    "int": lambda x: np.asarray(_np(x)).astype(np.int64),
    "float": lambda x: np.asarray(_np(x), dtype=np.float64),
    "exp": lambda x: fmath.exp(np.asarray(_np(x), dtype=np.float64)),
    "log": lambda x: fmath.log(np.asarray(_np(x), dtype=np.float64)),
    "sqrt": lambda x: np.sqrt(np.asarray(_np(x), dtype=np.float64)),
    "days": _duration("D"),
    "hours": _duration("h"),
    "minutes": _duration("m"),
    "seconds": _duration("s"),
    "year": _part("year"),
    "month": _part("month"),
    "day": _part("day"),
    "weekday": _part("weekday"),
    "hour": _part("hour"),
    "date": _date,
    "days_between": _days_between,
    "lower": _text_function(pc.utf8_lower, str.lower),
    "upper": _text_function(pc.utf8_upper, str.upper),
    "length": _text_function(lambda a: pc.utf8_length(a).to_numpy().astype(np.int64), len),
    "concat": _concat,
}
DESCRIPTIONS = {
    "where(cond, a, b)": "a where cond holds, else b",
    "is_null(column) coalesce(column, value)": "whether a column is NULL; its value, or value where NULL",
    "case(c1, v1, c2, v2, ..., default)": "the value of the first condition that holds",
    "randint(low, high)": "a uniform integer in [low, high], its own stream",
    "rand()": "a uniform number in [0, 1)",
    "normal_draw(mean, sd)": "a normal draw",
    "days(n) hours(n) minutes(n) seconds(n)": "durations to add to dates and timestamps",
    "year(t) month(t) day(t) weekday(t) hour(t) date(t)": "parts of a date or timestamp (weekday: Monday 0)",
    "days_between(a, b)": "whole days from a to b",
    "round(x, n) floor(x) ceil(x) abs(x) min(a, b) max(a, b) int(x) float(x) exp(x) log(x) sqrt(x)": "arithmetic",
    "lower(s) upper(s) length(s) concat(a, b, ...)": "text",
}


@dataclass(frozen=True)
class Expression:
    text: str
    tree: ast.Expression
    names: tuple[str, ...]  # columns it reads
    draws: int  # random function calls (one stream each)
    nulls_from: tuple[str, ...] = ()  # columns whose NULLs make the result NULL (not those it tests)


def parse(text: str, columns: set[str]) -> Expression:
    """Parse and check ``text``: unknown names and functions are errors here, not at run time."""
    import difflib

    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise GengoError(f"expression '{text}' is not valid: {e.msg} at character {e.offset}") from None
    names: list[str] = []
    tested: set[int] = set()  # ids of Name nodes whose NULLs are tested, not passed on
    draws = 0
    allowed = (
        ast.Expression,
        ast.BinOp,
        ast.UnaryOp,
        ast.BoolOp,
        ast.Compare,
        ast.IfExp,
        ast.Call,
        ast.Name,
        ast.Constant,
        ast.Load,
        ast.And,
        ast.Or,
        ast.Not,
        ast.USub,
        ast.UAdd,
        *_BINOPS,
        *_CMPOPS,
    )
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise GengoError(f"expression '{text}': {type(node).__name__.lower()} is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise GengoError(f"expression '{text}': call functions by name with plain arguments")
            fname = node.func.id
            if fname in NULL_FUNCTIONS:
                want = 1 if fname == "is_null" else 2
                if len(node.args) != want or not isinstance(node.args[0], ast.Name):
                    form = "is_null(column)" if fname == "is_null" else "coalesce(column, value)"
                    raise GengoError(f"expression '{text}': write {form}")
                tested.add(id(node.args[0]))
            elif fname == "concat" and not node.args:
                raise GengoError(f"expression '{text}': concat() needs at least one argument")
            elif fname not in FUNCTIONS and fname not in RANDOM_FUNCTIONS:
                known = sorted([*FUNCTIONS, *RANDOM_FUNCTIONS, *NULL_FUNCTIONS])
                close = difflib.get_close_matches(fname, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; functions are {', '.join(known)}"
                raise GengoError(f"expression '{text}': unknown function '{fname}'{hint}")
            draws += fname in RANDOM_FUNCTIONS
        elif isinstance(node, ast.Name) and not _is_call_name(tree, node):
            if node.id not in columns:
                close = difflib.get_close_matches(node.id, sorted(columns), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise GengoError(f"expression '{text}': no column '{node.id}' in this table{hint}")
            names.append(node.id)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
            raise GengoError(f"expression '{text}': constant {node.value!r} is not allowed")
    passed = [
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not _is_call_name(tree, n) and id(n) not in tested
    ]
    return Expression(text, tree, tuple(dict.fromkeys(names)), draws, tuple(dict.fromkeys(passed)))


def _is_call_name(tree: ast.AST, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def evaluate(
    e: Expression,
    column: Callable[[str], Any],
    draw: Callable[[int, str, tuple], Any],
    n: int,
    nulls: Callable[[str], Any] | None = None,
) -> Any:
    """Value of ``e`` for ``n`` rows; ``column(name)`` gives a column, ``draw(k, fn, args)`` random
    draws, ``nulls(name)`` a column's NULL mask (or None)."""
    value = _Evaluator(column, draw, n, iter(range(e.draws)), nulls).ev(e.tree)
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    arr = value if isinstance(value, pa.Array) else np.asarray(value)
    if not isinstance(arr, pa.Array) and arr.ndim == 0:
        arr = np.full(n, arr) if not isinstance(value, str) else pa.array([value] * n, pa.string())
    return arr


class _Evaluator:
    """Walks the tree. A class, not a recursive closure: a closure that refers to itself is a
    reference cycle, which kept each chunk's columns alive until the cyclic collector ran."""

    def __init__(self, column, draw, n: int, counter, nulls=None) -> None:
        self.column, self.draw, self.n, self.counter, self.nulls = column, draw, n, counter, nulls

    def _null(self, name: str) -> np.ndarray:
        mask = self.nulls(name) if self.nulls is not None else None
        return np.zeros(self.n, dtype=bool) if mask is None else mask

    def ev(self, node: ast.AST) -> Any:
        ev, n = self.ev, self.n
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return _np(self.column(node.id))
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            if isinstance(node.op, ast.Not):
                return ~np.asarray(v, dtype=bool)
            return -np.asarray(v) if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add) and (_is_text(a) or _is_text(b)):
                return _concat(a, b)
            if isinstance(node.op, ast.Add | ast.Sub):
                _check_moment_arithmetic(a, b, "+" if isinstance(node.op, ast.Add) else "-")
            with np.errstate(divide="ignore", invalid="ignore"):
                return _BINOPS[type(node.op)](np.asarray(a), np.asarray(b))
        if isinstance(node, ast.BoolOp):
            values = [np.asarray(ev(v), dtype=bool) for v in node.values]
            out = values[0]
            for v in values[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            out = None
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = ev(right_node)
                np_op, pc_op = _CMPOPS[type(op)]
                if _is_text(left) or _is_text(right):
                    r = pc_op(_text(left, n), _text(right, n)).to_numpy(zero_copy_only=False)
                else:
                    r = np_op(np.asarray(left), _coerce_like(np.asarray(left), right))
                out = r if out is None else (out & r)
                left = right
            return out
        if isinstance(node, ast.IfExp):
            return _where(ev(node.test), ev(node.body), ev(node.orelse))
        if isinstance(node, ast.Call):
            fname = node.func.id  # type: ignore[attr-defined]
            if fname in ("where", "case") and _labels_only(node):  # nested labels: codes, then one take
                codes, labels = self._label_codes(node)
                index = np.broadcast_to(np.asarray(codes, dtype=np.int64), (n,))
                return pa.array(labels, pa.string()).take(pa.array(index))
            if fname == "is_null":
                return self._null(node.args[0].id)  # type: ignore[attr-defined]
            if fname == "coalesce":
                name = node.args[0].id  # type: ignore[attr-defined]
                return _where(self._null(name), ev(node.args[1]), _np(self.column(name)))
            args = [ev(a) for a in node.args]
            if fname in RANDOM_FUNCTIONS:
                return self.draw(next(self.counter), fname, tuple(args))
            return FUNCTIONS[fname](*args)
        raise AssertionError(type(node))

    def _label_codes(self, node: ast.AST) -> tuple[Any, list[str]]:
        """(index per row, labels) of a ``_labels_only`` node, its parts evaluated left to right as
        ``ev`` would (the streams of rand() inside conditions keep their numbers)."""
        if isinstance(node, ast.Constant):
            return 0, [node.value]
        args = node.args  # type: ignore[attr-defined]
        conds, parts = [], []
        for i, a in enumerate(args):
            if i % 2 == 0 and i < len(args) - 1:
                conds.append(np.asarray(_np(self.ev(a)), dtype=bool))
            else:
                parts.append(self._label_codes(a))
        labels: list[str] = []
        shifted = []
        for codes, vocab in parts:
            shifted.append(np.asarray(codes) + len(labels))
            labels.extend(vocab)
        return np.select(conds, shifted[:-1], shifted[-1]), labels


def _labels_only(node: ast.AST) -> bool:
    """A where/case whose every value is a text literal or such a where/case: its result is a label."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("where", "case")):
        return False
    args = node.args
    if node.keywords or len(args) < 3 or len(args) % 2 == 0 or (node.func.id == "where" and len(args) != 3):
        return False
    return all(_labels_only(a) for i, a in enumerate(args) if i % 2 == 1 or i == len(args) - 1)


def _coerce_like(left: np.ndarray, right: Any) -> Any:
    """A date literal compared with a date column: '2024-01-01' becomes a datetime64."""
    if left.dtype.kind == "M" and isinstance(right, str):
        return np.datetime64(right)
    return np.asarray(right)
