"""ecommerce-ds: the TPC-DS schema, loaded with the official DDL, checked with SQL, queried with TPC-DS queries."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from gengo.models.ecommerce_ds import MODEL, row_counts, scale_factor
from gengo.models.ecommerce_ds.common import NULL_FRACTION
from tests.helpers import EXT, connect, gen

DATA = Path(__file__).resolve().parents[1] / "data"
DDL = (DATA / "tpcds_ddl.sql").read_text()
QUERIES = sorted((DATA / "tpcds_queries").glob("q*.sql"))
SIZE = "0.04"
SEED = 7

# Constant by the specification (every address is in the United States) or at this small size.
ALLOWED_CONSTANT = {
    "ca_country",
    "s_country",
    "cc_country",
    "w_country",
    "web_country",
    "cd_dep_college_count",  # the cross product is truncated below SF 1: only the fast digits vary
    "cd_dep_employed_count",
    # Rare or clustered at 6-30 rows: few stores / call centers / web sites close; most stores are in Tennessee.
    "cc_closed_date_sk",
    "s_closed_date_sk",
    "web_close_date_sk",
    "s_gmt_offset",
}


@pytest.fixture(scope="session")
def datasets(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("ecommerce_ds")
    return {fmt: gen(base / fmt, "ecommerce-ds", SIZE, fmt, SEED) for fmt in ("csv", "parquet")}


def _load_official(directory: Path, fmt: str) -> duckdb.DuckDBPyConnection:
    """Tables created with the TPC-DS DDL, filled by INSERT ... SELECT from the generated files."""
    con = duckdb.connect()
    con.execute(DDL)
    for t in MODEL.tables:
        path = directory / f"{t.name}.{EXT[fmt]}"
        src = f"read_csv('{path}', header=true, all_varchar=true)" if fmt == "csv" else f"read_parquet('{path}')"
        con.execute(f"INSERT INTO {t.name} SELECT * FROM {src}")
    return con


@pytest.fixture(scope="session")
def official(datasets) -> dict[str, duckdb.DuckDBPyConnection]:
    return {fmt: _load_official(d, fmt) for fmt, d in datasets.items()}


@pytest.fixture(scope="session")
def con(datasets) -> duckdb.DuckDBPyConnection:
    """Views typed from the model over the Parquet files."""
    return connect(datasets["parquet"], "parquet", "ecommerce-ds")


def _one(con, sql: str):
    return con.execute(sql).fetchone()[0]


# --- schema and loading ----------------------------------------------------------------------


def test_all_24_tables_with_official_columns():
    ddl = duckdb.connect()
    ddl.execute(DDL)
    official_tables = {r[0] for r in ddl.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert official_tables == set(MODEL.table_names)
    assert len(MODEL.tables) == 24
    for t in MODEL.tables:
        cols = ddl.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [t.name],
        ).fetchall()
        assert [c[0] for c in cols] == [c.name for c in t.columns], t.name


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_table_loads_into_the_official_ddl(official, datasets, fmt):
    con = official[fmt]
    views = connect(datasets[fmt], fmt, "ecommerce-ds")
    for t in MODEL.tables:
        loaded = _one(con, f"SELECT count(*) FROM {t.name}")
        assert loaded == _one(views, f'SELECT count(*) FROM "{t.name}"') > 0, t.name


def test_fixed_tables_are_identical_in_csv_and_parquet(official):
    # Other tables differ: each format's plan has its own row counts for the same --size.
    for name in ("date_dim", "time_dim", "household_demographics", "income_band"):
        a = _one(official["csv"], f"SELECT sum(hash(t) % 1000003) FROM {name} t")
        b = _one(official["parquet"], f"SELECT sum(hash(t) % 1000003) FROM {name} t")
        assert a == b, name


# --- integrity --------------------------------------------------------------------------------


def test_no_unexpected_constant_columns(con):
    constant = []
    for t in MODEL.tables:
        if _one(con, f'SELECT count(*) FROM "{t.name}"') < 2:
            continue
        for c in t.columns:
            if c.name not in ALLOWED_CONSTANT and _one(con, f'SELECT count(DISTINCT "{c.name}") FROM "{t.name}"') <= 1:
                constant.append(f"{t.name}.{c.name}")
    assert constant == []


def test_primary_keys_are_the_official_ones_and_hold_in_the_data(con):
    """Every table's declared key is the one in the official DDL, and no row breaks it."""
    ddl = (DATA / "tpcds_ddl.sql").read_text().lower()
    official = {
        m.group(1): tuple(c.strip() for c in m.group(2).split(","))
        for m in re.finditer(r"create table (\w+)\s*\((?:[^;]*?)primary key\s*\(([^)]*)\)", ddl, re.S)
    }
    assert len(official) >= 20
    for name, key in official.items():
        assert MODEL.table(name).primary_key == key, name
        cols = ", ".join(key)
        nulls, dups = con.execute(
            f"SELECT count(*) FILTER (WHERE {' OR '.join(f'{c} IS NULL' for c in key)}),"
            f" count(*) - count(DISTINCT ({cols})) FROM {name}"
        ).fetchone()
        assert (nulls, dups) == (0, 0), f"{name}: {nulls} null and {dups} duplicated keys"


