"""The model file format, declared with pydantic: what a file may say, checked strictly.

One class per column strategy (the ``strategy`` field names it), the table's row-count forms,
and the file itself. ``gengo model-schema`` prints the JSON Schema of :class:`ModelFile`, which
editors use to complete and check model files. Semantics that need the whole model (names that
must exist, cycles, keys that cannot be unique) are checked by ``compile.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

Number = float | int
Weights = list[Number]
# values: a list (equally likely, or weighted by ``weights``) or a mapping value -> weight
Values = list[Any] | dict[str, Number]
Moment = dt.datetime | dt.date | str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, populate_by_name=True, defer_build=True)


class Quality(Strict):
    """Pipeline-testing data, deterministic and counted in the manifest."""

    duplicates: float = Field(
        0.0, ge=0, le=0.5, description="Share of rows that repeat the row before them exactly (keys too)."
    )
    late: float = Field(0.0, ge=0, le=0.5, description="Share of rows whose ``late_column`` is moved back in time.")
    late_column: str | None = None
    late_days: int = Field(30, ge=1)


class ColumnQuality(Strict):
    outliers: float = Field(0.0, ge=0, le=0.5, description="Share of numeric values multiplied by 10-1000.")
    whitespace: float = Field(0.0, ge=0, le=0.5, description="Share of text values with stray spaces around.")
    case: float = Field(0.0, ge=0, le=0.5, description="Share of text values in changed case.")
    out_of_domain: float = Field(0.0, ge=0, le=0.5, description="Share of choice values outside the list.")


class ColumnBase(Strict):
    type: str | None = Field(
        None,
        description="int64 (default for keys), int32, int16, int8, float64, float32, decimal(P,S), "
        "string, boolean, date, timestamp (UTC). Omitted: the strategy's natural type.",
    )
    primary_key: bool = Field(False, description="Part of the table's primary key.")
    unique: bool = Field(False, description="Every value distinct (checked: the strategy must be able to).")
    null_rate: float = Field(0.0, ge=0.0, le=1.0, description="Share of rows holding NULL.")
    null_when: str | None = Field(
        None, description="An expression over the row: NULL where it holds (a failure reason only for failures)."
    )
    hidden: bool = Field(False, description="Computed for other columns (templates, expressions) but not written.")
    doc: str = Field("", description="What the column holds (written into the DDL as a comment).")
    quality: ColumnQuality | None = Field(None, description="Pipeline-testing values (counted in the manifest).")


class Sequence(ColumnBase):
    """Row number: start, start + step, ... (the default strategy of a single primary key)."""

    strategy: Literal["sequence"]
    start: int = 1
    step: int = Field(1, ge=1)


class Uniform(ColumnBase):
    """Uniform between min and max (inclusive for integers, dates and timestamps)."""

    strategy: Literal["uniform"]
    min: Number | Moment
    max: Number | Moment


class Normal(ColumnBase):
    strategy: Literal["normal"]
    mean: Number
    sd: Number = Field(gt=0)
    min: Number | None = None
    max: Number | None = None


class LogNormal(ColumnBase):
    """exp(N(ln median, sigma)): prices, incomes, durations."""

    strategy: Literal["lognormal"]
    median: Number = Field(gt=0)
    sigma: Number = Field(gt=0)
    min: Number | None = None
    max: Number | None = None


class Exponential(ColumnBase):
    strategy: Literal["exponential"]
    mean: Number = Field(gt=0)
    min: Number | None = None
    max: Number | None = None


class Geometric(ColumnBase):
    """Trials until the first success with probability p: min, min+1, ... (quantities)."""

    strategy: Literal["geometric"]
    p: float = Field(gt=0, le=1)
    min: int = 1
    max: int | None = None


class Poisson(ColumnBase):
    strategy: Literal["poisson"]
    mean: Number = Field(gt=0)
    min: int | None = None
    max: int | None = None


class Choice(ColumnBase):
    """One of a list of values, equally likely or weighted (``weights``, or a mapping value: weight)."""

    strategy: Literal["choice"]
    values: Values
    weights: Weights | None = None
    cycle: bool = Field(False, description="Take the values in turn by row (row 1 the first value...), not at random.")


class Conditional(ColumnBase):
    """A choice whose values and weights depend on another column's value (``cases`` keyed by it)."""

    strategy: Literal["conditional"]
    by: str
    cases: dict[str, Values]
    default: Values | None = None


