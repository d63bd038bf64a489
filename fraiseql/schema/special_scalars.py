"""GraphQL scalars for PostgreSQL types with their own operators.

Each parses a client value strictly (a malformed value is a BAD_USER_INPUT
before any SQL runs) and keeps the client's text, which PostgreSQL casts.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any

from graphql import GraphQLScalarType, ValueNode
from graphql.language import FloatValueNode, IntValueNode, ListValueNode

from fraiseql.schema.scalars import _scalar

_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")
_LTREE = re.compile(r"^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)?$")
_DATE = r"\s*(\d{4}-\d{2}-\d{2}|-?infinity)?\s*"
_DATE_RANGE = re.compile(rf"^[\[(]{_DATE},{_DATE}[\])]$|^empty$", re.IGNORECASE)


def _checked(pattern: re.Pattern[str], what: str) -> Any:
    def parse(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"not {what}")
        return value
    return parse


def _ip_address(value: str) -> str:
    ipaddress.ip_interface(value)  # raises ValueError
    return value


def _cidr(value: str) -> str:
    ipaddress.ip_network(value, strict=True)  # host bits set: not a network
    return value


def _tsvector(value: str) -> str:
    return value


IPAddressScalar = _scalar("IPAddress", "An IPv4 or IPv6 address, optionally with a prefix "
                          "length, e.g. 192.168.0.1 or 2001:db8::1/64.", _ip_address)
CIDRScalar = _scalar("CIDR", "An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or fc00::/7.", _cidr)
MacAddressScalar = _scalar("MacAddress", "A MAC address, e.g. 08:00:2b:01:02:03.",
                           _checked(_MAC, "a MAC address"))
LTreeScalar = _scalar("LTree", "A label path of the ltree extension, e.g. science.physics.",
                      _checked(_LTREE, "an ltree path (labels of A-Z a-z 0-9 _ - joined by .)"))
DateRangeScalar = _scalar(
    "DateRange", "A range of dates, e.g. [2024-01-01,2024-02-01); an omitted bound is "
    "unbounded, e.g. [2024-01-01,).", _checked(_DATE_RANGE, "a date range such as "
                                                "[2024-01-01,2024-02-01)"))
TSVectorScalar = _scalar("TSVector", "A full-text search document (PostgreSQL tsvector).",
                         _tsvector)


def _vector_value(value: Any) -> list[float]:
    if not isinstance(value, list) or not value:
        raise TypeError("Vector must be a non-empty list of numbers")
    result = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)) \
                or not math.isfinite(item):
            raise TypeError("Vector must be a non-empty list of finite numbers")
        result.append(float(item))
    return result


def _vector_literal(node: ValueNode, _vars: Any = None) -> list[float]:
    if not isinstance(node, ListValueNode) or not all(
            isinstance(item, (IntValueNode, FloatValueNode)) for item in node.values):
        raise TypeError("Vector must be a list of numbers")
    return _vector_value([float(item.value) for item in node.values])  # type: ignore[attr-defined]


VectorScalar = GraphQLScalarType(
    "Vector", description="An embedding of the pgvector extension: a list of floats.",
    serialize=lambda v: v, parse_value=_vector_value, parse_literal=_vector_literal)
