"""Target size -> row counts, calibrated on what the writers really produce.

A model's row counts follow from one scale number. For a candidate scale we encode samples
of every table with the real writer (whole tables when they are small, a few contiguous
blocks spread over the key range when they are large), extrapolate each table's bytes, and
rescale until the total lands on the target. Samples use a fixed seed so planned counts do
not depend on the user's seed (fan-out totals aside, which move by a few rows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from gengo.core.errors import GengoError
from gengo.core.schema import Model, Table
from gengo.formats import Format, WriteOptions
from gengo.formats.base import TextFormat

SMALL_SAMPLE = 16_384  # rows per table in the small calibration sample
LARGE_SAMPLE = 65_536  # ... and in the large one (a superset)
PLAIN_SAMPLE = 16_384  # rows per table for plain text, which has no per-unit costs (sizes within 0.3% of 32 Ki)
SAMPLE_BLOCKS = 4
QUICK_DIVISOR = 4  # the first round only locates the scale: samples this many times smaller
# Compressed text (gzip, zstd): samples half the size (32 Ki and 8 Ki rows). Compressing them was
# 85-90% of planning (zlib at level 6; ecommerce -s 1 gzip CSV: 3.1 s of 3.5 s); measured against
# the written files, the estimates are as close as with full samples (within 0.1-0.4 points).
COMPRESSED_TEXT_DIVISOR = 2
TEXT_SETTLED = 0.05
SETTLED = 0.02  # with a measured starting point, stop once a round moves the scale by at most this fraction
_CALIBRATION_SEED = 0
_ITERATIONS = 4
MAX_ROWS = 10**13
MAX_SCALE = 10**13


@dataclass(frozen=True)
class TableEstimate:
    """Bytes of one table file: ``fixed + per_unit * units + bytes_per_row * rows``.

    A unit is what the writer pays a set-up cost for, again and again: a Parquet row group
    (its dictionaries), a gzip member or zstd frame of compressed text.
    """

    rows: int
    fixed_bytes: int  # header / footer, paid once per file
    bytes_per_row: float
    per_unit_bytes: float = 0.0
    unit_rows: int | None = None
    hints: dict | None = None  # the format's per-table encoding choices, reused by the writer

    @property
    def total(self) -> int:
        units = -(-self.rows // self.unit_rows) if self.unit_rows and self.rows else 0
        return int(round(self.fixed_bytes + units * self.per_unit_bytes + self.rows * self.bytes_per_row))


def _sample_indices(rows: int, size: int) -> np.ndarray:
    """``size`` rows as a few contiguous blocks spread over ``[0, rows)``."""
    if rows <= size:
        return np.arange(rows, dtype=np.int64)
    block = size // SAMPLE_BLOCKS
    # Blocks centred in equal slices of the key range: ids near 0 (short numbers) are not overweighted.
    starts = ((np.arange(SAMPLE_BLOCKS) + 0.5) * rows / SAMPLE_BLOCKS - block / 2).astype(np.int64)
    starts = np.clip(starts, 0, rows - block)
    return np.concatenate([np.arange(s, s + block, dtype=np.int64) for s in starts])


def key_columns(table: Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(primary key columns, foreign key columns): what a database indexes."""
    return table.primary_key, tuple(col for col, _, _ in table.foreign_keys)


