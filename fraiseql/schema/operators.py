"""The operator table: one row per filter operator.

Each row says which families accept the operator, the shape of its operand,
and the SQL it becomes. The schema builder reads it to generate the
``<Scalar>Filter`` input types (an operator is advertised only where it runs),
the compiler reads it to emit SQL, and ``fraiseql.schema.operator_docs``
writes docs/filters.md from it. Extending the WHERE language means adding rows.

A family is a scalar's ``kind`` (see SCALARS), ``enum``, ``array`` (a list of
scalars: a JSONB array in data or a real array column) or ``objects`` (a list
of objects embedded in data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SCALAR_FAMILIES = frozenset({"string", "number", "boolean", "temporal", "id", "json", "enum",
                             "network", "mac", "ltree", "daterange", "fulltext", "vector"})
ALL_FAMILIES = SCALAR_FAMILIES | {"array"}
ORDERED = frozenset({"string", "number", "temporal"})
EQUATABLE = frozenset({"string", "number", "boolean", "temporal", "id", "enum", "network",
                       "mac", "ltree", "daterange"})
NETWORK = frozenset({"network"})

# Operand shapes: the GraphQL type a client writes, and the SQL type it is cast to.
OPERANDS: dict[str, tuple[str, str]] = {
    "value": ("the field's type", "the field's type"),
    "list": ("[the field's type!]", "the field's type, as an array"),
    "boolean": ("Boolean", "boolean"),
    "string": ("String", "text"),
    "strings": ("[String!]", "text[]"),
    "int": ("Int", "int4"),
    "json": ("JSON", "jsonb"),
    "date": ("Date", "date"),
    "query": ("String (with `language`)", "tsquery"),
    "language": ("TextSearchLanguage (default SIMPLE)", "regconfig"),
    "where": ("the element type's WhereInput", "a predicate on each element"),
    "distance": ("VectorDistance {vector, lt, lte, gt, gte}", "vector, float8"),
}


def escape_like(value: str) -> str:
    """A value matched literally by LIKE ... ESCAPE '\\': its wildcards escaped."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Operator:
    """A filter operator: ``sql(lhs, param, *extra)`` builds the predicate.

    ``cast`` overrides the SQL type the operand is cast to; ``convert`` rewrites
    the client's value before it is bound (e.g. escaping LIKE wildcards). An
    ``option`` row (``language``) is no predicate: it configures its siblings.
    """

    name: str
    families: frozenset[str]
    operand: str
    sql: Callable[..., str]
    description: str
    cast: str | None = None
    convert: Callable[[Any], Any] | None = None
    option: bool = False


def _like(op: str, prefix: str, suffix: str) -> tuple[Callable[..., str], Callable[[Any], Any]]:
    return (lambda a, p: f"{a} {op} {p} ESCAPE '\\'",
            lambda v: f"{prefix}{escape_like(v)}{suffix}")


def _pattern(name: str, op: str, prefix: str, suffix: str, description: str) -> Operator:
    sql, convert = _like(op, prefix, suffix)
    return Operator(name, frozenset({"string"}), "string", sql, description, convert=convert)


_PRIVATE = "'{10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7}'::inet[]"
_LOOPBACK = "'{127.0.0.0/8,::1/128}'::inet[]"
_TSQUERY = {"matches": "to_tsquery", "plainQuery": "plainto_tsquery",
            "phraseQuery": "phraseto_tsquery", "websearchQuery": "websearch_to_tsquery"}
_TSQUERY_DOC = {"matches": "to_tsquery syntax: `fat & (rat | cat)`, `sup:*`",
                "plainQuery": "plain words, all required", "phraseQuery": "words in this order",
                "websearchQuery": "web search syntax: `\"exact phrase\" -not or`"}


def _tsquery(name: str) -> Operator:
    function = _TSQUERY[name]
    return Operator(name, frozenset({"fulltext"}), "query",
                    lambda a, p, lang: f"{a} @@ {function}({lang}, {p})",
                    f"The document matches the query ({_TSQUERY_DOC[name]}).")


def _length(name: str, op: str, meaning: str) -> Operator:
    return Operator(name, frozenset({"array"}), "int",
                    lambda a, p: f"cardinality({a}) {op} {p}", f"The array has {meaning} items.")


def _depth(name: str, op: str, meaning: str) -> Operator:
    return Operator(name, frozenset({"ltree"}), "int", lambda a, p: f"nlevel({a}) {op} {p}",
                    f"The path has {meaning} labels.")


def _distance(name: str, op: str, meaning: str) -> Operator:
    return Operator(name, frozenset({"vector"}), "distance", lambda a, p: f"({a} {op} {p})",
                    f"Bounds the {meaning} to the given vector (`{op}`).")