@pytest.mark.parametrize("p", ["ss", "cs", "ws"])
def test_pricing_identities(con, p):
    table = {"ss": "store_sales", "cs": "catalog_sales", "ws": "web_sales"}[p]
    checks = [
        f"{p}_ext_sales_price = {p}_sales_price * {p}_quantity",
        f"{p}_ext_list_price = {p}_list_price * {p}_quantity",
        f"{p}_ext_wholesale_cost = {p}_wholesale_cost * {p}_quantity",
        f"{p}_ext_discount_amt = ({p}_list_price - {p}_sales_price) * {p}_quantity",
        f"{p}_net_paid = {p}_ext_sales_price - {p}_coupon_amt",
        f"{p}_net_paid_inc_tax = {p}_net_paid + {p}_ext_tax",
        f"{p}_net_profit = {p}_net_paid - {p}_ext_wholesale_cost",
        f"{p}_sales_price <= {p}_list_price",
        f"{p}_coupon_amt <= {p}_ext_sales_price",
        f"{p}_quantity BETWEEN 1 AND 100",
    ]
    if p != "ss":
        checks += [
            f"{p}_net_paid_inc_ship = {p}_net_paid + {p}_ext_ship_cost",
            f"{p}_net_paid_inc_ship_tax = {p}_net_paid_inc_ship + {p}_ext_tax",
            f"{p}_ship_date_sk > {p}_sold_date_sk",
        ]
    for check in checks:
        # A NULL operand makes the comparison NULL: only rows with every operand present count.
        bad = _one(con, f"SELECT count(*) FROM {table} WHERE NOT ({check})")
        assert bad == 0, check
        assert _one(con, f"SELECT count(*) FROM {table} WHERE ({check})") > 0, check


_RETURNS = [
    ("store_returns", "sr", "store_sales", "ss", "ticket_number", "ticket_number", "returned_date_sk"),
    ("catalog_returns", "cr", "catalog_sales", "cs", "order_number", "order_number", "returned_date_sk"),
    ("web_returns", "wr", "web_sales", "ws", "order_number", "order_number", "returned_date_sk"),
]


