"""Target size -> row counts, calibrated on what the writers really produce.

A model's row counts follow from one scale number. For a candidate scale we encode samples
of every table with the real writer (whole tables when they are small, a few contiguous
blocks spread over the key range when they are large), extrapolate each table's bytes, and
rescale until the total lands on the target. Samples use a fixed seed so planned counts do
not depend on the user's seed (fan-out totals aside, which move by a few rows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gengo.schema import Model, Table
from gengo.writers import Format

GB = 10**9  # --size is in decimal gigabytes
SAMPLE_ROWS = 24_000  # rows encoded per table and estimate
SAMPLE_BLOCKS = 3
_CALIBRATION_SEED = 0
_ITERATIONS = 4


@dataclass(frozen=True)
class TableEstimate:
    rows: int
    fixed_bytes: int  # header / footer, paid once per file
    bytes_per_row: float

    @property
    def total(self) -> int:
        return int(round(self.fixed_bytes + self.rows * self.bytes_per_row))


def _sample_indices(rows: int) -> np.ndarray:
    if rows <= SAMPLE_ROWS:
        return np.arange(rows, dtype=np.int64)
    block = SAMPLE_ROWS // SAMPLE_BLOCKS
    starts = np.linspace(0, rows - block, SAMPLE_BLOCKS).astype(np.int64)
    return np.concatenate([np.arange(s, s + block, dtype=np.int64) for s in starts])


def estimate_table(table: Table, rows: Mapping[str, int], fmt: Format, seed: int) -> TableEstimate:
    n = rows[table.name]
    fixed = fmt.file_bytes(table.schema.empty_table())
    idx = _sample_indices(n)
    if len(idx) == 0:
        return TableEstimate(0, fixed, 0.0)
    sample: pa.Table = table.generate(seed, rows, idx)
    size = fmt.file_bytes(sample)
    return TableEstimate(n, fixed, max(size - fixed, 0) / len(idx))


def estimate(model: Model, rows: Mapping[str, int], fmt: Format, seed: int) -> dict[str, TableEstimate]:
    return {t.name: estimate_table(t, rows, fmt, seed) for t in model.tables}


def rows_for_target(
    model: Model, fmt: Format, target_bytes: int, seed: int
) -> tuple[dict[str, int], dict[str, TableEstimate]]:
    """Row counts whose written size is closest to ``target_bytes``, with per-table estimates."""
    if not math.isfinite(target_bytes) or target_bytes <= 0:
        raise ValueError("target size must be positive")
    scale = max(1, round(target_bytes / model.bytes_per_scale_hint))
    seen: set[int] = set()
    for _ in range(_ITERATIONS):
        est = estimate(model, model.row_counts(scale, _CALIBRATION_SEED), fmt, _CALIBRATION_SEED)
        fixed = sum(e.fixed_bytes for e in est.values())
        total = sum(e.total for e in est.values())
        variable = total - fixed
        if variable <= 0:
            break
        new_scale = max(1, round(scale * (target_bytes - fixed) / variable))
        if new_scale == scale or new_scale in seen:
            break
        seen.add(scale)
        scale = new_scale
    rows = model.row_counts(scale, seed)
    return rows, estimate(model, rows, fmt, _CALIBRATION_SEED)
