"""Keyset cursors: a row's sort-key values as an opaque string, and predicates on them.

A cursor is base64 of the JSON array ``[fingerprint, key 1, ..., key n]`` built in
SQL from the row's sort-key values (the last key is the id tiebreak, so the values
name exactly one position). The fingerprint hashes the root field and the orderBy
it was made for: a cursor from another orderBy, or one whose text was changed into
something that does not decode to values of the keys' types, is BAD_USER_INPUT.
(A cursor is a position, not a capability: a well-formed edited cursor is just
another position, as a ``where`` on the sort keys would be.)
"""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from fraiseql.compiler.context import bad_input
from fraiseql.compiler.order import SortKey
from fraiseql.compiler.sql import literal

_NUMBERS = ("numeric", "int2", "int4", "int8", "float4", "float8")


def fingerprint(root_name: str, keys: list[SortKey]) -> str:
    """A short hash of the ordering a cursor belongs to."""
    spec = root_name + "|" + ",".join(key.spec() for key in keys)
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def cursor_sql(fp: str, values: list[str]) -> str:
    """SQL text of the cursor of a row whose sort-key values are the expressions ``values``."""
    payload = f"json_build_array({literal(fp)}, {', '.join(values)})::text"
    # encode() wraps base64 at 76 characters; a cursor is one line.
    return f"translate(encode(convert_to({payload}, 'UTF8'), 'base64'), E'\\n', '')"


def decoder(fp: str, keys: list[SortKey], argument: str) -> Callable[[Any], list[str | None]]:
    """cursor -> the key values as the text bound to each key's parameter."""
    problem = f"{argument} is not a cursor of this connection and orderBy"
    # Each sort key's parameter decodes the same cursor when a request is bound: keep the
    # last answer so one request decodes it once (binding never awaits in between).
    last: list[Any] = [None, None]

    def decode(cursor: Any) -> list[str | None]:
        if last[0] is not None and cursor == last[0]:
            return last[1]  # type: ignore[no-any-return]
        last[1] = _decode(cursor)
        last[0] = cursor
        return last[1]  # type: ignore[no-any-return]

    def _decode(cursor: Any) -> list[str | None]:
        try:
            raw = base64.b64decode(str(cursor).encode("ascii"), validate=True)
            values = json.loads(raw.decode("utf-8"), parse_float=decimal.Decimal,
                                parse_int=decimal.Decimal, parse_constant=_refuse)
        except (ValueError, UnicodeError, binascii.Error):
            raise bad_input(problem) from None
        if not isinstance(values, list) or len(values) != len(keys) + 1 or values[0] != fp:
            raise bad_input(problem)
        return [_as_text(value, key, problem) for value, key in zip(values[1:], keys, strict=True)]

    return decode


def _refuse(_constant: str) -> Any:
    raise ValueError("NaN and Infinity are not cursor values")


def _as_text(value: Any, key: SortKey, problem: str) -> str | None:
    """One decoded key value, checked against the key's type."""
    if value is None:
        if key.nullable:
            return None
        raise bad_input(problem)
    if key.cast in _NUMBERS:
        if isinstance(value, decimal.Decimal) and value.is_finite():
            return str(value)
    elif key.cast == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
    elif isinstance(value, str):
        if key.cast != "uuid":
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise bad_input(problem)


def after_sql(keys: list[SortKey], values: list[str], inclusive: bool = False) -> str:
    """Rows after (or, ``inclusive``, at or after) the position ``values`` in ``keys``' order.

    Keys that are all non-null and go one way compare as one row, which an index on
    them serves directly. Otherwise the lexicographic expansion, null-aware, with the
    first key's own bound in front when it is non-null so an index on it can still
    narrow the scan.
    """
    if all(not k.nullable for k in keys) and len({k.descending for k in keys}) == 1:
        op = ("<" if keys[0].descending else ">") + ("=" if inclusive else "")
        if len(keys) == 1:
            return f"{keys[0].expr} {op} {values[0]}"
        return f"({', '.join(k.expr for k in keys)}) {op} ({', '.join(values)})"
    terms = []
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        terms.append(_all([*(_equal(k, v) for k, v in zip(keys[:i], values[:i], strict=True)),
                           _beyond(key, value)]))
    if inclusive:
        terms.append(_all([_equal(k, v) for k, v in zip(keys, values, strict=True)]))
    predicate = "(" + " OR ".join(terms) + ")"
    first = keys[0]
    if not first.nullable:
        bound = "<=" if first.descending else ">="
        predicate = f"({first.expr} {bound} {values[0]} AND {predicate})"
    return predicate


def _beyond(key: SortKey, value: str) -> str:
    """Strictly after ``value`` on this key alone, nulls placed as the key says."""
    compare = f"{key.expr} {'<' if key.descending else '>'} {value}"
    if not key.nullable:
        return compare
    if key.nulls_first:  # after a null come the values; after a value, greater values
        return f"(({value} IS NULL AND {key.expr} IS NOT NULL) OR {compare})"
    # nulls last: nothing comes after a null; after a value, greater values and the nulls
    return f"({value} IS NOT NULL AND ({compare} OR {key.expr} IS NULL))"


def _equal(key: SortKey, value: str) -> str:
    return f"{key.expr} IS NOT DISTINCT FROM {value}" if key.nullable else f"{key.expr} = {value}"


def _all(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"
