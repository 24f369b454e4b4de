"""Column strategies of model files: each a vectorised function of the chunk's rows.

``Env`` evaluates the columns of one table for one set of row indices, each column at most
once, on demand: a template, expression or lookup asks for the columns it reads. Values are
NumPy arrays (int64, float64, bool, datetime64[D] or [us]) or Arrow string arrays; nulls are
kept apart as masks and applied when the chunk is assembled. Reference-like columns also keep
the 0-based row of the row they point to, so lookups and belongs-to never search for a key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import distinct, fmath, rand, timezones, vocab
from gengo.core.arrays import join, take, to_text
from gengo.core.errors import GengoError
from gengo.models.file import expr as expressions
from gengo.models.file import spec as s

DEFAULT_DOMAINS = {"gmail.com": 45, "yahoo.com": 15, "outlook.com": 12, "hotmail.com": 8, "icloud.com": 10}
ADDRESS_COUNTRIES = {"US": 0, "CA": 1, "QC": 2, "GB": 3, "AU": 4}  # groups of vocab.address_pools()
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")  # {{ and }} are literal braces


class Env:
    """Columns of ``table`` at rows ``idx`` (0-based), computed once each, on demand."""

    def __init__(
        self,
        model: Any,
        table: str,
        seed: int,
        rows: Mapping[str, int],
        idx: np.ndarray,
        parents: np.ndarray | None = None,
    ):
        self.model, self.table, self.seed, self.rows, self.idx = model, table, seed, rows, idx
        # 0-based parent row of each row of a table of children, where the caller knows it (a
        # belongs_to picked the rows among a known parent's): no search of the fan-out.
        self.parents = parents
        self.owners: dict[str, np.ndarray] = {}  # belongs_to column -> parent row of its target
        self.spec = model.tables[table]
        self.values: dict[str, Any] = {}
        self.nulls: dict[str, np.ndarray | None] = {}
        self.targets: dict[str, np.ndarray] = {}  # reference column -> 0-based row of the referenced table
        self.extra_nulls: dict[str, np.ndarray] = {}  # nulls a strategy found (a lookup through a NULL key)
        self._fan = None
        self.memo: dict[Any, Any] = {}  # draws shared by several columns (an address block)
        self.zone_numbers = False  # a time zone part gives its zones' numbers, not names (``lookup``)

    def key(self, *names: str) -> np.uint64:
        return rand.stream_key(self.seed, self.table, *names)

    def uniform(self, *names: str) -> np.ndarray:
        return rand.uniform(self.key(*names), self.idx)

    @property
    def n(self) -> int:
        return len(self.idx)

    def value(self, name: str) -> Any:
        if name not in self.values:
            col = self.spec.columns[name]
            try:
                value = _as_written(
                    STRATEGY_FUNCTIONS[col.strategy](self, name, col), self.model.types.get((self.table, name))
                )
            except GengoError as e:  # found while generating: the column's place in the file first
                if str(e).startswith(f"{self.model.source.name}:"):
                    raise
                raise GengoError(f"{self.model.line_of(('tables', self.table, 'columns', name))}: {e}") from None
            self.values[name] = value
            self.nulls[name] = self._null_mask(name, col)
        return self.values[name]

    def null(self, name: str) -> np.ndarray | None:
        self.value(name)
        return self.nulls[name]

    def target(self, name: str) -> np.ndarray:
        """0-based rows of the referenced table that reference column ``name`` points to."""
        self.value(name)
        return self.targets[name]

    def _null_mask(self, name: str, col: s.ColumnBase) -> np.ndarray | None:
        masks = [self.null(d) for d in self.model.inherits_nulls.get((self.table, name), ())]
        masks.append(self.extra_nulls.get(name))
        if col.null_rate > 0:
            masks.append(self.uniform(name, "null") < col.null_rate)
        when = self.model.null_when.get((self.table, name))
        if when is not None:  # NULL where a condition over the row holds
            masks.append(
                np.asarray(expressions.evaluate(when, self.value, lambda *a: None, self.n, self.null), dtype=bool)
            )
        masks = [m for m in masks if m is not None]
        if not masks:
            return None
        return np.logical_or.reduce(masks) if len(masks) > 1 else masks[0]

    def fanout(self) -> rand.FanOut:
        if self._fan is None:
            self._fan = self.model.fanout(self.table, self.seed, self.rows)
        return self._fan

    def rows_of(self, table: str) -> int:
        return int(self.rows[table])


_WHOLE_MAX = 1 << 22  # a parent's numeric column of up to 4M rows (32 MB) is computed once per process
_WHOLE_BLOCK = 1 << 18  # ... a block of rows at a time: bounded temporaries
_WHOLE_BYTES = 64 << 20  # at most this much of them per process (the oldest go first)
_wholes: dict[tuple, tuple[Any, tuple[np.ndarray, np.ndarray | None]]] = {}


def _whole_column(
    env: Env, table: str, column: str, wanted: int, zone_numbers: bool = False
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Every row of a parent's numeric column, for lookups into it: an order line's price from its
    product's recomputes the price's columns (draws, exp) for every line otherwise. A cache of a
    pure function of (model, seed, row counts), so it changes no value; None where not cached.
    ``wanted``: rows looked up, for a first computation to pay (a chunk, not a sizing sample).
    ``zone_numbers``: a time zone column's numbers (see ``zones_only`` in compile)."""
    n = env.rows_of(table)
    t = env.model.types.get((table, column))
    numeric = zone_numbers or (
        t is not None
        and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_boolean(t))
    )
    if not numeric or n > _WHOLE_MAX:
        return None
    column_key = (id(env.model), env.seed, table, column, zone_numbers)
    key = (*column_key, tuple(sorted(env.rows.items())))
    hit = _wholes.get(key)
    if hit is not None and hit[0] is env.model:
        return hit[1]
    if wanted * 8 < n:
        return None
    for stale in [k for k in _wholes if k[:-1] == column_key]:  # other counts (sizing rounds): not asked again
        del _wholes[stale]
    blocks = []
    for a in range(0, n, _WHOLE_BLOCK):
        other = Env(env.model, table, env.seed, env.rows, np.arange(a, min(a + _WHOLE_BLOCK, n), dtype=np.int64))
        other.zone_numbers = zone_numbers
        v = np.asarray(other.value(column))
        blocks.append((v.astype(np.int16) if zone_numbers else v, other.null(column)))  # a few dozen zones
    values = np.concatenate([v for v, _ in blocks])
    nulls = None
    if any(m is not None for _, m in blocks):
        nulls = np.concatenate([m if m is not None else np.zeros(len(v), bool) for v, m in blocks])
    size = values.nbytes + (nulls.nbytes if nulls is not None else 0)
    while _wholes and sum(v.nbytes + (m.nbytes if m is not None else 0) for _, (v, m) in _wholes.values()) + size > (
        _WHOLE_BYTES
    ):
        _wholes.pop(next(iter(_wholes)))
    _wholes[key] = (env.model, (values, nulls))
    return values, nulls


