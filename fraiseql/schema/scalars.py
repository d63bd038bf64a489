"""Scalars: the Python types a field may be annotated with, and what each means.

One table, :data:`SCALARS`, says for every scalar its GraphQL type, the
PostgreSQL type used to compare and sort it, and how its value is read from a
JSONB document for output (``->>`` text or ``->`` JSON). Filters, ordering,
projection and docs all read this table, so a cast is defined exactly once.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLScalarType,
    GraphQLString,
    ValueNode,
    value_from_ast_untyped,
)
from graphql.language import StringValueNode


class ID(str):
    """GraphQL ``ID``: an opaque identifier, serialized as a string."""


class JSON:
    """Annotation marker for a GraphQL ``JSON`` field (any JSON value)."""


# Annotation markers for PostgreSQL types with their own filter operators
# (see fraiseql/schema/special_scalars.py for their GraphQL scalars).
class IPAddress(str):
    """An IPv4 or IPv6 host address, optionally with a prefix (PostgreSQL ``inet``)."""


class CIDR(str):
    """An IPv4 or IPv6 network (PostgreSQL ``cidr``)."""


class MacAddress(str):
    """A MAC address (PostgreSQL ``macaddr``)."""


class LTree(str):
    """A label path such as ``science.physics`` (the ``ltree`` extension)."""


class DateRange(str):
    """A range of dates such as ``[2024-01-01,2024-02-01)`` (PostgreSQL ``daterange``)."""


class TSVector(str):
    """A full-text search document (PostgreSQL ``tsvector``)."""


class Vector(list):  # type: ignore[type-arg]
    """An embedding: a list of floats (the pgvector ``vector`` extension)."""


def _string_parser(name: str, parse: Any) -> Any:
    def parse_value(value: Any) -> Any:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, got {type(value).__name__}")
        try:
            return parse(value)
        except (ValueError, decimal.InvalidOperation) as exc:
            raise ValueError(f"invalid {name} {value!r}") from exc

    def parse_literal(node: ValueNode, _vars: Any = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise TypeError(f"{name} must be a string literal")
        return parse_value(node.value)

    return parse_value, parse_literal


def _scalar(name: str, description: str, parse: Any, serialize: Any = str) -> GraphQLScalarType:
    parse_value, parse_literal = _string_parser(name, parse)
    return GraphQLScalarType(name, description=description, serialize=serialize,
                             parse_value=parse_value, parse_literal=parse_literal)


def _parse_datetime(value: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a DateTime needs a time zone offset")
    return parsed


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _parse_decimal(value: str) -> decimal.Decimal:
    result = decimal.Decimal(value)
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def _decimal_literal(node: ValueNode, _vars: Any = None) -> decimal.Decimal:
    raw = getattr(node, "value", None)
    if node.kind not in ("string_value", "int_value", "float_value") or raw is None:
        raise TypeError("Decimal must be a number or a numeric string")
    return _parse_decimal(raw)


def _decimal_value(value: Any) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError("Decimal must be a number or a numeric string")
    return _parse_decimal(str(value))


UUIDScalar = _scalar("UUID", "A UUID, e.g. 9b2e6c3a-1f0b-4d6e-9a55-0c1d2e3f4a5b.", uuid.UUID)
DateTimeScalar = _scalar("DateTime", "An ISO 8601 date-time with a time zone offset.",
                         _parse_datetime, _iso)
DateScalar = _scalar("Date", "An ISO 8601 calendar date, e.g. 2024-05-31.",
                     datetime.date.fromisoformat, _iso)
TimeScalar = _scalar("Time", "An ISO 8601 time of day, e.g. 13:45:00.",
                     datetime.time.fromisoformat, _iso)
DecimalScalar = GraphQLScalarType(
    "Decimal", description="An exact decimal number; accepts numbers or numeric strings.",
    serialize=str, parse_value=_decimal_value, parse_literal=_decimal_literal)
JSONScalar = GraphQLScalarType(
    "JSON", description="Any JSON value.", serialize=lambda v: v, parse_value=lambda v: v,
    parse_literal=value_from_ast_untyped)


@dataclass(frozen=True)
class ScalarInfo:
    """What FraiseQL knows about one scalar."""

    graphql: GraphQLScalarType
    sql_cast: str  # PostgreSQL type that comparisons and sorts use
    as_text: bool  # output via ->> (text) rather than -> (JSON passthrough)
    kind: str  # operator family: "string", "number", "boolean", "temporal", "id", "json", ...
    extension: str | None = None  # a PostgreSQL extension the type needs


SCALARS: dict[Any, ScalarInfo] = {
    str: ScalarInfo(GraphQLString, "text", True, "string"),
    int: ScalarInfo(GraphQLInt, "numeric", False, "number"),
    float: ScalarInfo(GraphQLFloat, "numeric", False, "number"),
    bool: ScalarInfo(GraphQLBoolean, "boolean", False, "boolean"),
    ID: ScalarInfo(GraphQLID, "text", True, "id"),
    uuid.UUID: ScalarInfo(UUIDScalar, "uuid", True, "id"),
    datetime.datetime: ScalarInfo(DateTimeScalar, "timestamptz", True, "temporal"),
    datetime.date: ScalarInfo(DateScalar, "date", True, "temporal"),
    datetime.time: ScalarInfo(TimeScalar, "time", True, "temporal"),
    # Decimals leave as strings so no client parses them into a float.
    decimal.Decimal: ScalarInfo(DecimalScalar, "numeric", True, "number"),
    JSON: ScalarInfo(JSONScalar, "jsonb", False, "json"),
    dict: ScalarInfo(JSONScalar, "jsonb", False, "json"),
}


def _add_special_scalars() -> None:
    from fraiseql.schema import special_scalars as s
    SCALARS.update({
        IPAddress: ScalarInfo(s.IPAddressScalar, "inet", True, "network"),
        CIDR: ScalarInfo(s.CIDRScalar, "cidr", True, "network"),
        MacAddress: ScalarInfo(s.MacAddressScalar, "macaddr", True, "mac"),
        LTree: ScalarInfo(s.LTreeScalar, "ltree", True, "ltree", "ltree"),
        DateRange: ScalarInfo(s.DateRangeScalar, "daterange", True, "daterange"),
        TSVector: ScalarInfo(s.TSVectorScalar, "tsvector", True, "fulltext"),
        # Stored in data as a JSON array of numbers, so it passes through as JSON.
        Vector: ScalarInfo(s.VectorScalar, "vector", False, "vector", "vector"),
    })


_add_special_scalars()

SCALARS_BY_NAME: dict[str, ScalarInfo] = {info.graphql.name: info for info in SCALARS.values()}
