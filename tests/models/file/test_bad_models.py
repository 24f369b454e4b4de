"""Bad model files through ``gengo plan`` (the command line's ``main`` in process; the file cases at
the end through the real command): exit 1, one stderr line, ``file:line:`` at the right line.

Each case's text marks the line the message must point at with a trailing ``# <-`` comment (or
names it with ``line=``); cases whose problem has no line (an empty file, a missing file) say
``line=None`` and must still name the file. Cases that fail on a bug of the model language are
``xfail(strict=True)`` with the reason, so they turn into failures once it is fixed.
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import GENGO, run_cli, run_gengo

PREFIX = "gengo: error: "
MARK = "# <-"
AUTO = -1


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    fragments: tuple[str, ...]
    line: int | None = AUTO  # AUTO: the line holding MARK
    name: str = "model.yaml"
    bug: str | None = None  # an xfail reason: the model language gets this case wrong

    def expected_line(self) -> int | None:
        if self.line != AUTO:
            return self.line
        marked = [i for i, text in enumerate(self.text.splitlines(), 1) if MARK in text]
        assert len(marked) == 1, f"{self.id}: mark exactly one line"
        return marked[0]


def one(columns: str, *, rows: str = "scale", extra: str = "") -> str:
    """A model of one table ``t`` with a key ``id`` and ``columns`` (indented YAML), then ``extra`` tables."""
    head = f"model: bad\ntables:\n  t:\n    rows: {rows}\n    columns:\n      id: {{primary_key: true}}\n"
    return head + textwrap.indent(textwrap.dedent(columns).strip("\n"), "      ") + "\n" + extra


PARENTS = """\
  customers:
    rows: 100
    columns:
      customer_id: {primary_key: true}
      name: full_name
  products:
    rows: 20
    columns:
      product_id: {primary_key: true}
      price: {strategy: lognormal, median: 20, sigma: 0.5}
  addresses:
    rows: {each: customers, min: 1, max: 3}
    columns:
      address_id: {primary_key: true}
      customer_id: parent
"""

CYCLE = """\
model: cycle
tables:
  a:  # <-
    rows: scale
    columns:
      id: {primary_key: true}
      b_id: {strategy: reference, table: b}
  b:
    rows: 10
    columns:
      id: {primary_key: true}
      a_id: {strategy: reference, table: a}