def _as_written(value: Any, t: pa.DataType | None) -> Any:
    """Numbers rounded as the column's type writes them, so other columns see what the file holds."""
    if t is None or isinstance(value, pa.Array):
        return value
    if pa.types.is_decimal(t):
        return np.round(np.asarray(value, dtype=np.float64), t.scale)
    if pa.types.is_integer(t) and np.asarray(value).dtype.kind == "f":
        rounded = np.rint(value)
        # NaN or infinity stays a float: writing the column refuses it, naming it (not -2**63)
        return rounded.astype(np.int64) if np.isfinite(rounded).all() else rounded
    if pa.types.is_date(t) and np.asarray(value).dtype.kind == "M":  # a timestamp written as a date is a date
        return np.asarray(value).astype("datetime64[D]")
    return value


def parent_values(
    env: Env,
    table: str,
    column: str,
    parent_idx: np.ndarray,
    parents: np.ndarray | None = None,
    name: str = "",
    zone_numbers: bool = False,
) -> tuple[Any, np.ndarray | None]:
    """Column ``column`` of ``table`` at rows ``parent_idx``, recomputed (the dimension is never held);
    ``parents``: the parent rows of those rows, where ``table`` is a table of children and they are known;
    ``zone_numbers``: a time zone column's numbers, not its names (``Env.zone_numbers``)."""
    col = env.model.tables[table].columns[column]
    if isinstance(col, s.Sequence) and col.null_rate == 0:  # keys: closed form, no Env
        return (parent_idx + col.start if col.step == 1 else col.start + parent_idx * col.step), None
    whole = _whole_column(env, table, column, len(parent_idx), zone_numbers)
    # Sizing samples with pinned counts can ask for rows past a table's end (a fan-out's total
    # for the calibration seed differs from the pinned one): those are computed, not looked up.
    if whole is not None and (len(parent_idx) == 0 or 0 <= parent_idx.min() <= parent_idx.max() < len(whole[0])):
        values, nulls = whole
        picked = values[parent_idx].astype(np.int64) if zone_numbers else values[parent_idx]  # int16 kept
        return picked, (nulls[parent_idx] if nulls is not None else None)
    other = Env(env.model, table, env.seed, env.rows, parent_idx, parents)
    other.zone_numbers = zone_numbers
    values, nulls = other.value(column), other.null(column)
    if name and ("zone_codes", column) in other.memo:  # a looked-up time zone keeps its zone numbers
        env.memo[("zone_codes", name)] = other.memo[("zone_codes", column)]
    return values, nulls


# --- numbers -----------------------------------------------------------------------------------


def _clip(x: np.ndarray, col: Any) -> np.ndarray:
    lo, hi = getattr(col, "min", None), getattr(col, "max", None)
    if lo is not None or hi is not None:
        x = np.clip(x, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
    return x


def sequence(env: Env, name: str, col: s.Sequence) -> np.ndarray:
    last = col.start + (env.rows_of(env.table) - 1) * col.step  # Python integers: no wrap-around
    if not (col.start >= -(1 << 63) and last < 1 << 63):
        raise GengoError(f"{env.table}.{name}: the sequence reaches {last}, beyond 64-bit integers")
    return col.start + env.idx * col.step


def is_moment(v: Any) -> bool:
    return isinstance(v, (dt.date, dt.datetime)) or (isinstance(v, str) and _parse_moment(v) is not None)


def _parse_moment(v: Any) -> np.datetime64 | None:
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.UTC).replace(tzinfo=None)
        return np.datetime64(v, "us")
    if isinstance(v, dt.date):
        return np.datetime64(v, "D")
    if isinstance(v, str):
        try:
            text = v.strip().replace(" ", "T").rstrip("Z")
            return np.datetime64(text, "D") if len(text) == 10 else np.datetime64(text, "us")
        except ValueError:
            return None
    return None


def moment(v: Any) -> np.datetime64:
    m = _parse_moment(v)
    if m is None:
        raise GengoError(f"'{v}' is not a date (YYYY-MM-DD) or timestamp (YYYY-MM-DD HH:MM:SS)")
    return m


