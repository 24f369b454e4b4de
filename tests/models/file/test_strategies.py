"""Column strategies of model files, one small model each, generated in-process (no command, no files).

Tolerances are a few standard errors of the sample, so a correct strategy passes for any seed and
a wrong one (a bad parameter, a bound not kept) fails.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap

import numpy as np
import pyarrow as pa
import pytest

from gengo.core.errors import GengoError
from gengo.models.file import load_model_text

SEED = 20240601
N = 20_000


def model_of(text: str):
    return load_model_text(textwrap.dedent(text), "test.yaml")


def one_table(columns: str, n: int = N, seed: int = SEED) -> dict[str, np.ndarray]:
    """Columns of a single table ``t`` (``rows: scale``) at ``n`` rows, as NumPy/Python arrays."""
    text = "model: t\ntables:\n  t:\n    rows: scale\n    columns:\n" + textwrap.indent(
        textwrap.dedent(columns).strip("\n"), "      "
    )
    return columns_of(generate(load_model_text(text + "\n", "t.yaml"), n, seed)["t"])


def generate(model, scale: int, seed: int = SEED) -> dict[str, pa.Table]:
    rows = model.row_counts(scale, seed)
    return {t.name: t.generate(seed, rows, np.arange(rows[t.name], dtype=np.int64)) for t in model.tables}


def columns_of(table: pa.Table) -> dict[str, np.ndarray]:
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def close(actual: float, expected: float, se: float, k: float = 5.0) -> None:
    assert abs(actual - expected) <= k * se, f"{actual} is not within {k} x {se} of {expected}"


# --- numbers -----------------------------------------------------------------------------------


def test_normal_mean_sd_and_bounds():
    c = one_table(
        """
        v: {strategy: normal, mean: 50, sd: 8}
        w: {strategy: normal, mean: 50, sd: 8, min: 45, max: 60}
        """
    )
    close(c["v"].mean(), 50, 8 / np.sqrt(N))
    close(c["v"].std(), 8, 8 / np.sqrt(2 * N))
    assert c["w"].min() >= 45 and c["w"].max() <= 60
    assert (c["w"] == 45).mean() == pytest.approx(0.266, abs=0.02)  # P(N < -0.625 sd), clipped onto min


def test_lognormal_median_and_min():
    c = one_table("p: {strategy: lognormal, median: 30, sigma: 0.6, min: 5, type: 'decimal(12,2)'}")
    p = c["p"].astype(float)
    close(np.log(np.median(p)), np.log(30), 0.6 * 1.25 / np.sqrt(N))
    assert p.min() >= 5
    assert {x.as_tuple().exponent for x in c["p"]} == {-2}  # decimal(12,2): two decimals


def test_exponential_geometric_poisson_means():
    c = one_table(
        """
        e: {strategy: exponential, mean: 4}
        g: {strategy: geometric, p: 0.25}
        gm: {strategy: geometric, p: 0.25, min: 0, max: 5}
        k: {strategy: poisson, mean: 7}
        """
    )
    close(c["e"].mean(), 4, 4 / np.sqrt(N))
    assert c["e"].min() >= 0
    close(c["g"].mean(), 1 / 0.25, np.sqrt(0.75) / 0.25 / np.sqrt(N))  # trials until the first success
    assert c["g"].min() == 1
    assert c["gm"].min() == 0 and c["gm"].max() == 5
    close(c["k"].mean(), 7, np.sqrt(7 / N))
    close(c["k"].var(), 7, 7 * np.sqrt(2 / N) * 1.5)
    assert c["k"].dtype.kind == "i"


def test_uniform_integers_floats_dates_and_unique():
    c = one_table(
        """
        i: {strategy: uniform, min: 3, max: 7}
        f: {strategy: uniform, min: -1.5, max: 2.5}
        d: {strategy: uniform, min: 2024-01-01, max: 2024-01-31}
        u: {strategy: uniform, min: 1, max: 30000, unique: true}
        """
    )
    assert set(np.unique(c["i"])) == {3, 4, 5, 6, 7}  # both ends inclusive
    counts = np.bincount(c["i"] - 3)
    assert np.all(np.abs(counts - N / 5) <= 5 * np.sqrt(N * 0.2 * 0.8))
    assert c["f"].min() >= -1.5 and c["f"].max() <= 2.5
    close(c["f"].mean(), 0.5, 4 / np.sqrt(12 * N))
    days = np.unique(c["d"].astype("datetime64[D]"))
    assert days[0] == np.datetime64("2024-01-01") and days[-1] == np.datetime64("2024-01-31") and len(days) == 31
    assert len(np.unique(c["u"])) == N and c["u"].min() >= 1 and c["u"].max() <= 30000


def test_sequence_start_step():
    c = one_table("id: {primary_key: true}\ns: {strategy: sequence, start: 100, step: 5}", n=10)
    assert list(c["s"]) == list(range(100, 150, 5))
    assert list(c["id"]) == list(range(1, 11))


# --- categories --------------------------------------------------------------------------------


def test_choice_weights_within_sampling_error():
    c = one_table(
        """
        status: {strategy: choice, values: {Pending: 2, Shipped: 10, Delivered: 80, Cancelled: 8}}
        size: {strategy: choice, values: [S, M, L], weights: [1, 2, 1]}
        flat: {strategy: choice, values: [1, 2, 3, 4]}
        """
    )
    for col, want in (
        ("status", {"Pending": 0.02, "Shipped": 0.10, "Delivered": 0.80, "Cancelled": 0.08}),
        ("size", {"S": 0.25, "M": 0.5, "L": 0.25}),
        ("flat", {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25}),
    ):
        values, counts = np.unique(c[col], return_counts=True)
        assert set(values.tolist()) == set(want), col
        for v, k in zip(values.tolist(), counts, strict=True):
            close(k / N, want[v], np.sqrt(want[v] * (1 - want[v]) / N))
    assert c["flat"].dtype.kind == "i"  # integers stay integers


def test_conditional_follows_its_column():
    c = one_table(
        """
        country: {strategy: choice, values: [US, FR]}
        currency:
          strategy: conditional
          by: country
          cases: {US: [USD], FR: {EUR: 9, USD: 1}}
        """
    )
    us, fr = c["country"] == "US", c["country"] == "FR"
    assert set(c["currency"][us]) == {"USD"}
    close((c["currency"][fr] == "EUR").mean(), 0.9, np.sqrt(0.09 / fr.sum()))


def test_boolean_constant_and_null_rate():
    c = one_table(
        """
        b: {strategy: boolean, p: 0.3}
        k: {strategy: constant, value: fixed}
        n: {strategy: normal, mean: 0, sd: 1, null_rate: 0.2}
        """
    )
    close(c["b"].mean(), 0.3, np.sqrt(0.21 / N))
    assert set(c["k"]) == {"fixed"}
    nulls = np.isnan(c["n"].astype(float))
    close(nulls.mean(), 0.2, np.sqrt(0.16 / N))


# --- time --------------------------------------------------------------------------------------


def test_datetime_inside_start_end_with_hour_weights():
    hours = [0] * 24
    hours[9], hours[18] = 1, 3
    c = one_table(
        f"""
        at: {{strategy: datetime, start: 2023-03-01, end: 2023-04-01, hours: {hours}}}
        grow: {{strategy: datetime, start: 2020-01-01, end: 2022-01-01, growth: 2}}
        """
    )
    at = c["at"].astype("datetime64[us]")
    assert at.min() >= np.datetime64("2023-03-01") and at.max() < np.datetime64("2023-04-01")
    hour = (at.astype("datetime64[h]") - at.astype("datetime64[D]")).astype(int)
    assert set(np.unique(hour)) == {9, 18}
    close((hour == 18).mean(), 0.75, np.sqrt(0.75 * 0.25 / N))
    grow = c["grow"].astype("datetime64[us]")
    later = (grow >= np.datetime64("2021-01-01")).mean()
    close(later, 0.75, np.sqrt(0.75 * 0.25 / N))  # density ~ t: the second half holds 3/4


def test_datetime_increasing_with_the_key():
    c = one_table("at: {strategy: datetime, start: 2024-01-01, end: 2024-02-01, increasing: true}", n=5000)
    at = c["at"].astype("datetime64[us]").astype(np.int64)
    assert np.all(np.diff(at) >= 0)
    assert at[0] < at[-1]


def test_weekday_weights():
    c = one_table("d: {strategy: datetime, start: 2024-01-01, end: 2025-01-01, weekdays: [0, 0, 0, 0, 0, 1, 1]}")
    weekday = (c["d"].astype("datetime64[D]").astype(np.int64) + 3) % 7
    assert set(np.unique(weekday)) == {5, 6}


def test_expression_date_plus_days():
    c = one_table(
        """
        at: {strategy: datetime, start: 2024-01-01, end: 2024-06-01}
        ship: {strategy: expr, expr: "date(at) + days(randint(1, 10))"}
        gap: {strategy: expr, expr: "days_between(at, ship)"}
        """
    )
    gap = (c["ship"].astype("datetime64[D]") - c["at"].astype("datetime64[D]")).astype(int)
    assert gap.min() == 1 and gap.max() == 10
    assert np.array_equal(c["gap"], gap)
    assert isinstance(c["ship"][0], (dt.date, np.datetime64))


def test_expression_constant_text_is_one_value_per_row():
    """Text literals alone, or with numbers: the same text on every row (not one row, not code points)."""
    c = one_table(
        """
        id: {primary_key: true}
        a: {strategy: expr, expr: "'x' + 'y'"}
        b: {strategy: expr, expr: "'n' + 1"}
        c: {strategy: expr, expr: "upper(lower('AbC') + 'x')"}
        d: {strategy: expr, expr: "length('abcd') + id"}
        e: {strategy: expr, expr: "'n' + id + '-' + 2.5"}
        """,
        n=5,
    )
    assert list(c["a"]) == ["xy"] * 5 and list(c["b"]) == ["n1"] * 5 and list(c["c"]) == ["ABCX"] * 5
    assert list(c["d"]) == [5, 6, 7, 8, 9]
    assert list(c["e"]) == ["n1-2.5", "n2-2.5", "n3-2.5", "n4-2.5", "n5-2.5"]


def test_a_timestamp_plus_a_bare_number_is_refused():
    """It would add microseconds: the unit must be said (days(n), ...)."""
    with pytest.raises(GengoError, match=r"t.yaml:\d+:\d+: .*a date or timestamp \+ a number: say the unit"):
        one_table(
            """
            at: {strategy: datetime, start: 2024-01-01, end: 2024-06-01}
            n: {strategy: uniform, min: 1, max: 9}
            due: {strategy: expr, expr: "at + n"}
            """
        )


# --- text --------------------------------------------------------------------------------------


def test_templates_padding_and_filters():
    c = one_table(
        """
        word: {strategy: choice, values: [Alpha, Beta]}
        code: {strategy: template, template: "INV-{id:08}", unique: true}
        slug: {strategy: template, template: "{word|lower}-{id}"}
        money: {strategy: template, template: "{half:.2f} EUR"}
        half: {strategy: expr, expr: "id / 2", hidden: true}
        """,
        n=1000,
    )
    assert c["code"][0] == "INV-00000001" and c["code"][999] == "INV-00001000"
    assert len(set(c["code"])) == 1000
    assert all(re.fullmatch(r"(alpha|beta)-\d+", s) for s in c["slug"])
    assert c["slug"][4].endswith("-5")
    assert c["money"][2] == "1.50 EUR"
    assert "half" not in c  # hidden: computed, not written


def test_uuid_format_and_uniqueness():
    c = one_table("u: uuid")
    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert all(pattern.fullmatch(u) for u in c["u"])
    assert len(set(c["u"])) == N


def test_email_unique_and_from_the_names():
    c = one_table(
        """
        first_name: first_name
        last_name: last_name
        email: {strategy: email, unique: true}
        """,
        n=5000,
    )
    assert len(set(c["email"])) == 5000
    first, last, email = c["first_name"][0], c["last_name"][0], c["email"][0]
    assert email.startswith(first.lower().replace(" ", "")[:3]) and "@" in email
    assert last.lower()[:2] in email


@pytest.mark.parametrize(
    ("locale", "script"),
    [("ja_JP", r"[\u3040-\u30ff\u4e00-\u9fff]"), ("ru_RU", r"[\u0400-\u04ff]"), ("el_GR", r"[\u0370-\u03ff]")],
)
def test_locales_give_their_scripts(locale, script):
    c = one_table(
        f"""
        name: {{strategy: full_name, locale: {locale}}}
        city_word: {{strategy: word, locale: {locale}}}
        """,
        n=300,
    )
    assert all(re.search(script, name) for name in c["name"])
    assert not any(re.search(r"[A-Za-z]", name) for name in c["name"])
    assert len(set(c["name"])) > 100


# --- keys and references -----------------------------------------------------------------------

SHOP = """\
model: shop
tables:
  orders:
    rows: scale
    columns:
      order_id: {primary_key: true}
      customer_id: {strategy: reference, table: customers, distribution: power_law, exponent: 1.1}
      flat_customer_id: {strategy: reference, table: customers}
      ship_to: {strategy: belongs_to, table: addresses, via: customer_id, pick: not_first}
      bill_to: {strategy: belongs_to, table: addresses, via: customer_id, pick: first}
      any_address: {strategy: belongs_to, table: addresses, via: customer_id}
      segment: {strategy: lookup, via: customer_id, column: segment}
  customers:
    rows: {per: orders, ratio: 0.05}
    columns:
      customer_id: {primary_key: true}
      segment: {strategy: choice, values: [retail, business]}
      code: {strategy: template, template: "C{customer_id:06}", unique: true}
  addresses:
    rows: {each: customers, min: 1, max: 4}
    columns:
      address_id: {primary_key: true}
      customer_id: parent
      n: position
      city: {strategy: address, part: city, country_by: customer_id}
  items:
    rows: {each: orders, min: 0, max: 5}
    columns:
      order_id: {strategy: parent, primary_key: true}
      line_no: {strategy: position, primary_key: true}
      product_id: {strategy: reference, table: products}
      quantity: {strategy: geometric, p: 0.5, max: 9}
      unit_price: {strategy: lookup, via: product_id, column: price, type: "decimal(10,2)"}
      total: {strategy: expr, expr: "quantity * unit_price", type: "decimal(12,2)"}
      band: {strategy: expr, expr: "case(total > 100, 'high', total > 20, 'mid', 'low')"}
      big: {strategy: expr, expr: "where(quantity >= 3, 1, 0)"}
  products:
    rows: 200
    columns:
      product_id: {primary_key: true}
      price: {strategy: lognormal, median: 20, sigma: 0.8, min: 1, type: "decimal(10,2)"}
