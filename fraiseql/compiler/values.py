"""Python argument values -> the text bound to a SQL parameter."""

from __future__ import annotations

import enum
from typing import Any

import orjson


def to_text(value: Any) -> str:
    """One scalar value as the text PostgreSQL casts to the compared type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, enum.Enum):
        return str(value.value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def to_lower_text(value: Any) -> str:
    """Text for a case-insensitive identifier comparison."""
    return to_text(value).lower()


def text_list(convert: Any) -> Any:
    """Lift a scalar converter to a list of values."""
    return lambda values: [convert(v) for v in values]


def bounded(name: str, low: int, high: int | None) -> Any:
    """A converter that checks a page argument on every request, cached plan or not."""
    def check(value: Any) -> Any:
        if value < low or (high is not None and value > high):
            from fraiseql.compiler.context import bad_input
            upper = f" and {high}" if high is not None else ""
            raise bad_input(f"{name} must be between {low}{upper}, got {value}"
                            if high is not None else f"{name} must not be negative, got {value}")
        return value
    return check
