"""Change batches and as-of snapshots (``gen --batches N``, ``--as-of K``), end to end.

The invariant that defines correctness: the base snapshot with batches 1..K applied in order
(delete + insert by primary key) equals the as-of-K snapshot, row for row.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from gengo.core.schema import Model
from gengo.engine.changes import Changes, write_table
from gengo.formats import resolve_format
from gengo.formats.options import WriteOptions
from gengo.models import resolve_model
from tests.helpers import EXT, assert_one_line_error, duck_type, run_gengo

SHOP = """\
model: shop
tables:
  customers:
    rows: {per: orders, ratio: 0.2}
    changes: {insert: 0.1, update: {email: 0.05, tier: 0.1}}
    columns:
      customer_id: {primary_key: true}
      first_name: first_name
      last_name: last_name
      email: {strategy: email}
      tier: {strategy: choice, values: [gold, silver, bronze]}
      joined: {strategy: datetime, start: 2024-01-01, end: 2025-01-01}
  orders:
    rows: scale
    changes:
      insert: 0.2
      update:
        amount: 0.05
        status:
          rate: 0.5
          moves:
            Pending: {Processing: 9, Cancelled: 1}
            Processing: [Shipped]
            Shipped: {Delivered: 9, Returned: 1}
    columns:
      order_id: {primary_key: true}
      customer_id: {strategy: reference, table: customers}
      status:
        strategy: choice
        values: {Pending: 5, Processing: 3, Shipped: 2, Delivered: 1, Returned: 1, Cancelled: 1}
      amount: {strategy: lognormal, median: 30, sigma: 0.6, type: "decimal(12,2)"}
  lines:
    rows: {each: orders, min: 1, max: 3}
    changes: {update: {qty: 0.1}, delete: 0.05}
    columns:
      order_id: {strategy: parent, primary_key: true}
      line_no: {strategy: position, primary_key: true}
      qty: {strategy: uniform, min: 1, max: 5, type: int32}
      note: {strategy: word, null_rate: 0.3}
