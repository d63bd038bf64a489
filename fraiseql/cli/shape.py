"""Does a view's JSON match the declared type? Pure functions, no database.

The JSON keys are the fields' snake_case Python names; each value must have a
JSON type the field's GraphQL type can be read from: a string for String, ID,
DateTime..., a number for Int and Float, an object for an embedded type, an
array for a list, null only where the field is nullable.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fraiseql.schema.model import Schema, TypeRef

INT_RANGE = range(-(2**31), 2**31)


@dataclass(frozen=True)
class Mismatch:
    """One value that does not fit: where, what the type wants, what the JSON has."""

    path: str  # Type.field[.field...], GraphQL names; [] marks a list item
    expected: str
    found: str  # a description of the value, e.g. "number 42"

    @property
    def found_kind(self) -> str:
        """The first word of ``found`` ("null", "number", ...): what reports group by."""
        return self.found.split(" ", 1)[0]


def json_kind(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def describe_value(value: Any) -> str:
    """A short description of a JSON value for a report line."""
    kind = json_kind(value)
    if kind in ("null", "object", "array"):
        return {"null": "null", "object": "an object", "array": "an array"}[kind]
    text = repr(value) if kind == "string" else str(value).lower()
    return f"{kind} {text[:40] + '...' if len(text) > 40 else text}"


def type_label(ref: TypeRef) -> str:
    """The GraphQL spelling of a type, e.g. ``[Tag!]!``."""
    inner = f"[{type_label(ref.of)}]" if ref.kind == "list" and ref.of else ref.name
    return inner if ref.nullable else inner + "!"


def mismatches(schema: Schema, value: Any, ref: TypeRef, path: str) -> Iterator[Mismatch]:
    """Every way ``value`` fails to fit ``ref``, recursing into objects and lists."""
    if value is None:
        if not ref.nullable:
            yield Mismatch(path, f"{type_label(ref)} (not null)", "null")
        return
    if ref.kind == "list":
        if not isinstance(value, list):
            yield Mismatch(path, f"{type_label(ref)} (a JSON array)", describe_value(value))
            return
        assert ref.of is not None
        for item in value:
            yield from mismatches(schema, item, ref.of, path + "[]")
    elif ref.kind in ("object", "interface"):
        yield from object_mismatches(schema, value, ref.name, path)
    elif ref.kind == "enum":
        allowed = [str(member.value) for member in ref.python]
        if not isinstance(value, str) or value not in allowed:
            yield Mismatch(path, f"{type_label(ref)}: one of {', '.join(map(repr, allowed))}",
                           describe_value(value))
    else:
        problem = _scalar_problem(ref, value)
        if problem is not None:
            yield Mismatch(path, f"{type_label(ref)} ({problem})", describe_value(value))


def object_mismatches(schema: Schema, value: Any, type_name: str,
                      path: str) -> Iterator[Mismatch]:
    """Every missing key and misfit value of an object of type ``type_name``."""
    if not isinstance(value, dict):
        yield Mismatch(path, f"{type_name} (a JSON object)", describe_value(value))
        return
    for info in schema.objects[type_name].fields.values():
        where = f"{path}.{info.graphql_name}"
        if info.python_name not in value:
            yield Mismatch(where, f"key {info.python_name!r}", "no such key")
        else:
            yield from mismatches(schema, value[info.python_name], info.type, where)


def _scalar_problem(ref: TypeRef, value: Any) -> str | None:
    """What ``value`` should have been for this scalar, or None when it fits."""
    name = ref.scalar.graphql.name if ref.scalar is not None else ref.name
    rule = _RULES.get(name)
    if rule is None:
        return None  # JSON, or a custom scalar: any JSON value will do
    wanted, fits = rule
    return None if fits(value) else wanted


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    whole = _is_number(value) and float(value).is_integer()
    return whole and int(value) in INT_RANGE


def _parses(parse: Callable[[str], Any]) -> Callable[[Any], bool]:
    def fits(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            parse(value)
        except ValueError:
            return False
        return True
    return fits


def _datetime(text: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("no time zone offset")
    return parsed


def _decimal(value: Any) -> bool:
    if _is_number(value):
        return True
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


_RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "String": ("a JSON string", _is_string),
    "ID": ("a JSON string or integer",
           lambda v: _is_string(v) or (isinstance(v, int) and not isinstance(v, bool))),
    "Int": ("a JSON integer within 32 bits", _is_int),
    "Float": ("a JSON number", _is_number),
    "Boolean": ("true or false", lambda v: isinstance(v, bool)),
    "Decimal": ("a JSON number or numeric string", _decimal),
    "DateTime": ("an ISO 8601 date-time string with an offset", _parses(_datetime)),
    "Date": ("an ISO 8601 date string", _parses(datetime.date.fromisoformat)),
    "Time": ("an ISO 8601 time string", _parses(datetime.time.fromisoformat)),
    "UUID": ("a UUID string", _parses(uuid.UUID)),
}
