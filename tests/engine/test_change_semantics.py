"""What the built-in models' change batches mean (issue 18), read back from real runs.

For every model and file format: the base with batches 1..K applied (delete + insert by key)
equals ``--as-of K``, every declared foreign key resolves in each snapshot and ``gengo verify``
passes on it; a batch computed alone has the full run's bytes. Then per model, what a batch does:
financial adds each company's next sessions and corrects a few earlier rows; medical books,
moves, cancels and completes visits, status only moving forward; ecommerce-ds adds a day of sales
and returns, purges the oldest day and updates dimensions in place.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pytest

from gengo import api
from gengo.core.errors import GengoError
from gengo.engine.change_blocks import file_hints
from gengo.engine.changes import Changes, write_table
from gengo.formats import resolve_format
from gengo.formats.options import WriteOptions
from gengo.models import resolve_model
from tests.engine.test_changes import _replay, _same_rows, _source
from tests.helpers import EXT, assert_one_line_error, duck_type, run_gengo
from tests.model_checks import violations

SEED = "11"
BATCHES = 3
SIZES = {
    "ecommerce": ("-s", "2MB"),
    "financial": ("-s", "2MB"),
    "medical": ("-s", "2MB"),
    "ecommerce-ds": ("--rows", "store_sales=20000"),  # -s 2MB would be mostly date_dim and time_dim
}
AS_OF = {"parquet": BATCHES, "csv": 1, "json": 2}  # K of each format's --as-of


class Runs:
    """Each (model, format, as-of, workers) generated once per module: the Parquet batches by the real
    ``gengo`` command, the rest through the API in this process (the same code, without the start-up)."""

    def __init__(self, root: Path) -> None:
        self.root, self.done = root, {}

    def get(self, model: str, fmt: str, as_of: int | None = None, workers: int = 1) -> Path:
        key = (model, fmt, as_of, workers)
        if key not in self.done:
            out = self.root / "-".join(map(str, key))
            if fmt == "parquet" and as_of is None:
                extra = ("--batches", str(BATCHES)) if as_of is None else ("--as-of", str(as_of))
                args = ("-m", model, *SIZES[model], "-f", fmt, "-o", str(out), "--seed", SEED, "-w", str(workers))
                r = run_gengo("gen", "-q", *args, *extra)
                assert r.returncode == 0, r.stderr + r.stdout
            else:
                size, rows = (SIZES[model][1], None) if SIZES[model][0] == "-s" else (None, [SIZES[model][1]])
                p = api.plan(model, size, fmt, int(SEED), rows=rows, workers=workers)
                n = api.check_changes(p, None if as_of else BATCHES, as_of)
                api.run(p, out, workers=workers, fsync=False)
                api.write_changes(p, out, n, as_of)
            self.done[key] = out
        return self.done[key]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("semantics"))


def _changing(model: str, full: Path) -> list[str]:
    """Tables with batch files (every batch writes one for each table that changes)."""
    return [t.name for t in resolve_model(model).tables if any((full / "changes" / "batch-000001").glob(f"{t.name}.*"))]


def _replay_changing(model: str, full: Path, fmt: str, k: int) -> duckdb.DuckDBPyConnection:
    """The changing tables of the base with batches 1..k applied (``test_changes._replay``, those tables only)."""
    m = resolve_model(model)
    changing = set(_changing(model, full))
    only = replace(m, tables=tuple(t for t in m.tables if t.name in changing))
    return _replay(only, full, fmt, k)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
@pytest.mark.parametrize("model", list(SIZES))
def test_base_plus_batches_equals_as_of(runs: Runs, model: str, fmt: str) -> None:
    m = resolve_model(model)
    full, k = runs.get(model, fmt), AS_OF[fmt]
    snap = runs.get(model, fmt, k)
    changing = _changing(model, full)
    assert changing
    con = _replay_changing(model, full, fmt, k)
    for t in m.tables:
        name = f"{t.name}.{EXT[fmt]}"
        if t.name in changing:
            types = {c.name: duck_type(c.type) for c in t.columns}
            _same_rows(con, t.name, _source(snap / name, fmt, types))
        else:  # a table no batch changes is the base's file
            assert (snap / name).read_bytes() == (full / name).read_bytes(), name
    report = api.verify(snap)  # what `gengo verify` checks: files, row counts, keys and every foreign key
    assert report.ok, report.problems


@pytest.mark.parametrize("model", list(SIZES))
def test_every_kind_of_change_happens(runs: Runs, model: str) -> None:
    """Not vacuous: over the batches each model inserts, updates and (but financial, ecommerce) deletes rows."""
    full = runs.get(model, "parquet")
    ops = duckdb.connect().execute(f"SELECT DISTINCT _op FROM '{full / 'changes' / '*' / '*.parquet'}'")
    expected = {"insert", "update"} if model in ("financial", "ecommerce") else {"insert", "update", "delete"}
    assert {r[0] for r in ops.fetchall()} == expected


@pytest.mark.parametrize("model", list(SIZES))
def test_a_batch_inserts_in_key_order_over_its_day(runs: Runs, model: str) -> None:
    """Inserts come in key order (ids rise with time, as a sequence hands them out), spread over the
    batch's day; updates and deletes fall anywhere in it."""
    m = resolve_model(model)
    full = runs.get(model, "parquet")
    con = duckdb.connect()
    spread = []
    # A table's rows run in the order of its single key, or (TPC-DS sales) of their ticket / order.
    order = {"store_sales": "ss_ticket_number", "catalog_sales": "cs_order_number", "web_sales": "ws_order_number"}
    for t in m.tables:
        keys = [c.name for c in t.columns if c.primary_key]
        key = keys[0] if len(keys) == 1 else order.get(t.name)
        for b in range(1, BATCHES + 1):
            path = full / "changes" / f"batch-{b:06d}" / f"{t.name}.parquet"
            if key is None or not path.exists():
                continue
            rows = con.execute(f"SELECT {key}, epoch_us(_ts) FROM '{path}' WHERE _op = 'insert'").fetchall()
            keys, ts = [r[0] for r in rows], [r[1] for r in rows]
            assert keys == sorted(keys) and ts == sorted(ts), (t.name, b)  # in the file's (event) order
            if len(ts) >= 8:
                spread.append((max(ts) - min(ts)) / 86_400e6)
    assert spread and min(spread) > 0.7, spread