"""
SEED = "7"
ROWS = "orders=300"


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "shop.yaml"
    path.write_text(SHOP)
    return path


@pytest.fixture(scope="module")
def parquet_run(shop: Path, tmp_path_factory) -> Path:
    """One parquet run with 4 batches on 2 workers, shared by the tests that only read it."""
    return _gen(shop, tmp_path_factory.mktemp("runs") / "full", "parquet", "--batches", "4", "--workers", "2")


def _gen(shop: Path, out: Path, fmt: str, *extra: str) -> Path:
    r = run_gengo("gen", "-q", "-m", str(shop), "--rows", ROWS, "-f", fmt, "-o", str(out), "--seed", SEED, *extra)
    assert r.returncode == 0, r.stderr + r.stdout
    return out


def _source(path: Path, fmt: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
    if fmt == "csv":
        return f"read_csv('{path}', header=true, columns={{{cols}}})"
    if fmt == "json":
        return f"read_json('{path}', format='newline_delimited', columns={{{cols}}})"
    return f"read_parquet('{path}')"


def _replay(model: Model, base: Path, fmt: str, k: int) -> duckdb.DuckDBPyConnection:
    """The base loaded into DuckDB tables, then batches 1..k applied: delete by key, insert."""
    con = duckdb.connect()
    for t in model.tables:
        types = {c.name: duck_type(c.type) for c in t.columns}
        con.execute(f'CREATE TABLE "{t.name}" AS SELECT * FROM {_source(base / f"{t.name}.{EXT[fmt]}", fmt, types)}')
    for b in range(1, k + 1):
        for t in model.tables:
            path = base / "changes" / f"batch-{b:06d}" / f"{t.name}.{EXT[fmt]}"
            if not path.exists():
                continue
            types = {c.name: duck_type(c.type) for c in t.columns}
            types.update(_op="VARCHAR", _batch="INTEGER", _ts="TIMESTAMPTZ")
            con.execute(f"CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM {_source(path, fmt, types)}")
            key = ", ".join(f'"{c}"' for c in t.primary_key)
            names = ", ".join(f'"{c.name}"' for c in t.columns)
            con.execute(
                f'DELETE FROM "{t.name}" WHERE ({key}) IN '
                f"(SELECT ({key}) FROM batch WHERE _op IN ('update', 'delete'))"
            )
            con.execute(f"INSERT INTO \"{t.name}\" SELECT {names} FROM batch WHERE _op IN ('insert', 'update')")
    return con


def _same_rows(con: duckdb.DuckDBPyConnection, table: str, snapshot: str) -> None:
    n = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    m = con.execute(f"SELECT count(*) FROM {snapshot}").fetchone()[0]
    assert n == m, (table, n, m)
    for a, b in ((f'"{table}"', snapshot), (snapshot, f'"{table}"')):
        extra = con.execute(f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b} LIMIT 3").fetchall()
        assert not extra, (table, extra)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_base_plus_batches_equals_as_of(shop: Path, tmp_path: Path, fmt: str, request) -> None:
    model = resolve_model(str(shop))
    full = (
        request.getfixturevalue("parquet_run")
        if fmt == "parquet"
        else _gen(shop, tmp_path / "full", fmt, "--batches", "4")
    )
    if fmt == "parquet":  # every kind of event occurs, so the replay below exercises each
        ops = duckdb.connect().execute(f"SELECT DISTINCT _op FROM '{full / 'changes' / '*' / '*.parquet'}'")
        assert {r[0] for r in ops.fetchall()} == {"insert", "update", "delete"}
    for k in {"csv": (1,), "parquet": (2, 4), "json": (3,)}[fmt]:
        snap = _gen(shop, tmp_path / f"as-of-{k}", fmt, "--batches", "4", "--as-of", str(k))
        con = _replay(model, full, fmt, k)
        for t in model.tables:
            types = {c.name: duck_type(c.type) for c in t.columns}
            _same_rows(con, t.name, _source(snap / f"{t.name}.{EXT[fmt]}", fmt, types))
        if fmt != "json":
            r = run_gengo("verify", str(snap))
            assert r.returncode == 0, r.stdout + r.stderr  # files, row counts, keys and every foreign key


def test_batches_change_the_snapshot(shop: Path, tmp_path: Path, parquet_run: Path) -> None:
    """Not vacuous: the as-of snapshot differs from the base, rows are inserted, deleted and updated."""
    base = parquet_run
    snap = _gen(shop, tmp_path / "snap", "parquet", "--as-of", "3")
    for t, key in (("customers", "customer_id"), ("orders", "order_id"), ("lines", "order_id, line_no")):
        old, new = base / f"{t}.parquet", snap / f"{t}.parquet"
        changed = _one(
            f"SELECT count(*) FROM (SELECT * FROM '{new}' EXCEPT SELECT * FROM '{old}') "
            f"WHERE ({key}) IN (SELECT ({key}) FROM '{old}')"
        )
        assert changed > 0, t  # updated rows
    n_old = _one(f"SELECT count(*) FROM '{base / 'orders.parquet'}'")
    n_new = _one(f"SELECT count(*) FROM '{snap / 'orders.parquet'}'")
    assert n_new == n_old + 3 * round(0.2 * n_old)  # inserts continue the ids
    missing = _one(
        f"SELECT count(*) FROM '{base / 'lines.parquet'}' o ANTI JOIN '{snap / 'lines.parquet'}' n "
        "USING (order_id, line_no)"
    )
    assert missing > 0  # deleted lines


def _one(sql: str):
    return duckdb.connect().execute(sql).fetchone()[0]


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


MOVES = {"Pending": {"Processing", "Cancelled"}, "Processing": {"Shipped"}, "Shipped": {"Delivered", "Returned"}}


def test_status_moves_along_its_state_machine(shop: Path, parquet_run: Path) -> None:
    """Every status update is one allowed step from the status the order had before the batch."""
    model = resolve_model(str(shop))
    full = parquet_run
    seen = 0
    for b in range(1, 4):
        con = _replay(model, full, "parquet", b - 1)
        steps = con.execute(
            f"SELECT o.status, n.status FROM orders o JOIN '{full}/changes/batch-{b:06d}/orders.parquet' n "
            "USING (order_id) WHERE n._op = 'update' AND o.status <> n.status"
        ).fetchall()
        for old, new in steps:
            assert new in MOVES.get(old, set()), (b, old, new)
        seen += len(steps)
        terminal = con.execute(
            f"SELECT count(*) FROM orders o JOIN '{full}/changes/batch-{b:06d}/orders.parquet' n USING (order_id) "
            "WHERE n._op = 'update' AND o.status IN ('Delivered', 'Returned', 'Cancelled') AND o.status <> n.status"
        ).fetchone()[0]
        assert terminal == 0
    assert seen > 20


def test_bytes_do_not_depend_on_workers_or_batch_count(shop: Path, tmp_path: Path, parquet_run: Path) -> None:
    one = _gen(shop, tmp_path / "w1", "parquet", "--batches", "4", "--workers", "1", "--chunk-rows", "64")
    two = parquet_run
    plain = _gen(shop, tmp_path / "plain", "parquet")
    assert _digests(one) == _digests(two)
    assert json.loads((one / "changes" / "manifest.json").read_text()) == json.loads(
        (two / "changes" / "manifest.json").read_text()
    )
    base = {n: d for n, d in _digests(one).items() if not n.startswith("changes")}
    assert base == _digests(plain)  # the base is exactly what gen writes without --batches
    # Batch 2 of a 3-batch run equals batch 2 of a 2-batch run: a batch never looks ahead.
    short = _gen(shop, tmp_path / "short", "parquet", "--batches", "2")
    for name, digest in _digests(short).items():
        if name.startswith("changes"):
            assert _digests(one)[name] == digest, name


def test_one_batch_alone_equals_the_full_run(shop: Path, tmp_path: Path) -> None:
    """Batch 3 computed on its own (no earlier batch generated or read) has the full run's bytes."""
    full = _gen(shop, tmp_path / "full", "csv", "--batches", "3")
    model = resolve_model(str(shop))
    base_rows = json.loads((full / "manifest.json").read_text())["planned_rows"]
    alone = Changes(model, int(SEED), base_rows, 3)
    fmt = resolve_format("csv")
    for t in model.tables:
        data = alone.batch(t, 3)
        _, _, digest = write_table(fmt, WriteOptions(), tmp_path / "alone" / f"{t.name}.csv", data.schema, [data])
        assert (tmp_path / "alone" / f"{t.name}.csv").read_bytes() == (
            full / "changes" / "batch-000003" / f"{t.name}.csv"
        ).read_bytes()
    events = duckdb.connect().execute(f"SELECT _ts FROM read_csv('{full / 'changes' / 'batch-000003' / 'orders.csv'}')")
    ts = [r[0] for r in events.fetchall()]
    assert ts == sorted(ts)  # event-time order


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--batches", "3", "--as-of", "5"), "beyond --batches"),
        (("--batches", "-1"), "--batches"),
        (("--batches", "10001"), "at most 10,000 change batches"),
        (("--as-of", "99999999999"), "at most 10,000 change batches"),
        (("--batches", "2", "--parts", "2"), "no parts"),
        (("--batches", "2", "-f", "duckdb"), "-f csv"),
    ],
)
def test_bad_options_write_nothing(shop: Path, tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    out = tmp_path / "out"
    rest = args if "-f" in args else (*args, "-f", "csv")
    r = run_gengo("gen", "-m", str(shop), "--rows", ROWS, "-o", str(out), "--seed", "1", *rest)
    assert_one_line_error(r, fragment)
    assert not out.exists() or not any(out.iterdir())


def test_a_model_without_changes_is_refused(tmp_path: Path) -> None:
    out, still = tmp_path / "out", tmp_path / "still.yaml"
    still.write_text("model: still\ntables:\n  t:\n    rows: scale\n    columns:\n      id: {primary_key: true}\n")
    r = run_gengo("gen", "-m", str(still), "--rows", "t=10", "-o", str(out), "-f", "csv", "--batches", "2")
    assert_one_line_error(r, "declares no changes")
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("changes: {insert: 0.1, update: {email: 0.05, tier: 0.1}}", "changes: {insert: -0.1}", "insert"),
        ("changes: {insert: 0.1, update: {email: 0.05, tier: 0.1}}", "changes: {delete: 0.1}", "orders.customer_id"),
        ("        amount: 0.05\n", "        order_id: 0.1\n", "order_id"),
        ("        amount: 0.05\n", "        customer_id: 0.1\n", "customer_id"),
        ("Processing: [Shipped]", "Processing: [Lost]", "'Lost' is not one of the values"),
        ("        amount: 0.05\n", "        amount: {rate: 0.1, moves: {Pending: [Shipped]}}\n", "choice column"),
        ("changes: {update: {qty: 0.1}, delete: 0.05}", "changes: {insert: 0.1}", "parent"),
        ("changes: {insert: 0.1, update: {email: 0.05, tier: 0.1}}", "changes: {update: {first_name: 0.1}}", "email"),
        ("changes: {insert: 0.1, update: {email: 0.05, tier: 0.1}}", "changes: {update: {tear: 0.1}}", "tier"),
        # an update's {rate, moves} checked on its own: the option named, with the closest one
        ("          rate: 0.5\n", "          rat: 0.5\n", "unknown option 'rat' for the update of 'status'"),
        ("          rate: 0.5\n", "          rate: 1.5\n", "status.rate: Input should be less than or equal to 1"),
        ("{Processing: 9, Cancelled: 1}", "{Processing: 9, Cancelled: 0}", "Pending -> Cancelled has weight 0"),
        # a column computed from the row's others: a redraw would not follow the row
        (
            "qty: {strategy: uniform, min: 1, max: 5, type: int32}",
            "qty: {strategy: expr, expr: 'line_no * 2', type: int32}",
            "'qty' cannot be updated: it is computed from 'line_no'",
        ),
    ],
)
def test_changes_that_would_break_a_key_are_refused(tmp_path: Path, old: str, new: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    assert old in SHOP
    path.write_text(SHOP.replace(old, new, 1))
    out = tmp_path / "out"
    r = run_gengo("gen", "-m", str(path), "--rows", ROWS, "-o", str(out), "-f", "csv", "--batches", "2")
    assert_one_line_error(r, fragment)
    assert not out.exists() or not any(out.iterdir())


def test_ecommerce_changes_replay_to_the_snapshot(tmp_path: Path) -> None:
    """The built-in ecommerce: base + batches == as-of, status moves, prices change, items keep theirs."""
    model = resolve_model("ecommerce")
    args = ("-q", "-m", "ecommerce", "-s", "0.001", "-f", "parquet", "--seed", "5")
    for name, extra in (("full", ("--batches", "3")), ("snap", ("--as-of", "3")), ("base", ())):
        r = run_gengo("gen", *args, "-o", str(tmp_path / name), *extra)
        assert r.returncode == 0, r.stderr
    con = _replay(model, tmp_path / "full", "parquet", 3)
    for t in model.tables:
        _same_rows(con, t.name, f"read_parquet('{tmp_path / 'snap' / f'{t.name}.parquet'}')")
    r = run_gengo("verify", str(tmp_path / "snap"))
    assert r.returncode == 0, r.stdout + r.stderr
    snap, base = tmp_path / "snap", tmp_path / "base"
    repriced = _one(
        f"SELECT count(*) FROM '{snap}/dim_products.parquet' n JOIN '{base}/dim_products.parquet' o "
        "USING (product_id) WHERE n.base_price <> o.base_price"
    )
    assert repriced > 0
    # Order items of a repriced product still carry the price it was sold at.
    moved = _one(
        f"SELECT count(*) FROM '{snap}/fact_order_items.parquet' i JOIN '{base}/fact_order_items.parquet' b "
        "USING (order_item_id) WHERE i.unit_price <> b.unit_price"
    )
    assert moved == 0
    steps = con.execute(
        f"SELECT o.order_status, n.order_status FROM '{base}/fact_orders_header.parquet' o "
        f"JOIN '{snap}/fact_orders_header.parquet' n USING (order_id) WHERE o.order_status <> n.order_status"
    ).fetchall()
    order = ["Pending", "Processing", "Shipped", "Delivered"]
    assert steps
    for old, new in steps:  # forward only, never out of a final state
        assert old not in ("Delivered", "Returned", "Cancelled"), (old, new)
        if new in order:
            assert order.index(new) > order.index(old), (old, new)


def _json_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_debezium_events_replay_to_the_snapshot(shop: Path, tmp_path: Path) -> None:
    """Every event parses as JSON; replaying them (checking each before image) gives --as-of."""
    model = resolve_model(str(shop))
    full = _gen(shop, tmp_path / "full", "json", "--batches", "3", "--change-format", "debezium")
    snap = _gen(shop, tmp_path / "snap", "json", "--as-of", "3")
    kinds = set()
    for t in model.tables:
        key = t.primary_key
        state = {tuple(r[k] for k in key): r for r in _json_rows(full / f"{t.name}.jsonl")}
        for b in range(1, 4):
            events = _json_rows(full / "changes" / f"batch-{b:06d}" / f"{t.name}.jsonl")
            assert [e["ts_ms"] for e in events] == sorted(e["ts_ms"] for e in events)
            for e in events:
                assert set(e) == {"before", "after", "op", "ts_ms", "source"}
                assert e["source"] == {"model": "shop", "table": t.name, "batch": b}
                kinds.add(e["op"])
                row = e["after"] if e["op"] == "c" else e["before"]
                k = tuple(row[c] for c in key)
                if e["op"] == "c":
                    assert k not in state and e["before"] is None
                else:
                    assert state[k] == e["before"]  # the consumer's row is the event's before image
                if e["op"] == "d":
                    assert e["after"] is None
                    del state[k]
                else:
                    state[k] = e["after"]
        expected = {tuple(r[c] for c in key): r for r in _json_rows(snap / f"{t.name}.jsonl")}
        assert state == expected, t.name
    assert kinds == {"c", "u", "d"}


def test_change_format_needs_batches(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_gengo(
        "gen",
        "-m",
        str(shop),
        "--rows",
        ROWS,
        "-f",
        "json",
        "-o",
        str(out),
        "--as-of",
        "2",
        "--change-format",
        "debezium",
    )
    assert_one_line_error(r, "--change-format applies to the batch files")
    assert not out.exists() or not any(out.iterdir())


def test_an_as_of_over_a_batches_run_leaves_no_stale_batches(shop: Path, tmp_path: Path) -> None:
    out = _gen(shop, tmp_path / "out", "csv", "--batches", "2")
    assert (out / "changes" / "batch-000002").is_dir()
    _gen(shop, out, "csv", "--as-of", "1", "--force")
    assert not (out / "changes").exists()
    r = run_gengo("verify", str(out))
    assert r.returncode == 0, r.stdout + r.stderr


def test_force_removes_the_batch_files_of_a_run_stopped_while_writing_them(tmp_path, monkeypatch, capsys):
    """Batch files are listed before they are written: a run stopped half way leaves a listing
    that a later --force uses (and files gengo did not write stay)."""
    from gengo import cli
    from gengo.core.errors import GengoError
    from gengo.engine import change_blocks

    out = tmp_path / "out"
    args = ["gen", "-m", "ecommerce", "-s", "1MB", "-f", "csv", "-o", str(out), "--seed", "1", "-q", "-w", "1"]

    def stopped(pool, cj, changing, spool, path_of, *rest):
        first = path_of(changing[0], 1)
        first.parent.mkdir(parents=True, exist_ok=True)
        first.write_bytes(b"half a file")
        raise GengoError("no space left on device (simulated)")

    monkeypatch.setattr(change_blocks, "run_batches", stopped)
    assert cli.main([*args, "--batches", "2"]) == 1
    assert "no space left" in capsys.readouterr().err
    written = list((out / "changes").rglob("*.csv"))
    assert len(written) == 1
    (out / "changes" / "notes.txt").write_text("the user's own file")
    monkeypatch.undo()
    assert cli.main([*args, "--force"]) == 0
    assert not written[0].exists() and not written[0].parent.exists()
    assert (out / "changes" / "notes.txt").read_text() == "the user's own file"
    assert not (out / "changes" / "manifest.json").exists()


def test_as_of_prints_the_rows_it_wrote(shop: Path, tmp_path: Path) -> None:
    """The summary table of ``--as-of`` counts the snapshot's rows and bytes, as its manifest does."""
    out = tmp_path / "out"
    r = run_gengo("gen", "-m", str(shop), "--rows", ROWS, "-o", str(out), "-f", "csv", "--seed", "1", "--as-of", "2")
    assert r.returncode == 0, r.stderr
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["complete"] is True and "pending" not in doc
    printed = {}
    for line in r.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 4 and cells[1].replace(",", "").isdigit():
            printed[cells[0]] = int(cells[1].replace(",", ""))
    assert printed.pop("total") == doc["total_rows"]
    assert printed == {Path(e["file"]).name: e["rows"] for e in doc["tables"]}
    base = {Path(e["file"]).name: e["rows"] for e in doc["tables"]}
    assert base != {f"{t}.csv": n for t, n in doc["as_of"]["counts"][0].items() if f"{t}.csv" in base}


def test_ecommerce_new_orders_are_pending_after_the_window_at_current_prices(tmp_path: Path) -> None:
    """A batch's new orders are placed after the base's window (batch b: the b-th local day from
    2025-01-01), all Pending; their lines cost the product's price after the batch before."""
    out = tmp_path / "run"
    r = run_gengo(
        "gen", "-q", "-m", "ecommerce", "-s", "0.002", "-f", "parquet", "-o", str(out), "--seed", "3", "--batches", "3"
    )
    assert r.returncode == 0, r.stderr
    con = duckdb.connect()
    DAY1 = "TIMESTAMPTZ '2025-01-01 00:00:00+00'"  # noqa: N806 - the local day of batch 1 (zones -12..+14 h)
    rows = con.execute(
        f"""SELECT _batch, count(*), count(*) FILTER (WHERE order_status <> 'Pending'),
                   min(order_timestamp) >= {DAY1} + INTERVAL (_batch - 1) DAY - INTERVAL 14 HOUR,
                   max(order_timestamp) < {DAY1} + INTERVAL (_batch) DAY + INTERVAL 12 HOUR
            FROM '{out}/changes/batch-*/fact_orders_header.parquet' WHERE _op = 'insert' GROUP BY _batch ORDER BY 1"""
    ).fetchall()
    assert [r[0] for r in rows] == [1, 2, 3] and all(n > 0 and late == 0 and a and z for _, n, late, a, z in rows), rows
    prices = con.execute(
        f"""WITH pr AS (SELECT product_id, base_price, 0 AS b FROM '{out}/dim_products.parquet' UNION ALL
                        SELECT product_id, base_price, _batch FROM '{out}/changes/batch-*/dim_products.parquet'),
                 now AS (SELECT i._batch, i.unit_price, (SELECT base_price FROM pr WHERE pr.product_id = i.product_id
                         AND pr.b < i._batch ORDER BY b DESC LIMIT 1) AS current,
                         (SELECT base_price FROM pr WHERE pr.product_id = i.product_id ORDER BY b LIMIT 1) AS first
                         FROM '{out}/changes/batch-*/fact_order_items.parquet' i)
            SELECT count(*) FILTER (WHERE current <> first), count(*) FILTER (WHERE unit_price <> current) FROM now"""
    ).fetchone()
    assert prices[0] > 0 and prices[1] == 0, prices  # repriced products sold again, at the new price
    ratio = con.execute(
        f"""SELECT min(n.base_price / o.base_price), max(n.base_price / o.base_price)
            FROM '{out}/changes/batch-000001/dim_products.parquet' n
            JOIN '{out}/dim_products.parquet' o USING (product_id)
            WHERE n._op = 'update' AND o.base_price >= 20"""
    ).fetchone()
    assert ratio[0] >= 0.88 and ratio[1] <= 1.17, ratio  # -10% .. +15%, whole dollars
