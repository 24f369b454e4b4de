"""The C text codec writes exactly polars' bytes: every table of every model, and adversarial values."""

from __future__ import annotations

import datetime as dt
import decimal
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gengo
from gengo.formats import FORMATS, textcodec
from gengo.models import MODELS, resolve_model

CSV, JSON = FORMATS["csv"], FORMATS["json"]


def test_the_codec_is_built():
    """``pip install`` compiles it (optional, so an install without a compiler still works)."""
    assert textcodec.codec() is not None, "gengo/formats/_textcodec.c was not built: is a C compiler installed?"


def _both(table: pa.Table, first: bool = True) -> tuple[tuple[bytes | None, bytes], tuple[bytes | None, bytes]]:
    fast_csv, fast_json = textcodec.encode_csv(table, first), textcodec.encode_json(table)
    csv = (None if fast_csv is None else bytes(fast_csv), bytes(CSV.encode_polars(table, first)))
    js = (None if fast_json is None else bytes(fast_json), bytes(JSON.encode_polars(table)))
    return csv, js


EXAMPLES = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "examples" / "models").glob("*.yaml"))


@pytest.mark.parametrize("model", list(MODELS) + EXAMPLES)
def test_every_table_of_every_model_encodes_as_polars_does(model):
    m = resolve_model(model)
    rows = {t.name: t.rows for t in gengo.plan(model, 0.2, "csv", seed=5).tables}
    for table in m.tables:
        n = min(3000, rows[table.name])
        start = rows[table.name] // 2 - n // 2  # the middle: ids and dates past the first ones
        data = table.generate(5, rows, np.arange(start, start + n, dtype=np.int64))
        for first in (True, False):
            (fast, ref), (fast_json, ref_json) = _both(data, first)
            assert fast is not None and fast_json is not None, f"{model}.{table.name} fell back to polars"
            assert fast == ref, f"{model}.{table.name} CSV"
            assert fast_json == ref_json, f"{model}.{table.name} JSON"


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", ",", '"', '""', "\n", "\r\n", "a,b", 'say "hi"', "\\", "\t", "\x00", "\x1f", "\x7f", "é", "日本", " "]
)
MAX_US = 253_402_300_799 * 10**6  # 9999-12-31T23:59:59
MIN_US = -62_135_596_800 * 10**6  # 0001-01-01T00:00:00


def _decimals(precision: int, scale: int) -> st.SearchStrategy:
    top = 10**precision - 1
    return st.integers(-top, top).map(lambda u: decimal.Decimal(u).scaleb(-scale))


@st.composite
def tables(draw) -> pa.Table:
    n = draw(st.integers(1, 12))
    cols: dict[str, pa.Array] = {}

    def column(values: st.SearchStrategy, t: pa.DataType) -> pa.Array:
        return pa.array(
            draw(st.lists(values | st.none() if draw(st.booleans()) else values, min_size=n, max_size=n)), t
        )

    for j in range(draw(st.integers(1, 6))):
        kinds = ["int64", "int32", "int8", "uint32", "decimal", "string", "ts", "date", "bool", "float64", "float32"]
        kind = draw(st.sampled_from(kinds))
        name = draw(st.sampled_from([f"c{j}", f"c,{j}", f'q"{j}', f"é{j}"]))
        if kind in ("int64", "int32", "int8", "uint32"):
            t = getattr(pa, kind)()
            info = np.iinfo(t.to_pandas_dtype())
            cols[name] = column(st.integers(int(info.min), int(info.max)), t)
        elif kind == "decimal":
            precision = draw(st.integers(1, 15))
            scale = draw(st.integers(0, min(precision, 5)))
            cols[name] = column(_decimals(precision, scale), pa.decimal128(precision, scale))
        elif kind == "string":
            cols[name] = column(TEXT, draw(st.sampled_from([pa.string(), pa.large_string()])))
        elif kind == "ts":
            seconds = st.integers(MIN_US // 10**6, MAX_US // 10**6).map(lambda s: s * 10**6)
            instants = st.integers(MIN_US, MAX_US) if draw(st.booleans()) else seconds  # with microseconds or not
            tz = draw(st.sampled_from(["UTC", None]))
            cols[name] = column(instants, pa.int64()).cast(pa.timestamp("us", tz=tz))
        elif kind.startswith("float"):
            cols[name] = column(st.floats(width=int(kind[5:])), getattr(pa, kind)())
        elif kind == "date":
            cols[name] = column(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), pa.date32())
        else:
            cols[name] = column(st.booleans(), pa.bool_())
    table = pa.table(cols)
    cut = draw(st.integers(0, n - 1))
    return table.slice(cut) if draw(st.booleans()) else table  # sliced arrays start at an offset


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.booleans())
def test_adversarial_tables_encode_as_polars_does(table, first):
    (fast, ref), (fast_json, ref_json) = _both(table, first)
    assert fast == ref
    assert fast_json is None or fast_json == ref_json


def test_what_the_codec_does_not_take_goes_to_polars():
    wide = pa.table({"d": pa.array([decimal.Decimal("1.5")], pa.decimal128(20, 2))})
    fraction = pa.table({"t": pa.array([1_500], pa.timestamp("ms", tz="UTC"))})
    json_scale = pa.table({"d": pa.array([decimal.Decimal("0.000001")], pa.decimal128(8, 6))})
    for table in (wide, fraction):
        assert textcodec.encode_csv(table, True) is None and textcodec.encode_json(table) is None
        assert CSV.encode(table, True, CSV_OPTIONS) == CSV.encode_polars(table, True)
    assert textcodec.encode_json(json_scale) is None and textcodec.encode_csv(json_scale, True) is not None


