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
from fraiseql.schema.operators import OPERATORS

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


EQUATABLE = frozenset({"string", "number", "boolean", "temporal", "id", "enum"})
ORDERED = frozenset({"string", "number", "temporal"})

EVALUATORS: dict[str, Evaluator] = {
    "eq": Evaluator(EQUATABLE, _unknown_on_null(lambda v, o: bool(v == o))),
    "neq": Evaluator(EQUATABLE, lambda v, o: v is None or bool(v != o)),
    "gt": Evaluator(ORDERED, _unknown_on_null(lambda v, o: bool(v > o))),
    "gte": Evaluator(ORDERED, _unknown_on_null(lambda v, o: bool(v >= o))),
    "lt": Evaluator(ORDERED, _unknown_on_null(lambda v, o: bool(v < o))),
    "lte": Evaluator(ORDERED, _unknown_on_null(lambda v, o: bool(v <= o))),
    "in": Evaluator(EQUATABLE, _any),
    "nin": Evaluator(EQUATABLE, lambda v, o: _any(v, o) is not True),
    "isnull": Evaluator(EQUATABLE | {"json"}, lambda v, o: (v is None) == o),
}

# (operator, family) pairs the operator table offers that this model does not evaluate yet.
NOT_EVALUATED: frozenset[tuple[str, str]] = frozenset()


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

    @property
    def type_name(self) -> str:
        return self.field.type.name

    def value(self, raw: Any) -> Any:
        """A stored JSON value, normalized (None stays None)."""
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
           prefix: tuple[str, ...] = (), json_prefix: tuple[str, ...] = ()) -> list[Leaf]:
    """Every scalar/enum field of ``obj`` and of its embedded objects."""
    columns = frozenset(columns)
    found: list[Leaf] = []
    for name, f in obj.fields.items():
        if f.type.kind == "object":
            found += leaves(schema, schema.objects[f.type.name], (), (*prefix, name),
                            (*json_prefix, f.python_name))
        elif f.type.kind in ("scalar", "enum"):
            family = "enum" if f.type.kind == "enum" else f.type.scalar.kind  # type: ignore[union-attr]
            found.append(Leaf((*prefix, name), (*json_prefix, f.python_name), f, family,
                              real_uuid_column=not prefix and f.python_name in columns))
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
        leaf = self.leaves[(*prefix, key)]
        stored = leaf.value(doc.get(f.python_name))
        return all_of(self._operator(leaf, name, operand, stored)
                      for name, operand in value.items())

    def _operator(self, leaf: Leaf, name: str, operand: Any, stored: Any) -> Truth:
        shape = OPERATORS[name].operand
        if shape == "list":
            normalized: Any = [leaf.operand(item) for item in operand]
        elif shape == "boolean":
            normalized = bool(operand)
        else:
            normalized = leaf.operand(operand)
        return EVALUATORS[name].test(stored, normalized)
