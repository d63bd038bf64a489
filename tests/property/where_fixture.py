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
from fraiseql import CIDR, ID, JSON, DateRange, IPAddress, LTree, MacAddress, TSVector, Vector


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


@fraiseql.type
class Comment:
    """An element of an embedded list (some elements are null, empty or not objects)."""

    body: str | None
    score: int | None


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
    tags: list[str] | None
    numbers: list[int] | None
    attrs: JSON | None
    ip: IPAddress | None
    net: CIDR | None
    mac: MacAddress | None
    path: LTree | None
    period: DateRange | None
    embedding: Vector | None
    search: TSVector | None
    comments: list[Comment] | None


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
    # Lists of scalars: duplicates, a null item, case variants, LIKE characters, numbers
    # spelled 10.0 or "10", and a value that is not an array at all (reads as null).
    "tags": [["a", "b"], [], ["B", "a"], ["a", "a"], ["%", "_"], ["plain", "Plain"],
             ["", "ü"], [None, "a"], "a", None, ABSENT],
    "numbers": [[Num("1"), Num("10")], [], [Num("10.0"), Num("9")], [Num("2147483647")],
                [Num("-1"), Num("0"), Num("1")], ["10"], [Num("1.5"), Num("100")], [None],
                Num("5"), None, ABSENT],
    # JSON of every shape: numbers equal as numbers (1, 1.0) but not as strings ("1").
    "attrs": [{"a": Num("1"), "b": {"c": [Num("1"), Num("2")]}}, {"a": Num("1.0")}, {"a": "1"},
              {"tags": ["x", "y"], "n": None}, ["a", "b", Num("1")],
              [{"a": Num("1")}, [Num("2")]], [], {}, "a", Num("1"), True, None, ABSENT],
    # Addresses with and without a prefix, IPv4 and IPv6, private, loopback, public.
    "ip": ["10.1.2.3", "192.168.1.1", "172.16.5.4", "8.8.8.8", "127.0.0.1", "10.0.0.1/8",
           "::1", "2001:db8::1", "fd00::1", "fe80::1", "::ffff:10.1.2.3", "2001:db8::/32",
           None, ABSENT],
    "net": ["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16", "0.0.0.0/0", "127.0.0.0/8",
            "2001:db8::/32", "::/0", "fc00::/7", "10.1.2.3/32", None, ABSENT],
    "mac": ["08:00:2b:01:02:03", "08-00-2B-01-02-03", "08002b010204", "ff:ff:ff:ff:ff:ff",
            "00:00:00:00:00:00", None, ABSENT],
    "path": ["top", "top.science", "top.science.physics", "top.Science", "top.arts", "",
             "a-b.c_d", "top.science.physics.quantum", None, ABSENT],
    # Ranges written in every bound style, unbounded on either or both ends, and empty.
    "period": ["[2024-01-01,2024-02-01)", "[2024-01-15,2024-01-20]", "(2024-01-31,2024-03-01)",
               "[2024-02-01,)", "(,2024-01-01)", "(,)", "empty", "[2024-01-01,2024-01-01)",
               "[2024-02-29,2024-02-29]", None, ABSENT],
    # No zero vector: its cosine distance is NaN.
    "embedding": [[1, 0, 0], [0, 1, 0], [Num("0.6"), Num("0.8"), 0], [1, 1, 1],
                  [-1, Num("0.5"), 2], [Num("0.1"), Num("0.2"), Num("0.3")], [3, 4, 0], None,
                  ABSENT],
    "search": ["'fox':1 'quick':2", "'dog':3", "", None, ABSENT],
    "comments": [[{"body": "great", "score": Num("5")}], [],
                 [{"body": "meh", "score": Num("2")}, {"body": "Great", "score": Num("10")}],
                 [{"body": None}, {}], [None, "x", {"score": Num("4.0")}],
                 [{"body": "a_b", "score": Num("-1")}, {"body": "great", "score": Num("2")}],
                 {"body": "not a list"}, None, ABSENT],
}
# Strides coprime with each list's length, so rows combine values differently.
STRIDES = {"name": 7, "count": 5, "price": 3, "score": 3, "ref": 2, "external_id": 5,
           "happened_at": 4, "day": 3, "at_time": 2, "active": 1, "kind": 5, "meta": 3,
           "owner": 3, "tags": 7, "numbers": 7, "attrs": 5, "ip": 3, "net": 7, "mac": 3,
           "path": 7, "period": 7, "embedding": 7, "search": 7, "comments": 7}
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
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE tb_item (id uuid PRIMARY KEY, data jsonb NOT NULL);
CREATE VIEW v_item AS SELECT id, data FROM tb_item;
"""

INSERT_SQL = "INSERT INTO tb_item (id, data) SELECT $1, $2::jsonb"

CHECKSUM_SQL = ("SELECT count(*)::text || ':' || coalesce(md5(string_agg(id::text || data::text, "
                "',' ORDER BY id)), '') FROM tb_item")


def fixture_rows() -> list[tuple[uuid.UUID, str]]:
    """(id, data JSON text) of every row."""
    return [(row_id(i), to_json(document(i))) for i in range(ROW_COUNT)]
