"""Turn sentinels in SQL-built JSON into GraphQL field errors with null propagation.

Runs only when the response contains a sentinel (one byte search decides), so
the common path never decodes the JSON. Per the GraphQL spec, a null in a
non-null position is an error at that path, and the null spreads to the
nearest nullable parent.
"""

from __future__ import annotations

from typing import Any

import orjson

from fraiseql.compiler.plan import ListShape, Shape
from fraiseql.compiler.sql import SENTINEL_PREFIX

_MESSAGES = {
    "null": "Cannot return null for non-nullable field.",
    "enum": "The database returned a value that is not in the enum.",
}


class _Violation(Exception):
    """Null could not be placed here; the parent must absorb it."""


def repair(raw: bytes, shape: Shape, nullable: bool, path: list[str | int],
           errors: list[dict[str, Any]]) -> bytes | None:
    """Repaired JSON for one root value (None: the root itself became null)."""
    value = orjson.loads(raw)
    try:
        fixed = _walk(value, shape, nullable, path, errors)
    except _Violation:
        return None
    return orjson.dumps(fixed)


def _walk(value: Any, shape: Shape, nullable: bool, path: list[str | int],
          errors: list[dict[str, Any]]) -> Any:
    is_sentinel = isinstance(value, str) and value.startswith(SENTINEL_PREFIX)
    if is_sentinel or (value is None and not nullable):
        kind = value[len(SENTINEL_PREFIX):] if is_sentinel else "null"
        errors.append({"message": _MESSAGES.get(kind, "Invalid value."), "path": list(path),
                       "extensions": {"code": "INTERNAL_SERVER_ERROR"}})
        return _null(nullable)
    try:
        if isinstance(shape, ListShape) and isinstance(value, list):
            return [_walk(item, shape.item, shape.item_nullable, [*path, i], errors)
                    for i, item in enumerate(value)]
        if isinstance(shape, dict) and isinstance(value, dict):
            return {key: _walk(item, *_child(shape, key), [*path, key], errors)
                    for key, item in value.items()}
    except _Violation:
        return _null(nullable)
    return value


def _child(shape: dict[str, tuple[bool, Any]], key: str) -> tuple[Any, bool]:
    nullable, sub = shape.get(key, (True, None))
    return sub, nullable


def _null(nullable: bool) -> None:
    if not nullable:
        raise _Violation
    return None