@pytest.mark.parametrize("ret,r,sales,s,rnum,snum,rdate", _RETURNS)
def test_every_return_matches_a_sale(con, ret, r, sales, s, rnum, snum, rdate):
    returns = _one(con, f"SELECT count(*) FROM {ret}")
    assert returns > 0
    matched = _one(
        con,
        f"SELECT count(*) FROM {ret} JOIN {sales} ON {r}_{rnum} = {s}_{snum} AND {r}_item_sk = {s}_item_sk",
    )
    assert matched == returns
    bad = _one(
        con,
        f"""SELECT count(*) FROM {ret} JOIN {sales} ON {r}_{rnum} = {s}_{snum} AND {r}_item_sk = {s}_item_sk
            WHERE {r}_return_quantity > {s}_quantity OR {r}_return_quantity < 1
               OR {r}_{rdate} <= {s}_sold_date_sk""",
    )
    assert bad == 0
    # Returns are about 10% of the sale lines, as in TPC-DS.
    ratio = returns / _one(con, f"SELECT count(*) FROM {sales}")
    assert 0.09 < ratio <= 0.1
    customer = "customer_sk" if s == "ss" else "bill_customer_sk"
    r_customer = "customer_sk" if r == "sr" else "refunded_customer_sk"
    mismatched = _one(
        con,
        f"""SELECT count(*) FROM {ret} JOIN {sales} ON {r}_{rnum} = {s}_{snum} AND {r}_item_sk = {s}_item_sk
            WHERE {r}_{r_customer} <> {s}_{customer}""",
    )
    assert mismatched == 0


def test_return_amounts_add_up(con):
    bad = _one(
        con,
        """SELECT count(*) FROM store_returns
           WHERE sr_return_amt_inc_tax <> sr_return_amt + sr_return_tax
              OR sr_refunded_cash + sr_reversed_charge + sr_store_credit <> sr_return_amt_inc_tax""",
    )
    assert bad == 0


@pytest.mark.parametrize(
    ("ret", "sales", "join", "amount", "paid"),
    [
        (
            "store_returns",
            "store_sales",
            "sr_ticket_number = ss_ticket_number AND sr_item_sk = ss_item_sk",
            "sr_return_amt",
            "ss_net_paid * sr_return_quantity / ss_quantity",
        ),
        (
            "catalog_returns",
            "catalog_sales",
            "cr_order_number = cs_order_number AND cr_item_sk = cs_item_sk",
            "cr_return_amount",
            "cs_net_paid * cr_return_quantity / cs_quantity",
        ),
        (
            "web_returns",
            "web_sales",
            "wr_order_number = ws_order_number AND wr_item_sk = ws_item_sk",
            "wr_return_amt",
            "ws_net_paid * wr_return_quantity / ws_quantity",
        ),
    ],
)
def test_a_refund_is_the_returned_share_of_what_was_paid(con, ret, sales, join, amount, paid):
    """Never more than the line's net paid (after its coupon): the returned quantity's share of it."""
    total, over, off = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE {amount} > {paid.split(" * ")[0]}),
                   count(*) FILTER (WHERE abs({amount} - {paid}) > 0.01)
            FROM {ret} JOIN {sales} ON {join}"""
    ).fetchone()
    assert total > 100 and over == 0 and off == 0, (total, over, off)


def test_a_customer_first_buys_as_an_adult_and_reviews_after(con):
    """The first sale comes after the 18th birthday, the last review after the first sale (dsdgen
    draws the three alone: customers who bought before they were born)."""
    total, minor, early = con.execute(
        """SELECT count(*),
                  count(*) FILTER (WHERE f.d_date < make_date(c_birth_year + 18, c_birth_month, c_birth_day)),
                  count(*) FILTER (WHERE r.d_date < f.d_date)
           FROM customer JOIN date_dim f ON f.d_date_sk = c_first_sales_date_sk
           JOIN date_dim r ON r.d_date_sk = c_last_review_date_sk"""
    ).fetchone()
    assert total > 1000 and minor == 0 and early == 0, (total, minor, early)


def _faker_names(locale: str) -> tuple[set[str], set[str], set[str], set[str]]:
    """Faker's (female first, male first, female last, male last) names of a locale, as published."""
    import importlib

    p = importlib.import_module(f"faker.providers.person.{locale}").Provider
    last = getattr(p, "last_names", ())
    return (
        set(p.first_names_female),
        set(p.first_names_male),
        set(getattr(p, "last_names_female", None) or last),
        set(getattr(p, "last_names_male", None) or last),
    )