def uniform(env: Env, name: str, col: s.Uniform) -> np.ndarray:
    if is_moment(col.min) or is_moment(col.max):
        lo, hi = moment(col.min), moment(col.max)
        unit = "D" if lo.dtype == np.dtype("datetime64[D]") and hi.dtype == np.dtype("datetime64[D]") else "s"
        a, b = (
            int(lo.astype(f"datetime64[{unit}]").astype(np.int64)),
            int(hi.astype(f"datetime64[{unit}]").astype(np.int64)),
        )
        v = rand.integers(env.key(name), env.idx, a, b)
        return (v.astype(f"datetime64[{unit}]")).astype("datetime64[D]" if unit == "D" else "datetime64[us]")
    if isinstance(col.min, int) and isinstance(col.max, int) and _int_kind(env, name):
        if col.unique:
            span = col.max - col.min + 1
            if env.rows_of(env.table) > span:
                raise GengoError(
                    f"{env.table}.{name}: {env.rows_of(env.table)} rows cannot have unique values in "
                    f"[{col.min}, {col.max}]"
                )
            return col.min + rand.Permutation(env.key(name, "permutation"), span)(env.idx)
        return rand.integers(env.key(name), env.idx, col.min, col.max)
    if col.min == 0 and col.max == 1:  # the same values, two passes fewer
        return env.uniform(name)
    return col.min + (col.max - col.min) * env.uniform(name)


def _int_kind(env: Env, name: str) -> bool:
    t = env.model.types[(env.table, name)]
    return pa.types.is_integer(t)


def normal(env: Env, name: str, col: s.Normal) -> np.ndarray:
    return _clip(col.mean + col.sd * rand.normal(env.key(name), env.idx), col)


def lognormal(env: Env, name: str, col: s.LogNormal) -> np.ndarray:
    return _clip(col.median * fmath.exp(col.sigma * rand.normal(env.key(name), env.idx)), col)


def exponential(env: Env, name: str, col: s.Exponential) -> np.ndarray:
    return _clip(-col.mean * fmath.log1p(-env.uniform(name)), col)


def geometric(env: Env, name: str, col: s.Geometric) -> np.ndarray:
    out = col.min + rand.geometric(env.key(name), env.idx, col.p)
    return np.minimum(out, col.max) if col.max is not None else out


def poisson(env: Env, name: str, col: s.Poisson) -> np.ndarray:
    # Inverse CDF on a table of the distribution up to far in the tail: vectorised, exact. A large
    # mean takes the normal approximation instead (its skew is below 0.02 from mean 2,500 on).
    lam = float(col.mean)
    if lam > 2500:
        x = np.rint(lam + np.sqrt(lam) * rand.normal(env.key(name), env.idx))
        return _clip(np.maximum(x, 0), col).astype(np.int64)
    top = int(lam + 12 * np.sqrt(lam) + 12)
    k = np.arange(top + 1)
    log_factorial = np.concatenate([[0.0], np.cumsum(fmath.log(np.arange(1.0, top + 1)))])  # log k!
    logp = k * fmath.log(lam) - lam - log_factorial
    cdf = np.cumsum(fmath.exp(logp))
    out = np.searchsorted(cdf, env.uniform(name) * cdf[-1], side="right").astype(np.int64)
    return _clip(out, col).astype(np.int64)


def boolean(env: Env, name: str, col: s.Boolean) -> np.ndarray:
    return env.uniform(name) < col.p


# --- categories --------------------------------------------------------------------------------


def value_list(values: s.Values, weights: s.Weights | None) -> tuple[list[Any], np.ndarray]:
    if isinstance(values, dict):  # value: weight; keys are text in YAML, numbers when all read as numbers
        return _numeric_keys(list(values)), np.array(list(values.values()), dtype=np.float64)
    w = np.ones(len(values)) if weights is None else np.array(weights, dtype=np.float64)
    return list(values), w


def _numeric_keys(keys: list[str]) -> list[Any]:
    for kind in (int, float):
        try:
            return [kind(k) for k in keys]
        except (TypeError, ValueError):
            continue
    return keys


def as_values(items: list[Any], t: pa.DataType) -> Any:
    """A vocabulary of ``items`` in the internal representation of type ``t``."""
    if pa.types.is_string(t):
        return pa.array([None if v is None else str(v) for v in items], pa.string())
    # A listed null (None) holds a stand-in here; ``_pick_listed`` marks its rows NULL.
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        unit = "D" if pa.types.is_date(t) else "us"
        return np.array([moment(v) if v is not None else np.datetime64(0, unit) for v in items]).astype(
            f"datetime64[{unit}]"
        )
    if pa.types.is_boolean(t):
        return np.array([bool(v) for v in items])
    if pa.types.is_integer(t):
        return np.array([int(v) if v is not None else 0 for v in items], dtype=np.int64)
    return np.array([float(v) if v is not None else 0.0 for v in items], dtype=np.float64)


def _pick_listed(env: Env, name: str, items: list[Any], index: np.ndarray) -> Any:
    """``items[index]`` as column ``name``'s values; rows that picked a listed null are NULL."""
    nulls = [i for i, v in enumerate(items) if v is None]
    if nulls:
        env.model.extra_nulls(env, name, np.isin(index, nulls))
    return _pick(as_values(items, env.model.types[(env.table, name)]), index)


def _pick(vocabulary: Any, index: np.ndarray) -> Any:
    return take(vocabulary, index) if isinstance(vocabulary, pa.Array) else vocabulary[index]


def choice(env: Env, name: str, col: s.Choice) -> Any:
    items, weights = value_list(col.values, col.weights)
    if col.cycle:
        return _pick_listed(env, name, items, env.idx % len(items))
    return _pick_listed(env, name, items, rand.weighted_choice(env.key(name), env.idx, weights))