"""


@pytest.fixture(scope="module")
def shop() -> dict[str, dict[str, np.ndarray]]:
    return {name: columns_of(t) for name, t in generate(model_of(SHOP), 20_000).items()}


def test_references_resolve(shop):
    customers, orders, items = shop["customers"], shop["orders"], shop["items"]
    assert np.isin(orders["customer_id"], customers["customer_id"]).all()
    assert np.isin(orders["flat_customer_id"], customers["customer_id"]).all()
    assert np.isin(items["order_id"], orders["order_id"]).all()
    assert np.isin(items["product_id"], shop["products"]["product_id"]).all()
    keys = set(zip(items["order_id"].tolist(), items["line_no"].tolist(), strict=True))
    assert len(keys) == len(items["order_id"])  # parent + position: a composite key that is unique
    assert len(customers["customer_id"]) == 1000


def test_power_law_is_skewed_uniform_is_not(shop):
    def top_share(keys: np.ndarray) -> float:
        counts = np.sort(np.bincount(keys))[::-1]
        return counts[: len(counts) // 100].sum() / counts.sum()  # share of the most popular 1%

    assert top_share(shop["orders"]["customer_id"]) > 0.25
    assert top_share(shop["orders"]["flat_customer_id"]) < 0.03


def test_fan_out_counts(shop):
    per_customer = np.bincount(shop["addresses"]["customer_id"], minlength=1001)[1:]
    assert per_customer.min() == 1 and per_customer.max() == 4
    assert set(np.unique(shop["addresses"]["n"])) == {1, 2, 3, 4}
    per_order = np.bincount(shop["items"]["order_id"], minlength=len(shop["orders"]["order_id"]) + 1)[1:]
    assert per_order.min() == 0 and per_order.max() == 5


def test_belongs_to_picks_the_via_parents_rows(shop):
    a, o = shop["addresses"], shop["orders"]
    owner = dict(zip(a["address_id"].tolist(), a["customer_id"].tolist(), strict=True))
    position = dict(zip(a["address_id"].tolist(), a["n"].tolist(), strict=True))
    count = np.bincount(a["customer_id"])
    for col in ("ship_to", "bill_to", "any_address"):
        assert all(owner[x] == c for x, c in zip(o[col].tolist(), o["customer_id"].tolist(), strict=True)), col
    assert all(position[x] == 1 for x in o["bill_to"].tolist())
    many = count[o["customer_id"]] > 1
    assert all(position[x] > 1 for x in o["ship_to"][many].tolist())  # not_first when there is a second
    assert all(position[x] == 1 for x in o["ship_to"][~many].tolist())


def test_lookup_equals_the_parents_value(shop):
    c, o, i, p = shop["customers"], shop["orders"], shop["items"], shop["products"]
    assert np.array_equal(o["segment"], c["segment"][o["customer_id"] - 1])
    assert np.array_equal(i["unit_price"], p["price"][i["product_id"] - 1])


def test_expressions_arithmetic_and_case(shop):
    i = shop["items"]
    qty, price, total = i["quantity"], i["unit_price"].astype(float), i["total"].astype(float)
    assert np.allclose(total, np.round(qty * price, 2))
    want = np.where(total > 100, "high", np.where(total > 20, "mid", "low"))
    assert np.array_equal(i["band"], want)
    assert set(np.unique(i["band"])) == {"high", "mid", "low"}
    assert np.array_equal(i["big"], (qty >= 3).astype(int))


def test_country_by_keeps_a_customers_addresses_in_one_country(shop):
    text = SHOP.replace(
        "city: {strategy: address, part: city, country_by: customer_id}",
        "country: {strategy: address, part: country, country_by: customer_id}",
    )
    a = columns_of(generate(model_of(text), 20_000)["addresses"])
    countries: dict[int, set[str]] = {}
    for cust, country in zip(a["customer_id"].tolist(), a["country"].tolist(), strict=True):
        countries.setdefault(cust, set()).add(country)
    assert all(len(v) == 1 for v in countries.values())
    assert len(set().union(*countries.values())) > 1


# --- purity ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cuts", [(1,), (7, 1000, 1001), (333, 5000)])
def test_rows_do_not_depend_on_the_chunking(cuts):
    model = model_of(SHOP)
    rows = model.row_counts(3000, SEED)
    for t in model.tables:
        n = rows[t.name]
        whole = t.generate(SEED, rows, np.arange(n, dtype=np.int64))
        bounds = [0, *[c for c in cuts if c < n], n]
        parts = [
            t.generate(SEED, rows, np.arange(a, b, dtype=np.int64)) for a, b in zip(bounds, bounds[1:], strict=False)
        ]
        assert pa.concat_tables(parts).equals(whole), t.name
        odd = np.arange(1, n, 2, dtype=np.int64)  # any subset of rows, not only ranges
        assert t.generate(SEED, rows, odd).equals(whole.take(pa.array(odd))), t.name


def test_the_seed_changes_the_data():
    a = one_table("v: {strategy: normal, mean: 0, sd: 1}", n=100, seed=1)
    b = one_table("v: {strategy: normal, mean: 0, sd: 1}", n=100, seed=2)
    assert not np.array_equal(a["v"], b["v"])
    assert np.array_equal(a["v"], one_table("v: {strategy: normal, mean: 0, sd: 1}", n=100, seed=1)["v"])


def test_template_literal_braces():
    c = one_table('j: {strategy: template, template: "{{\\"n\\": {id}}} {{word}}"}', n=3)
    assert list(c["j"]) == ['{"n": 1} {word}', '{"n": 2} {word}', '{"n": 3} {word}']


def test_lookup_through_a_null_reference_is_null():
    model = model_of(
        """\
        model: nulls
        tables:
          a:
            rows: scale
            columns:
              id: {primary_key: true}
              b_id: {strategy: reference, table: b, null_rate: 0.5}
              v: {strategy: lookup, via: b_id, column: v}
          b:
            rows: 5
            columns:
              id: {primary_key: true}
              v: word
        """
    )
    a = generate(model, 400)["a"]
    assert a.column("b_id").null_count > 100
    assert a.schema.field("v").nullable
    assert a.column("v").is_null().equals(a.column("b_id").is_null())


# --- the options the built-in ecommerce needed (examples/models/ecommerce.yaml) -----------------

HOMES = """
model: homes
tables:
  customers:
    rows: scale
    columns:
      customer_id: {primary_key: true}
      home: {strategy: address, part: country_code, countries: {US: 1, QC: 1}}
      zone: {strategy: address, part: time_zone, countries: {US: 1, QC: 1}}
      first_name: {strategy: first_name, locales: {by: home, cases: {QC: fr_CA}}}
      full: {strategy: full_name, locales: {by: home, cases: {QC: ja_JP}}}
      company: {strategy: company, distinct: true}
  addresses:
    rows: {each: customers, min: 1, max: 3}
    columns:
      address_id: {primary_key: true}
      customer_id: parent
      code: {strategy: address, part: country_code, countries: {US: 1, QC: 1}, country_by: customer_id}
  orders:
    rows: {per: customers, ratio: 4}
    columns:
      order_id: {primary_key: true}
      customer_id: {strategy: reference, table: customers}
      customer_zone: {strategy: lookup, via: customer_id, column: zone}
      at:
        strategy: datetime
        start: 2024-01-01
        end: 2025-01-01
        hours: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
        local_time_in: customer_zone
  lines:
    rows: {each: orders, min: 1, max: 8}
    columns:
      line_id: {primary_key: true}
      order_id: parent
      item_id: {strategy: reference, table: items, distribution: power_law, exponent: 1.5, distinct_within_parent: true}
  items:
    rows: 12
    columns:
      item_id: {primary_key: true}