def _without_accents(name: str) -> str:
    """``name`` without its combining accents (Peña -> Pena); letters such as ø stay."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def test_customers_born_abroad_have_names_of_their_country(con):
    """c_first_name / c_last_name in the language of c_birth_country where Faker has its names (José Peña born
    in Mexico, Jürgen Müller in Germany), of the sex the salutation gives; logins and emails stay ASCII and
    the names within TPC-DS's char(20) / char(30)."""
    from gengo.core import vocab

    locale_of = {country.upper(): locale for country, locale in vocab.NAME_COUNTRIES}
    english = _faker_names("en_US")
    rows = con.execute("""SELECT c_first_name, c_last_name, c_birth_country, c_salutation, c_login, c_email_address
                          FROM customer""").fetchall()
    abroad = [r for r in rows if r[2] in locale_of]
    assert 0.1 < len(abroad) / len(rows) < 0.3  # 45 of Faker's 245 countries, drawn uniformly
    for first, last, country, salutation, login, email in rows:
        names = _faker_names(locale_of[country]) if country in locale_of else english
        sex = {"Mrs.": (0,), "Ms.": (0,), "Miss": (0,), "Mr.": (1,), "Sir": (1,), "Dr.": (0, 1)}[salutation]
        assert any(first in names[s] and last in names[2 + s] for s in sex), (first, last, country, salutation)
        assert len(first) <= 20 and len(last) <= 30
        assert login.isascii() and email.isascii() and " " not in email, (login, email)
        plain = [_without_accents(n) for n in (first, last)]
        if country in locale_of and all(n.isascii() for n in plain):  # not for ø, ß, ł (spelled out)
            assert email.split("@")[0] == ".".join(n.replace(" ", "").replace("'", "") for n in plain), (first, email)
    accented = [f"{r[0]} {r[1]}" for r in abroad if not (r[0] + r[1]).isascii()]
    assert len(accented) > 0.2 * len(abroad), accented[:5]
    assert all((r[0] + r[1]).isascii() for r in rows if r[2] not in locale_of)


def test_null_fractions_in_documented_range(con):
    assert pytest.approx(1 / 32) == NULL_FRACTION
    for t in MODEL.tables:
        if t.name not in ("store_sales", "catalog_sales", "web_sales", "store_returns", "inventory"):
            continue
        n = _one(con, f"SELECT count(*) FROM {t.name}")
        for c in t.columns:
            nulls = _one(con, f"SELECT count(*) FROM {t.name} WHERE {c.name} IS NULL")
            if not c.nullable:
                assert nulls == 0, c.name
            else:
                assert 0.015 < nulls / n < 0.05, (c.name, nulls / n)


def test_tickets_have_several_lines_sharing_the_header(con):
    """Non-NULL header attributes agree across every line of a ticket (lines per ticket: a declared check)."""
    for col in ("ss_sold_date_sk", "ss_sold_time_sk", "ss_customer_sk", "ss_store_sk", "ss_addr_sk"):
        disagree = _one(
            con,
            "SELECT count(*) FROM (SELECT ss_ticket_number FROM store_sales"
            f" GROUP BY 1 HAVING count(DISTINCT {col}) > 1)",
        )
        assert disagree == 0, col
    # The sale's customer attributes are the customer's current ones.
    bad = _one(
        con,
        """SELECT count(*) FROM store_sales JOIN customer ON ss_customer_sk = c_customer_sk
           WHERE ss_cdemo_sk <> c_current_cdemo_sk OR ss_addr_sk <> c_current_addr_sk""",
    )
    assert bad == 0


# Lines per ticket drawn independently, each item once per ticket and tickets numbered without gaps
# are declared checks of the model (tests/models/test_contract.py).


# --- calendar, history, inventory ---------------------------------------------------------------