CSV_OPTIONS = gengo.formats.WriteOptions()


def test_inconsistent_buffers_are_refused_not_overrun():
    c = textcodec.codec()
    kinds, params = np.zeros(2, np.int64), np.zeros(2, np.int64)
    vals = np.zeros(3, np.int64)
    ints = ((vals, 1, None, 0, None, None),) * 2
    out = np.empty(999, np.uint8)
    assert c.csv_rows(kinds, params, 3, ints, out, 0) == 12  # "0,0\n" three times
    with pytest.raises(ValueError):  # values for fewer rows than asked
        c.csv_rows(kinds, params, 4, ints, out, 0)
    with pytest.raises(ValueError):  # Decimal128 words: every other one read, twice as many needed
        c.csv_rows(np.array([0, 1]), params, 3, (ints[0], (vals, 2, None, 0, None, None)), out, 0)
    with pytest.raises(ValueError):  # one column described for two
        c.csv_rows(kinds, params, 3, ints[:1], out, 0)
    with pytest.raises(ValueError):  # validity bits for fewer rows
        c.csv_rows(kinds, params, 3, ((vals, 1, np.ones(1, np.uint8), 6, None, None), ints[1]), out, 0)
    text = pa.array(["ab", "c", ""])
    offsets = np.frombuffer(text.buffers()[1], np.int32, 4)
    good = (None, 1, None, 0, offsets, text.buffers()[2])
    assert c.csv_rows(np.array([0, 2]), params, 3, (ints[0], good), out, 0) == len(
        b'0,ab\n0,c\n0,""\n'
    )  # an empty string is quoted, as polars writes it
    with pytest.raises(ValueError):  # offsets past the string bytes
        c.csv_rows(np.array([0, 2]), params, 3, (ints[0], (None, 1, None, 0, offsets + 5, good[5])), out, 0)
    with pytest.raises(ValueError):  # offsets going backwards
        c.csv_rows(np.array([0, 2]), params, 3, (ints[0], (None, 1, None, 0, offsets[::-1].copy(), good[5])), out, 0)
    with pytest.raises(ValueError):  # a string column without its offsets
        c.csv_rows(np.array([0, 2]), params, 3, ints, out, 0)
    with pytest.raises(RuntimeError):  # an output buffer smaller than the rows
        c.csv_rows(kinds, params, 3, ((vals + 10**17, 1, None, 0, None, None),) * 2, np.empty(40, np.uint8), 0)


def test_switched_off_the_formats_write_the_same_bytes_through_polars(tmp_path):
    env = {**os.environ, "GENGO_TEXT_CODEC": "0"}
    probe = "from gengo.formats import textcodec; print(textcodec.codec())"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert r.stdout.strip() == "None", r.stderr


def _around_powers_of_ten(top: int) -> list[int]:
    near = {v for k in range(len(str(top))) for v in (10**k - 1, 10**k, 10**k + 1) if v <= top}
    return sorted(near | {-v for v in near} | {0, top, -top})


def test_integers_of_every_length_encode_as_polars_does():
    """The codec writes eight digits at a time: every digit count, both signs, int64's limits."""
    info = np.iinfo(np.int64)
    values = [*_around_powers_of_ten(info.max), int(info.min)]
    table = pa.table({"i": pa.array(values, pa.int64()), "j": pa.array(values[::-1], pa.int64())})
    (fast, ref), (fast_json, ref_json) = _both(table, True)
    assert fast == ref and fast_json == ref_json


@pytest.mark.parametrize("scale", [0, 1, 2, 3, 5])
def test_decimals_of_every_length_encode_as_polars_does(scale):
    """Cents take their own path; every scale, digit count and sign, with trailing zeros (JSON drops them)."""
    top = 10**15 - 1
    units = _around_powers_of_ten(top) + [5, 50, 500, -50, 10**scale * 7, 123450, -1000]
    values = [decimal.Decimal(u).scaleb(-scale) for u in units if abs(u) <= top]
    table = pa.table({"d": pa.array(values, pa.decimal128(15, scale))})
    (fast, ref), (fast_json, ref_json) = _both(table, True)
    assert fast == ref
    assert fast_json == ref_json


@pytest.mark.parametrize("fraction", [False, True])
def test_timestamps_of_neighbouring_rows_encode_as_polars_does(fraction):
    """The codec reuses a column's last date: runs of one day, day and year boundaries, before 1970."""
    rng = np.random.default_rng(7)
    base = np.array([-86_400 * 400, -1, 0, 86_399, 86_400, 951_782_399, 1_704_067_199], np.int64)
    seconds = np.sort(np.concatenate([base, base + 1, rng.integers(-(10**9), 10**9, 40), base - 86_400]))
    us = seconds * 10**6 + (rng.integers(0, 10**6, len(seconds)) if fraction else 0)
    ts = pa.array(us, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    table = pa.table({"a": ts, "n": pa.array(np.arange(len(us))), "b": ts.take(pa.array(np.arange(len(us))[::-1]))})
    (fast, ref), (fast_json, ref_json) = _both(table, True)
    assert fast == ref and fast_json == ref_json