"""


@pytest.fixture(scope="module")
def homes() -> dict[str, dict[str, np.ndarray]]:
    return {name: columns_of(t) for name, t in generate(model_of(HOMES), 3000).items()}


def test_country_by_is_the_owners_own_country(homes):
    home = dict(zip(homes["customers"]["customer_id"], homes["customers"]["home"], strict=True))
    a = homes["addresses"]
    assert [home[c] for c in a["customer_id"]] == list(a["code"])
    assert set(homes["customers"]["home"]) == {"US", "QC"}


def test_locales_by_a_column(homes):
    c = homes["customers"]
    from gengo.core import vocab

    french = set(vocab.locale_names("fr_CA", "first").values.to_pylist())
    quebec = c["home"] == "QC"
    assert all(n in french for n in c["first_name"][quebec])
    assert np.mean([n in french for n in c["first_name"][~quebec]]) < 0.5
    # Japanese names are written family name first, without a space; the others with one.
    assert all(" " not in n for n in c["full"][quebec]) and all(" " in n for n in c["full"][~quebec])


def test_distinct_vocabulary_repeats_only_after_running_out(homes):
    from gengo.core import vocab

    names = list(homes["customers"]["company"])
    pool = len(vocab.company_names())
    assert len(set(names[:pool])) == min(pool, len(names))


def test_local_time_in_gives_the_utc_instant_of_the_local_hour(homes):
    import zoneinfo

    o = homes["orders"]
    for at, zone in zip(o["at"][:500], o["customer_zone"][:500], strict=True):
        utc = dt.datetime.fromisoformat(str(at)[:19]).replace(tzinfo=dt.UTC)
        assert utc.astimezone(zoneinfo.ZoneInfo(zone)).hour == 20, (at, zone)
    assert len(set(o["customer_zone"])) > 3


def test_distinct_within_parent(homes):
    lines = homes["lines"]
    pairs = list(zip(lines["order_id"], lines["item_id"], strict=True))
    assert len(set(pairs)) == len(pairs)  # orders of at most 8 lines, 12 items: never a repeat
    # Still drawn by popularity: the most popular item is in far more orders than the least.
    counts = np.bincount(lines["item_id"])[1:]
    assert counts.max() > 3 * counts.min()


def test_new_options_do_not_depend_on_the_chunking():
    model = model_of(HOMES)
    rows = model.row_counts(500, SEED)
    for t in model.tables:
        n = rows[t.name]
        whole = t.generate(SEED, rows, np.arange(n, dtype=np.int64))
        parts = [t.generate(SEED, rows, np.arange(a, min(a + 97, n), dtype=np.int64)) for a in range(0, n, 97)]
        assert pa.concat_tables(parts).equals(whole), t.name
        odd = np.arange(1, n, 3, dtype=np.int64)
        assert t.generate(SEED, rows, odd).equals(whole.take(pa.array(odd))), t.name
