"""A plain-Python model of FraiseQL's ``where``: what rows a filter tree should select.

Written from the documented semantics, not from the compiler: SQL three-valued
logic (a comparison with null is *unknown*, which is not a match, and ``_not``
of unknown stays unknown), ``neq`` and ``nin`` count null as different,
``isnull`` is true for null and absent keys alike, numbers compare as numbers,
IDs case-insensitively, timestamps as instants.

Adding an operator to fraiseql/schema/operators.py means adding one entry to
:data:`EVALUATORS` (test_where_properties checks that every family an
operator supports has one).
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fraiseql.schema.model import FieldInfo, ObjectInfo
from fraiseql.schema.operators import OPERATORS, graphql_name, operators_for
from tests.property import pg_semantics as pg

Truth = bool | None  # None: SQL's unknown


@dataclass(frozen=True)
class Evaluator:
    """How one operator decides a row: ``test(value, operand)`` on normalized values.

    ``value`` is None for a null or absent field; ``operand`` is already
    normalized like the value (a list of them for list operands).
    """

    families: frozenset[str]
    test: Callable[[Any, Any], Truth]


def _unknown_on_null(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Truth]:
    return lambda value, operand: None if value is None else compare(value, operand)


def _any(value: Any, operands: list[Any]) -> Truth:
    # SQL `x = ANY(array)`: false for an empty array (even when x is null), else unknown on null.
    if not operands:
        return False
    return None if value is None else value in operands


EQUATABLE = frozenset({"string", "number", "boolean", "temporal", "id", "enum", "network",
                       "mac", "ltree", "daterange"})
ORDERED = frozenset({"string", "number", "temporal"})
EVERY_FAMILY = EQUATABLE | {"json", "array", "fulltext", "vector"}


def _pattern(test: Callable[[str, str], bool]) -> Evaluator:
    return Evaluator(frozenset({"string"}), _unknown_on_null(test))


def _lower(test: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
    return lambda v, o: test(pg.pg_lower(v), pg.pg_lower(o))


def _contains(items: list[Any], wanted: Any) -> bool:
    return any(item is not None and item == wanted for item in items)


def _array(test: Callable[[list[Any], Any], bool]) -> Evaluator:
    return Evaluator(frozenset({"array"}), _unknown_on_null(test))


def _json(test: Callable[[Any, Any], bool]) -> Evaluator:
    return Evaluator(frozenset({"json"}), _unknown_on_null(lambda v, o: test(pg.jsonb(v), o)))


def _network(test: Callable[[Any, Any], bool]) -> Evaluator:
    return Evaluator(frozenset({"network"}), _unknown_on_null(test))


def _ltree(test: Callable[[tuple[str, ...], Any], bool]) -> Evaluator:
    return Evaluator(frozenset({"ltree"}), _unknown_on_null(test))


def _range(test: Callable[[pg.DateRange, Any], bool]) -> Evaluator:
    return Evaluator(frozenset({"daterange"}), _unknown_on_null(test))


def _distance(name: str) -> Evaluator:
    """``(x <op> vector) < lt AND ...`` for each bound given."""
    def test(value: list[float], operand: dict[str, Any]) -> bool:
        distance = pg.DISTANCES[name](value, operand["vector"])
        return all(BOUNDS[key](distance, bound) for key, bound in operand.items()
                   if key != "vector")
    return Evaluator(frozenset({"vector"}), _unknown_on_null(test))


BOUNDS: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda d, b: d < b, "lte": lambda d, b: d <= b,
    "gt": lambda d, b: d > b, "gte": lambda d, b: d >= b}

EVALUATORS: dict[str, Evaluator] = {
    "eq": Evaluator(EQUATABLE, _unknown_on_null(lambda v, o: bool(v == o))),
    "neq": Evaluator(EQUATABLE, lambda v, o: v is None or bool(v != o)),
    "gt": Evaluator(ORDERED, _unknown_on_null(lambda v, o: bool(v > o))),
    "gte": Evaluator(ORDERED, _unknown_on_null(lambda v, o: bool(v >= o))),
    "lt": Evaluator(ORDERED, _unknown_on_null(lambda v, o: bool(v < o))),
    "lte": Evaluator(ORDERED, _unknown_on_null(lambda v, o: bool(v <= o))),
    "in": Evaluator(EQUATABLE, _any),
    "nin": Evaluator(EQUATABLE, lambda v, o: _any(v, o) is not True),
    "isnull": Evaluator(EVERY_FAMILY, lambda v, o: (v is None) == o),
    # strings: the operand is literal text (its % _ \ match themselves)
    "contains": _pattern(lambda v, o: o in v),
    "icontains": _pattern(_lower(lambda v, o: o in v)),
    "startsWith": _pattern(lambda v, o: v.startswith(o)),
    "istartsWith": _pattern(_lower(lambda v, o: v.startswith(o))),
    "endsWith": _pattern(lambda v, o: v.endswith(o)),
    "iendsWith": _pattern(_lower(lambda v, o: v.endswith(o))),
    "like": _pattern(lambda v, o: pg.like(v, o)),
    "ilike": _pattern(lambda v, o: pg.like(v, o, ignore_case=True)),
    "regex": _pattern(lambda v, o: pg.safe_regex(o, False).search(v) is not None),
    "iregex": _pattern(lambda v, o: pg.safe_regex(o, True).search(v) is not None),
    # lists of scalars: a null item equals nothing, so it never lets containedBy hold
    "arrayContains": _array(lambda v, o: all(_contains(v, wanted) for wanted in o)),
    "containedBy": _array(lambda v, o: all(item is not None and item in o for item in v)),
    "arrayOverlaps": _array(lambda v, o: any(_contains(v, wanted) for wanted in o)),
    "lenEq": _array(lambda v, o: len(v) == o),
    "lenGt": _array(lambda v, o: len(v) > o),
    "lenGte": _array(lambda v, o: len(v) >= o),
    "lenLt": _array(lambda v, o: len(v) < o),
    "lenLte": _array(lambda v, o: len(v) <= o),
    # JSON
    "hasKey": _json(pg.jsonb_has_key),
    "hasAnyKeys": _json(lambda v, o: any(pg.jsonb_has_key(v, key) for key in o)),
    "hasAllKeys": _json(lambda v, o: all(pg.jsonb_has_key(v, key) for key in o)),
    "jsonContains": _json(pg.jsonb_contains),
    "jsonContainedBy": _json(lambda v, o: pg.jsonb_contains(o, v)),
    # full text: `language` is no predicate, it only configures the queries beside it
    "language": Evaluator(frozenset({"fulltext"}), lambda v, o: True),
    # network
    "inSubnet": _network(pg.inside),
    "containsSubnet": _network(lambda v, o: pg.inside(o, v)),
    "isPrivate": _network(lambda v, o: pg.inside_any(v, pg.PRIVATE) == o),
    "isLoopback": _network(lambda v, o: pg.inside_any(v, pg.LOOPBACK) == o),
    "isIPv4": _network(lambda v, o: (v.version == 4) == o),
    "isIPv6": _network(lambda v, o: (v.version == 6) == o),
    "overlaps": Evaluator(frozenset({"network", "daterange"}), _unknown_on_null(
        lambda v, o: pg.range_overlaps(v, o) if isinstance(v, pg.DateRange)
        else pg.inside(v, o) or pg.inside(o, v))),
    # ltree: a path is its own ancestor and descendant
    "ancestorOf": _ltree(lambda v, o: o[:len(v)] == v),
    "descendantOf": _ltree(lambda v, o: v[:len(o)] == o),
    "depthEq": _ltree(lambda v, o: len(v) == o),
    "depthGt": _ltree(lambda v, o: len(v) > o),
    "depthLt": _ltree(lambda v, o: len(v) < o),
    # date ranges, canonical [lower, upper)
    "rangeContains": _range(pg.range_contains),
    "containsDate": _range(lambda v, o: v.holds(o.toordinal())),
    "adjacent": _range(pg.range_adjacent),
    "strictlyLeft": _range(pg.strictly_left),
    "strictlyRight": _range(lambda v, o: pg.strictly_left(o, v)),
    # vectors
    **{name: _distance(name) for name in pg.DISTANCES},
    # embedded lists of objects: `value` is each element's truth (any) or the list (isEmpty)
    "any": Evaluator(frozenset({"objects"}), lambda truths, o: True in truths),
    "isEmpty": Evaluator(frozenset({"objects"}), lambda items, o: (not items) == o),
}

# (operator, family) pairs the model does not evaluate: their semantics is PostgreSQL's own
# grammar. tests/integration/test_filters.py covers each with hand-computed cases.
NOT_EVALUATED: dict[tuple[str, str], str] = {
    ("matchesLquery", "ltree"): "lquery pattern language (labels, *, {n,m}, @ % | !)",
    ("matchesLtxtquery", "ltree"): "ltxtquery boolean word search over labels",
    ("matches", "fulltext"): "to_tsquery parsing, stemming and ranking of a configuration",
    ("plainQuery", "fulltext"): "plainto_tsquery parsing and stemming",
    ("phraseQuery", "fulltext"): "phraseto_tsquery parsing, stemming and word positions",
    ("websearchQuery", "fulltext"): "websearch_to_tsquery parsing and stemming",
}


# --- values: a JSON value or a GraphQL operand -> the Python value compared ------------------


def _text(value: Any) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: BAD_USER_INPUT, not "no match"
        raise ValueError("text with NUL")
    return str(value)


# PostgreSQL's uuid input: 32 hex digits, a hyphen allowed after any group of four, and
# optionally wrapped in braces (Python's uuid.UUID is laxer: lone braces, underscores, urn:).
_HEX32 = r"[0-9a-fA-F]{4}(-?[0-9a-fA-F]{4}){7}"
_PG_UUID = re.compile(rf"{_HEX32}|\{{{_HEX32}\}}")


def uuid_column_text(value: Any) -> uuid.UUID:
    """An operand compared with a uuid column, as PostgreSQL casts it."""
    if not _PG_UUID.fullmatch(value):
        raise ValueError(f"not a uuid: {value!r}")
    return uuid.UUID(value)


def _datetime(text: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:  # DateTime is documented as "with a time zone offset"
        raise ValueError(f"no offset: {text!r}")
    return parsed


NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    "String": _text,
    "Int": lambda v: decimal.Decimal(str(v)),
    "Float": lambda v: decimal.Decimal(str(v)),
    "Decimal": lambda v: decimal.Decimal(str(v)),
    "Boolean": bool,
    "ID": lambda v: _text(v).lower(),
    "UUID": uuid.UUID,
    "DateTime": _datetime,
    "Date": datetime.date.fromisoformat,
    "Time": datetime.time.fromisoformat,
    "JSON": lambda v: v,
    "IPAddress": pg.inet,
    "CIDR": pg.cidr,
    "MacAddress": pg.macaddr,
    "LTree": pg.ltree,
    "DateRange": pg.daterange,
    "TSVector": _text,
    "Vector": lambda v: [float(x) for x in v],
}


@dataclass(frozen=True)
class Leaf:
    """A filterable scalar field: where it sits and how its values compare."""

    path: tuple[str, ...]  # GraphQL names from the root, e.g. ("owner", "name")
    json_path: tuple[str, ...]  # the keys in the JSONB document, e.g. ("owner", "name")
    field: FieldInfo
    family: str
    # The id is a real uuid column of the view, compared as uuid (not as lowered text).
    real_uuid_column: bool = False
    # For a field of the elements of an embedded list: the list's keys from the root
    # (json_path is then relative to one element).
    elements_at: tuple[str, ...] | None = None

    @property
    def type_name(self) -> str:
        """The scalar's name (the item's, for a list of scalars)."""
        return self.field.type.named().name

    def value(self, raw: Any) -> Any:
        """A stored JSON value, normalized (None stays None)."""
        if self.family == "array":
            # Not an array reads as null; a JSON null item is a null item.
            return [None if item is None else self._normalize(item) for item in raw] \
                if isinstance(raw, list) else None
        if raw is None:
            return None
        if self.field.type.kind == "enum":
            return raw  # stored as the enum's value
        return self._normalize(raw)

    def operand(self, raw: Any) -> Any:
        """A GraphQL operand (a variable's JSON value), normalized; raises if invalid."""
        if self.field.type.kind == "enum":
            return self.field.type.python[raw].value  # operands are enum names
        return self._normalize(raw)

    def _normalize(self, raw: Any) -> Any:
        if self.real_uuid_column:
            return uuid_column_text(raw)
        return NORMALIZERS[self.type_name](raw)


def leaves(schema: Any, obj: ObjectInfo, columns: Iterable[str] = (),
           prefix: tuple[str, ...] = (), json_prefix: tuple[str, ...] = (),
           elements_at: tuple[str, ...] | None = None) -> list[Leaf]:
    """Every scalar/enum/list-of-scalars field of ``obj``, its embedded objects and lists.

    The fields of a list's elements sit under ``(..., list, "any")``, the path of
    their filter in a where tree.
    """
    columns = frozenset(columns)
    found: list[Leaf] = []
    for name, f in obj.fields.items():
        kind, named = f.type.kind, f.type.named()
        if kind == "object":
            found += leaves(schema, schema.objects[f.type.name], (), (*prefix, name),
                            (*json_prefix, f.python_name), elements_at)
        elif kind == "list" and named.kind == "object":
            found += leaves(schema, schema.objects[named.name], (), (*prefix, name, "any"), (),
                            (*(elements_at or ()), *json_prefix, f.python_name))
        elif kind in ("scalar", "enum", "list"):
            family = "array" if kind == "list" else "enum" if kind == "enum" \
                else f.type.scalar.kind  # type: ignore[union-attr]
            found.append(Leaf((*prefix, name), (*json_prefix, f.python_name), f, family,
                              real_uuid_column=not prefix and f.python_name in columns,
                              elements_at=elements_at))
    return found


def dig(doc: dict[str, Any], json_path: tuple[str, ...]) -> Any:
    """The value at ``json_path`` (None if null or absent on the way)."""
    value: Any = doc
    for key in json_path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


# --- the tree ------------------------------------------------------------------------------


def all_of(truths: Iterable[Truth]) -> Truth:
    values = list(truths)
    if False in values:
        return False
    return None if None in values else True


def any_of(truths: Iterable[Truth]) -> Truth:
    values = list(truths)
    if True in values:
        return True
    return None if None in values else False


def negate(truth: Truth) -> Truth:
    return None if truth is None else not truth


class WhereModel:
    """Evaluates a ``where`` tree (GraphQL names, variable values) over JSON documents."""

    def __init__(self, schema: Any, root: ObjectInfo, real_columns: Iterable[str]) -> None:
        self.schema, self.root = schema, root
        self.leaves = {leaf.path: leaf for leaf in leaves(schema, root, real_columns)}

    def matches(self, where: dict[str, Any], doc: dict[str, Any]) -> bool:
        return self._tree(where, self.root, doc, ()) is True

    def _tree(self, where: dict[str, Any], obj: ObjectInfo, doc: dict[str, Any],
              prefix: tuple[str, ...]) -> Truth:
        return all_of(self._entry(key, value, obj, doc, prefix) for key, value in where.items())

    def _entry(self, key: str, value: Any, obj: ObjectInfo, doc: dict[str, Any],
               prefix: tuple[str, ...]) -> Truth:
        if key == "_and":
            return all_of(self._tree(item, obj, doc, prefix) for item in value)
        if key == "_or":
            return any_of(self._tree(item, obj, doc, prefix) for item in value)
        if key == "_not":
            return negate(self._tree(value, obj, doc, prefix))
        f = obj.fields[key]
        if f.type.kind == "object":
            nested = doc.get(f.python_name)
            return self._tree(value, self.schema.objects[f.type.name],
                              nested if isinstance(nested, dict) else {}, (*prefix, key))
        if f.type.kind == "list" and f.type.named().kind == "object":
            return self._elements(value, f, doc, (*prefix, key))
        leaf = self.leaves[(*prefix, key)]
        stored = leaf.value(doc.get(f.python_name))
        return all_of(self._operator(leaf, name, operand, stored)
                      for name, operand in value.items())

    def _elements(self, filters: dict[str, Any], f: FieldInfo, doc: dict[str, Any],
                  path: tuple[str, ...]) -> Truth:
        """``any``/``isEmpty`` over an embedded list (not a list: no elements)."""
        items = doc.get(f.python_name)
        items = items if isinstance(items, list) else []
        element = self.schema.objects[f.type.named().name]
        truths: list[Truth] = []
        for name, operand in filters.items():
            if name == "any":  # a non-object element has no fields: all of them null
                truths.append(EVALUATORS["any"].test(
                    [self._tree(operand, element, item if isinstance(item, dict) else {},
                                (*path, "any")) for item in items], None))
            else:
                truths.append(EVALUATORS[name].test(items, bool(operand)))
        return all_of(truths)

    def _operator(self, leaf: Leaf, name: str, operand: Any, stored: Any) -> Truth:
        if (name, leaf.family) in NOT_EVALUATED:
            raise pg.NotModelled(f"{name} on {leaf.family}: {NOT_EVALUATED[name, leaf.family]}")
        key = next(op.name for op in operators_for(leaf.family) if graphql_name(op) == name)
        return EVALUATORS[key].test(stored, self._operand(leaf, OPERATORS[key].operand, operand))

    @staticmethod
    def _operand(leaf: Leaf, shape: str, operand: Any) -> Any:
        """A GraphQL operand of ``shape`` normalized like the values it meets."""
        if shape == "list":
            return [leaf.operand(item) for item in operand]
        if shape == "boolean":
            return bool(operand)
        if shape == "string":
            return _text(operand)
        if shape == "strings":
            return [_text(item) for item in operand]
        if shape == "int":
            return int(operand)
        if shape == "json":
            return pg.jsonb(operand)
        if shape == "date":
            return datetime.date.fromisoformat(operand)
        if shape == "distance":
            return {key: [float(x) for x in bound] if key == "vector" else float(bound)
                    for key, bound in operand.items()}
        if shape == "language":
            return operand
        return leaf.operand(operand)