class Constant(ColumnBase):
    strategy: Literal["constant"]
    value: Any


class Boolean(ColumnBase):
    strategy: Literal["boolean"]
    p: float = Field(0.5, ge=0, le=1, description="Probability of true.")


class DateTime(ColumnBase):
    """Dates or timestamps in [start, end): growing over time, with hour-of-day and weekday weights."""

    strategy: Literal["datetime"]
    start: Moment
    end: Moment
    growth: float = Field(
        1.0, gt=0, description="Density grows like t**(growth - 1): 1 is flat, 2 doubles toward the end."
    )
    increasing: bool = Field(False, description="Increase with the row's key (events logged in order).")
    hours: Weights | None = Field(None, description="24 weights, one per hour of the day (UTC, or local time).")
    weekdays: Weights | None = Field(None, description="7 weights, Monday first.")
    local_time_in: str | None = Field(
        None,
        description="A column of IANA time zone names (an address's time_zone): hours and weekdays are local "
        "time there, and the values are the UTC instants of those local times.",
    )


class Locales(Strict):
    """Names of another locale for the rows where a column holds one of the listed values."""

    by: str = Field(description="A column of this table (a country code of the row's address, say).")
    cases: dict[str, str] = Field(description="Value of the column: the Faker locale of those rows' names.")


class Person(ColumnBase):
    """Names from Faker's locale lists, with their real frequencies where the locale has them."""

    strategy: Literal["first_name", "last_name", "full_name"]
    locale: str = "en_US"
    gender: Literal["any", "female", "male"] = "any"
    locales: Locales | None = Field(
        None, description="Other locales by a column's value: French names for customers living in Quebec."
    )


class Email(ColumnBase):
    """first.last@domain, built from the row's name columns (accents folded), unique with the row id."""

    strategy: Literal["email"]
    first: str | None = Field(None, description="Column with the first name (default: first_name).")
    last: str | None = Field(None, description="Column with the last name (default: last_name).")
    domains: Values | None = None


class Vocabulary(ColumnBase):
    """Words, sentences, companies, job titles and phone numbers from Faker's pools for a locale."""

    strategy: Literal["company", "job_title", "phone", "word", "sentence", "paragraph", "country_name"]
    locale: str = "en_US"
    distinct: bool = Field(
        False,
        description="No value repeats until every value of the vocabulary is used (then the same order again).",
    )


class Address(ColumnBase):
    """One part of a consistent address: every part of one ``block`` comes from the same locality."""

    strategy: Literal["address"]
    part: Literal["street", "city", "state", "postcode", "country", "line", "country_code", "time_zone"]
    block: str = Field("address", description="Parts with the same block name describe the same address.")
    countries: dict[str, Number] | None = Field(
        None, description="Share of addresses per country: US, CA, QC (French Canada), GB, AU."
    )
    country_by: str | None = Field(
        None,
        description="A reference column: the country is the referenced row's (a customer's addresses all lie in "
        "the customer's country, the one an address column of the customers table with the same block gives).",
    )


class Template(ColumnBase):
    """Text with placeholders: {column}, {column:08} (zero-padded), {column|lower}, {id} (row id)."""

    strategy: Literal["template"]
    template: str


class Uuid(ColumnBase):
    strategy: Literal["uuid"]


class Reference(ColumnBase):
    """A foreign key: a row of another table, uniformly or by popularity (a power law)."""

    strategy: Literal["reference"]
    table: str
    column: str | None = Field(None, description="Default: the referenced table's primary key.")
    distribution: Literal["uniform", "power_law"] = "uniform"
    exponent: float = Field(1.0, gt=0, description="Power law exponent: 1 is Zipf, larger is more skewed.")
    weights: Weights | None = Field(
        None, description="One weight per row of a fixed-size table (rows: N): how often each is referenced."
    )
    distinct_within_parent: bool = Field(
        False,
        description="In a table of children (rows: {each: P}), siblings reference different rows while there are "
        "enough (an order lists each product once).",
    )


