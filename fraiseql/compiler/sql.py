"""The one chokepoint for SQL text: identifiers, literals and bound parameters.

Identifiers come only from the schema (never from a client) and still pass a
validating regular expression before being double-quoted. Client values never
enter SQL text: they become ``$n`` parameters, bound as text and cast in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
# Output of a non-null violation or an unknown enum value: control characters
# that cannot occur in a realistic value, found in the response with one search.
SENTINEL_PREFIX = "\x01\x02fraiseql:"
SENTINEL_BYTES = b'"\\u0001\\u0002fraiseql:'


def ident(name: str) -> str:
    """A quoted SQL identifier, or qualified name ``schema.name``."""
    parts = name.split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"not a valid SQL identifier: {name!r}")
    return ".".join(f'"{p}"' for p in parts)


def literal(text: str) -> str:
    """A SQL string literal for schema-derived text (JSON keys, type names)."""
    if "\x00" in text:
        raise ValueError("NUL in a SQL literal")
    if any(ord(ch) < 32 for ch in text):
        return "E'" + "".join(
            f"\\u{ord(ch):04x}" if ord(ch) < 32 else ("\\\\" if ch == "\\" else
                                                      ("''" if ch == "'" else ch))
            for ch in text) + "'"
    return "'" + text.replace("'", "''") + "'"


def sentinel(kind: str) -> str:
    """The SQL text literal marking a field error of ``kind`` ("null", "enum")."""
    return literal(SENTINEL_PREFIX + kind) + "::text"


# How a Python value becomes the text bound to a parameter (cast in SQL).
Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class ParamSource:
    """Where a parameter's value comes from at bind time."""

    node: int  # index into the plan's argument sites (-1: a constant)
    path: tuple[str | int, ...]  # keys into that site's coerced argument values
    convert: Converter
    constant: Any = None
    context_key: str | None = None  # read from the request context instead
    rule: Any = None  # an authz Rule: bound 'true' when the caller satisfies it


@dataclass
class Params:
    """Collects ``$n`` parameters while compiling one statement."""

    sources: list[ParamSource] = field(default_factory=list)
    # Placeholders a statement reads more than once (the tenant), by what they hold.
    shared: dict[str, str] = field(default_factory=dict)

    def add(self, source: ParamSource, sql_type: str = "text") -> str:
        """Register a parameter; returns its placeholder cast to ``sql_type``."""
        self.sources.append(source)
        return f"${len(self.sources)}::{sql_type}"