"""

BOMB = (
    "model: bomb\n"
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(f"{x}: &{x} [{', '.join([f'*{p}'] * 10)}]\n" for p, x in zip("abcdefg", "bcdefgh", strict=True))
    + "tables: {}\n"
)

CASES = [
    Case(
        "unknown-strategy",
        one("price: {strategy: lognormel, median: 10, sigma: 1}  # <-"),
        ("unknown strategy 'lognormel'", "did you mean 'lognormal'"),
    ),
    Case(
        "strategy-key-misspelt",
        one("who: {stratgy: uuid}  # <-"),
        ("column 'who' has no 'strategy'", "did you mean 'strategy' for 'stratgy'"),
    ),
    Case(
        "option-value-misspelt",
        one("ref: {strategy: reference, table: t, distribution: powerlaw, null_rate: 0.5}  # <-"),
        ("'powerlaw' is not one of uniform, power_law", "did you mean 'power_law'"),
    ),
    Case(
        "unknown-strategy-short-form",
        one("who: frist_name  # <-"),
        ("unknown strategy 'frist_name'", "did you mean 'first_name'"),
    ),
    Case(
        "unknown-option",
        one(
            """
            qty:
              strategy: poisson
              mean: 3
              maximum: 10  # <-
            """
        ),
        ("unknown option 'maximum'", "strategy 'poisson'"),
    ),
    Case(
        "missing-table",
        one("c_id: {strategy: reference, table: custmers}  # <-", extra=PARENTS),
        ("no table 'custmers'", "did you mean 'customers'"),
    ),
    Case(
        "missing-column",
        one(
            """
            p_id: {strategy: reference, table: products}
            price:
              strategy: lookup
              via: p_id
              column: prize  # <-
            """,
            extra=PARENTS,
        ),
        ("table 'products' has no column 'prize'", "did you mean 'price'"),
    ),
    Case(
        "distinct-within-parent-not-children",
        one("c_id: {strategy: reference, table: customers, distinct_within_parent: true}  # <-", extra=PARENTS),
        ("distinct_within_parent needs a table of children",),
    ),
    Case(
        "locales-by-missing-column",
        one("n: {strategy: first_name, locales: {by: hme, cases: {QC: fr_CA}}}  # <-"),
        ("no column 'hme'",),
    ),
    Case(
        "locales-unknown-locale",
        one(
            """
            home: {strategy: address, part: country_code}
            n: {strategy: first_name, locales: {by: home, cases: {QC: fr_XX}}}  # <-
            """
        ),
        ("fr_XX",),
    ),
    Case(
        "local-time-in-missing-column",
        one("at: {strategy: datetime, start: 2024-01-01, end: 2025-01-01, local_time_in: zon}  # <-"),
        ("no column 'zon'",),
    ),
    Case("reference-cycle", CYCLE, ("required references go round in a circle", "a -> b -> a", "nullable")),
    Case(
        "column-cycle",
        one(
            """
            a: {strategy: expr, expr: "b + 1"}  # <-
            b: {strategy: expr, expr: "a * 2"}
            """
        ),
        ("columns depend on each other in a circle", "t.a -> t.b -> t.a"),
    ),
    Case(
        "type-does-not-fit",
        one(
            """
            first:
              strategy: first_name
              type: int64  # <-
            """
        ),
        ("strategy 'first_name' gives text values", "type int64"),
    ),
    Case(
        "key-cannot-be-unique",
        one("code: {strategy: choice, values: [A, B, C], primary_key: true}  # <-").replace(
            "id: {primary_key: true}\n", ""
        ),
        ("'code' cannot be unique with strategy 'choice'",),
    ),
    Case(
        "negative-null-rate",
        one(
            """
            note:
              strategy: sentence
              null_rate: -0.1  # <-
            """
        ),
        ("null_rate", "greater than or equal to 0"),
    ),
    Case(
        "rate-above-one",
        one(
            """
            flag:
              strategy: boolean
              p: 1.5  # <-
            """
        ),
        ("p", "less than or equal to 1"),
    ),
    Case(
        "null-rate-above-one-flow",
        one("note: {strategy: sentence, null_rate: 1.5}  # <-"),
        ("null_rate", "less than or equal to 1"),
    ),
    Case(
        "yaml-tag",
        one("x: !!python/object/apply:os.system [echo hi]  # <-"),
        ("YAML tags", "!!python/object/apply:os.system", "not allowed"),
    ),
    Case(
        "yaml-local-tag",
        one("x: !uuid {}  # <-"),
        ("YAML tags", "not allowed"),
    ),
    Case(
        "invalid-yaml",
        "model: broken\ntables:\n  t:\n    rows: scale\n    columns: {id: {primary_key: true}, x: uuid\n",
        ("not valid YAML", "expected ',' or '}'"),
        line=6,  # the parser notices the missing '}' at the end of the text
    ),
    Case(  # a tab starting a line: the parser's words say nothing of tabs, the hint does
        "tab-at-line-start",
        "model: bad\ntables:\n  t:\n    rows: scale\n    columns:\n      id: {primary_key: true}\n\tx: uuid  # <-\n",
        ("not valid YAML", "a tab: YAML indents with spaces only"),
    ),
    Case(
        "indentation-off",
        "model: bad\ntables:\n  t:\n    rows: scale\n    columns:\n      id: {primary_key: true}\n     x: uuid  # <-\n",
        ("not valid YAML", "check this line's indentation"),
    ),
    Case(
        "tab-indentation",
        one("x: uuid\n\ty: uuid  # <-"),
        ("not valid YAML", "tab character"),
    ),
    Case(
        "duplicate-column",
        one("x: uuid\nx: word  # <-"),
        ("'x' is given twice",),
    ),
    Case(
        "duplicate-table",
        one("x: uuid", extra="  t:  # <-\n    rows: 3\n    columns: {id: {primary_key: true}}\n"),
        ("'t' is given twice",),
    ),
    Case(
        "two-scale-tables",
        one("x: uuid", extra="  u:\n    rows: scale  # <-\n    columns: {id: {primary_key: true}}\n"),
        ("exactly one table needs 'rows: scale'", "not 2: t, u"),
    ),
    Case(
        "no-scale-table",
        one("x: uuid", rows="100").replace("tables:", "tables:  # <-"),
        ("exactly one table needs 'rows: scale'",),
    ),
    Case(
        "belongs-to-wrong-via",
        one(
            """
            c_id: {strategy: reference, table: customers}
            p_id: {strategy: reference, table: products}
            ship_to:
              strategy: belongs_to
              table: addresses
              via: p_id  # <-
            """,
            extra=PARENTS,
        ),
        ("'p_id' points to 'products'", "the rows of 'addresses' belong to 'customers'"),
    ),
    Case(
        "unknown-expression-function",
        one('y: {strategy: expr, expr: "cbrt(id) + 1"}  # <-'),
        ("unknown function 'cbrt'", "functions are"),
    ),
    Case(
        "expression-unknown-column",
        one('y: {strategy: expr, expr: "idd * 2"}  # <-'),
        ("no column 'idd'", "did you mean 'id'"),
    ),
    Case(
        "expression-attribute",
        one('y: {strategy: expr, expr: "id.__class__"}  # <-'),
        ("attribute is not allowed",),
    ),
    Case(
        "expression-syntax",
        one('y: {strategy: expr, expr: "id +"}  # <-'),
        ("is not valid",),
    ),
    Case(
        "bad-template-filter",
        one("code: {strategy: template, template: 'C-{id|lowr}'}  # <-"),
        ("unknown filter '|lowr'", "lower"),
    ),
    Case(
        "bad-template-format",
        one("code: {strategy: template, template: 'C-{id:5x}'}  # <-"),
        ("format ':5x'",),
    ),
    Case("alias-bomb", BOMB, ("more than 100000 values", "aliases"), line=2),  # expanded values sit at their anchor
    Case(
        "deep-nesting",
        "model: deep\ndoc: " + "[" * 60 + "]" * 60 + "\ntables: {}\n",
        ("nested more than 32 levels deep",),
        line=2,
    ),
    Case("empty-file", "", ("the model file is empty",), line=None),
    Case("only-comments", "# a model, one day\n", ("the model file is empty",), line=None),
    Case(
        "two-documents",
        one("x: uuid") + "---\nmodel: again  # <-\n",
        ("one YAML document",),
    ),
    Case(
        "merge-key",
        one("x: &base {strategy: uuid}\ny: {<<: *base}  # <-"),
        ("merge keys", "not supported"),
    ),
    Case(
        "invalid-json",
        '{"model": "j",\n "tables": {"t": {"rows": "scale",\n  "columns": {"id": {"primary_key": true}} "x": 1}}}\n',
        ("not valid YAML",),
        line=3,
        name="model.json",
    ),
    Case(
        "invalid-date",
        one("when: {strategy: datetime, start: 2020-13-01, end: 2021-01-01}  # <-"),
        ("2020-13-01",),
    ),
    Case(
        "datetime-end-before-start",
        one("when: {strategy: datetime, start: 2022-01-01, end: 2021-01-01}  # <-"),
        ("must be after start",),
    ),
    Case(
        "uniform-number-and-date",
        one("v: {strategy: uniform, min: 1, max: 2021-01-01}  # <-"),
        ("min and max",),
    ),
    Case(
        "rows-negative-ratio",
        one("x: uuid", extra="  u:\n    rows: {per: t, ratio: -2}  # <-\n    columns: {id: {primary_key: true}}\n"),
        ("ratio", "greater than 0"),
    ),
    Case(
        "rows-not-understood",
        one("x: uuid", rows="lots").replace("rows: lots", "rows: lots  # <-"),
        ("rows 'lots' is not understood",),
    ),
    Case(
        "rows-each-max-below-min",
        one("x: uuid", extra="  u:\n    rows: {each: t, min: 3, max: 2}  # <-\n    columns: {id: uuid}\n"),
        ("max (2) is less than min (3)",),
    ),
    Case(
        "row-count-cycle",
        one(
            "x: uuid",
            extra="  u:\n    rows: {per: v, ratio: 1}  # <-\n    columns: {id: {primary_key: true}}\n"
            "  v:\n    rows: {per: u, ratio: 1}\n    columns: {id: {primary_key: true}}\n",
        ),
        ("row counts go round in a circle", "u -> v -> u"),
    ),
    Case(
        "reference-to-non-key",
        one("p: {strategy: reference, table: products, column: price}  # <-", extra=PARENTS),
        ("'products.price' is not a primary key or unique column",),
    ),
    Case(
        "unknown-type",
        one("x:\n  strategy: word\n  type: strng  # <-"),
        ("unknown type 'strng'", "did you mean 'string'"),
    ),
    Case(
        "unknown-locale",
        one("x:\n  strategy: first_name\n  locale: xx_YY  # <-"),
        ("unknown locale 'xx_YY'",),
    ),
    Case(
        "hours-not-24",
        one("x:\n  strategy: datetime\n  start: 2020-01-01\n  end: 2021-01-01\n  hours: [1, 2, 3]  # <-"),
        ("'hours' needs 24",),
    ),
    Case(
        "weights-do-not-match",
        one("x:\n  strategy: choice\n  values: [a, b, c]\n  weights: [1, 2]  # <-"),
        ("3 values but 2 weights",),
    ),
    Case(
        "country-by-other-countries",
        "model: bad\ntables:\n  c:\n    rows: scale\n    columns:\n      id: {primary_key: true}\n"
        "      home: {strategy: address, part: country_code, countries: {US: 1, GB: 1}}\n"
        "  a:\n    rows: {each: c, min: 1, max: 2}\n    columns:\n      id: {primary_key: true}\n"
        "      c_id: parent\n      city: {strategy: address, part: city, country_by: c_id}  # <-\n",
        ("give this column the same 'countries' as c.home",),
    ),
    Case(
        "python-function-missing",
        one("x:\n  strategy: python\n  type: int64\n  function: 'os:no_such_function'  # <-"),
        ("os has no 'no_such_function'",),
    ),
    Case(
        "primary-key-with-nulls",
        one("x: uuid").replace("id: {primary_key: true}", "id: {primary_key: true, null_rate: 0.1}  # <-"),
        ("primary key column cannot hold NULLs",),
    ),
    Case(
        "parent-without-each",
        one("owner: parent  # <-"),
        ("'parent' needs the table's rows to be children",),
    ),
    Case(
        "unknown-top-level-key",
        one("x: uuid").replace("model: bad", "model: bad\ntabels: {}  # <-"),
        ("unknown option 'tabels'", "did you mean 'tables'"),
    ),
    Case(
        "bad-column-name",
        one("2nd: uuid  # <-"),
        ("column name '2nd'",),
    ),
    Case(
        "column-is-a-list",
        one("x: [1, 2]  # <-"),
        ("column 'x' must be a strategy name or a mapping",),
    ),
    Case(
        "primary-key-not-boolean",
        one("x: uuid").replace("id: {primary_key: true}", "id: {primary_key: 'yes please'}  # <-"),
        ("primary_key", "boolean"),
    ),
    Case("not-a-mapping", "- model\n- tables  # <-\n", ("a model file is a mapping",), line=1),
]


def write(path: Path, case: Case) -> Path:
    file = path / case.name
    file.write_text(case.text, encoding="utf-8")
    return file


def check(r, file: str, line: int | None, fragments: tuple[str, ...]) -> None:
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(PREFIX), lines[0]
    message = lines[0][len(PREFIX) :]
    if line is None:
        assert message.startswith(f"{file}: ") or f"'{file}'" in message, message
    else:
        m = re.match(re.escape(file) + r":(\d+):", message)
        assert m, f"no {file}:LINE: at the start of {message!r}"
        assert int(m.group(1)) == line, f"points at line {m.group(1)}, not {line}: {message}"
    for frag in fragments:
        assert frag.lower() in message.lower(), f"{frag!r} not in {message!r}"


def params() -> list:
    return [
        pytest.param(case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [])
        for case in CASES
    ]


def test_enough_cases():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", params())
def test_bad_model(tmp_path, case):
    file = write(tmp_path, case)
    r = run_cli("plan", "-m", str(file), "-s", "1MB", "-f", "csv")
    check(r, str(file), case.expected_line(), case.fragments)


def test_file_over_one_mib(tmp_path):
    file = tmp_path / "big.yaml"
    file.write_text("model: big\ndescription: '" + "x" * (1 << 20) + "'\ntables: {}\n")
    r = run_gengo("plan", "-m", str(file), "-s", "1MB", "-f", "csv")
    check(r, str(file), None, ("larger than 1024 KiB",))


def test_missing_file(tmp_path):
    file = tmp_path / "nowhere" / "shop.yaml"
    r = run_gengo("plan", "-m", str(file), "-s", "1MB", "-f", "csv")
    check(r, str(file), None, ("does not exist",))


def test_directory(tmp_path):
    folder = tmp_path / "models.yaml"
    folder.mkdir()
    r = run_gengo("plan", "-m", str(folder), "-s", "1MB", "-f", "csv")
    check(r, str(folder), None, ("is a directory",))


def test_not_utf8(tmp_path):
    file = tmp_path / "latin1.yaml"
    file.write_bytes("model: caf\xe9\n".encode("latin-1"))
    r = run_gengo("plan", "-m", str(file), "-s", "1MB", "-f", "csv")
    check(r, str(file), None, ("not UTF-8",))


def nullable_cycle(tmp_path: Path) -> Path:
    file = tmp_path / "cycle.yaml"
    file.write_text(CYCLE.replace("table: a}", "table: a, null_rate: 0.25}").replace("  # <-", ""))
    return file


def test_cycle_broken_by_a_nullable_reference_plans(tmp_path):
    r = run_gengo("plan", "-m", str(nullable_cycle(tmp_path)), "-s", "1MB", "-f", "csv")
    assert r.returncode == 0, r.stderr
    assert "a " in r.stdout and "b " in r.stdout


def test_cycle_broken_by_a_nullable_reference_generates(tmp_path):
    """A -> B -> A is fine when one side may be NULL: every key resolves, the nullable one has NULLs."""
    file = nullable_cycle(tmp_path)
    out = tmp_path / "out"
    r = run_gengo("gen", "-m", str(file), "-s", "200KB", "-f", "parquet", "-o", str(out), "--seed", "3", "-q")
    assert r.returncode == 0, r.stderr
    import duckdb

    con = duckdb.connect()
    a, b = (f"read_parquet('{out}/{t}.parquet')" for t in "ab")
    nulls, dangling = con.execute(
        f"SELECT count(*) FILTER (WHERE a_id IS NULL), count(*) FILTER (WHERE a_id IS NOT NULL AND a_id NOT IN "
        f"(SELECT id FROM {a})) FROM {b}"
    ).fetchone()
    assert nulls > 0 and dangling == 0
    assert con.execute(f"SELECT count(*) FROM {a} WHERE b_id NOT IN (SELECT id FROM {b})").fetchone() == (0,)
    r = run_gengo("verify", str(out))
    assert r.returncode == 0, r.stdout + r.stderr


def test_json_model_file_works(tmp_path):
    file = tmp_path / "model.json"
    file.write_text(
        '{"model": "j", "tables": {"t": {"rows": "scale", "columns": {"id": {"primary_key": true},'
        ' "v": {"strategy": "normal", "mean": 10, "sd": 2}, "tag": {"strategy": "choice", "values": ["a", "b"]}}}}}'
    )
    out = tmp_path / "out"
    r = run_gengo("gen", "-m", str(file), "-s", "50KB", "-f", "csv", "-o", str(out), "--seed", "1", "-q")
    assert r.returncode == 0, r.stderr
    header, first = (out / "t.csv").read_text().splitlines()[:2]
    assert header == "id,v,tag"
    assert first.startswith("1,")


# --- values that compile but cannot be generated ----------------------------------------------
# What these should do: refuse at compile time with file:line, or fail at generation with a
# GengoError; never write garbage, raise another exception or take unbounded memory.

GEN_BUGS = [
    (
        "nan-into-int64",
        "v: {strategy: normal, mean: .nan, sd: 1, type: int64}",
        "NaN cast to int64 is written as -9223372036854775808 (no error)",
    ),
    (
        "division-by-zero-into-decimal",
        "v: {strategy: expr, expr: 'id / 0', type: 'decimal(12,2)'}",
        "inf cast to decimal is written as -92233720368547758.08: the fit check takes abs() of INT64_MIN, which "
        "overflows and stays negative",
    ),
    (
        "overflow-into-decimal",
        "v: {strategy: lognormal, median: 1e300, sigma: 50, type: 'decimal(12,2)'}",
        "same as division-by-zero-into-decimal",
    ),
    (
        "sequence-wraps-around",
        "v: {strategy: sequence, start: 9223372036854775000, step: 1000}",
        "int64 overflow wraps to negative values silently",
    ),
    (
        "uniform-full-int64-range",
        "v: {strategy: uniform, min: -9223372036854775808, max: 9223372036854775807}",
        "OverflowError (not a GengoError) from rand.integers",
    ),
    (
        "template-wide-decimals",
        "v: {strategy: template, template: '{id:.20f}'}",
        "OverflowError (not a GengoError) in the :.Nf format",
    ),
    (
        "empty-concat",
        "v: {strategy: expr, expr: 'concat()'}",
        "AssertionError 't.v: 0 values for 100 rows' from Table.generate",
    ),
    (
        "normal-min-above-max",
        "v: {strategy: normal, mean: 0, sd: 1, min: 5, max: 1}",
        "min > max accepted (uniform refuses it): every value is max",
    ),
    (
        "geometric-min-above-max",
        "v: {strategy: geometric, p: 0.5, min: 5, max: 1}",
        "min > max accepted: every value is max",
    ),
    (
        "local-time-in-not-a-zone",
        "z: {strategy: choice, values: [Mars/Olympus]}\nat: {strategy: datetime, start: 2024-01-01, "
        "end: 2025-01-01, local_time_in: z}",
        "",
    ),
    (
        "nan-weight",
        "v: {strategy: choice, values: {a: .nan, b: 1}}",
        "a NaN weight is accepted and every row gets 'a'",
    ),
]


@pytest.mark.parametrize(
    ("column", "reason"),
    [pytest.param(c, r, id=i) for i, c, r in GEN_BUGS],
)
def test_values_that_cannot_be_generated_are_refused(column, reason):
    """Compiling refuses the column (file:line), or the first rows fail with one GengoError line."""
    import numpy as np

    from gengo.core.errors import GengoError
    from gengo.models.file import load_model_text

    text = one(column)
    try:
        model = load_model_text(text, "m.yaml")
    except GengoError as e:
        assert str(e).startswith("m.yaml:7:"), str(e)
        return
    rows = model.row_counts(100, 1)
    with pytest.raises(GengoError):
        model.tables[0].generate(1, rows, np.arange(100, dtype=np.int64))


def test_control_character(tmp_path):
    case = Case("control", "model: x\ntables:\x1f\n", ("not allowed",), line=2)
    file = write(tmp_path, case)
    from gengo.core.errors import GengoError
    from gengo.models.file import load_model_file

    with pytest.raises(GengoError) as e:
        load_model_file(str(file))
    assert "\n" not in str(e.value) and str(e.value).startswith(f"{file}:2:"), str(e.value)


def test_a_name_with_a_newline_is_escaped_in_the_message(tmp_path):
    """A quoted key can hold any character: the library's message (not only the CLI's line) stays one line."""
    from gengo.core.errors import GengoError
    from gengo.models.file import load_model_file

    file = tmp_path / "nl.yaml"
    file.write_text('model: x\ntables:\n  t:\n    rows: 5\n    columns:\n      "a\\nb": uuid\n')
    with pytest.raises(GengoError) as e:
        load_model_file(str(file))
    assert str(e.value).startswith(f"{file}:6:7: column name 'a\\nb' must be"), str(e.value)


def test_a_huge_poisson_mean_generates_in_bounded_memory():
    """A large mean takes the normal approximation: no table of the distribution, no Python loop."""
    import numpy as np

    from gengo.models.file import load_model_text

    model = load_model_text(one("v: {strategy: poisson, mean: 1e9}"), "m.yaml")
    v = model.tables[0].generate(1, model.row_counts(20_000, 1), np.arange(20_000, dtype=np.int64))["v"].to_numpy()
    assert abs(v.mean() / 1e9 - 1) < 1e-4 and abs(v.std() / np.sqrt(1e9) - 1) < 0.05


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("v: {strategy: uniform, min: 1850, max: 1995, type: int8}", ("t.v: a value (1", "int8 (-128 to 127)")),
        (
            "v: {strategy: lognormal, median: 20, sigma: 0.3, min: 12, type: 'decimal(3,2)'}",
            ("t.v: a value (", "decimal(3,2) (at most 9.99 either way)"),
        ),
    ],
    ids=["int8", "decimal"],
)
def test_a_value_that_does_not_fit_its_type_names_the_column_the_type_and_its_range(column, expected):
    """In the model's own type names (decimal(3,2), not Arrow's decimal128), with the range."""
    import numpy as np

    from gengo.core.errors import GengoError
    from gengo.models.file import load_model_text

    model = load_model_text(one(column), "m.yaml")
    with pytest.raises(GengoError) as e:
        model.tables[0].generate(1, model.row_counts(100, 1), np.arange(100, dtype=np.int64))
    message = str(e.value)
    assert message.startswith("m.yaml") and "\n" not in message, message
    assert all(part in message for part in expected), message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def f(ctx, columns):\n    raise ValueError('kaboom')\n", "bad_fn:f raised ValueError: kaboom"),
        ("import numpy as np\ndef f(ctx, columns):\n    return np.zeros(3)\n", "bad_fn:f returned 3 values for"),
    ],
)
def test_a_python_function_that_fails_is_one_line_naming_it(tmp_path, body, message):
    """The user's function raises or returns the wrong number of values: the command says so in one
    line with the model file's position, on one worker as on two."""
    (tmp_path / "bad_fn.py").write_text(body)
    model = tmp_path / "pyfn.yaml"
    model.write_text(
        "model: pyfn\ntables:\n  a:\n    rows: scale\n    columns:\n      id: {primary_key: true}\n"
        "      v: {strategy: python, function: 'bad_fn:f', type: float64}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        r = subprocess.run(
            [GENGO, "gen", "-m", str(model), "--rows", "a=20000", "-f", "csv", "-o", str(out), "-w", workers],
            capture_output=True,
            text=True,
            env=env,
        )
        assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr and "pyfn.yaml:7:" in r.stderr and message in r.stderr, r.stderr


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("{strategy: uniform, min: 1, max: 1000, type: int8}", "gen.yaml:7:7: a.v: a value"),
        ("{strategy: uniform, min: 1, max: 10, unique: true}", "gen.yaml:7:7: a.v: 20000 rows cannot have unique"),
        ("{strategy: expr, expr: 'id / (id - id)', type: int32}", "gen.yaml:7:7: a.v: a value is inf"),
        # found by a worker (the first rows, which sizing's samples skip): workers have no lines
        ("{strategy: expr, expr: 'log(id - 5)', type: 'decimal(10,2)'}", "gen.yaml: a.v: a value is nan"),
    ],
)
def test_errors_found_while_generating_name_the_column_line(tmp_path, column, message):
    model = tmp_path / "gen.yaml"
    model.write_text(
        "model: gen\ntables:\n  a:\n    rows: scale\n    columns:\n"
        f"      id: {{primary_key: true}}\n      v: {column}\n"
    )
    r = run_gengo("gen", "-m", str(model), "--rows", "a=20000", "-f", "csv", "-o", str(tmp_path / "out"))
    assert r.returncode == 1 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_commands_that_do_not_generate_need_no_python_module(tmp_path):
    """verify, ddl and plan's reading of the file need not import a python column's module; a run
    that generates says it cannot, in one line with the column's place."""
    (tmp_path / "lz_mod.py").write_text("import numpy as np\ndef f(ctx, columns):\n    return np.ones(len(ctx.idx))\n")
    model = tmp_path / "lz.yaml"
    model.write_text(
        "model: lz\ntables:\n  a:\n    rows: scale\n    columns:\n      id: {primary_key: true}\n"
        "      v: {strategy: python, function: 'lz_mod:f', type: float64}\n"
    )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    r = subprocess.run(
        [GENGO, "gen", "-q", "-m", str(model), "--rows", "a=100", "-f", "csv", "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    elsewhere = tmp_path / "elsewhere"  # neither the module nor PYTHONPATH here
    elsewhere.mkdir()
    bare = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for args in (["verify", str(out)], ["ddl", "-m", str(model)]):
        r = subprocess.run([GENGO, *args], capture_output=True, text=True, env=bare, cwd=elsewhere)
        assert r.returncode == 0, (args, r.stderr)
    r = subprocess.run(
        [GENGO, "gen", "-m", str(model), "--rows", "a=100", "-f", "csv", "-o", str(tmp_path / "out2")],
        capture_output=True,
        text=True,
        env=bare,
        cwd=elsewhere,
    )
    assert r.returncode == 1 and "lz.yaml:7:7: a.v: function 'lz_mod:f': cannot import lz_mod" in r.stderr, r.stderr
