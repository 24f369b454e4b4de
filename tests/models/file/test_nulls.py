"""NULLs in model files: null_rate, null_when, listed nulls, is_null/coalesce, and how they carry."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gengo.core.errors import GengoError
from gengo.models.file import load_model_text

MODEL = """
model: nul
tables:
  payments:
    rows: scale
    columns:
      payment_id: {primary_key: true}
      status: {strategy: choice, values: {ok: 90, failed: 10}}
      reason: {strategy: choice, values: [card declined, timeout], null_when: "status != 'failed'"}
      reason_or_none: {strategy: expr, expr: "coalesce(reason, 'none')"}
      has_reason: {strategy: expr, expr: "not is_null(reason)"}
      reason_upper: {strategy: expr, expr: "upper(reason)"}
      tip: {strategy: choice, values: [1, 2, null]}
      note: {strategy: sentence, null_rate: 0.25}
"""


@pytest.fixture(scope="module")
def table() -> pa.Table:
    model = load_model_text(MODEL, "nul.yaml")
    return model.table("payments").generate(3, {"payments": 40_000}, np.arange(40_000, dtype=np.int64))


def test_null_when_makes_exactly_the_rows_where_it_holds_null(table):
    status = np.array(table["status"].to_pylist())
    reason = table["reason"]
    assert (np.array(reason.is_null()) == (status != "failed")).all()


def test_coalesce_and_is_null_read_the_nulls_instead_of_passing_them_on(table):
    assert table["reason_or_none"].null_count == 0
    assert set(table["reason_or_none"].to_pylist()) == {"card declined", "timeout", "none"}
    assert table["has_reason"].to_pylist() == [not x for x in table["reason"].is_null().to_pylist()]
    # Any other expression over a NULL is NULL.
    assert table["reason_upper"].is_null().equals(table["reason"].is_null())


def test_rates_and_listed_nulls(table):
    assert table["note"].null_count / len(table) == pytest.approx(0.25, abs=0.015)
    assert table["tip"].null_count / len(table) == pytest.approx(1 / 3, abs=0.015)
    assert set(table["tip"].drop_null().to_pylist()) == {1, 2}


def test_nullability_is_declared():
    model = load_model_text(MODEL, "nul.yaml")
    nullable = {c.name: c.nullable for c in model.table("payments").columns}
    assert nullable == {
        "payment_id": False, "status": False, "reason": True, "reason_or_none": False,
        "has_reason": False, "reason_upper": True, "tip": True, "note": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("null_when: \"status != 'failed'\"", 'null_when: "rand() < 0.5"'),
        ("coalesce(reason, 'none')", "coalesce('x', 'none')"),
        ("payment_id: {primary_key: true}", "payment_id: {primary_key: true, null_when: 'id > 5'}"),
    ],
)
def test_bad_null_settings(change, message):
    with pytest.raises(GengoError) as e:
        load_model_text(MODEL.replace(change, message), "nul.yaml")
    assert str(e.value).startswith("nul.yaml:")