def conditional(env: Env, name: str, col: s.Conditional) -> Any:
    group = env.value(col.by)
    cases = list(col.cases.items())
    if col.default is not None:
        cases.append(("\x00default", col.default))
    items_all: list[Any] = []
    offsets, weights = [], []
    for _, vals in cases:
        items, w = value_list(vals, None)
        offsets.append(len(items_all))
        items_all.extend(items)
        weights.append(w)
    which = group_index(env, col.by, [key for key, _ in cases[: len(col.cases)]]).copy()
    if col.default is not None:
        which[which < 0] = len(cases) - 1
    elif (which < 0).any():
        missing = sorted({str(v) for v in _np_text(group)[which < 0][:1000]})[:3]
        raise GengoError(f"{env.table}.{name}: no case for {col.by} = {', '.join(missing)} (add them or a default)")
    grouped = rand.GroupedWeightedTable.of(weights)
    pick = grouped.choose(env.uniform(name), which)
    return _pick_listed(env, name, items_all, np.asarray(offsets)[which] + pick)


def group_index(env: Env, by: str, keys: list[str]) -> np.ndarray:
    """``case_index`` of column ``by``, once per chunk for every column that asks (the first and
    last names of one locale choice); read-only."""
    key = ("case", by, tuple(keys))
    if key not in env.memo:
        group = env.value(by)
        which = case_index(group, keys, env.memo.get(("labels", by)) if isinstance(group, pa.Array) else None)
        which.flags.writeable = False
        env.memo[key] = which
    return env.memo[key]


def case_index(group: Any, keys: list[str], labels: tuple[np.ndarray, pa.Array] | None = None) -> np.ndarray:
    """Index in ``keys`` of each row's group value written as text (-1: none), computed over the
    distinct values only (a dictionary of the strings, or the range of small integers).
    ``labels``: (indices, vocabulary) that ``group`` was taken from, where known: no strings to encode."""
    position = {k: i for i, k in enumerate(keys)}
    position.update({k.lower(): i for i, k in enumerate(keys) if k.lower() in ("true", "false")})
    if labels is not None:
        codes, vocabulary = labels
        distinct = vocabulary.to_pylist()
    elif isinstance(group, pa.Array):
        encoded = pc.dictionary_encode(group)
        distinct, codes = encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)
    else:
        arr = np.asarray(group)
        if arr.dtype.kind in "iu" and len(arr) and int(arr.max()) - int(arr.min()) < 1 << 20:
            low = int(arr.min())
            distinct, codes = range(low, int(arr.max()) + 1), arr - low
        elif arr.dtype == bool:
            distinct, codes = [False, True], arr.astype(np.int64)
        else:
            uniq, codes = np.unique(arr, return_inverse=True)
            distinct = uniq.tolist()
    lut = np.array([position.get(_key_text(v), -1) for v in distinct] or [-1], dtype=np.int64)
    return lut[codes.reshape(-1)]


def _key_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _np_text(values: Any) -> np.ndarray:
    if isinstance(values, pa.Array):
        return values.to_numpy(zero_copy_only=False)
    arr = np.asarray(values)
    if arr.dtype == bool:
        return np.where(arr, "true", "false").astype(object)
    return arr.astype(str).astype(object)


def constant(env: Env, name: str, col: s.Constant) -> Any:
    return _pick_listed(env, name, [col.value], np.zeros(env.n, dtype=np.int64))


# --- time --------------------------------------------------------------------------------------


