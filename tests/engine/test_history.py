"""``gen --batches N --history``: type-2 versions consistent with the batches and the snapshots.

The versions valid at the end of batch k's day are ``--as-of k``'s rows, for every k (0: the
base), and the current versions are ``--as-of N``'s table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from gengo.models import resolve_model
from tests.engine.test_changes import SHOP
from tests.helpers import EXT, assert_one_line_error, duck_type, run_gengo

# A dimension nothing references may lose rows: its history closes their last version.
CRM = """\
model: crm
tables:
  accounts:
    rows: scale
    changes: {insert: 0.1, update: {tier: 0.2, email: 0.1}, delete: 0.05}
    columns:
      account_id: {primary_key: true}
      first_name: first_name
      last_name: last_name
      email: {strategy: email}
      tier: {strategy: choice, values: [gold, silver, bronze]}
      opened: {strategy: datetime, start: 2024-01-01, end: 2025-01-01}
"""
EPOCH = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
BATCHES = 2


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    (root / "shop.yaml").write_text(SHOP)
    (root / "crm.yaml").write_text(CRM)
    return {"shop": root / "shop.yaml", "crm": root / "crm.yaml"}


ROWS = {"shop": "orders=300", "crm": "accounts=400"}


def _gen(model: Path, name: str, out: Path, fmt: str, *extra: str) -> Path:
    r = run_gengo("gen", "-q", "-m", str(model), "--rows", ROWS[name], "-f", fmt, "-o", str(out), "--seed", "3", *extra)
    assert r.returncode == 0, r.stderr + r.stdout
    return out


def _read(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
    if fmt == "csv":
        return f"read_csv('{path}', header=true, columns={{{cols}}})"
    if fmt == "json":
        return f"read_json('{path}', format='newline_delimited', columns={{{cols}}})"
    return f"read_parquet('{path}')"


@pytest.mark.parametrize(("name", "fmt"), [("shop", "parquet"), ("crm", "json")])
def test_versions_valid_after_batch_k_are_the_as_of_k_rows(models, tmp_path: Path, name: str, fmt: str) -> None:
    model = resolve_model(str(models[name]))
    run = _gen(models[name], name, tmp_path / "run", fmt, "--batches", str(BATCHES), "--history")
    info = json.loads((run / "changes" / "manifest.json").read_text())
    expected = {"shop": {"customers", "orders"}, "crm": {"accounts"}}[name]  # shop's lines: a fact
    assert {h["table"] for h in info["history"]} == expected
    snaps = [
        _gen(models[name], name, tmp_path / f"as-of-{k}", fmt, "--batches", str(BATCHES), "--as-of", str(k))
        for k in range(BATCHES + 1)
    ]
    con = duckdb.connect()
    for h in info["history"]:
        t = model.table(h["table"])
        types = {c.name: duck_type(c.type) for c in t.columns}
        history = _read(con, run / h["file"], fmt, types | {"valid_from": "TIMESTAMPTZ", "valid_to": "TIMESTAMPTZ"})
        if fmt != "parquet":
            history = history.replace("'TIMESTAMPTZ'}", "'TIMESTAMPTZ', 'is_current': 'BOOLEAN'}")
        names = ", ".join(f'"{c.name}"' for c in t.columns)
        assert con.execute(f"SELECT count(*) FROM {history}").fetchone()[0] == h["rows"]
        for k in range(BATCHES + 1):
            end = (EPOCH + dt.timedelta(days=k)).isoformat()
            valid = (
                f"SELECT {names} FROM {history} WHERE valid_from < TIMESTAMPTZ '{end}' "
                f"AND (valid_to IS NULL OR valid_to >= TIMESTAMPTZ '{end}')"
            )
            rows = _read(con, snaps[k] / f"{t.name}.{EXT[fmt]}", fmt, types)
            _same(con, valid, f"SELECT * FROM {rows}", (t.name, k))
            if k == BATCHES:  # the current versions are the last snapshot's table
                _same(con, f"SELECT {names} FROM {history} WHERE is_current", f"SELECT * FROM {rows}", t.name)


def _same(con: duckdb.DuckDBPyConnection, a: str, b: str, where) -> None:
    for x, y in ((a, b), (b, a)):
        extra = con.execute(f"SELECT * FROM ({x}) EXCEPT ALL SELECT * FROM ({y}) LIMIT 3").fetchall()
        assert not extra, (where, extra)
    assert con.execute(f"SELECT count(*) FROM ({a})").fetchone()[0] > 0, where


def test_versions_follow_the_batch_events(models, tmp_path: Path) -> None:
    """One version per base row, insert and value-changing update; intervals chain without gaps;
    a deleted row's last version ends at its delete; the base versions start on day 0."""
    run = _gen(models["crm"], "crm", tmp_path / "run", "parquet", "--batches", "3", "--history")
    h = f"read_parquet('{run / 'history' / 'accounts_history.parquet'}')"
    events = f"read_parquet('{run / 'changes' / '*' / 'accounts.parquet'}')"
    one = lambda sql: duckdb.connect().execute(sql).fetchone()  # noqa: E731
    base = one(f"SELECT count(*) FROM '{run / 'accounts.parquet'}'")[0]
    ops = dict(duckdb.connect().execute(f"SELECT _op, count(*) FROM {events} GROUP BY 1").fetchall())
    assert set(ops) == {"insert", "update", "delete"}
    assert one(f"SELECT count(*) FROM {h}")[0] == base + ops["insert"] + ops["update"]
    assert one(f"SELECT count(*) FROM {h} WHERE valid_from = TIMESTAMPTZ '2029-12-31 00:00:00+00'")[0] == base
    assert one(f"SELECT count(*) FROM {h} WHERE is_current <> (valid_to IS NULL)")[0] == 0
    gaps = one(
        f"SELECT count(*) FROM (SELECT valid_to, lead(valid_from) OVER (PARTITION BY account_id ORDER BY valid_from) "
        f"AS next FROM {h}) WHERE next IS NOT NULL AND next IS DISTINCT FROM valid_to"
    )[0]
    assert gaps == 0
    closed = one(
        f"SELECT count(*) FROM {events} d JOIN (SELECT account_id, max(valid_to) AS valid_to, "
        f"bool_or(is_current) AS cur FROM {h} GROUP BY 1) v USING (account_id) "
        "WHERE d._op = 'delete' AND (v.cur OR v.valid_to <> d._ts)"
    )[0]
    assert closed == 0
    # Every update event starts a version at its _ts holding the row after it.
    missing = one(
        f"SELECT count(*) FROM {events} e ANTI JOIN {h} v ON v.account_id = e.account_id AND v.valid_from = e._ts "
        "AND v.email = e.email AND v.tier = e.tier WHERE e._op IN ('insert', 'update')"
    )[0]
    assert missing == 0