class Parent(ColumnBase):
    """The parent's key in a table whose rows are children of another's (``rows: {each: ...}``)."""

    strategy: Literal["parent"]
    column: str | None = None


class Position(ColumnBase):
    """A child's position among its parent's children (start, start + 1, ...), or with
    ``siblings`` the number of children its parent has."""

    strategy: Literal["position", "siblings"]
    start: int = 1


class BelongsTo(ColumnBase):
    """A row of a child table owned by the parent that another column of this row points to."""

    strategy: Literal["belongs_to"]
    table: str = Field(description="The child table (rows: {each: PARENT}).")
    via: str = Field(description="The column of this table that references PARENT.")
    pick: Literal["random", "first", "last", "not_first"] = "random"
    column: str | None = None


class Lookup(ColumnBase):
    """A column of the row that a foreign key points to, recomputed from the key."""

    strategy: Literal["lookup"]
    via: str = Field(description="A reference column of this table.")
    column: str = Field(description="The column of the referenced table.")


class Expression(ColumnBase):
    """Arithmetic, comparisons, where()/case() and date arithmetic over the row's other columns."""

    strategy: Literal["expr"]
    expr: str


class Python(ColumnBase):
    """A column computed by ``package.module:function(context, columns)``; must be a pure function."""

    strategy: Literal["python"]
    function: str


Column = Annotated[
    Union[  # noqa: UP007 - one strategy per line reads better than a long | chain
        Sequence,
        Uniform,
        Normal,
        LogNormal,
        Exponential,
        Geometric,
        Poisson,
        Choice,
        Conditional,
        Constant,
        Boolean,
        DateTime,
        Person,
        Email,
        Vocabulary,
        Address,
        Template,
        Uuid,
        Reference,
        Parent,
        Position,
        BelongsTo,
        Lookup,
        Expression,
        Python,
    ],
    Field(discriminator="strategy"),
]

STRATEGIES: dict[str, type[ColumnBase]] = {}
for _cls in Column.__origin__.__args__:  # type: ignore[attr-defined]
    for _name in _cls.model_fields["strategy"].annotation.__args__:
        STRATEGIES[_name] = _cls


class Ratio(Strict):
    per: str = Field(description="Another table: rows = round(ratio x its rows), at least 1.")
    ratio: float = Field(gt=0)


class Each(Strict):
    each: str = Field(description="The parent table: every parent has min..max children, drawn independently.")
    min: int = Field(1, ge=0)
    max: int = Field(ge=1)
    weights: list[float] | None = Field(
        None, description="How likely each count min, min+1, ..., max is (default: equally likely)."
    )


Rows = Annotated[int, Field(ge=1)] | Literal["scale"] | Ratio | Each


class Update(Strict):
    """A column's updates: how often, and optionally the states it moves through."""

    rate: float = Field(gt=0, le=1, description="Share of the live rows updated in each batch.")
    moves: dict[str, list[str] | dict[str, Annotated[float, Field(gt=0)]]] | None = Field(
        None, description="value -> the values it may move to (a list, or value: weight); values with none stay."
    )


class Changes(Strict):
    """How the table changes in each batch of ``gen --batches`` (shares of its base rows)."""

    insert: float = Field(0.0, ge=0, le=10, description="New rows per batch, as a share of the base rows.")
    update: dict[str, Annotated[float, Field(gt=0, le=1)] | Update] = Field(
        default_factory=dict,
        description="Column -> share of the live rows whose value is redrawn in each batch, or {rate, moves}.",
    )
    delete: float = Field(0.0, ge=0, le=1, description="Share of the live rows deleted in each batch.")


class TableSpec(Strict):
    rows: Rows
    doc: str = ""
    columns: dict[str, str | Column]
    quality: Quality | None = None
    changes: Changes | None = None


class CheckSpec(Strict):
    """A data check: a DuckDB query over the tables that returns the rows breaking a rule (none: it holds)."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    sql: str
    doc: str = ""


class ModelFile(Strict):
    """A gengo model file."""

    model: str = Field(description="The model's name (letters, digits, - and _).", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    description: str = ""
    tables: dict[str, TableSpec]
    checks: list[CheckSpec] = Field(default_factory=list, description="Rules the data keeps, as SQL (tests run them).")