def datetime(env: Env, name: str, col: s.DateTime) -> np.ndarray:
    start = int(moment(col.start).astype("datetime64[s]").astype(np.int64))
    end = int(moment(col.end).astype("datetime64[s]").astype(np.int64))
    if end <= start:
        raise GengoError(f"{env.table}.{name}: end {col.end} is not after start {col.start}")
    n = max(env.rows_of(env.table), 1)
    frac = (env.idx + env.uniform(name)) / n if col.increasing else env.uniform(name)
    seconds = start + (end - start) * fmath.power(frac, 1.0 / col.growth)
    seconds = seconds.astype(np.int64)
    if col.weekdays is not None:
        day = (seconds - start) // 86400
        weekday = (start // 86400 + day + 3) % 7
        want = rand.weighted_choice(env.key(name, "weekday"), env.idx, np.array(col.weekdays, float))
        back = (weekday - want) % 7
        moved = seconds - back * 86400
        seconds = np.where(moved >= start, moved, moved + 7 * 86400)
    if col.hours is not None:
        midnight = seconds - seconds % 86400
        hour = rand.weighted_choice(env.key(name, "hour"), env.idx, np.array(col.hours, float))
        seconds = midnight + hour * 3600 + rand.integers(env.key(name, "second"), env.idx, 0, 3599)
    if col.local_time_in is not None:  # the wall-clock times above are local: their UTC instants
        seconds = _to_utc(env, col.local_time_in, seconds, start, end)
    seconds = np.clip(seconds, start, end - 1)
    return (np.asarray(seconds, dtype=np.int64) * 1_000_000).view("datetime64[us]")  # one pass, the same values


def _to_utc(env: Env, column: str, local: np.ndarray, start: int, end: int) -> np.ndarray:
    value = env.value(column)
    codes = env.memo.get(("zone_codes", column))
    if codes is not None:  # an address's zones: numbers into the localities' zones (NULL rows' too)
        known = tuple(vocab.locality_zones().names.to_pylist())
        return timezones.to_utc_within(known, codes, local, start, end)
    zones = pc.dictionary_encode(_as_text(value))
    names = zones.dictionary.to_pylist()
    known = vocab.locality_zones().names.to_pylist()
    if None in names:
        raise GengoError(f"{env.table}.{column}: a time zone is NULL (local_time_in needs one on every row)")
    extra = sorted(set(names) - set(known))
    for z in extra:
        try:
            ZoneInfo(z)
        except (ValueError, KeyError, OSError):
            raise GengoError(f"{env.table}.{column}: '{z}' is not an IANA time zone (America/New_York, ...)") from None
    if extra:
        known = sorted(set(known) | set(extra))
    # One zone list for every chunk (the localities' zones where they suffice): a cached conversion.
    position = {z: i for i, z in enumerate(known)}
    lut = np.array([position[z] for z in names], dtype=np.int64)
    codes = lut[zones.indices.to_numpy(zero_copy_only=False)]
    return timezones.to_utc_within(tuple(known), codes, local, start, end)


# --- text --------------------------------------------------------------------------------------


_FAMILY_FIRST = ("ja", "zh", "ko")  # languages that write the family name first, with no space


def person(env: Env, name: str, col: s.Person) -> pa.Array:
    # Rows whose `locales.by` value is listed take that locale's names, from a stream of their own.
    others: list[tuple[str, np.ndarray]] = []
    if col.locales is not None:
        cases = list(col.locales.cases.items())
        which = group_index(env, col.locales.by, [k for k, _ in cases])
        others = [(locale, np.flatnonzero(which == i)) for i, (_, locale) in enumerate(cases)]
        others = [(locale, rows) for locale, rows in others if len(rows)]

    def draw(kind: str, *sub: str) -> pa.Array:
        names = _names_of((col.locale, *(locale for locale, _ in others)), kind, col.gender)
        pick = rand.weighted_choice(env.key(name, *sub), env.idx, names.weights[0])
        for j, (locale, rows) in enumerate(others, 1):
            key = env.key(name, *sub, locale)
            pick[rows] = names.offsets[j] + rand.weighted_choice(key, env.idx[rows], names.weights[j])
        if not sub:  # a first or last name column: its folded form, for an email built from it
            env.memo[("folded", name)] = (take(names.lower, pick), names.lower_has_empty)
        return take(names.values, pick)

    if col.strategy == "first_name":
        return draw("first")
    if col.strategy == "last_name":
        return draw("last")
    first, last = draw("first", "first"), draw("last", "last")
    western = join(first, " ", last)
    family_first = np.full(env.n, col.locale.split("_")[0] in _FAMILY_FIRST)
    for locale, rows in others:
        family_first[rows] = locale.split("_")[0] in _FAMILY_FIRST
    if not family_first.any():
        return western
    return pc.if_else(pa.array(family_first), join(last, first), western)


@dataclass(frozen=True)
class _Names:
    """The names of several locales in one vocabulary: ``offsets[j]`` is where locale j's start."""

    values: pa.Array
    lower: pa.Array  # folded to ASCII for emails
    offsets: tuple[int, ...]
    weights: tuple[np.ndarray, ...]
    lower_has_empty: bool


@functools.lru_cache(maxsize=32)
def _names_of(locales: tuple[str, ...], kind: str, gender: str) -> _Names:
    words = [vocab.locale_names(locale, kind, gender) for locale in locales]
    lower = pa.concat_arrays([w.lower for w in words])
    sizes = [len(w.values) for w in words]
    return _Names(
        values=pa.concat_arrays([w.values for w in words]),
        lower=lower,
        offsets=tuple(int(x) for x in np.concatenate([[0], np.cumsum(sizes)[:-1]])),
        weights=tuple(w.weights for w in words),
        lower_has_empty=bool(pc.any(pc.equal(pc.utf8_length(lower), 0)).as_py()),
    )


def ascii_lower(values: pa.Array) -> pa.Array:
    """``vocab.fold_ascii`` computed over the distinct values only (a column repeats its vocabulary)."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return vocab.fold_ascii(encoded.dictionary).take(encoded.indices)


def _folded(env: Env, column: str) -> tuple[pa.Array, bool]:
    """(ASCII lower case of a column, whether a value may be empty): a name column's from its vocabulary."""
    value = env.value(column)
    if ("folded", column) in env.memo and env.null(column) is None:
        return env.memo[("folded", column)]
    return ascii_lower(_as_text(value)), True


def email(env: Env, name: str, col: s.Email) -> pa.Array:
    first, empty = _folded(env, col.first or "first_name")
    last, _ = _folded(env, col.last or "last_name")
    items, weights = value_list(col.domains or DEFAULT_DOMAINS, None)
    domain = take(pa.array([str(d) for d in items]), rand.weighted_choice(env.key(name), env.idx, weights))
    # The row id keeps every address unique; names with no Latin letters give "user".
    if empty:
        first = pc.if_else(pc.equal(pc.utf8_length(first), 0), "user", first)
    return join(first, ".", last, to_text(env.idx + 1), "@", domain)


_VOCAB_METHODS = {
    "company": "company",
    "job_title": "job",
    "phone": "phone_number",
    "word": "word",
    "sentence": "sentence",
}


def vocabulary(env: Env, name: str, col: s.Vocabulary) -> pa.Array:
    if col.strategy == "country_name":
        pool = vocab.countries()
    elif col.strategy == "company" and col.locale == "en_US":
        pool = vocab.company_names()
    elif col.strategy == "paragraph":
        return _paragraph(env, name, col.locale)
    else:
        pool = vocab.locale_pool(col.locale, _VOCAB_METHODS[col.strategy])
    if col.distinct:  # a permutation of the pool: no repeat before every value is used
        return take(pool, rand.Permutation(env.key(name, "permutation"), len(pool))(env.idx % len(pool)))
    return take(pool, rand.integers(env.key(name), env.idx, 0, len(pool) - 1))


_SEPARATORS = pa.array([" ", "\n", ", and ", ' "Really." '])


def _paragraph(env: Env, name: str, locale: str) -> pa.Array:
    """Two or three sentences, joined by a space, a line break, a comma or a quotation: free text
    that exercises every CSV quoting rule."""
    pool = vocab.locale_pool(locale, "sentence")
    n = len(pool) - 1
    parts = [take(pool, rand.integers(env.key(name, str(i)), env.idx, 0, n)) for i in range(3)]
    seps = [
        take(_SEPARATORS, rand.weighted_choice(env.key(name, "sep", str(i)), env.idx, np.array([70, 20, 6, 4.0])))
        for i in range(2)
    ]
    three = env.uniform(name, "length") < 0.5
    tail = pc.if_else(pa.array(three), join(seps[1], parts[2]), "")
    return join(parts[0], seps[0], parts[1], tail)


_COUNTRY_CODES = pa.array(list(ADDRESS_COUNTRIES))


def address(env: Env, name: str, col: s.Address) -> pa.Array:
    pools = vocab.address_pools()
    weights = np.zeros(len(ADDRESS_COUNTRIES))
    if col.countries is None:
        weights[:] = pools.country_weights
    else:
        for code, w in col.countries.items():
            weights[ADDRESS_COUNTRIES[code]] = w
    key = ("address", col.block, col.country_by, tuple(weights))
    if key not in env.memo:  # the parts of one block share these draws: made once per chunk
        # With country_by, the country is the referenced row's: drawn in its table's stream at its
        # row, so an address column of that table (same block) gives the same country.
        if col.country_by:
            owner = env.model.referenced_table(env.table, col.country_by)
            country_key = rand.stream_key(env.seed, owner, "address", col.block, "country")
            country = rand.weighted_choice(country_key, env.target(col.country_by), weights)
        else:
            country = rand.weighted_choice(env.key("address", col.block, "country"), env.idx, weights)
        env.memo[key] = country
    country = env.memo[key]

    def pick(what: str, offset: np.ndarray, count: np.ndarray) -> np.ndarray:  # not kept: no cycle through env
        u = env.uniform("address", col.block, what)
        return offset[country] + np.minimum((u * count[country]).astype(np.int64), count[country] - 1)

    if col.part in ("country", "country_code"):
        names = pools.countries if col.part == "country" else _COUNTRY_CODES
        env.memo[("labels", name)] = (country, names)  # a case over this column compares numbers, not text
        return take(names, country)
    if (*key, "locality") not in env.memo:  # the block's locality: drawn once, where a part needs it
        env.memo[(*key, "locality")] = pick("locality", pools.locality_offset, pools.locality_count)
    loc = env.memo[(*key, "locality")]
    if col.part == "time_zone":
        zones = vocab.locality_zones()
        env.memo[("zone_codes", name)] = codes = zones.zone[loc]  # for local_time_in: no names to look up
        return codes if env.zone_numbers else take(zones.names, codes)
    if col.part == "city":
        return take(pools.city, loc)
    if col.part == "state":
        return take(pools.region, loc)
    if col.part == "postcode":
        return take(pools.postcode, loc)
    street = pick("street", pools.street_offset, pools.street_count)
    number = to_text(rand.integers(env.key("address", col.block, "number"), env.idx, 1, 19999))
    line = join(number, " ", take(pools.street_names, street))
    if col.part == "street":
        return line
    return join(line, ", ", take(pools.tail, loc))


def _as_text(value: Any) -> pa.Array:
    if isinstance(value, pa.Array):
        return value if pa.types.is_string(value.type) else pc.cast(value, pa.string())
    arr = np.asarray(value)
    if arr.dtype.kind == "M":
        unit = "D" if arr.dtype == np.dtype("datetime64[D]") else "us"
        return pc.cast(pa.array(arr.astype(f"datetime64[{unit}]")), pa.string())
    if arr.dtype.kind == "f":
        return pc.cast(pa.array(np.round(arr, 2)), pa.string())
    if arr.dtype == bool:
        return pc.cast(pa.array(arr), pa.string())
    return to_text(arr)


def template_parts(text: str) -> list[tuple[str, str | None, str | None, tuple[str, ...]]]:
    """(literal before, column, format, filters) for each placeholder; a final (literal, None, ...)."""
    out = []
    last = 0
    for m in PLACEHOLDER.finditer(text):
        if m.group(1) is None:  # {{ or }}: a literal brace
            continue
        body = m.group(1)
        name, _, filt = body.partition("|")
        name, _, fmt = name.partition(":")
        out.append(
            (
                text[last : m.start()],
                name.strip(),
                fmt.strip() or None,
                tuple(f.strip() for f in filt.split("|") if f.strip()),
            )
        )
        last = m.end()
    out.append((text[last:], None, None, ()))
    return out


_FILTERS = {"lower": pc.utf8_lower, "upper": pc.utf8_upper, "ascii": ascii_lower, "title": pc.utf8_title}


def template(env: Env, name: str, col: s.Template) -> pa.Array:
    pieces: list[pa.Array | str] = []
    for literal, ref, fmt, filters in template_parts(col.template):
        if literal:
            pieces.append(literal.replace("{{", "{").replace("}}", "}"))
        if ref is None:
            continue
        value = env.idx + 1 if ref == "id" and ref not in env.spec.columns else env.value(ref)
        text = _formatted(value, fmt)
        for f in filters:
            text = _FILTERS[f](text)
        pieces.append(text)
    if not any(isinstance(p, pa.Array) for p in pieces):
        return pa.array(["".join(pieces)] * env.n, pa.string())
    return join(*pieces)


def supported_format(fmt: str) -> bool:
    """``0N`` (zero padding to N characters, N <= 30) or ``.Nf`` (N decimals, N <= 12)."""
    if fmt.startswith("0") and fmt[1:].isdigit():
        return int(fmt[1:]) <= 30
    return fmt.startswith(".") and fmt.endswith("f") and fmt[1:-1].isdigit() and int(fmt[1:-1]) <= 12


def _formatted(value: Any, fmt: str | None) -> pa.Array:
    if fmt is None:
        return _as_text(value)
    arr = np.asarray(value)
    if fmt.startswith("0") and fmt[1:].isdigit() and arr.dtype.kind in "iu":
        width = int(fmt[1:])
        neg = arr < 0
        text = pc.utf8_lpad(to_text(np.abs(arr)), width=width, padding="0")
        return pc.if_else(pa.array(neg), join("-", text), text) if neg.any() else text
    if fmt.startswith(".") and fmt.endswith("f") and fmt[1:-1].isdigit() and arr.dtype.kind in "iuf":
        digits = int(fmt[1:-1])
        scaled = np.rint(arr.astype(np.float64) * 10**digits).astype(np.int64)
        whole, frac = np.divmod(np.abs(scaled), 10**digits)
        sign = pc.if_else(pa.array(scaled < 0), "-", "")
        if digits == 0:
            return join(sign, to_text(whole))
        return join(sign, to_text(whole), ".", pc.utf8_lpad(to_text(frac), width=digits, padding="0"))
    raise GengoError(f"format ':{fmt}' is not supported (use :08 for zero padding or :.2f for decimals)")


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def uuid(env: Env, name: str, col: s.Uuid) -> pa.Array:
    """Version-4 UUIDs from two 64-bit draws per row: deterministic, unique with overwhelming odds."""
    hi = rand.bits(env.key(name, "hi"), env.idx)
    lo = rand.bits(env.key(name, "lo"), env.idx)
    hi = (hi & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    lo = (lo & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    raw = np.empty((env.n, 2), dtype=">u8")
    raw[:, 0], raw[:, 1] = hi, lo
    nibbles = np.unpackbits(raw.view(np.uint8).reshape(env.n, 16), axis=1).reshape(env.n, 32, 4)
    digits = _HEX[(nibbles * np.array([8, 4, 2, 1], dtype=np.uint8)).sum(axis=2)]
    out = np.full((env.n, 36), ord("-"), dtype=np.uint8)
    for a, b, c in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        out[:, a:b] = digits[:, c : c + (b - a)]
    fixed = pa.Array.from_buffers(pa.binary(36), env.n, [None, pa.py_buffer(out.tobytes())])
    return fixed.cast(pa.binary()).cast(pa.string())


# --- keys --------------------------------------------------------------------------------------


def reference(env: Env, name: str, col: s.Reference) -> Any:
    n = env.rows_of(col.table)
    if col.table == env.table:  # a hierarchy: each row points to an earlier one (the first to none)
        return _earlier_row(env, name, col)
    if col.unique:
        if env.rows_of(env.table) > n:
            raise GengoError(
                f"{env.table}.{name}: {env.rows_of(env.table)} rows cannot reference distinct rows of "
                f"{col.table} ({n} rows)"
            )
        target = rand.Permutation(env.key(name, "permutation"), n)(env.idx)
    else:
        if col.weights is not None and len(col.weights) != n:
            raise GengoError(f"{env.table}.{name}: {len(col.weights)} weights for the {n} rows of {col.table}")

        perm = rand.Permutation(env.key(name, "permutation"), n) if col.distribution == "power_law" else None

        def draw(attempt: int, idx: np.ndarray) -> np.ndarray:
            key = env.key(name) if attempt == 0 else env.key(name, "redraw", str(attempt))
            if col.weights is not None:
                return rand.weighted_choice(key, idx, np.array(col.weights, dtype=np.float64))
            if perm is not None:
                return perm(rand.power_law_rank(key, idx, n, col.exponent))
            return rand.integers(key, idx, 0, n - 1)

        if col.distinct_within_parent:  # drawn for the whole parents the chunk touches
            rows, parent_idx, pos, pick = distinct.widen(env.fanout(), env.idx)
            target = distinct.distinct_picks(draw, n, rows, parent_idx, pos)[pick]
        else:
            target = draw(0, env.idx)
    env.targets[name] = target
    values, _ = parent_values(env, col.table, env.model.referenced_column(env.table, name), target)
    return values


def _earlier_row(env: Env, name: str, col: s.Reference) -> Any:
    """A row before this one, uniformly or by a power law favouring the first rows (the top of a
    hierarchy): no row points to itself, no chain goes round, and a database accepts the rows in
    key order. The first row has no earlier row: it is NULL."""
    earlier = np.maximum(env.idx, 1).astype(np.float64)
    u = env.uniform(name)
    if col.distribution == "power_law":
        if abs(col.exponent - 1.0) < 1e-12:
            x = fmath.exp(u * fmath.log(earlier + 1.0))
        else:
            e = 1.0 - col.exponent
            x = fmath.power(1.0 + u * (fmath.power(earlier + 1.0, e) - 1.0), 1.0 / e)
        target = x.astype(np.int64) - 1
    else:
        target = (u * earlier).astype(np.int64)
    target = np.clip(target, 0, np.maximum(env.idx - 1, 0))
    env.targets[name] = target
    first = env.idx == 0
    if first.any():
        env.model.extra_nulls(env, name, first)
    values, _ = parent_values(env, col.table, env.model.referenced_column(env.table, name), target)
    return values


def parent(env: Env, name: str, col: s.Parent) -> Any:
    target = env.parents if env.parents is not None else env.fanout().parent_of(env.idx)[0]
    env.targets[name] = target
    table = env.model.parent_table(env.table)
    values, _ = parent_values(env, table, env.model.referenced_column(env.table, name), target)
    return values


def position(env: Env, name: str, col: s.Position) -> np.ndarray:
    fan = env.fanout()
    if env.parents is not None:
        parent_idx = env.parents
        pos = env.idx - fan.offset(parent_idx)
    else:
        parent_idx, pos = fan.parent_of(env.idx)
    return fan.count(parent_idx) if col.strategy == "siblings" else pos + col.start


def belongs_to(env: Env, name: str, col: s.BelongsTo) -> Any:
    owner = env.target(col.via)
    if ("children", col.table, col.via) not in env.memo:  # billing and shipping of one customer: once
        fan = env.model.fanout(col.table, env.seed, env.rows)
        env.memo[("children", col.table, col.via)] = (fan.offset(owner), fan.count(owner), fan.low == 0)
    first, count, childless = env.memo[("children", col.table, col.via)]
    u = env.uniform(name) if col.pick in ("random", "not_first") else None
    # Rows whose owner has too few children for a clause get another clause's value (np.where) or
    # none at all (below): the clauses need no guard of their own.
    if col.pick == "first":
        target = first
    elif col.pick == "last":
        target = first + count - 1
    elif col.pick == "not_first":
        extra = np.minimum((u * (count - 1)).astype(np.int64), count - 2)
        target = first + np.where(count <= 1, 0, 1 + extra)
    else:
        target = first + np.minimum((u * count).astype(np.int64), count - 1)
    none = count == 0 if childless else None  # a fan-out of at least one child per owner has no such rows
    if none is not None and none.any():
        target = np.where(none, 0, target)
    else:
        none = None
        env.owners[name] = owner
    env.targets[name] = target
    values, _ = parent_values(env, col.table, env.model.referenced_column(env.table, name), target)
    if none is not None:
        env.model.extra_nulls(env, name, none)
    return values


def lookup(env: Env, name: str, col: s.Lookup) -> Any:
    table = env.model.referenced_table(env.table, col.via)
    zones = (env.table, name) in env.model.zone_numbers  # only local_time_in reads it: the zones' numbers
    values, nulls = parent_values(env, table, col.column, env.target(col.via), env.owners.get(col.via), name, zones)
    if zones:
        env.memo[("zone_codes", name)] = values
    for mask in (nulls, env.null(col.via)):  # NULL where the parent's value is, or where there is no parent
        if mask is not None:
            env.model.extra_nulls(env, name, mask)
    return values


# --- computed ----------------------------------------------------------------------------------


def expression(env: Env, name: str, col: s.Expression) -> Any:
    parsed = env.model.expressions[(env.table, name)]

    def column(ref: str) -> Any:
        return env.idx + 1 if ref == "id" and ref not in env.spec.columns else env.value(ref)

    def draw(k: int, fn: str, args: tuple) -> Any:
        key = env.key(name, "expr", str(k))
        if fn == "rand":
            return rand.uniform(key, env.idx)
        if fn == "randint":
            lo, hi = np.broadcast_arrays(np.asarray(args[0]), np.asarray(args[1]))
            if lo.ndim == 0:
                return rand.integers(key, env.idx, int(lo), int(hi))
            u = rand.uniform(key, env.idx)
            return lo + np.minimum((u * (hi - lo + 1)).astype(np.int64), hi - lo)
        mean, sd = args
        return mean + sd * rand.normal(key, env.idx)

    return expressions.evaluate(parsed, column, draw, env.n, env.null)


def python(env: Env, name: str, col: s.Python) -> Any:
    fn = env.model.functions[(env.table, name)]
    from gengo.core.schema import ChunkContext

    ctx = ChunkContext(seed=env.seed, rows=env.rows, table=env.table, idx=env.idx)
    where = f"{env.table}.{name}: {col.function}"  # Env.value puts the file's line first
    try:
        value = fn(ctx, env.value)
    except GengoError as e:
        if str(e).startswith(f"{env.model.source.name}:"):  # another column's, placed already
            raise
        raise GengoError(f"{env.table}.{name}: {e}") from None
    except Exception as e:  # the user's code: one line naming it, not gengo's traceback
        raise GengoError(f"{where} raised {type(e).__name__}: {e}") from None
    if hasattr(value, "__len__") and not isinstance(value, str | bytes) and len(value) != env.n:
        raise GengoError(f"{where} returned {len(value):,} values for {env.n:,} rows (one per row of ctx.idx)")
    return value


class LazyFunction:
    """A python column's function, imported at its first call: commands that read a model without
    generating it (verify, ddl, diagram, models) need not import the user's module."""

    def __init__(self, ref: str) -> None:
        self.ref, self._fn = ref, None
        # A bad reference or a missing function is said now; a module that cannot be imported
        # here, when the column is generated: reading the model needs no import.
        with contextlib.suppress(_NotImportable):
            self._fn = load_function(ref)

    def __call__(self, *args: Any) -> Any:
        if self._fn is None:
            self._fn = load_function(self.ref)
        return self._fn(*args)


class _NotImportable(GengoError):
    """The module of a python column's function cannot be imported (here, now)."""


def load_function(ref: str) -> Callable[..., Any]:
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise GengoError(f"function '{ref}' must be written 'package.module:function'")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except ImportError as e:
        raise _NotImportable(f"function '{ref}': cannot import {module} ({e})") from None
    except AttributeError:
        raise GengoError(f"function '{ref}': {module} has no '{attr}'") from None
    if not callable(fn):
        raise GengoError(f"function '{ref}' is not callable")
    return fn


STRATEGY_FUNCTIONS: dict[str, Callable[[Env, str, Any], Any]] = {
    "sequence": sequence,
    "uniform": uniform,
    "normal": normal,
    "lognormal": lognormal,
    "exponential": exponential,
    "geometric": geometric,
    "poisson": poisson,
    "choice": choice,
    "conditional": conditional,
    "constant": constant,
    "boolean": boolean,
    "datetime": datetime,
    "first_name": person,
    "last_name": person,
    "full_name": person,
    "email": email,
    "company": vocabulary,
    "job_title": vocabulary,
    "phone": vocabulary,
    "word": vocabulary,
    "sentence": vocabulary,
    "paragraph": vocabulary,
    "country_name": vocabulary,
    "address": address,
    "template": template,
    "uuid": uuid,
    "reference": reference,
    "parent": parent,
    "position": position,
    "siblings": position,
    "belongs_to": belongs_to,
    "lookup": lookup,
    "expr": expression,
    "python": python,
}
