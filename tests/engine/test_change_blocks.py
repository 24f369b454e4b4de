"""The pool's block walk (``engine.change_blocks``) writes the bytes of the per-batch reference
(``Changes.batch``, ``Changes.debezium``, ``Changes.as_of_blocks``), whatever the block size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gengo import api
from gengo.engine import change_blocks
from gengo.engine.changes import DAY_US, Changes, write_table
from gengo.formats.jsonl import JSONL
from tests.engine.test_changes import SHOP

SEED = 7


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "shop.yaml"
    path.write_text(SHOP)
    return path


def _base(shop: Path, out: Path, fmt: str):
    p = api.plan(str(shop), None, fmt, seed=SEED, rows=["orders=300"], workers=1)
    with api.prepare(p, out, 1) as run:
        run.execute()
    return run.plan


@pytest.mark.parametrize(("fmt", "change_format"), [("parquet", None), ("csv", None), ("json", "debezium")])
def test_small_blocks_write_the_reference_bytes(
    shop: Path, tmp_path: Path, monkeypatch, fmt: str, change_format: str | None
) -> None:
    """Blocks of 97 rows (every table cut into several, events merged across them) give each
    batch file exactly what the reference computes for that batch alone."""
    monkeypatch.setattr(change_blocks, "WALK_ROWS", 97)
    p = _base(shop, tmp_path / "run", fmt)
    info = api.write_changes(p, tmp_path / "run", 3, None, change_format, workers=1)
    ref = Changes(p.model, p.seed, p.rows, 3)
    assert {f["table"] for f in info["files"]} == {"customers", "orders", "lines"}
    kinds = set()
    for f in info["files"]:
        t = p.model.table(f["table"])
        written = (tmp_path / "run" / f["file"]).read_bytes()
        if change_format == "debezium":
            expected = ref.debezium(t, f["batch"], JSONL)
        else:
            data = ref.batch(t, f["batch"])
            kinds |= set(data.column("_op").to_pylist())
            hints = change_blocks.file_hints({tp.name: tp.hints for tp in p.tables}[f["table"]])  # the base's choices
            write_table(p.fmt, p.options, tmp_path / "ref" / f["file"], data.schema, [data], hints)
            expected = (tmp_path / "ref" / f["file"]).read_bytes()
        assert written == expected, f["file"]
        assert f["rows"] > 0
    assert change_format == "debezium" or kinds == {"insert", "update", "delete"}


@pytest.mark.parametrize(("fmt", "compression"), [("csv", None), ("csv", "gzip"), ("json", "zstd")])
def test_streamed_text_batches_write_the_reference_bytes(
    shop: Path, tmp_path: Path, monkeypatch, fmt: str, compression: str | None
) -> None:
    """Text batch files in blocks of 48 rows (a batch of inserts only: generated, encoded and written
    a block at a time; compressed: one member per 16 rows of the file) are the reference's bytes."""
    from gengo.formats import base as formats_base

    monkeypatch.setattr(change_blocks, "BLOCK_ROWS", 48)
    monkeypatch.setattr(formats_base, "COMPRESSED_BLOCK_ROWS", 16)
    p = api.plan("ecommerce", 0.001, fmt, seed=SEED, workers=1, compression=compression)  # order items: inserts only
    with api.prepare(p, tmp_path / "run", 1) as run:
        run.execute()
    info = api.write_changes(run.plan, tmp_path / "run", 3, None, workers=1)
    ref = Changes(p.model, p.seed, p.rows, 3)
    many = 0
    for f in info["files"]:
        data = ref.batch(p.model.table(f["table"]), f["batch"])
        many += data.num_rows > 3 * 48
        write_table(p.fmt, p.options, tmp_path / "ref" / f["file"], data.schema, [data], None)
        assert (tmp_path / "run" / f["file"]).read_bytes() == (tmp_path / "ref" / f["file"]).read_bytes(), f["file"]
    assert many  # files of several blocks
    assert any(f["table"] == "fact_order_items" and f["rows"] > 3 * 48 for f in info["files"])