@pytest.mark.parametrize("model", ["financial", "medical", "ecommerce-ds"])
def test_a_batch_alone_equals_the_full_run(runs: Runs, model: str, tmp_path: Path) -> None:
    """Batch 2 computed on its own (of a 2-batch history: no later batch known) has the bytes of the
    3-batch run's batch 2."""
    full = runs.get(model, "parquet")
    m = resolve_model(model)
    base_rows = json.loads((full / "manifest.json").read_text())["planned_rows"]
    alone = Changes(m, int(SEED), base_rows, 2)
    size, rows = (SIZES[model][1], None) if SIZES[model][0] == "-s" else (None, [SIZES[model][1]])
    plan = api.plan(model, size, "parquet", int(SEED), rows=rows, workers=1)
    hints = {tp.name: file_hints(tp.hints) for tp in plan.tables}  # the base's encoding choices
    written = sorted(p.name for p in (full / "changes" / "batch-000002").iterdir())
    assert written
    for name in written:
        t = m.table(name.removesuffix(".parquet"))
        data = alone.batch(t, 2)
        write_table(resolve_format("parquet"), WriteOptions(), tmp_path / name, data.schema, [data], hints[t.name])
        assert (tmp_path / name).read_bytes() == (full / "changes" / "batch-000002" / name).read_bytes(), name