def test_history_bytes_do_not_depend_on_workers(models, tmp_path: Path) -> None:
    digests = []
    for w in ("1", "2"):
        run = _gen(models["shop"], "shop", tmp_path / w, "parquet", "--batches", "2", "--history", "--workers", w)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (run / "history").iterdir()})
    assert digests[0] == digests[1] and len(digests[0]) == 2


INSERTS_ONLY = """\
model: log
tables:
  events:
    rows: scale
    changes: {insert: 0.1}
    columns:
      event_id: {primary_key: true}
      kind: {strategy: choice, values: [a, b]}
"""


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--history",), "give --batches"),
        (("--as-of", "2", "--history"), "give --batches"),
        (("--batches", "3", "--as-of", "2", "--history"), "no --as-of"),
    ],
)
def test_bad_history_options_write_nothing(models, tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    out = tmp_path / "out"
    extra = () if "--db" in args else ("-o", str(out))
    r = run_gengo("gen", "-m", str(models["shop"]), "--rows", ROWS["shop"], "-f", "csv", *extra, *args)
    assert_one_line_error(r, fragment)
    assert not out.exists() or not any(out.iterdir())


def test_history_of_a_model_without_updated_dimensions_is_refused(tmp_path: Path) -> None:
    (tmp_path / "log.yaml").write_text(INSERTS_ONLY)
    for model in (str(tmp_path / "log.yaml"), "financial"):
        out = tmp_path / "out"
        r = run_gengo("gen", "-m", model, "-s", "0.001", "-f", "csv", "-o", str(out), "--batches", "2", "--history")
        assert_one_line_error(r, "no dimension table with updates")  # financial: only its fact table changes
        assert not out.exists() or not any(out.iterdir())


def test_a_later_run_without_history_leaves_no_stale_history(models, tmp_path: Path) -> None:
    out = _gen(models["crm"], "crm", tmp_path / "out", "csv", "--batches", "2", "--history")
    assert (out / "history" / "accounts_history.csv").is_file()
    _gen(models["crm"], "crm", out, "csv", "--batches", "2", "--force")
    assert not (out / "history").exists()
    _gen(models["crm"], "crm", out, "csv", "--batches", "2", "--history", "--force")
    _gen(models["crm"], "crm", out, "csv", "--as-of", "1", "--force")
    assert not (out / "history").exists() and not (out / "changes").exists()