def test_date_and_time_dimensions(con):
    assert _one(con, "SELECT count(*) FROM date_dim") == 73_049
    first = con.execute(
        "SELECT d_date_sk, d_date, d_year, d_week_seq FROM date_dim ORDER BY d_date_sk LIMIT 1"
    ).fetchone()
    assert first[0] == 2_415_022 and str(first[1]) == "1900-01-02" and first[2] == 1900 and first[3] == 1
    assert str(_one(con, "SELECT max(d_date) FROM date_dim")) == "2100-01-01"
    assert _one(con, "SELECT count(*) FROM date_dim WHERE d_date_sk - 2415022 <> d_date - DATE '1900-01-02'") == 0
    assert _one(con, "SELECT d_month_seq FROM date_dim WHERE d_date = DATE '2000-01-15'") == 1200
    assert _one(con, "SELECT count(*) FROM date_dim WHERE d_dow <> dayofweek(d_date)") == 0
    assert _one(con, "SELECT count(DISTINCT d_week_seq) FROM date_dim WHERE d_year = 2001") in (53, 54)
    assert _one(con, "SELECT count(*) FROM (SELECT d_week_seq FROM date_dim GROUP BY 1 HAVING count(*) > 7)") == 0
    assert _one(con, "SELECT count(*) FROM time_dim") == 86_400
    assert con.execute("SELECT min(t_time_sk), max(t_time_sk) FROM time_dim").fetchone() == (0, 86_399)
    assert _one(con, "SELECT count(*) FROM time_dim WHERE t_time_sk <> t_hour * 3600 + t_minute * 60 + t_second") == 0
    window = con.execute(
        "SELECT min(d_date), max(d_date) FROM store_sales JOIN date_dim ON ss_sold_date_sk = d_date_sk"
    ).fetchone()
    assert str(window[0]) >= "1998-01-02" and str(window[1]) <= "2003-01-02"


@pytest.mark.parametrize(
    "table,sk,bid,start,end",
    [
        ("item", "i_item_sk", "i_item_id", "i_rec_start_date", "i_rec_end_date"),
        ("store", "s_store_sk", "s_store_id", "s_rec_start_date", "s_rec_end_date"),
        ("call_center", "cc_call_center_sk", "cc_call_center_id", "cc_rec_start_date", "cc_rec_end_date"),
        ("web_page", "wp_web_page_sk", "wp_web_page_id", "wp_rec_start_date", "wp_rec_end_date"),
        ("web_site", "web_site_sk", "web_site_id", "web_rec_start_date", "web_rec_end_date"),
    ],
)
def test_type_2_history(con, table, sk, bid, start, end):
    versions = con.execute(
        f"""SELECT min(n), max(n), sum(current) FILTER (WHERE current <> 1) FROM
            (SELECT {bid}, count(*) n, count(*) FILTER (WHERE {end} IS NULL) current FROM {table} GROUP BY 1)"""
    ).fetchone()
    assert versions[0] == 1 and versions[1] == 3 and versions[2] is None
    assert _one(con, f"SELECT count(*) FROM {table} WHERE {end} IS NOT NULL AND {end} < {start}") == 0
    gaps = _one(
        con,
        f"""SELECT count(*) FROM (SELECT {start}, lag({end}) OVER (PARTITION BY {bid} ORDER BY {sk}) prev FROM {table})
            WHERE prev IS NOT NULL AND {start} <> prev + 1""",
    )
    assert gaps == 0


