"""Source column types (sqlglot ``DataType``) -> the model language's types, or a documented fallback.

The model language has int64/int32/int16/int8, float64/float32, decimal(P,S), string, boolean,
date and timestamp. uuid, json, enum, time, interval, inet, binary and array values have no type
of their own: they are written as text that the source's type accepts on load (see ``kind``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from gengo.core.errors import GengoError


def _types(*names: str) -> frozenset:
    return frozenset(getattr(exp.DataType.Type, n) for n in names if hasattr(exp.DataType.Type, n))


_INT64 = _types("BIGINT", "BIGSERIAL", "UBIGINT", "UINT", "UMEDIUMINT", "INT128", "HUGEINT", "UINT128")
_INT32 = _types("INT", "SERIAL", "MEDIUMINT", "USMALLINT")
_INT16 = _types("SMALLINT", "SMALLSERIAL", "UTINYINT", "YEAR")
_INT8 = _types("TINYINT")
_DECIMAL = _types("DECIMAL", "MONEY", "SMALLMONEY", "BIGDECIMAL", "DECIMAL32", "DECIMAL64", "DECIMAL128", "UDECIMAL")
_FLOAT = _types("FLOAT")
_DOUBLE = _types("DOUBLE", "UDOUBLE")
_STRING = _types(
    "VARCHAR", "CHAR", "NVARCHAR", "NCHAR", "TEXT", "MEDIUMTEXT", "LONGTEXT", "TINYTEXT", "NAME", "BPCHAR", "CITEXT"
)
_BOOLEAN = _types("BOOLEAN")
_DATE = _types("DATE", "DATE32")
_TIMESTAMP = _types(
    "DATETIME",
    "DATETIME2",
    "DATETIME64",
    "SMALLDATETIME",
    "TIMESTAMP",
    "TIMESTAMPTZ",
    "TIMESTAMPLTZ",
    "TIMESTAMPNTZ",
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP_NS",
    "DATETIMEOFFSET",
)
_TIME = _types("TIME", "TIMETZ", "TIME_NS")
_UUID = _types("UUID", "UNIQUEIDENTIFIER")
_JSON = _types("JSON", "JSONB", "VARIANT", "SUPER", "OBJECT")
_ARRAY = _types("ARRAY", "LIST")
_INTERVAL = _types("INTERVAL")
_INET = _types("INET", "CIDR")
_BINARY = _types("BINARY", "VARBINARY", "BLOB", "LONGBLOB", "MEDIUMBLOB", "TINYBLOB", "IMAGE", "BYTEA")
_BIT = _types("BIT")
# Floats of four bytes in these dialects (FLOAT is eight bytes in Snowflake, BigQuery, SQLite).
_FLOAT32_DIALECTS = {"postgres", "mysql", "duckdb", "redshift", "tsql"}
DEFAULT_DECIMAL = (18, 4)  # numeric without a precision accepts any value; 14 digits before the point is plenty
ALL_KINDS = (
    "integers, numeric/decimal(p,s), float/double, char/varchar(n)/text, boolean, date, time, timestamp [with time "
    "zone], uuid, json/jsonb, enums, arrays, interval, inet, bytea/blob"
)


@dataclass(frozen=True)
class TypeInfo:
    kind: str  # int, decimal, float, string, boolean, date, timestamp, time, uuid, json, enum, array, interval, ...
    model_type: str  # what the model file writes in ``type:``
    length: int | None = None  # char/varchar(n)
    precision: int | None = None
    scale: int | None = None
    element: TypeInfo | None = None  # arrays

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "decimal", "float")

    @property
    def int_range(self) -> tuple[int, int] | None:
        bits = {"int64": 64, "int32": 32, "int16": 16, "int8": 8}.get(self.model_type)
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if bits else None

    @property
    def cap(self) -> float | None:
        """The largest absolute value the type holds (decimal digits, integer width)."""
        if self.kind == "decimal" and self.precision is not None:
            return float(10 ** (self.precision - (self.scale or 0)) - 10 ** -(self.scale or 0))
        r = self.int_range
        return float(r[1]) if r else None


def _params(dt: exp.DataType) -> list[int | None]:
    out: list[int | None] = []
    for e in dt.expressions:
        node = e.this if isinstance(e, exp.DataTypeParam) else e
        try:
            out.append(int(node.name if isinstance(node, exp.Expression) else node))
        except (TypeError, ValueError):
            out.append(None)  # varchar(MAX)
    return out


def classify(dt: exp.DataType, dialect: str, where: str, enum: list[str] | None = None) -> TypeInfo:
    """The model type of a source type; an unknown type is a one-line error naming ``where``."""
    t = dt.this
    if enum is not None or t == exp.DataType.Type.ENUM:
        return TypeInfo("enum", "string")
    if t in _INT64:
        return TypeInfo("int", "int64")
    if t in _INT32:
        return TypeInfo("int", "int32")
    if t in _INT16:
        return TypeInfo("int", "int16")
    if t in _INT8:
        return TypeInfo("int", "int8")
    if t in _DECIMAL:
        params = _params(dt)
        if t == getattr(exp.DataType.Type, "MONEY", None) and not params:
            p, s = 19, 2
        elif params and params[0] is not None:
            p, s = params[0], (params[1] if len(params) > 1 and params[1] is not None else 0)
        else:
            p, s = DEFAULT_DECIMAL
        p = min(max(p, 1), 38)
        s = min(max(s, 0), p)
        return TypeInfo("decimal", f"decimal({p},{s})", precision=p, scale=s)
    if t in _FLOAT:
        return TypeInfo("float", "float32" if dialect in _FLOAT32_DIALECTS else "float64")
    if t in _DOUBLE:
        return TypeInfo("float", "float64")
    if t in _STRING:
        params = _params(dt)
        return TypeInfo("string", "string", length=params[0] if params else None)
    if t in _BOOLEAN or (t in _BIT and _params(dt) in ([], [1])):
        return TypeInfo("boolean", "boolean")
    if t in _DATE:
        return TypeInfo("date", "date")
    if t in _TIMESTAMP:
        return TypeInfo("timestamp", "timestamp")
    if t in _TIME:
        return TypeInfo("time", "string")
    if t in _UUID:
        return TypeInfo("uuid", "string")
    if t in _JSON:
        return TypeInfo("json", "string")
    if t in _INTERVAL:
        return TypeInfo("interval", "string")
    if t in _INET:
        return TypeInfo("inet", "string")
    if t in _BINARY:
        return TypeInfo("binary", "string")
    if t in _ARRAY:
        inner = dt.expressions[0] if dt.expressions and isinstance(dt.expressions[0], exp.DataType) else None
        element = None
        if inner is not None:
            try:
                element = classify(inner, dialect, where)
            except GengoError:
                element = None
        return TypeInfo("array", "string", element=element)
    raise GengoError(f"{where}: type '{dt.sql(dialect)}' has no mapping; gengo init reads {ALL_KINDS}")
