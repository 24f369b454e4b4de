"""Parquet's per-table dictionary choice: the shortcuts give the answer a full count gives."""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gengo.formats import parquet
from gengo.formats.parquet import DICTIONARY_BUDGET, _count_distinct, dictionary_columns


def _reference(sample: pa.Table, group_rows: int) -> tuple[str, ...]:
    """Every column counted in full (the rule as first written)."""
    n = max(len(sample), 1)
    chosen = []
    for name, column in zip(sample.column_names, sample.columns, strict=True):
        distinct = pc.count_distinct(column).as_py()
        if distinct == n and n > 1000:
            continue
        projected = min(group_rows, distinct * max(1.0, group_rows / n))
        if projected * column.nbytes / n <= DICTIONARY_BUDGET:
            chosen.append(name)
    return tuple(chosen)


def _sample(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    cents = rng.integers(-(10**6), 10**6, rows)
    columns = {"key": pa.array(np.arange(rows))}
    for distinct in (3, 50, 900, 4_000, 20_000, 40_000, 60_000):
        values = rng.integers(0, distinct, rows)
        columns[f"int_{distinct}"] = pa.array(values)
        columns[f"text_{distinct}"] = pa.array([f"v{v}" for v in values])
        columns[f"money_{distinct}"] = pa.array(
            [
                None if v % 11 == 0 else decimal.Decimal(int(c % distinct)) / 100
                for v, c in zip(values, cents, strict=True)
            ],
            pa.decimal128(9, 2),
        )
    columns["wide_money"] = pa.array([decimal.Decimal(int(c)) / 100 for c in cents], pa.decimal128(30, 2))
    columns["empty"] = pa.nulls(rows, pa.int64())
    return pa.table(columns)


@pytest.mark.parametrize("rows", [500, 5_000, 65_536])
@pytest.mark.parametrize("group_rows", [1 << 16, 1 << 20])
def test_dictionary_choice_equals_a_full_count(rows: int, group_rows: int) -> None:
    sample = _sample(rows, seed=rows)
    chosen = dictionary_columns(sample, group_rows)
    assert chosen == _reference(sample, group_rows)
    assert "key" not in chosen or rows <= 1000
    assert "int_3" in chosen  # a handful of values always gets a dictionary


def test_prefix_refusal_is_used_and_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """Near-unique columns are refused from a prefix, without counting the whole column."""
    sample = _sample(65_536, seed=7)
    counted: list[int] = []
    real = parquet._count_distinct
    monkeypatch.setattr(parquet, "_count_distinct", lambda c: counted.append(len(c)) or real(c))
    assert dictionary_columns(sample, 1 << 20) == _reference(sample, 1 << 20)
    assert min(counted) < 65_536  # some column was decided from a prefix


def test_decimal_counts_on_low_words() -> None:
    rng = np.random.default_rng(3)
    values = [
        None if i % 7 == 0 else decimal.Decimal(int(x)) / 100
        for i, x in enumerate(rng.integers(-(10**17), 10**17, 4000))
    ]
    values += [decimal.Decimal("-0.01"), decimal.Decimal("0.01"), decimal.Decimal("0.01")]
    column = pa.chunked_array([pa.array(values, pa.decimal128(18, 2))])
    pieces = pa.chunked_array([column.chunk(0).slice(5, 100), column.chunk(0).slice(50, 3000)])
    for c in (column, column.slice(3), column.slice(101, 2000), pieces):
        assert _count_distinct(c) == pc.count_distinct(c).as_py()
