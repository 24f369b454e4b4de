"""The example model files in examples/models/, end to end with the real ``gengo`` command.

Every ``examples/models/*.yaml`` (a glob: files added later are covered) is generated in CSV,
JSON Lines and Parquet with the same rows, verified, compared across formats, loaded into
DuckDB and PostgreSQL with their keys, and regenerated with another worker count and chunk size
for the same bytes. One semantic test per example checks what its comments promise, in SQL.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from gengo import api
from gengo.models import resolve_model
from tests.db_helpers import PG_URL, orphan_insert
from tests.helpers import EXT, connect, gen, manifest, run_cli, run_gengo, sha256_files

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "models"
FILES = sorted(EXAMPLES.glob("*.yaml"))
FORMATS = ("csv", "json", "parquet")
SIZE = "3MB"
SEED = 20250101
needs_pg = pytest.mark.skipif(not PG_URL, reason="GENGO_TEST_PG_URL not set (see .ci/run)")


EXAMPLE_PARAMS = [pytest.param(p, id=p.stem) for p in FILES]
DUCKDB_PARAMS = EXAMPLE_PARAMS


def test_there_are_examples():
    """An empty or mistyped glob would make every parametrized test below vanish silently."""
    assert len(FILES) >= 3, f"expected at least 3 model files in {EXAMPLES}, found {[p.name for p in FILES]}"
    assert {"saas", "iot", "hr"} <= {p.stem for p in FILES}


def _pins(path: Path) -> list[str]:
    """``--rows`` for every table: each format gets the rows CSV gets at ``SIZE``."""
    rows = api.plan(str(path), SIZE, "csv", seed=SEED, workers=1).rows
    pins = {table: n for table, n in rows.items() if n > 0}
    assert api.plan(str(path), None, "parquet", seed=SEED, workers=1, rows=pins).rows == rows
    return [f"--rows={table}={n}" for table, n in pins.items()]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """Every example in every format with the same rows, generated once for the module."""
    root = tmp_path_factory.mktemp("examples")
    out = {}
    for path in FILES:
        pins = _pins(path)
        for fmt in FORMATS:
            d = root / f"{path.stem}-{fmt}"
            r = run_cli("gen", "-m", str(path), *pins, "-f", fmt, "-o", str(d), "--seed", str(SEED), "-q")
            assert r.returncode == 0, r.stderr + r.stdout
            out[(path.stem, fmt)] = d
    return out


def _parquet(datasets, path: Path) -> duckdb.DuckDBPyConnection:
    return connect(datasets[(path.stem, "parquet")], "parquet", str(path))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", EXAMPLE_PARAMS)
def test_verify_passes(datasets, path, fmt):
    d = datasets[(path.stem, fmt)]
    r = run_gengo("verify", str(d))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verify: OK" in r.stdout
    # Every table holds rows and every file was written.
    rows = manifest(d)["planned_rows"]
    assert rows and all(n > 0 for n in rows.values()), rows
    assert all((d / f"{t}.{EXT[fmt]}").exists() for t in rows)


def _digest(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """(rows, an order-independent hash of every row's values)."""
    return con.execute(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{table}" t').fetchone()


@pytest.mark.parametrize("path", EXAMPLE_PARAMS)
def test_same_values_in_every_format(datasets, path):
    model = resolve_model(str(path))
    digests = {}
    for fmt in FORMATS:
        con = connect(datasets[(path.stem, fmt)], fmt, str(path))
        digests[fmt] = {t.name: _digest(con, t.name) for t in model.tables}
        con.close()
    for table, (n, _) in digests["csv"].items():
        assert n > 0, table
        assert digests["csv"][table] == digests["json"][table] == digests["parquet"][table], (
            f"{path.stem}.{table} differs between formats: {[digests[f][table] for f in FORMATS]}"
        )
    # And row by row for the largest table: CSV read back as declared equals Parquet exactly.
    big = max(digests["csv"], key=lambda t: digests["csv"][t][0])
    csv = connect(datasets[(path.stem, "csv")], "csv", str(path))
    pq = _parquet(datasets, path)
    a = csv.execute(f'SELECT * FROM "{big}" ORDER BY ALL').fetchall()
    b = pq.execute(f'SELECT * FROM "{big}" ORDER BY ALL').fetchall()
    assert len(a) == digests["csv"][big][0] and a == b


@pytest.mark.parametrize("path", DUCKDB_PARAMS)
def test_duckdb_file_has_enforced_keys(tmp_path, path):
    model = resolve_model(str(path))
    out = gen(tmp_path / "db", str(path), SIZE, "duckdb", SEED, "-q")
    con = duckdb.connect(str(out / f"{model.name}.duckdb"))
    try:
        kinds = dict(
            con.execute(
                "SELECT constraint_type, count(*) FROM duckdb_constraints() "
                "WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') GROUP BY 1"
            ).fetchall()
        )
        # DuckDB checks a key before the rows of its own INSERT exist: a reference within a table
        # (hr: employees.manager_id) is not declared there (gengo verify checks it).
        fks = [(t.name, col) for t in model.tables for col, parent, _ in t.foreign_keys if parent != t.name]
        assert kinds.get("PRIMARY KEY") == len(model.tables)
        assert kinds.get("FOREIGN KEY") == len(fks) > 0
        for t in model.tables:
            assert con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0] > 0, t.name
        for table, col in fks:  # an orphan row is refused
            with pytest.raises(duckdb.ConstraintException):
                con.execute(orphan_insert(str(path), table, col))
    finally:
        con.close()


@needs_pg
@pytest.mark.parametrize("path", EXAMPLE_PARAMS)
def test_postgres_load_with_keys(path):
    psycopg = pytest.importorskip("psycopg")
    model = resolve_model(str(path))
    schema = f"gengo_test_example_{path.stem}"
    r = run_gengo("gen", "-m", str(path), "--db", PG_URL, "--schema", schema, "-s", SIZE, "--seed", str(SEED))
    assert r.returncode == 0, r.stderr + r.stdout
    expected = api.plan(str(path), SIZE, "postgres", seed=SEED).rows
    with psycopg.connect(PG_URL, autocommit=True) as con:
        try:
            for t in model.tables:
                n = con.execute(f'SELECT count(*) FROM "{schema}"."{t.name}"').fetchone()[0]
                assert n == expected[t.name] > 0, t.name
            kinds = dict(
                con.execute(
                    "SELECT contype, count(*) FROM pg_constraint WHERE connamespace = %s::regnamespace GROUP BY 1",
                    (schema,),
                ).fetchall()
            )
            fks = [(t.name, col) for t in model.tables for col, _, _ in t.foreign_keys]
            assert kinds.get("p") == len(model.tables)
            assert kinds.get("f") == len(fks) > 0
            for table, col in fks:
                with pytest.raises(psycopg.errors.ForeignKeyViolation):
                    con.execute(orphan_insert(str(path), table, col, prefix=f'"{schema}".'))
        finally:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.parametrize("path", EXAMPLE_PARAMS)
def test_worker_count_and_chunk_size_do_not_change_bytes(tmp_path, path):
    one = gen(tmp_path / "w1", str(path), "2MB", "parquet", SEED, "-q", "--workers", "1")
    two = gen(tmp_path / "w2", str(path), "2MB", "parquet", SEED, "-q", "--workers", "2", "--chunk-rows", "3001")
    assert sha256_files(one) == sha256_files(two)
    # The chunk size split the largest table into several chunks (else the test proves little).
    assert max(manifest(one)["planned_rows"].values()) > 3001


# --- what each example promises --------------------------------------------------------------


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()


def test_saas_invoice_amounts_follow_the_plan_price(datasets):
    con = _parquet(datasets, EXAMPLES / "saas.yaml")
    # subtotal = quantity x the plan's seat price (two hops: invoice -> subscription -> plan),
    # tax from the account's country, total = subtotal + tax; quantity within the plan's seats.
    bad, n = _one(
        con,
        """
        SELECT count(*) FILTER (WHERE i.subtotal <> i.quantity * p.seat_price
                                   OR i.unit_price <> p.seat_price
                                   OR i.quantity <> s.seats OR s.seats > p.max_seats
                                   OR i.tax <> round(i.subtotal * i.tax_rate, 2)
                                   OR i.total <> i.subtotal + i.tax
                                   OR i.tax_rate <> CASE a.country WHEN 'GB' THEN 0.20 WHEN 'DE' THEN 0.19
                                        WHEN 'FR' THEN 0.20 WHEN 'AU' THEN 0.10 WHEN 'JP' THEN 0.10
                                        WHEN 'CA' THEN 0.05 ELSE 0 END
                                   OR i.currency <> a.currency),
               count(*)
        FROM invoices i JOIN subscriptions s USING (subscription_id) JOIN plans p USING (plan_id)
        JOIN accounts a ON a.account_id = s.account_id
        """,
    )
    assert n > 0 and bad == 0
    # Some invoices are taxed and not free, so the equalities above were not all 0 = 0.
    assert _one(con, "SELECT count(*) FROM invoices WHERE tax > 0 AND total > subtotal")[0] > 0
    # A payment pays one invoice, at most once, its whole total, after it was issued.
    bad, paid, invoices = _one(
        con,
        """
        SELECT count(*) FILTER (WHERE p.amount <> i.total OR p.paid_at < i.issued_on),
               count(DISTINCT p.invoice_id), (SELECT count(*) FROM invoices)
        FROM payments p JOIN invoices i USING (invoice_id)
        """,
    )
    assert bad == 0 and paid == _one(con, "SELECT count(*) FROM payments")[0] and 0.9 < paid / invoices < 1
    # Users' emails are on their account's domain; the first user of every account is its owner.
    assert (
        _one(
            con,
            """
        SELECT count(*) FROM users u JOIN accounts a USING (account_id)
        WHERE NOT ends_with(u.email, '@' || a.domain) OR (u.member_no = 1) <> (u.role = 'owner')
        """,
        )[0]
        == 0
    )
    # Terms of an account follow each other without gap or overlap.
    assert (
        _one(
            con,
            """
        SELECT count(*) FROM (
            SELECT started_on, lag(ended_on) OVER (PARTITION BY account_id ORDER BY term_no) AS prev_end
            FROM subscriptions) WHERE prev_end IS NOT NULL AND prev_end <> started_on
        """,
        )[0]
        == 0
    )


def test_iot_readings_are_a_time_series_per_device(datasets):
    con = _parquet(datasets, EXAMPLES / "iot.yaml")
    # Within a device, time increases strictly with seq, one interval apart (give or take 2 s).
    bad, n = _one(
        con,
        """
        SELECT count(*) FILTER (WHERE gap <= 0 OR abs(gap - interval_s) > 2), count(*) FROM (
            SELECT epoch(r.read_at) - epoch(lag(r.read_at) OVER (PARTITION BY r.device_id ORDER BY r.seq)) AS gap,
                   d.interval_s
            FROM readings r JOIN devices d USING (device_id)) WHERE gap IS NOT NULL
        """,
    )
    assert n > 0 and bad == 0
    # Devices report during the same days (not one after the other): the first and the last
    # device's readings overlap in time.
    assert _one(
        con,
        """
        WITH w AS (SELECT device_id, min(read_at) lo, max(read_at) hi FROM readings GROUP BY 1)
        SELECT (SELECT lo FROM w ORDER BY device_id LIMIT 1) < (SELECT hi FROM w ORDER BY device_id DESC LIMIT 1)
           AND (SELECT lo FROM w ORDER BY device_id DESC LIMIT 1) < (SELECT hi FROM w ORDER BY device_id LIMIT 1)
        """,
    )[0]
    # Values scatter around the device's own level, and the levels differ by type.
    rows = con.execute(
        """
        SELECT d.device_type, avg(abs(r.value - d.baseline)), avg(d.baseline), count(r.value), count(*)
        FROM readings r JOIN devices d USING (device_id) GROUP BY 1
        """
    ).fetchall()
    typical = {"temperature": 21, "humidity": 45, "co2": 600, "pressure": 1013, "power": 40}
    for kind, deviation, level, values, total in rows:
        assert abs(level - typical[kind]) < typical[kind] * 0.25, (kind, level)
        assert deviation < typical[kind] * 0.25, (kind, deviation)
        assert 0.98 < values / total < 1, kind  # 0.5% lost readings are NULL
    # An alert's reading belongs to the alert's device and precedes the alert.
    assert (
        _one(
            con,
            """
        SELECT count(*) FROM alerts a JOIN readings r USING (reading_id)
        WHERE r.device_id <> a.device_id OR a.raised_at <= r.read_at
           OR a.value IS DISTINCT FROM r.value OR a.acknowledged_at < a.raised_at
        """,
        )[0]
        == 0
    )
    # Sites were onboarded in key order.
    assert (
        _one(
            con,
            "SELECT count(*) FROM (SELECT onboarded_on - lag(onboarded_on) OVER (ORDER BY site_id) d FROM sites) "
            "WHERE d < 0",
        )[0]
        == 0
    )


def test_hr_salaries_rise_over_each_employees_history(datasets):
    con = _parquet(datasets, EXAMPLES / "hr.yaml")
    bad, n = _one(
        con,
        """
        SELECT count(*) FILTER (WHERE salary <= prev_salary OR effective_from <= prev_from), count(*) FROM (
            SELECT salary, effective_from,
                   lag(salary) OVER w AS prev_salary, lag(effective_from) OVER w AS prev_from
            FROM salary_history WINDOW w AS (PARTITION BY employee_id ORDER BY change_no))
        WHERE prev_salary IS NOT NULL
        """,
    )
    assert n > 0 and bad == 0
    # The first record is the hire, on the hire date; every employee has one; currency from the office.
    assert (
        _one(
            con,
            """
        SELECT count(*) FROM employees e LEFT JOIN salary_history s ON s.employee_id = e.employee_id AND s.change_no = 1
        JOIN offices o USING (office_id)
        WHERE s.employee_id IS NULL OR s.effective_from <> e.hire_date OR s.reason <> 'hire'
           OR s.currency <> o.currency OR e.currency <> o.currency
        """,
        )[0]
        == 0
    )
    # Leavers left once, after their last salary change and before the data's "today".
    assert (
        _one(
            con,
            """
        SELECT count(*) FROM terminations t JOIN employees e USING (employee_id)
        JOIN (SELECT employee_id, max(effective_from) last_change FROM salary_history GROUP BY 1) s USING (employee_id)
        WHERE t.terminated_on < s.last_change OR t.terminated_on >= DATE '2025-01-01'
        """,
        )[0]
        == 0
    )
    assert _one(con, "SELECT count(*) = count(DISTINCT employee_id) FROM terminations")[0]
    # Managers: NULL for about 3%, otherwise an existing employee, and not one manager for everyone.
    nulls, total, top = _one(
        con,
        """
        SELECT count(*) FILTER (WHERE manager_id IS NULL), count(*),
               (SELECT max(c) FROM (SELECT count(*) c FROM employees WHERE manager_id IS NOT NULL GROUP BY manager_id))
        FROM employees
        """,
    )
    assert 0.01 < nulls / total < 0.05 and top < total * 0.01
    # Names follow the office's locale: German names in Berlin (umlauts), and emails fold them away.
    folded = "SELECT count(*) FROM employees WHERE NOT regexp_full_match(email, '[a-z0-9.-]+@acme-corp\\.com')"
    assert _one(con, folded)[0] == 0
    assert (
        _one(
            con,
            "SELECT count(*) FROM employees JOIN offices USING (office_id) "
            "WHERE city = 'Berlin' AND regexp_matches(first_name || last_name, '[äöüÄÖÜß]')",
        )[0]
        > 0
    )