@pytest.mark.parametrize("rows", [300, 3000])
def test_as_of_blocks_are_the_reference(shop: Path, tmp_path: Path, rows: int) -> None:
    """The snapshot's blocks are the base's row groups, encoded with its choices (hints)."""
    p = api.plan(str(shop), None, "parquet", seed=SEED, rows=[f"orders={rows}"], workers=1, chunk_rows=512)
    with api.prepare(p, tmp_path / "run", 1) as run:
        run.execute()
    api.write_changes(run.plan, tmp_path / "run", 4, 3, workers=1)
    ref = Changes(p.model, p.seed, p.rows, 4)
    hints = {t.name: t.hints for t in run.plan.tables}
    for t in p.model.tables:
        step = p.fmt.unit_rows(p.options, hints[t.name])
        blocks = ref.as_of_blocks(t, 3, step * max(1, change_blocks.BLOCK_ROWS // step))
        write_table(p.fmt, p.options, tmp_path / "ref" / f"{t.name}.parquet", t.schema, blocks, hints[t.name])
        assert (tmp_path / "run" / f"{t.name}.parquet").read_bytes() == (
            tmp_path / "ref" / f"{t.name}.parquet"
        ).read_bytes()
        groups = pq.ParquetFile(tmp_path / "run" / f"{t.name}.parquet").metadata.num_row_groups
        assert groups == -(-ref.counts[3][t.name] // step) or ref.counts[3][t.name] == 0


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_as_of_zero_is_the_base_byte_for_byte(shop: Path, tmp_path: Path, fmt: str) -> None:
    p = api.plan(str(shop), None, fmt, seed=SEED, rows=["orders=2000"], workers=1, chunk_rows=512)
    with api.prepare(p, tmp_path / "base", 1) as run:
        run.execute()
    with api.prepare(p, tmp_path / "zero", 1) as run:
        run.execute()
    api.write_changes(run.plan, tmp_path / "zero", 2, 0, workers=1)
    for t in p.model.tables:
        name = run.plan.file_name(t.name)
        assert (tmp_path / "zero" / name).read_bytes() == (tmp_path / "base" / name).read_bytes(), name


def test_status_moves_are_applied_column_wise(shop: Path) -> None:
    """The vectorized move step equals a row-by-row walk of the state machine (weights, terminal states)."""
    p = api.plan(str(shop), None, "csv", seed=SEED, rows=["orders=300"], workers=1)
    model = p.model
    ch = Changes(model, SEED, p.rows, 1)
    t = model.table("orders")
    idx = np.arange(300, dtype=np.int64)
    data = t.generate(SEED, ch.counts[0], idx)
    hit = ch._u("orders", idx, "update", "status", 1) < 0.5
    moved = ch._apply(t, data, idx, hit, "status", 1).column("status").to_pylist()
    moves = model.changes["orders"].moves["status"]
    u = ch._u("orders", idx, "move", "status", 1)
    before = data.column("status").to_pylist()
    changed = 0
    for i, value in enumerate(before):
        if not hit[i] or value not in moves:
            assert moved[i] == value
            continue
        targets = moves[value]
        cum = np.cumsum([w for _, w in targets]) / sum(w for _, w in targets)
        expected = targets[min(int(np.searchsorted(cum, u[i], side="right")), len(targets) - 1)][0]
        assert moved[i] == expected
        changed += moved[i] != value
    assert changed > 10
    assert pa.types.is_string(pa.array(moved).type)


def test_the_base_run_notes_the_rows_that_can_move(shop: Path, tmp_path: Path) -> None:
    """``prepare(..., changes=True)``: the base's chunks (on two workers, small chunks) report the
    orders whose status has a next state; batches given that note write the same bytes as without."""
    from gengo.engine.changes import movable

    p = api.plan(str(shop), None, "csv", seed=SEED, rows=["orders=300"], chunk_rows=64, workers=2)
    with api.prepare(p, tmp_path / "hinted", 2, changes=True) as run:
        run.execute()
    orders = p.model.table("orders")
    every = orders.generate(SEED, p.rows, np.arange(p.rows["orders"], dtype=np.int64))
    expected = np.flatnonzero(movable(p.model.changes["orders"], every))
    assert set(run.moving) == {"orders"}  # the one table with moves
    assert np.array_equal(run.moving["orders"], expected) and 0 < len(expected) < p.rows["orders"]
    api.write_changes(run.plan, tmp_path / "hinted", 3, workers=2, moving=run.moving)
    with api.prepare(p, tmp_path / "plain", 1) as run:
        run.execute()
    assert run.moving is None
    api.write_changes(run.plan, tmp_path / "plain", 3, workers=1)
    for b in (1, 2, 3):
        for name in ("customers", "orders", "lines"):
            rel = Path("changes") / f"batch-{b:06d}" / f"{name}.csv"
            assert (tmp_path / "hinted" / rel).read_bytes() == (tmp_path / "plain" / rel).read_bytes(), rel


def test_history_blocks_are_appended_in_key_order(shop: Path, tmp_path: Path, monkeypatch) -> None:
    """Blocks of 97 rows walked by two workers finish in any order; the history file is still in
    key order, the same bytes as one block per table (CSV: no row groups), batch files too."""
    p = _base(shop, tmp_path / "one", "csv")
    api.write_changes(p, tmp_path / "one", 3, workers=1, history=True)
    _base(shop, tmp_path / "many", "csv")
    monkeypatch.setattr(change_blocks, "WALK_ROWS", 97)
    info = api.write_changes(p, tmp_path / "many", 3, workers=2, history=True)
    assert {h["table"] for h in info["history"]} == {"customers", "orders"}
    for rel in [h["file"] for h in info["history"]] + [f["file"] for f in info["files"]]:
        assert (tmp_path / "many" / rel).read_bytes() == (tmp_path / "one" / rel).read_bytes(), rel


def test_event_order_is_event_time_then_row(monkeypatch) -> None:
    """The packed-key sort of a batch's events (given in row order) is np.lexsort's (event time,
    row) order, ties in time included; past its limits (2**27 events here shrunk to 2**8, a time
    outside the batch's day) it is the lexsort itself."""
    rng = np.random.default_rng(5)
    b = 3
    ts = (b - 1) * DAY_US + rng.integers(0, 40, 200)  # many ties
    ts[:3] = (b - 1) * DAY_US + DAY_US - 1  # the day's last microsecond
    expected = np.lexsort((np.arange(len(ts)), ts))
    assert np.array_equal(change_blocks.event_order(ts, b), expected)
    assert len(change_blocks.event_order(ts[:0], b)) == 0
    monkeypatch.setattr(change_blocks, "_POS_BITS", 8)
    big = np.concatenate([ts, ts])
    assert np.array_equal(change_blocks.event_order(big, b), np.lexsort((np.arange(len(big)), big)))
    early = ts - DAY_US  # the day before: outside the key's range
    assert np.array_equal(change_blocks.event_order(early, b), expected)


def test_parquet_batch_files_keep_the_base_dictionary_choices(shop: Path, tmp_path: Path) -> None:
    """A Parquet batch file dictionary-encodes exactly its table's dictionary columns of the base
    plus _op and _batch (not every column, Arrow's default), read from the written files."""
    p = _base(shop, tmp_path / "run", "parquet")
    info = api.write_changes(p, tmp_path / "run", 2, None, workers=1)
    hints = {tp.name: tp.hints for tp in p.tables}
    checked = 0
    for f in info["files"]:
        meta = pq.ParquetFile(tmp_path / "run" / f["file"]).metadata
        chosen = {*hints[f["table"]]["dictionary"], "_op", "_batch"}
        for g in range(meta.num_row_groups):
            for i in range(meta.num_columns):
                column = meta.row_group(g).column(i)
                encoded = column.has_dictionary_page or "RLE_DICTIONARY" in column.encodings
                assert encoded == (column.path_in_schema in chosen), (f["file"], column.path_in_schema)
                checked += 1
    assert checked and any(len(h["dictionary"]) for h in hints.values())


def test_rows_that_never_change_after_their_insert_are_not_walked(tmp_path: Path, monkeypatch) -> None:
    """ecommerce's order items and addresses only arrive: no walk task for them, the other tables
    walked only up to the last batch's inserts, and the batch files still the reference's."""
    walked: list[tuple[str, int, int]] = []
    walk = change_blocks.walk_block

    def spy(cj, table, start, stop, *args):
        walked.append((table, start, stop))
        return walk(cj, table, start, stop, *args)

    monkeypatch.setattr(change_blocks, "walk_block", spy)
    p = api.plan("ecommerce", 0.0005, "csv", seed=SEED, workers=1)
    with api.prepare(p, tmp_path / "run", 1) as run:
        run.execute()
    info = api.write_changes(run.plan, tmp_path / "run", 2, None, workers=1)
    ref = Changes(p.model, p.seed, p.rows, 2)
    assert walked and {t for t, _, _ in walked} == {"dim_customers", "dim_products", "fact_orders_header"}
    assert all(stop <= ref.counts[1][t] for t, _, stop in walked)
    for f in info["files"]:
        if f["table"] in ("fact_order_items", "fact_orders_header"):
            data = ref.batch(p.model.table(f["table"]), f["batch"])
            write_table(p.fmt, p.options, tmp_path / "ref" / f["file"], data.schema, [data])
            assert (tmp_path / "run" / f["file"]).read_bytes() == (tmp_path / "ref" / f["file"]).read_bytes()
            assert f["rows"] > 0