OPERATORS: dict[str, Operator] = {op.name: op for op in [
    Operator("eq", EQUATABLE, "value", lambda a, p: f"{a} = {p}", "Equal to."),
    Operator("neq", EQUATABLE, "value", lambda a, p: f"{a} IS DISTINCT FROM {p}",
             "Not equal to (null counts as different)."),
    Operator("gt", ORDERED, "value", lambda a, p: f"{a} > {p}", "Greater than."),
    Operator("gte", ORDERED, "value", lambda a, p: f"{a} >= {p}", "Greater than or equal to."),
    Operator("lt", ORDERED, "value", lambda a, p: f"{a} < {p}", "Less than."),
    Operator("lte", ORDERED, "value", lambda a, p: f"{a} <= {p}", "Less than or equal to."),
    Operator("in", EQUATABLE, "list", lambda a, p: f"{a} = ANY({p})",
             "Equal to one of the values; an empty list matches nothing."),
    Operator("nin", EQUATABLE, "list", lambda a, p: f"NOT coalesce({a} = ANY({p}), false)",
             "Equal to none of the values (null matches); an empty list matches everything."),
    Operator("isnull", ALL_FAMILIES, "boolean", lambda a, p: f"(({a}) IS NULL) = {p}",
             "True: the value is null or absent. False: it is present."),
    # --- strings: % _ \ in the value are literal characters --------------------------------
    _pattern("contains", "LIKE", "%", "%", "Contains the text (case-sensitive)."),
    _pattern("icontains", "ILIKE", "%", "%", "Contains the text, ignoring case."),
    _pattern("startsWith", "LIKE", "", "%", "Starts with the text (case-sensitive)."),
    _pattern("istartsWith", "ILIKE", "", "%", "Starts with the text, ignoring case."),
    _pattern("endsWith", "LIKE", "%", "", "Ends with the text (case-sensitive)."),
    _pattern("iendsWith", "ILIKE", "%", "", "Ends with the text, ignoring case."),
    Operator("like", frozenset({"string"}), "string", lambda a, p: f"{a} LIKE {p}",
             "Matches a LIKE pattern (`%` any text, `_` one character)."),
    Operator("ilike", frozenset({"string"}), "string", lambda a, p: f"{a} ILIKE {p}",
             "Matches a LIKE pattern, ignoring case."),
    Operator("regex", frozenset({"string"}), "string", lambda a, p: f"{a} ~ {p}",
             "Matches a POSIX regular expression (an invalid one is BAD_USER_INPUT)."),
    Operator("iregex", frozenset({"string"}), "string", lambda a, p: f"{a} ~* {p}",
             "Matches a POSIX regular expression, ignoring case."),
    # --- arrays (items compare as the item type: numbers numerically) --------------------
    Operator("arrayContains", frozenset({"array"}), "list", lambda a, p: f"{a} @> {p}",
             "Has every one of the values."),
    Operator("containedBy", frozenset({"array"}), "list", lambda a, p: f"{a} <@ {p}",
             "Every item is one of the values (an empty array always is)."),
    Operator("arrayOverlaps", frozenset({"array"}), "list", lambda a, p: f"{a} && {p}",
             "Has at least one of the values."),
    _length("lenEq", "=", "exactly this many"),
    _length("lenGt", ">", "more than this many"),
    _length("lenGte", ">=", "at least this many"),
    _length("lenLt", "<", "fewer than this many"),
    _length("lenLte", "<=", "at most this many"),
    # --- JSON ------------------------------------------------------------------------------
    Operator("hasKey", frozenset({"json"}), "string", lambda a, p: f"{a} ? {p}",
             "The object has this top-level key (or the array this string)."),
    Operator("hasAnyKeys", frozenset({"json"}), "strings", lambda a, p: f"{a} ?| {p}",
             "The object has at least one of these top-level keys."),
    Operator("hasAllKeys", frozenset({"json"}), "strings", lambda a, p: f"{a} ?& {p}",
             "The object has all of these top-level keys."),
    Operator("jsonContains", frozenset({"json"}), "json", lambda a, p: f"{a} @> {p}",
             "Contains this JSON (`{\"a\": 1}` matches objects whose a is 1)."),
    Operator("jsonContainedBy", frozenset({"json"}), "json", lambda a, p: f"{a} <@ {p}",
             "Is contained in this JSON."),
    # --- full text ---------------------------------------------------------------------------
    Operator("language", frozenset({"fulltext"}), "language", lambda a, p: "",
             "The text search configuration the query words are parsed with.", option=True),
    *[_tsquery(name) for name in _TSQUERY],
    # --- network -----------------------------------------------------------------------------
    Operator("inSubnet", NETWORK, "value", lambda a, p: f"{a} <<= {p}",
             "Inside (or equal to) this network.", cast="inet"),
    Operator("containsSubnet", NETWORK, "value", lambda a, p: f"{a} >>= {p}",
             "Contains (or equals) this network.", cast="inet"),
    Operator("overlaps", NETWORK | {"daterange"}, "value", lambda a, p: f"{a} && {p}",
             "Shares at least one address (network) or one day (date range)."),
    Operator("isPrivate", NETWORK, "boolean",
             lambda a, p: f"({a} <<= ANY({_PRIVATE})) = {p}",
             "True: in a private range (10/8, 172.16/12, 192.168/16, fc00::/7)."),
    Operator("isLoopback", NETWORK, "boolean",
             lambda a, p: f"({a} <<= ANY({_LOOPBACK})) = {p}",
             "True: a loopback address (127/8, ::1)."),
    Operator("isIPv4", NETWORK, "boolean", lambda a, p: f"(family({a}) = 4) = {p}",
             "True: an IPv4 address."),
    Operator("isIPv6", NETWORK, "boolean", lambda a, p: f"(family({a}) = 6) = {p}",
             "True: an IPv6 address."),
    # --- ltree -------------------------------------------------------------------------------
    Operator("ancestorOf", frozenset({"ltree"}), "value", lambda a, p: f"{a} @> {p}",
             "An ancestor of (or equal to) this path."),
    Operator("descendantOf", frozenset({"ltree"}), "value", lambda a, p: f"{a} <@ {p}",
             "A descendant of (or equal to) this path."),
    Operator("matchesLquery", frozenset({"ltree"}), "string", lambda a, p: f"{a} ~ {p}",
             "Matches an lquery pattern, e.g. `*.physics.*`.", cast="lquery"),
    Operator("matchesLtxtquery", frozenset({"ltree"}), "string", lambda a, p: f"{a} @ {p}",
             "Matches an ltxtquery, e.g. `physics & !chemistry`.", cast="ltxtquery"),
    _depth("depthEq", "=", "exactly this many"),
    _depth("depthGt", ">", "more than this many"),
    _depth("depthLt", "<", "fewer than this many"),
    # --- date ranges -----------------------------------------------------------------------
    Operator("rangeContains", frozenset({"daterange"}), "value", lambda a, p: f"{a} @> {p}",
             "Contains this whole range."),
    Operator("containsDate", frozenset({"daterange"}), "date", lambda a, p: f"{a} @> {p}",
             "Contains this date."),
    Operator("adjacent", frozenset({"daterange"}), "value", lambda a, p: f"{a} -|- {p}",
             "Touches this range without overlapping it."),
    Operator("strictlyLeft", frozenset({"daterange"}), "value", lambda a, p: f"{a} << {p}",
             "Ends before this range starts."),
    Operator("strictlyRight", frozenset({"daterange"}), "value", lambda a, p: f"{a} >> {p}",
             "Starts after this range ends."),
    # --- vectors (pgvector) ------------------------------------------------------------------
    _distance("cosineDistance", "<=>", "cosine distance"),
    _distance("l2Distance", "<->", "Euclidean (L2) distance"),
    _distance("innerProduct", "<#>", "negative inner product"),
    # --- embedded lists of objects -----------------------------------------------------------
    Operator("any", frozenset({"objects"}), "where",
             lambda a, p, e: f"EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN "
                             f"jsonb_typeof({a}) = 'array' THEN {a} END) AS {e}(value) "
                             f"WHERE {p})",
             "At least one element matches this filter."),
    Operator("isEmpty", frozenset({"objects"}), "boolean",
             lambda a, p: f"(coalesce(jsonb_array_length(CASE WHEN jsonb_typeof({a}) = "
                          f"'array' THEN {a} END), 0) = 0) = {p}",
             "True: the list is empty, null or absent."),
]}

# Several operators share a GraphQL name across families (``contains`` is a
# substring for strings, containment for arrays, JSON and ranges): the table keys
# are unique, the name a client writes is ``graphql_name``.
GRAPHQL_NAMES = {"arrayContains": "contains", "arrayOverlaps": "overlaps",
                 "jsonContains": "contains", "jsonContainedBy": "containedBy",
                 "rangeContains": "contains"}


def graphql_name(op: Operator) -> str:
    """The name of the operator's field in a filter input type."""
    return GRAPHQL_NAMES.get(op.name, op.name)


def operators_for(family: str) -> list[Operator]:
    """The operators a family supports, in table order."""
    return [op for op in OPERATORS.values() if family in op.families]


def operator_named(family: str, name: str) -> Operator:
    """The operator a filter field ``name`` of ``family`` means."""
    for op in operators_for(family):
        if graphql_name(op) == name:
            return op
    raise KeyError(f"no operator {name!r} for {family}")
