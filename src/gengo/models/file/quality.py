"""Pipeline-testing data: duplicates, late rows, outliers, stray whitespace, changed case and
out-of-domain values, each a pure function of (seed, table, row) like every other value.

A duplicate row is the row before it evaluated again (its key too), so it is exact; a
duplicate never follows a duplicate. Every other defect is drawn for the *source* row (the
row a duplicate copies), so a copy of an outlier is an outlier too. ``counts`` recomputes the
same masks over every row, block by block, for the manifest: a test can count them with SQL.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import fmath, rand
from gengo.models.file import spec as s
from gengo.models.file.columns import Env

COUNT_BLOCK = 1 << 22
OUT_OF_DOMAIN_TEXT = "UNKNOWN"
OUT_OF_DOMAIN_NUMBER = -999
_PADS = pa.array([" ", "  ", "\t"])


def _draw(seed: int, table: str, idx: np.ndarray, *names: str) -> np.ndarray:
    return rand.uniform(rand.stream_key(seed, table, "quality", *names), idx)


def source_rows(seed: int, table: str, q: s.Quality | None, idx: np.ndarray) -> np.ndarray:
    """The row each output row is evaluated as: the one before it for a duplicate."""
    if q is None or q.duplicates <= 0:
        return idx
    return np.where(duplicates(seed, table, q.duplicates, idx), idx - 1, idx)


def duplicates(seed: int, table: str, rate: float, idx: np.ndarray) -> np.ndarray:
    here = _draw(seed, table, idx, "duplicate") < rate
    before = _draw(seed, table, idx - 1, "duplicate") < rate
    return here & ~before & (idx > 0)


def masks(seed: int, table: str, tspec: s.TableSpec, src: np.ndarray) -> dict[str, np.ndarray]:
    """Which source rows carry each defect: {"late": ..., "outliers.price": ...}."""
    out = {}
    q = tspec.quality
    if q is not None and q.late > 0:
        out["late"] = _draw(seed, table, src, "late") < q.late
    for name, col in tspec.columns.items():
        cq = col.quality
        if cq is None:
            continue
        taken = None  # a value carries one defect at most: later kinds skip rows an earlier one took
        for kind in ("outliers", "whitespace", "case", "out_of_domain"):
            rate = getattr(cq, kind)
            if rate > 0:
                mask = _draw(seed, table, src, name, kind) < rate
                if taken is not None:
                    mask &= ~taken
                taken = mask if taken is None else (taken | mask)
                out[f"{kind}.{name}"] = mask
    return out


def apply(env: Env, values: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """The chunk's columns with the defects of its source rows applied (``env.idx`` are the source rows)."""
    tspec = env.spec
    for key, mask in masks(env.seed, env.table, tspec, env.idx).items():
        if not mask.any():
            continue
        if key == "late":
            name = tspec.quality.late_column  # type: ignore[union-attr]
            days = rand.integers(
                rand.stream_key(env.seed, env.table, "quality", "late_days"), env.idx, 1, tspec.quality.late_days
            )  # type: ignore[union-attr]
            arr = values[name]
            unit = "D" if pa.types.is_date(arr.type) else "us"
            shift = pa.array(
                np.where(mask, days, 0).astype(np.int64).astype("timedelta64[D]").astype(f"timedelta64[{unit}]")
            )
            if unit == "D":
                moved = pa.array(
                    arr.cast(pa.int32()).to_numpy(zero_copy_only=False) - np.where(mask, days, 0),
                    type=pa.int32(),
                    mask=np.asarray(arr.is_null()),
                ).cast(pa.date32())
            else:
                moved = pc.subtract(arr, shift.cast(pa.duration("us")))
            values[name] = moved
            continue
        kind, name = key.split(".", 1)
        values[name] = _defect(env, name, kind, mask, values[name])
    return values


def _defect(env: Env, name: str, kind: str, mask: np.ndarray, arr: pa.Array) -> pa.Array:
    m = pa.array(mask)
    t = arr.type
    if kind == "outliers":
        u = rand.uniform(rand.stream_key(env.seed, env.table, "quality", name, "factor"), env.idx)
        factor = fmath.power(10.0, 1 + 2 * u)
        if pa.types.is_decimal(t):
            scaled = pc.multiply(arr.cast(pa.float64()), pa.array(factor))
            scaled = pc.round(scaled, t.scale)
            return pc.if_else(m, pc.cast(scaled, t, safe=False), arr)
        if pa.types.is_integer(t):
            scaled = pc.cast(pc.round(pc.multiply(arr.cast(pa.float64()), pa.array(factor))), t, safe=False)
            return pc.if_else(m, scaled, arr)
        return pc.if_else(m, pc.multiply(arr.cast(pa.float64()), pa.array(factor)).cast(t), arr)
    if kind == "whitespace":
        key = rand.stream_key(env.seed, env.table, "quality", name, "pad")
        pad = _PADS.take(pa.array(rand.integers(key, env.idx, 0, len(_PADS) - 1)))
        side = rand.integers(rand.stream_key(env.seed, env.table, "quality", name, "side"), env.idx, 0, 2)
        left = pc.if_else(pa.array(side != 1), pad, "")
        right = pc.if_else(pa.array(side != 0), pad, "")
        return pc.if_else(m, pc.binary_join_element_wise(left, arr, right, ""), arr)
    if kind == "case":
        # Lower-case text turns upper, anything else lower: a value with letters always changes.
        lower = pc.utf8_lower(arr)
        changed = pc.if_else(pc.equal(arr, lower), pc.utf8_upper(arr), lower)
        return pc.if_else(m, changed, arr)
    # out of domain
    bad = pa.scalar(OUT_OF_DOMAIN_TEXT if pa.types.is_string(t) else OUT_OF_DOMAIN_NUMBER).cast(t)
    return pc.if_else(m, bad, arr)


def counts(cm: Any, seed: int, rows: dict[str, int]) -> dict[str, dict[str, int]]:
    """Defects per table over all of its rows, the way the chunks make them (NULL values excluded)."""
    out: dict[str, dict[str, int]] = {}
    for table, tspec in cm.tables.items():
        q = tspec.quality
        has = (q is not None and (q.duplicates > 0 or q.late > 0)) or any(c.quality for c in tspec.columns.values())
        if not has:
            continue
        total: dict[str, int] = {}
        n = rows[table]
        for start in range(0, n, COUNT_BLOCK):
            idx = np.arange(start, min(n, start + COUNT_BLOCK), dtype=np.int64)
            if q is not None and q.duplicates > 0:
                total["duplicates"] = total.get("duplicates", 0) + int(duplicates(seed, table, q.duplicates, idx).sum())
            src = source_rows(seed, table, q, idx)
            for key, mask in masks(seed, table, tspec, src).items():
                name = q.late_column if key == "late" else key.split(".", 1)[1]  # type: ignore[union-attr]
                col = tspec.columns[name]
                if col.null_rate > 0:
                    env = Env(cm, table, seed, rows, src)
                    null = env.null(name)
                    if null is not None:
                        mask = mask & ~null
                total[key] = total.get(key, 0) + int(mask.sum())
        out[table] = total
    return out


def value_kinds(col: Any) -> tuple[str, ...]:
    return tuple(
        k for k in ("outliers", "whitespace", "case", "out_of_domain") if col.quality and getattr(col.quality, k) > 0
    )
