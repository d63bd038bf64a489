"""The filter fixture: a type over ``v_item`` (``id`` + JSONB ``data``) and ~60 tricky rows.

The values are chosen to catch wrong casts and wrong null handling:
numbers that sort differently as text (9, 10, 100, -1) and decimals equal as
numbers but not as text (19.9, 19.90, "19.90" stored as a JSON string),
strings with LIKE/escape/quote characters, mixed case and unicode, IDs that
differ only in case, timestamps that are the same instant in different
offsets, JSON null next to absent keys, and an embedded object that is
sometimes null, absent or empty.

Rows are generated, not hand-written: row ``i`` takes value ``(i * stride +
shift) % len`` of each column's list, so every value meets many others.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import uuid
from typing import Any

import fraiseql
from fraiseql import ID, JSON


@fraiseql.enum
class Kind(enum.Enum):
    """An enum whose values are not its names (and one is mixed case)."""

    ALPHA = "alpha"
    BETA = "beta"
    GAMMA = "gamma"
    DELTA = "Delta"


@fraiseql.type
class Owner:
    """An embedded object: null, absent, empty or partial in some rows."""

    name: str | None
    level: int | None
    since: datetime.date | None


@fraiseql.type(sql_source="v_item")
class Item:
    """One fixture row."""

    id: ID
    name: str | None
    count: int | None
    price: decimal.Decimal | None
    score: float | None
    ref: ID | None
    external_id: uuid.UUID | None
    happened_at: datetime.datetime | None
    day: datetime.date | None
    at_time: datetime.time | None
    active: bool | None
    kind: Kind | None
    meta: JSON | None
    owner: Owner | None


@fraiseql.query
def items(limit: int = 1000, offset: int = 0) -> list[Item]:
    """Every fixture row."""


schema = fraiseql.build_schema([items])


class Num(str):
    """A JSON number written exactly as given (19.90 stays 19.90, not a string)."""


ABSENT = object()  # the key is left out of the document

U1 = "4F1C0B8E-9A7D-4C1E-8B2A-0D3E5F6A7B8C"
U2 = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

COLUMNS: dict[str, list[Any]] = {
    "name": ["plain", "Plain", "PLAIN", "100%", "100", "a_b", "aXb", "back\\slash", "O'Reilly",
             'say "hi"', "Ünïcödé", "ünïcödé", "日本語", "emoji 👍", "", " padded ", "9", "10",
             "%_\\", "z", None, ABSENT],
    "count": [Num("9"), Num("10"), Num("100"), Num("-1"), Num("0"), Num("2147483647"),
              Num("-2147483648"), Num("11"), Num("1"), Num("99"), None, ABSENT],
    "price": [Num("19.9"), Num("19.90"), "19.90", Num("0"), Num("0.00"), Num("-0.5"),
              Num("100"), Num("9.99"), "10", Num("0.1"), Num("12345678901234567890.123456789"),
              None, ABSENT],
    "score": [Num("1.5"), Num("0.1"), Num("-2"), Num("1e-05"), Num("10"), Num("9.5"),
              Num("100.25"), Num("0.30000000000000004"), None, ABSENT],
    "ref": [U1, U1.lower(), "abc-1", "ABC-1", "Ab_%", "x'y", U2.upper(), None, ABSENT],
    "external_id": [U1, U1.lower(), U2, U2.upper(), None, ABSENT],
    "happened_at": ["2024-01-01T12:00:00+00:00", "2024-01-01T13:00:00+01:00",
                    "2024-01-01T07:00:00-05:00", "2024-01-01T12:00:00Z",
                    "2024-01-01T12:00:00.5+00:00", "2023-12-31T23:59:59+00:00",
                    "2024-01-02T00:30:00+05:30", "1999-12-31T23:00:00-01:00",
                    "2024-03-10T02:30:00+00:00", None, ABSENT],
    "day": ["2024-02-29", "2024-01-01", "2023-12-31", "2024-10-01", "2024-09-30", "0001-01-01",
            None, ABSENT],
    "at_time": ["00:00:00", "12:30:00", "23:59:59.999999", "09:05:00", "10:00:00", None,
                ABSENT],
    "active": [True, False, None, ABSENT],
    "kind": ["alpha", "beta", "gamma", "Delta", None, ABSENT],
    "meta": [{"a": 1}, [], None, "text", Num("0"), False, {}, ABSENT],
    "owner": [{"name": "Ada", "level": Num("3"), "since": "2020-05-01"},
              {"name": "ada", "level": Num("10")}, {"name": None, "level": Num("9")}, {},
              {"name": "Grace", "level": Num("100"), "since": "2021-01-01"},
              {"name": "O'Hara", "level": Num("-1"), "since": None}, None, ABSENT],
}
# Strides coprime with each list's length, so rows combine values differently.
STRIDES = {"name": 7, "count": 5, "price": 3, "score": 3, "ref": 2, "external_id": 5,
           "happened_at": 4, "day": 3, "at_time": 2, "active": 1, "kind": 5, "meta": 3,
           "owner": 3}
ROW_COUNT = 60


def row_id(index: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"fraiseql-where-fixture-{index}")


def document(index: int) -> dict[str, Any]:
    """Row ``index``'s data (JSON numbers still as :class:`Num`)."""
    doc: dict[str, Any] = {"id": str(row_id(index))}
    for shift, (column, values) in enumerate(COLUMNS.items()):
        value = values[(index * STRIDES[column] + shift) % len(values)]
        if value is not ABSENT:
            doc[column] = value
    return doc


def to_json(value: Any) -> str:
    """JSON text, writing :class:`Num` verbatim."""
    if isinstance(value, Num):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


SETUP_SQL = """
CREATE TABLE tb_item (id uuid PRIMARY KEY, data jsonb NOT NULL);
CREATE VIEW v_item AS SELECT id, data FROM tb_item;
"""

INSERT_SQL = "INSERT INTO tb_item (id, data) SELECT $1, $2::jsonb"

CHECKSUM_SQL = ("SELECT count(*)::text || ':' || coalesce(md5(string_agg(id::text || data::text, "
                "',' ORDER BY id)), '') FROM tb_item")


def fixture_rows() -> list[tuple[uuid.UUID, str]]:
    """(id, data JSON text) of every row."""
    return [(row_id(i), to_json(document(i))) for i in range(ROW_COUNT)]