def _digests(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


@pytest.mark.parametrize("model", ["medical"])
def test_two_workers_write_the_same_bytes(runs: Runs, model: str) -> None:
    assert _digests(runs.get(model, "parquet", workers=2)) == _digests(runs.get(model, "parquet"))


# --- financial ---------------------------------------------------------------------------------


def _sessions_after(mic: str, n: int) -> list[dt.date]:
    """The exchange's first n sessions after 2024-12-31, straight from exchange_calendars."""
    import warnings

    import exchange_calendars

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = exchange_calendars.get_calendar(mic, start="2024-12-01", end="2025-03-31")
    return [d.date() for d in cal.sessions if d.date() > dt.date(2024, 12, 31)][:n]


def test_financial_batches_add_each_company_its_next_session(runs: Runs) -> None:
    full, snap = runs.get("financial", "parquet"), runs.get("financial", "parquet", BATCHES)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW ex AS SELECT * FROM '{full}/dim_exchanges.parquet'")
    con.execute(f"CREATE VIEW base AS SELECT * FROM '{full}/fact_daily_stock_prices.parquet'")
    con.execute(f"CREATE VIEW ch AS SELECT * FROM '{full}/changes/*/fact_daily_stock_prices.parquet'")
    companies = con.execute(f"SELECT count(*) FROM '{full}/dim_companies.parquet'").fetchone()[0]
    inserts = con.execute(
        "SELECT _batch, company_id, mic, date FROM ch JOIN ex USING (exchange_id) WHERE _op = 'insert'"
    ).fetchall()
    assert len(inserts) == BATCHES * companies  # every company, every batch
    expected = {mic: _sessions_after(mic, BATCHES) for mic in {r[2] for r in inserts}}
    for b, company, mic, date in inserts:
        assert date == expected[mic][b - 1], (b, company, mic, date)  # the exchange's b-th session after the window
    later = con.execute(
        "SELECT count(*) FROM (SELECT company_id, min(date) AS first FROM ch WHERE _op = 'insert' GROUP BY 1) n "
        "JOIN (SELECT company_id, max(date) AS last FROM base GROUP BY 1) o USING (company_id) WHERE n.first <= o.last"
    ).fetchone()[0]
    assert later == 0
    # The walk goes on: the first new open is near the last close of the window (an overnight gap).
    gaps = con.execute(
        "SELECT max(abs(ln(n.open_price / o.close_price))) FROM ch n JOIN "
        "(SELECT * FROM base QUALIFY row_number() OVER (PARTITION BY company_id ORDER BY date DESC) = 1) o "
        "USING (company_id) WHERE n._op = 'insert' AND n._batch = 1"
    ).fetchone()[0]
    assert gaps < 0.15
    # Corrections: earlier rows, only the close (inside the day's range) or the volume changes.
    model = resolve_model("financial")
    corrected = 0
    for b in range(1, BATCHES + 1):
        before = _replay(model, full, "parquet", b - 1)
        rows = before.execute(
            f"SELECT o.*, n.* FROM fact_daily_stock_prices o JOIN '{full}/changes/batch-{b:06d}/"
            "fact_daily_stock_prices.parquet' n ON n.price_id = o.price_id WHERE n._op = 'update'"
        )
        names = [d[0] for d in rows.description]
        for row in rows.fetchall():
            width = len(model.table("fact_daily_stock_prices").columns)
            old = dict(zip(names[:width], row[:width], strict=True))
            new = dict(zip(names[width:], row[width:], strict=False))
            changed = {c for c in old if old[c] != new[c]}
            assert changed and changed <= {"close_price", "volume"}, (old, new)
            assert new["low_price"] <= new["close_price"] <= new["high_price"]
            corrected += 1
    assert corrected > 5
    checks = {c.name: c for c in model.checks}
    con = duckdb.connect()
    for t in model.tables:
        con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM '{snap}/{t.name}.parquet'")
    for name in (
        "prices_on_the_exchange_tick_grid",
        "tse_volume_in_trading_units",
        "one_price_per_company_and_session",
    ):
        assert violations(con, checks[name])[0] == 0, name


# --- medical -------------------------------------------------------------------------------------

PROVISIONAL = "R69"


def _medical_day(b: int) -> dt.date:
    """Batch b closes the b-th weekday after 2024-12-31."""
    return np.busday_offset(np.datetime64("2024-12-31"), b, roll="forward").astype(dt.date)


def test_medical_visits_are_booked_moved_cancelled_and_completed(runs: Runs) -> None:
    model = resolve_model("medical")
    full, snap = runs.get("medical", "parquet"), runs.get("medical", "parquet", BATCHES)
    kinds: dict[str, int] = {"booked": 0, "completed": 0, "moved": 0, "cancelled": 0}
    for b in range(1, BATCHES + 1):
        day = _medical_day(b)
        con = _replay(model, full, "parquet", b - 1)
        con.execute(
            f"CREATE TEMP TABLE n AS SELECT a.*, timezone(c.time_zone, a.appointment_date)::DATE AS local_day "
            f"FROM '{full}/changes/batch-{b:06d}/fact_appointments.parquet' a JOIN dim_clinics c USING (clinic_id)"
        )
        new = con.execute("SELECT diagnosis_code, local_day FROM n WHERE _op = 'insert'").fetchall()
        assert all(code == PROVISIONAL and when > day for code, when in new)  # booked ahead, not yet diagnosed
        kinds["booked"] += len(new)
        gone = con.execute("SELECT diagnosis_code, local_day FROM n WHERE _op = 'delete'").fetchall()
        assert all(code == PROVISIONAL and when > day for code, when in gone)  # only future visits are cancelled
        kinds["cancelled"] += len(gone)
        steps = con.execute(
            "SELECT o.diagnosis_code, n.diagnosis_code, o.appointment_date, n.appointment_date, "
            "timezone(c.time_zone, o.appointment_date)::DATE, n.local_day, "
            "o.doctor_id = n.doctor_id AND o.patient_id = n.patient_id AND o.clinic_id = n.clinic_id "
            "FROM fact_appointments o JOIN n USING (appointment_id) JOIN dim_clinics c ON c.clinic_id = o.clinic_id "
            "WHERE n._op = 'update'"
        ).fetchall()
        for old_code, new_code, old_at, new_at, old_day, new_day, same in steps:
            assert same and old_code == PROVISIONAL  # a completed visit never changes again
            if new_code != PROVISIONAL:  # completed: diagnosed at the end of its day, not moved
                assert new_at == old_at and new_day == day, (old_at, new_at, new_day, day)
                kinds["completed"] += 1
            else:  # moved to the same doctor a week later, before its day came
                assert new_day - old_day == dt.timedelta(days=7) and old_day > day, (old_at, new_at, day)
                kinds["moved"] += 1
    assert all(kinds.values()), kinds
    checks = {c.name: c for c in model.checks}
    con = duckdb.connect()
    for t in model.tables:
        con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM '{snap}/{t.name}.parquet'")
    for name in checks:
        check = checks[name]
        if name == "appointments_in_local_clinic_hours":  # the base's window is 2020-2024; batches go on
            bound = " OR local < TIMESTAMP '2020-01-01' OR local >= TIMESTAMP '2025-01-01'"
            assert bound in check.sql
            check = type(check)(check.name, check.sql.replace(bound, ""), check.doc)
        assert violations(con, check)[0] == 0, name  # one patient per doctor and slot, one visit a day, ...
    registered = con.execute("SELECT count(*) FROM dim_patients").fetchone()[0]
    base = con.execute(f"SELECT count(*) FROM '{full}/dim_patients.parquet'").fetchone()[0]
    assert registered > base  # new patients (who book at everyone's rate: a few batches later, at this size)


# --- ecommerce-ds --------------------------------------------------------------------------------

JULIAN_1970 = 2_440_588


def _julian(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days + JULIAN_1970


def _ds_connect(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in resolve_model("ecommerce-ds").tables:
        con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM '{root}/{t.name}.parquet'")
    return con


CHANNELS = (("ss_", "sr_", "ticket_number", "store"), ("cs_", "cr_", "order_number", "catalog"))
CHANNELS += (("ws_", "wr_", "order_number", "web"),)


def test_ecommerce_ds_batches_follow_tpcds_data_maintenance(runs: Runs) -> None:
    full, snap = runs.get("ecommerce-ds", "parquet"), runs.get("ecommerce-ds", "parquet", BATCHES)
    con = duckdb.connect()
    sales_inserted = 0
    for b in range(1, BATCHES + 1):
        day = _julian(dt.date(2003, 1, 2) + dt.timedelta(days=b))
        cut = _julian(dt.date(1998, 1, 2) + dt.timedelta(days=b))  # nothing sold before it is left after batch b
        for s, r, _, channel in CHANNELS:
            path = f"{full}/changes/batch-{b:06d}"
            sales, returns = f"'{path}/{channel}_sales.parquet'", f"'{path}/{channel}_returns.parquet'"
            if Path(sales[1:-1]).exists():
                wrong = con.execute(
                    f"SELECT count(*) FROM {sales} WHERE _op = 'insert' AND {s}sold_date_sk IS DISTINCT FROM {day} "
                    f"AND {s}sold_date_sk IS NOT NULL OR _op = 'delete' AND {s}sold_date_sk >= {cut}"
                ).fetchone()[0]
                assert wrong == 0, (b, channel)  # a day of sales in; the oldest day out
                sales_inserted += con.execute(f"SELECT count(*) FROM {sales} WHERE _op = 'insert'").fetchone()[0]
                assert con.execute(f"SELECT count(*) FROM {sales} WHERE _op = 'update'").fetchone()[0] == 0
            if Path(returns[1:-1]).exists():
                wrong = con.execute(
                    f"SELECT count(*) FROM {returns} WHERE _op = 'insert' "
                    f"AND {r}returned_date_sk IS DISTINCT FROM {day} AND {r}returned_date_sk IS NOT NULL"
                ).fetchone()[0]
                assert wrong == 0, (b, channel)  # a return comes in on its day
    assert sales_inserted > 0
    after = _ds_connect(snap)
    for s, r, number, channel in CHANNELS:
        # Every return (window or batch) still has its sale, sold before it came back; nothing older than the cut.
        orphans = after.execute(
            f"SELECT count(*) FROM {channel}_returns x LEFT JOIN {channel}_sales y "
            f"ON x.{r}item_sk = y.{s}item_sk AND x.{r}{number} = y.{s}{number} "
            f"WHERE y.{s}item_sk IS NULL OR x.{r}returned_date_sk < y.{s}sold_date_sk"
        ).fetchone()[0]
        assert orphans == 0, channel
        old = after.execute(f"SELECT min({s}sold_date_sk) FROM {channel}_sales").fetchone()[0]
        assert old >= _julian(dt.date(1998, 1, 2) + dt.timedelta(days=BATCHES)), channel
        duplicated = after.execute(
            f"SELECT count(*) FROM (SELECT {s}item_sk, {s}{number} FROM {channel}_sales "
            "GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        assert duplicated == 0  # (item, ticket) stays the key
    weeks = after.execute("SELECT min(inv_date_sk), max(inv_date_sk) FROM inventory").fetchone()
    assert weeks[0] >= _julian(dt.date(1998, 1, 2) + dt.timedelta(days=BATCHES))  # the first week purged
    assert weeks[1] == _julian(dt.date(2003, 1, 2))  # batch 1 brings the count of 2003-01-02
    # Dimensions updated in place: a new provider for the same name, a flipped flag, a review on the batch's day.
    base = _ds_connect(full)
    changed = base.execute(
        # the name part as the base wrote it (names of other languages are folded to ASCII there)
        f"SELECT split_part(o.c_email_address, '@', 1) = split_part(n.c_email_address, '@', 1), "
        f"o.c_email_address = n.c_email_address, o.c_preferred_cust_flag <> n.c_preferred_cust_flag, "
        f"o.c_preferred_cust_flag = n.c_preferred_cust_flag, n.c_last_review_date_sk, n._batch "
        f"FROM customer o JOIN '{full}/changes/*/customer.parquet' n USING (c_customer_sk)"
    ).fetchall()
    assert changed
    for same_name, _, flipped, same_flag, _, _ in changed:
        assert same_name and (flipped or same_flag)
    reviews = {(r, b) for *_, r, b in changed}
    assert any(r == _julian(dt.date(2003, 1, 2) + dt.timedelta(days=b)) for r, b in reviews)
    repriced = base.execute(
        f"SELECT count(*), count(*) FILTER (WHERE n.i_rec_end_date IS NOT NULL OR n.i_item_id <> o.i_item_id) "
        f"FROM item o JOIN '{full}/changes/*/item.parquet' n USING (i_item_sk) "
        "WHERE n.i_current_price <> o.i_current_price"
    ).fetchone()
    assert repriced[0] > 0 and repriced[1] == 0  # only current versions change price


def test_more_batches_than_the_layout_has_room_for_are_refused(tmp_path: Path) -> None:
    """Each model's layout has an end (sessions, time-zone tables, the purge reaching the batches' sales)."""
    out = tmp_path / "out"
    args = ("-m", "financial", "--rows", "dim_companies=5", "-f", "csv", "-o", str(out))
    r = run_gengo("gen", *args, "--batches", "2401")
    assert_one_line_error(r, "at most 2,400 change batches")
    assert not out.exists() or not any(out.iterdir())
    for model, rows, limit in (("medical", "fact_appointments=2000", 2_500), ("ecommerce-ds", "store_sales=99", 1_826)):
        plan = api.plan(model, None, "csv", 1, rows=[rows], workers=1)
        assert api.check_changes(plan, limit, None) == limit
        with pytest.raises(GengoError, match=f"at most {limit:,} change batches"):
            api.check_changes(plan, limit + 1, None)