def test_inventory_weekly_snapshots(con):
    n = _one(con, "SELECT count(*) FROM inventory")
    weeks = _one(con, "SELECT count(DISTINCT inv_date_sk) FROM inventory")
    items = _one(con, "SELECT count(DISTINCT inv_item_sk) FROM inventory")
    warehouses = _one(con, "SELECT count(*) FROM warehouse")
    assert weeks == 261 and n == weeks * items * warehouses
    assert items == _one(con, "SELECT count(DISTINCT i_item_id) FROM item")
    # Every inventoried item is the current version; snapshots are a week apart, all on the same weekday.
    assert (
        _one(
            con, "SELECT count(*) FROM inventory JOIN item ON inv_item_sk = i_item_sk WHERE i_rec_end_date IS NOT NULL"
        )
        == 0
    )
    assert _one(con, "SELECT count(DISTINCT d_dow) FROM inventory JOIN date_dim ON inv_date_sk = d_date_sk") == 1
    ordered = _one(
        con,
        """SELECT count(*) FROM (SELECT inv_date_sk, inv_item_sk, inv_warehouse_sk,
              (inv_date_sk - 2400000) * 10000000000 + inv_item_sk * 1000 + inv_warehouse_sk AS k,
              lag(k) OVER () prev FROM inventory)
           WHERE prev >= k""",
    )
    assert ordered == 0


# --- row counts ---------------------------------------------------------------------------------


def test_row_counts_follow_the_specification_at_sf1():
    rows = row_counts(2_880_404, 0)
    assert scale_factor(rows) == pytest.approx(1.0, abs=1e-4)
    expected = {
        "customer": 100_000,
        "customer_address": 50_000,
        "customer_demographics": 1_920_800,
        "household_demographics": 7_200,
        "item": 18_000,
        "date_dim": 73_049,
        "time_dim": 86_400,
        "inventory": 11_745_000,
        "store": 12,
        "warehouse": 5,
        "promotion": 300,
        "reason": 35,
        "ship_mode": 20,
        "income_band": 20,
        "call_center": 6,
        "catalog_page": 11_718,
        "web_page": 60,
        "web_site": 30,
    }
    for table, n in expected.items():
        assert rows[table] == n, table
    for table, n in {"store_sales": 2_880_404, "catalog_sales": 1_441_548, "web_sales": 719_384}.items():
        assert rows[table] == pytest.approx(n, rel=1e-4), table
    for table, n in {"store_returns": 287_514, "catalog_returns": 144_067, "web_returns": 71_763}.items():
        assert rows[table] == pytest.approx(n, rel=0.005), table


def test_row_counts_scale():
    small, big = row_counts(28_804, 0), row_counts(28_804_040, 0)
    assert small["date_dim"] == big["date_dim"] == 73_049
    assert big["customer"] == 500_000 and big["item"] == 102_000 and big["store"] == 102
    assert small["customer"] < 100_000 and small["customer_demographics"] >= 5_600
    for rows in (small, big):
        assert rows["inventory"] == 261 * rows["item"] // 2 * rows["warehouse"]
        assert all(rows[t] % 6 == 0 for t in ("item", "store", "call_center", "web_page", "web_site"))


# --- TPC-DS queries -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def query_results(official) -> dict[str, int | Exception]:
    """Rows each query returned, or the error it raised."""
    con = official["parquet"]
    out: dict[str, int | Exception] = {}
    for q in QUERIES:
        try:
            out[q.stem] = len(con.execute(q.read_text()).fetchall())
        except duckdb.Error as exc:
            out[q.stem] = exc
    return out


def test_at_least_15_queries_covering_all_channels():
    assert len(QUERIES) >= 15
    text = " ".join(q.read_text() for q in QUERIES)
    for table in ("store_sales", "catalog_sales", "web_sales", "store_returns", "catalog_returns", "web_returns"):
        assert table in text
    assert "inventory" in text


@pytest.mark.parametrize("query", [q.stem for q in QUERIES])
def test_tpcds_query_runs(query_results, query):
    result = query_results[query]
    assert not isinstance(result, Exception), f"{query}: {result}"


def test_most_queries_return_rows(query_results):
    empty = [q for q, n in query_results.items() if not isinstance(n, int) or n == 0]
    assert len(empty) <= len(query_results) // 5, empty


# --- determinism ------------------------------------------------------------------------------------
