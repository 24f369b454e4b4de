"""`--db postgresql://...`: every model loaded with COPY, keys enforced; bad URLs and existing schemas refused.

The loading tests need a server: .ci/run starts one and exports GENGO_TEST_PG_URL.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from gengo import api
from gengo.models import MODELS
from tests.db_helpers import PG_URL, SMALL_ROWS, orphan_insert, rows_args
from tests.helpers import GENGO, assert_one_line_error, run_gengo

MODEL_NAMES = sorted(MODELS)
needs_pg = pytest.mark.skipif(not PG_URL, reason="GENGO_TEST_PG_URL not set (see .ci/run)")


def _schema_exists(con, schema: str) -> bool:
    return con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


@needs_pg
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_load_every_model(model):
    psycopg = pytest.importorskip("psycopg")
    schema = f"gengo_test_{model.replace('-', '_')}"
    r = run_gengo("gen", "-m", model, "--db", PG_URL, "--schema", schema, "--seed", "5", "--force", *rows_args(model))
    assert r.returncode == 0, r.stderr + r.stdout
    expected = api.plan(model, None, "postgres", seed=5, rows=SMALL_ROWS[model]).rows
    m = MODELS[model]
    with psycopg.connect(PG_URL, autocommit=True) as con:
        try:
            for t in m.tables:
                n = con.execute(f'SELECT count(*) FROM "{schema}"."{t.name}"').fetchone()[0]
                assert n == expected[t.name] > 0, t.name
            fks = con.execute(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = %s::regnamespace", (schema,)
            ).fetchone()[0]
            assert fks == sum(len(t.foreign_keys) for t in m.tables)
            # Every foreign key is enforced: an orphan row fails.
            for t in m.tables:
                for col, _, _ in t.foreign_keys:
                    with pytest.raises(psycopg.errors.ForeignKeyViolation):
                        con.execute(orphan_insert(model, t.name, col, prefix=f'"{schema}".'))
        finally:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.parametrize("model, size", [("ecommerce", "0.1"), ("medical", "2MB"), ("ecommerce-ds", "30MB")])
def test_a_load_is_planned_with_the_rows_of_the_csv_files(model, size):
    """--db at a size and seed loads the rows -f csv writes at that size and seed (was 559,278 against 556,019)."""
    pytest.importorskip("psycopg")
    csv = run_gengo("plan", "-m", model, "-s", size, "-f", "csv", "--seed", "3")
    db = run_gengo(
        "gen", "-m", model, "-s", size, "--db", "postgresql://nobody@127.0.0.1:1/x", "--seed", "3", "--dry-run"
    )
    assert csv.returncode == 0 and db.returncode == 0, csv.stderr + db.stderr

    def rows(out: str) -> dict[str, str]:
        cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]
        return {c[0]: c[1] for c in cells if c[0] != "total"}

    assert rows(db.stdout) == rows(csv.stdout) and len(rows(csv.stdout)) == len(MODELS[model].tables)


def test_psycopg_warning_about_ending_a_failed_copy_is_not_printed():
    """A lost connection printed psycopg's "error ignored terminating <psycopg.Copy [BAD]>" before gengo's line."""
    pytest.importorskip("psycopg")
    code = (
        "import logging\n"
        "from gengo.formats.postgres import import_psycopg\n"
        "import_psycopg()\n"
        "log = logging.getLogger('psycopg')\n"
        "log.warning('error ignored terminating %r: %s', '<psycopg.Copy [BAD]>', 'the connection is lost')\n"
        "log.warning('other psycopg warnings still show')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "error ignored" not in r.stderr and "other psycopg warnings still show" in r.stderr


@needs_pg
def test_lost_connection_is_one_line_and_the_command_ends():
    """A server connection killed mid-COPY: gengo's one line only, and the process exits (it could hang)."""
    psycopg = pytest.importorskip("psycopg")
    schema = "gengo_test_lost"
    proc = subprocess.Popen(
        [GENGO, "gen", "-m", "ecom", "-s", "0.3", "--db", PG_URL, "--schema", schema, "--seed", "1", "--force", "-q"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = 0
    with psycopg.connect(PG_URL, autocommit=True) as con:
        try:
            deadline = time.monotonic() + 60
            while not killed and time.monotonic() < deadline and proc.poll() is None:
                for (pid,) in con.execute(
                    # this run's COPYs only: other tests load other schemas on the same server meanwhile
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'gengo' AND query LIKE %s "
                    "AND state = 'active'",
                    (f'COPY "{schema}".%',),
                ).fetchall():
                    killed += con.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
                time.sleep(0.01)
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert killed, "no COPY was seen to kill"
    assert proc.returncode == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gengo: error: COPY into"), stderr
    assert "Traceback" not in stderr


@needs_pg
def test_values_match_the_csv_files(tmp_path):
    psycopg = pytest.importorskip("psycopg")
    schema = "gengo_test_values"
    r = run_gengo("gen", "-m", "med", "-f", "csv", "-o", str(tmp_path), "--seed", "9", "-q", "-s", "2MB")
    assert r.returncode == 0, r.stderr
    # The same size and seed: the same rows (a load is planned as -f csv).
    planned = json.loads((tmp_path / "manifest.json").read_text())["planned_rows"]
    r = run_gengo("gen", "-m", "med", "--db", PG_URL, "--schema", schema, "--seed", "9", "--force", "-q", "-s", "2MB")
    assert r.returncode == 0, r.stderr
    with psycopg.connect(PG_URL, autocommit=True) as con:
        try:
            for t in MODELS["medical"].tables:
                n = con.execute(f'SELECT count(*) FROM "{schema}"."{t.name}"').fetchone()[0]
                assert n == planned[t.name], t.name
                cols = ", ".join(f'"{c.name}"' for c in t.columns)
                with con.cursor().copy(
                    f'COPY (SELECT {cols} FROM "{schema}"."{t.name}" ORDER BY 1) TO STDOUT (FORMAT csv, HEADER)'
                ) as copy:
                    dumped = b"".join(bytes(b) for b in copy)
                text = (tmp_path / f"{t.name}.csv").read_bytes()
                assert len(dumped.splitlines()) == len(text.splitlines()), t.name
        finally:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@needs_pg
def test_existing_schema_refused_then_force_replaces_it():
    psycopg = pytest.importorskip("psycopg")
    schema = "gengo_test_exists"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        con.execute(f'CREATE SCHEMA "{schema}"')
        con.execute(f'CREATE TABLE "{schema}".keep_me (x int)')
        try:
            args = ("gen", "-m", "fin", "--db", PG_URL, "--schema", schema, "--seed", "1", *rows_args("financial"))
            assert_one_line_error(run_gengo(*args), "already exists", "--force")
            assert con.execute(f'SELECT count(*) FROM "{schema}".keep_me').fetchone()[0] == 0  # untouched
            r = run_gengo(*args, "--force", "-q")
            assert r.returncode == 0, r.stderr
            tables = {row[0] for row in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))}
            assert tables == set(MODELS["financial"].table_names)
        finally:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@needs_pg
