"""gengo init --from SOURCE: import a schema, generate from it, load the rows back into the source's DDL.

The round trips create an empty copy of the source schema and load the generated CSV with every
constraint enforced (keys, foreign keys, unique, NOT NULL, CHECK, varchar lengths, numeric
precision): one rejected row fails the test.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
import yaml
from sqlglot import exp

from gengo.models.file import load_model_file
from tests.db_helpers import PG_URL
from tests.helpers import assert_one_line_error, run_gengo
from tests.importers.schemas import DUCKDB, POSTGRES, SQLITE

DATA = Path(__file__).resolve().parents[1] / "data"
needs_pg = pytest.mark.skipif(not PG_URL, reason="GENGO_TEST_PG_URL not set (see .ci/run)")


def init(source: str, output: Path, *extra: str) -> str:
    r = run_gengo("init", "--from", source, "-o", str(output), *extra)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Traceback" not in r.stderr
    return r.stdout


def generate(model: Path, out: Path, size: str = "1MB", fmt: str = "csv") -> Path:
    r = run_gengo("gen", "-m", str(model), "-s", size, "-f", fmt, "-o", str(out), "--seed", "3", "-q")
    assert r.returncode == 0, r.stderr + r.stdout
    v = run_gengo("verify", str(out))
    assert v.returncode == 0, v.stdout + v.stderr
    return out


def table_order(model: Path) -> list[str]:
    """The tables in the order gengo generates them (parents before children)."""
    return [t.name for t in load_model_file(str(model)).tables]


def rows(path: Path) -> tuple[list[str], list[list[str | None]]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [[v if v != "" else None for v in row] for row in reader]


# --- TPC-DS DDL --------------------------------------------------------------------------------


def _arrow_type(dt: exp.DataType) -> pa.DataType:
    t = dt.this
    if t == exp.DataType.Type.INT:
        return pa.int32()
    if t == exp.DataType.Type.DECIMAL:
        p, s = (int(e.this.name) for e in dt.expressions)
        return pa.decimal128(p, s)
    if t in (exp.DataType.Type.CHAR, exp.DataType.Type.VARCHAR):
        return pa.string()
    if t == exp.DataType.Type.DATE:
        return pa.date32()
    raise AssertionError(dt.sql())


def test_tpcds_ddl_generates_the_ddl_columns_and_types_and_its_keys_verify(tmp_path):
    model = tmp_path / "tpcds.yaml"
    summary = init(str(DATA / "tpcds_ddl.sql"), model)
    assert "read 24 tables" in summary
    out = generate(model, tmp_path / "out", size="0.01", fmt="parquet")
    tables = [s for s in sqlglot.parse((DATA / "tpcds_ddl.sql").read_text(), read="postgres") if s is not None]
    assert len(tables) == 24
    for create in tables:
        name = create.this.this.name
        want = [(c.name, _arrow_type(c.args["kind"])) for c in create.this.expressions if isinstance(c, exp.ColumnDef)]
        schema = pq.read_schema(out / f"{name}.parquet")
        assert [(f.name, f.type) for f in schema] == want, name
        pk = next(e for e in create.this.expressions if isinstance(e, exp.PrimaryKey))
        keys = [c.name for c in load_model_file(str(model)).table(name).columns if c.primary_key]
        assert keys == [i.name for i in pk.expressions]
        lengths = {
            c.name: int(c.args["kind"].expressions[0].this.name)
            for c in create.this.expressions
            if isinstance(c, exp.ColumnDef)
            and c.args["kind"].expressions
            and c.args["kind"].this in (exp.DataType.Type.CHAR, exp.DataType.Type.VARCHAR)
        }
        data = pq.read_table(out / f"{name}.parquet", columns=list(lengths))
        for col, n in lengths.items():
            longest = pa.compute.max(pa.compute.utf8_length(data[col])).as_py() or 0
            assert longest <= n, f"{name}.{col}: {longest} > {n}"


def test_model_file_comments_every_guess_and_reads_back_as_written(tmp_path):
    model = tmp_path / "m.yaml"
    init(str(DATA / "tpcds_ddl.sql"), model)
    text = model.read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("c_email_address:"))
    assert "strategy: email" in line and "# CHAR(50); guessed: an email address" in line
    assert "guessed:" in next(x for x in text.splitlines() if x.strip().startswith("ca_city:"))
    data = yaml.safe_load(text)
    assert data["tables"]["catalog_sales"]["rows"] == "scale"


# --- DDL details without a server ---------------------------------------------------------------


def test_mysql_ddl_enum_check_lengths_and_composite_keys(tmp_path):
    ddl = tmp_path / "shop.sql"
    ddl.write_text(
        """
        CREATE TABLE `customers` (`id` int unsigned NOT NULL AUTO_INCREMENT, `email` varchar(60) NOT NULL,
          `tier` enum('free','pro') NOT NULL, `city` varchar(8), `score` tinyint CHECK (`score` BETWEEN 1 AND 9),
          PRIMARY KEY (`id`), UNIQUE KEY `uk_email` (`email`)) ENGINE=InnoDB;
        CREATE TABLE `orders` (`order_id` bigint NOT NULL, `customer_id` int unsigned NOT NULL,
          `amount` decimal(6,2) NOT NULL CHECK (`amount` > 0 AND `amount` < 100), `note` text,
          PRIMARY KEY (`order_id`), CONSTRAINT `fk` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`));
        CREATE TABLE `order_items` (`order_id` bigint NOT NULL, `item_no` smallint NOT NULL, `sku` char(4) NOT NULL,
          PRIMARY KEY (`order_id`, `item_no`), FOREIGN KEY (`order_id`) REFERENCES `orders` (`order_id`));
        """
    )
    model = tmp_path / "m.yaml"
    init(str(ddl), model, "--dialect", "mysql")
    spec = yaml.safe_load(model.read_text())["tables"]
    assert spec["customers"]["columns"]["tier"]["values"] == ["free", "pro"]
    assert spec["order_items"]["rows"]["each"] == "orders"  # the fact table is children of orders
    assert spec["orders"]["rows"] == "scale"
    assert spec["order_items"]["columns"]["item_no"]["strategy"] == "position"
    assert spec["orders"]["columns"]["customer_id"]["strategy"] == "reference"
    out = generate(model, tmp_path / "out", fmt="parquet")
    con = duckdb.connect()
    got = con.execute(f"SELECT max(length(city)), min(score), max(score) FROM '{out}/customers.parquet'").fetchone()
    assert got[0] <= 8 and got[1] >= 1 and got[2] <= 9
    lo, hi = con.execute(f"SELECT min(amount), max(amount) FROM '{out}/orders.parquet'").fetchone()
    assert lo > 0 and hi < 100
    assert con.execute(f"SELECT max(length(sku)) FROM '{out}/order_items.parquet'").fetchone()[0] <= 4
    dup = con.execute(f"SELECT count(*) - count(DISTINCT email) FROM '{out}/customers.parquet'").fetchone()[0]
    assert dup == 0


def test_refuses_to_overwrite_without_force(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("keep me\n")
    r = run_gengo("init", "--from", str(DATA / "tpcds_ddl.sql"), "-o", str(model))
    assert_one_line_error(r, "already exists", "--force")
    assert model.read_text() == "keep me\n"
    init(str(DATA / "tpcds_ddl.sql"), model, "--force")
    assert model.read_text().startswith("# Imported by `gengo init`")


@pytest.mark.parametrize(
    ("ddl", "fragments"),
    [
        ("create table t (\n  a int,\n  b int\n  c int);\n", ["bad.sql:4:", "cannot parse"]),
        ("create table t (\n  a int,\n  b tsvector);\n", ["t.b", "tsvector", "no mapping"]),
        (
            "create table a (id int primary key, b_id int not null references b(id));\n"
            "create table b (id int primary key, a_id int not null references a(id));\n",
            ["a.b_id -> b.a_id -> a", "NOT NULL"],
        ),
    ],
    ids=["syntax-error-line", "unsupported-type", "required-cycle"],
)
def test_bad_ddl_is_one_line_and_exit_1(tmp_path, ddl, fragments):
    src = tmp_path / "bad.sql"
    src.write_text(ddl)
    r = run_gengo("init", "--from", str(src), "-o", str(tmp_path / "m.yaml"))
    assert r.returncode == 1
    assert_one_line_error(r, *fragments)
    assert not (tmp_path / "m.yaml").exists()


def test_unreachable_server_is_one_line_without_the_password(tmp_path):
    r = run_gengo("init", "--from", "postgresql://gengo:s3cr3t-pw-77@127.0.0.1:1/db", "-o", str(tmp_path / "m.yaml"))
    assert r.returncode == 1
    assert_one_line_error(r, "cannot connect", "127.0.0.1:1")
    assert "s3cr3t-pw-77" not in r.stdout + r.stderr


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_schema(con, ddl: str) -> str:
    name = f"gengo_init_{uuid.uuid4().hex[:8]}"
    con.execute(f"CREATE SCHEMA {name}")
    con.execute(f"SET search_path TO {name}")
    con.execute(ddl)
    con.execute("RESET search_path")
    return name


def _pg_load(con, schema: str, out: Path, order: list[str]) -> dict[str, int]:
    """COPY every table's CSV into ``schema`` in one transaction (the cycle's key is checked at commit)."""
    counts = {}
    with con.transaction():
        con.execute(f"SET LOCAL search_path TO {schema}")
        for t in order:
            path = out / f"{t}.csv"
            header = path.open().readline().strip()
            with con.cursor().copy(f"COPY {t} ({header}) FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                cp.write(path.read_bytes())
            counts[t] = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    return counts


@pytest.fixture
def pg():
    psycopg = pytest.importorskip("psycopg")
    con = psycopg.connect(PG_URL, autocommit=True)
    made: list[str] = []
    yield con, made
    for s in made:
        con.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")
    con.close()


@needs_pg
def test_postgres_round_trip_loads_into_a_fresh_copy_with_every_constraint(tmp_path, pg):
    con, made = pg
    src = _pg_schema(con, POSTGRES)
    made.append(src)
    before = con.execute(
        "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables WHERE schemaname = %s", (src,)
    ).fetchone()[0]
    model = tmp_path / "m.yaml"
    summary = init(PG_URL, model, "--schema", src)
    assert "read 7 tables" in summary and "8 foreign keys" in summary
    spec = yaml.safe_load(model.read_text())["tables"]
    assert spec["order_lines"]["rows"]["each"] == "orders"  # (order_id, line_no): parent + position
    assert spec["shipments"]["columns"]["line_no"] == {
        "strategy": "lookup",
        "via": "order_id",
        "column": "line_no",
        "type": "int16",
    }  # the composite foreign key: the pair of one order line
    assert spec["employees"]["columns"]["manager_id"]["table"] == "employees"
    assert spec["departments"]["columns"]["head_employee_id"]["null_rate"] > 0  # breaks the cycle
    assert spec["orders"]["columns"]["status"]["values"] == ["new", "paid", "shipped", "cancelled"]
    out = generate(model, tmp_path / "out")
    dst = _pg_schema(con, POSTGRES)
    made.append(dst)
    counts = _pg_load(con, dst, out, table_order(model))
    assert all(n > 0 for n in counts.values()), counts
    # the cycle's key is loaded and checked (deferred to the commit): some departments have a head
    assert con.execute(f"SELECT count(head_employee_id) FROM {dst}.departments").fetchone()[0] >= 0
    after = con.execute(
        "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables WHERE schemaname = %s", (src,)
    ).fetchone()[0]
    assert before == after  # nothing was written to the source


@needs_pg
def test_postgres_stats_give_ratios_null_rates_and_weights(tmp_path, pg):
    con, made = pg
    src = _pg_schema(con, POSTGRES)
    made.append(src)
    model = tmp_path / "m.yaml"
    init(PG_URL, model, "--schema", src)
    counts = _pg_load(con, src, generate(model, tmp_path / "out"), table_order(model))
    con.execute(f"SET search_path TO {src}")
    con.execute("ANALYZE")
    con.execute("RESET search_path")
    stats_model = tmp_path / "stats.yaml"
    init(PG_URL, stats_model, "--schema", src, "--stats")
    spec = yaml.safe_load(stats_model.read_text())["tables"]
    ratio = spec["orders"]["rows"]["ratio"]
    assert ratio == pytest.approx(counts["orders"] / counts["shipments"], rel=0.05)
    tier = spec["customers"]["columns"]["tier"]
    assert tier["strategy"] == "choice" and len(tier["weights"]) == 3 and sum(tier["weights"]) == pytest.approx(1, 0.05)
    assert spec["shipments"]["columns"]["shipped_at"]["null_rate"] == pytest.approx(0.05, abs=0.02)  # null_frac
    generate(stats_model, tmp_path / "out2")


@needs_pg
def test_wrong_password_is_one_line_and_never_printed(tmp_path):
    u = urlsplit(PG_URL)
    bad = urlunsplit(u._replace(netloc=f"{u.username}:wr0ng-pw-93@{u.hostname}:{u.port or 5432}"))
    r = run_gengo("init", "--from", bad, "-o", str(tmp_path / "m.yaml"))
    if r.returncode == 0:
        pytest.skip("the server trusts this connection without a password")
    assert_one_line_error(r, "cannot connect")
    assert "wr0ng-pw-93" not in r.stdout + r.stderr


@needs_pg
def test_the_password_is_in_no_output_model_or_manifest(tmp_path, pg):
    con, made = pg
    password = urlsplit(PG_URL).password
    if not password:
        pytest.skip("GENGO_TEST_PG_URL has no password")
    src = _pg_schema(con, "CREATE TABLE t (id int PRIMARY KEY, name varchar(20) NOT NULL);")
    made.append(src)
    model = tmp_path / "m.yaml"
    summary = init(PG_URL, model, "--schema", src)
    out = generate(model, tmp_path / "out")
    for text in (summary, model.read_text(), (out / "manifest.json").read_text()):
        # the test server's password may equal its user name: look for it where a URL holds it
        assert f":{password}@" not in text and PG_URL not in text
        assert "postgresql://gengo@" in text or "gengo_init_" in text or "model" in text


# --- SQLite and DuckDB files --------------------------------------------------------------------


def _sqlite_load(path: Path, out: Path, order: list[str]) -> dict[str, int]:
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript(SQLITE)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("BEGIN")
    con.execute("PRAGMA defer_foreign_keys = ON")  # the cycle: checked at COMMIT
    for t in order:
        header, data = rows(out / f"{t}.csv")
        marks = ", ".join("?" * len(header))
        con.executemany(f"INSERT INTO {t} ({', '.join(header)}) VALUES ({marks})", data)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.execute("COMMIT")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in order}
    con.close()
    return counts


def test_sqlite_round_trip_stats_and_sample(tmp_path):
    src = tmp_path / "src.sqlite"
    con = sqlite3.connect(src)
    con.executescript(SQLITE)
    con.close()
    model = tmp_path / "m.yaml"
    init(str(src), model)
    spec = yaml.safe_load(model.read_text())["tables"]
    assert spec["employees"]["columns"]["city"]["strategy"] == "choice"  # length(city) <= 12: cities that fit
    assert spec["shipments"]["columns"]["shipment_id"]["template"] == "{id:012}"  # length(...) <= 12: 12 digits
    out = generate(model, tmp_path / "out")
    counts = _sqlite_load(tmp_path / "copy.sqlite", out, table_order(model))
    assert all(n > 0 for n in counts.values()), counts
    # --stats counts the rows, --sample-rows reads some: load the copy as a source
    with_stats = tmp_path / "stats.yaml"
    init(str(tmp_path / "copy.sqlite"), with_stats, "--stats", "--sample-rows", "200")
    spec = yaml.safe_load(with_stats.read_text())["tables"]
    assert spec["orders"]["rows"]["ratio"] == pytest.approx(counts["orders"] / counts["shipments"], rel=0.01)
    status = spec["orders"]["columns"]["status"]
    assert status["strategy"] == "choice" and len(status.get("weights", [])) == 3
    assert spec["employees"]["columns"]["active"]["strategy"] == "boolean"
    generate(with_stats, tmp_path / "out2")
    assert src.stat().st_size > 0


def _duckdb_load(path: Path, out: Path, order: list[str], self_refs: dict[str, tuple[str, str]]) -> dict[str, int]:
    con = duckdb.connect(str(path))
    con.execute(DUCKDB)
    for t in order:
        source = f"read_csv('{out / (t + '.csv')}', header = true, all_varchar = true)"
        if t in self_refs:  # DuckDB checks a self-reference before the rows of the same INSERT exist
            key, ref = self_refs[t]
            con.execute(f"CREATE TEMP TABLE pending AS SELECT * FROM {source}")
            while con.execute("SELECT count(*) FROM pending").fetchone()[0]:
                ready = f"{ref} IS NULL OR {ref}::BIGINT IN (SELECT {key} FROM {t})"
                n = con.execute(f"INSERT INTO {t} SELECT * FROM pending WHERE {ready}").fetchone()[0]
                assert n > 0, f"{t}: rows pointing to rows that do not exist"
                con.execute(f"DELETE FROM pending WHERE {key}::BIGINT IN (SELECT {key} FROM {t})")
            con.execute("DROP TABLE pending")
        else:
            con.execute(f"INSERT INTO {t} SELECT * FROM {source}")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in order}
    con.close()
    return counts


def test_duckdb_round_trip(tmp_path):
    src = tmp_path / "src.duckdb"
    con = duckdb.connect(str(src))
    con.execute(DUCKDB)
    con.close()
    model = tmp_path / "m.yaml"
    init(str(src), model)
    spec = yaml.safe_load(model.read_text())["tables"]
    assert spec["employees"]["columns"]["mood"]["values"] == ["calm", "busy", "away"]
    out = generate(model, tmp_path / "out")
    counts = _duckdb_load(
        tmp_path / "copy.duckdb", out, table_order(model), {"employees": ("employee_id", "manager_id")}
    )
    assert all(n > 0 for n in counts.values()), counts
    check = duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True)
    assert check.execute("SELECT count(*) FROM employees WHERE json_valid(profile) = false").fetchone()[0] == 0
    assert check.execute("SELECT count(*) FROM employees WHERE len(tags) <> 1").fetchone()[0] == 0
    check.close()


def test_sources_are_opened_read_only(tmp_path):
    """A read-only file stays as it is: SQLite opens it mode=ro, DuckDB read_only=True."""
    src = tmp_path / "src.sqlite"
    con = sqlite3.connect(src)
    con.executescript(SQLITE)
    con.close()
    src.chmod(0o444)
    before = src.read_bytes()
    init(str(src), tmp_path / "m.yaml", "--stats")
    assert src.read_bytes() == before
    assert not re.search(r"-journal|-wal", " ".join(p.name for p in tmp_path.iterdir()))


def test_pg_dump_ddl_one_to_one_and_association_tables(tmp_path):
    """Keys added by ALTER TABLE ONLY (pg_dump's way); a 1:1 table has at most one row per parent."""
    ddl = tmp_path / "dump.sql"
    ddl.write_text(
        """
        SET statement_timeout = 0;
        CREATE TABLE public.users (id integer NOT NULL, email character varying(100));
        CREATE TABLE public.profiles (user_id integer NOT NULL, bio text);
        CREATE TABLE public.roles (id integer NOT NULL, name character varying(20) NOT NULL);
        CREATE TABLE public.user_roles (user_id integer NOT NULL, role_id integer NOT NULL);
        ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
        ALTER TABLE ONLY public.users ADD CONSTRAINT users_email_key UNIQUE (email);
        ALTER TABLE ONLY public.profiles ADD CONSTRAINT profiles_pkey PRIMARY KEY (user_id);
        ALTER TABLE ONLY public.roles ADD CONSTRAINT roles_pkey PRIMARY KEY (id);
        ALTER TABLE ONLY public.user_roles ADD CONSTRAINT user_roles_pkey PRIMARY KEY (user_id, role_id);
        ALTER TABLE ONLY public.profiles ADD CONSTRAINT p_u FOREIGN KEY (user_id) REFERENCES public.users(id);
        ALTER TABLE ONLY public.user_roles ADD CONSTRAINT ur_u FOREIGN KEY (user_id) REFERENCES public.users(id);
        ALTER TABLE ONLY public.user_roles ADD CONSTRAINT ur_r FOREIGN KEY (role_id) REFERENCES public.roles(id);
        CREATE INDEX ur_idx ON public.user_roles USING btree (role_id);
        """
    )
    model = tmp_path / "m.yaml"
    summary = init(str(ddl), model)
    assert "3 foreign keys" in summary and "skipped: CREATE INDEX, SET" in summary
    spec = yaml.safe_load(model.read_text())["tables"]
    assert spec["profiles"]["columns"]["user_id"]["unique"] is True
    assert spec["profiles"]["rows"]["ratio"] <= spec["users"]["rows"]["ratio"] < 1  # the extension follows users
    assert spec["users"]["columns"]["email"]["strategy"] == "email"
    out = generate(model, tmp_path / "out", fmt="parquet")  # verify: keys unique, references resolve
    con = duckdb.connect()
    profiles, users = (
        con.execute(f"SELECT count(*) FROM '{out}/{t}.parquet'").fetchone()[0] for t in ("profiles", "users")
    )
    assert 0 < profiles <= users