def estimate_table(
    table: Table, rows: Mapping[str, int], fmt: Format, seed: int, options: WriteOptions, divisor: int = 1
) -> TableEstimate:
    """Fitted costs of one table at the row counts ``rows``; ``divisor`` shrinks the samples (rougher, faster)."""
    n = rows[table.name]
    database = fmt.database
    # Plain text has no per-unit costs: one smaller sample gives its bytes per row. A database's
    # table has a set-up cost of its own (blocks, index roots) that two samples separate out.
    per_unit_costs = fmt.unit_rows(options, None) is not None or database
    large_idx = _sample_indices(n, (LARGE_SAMPLE if per_unit_costs else PLAIN_SAMPLE) // divisor)
    large = table.generate(seed, rows, large_idx)
    hints = fmt.choose_hints(large, options) if n else None
    if database:  # a database's size includes its key indexes
        hints = {**(hints or {}), "table": table.name, "keys": key_columns(table)}
    fixed = fmt.file_bytes(table.schema.empty_table(), options, hints)
    if n == 0:
        return TableEstimate(0, fixed, 0.0, hints=hints)
    large_bytes = fmt.file_bytes(large, options, hints)
    if n <= len(large_idx):  # small table: the sample is the table (exact at this row count)
        return TableEstimate(n, fixed, (large_bytes - fixed) / n, hints=hints)
    if not per_unit_costs:
        return TableEstimate(n, fixed, max(large_bytes - fixed, 0) / len(large_idx), hints=hints)
    # Two sample sizes separate the per-row cost from per-unit set-up costs.
    small_idx = _sample_indices(n, SMALL_SAMPLE // divisor)
    pos = np.searchsorted(large_idx, small_idx)
    small_bytes = fmt.file_bytes(large.take(pa.array(pos)), options, hints)
    per_row = (large_bytes - small_bytes) / (len(large_idx) - len(small_idx))
    per_unit = small_bytes - fixed - per_row * len(small_idx)
    unit_rows = fmt.unit_rows(options, hints)
    if database and per_row > 0:  # one "unit" per table: the file's table set-up
        return TableEstimate(n, fixed + max(per_unit, 0), per_row, hints=hints)
    if per_row <= 0 or per_unit < 0 or unit_rows is None:
        return TableEstimate(n, fixed, max(large_bytes - fixed, 0) / len(large_idx), hints=hints)
    return TableEstimate(n, fixed, per_row, per_unit, unit_rows, hints)


def estimate(
    model: Model,
    rows: Mapping[str, int],
    fmt: Format,
    seed: int,
    tables: Sequence[str],
    options: WriteOptions,
    cache: dict[tuple[str, int, int], TableEstimate] | None = None,
    divisor: int = 1,
    threads: int = 1,
) -> dict[str, TableEstimate]:
    """Estimates per table; with ``cache``, a table whose row count is unchanged is not re-sampled.

    With ``threads`` > 1 tables are sampled in parallel (NumPy, Arrow and the encoders release
    the GIL); each estimate is a pure function of its arguments, so the result is the same.
    """
    cache = {} if cache is None else cache
    todo = [name for name in tables if (name, rows[name], divisor) not in cache]

    def one(name: str) -> TableEstimate:
        return estimate_table(model.table(name), rows, fmt, seed, options, divisor)

    if threads > 1 and len(todo) > 1:
        # A few rows of each table first, in this thread: what models load or build on first
        # use (imports, vocabularies, caches) must not happen in two threads at once.
        for name in todo:
            model.table(name).generate(seed, rows, np.arange(min(rows[name], 8), dtype=np.int64))
        with ThreadPoolExecutor(min(threads, len(todo))) as pool:
            found = dict(zip(todo, pool.map(one, todo), strict=True))
    else:
        found = {name: one(name) for name in todo}
    for name, e in found.items():
        cache[(name, rows[name], divisor)] = e
    return {name: cache[(name, rows[name], divisor)] for name in tables}


def predict(est: Mapping[str, TableEstimate], rows: Mapping[str, int]) -> int:
    """Total bytes of the tables in ``est`` at other row counts, from their fitted costs."""
    return sum(replace(e, rows=rows[name]).total for name, e in est.items())


def check_pins(model: Model, pins: Mapping[str, int]) -> None:
    """Reject overrides naming unknown tables, non-positive counts or fixed-size tables."""
    small = mid = large = None
    for name, n in pins.items():
        if name not in model.table_names:
            raise GengoError(
                f"unknown table '{name}' in --rows: tables of {model.name} are {', '.join(model.table_names)}"
            )
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise GengoError(f"invalid row count {name}={n}: it must be a whole number >= 1")
        if n > MAX_ROWS:
            raise GengoError(f"invalid row count {name}={n}: at most {MAX_ROWS:,}")
        # Fixed-size tables keep their count. Counts at scale 10**9 (fan-outs summed over a
        # billion parents: seconds for a model file's nested ones) only for a count that asks to
        # change and did not grow from scale 1 to 4096.
        if small is None:
            small, mid = model.row_counts(1, 0), model.row_counts(4096, 0)
        if n != small[name] and small[name] == mid[name]:
            if large is None:
                large = model.row_counts(10**9, 0)
            if small[name] == large[name]:
                raise GengoError(f"table '{name}' always has {small[name]} rows; it cannot be changed with --rows")


def _counts(model: Model, scale: int, seed: int, pins: Mapping[str, int]) -> dict[str, int]:
    rows = model.row_counts(scale, seed)
    if pins and model.derive is not None:
        rows.update(pins)
        rows.update(model.derive(rows, seed, pinned=tuple(pins)))
    return rows


def _scale_for_pin(model: Model, table: str, n: int, seed: int) -> int:
    """Smallest scale whose count for ``table`` is nearest to ``n`` (counts grow with scale)."""
    lo, hi = 1, 1
    while model.row_counts(hi, seed)[table] < n and hi < 2**50:
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if model.row_counts(mid, seed)[table] < n:
            lo = mid + 1
        else:
            hi = mid
    below = max(1, lo - 1)
    if abs(model.row_counts(below, seed)[table] - n) < abs(model.row_counts(lo, seed)[table] - n):
        return below
    return lo


def resolve_rows(
    model: Model,
    fmt: Format,
    seed: int,
    target_bytes: int | None,
    pins: Mapping[str, int] | None = None,
    tables: Sequence[str] | None = None,
    options: WriteOptions | None = None,
    threads: int = 1,
) -> tuple[dict[str, int], dict[str, TableEstimate]]:
    """Row counts for a target size and/or ``--rows`` overrides, with per-table size estimates.

    With a target, the scale is calibrated so the written files land on it (overridden tables
    keep their counts). Without one, the largest overridden table sets the scale and the other
    tables follow the model's ratios.
    """
    pins = dict(pins or {})
    tables = tuple(tables or model.table_names)
    options = options or WriteOptions()
    check_pins(model, pins)
    if getattr(fmt, "sizes_as", None):  # planned as another format (PostgreSQL loads: as CSV files)
        from gengo.formats import FORMATS

        rows, est = resolve_rows(model, FORMATS[fmt.sizes_as], seed, target_bytes, pins, tables, options, threads)
        if getattr(fmt, "database", False):  # its sinks load by table name
            est = {
                n: replace(e, hints={**(e.hints or {}), "table": n, "keys": key_columns(model.table(n))})
                for n, e in est.items()
            }
        return rows, est
    if target_bytes is None:
        if not pins:
            raise GengoError("give a target size or at least one --rows TABLE=N")
        reference = model.row_counts(10**6, _CALIBRATION_SEED)
        driver = max(pins, key=lambda t: (reference[t], pins[t]))
        scale = _scale_for_pin(model, driver, pins[driver], _CALIBRATION_SEED)
        rows = _counts(model, scale, seed, pins)
        return rows, estimate(model, rows, fmt, _CALIBRATION_SEED, tables, options, threads=threads)
    scale, est = _calibrate(model, fmt, target_bytes, pins, tables, options, threads)
    rows = _counts(model, scale, seed, pins)
    for name, n in pins.items():
        # A count that follows from a parent's (an order's lines) cannot be fixed while --size
        # sizes the parent: say so rather than write a count nobody asked for.
        if abs(rows[name] - n) > max(10, PINS_SLACK * n):
            raise GengoError(
                f"--rows {name}={n:,} cannot hold with --size: the count of {name} follows from its parent "
                f"table's, which --size sets ({rows[name]:,} rows here); pin the parent table instead, "
                "or leave out --size to size the dataset by --rows"
            )
    if pins and scale == 1:  # the smallest scale, and maybe still too large
        _check_pins_fit(model, fmt, target_bytes, pins, predict(est, _counts(model, scale, _CALIBRATION_SEED, pins)))
    return rows, {name: replace(e, rows=rows[name]) for name, e in est.items()}


PINS_SLACK = 0.05  # what sizing itself may miss by


def _check_pins_fit(model: Model, fmt: Format, target: int, pins: Mapping[str, int], planned: int) -> None:
    """Refuse --rows and --size that cannot both hold: tables fixed so large that the smallest
    dataset around them exceeds the target (the other tables would shrink to a row or two)."""
    if planned <= target * (1 + PINS_SLACK):
        return
    fixed = " ".join(f"{name}={n}" for name, n in pins.items())
    raise GengoError(
        f"--rows {fixed} and --size {target / 1e6:,.2f} MB cannot both hold: with those rows the smallest "
        f"{model.name} dataset in {fmt.name} is about {planned / 1e6:,.2f} MB; give a larger --size, "
        "or leave out --size to size the dataset by --rows"
    )


def _calibrate(
    model: Model,
    fmt: Format,
    target_bytes: int,
    pins: Mapping[str, int],
    tables: Sequence[str],
    options: WriteOptions,
    threads: int = 1,
) -> tuple[int, dict[str, TableEstimate]]:
    """The scale whose predicted size is nearest the target, and the estimates behind it.

    Each round samples the tables at the current scale, then solves for the scale with the
    fitted per-table costs (cheap: row counts only). Sampling again at the solution corrects what
    changes with scale (longer keys, dictionaries, database blocks). The search starts from a
    guess made from the column types and a first round with small samples locates the scale;
    text and Parquet sizes barely depend on scale, so there a move under ``SETTLED`` ends the
    search. Otherwise (compression, a subset of tables, --rows, databases) the rounds go on until
    the scale moves by 0.5% or less.

    Nothing here depends on anything but the model's schema, row-count graph and data, so two
    models that write the same bytes (a built-in and its model file) get the same counts.
    """
    if not math.isfinite(target_bytes) or target_bytes <= 0:
        raise ValueError("target size must be positive")
    applies = options.compression is None and not pins and set(tables) == set(model.table_names)
    scale = max(1, round(target_bytes / _guess_bytes_per_scale(model, fmt)))
    cache: dict[tuple[str, int, int], TableEstimate] = {}

    def round_at(scale: int, divisor: int) -> tuple[int, dict[str, TableEstimate]]:
        rows = _counts(model, scale, _CALIBRATION_SEED, pins)
        est = estimate(model, rows, fmt, _CALIBRATION_SEED, tables, options, cache, divisor, threads)
        return _solve(model, est, target_bytes, pins, scale), est

    compressed = options.compression is not None and options.codec(fmt) != "none"
    scale, _ = round_at(scale, QUICK_DIVISOR)  # the guess may be far off: locate the scale cheaply first
    # Compressed text: its bytes per row barely move with the scale (re-sampled 4.5% further on,
    # ecommerce gzip CSV's estimate moved by 0.2%), so once the quick round has located the scale,
    # a round that moves it by at most TEXT_SETTLED ends the search.
    text = compressed and isinstance(fmt, TextFormat)
    tolerance = TEXT_SETTLED if text else SETTLED if applies else 0.005
    divisor = COMPRESSED_TEXT_DIVISOR if text else 1
    est: dict[str, TableEstimate] = {}
    for _ in range(_ITERATIONS):
        new_scale, est = round_at(scale, divisor)
        settled = abs(new_scale - scale) <= max(1, scale * tolerance)
        scale = new_scale
        if settled:
            break
    return scale, est


_GUESS_SCALE = 10_000
# Rough bytes of a value as text, and each format's size against CSV: only a starting point.
_FORMAT_FACTOR = {"json": 2.5, "parquet": 0.4}


def _guess_bytes(t: pa.DataType) -> float:
    if pa.types.is_string(t):
        return 14.0
    if pa.types.is_timestamp(t):
        return 26.0
    if pa.types.is_date(t):
        return 11.0
    return 8.0


def _guess_bytes_per_scale(model: Model, fmt: Format) -> float:
    """Bytes per unit of scale guessed from the column types and the row counts at a fixed scale."""
    rows = model.row_counts(_GUESS_SCALE, _CALIBRATION_SEED)
    csv = sum(rows[t.name] / _GUESS_SCALE * sum(_guess_bytes(c.type) for c in t.columns) for t in model.tables)
    return max(csv * _FORMAT_FACTOR.get(getattr(fmt, "sized_as", None) or fmt.name, 1.0), 1.0)


def _solve(model: Model, est: Mapping[str, TableEstimate], target: int, pins: Mapping[str, int], guess: int = 1) -> int:
    """Smallest scale whose predicted size reaches ``target`` (or the nearer of it and the one below).

    The bracket grows from ``guess`` (the previous round's scale, near the answer) in steps that
    double: row counts with independent fan-out are exact sums over every parent, so a scale
    evaluated far above the answer costs a pass over parents the plan never has.
    """

    sizes: dict[int, int] = {}

    def size(s: int) -> int:
        if s not in sizes:
            sizes[s] = predict(est, _counts(model, s, _CALIBRATION_SEED, pins))
        return sizes[s]

    lo = hi = max(1, min(guess, MAX_SCALE))
    step = max(1, hi // 64)
    current = size(hi)
    if current < target:
        while current < target and hi < MAX_SCALE:
            before = current
            lo, hi, step = hi, min(MAX_SCALE, hi + step), step * 2
            current = size(hi)
            if pins and current == before and size(min(MAX_SCALE, hi * 2)) == before:
                # --rows holds every table that grows: no scale reaches the target (and a search
                # up to MAX_SCALE would count fan-outs over trillions of parents)
                fixed = " ".join(f"{name}={n}" for name, n in pins.items())
                raise GengoError(
                    f"--rows {fixed} fixes every table that grows with the size: the dataset is about "
                    f"{before / 1e6:,.2f} MB whatever --size says ({target / 1e6:,.2f} MB); leave out --size "
                    "or some of the --rows"
                )
    else:
        while lo > 1 and size(lo) >= target:
            hi, lo, step = lo, max(1, lo - step), step * 2
    lo = _first_reaching(size, target, lo, hi)
    below = max(1, lo - 1)
    return below if abs(size(below) - target) < abs(size(lo) - target) else lo


def _first_reaching(size, target: int, lo: int, hi: int) -> int:
    """Smallest scale in [lo, hi] whose size reaches ``target`` (hi if none does), for a size that
    never falls as the scale grows: bisection's answer. Sizes are close to linear in the scale, so
    the point interpolated between the bracket's ends is nearly always the answer or its neighbour,
    and both are tried; each evaluation counts a model's rows (fan-out sums over every parent:
    milliseconds for ecommerce-ds), a bisection over a bracket of 2,000 scales took eleven."""
    if size(lo) >= target:
        return lo
    if size(hi) < target:
        return hi
    below, reach = lo, hi  # size(below) < target <= size(reach)
    bisect = False
    while reach - below > 1:
        if bisect:  # the last step kept more than half: halve, so the worst case stays bisection's
            c = (below + reach) // 2
        else:
            a, z = size(below), size(reach)
            c = below + int((target - a) * (reach - below) / (z - a))
            c = min(max(c, below + 1), reach - 1)
        width = reach - below
        if size(c) >= target:
            reach = c
            if c - 1 > below and size(c - 1) < target:
                below = c - 1
        else:
            below = c
            if c + 1 < reach and size(c + 1) >= target:
                reach = c + 1
        bisect = not bisect and 2 * (reach - below) > width
    return reach