def test_failed_load_drops_schema_unless_keep_partial(monkeypatch):
    psycopg = pytest.importorskip("psycopg")
    from gengo.formats import postgres

    schema = "gengo_test_failure"
    p = api.plan("medical", None, "postgres", seed=1, rows=SMALL_ROWS["medical"])
    real_copy = postgres.PostgresTarget._copy

    def failing_copy(self, table, payload):
        if table == "fact_appointments":
            payload = b"not,a,valid,row\n"
        return real_copy(self, table, payload)

    monkeypatch.setattr(postgres.PostgresTarget, "_copy", failing_copy)
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        try:
            with pytest.raises(api.GengoError, match="COPY into"):
                api.load(p, PG_URL, schema, workers=1)
            assert not _schema_exists(con, schema)
            with pytest.raises(api.GengoError, match="COPY into"):
                api.load(p, PG_URL, schema, workers=1, keep_partial=True)
            assert _schema_exists(con, schema)
        finally:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection():
    pytest.importorskip("psycopg")
    url = f"postgresql://gengo@127.0.0.1:{_closed_port()}/gengo"
    r = run_gengo("gen", "-m", "ecommerce", "-s", "0.01", "--db", url)
    assert_one_line_error(r, "cannot connect", "refused")


@pytest.mark.parametrize(
    "url, fragment",
    [("http://localhost/db", "invalid --db url"), ("postgresql://host:notaport/db", "invalid --db url"), ("", "--db")],
)
def test_wrong_url(url, fragment):
    pytest.importorskip("psycopg")
    assert_one_line_error(run_gengo("gen", "-m", "ecommerce", "-s", "0.01", "--db", url), fragment)


@needs_pg
def test_missing_database():
    url = PG_URL.rsplit("/", 1)[0] + "/gengo_no_such_database"
    assert_one_line_error(run_gengo("gen", "-m", "ecommerce", "-s", "0.01", "--db", url), "does not exist")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["-f", "postgres", "-o", "x"], "needs --db"),
        (["-f", "csv", "--db", "postgresql://h/db"], "leave out --format"),
        (["--db", "postgresql://h/db", "-o", "x"], "leave out --output"),
        (["-f", "csv", "-o", "x", "--schema", "s"], "--schema applies to --db"),
        (["--db", "postgresql://h/db", "--schema", "1bad"], "invalid schema name"),
    ],
)
def test_option_conflicts(args, fragment):
    assert_one_line_error(run_gengo("gen", "-m", "ecommerce", "-s", "0.01", *args), fragment)
