"""Every filter operator, over the app, on a database built to catch wrong casts.

Each case runs twice: on ``v_item`` (every value read from the JSONB ``data``)
and on ``v_item_cols`` (the special types as real, typed columns), and must
return the same exact rows. Expectations were computed by hand from ROWS.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)


def uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


UPPER_REF = "ABCDEF01-2345-4678-9ABC-DEF012345678"

# One dict per row: keys of data; the special types also get a typed column.
ROWS: list[dict[str, Any]] = [
    {"n": 1, "name": "100% pure", "price": 100, "tags": ["a", "b"], "scores": [9, 10],
     "meta": {"color": "red", "size": 10}, "ip": "10.1.2.3", "net": "10.0.0.0/8",
     "mac": "08:00:2b:01:02:03", "path": "top.science.physics",
     "period": "[2024-01-01,2024-02-01)", "search": "the quick brown fox",
     "embedding": [1, 0, 0], "ref": UPPER_REF,
     "comments": [{"body": "great", "score": 5}]},
    {"n": 2, "name": "under_score", "price": 9, "tags": [], "scores": [100],
     "meta": {"color": "blue"}, "ip": "192.168.1.1", "net": "192.168.0.0/16",
     "mac": "08:00:2b:01:02:04", "path": "top.science.chemistry",
     "period": "[2024-02-01,)", "search": "a lazy dog jumps", "embedding": [0, 1, 0],
     "comments": []},
    {"n": 3, "name": "back\\slash", "price": 19.9, "tags": ["b", "c"], "scores": [],
     "meta": {"size": 3, "tags": ["x"]}, "ip": "2001:db8::1", "net": "2001:db8::/32",
     "mac": "08:00:2b:01:02:05", "path": "top.arts", "period": "(,2024-01-01)",
     "search": "fox and dog", "embedding": [0.9, 0.1, 0],
     "comments": [{"body": "meh", "score": 2}, {"body": "good", "score": 4}]},
    {"n": 4, "name": "Plain Name", "price": "19.90", "tags": None, "ip": "::1",
     "net": "fc00::/7", "path": "top", "period": "[2024-01-15,2024-01-20)",
     "search": "dogs and cats"},
    {"n": 5, "price": 10, "ip": "127.0.0.1", "name": "'; DROP TABLE tb_item; --"},
    {"n": 6, "ip": "fd00::1", "name": None},
]

SPECIAL = {"ip": "inet", "net": "cidr", "mac": "macaddr", "path": "ltree",
           "period": "daterange", "search": "tsvector", "embedding": "vector",
           "tags": "text[]", "scores": "int[]", "meta": "jsonb"}

SETUP = """
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE tb_item (id uuid PRIMARY KEY, data jsonb NOT NULL,
  ip inet, net cidr, mac macaddr, path ltree, period daterange, search tsvector,
  embedding vector(3), tags text[], scores int[], meta jsonb);
CREATE VIEW v_item AS SELECT id, data FROM tb_item;
CREATE VIEW v_item_cols AS
  SELECT id, data, ip, net, mac, path, period, search, embedding, tags, scores, meta
  FROM tb_item;
"""


def _insert_args(row: dict[str, Any]) -> list[Any]:
    data = {k: v for k, v in row.items() if k != "n"}
    if "price" in data and isinstance(data["price"], str):
        data["price"] = "@@PRICE@@"  # 19.90 written as a JSON number with its zero
    if "search" in data:
        data["search"] = None  # filled from the tsvector column below
    columns = [None if row.get(k) is None else
               (json.dumps(row[k]) if k in ("embedding", "meta") else row[k])
               for k in SPECIAL]
    text = json.dumps(data).replace('"@@PRICE@@"', str(row.get("price")))
    return [uid(row["n"]), text, *columns]


async def _create(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SETUP)
        casts = ", ".join(f"${i + 3}::text::{t}" for i, t in enumerate(SPECIAL.values()))
        for row in ROWS:
            args = _insert_args(row)
            args[2 + list(SPECIAL).index("search")] = None
            await conn.execute(
                f"INSERT INTO tb_item (id, data, {', '.join(SPECIAL)}) "
                f"VALUES ($1::uuid, $2::jsonb, {casts})",
                *args[:2],
                *[None if a is None else (a if isinstance(a, str) else
                                          "{" + ",".join(str(x) for x in a) + "}")
                  for a in args[2:]])
            if "search" in row:
                await conn.execute("UPDATE tb_item SET search = to_tsvector('english', $2) "
                                   "WHERE id = $1::uuid", uid(row["n"]), row["search"])
        # data carries the same values as the columns, as a view would write them.
        await conn.execute("""UPDATE tb_item SET data = data || jsonb_build_object(
            'search', search::text, 'embedding', embedding::text::jsonb)
            WHERE search IS NOT NULL OR embedding IS NOT NULL""")
    finally:
        await conn.close()


@fraiseql.type
class FilterComment:
    body: str
    score: int


FIELDS: dict[str, Any] = {
    "id": fraiseql.ID, "name": str | None, "price": float | None,
    "tags": list[str] | None, "scores": list[int] | None, "meta": fraiseql.JSON | None,
    "search": fraiseql.TSVector | None, "ip": fraiseql.IPAddress | None,
    "net": fraiseql.CIDR | None, "mac": fraiseql.MacAddress | None,
    "path": fraiseql.LTree | None, "period": fraiseql.DateRange | None,
    "embedding": fraiseql.Vector | None, "ref": __import__("uuid").UUID | None,
    "comments": list[FilterComment] | None,
}


def _item_type(name: str, source: str) -> Any:
    return fraiseql.type(sql_source=source)(type(name, (), {"__annotations__": dict(FIELDS)}))


FilterItem = _item_type("FilterItem", "v_item")
FilterItemCols = _item_type("FilterItemCols", "v_item_cols")


@fraiseql.query
def items() -> list[FilterItem]: ...  # type: ignore[valid-type]


@fraiseql.query
def item_cols() -> list[FilterItemCols]: ...  # type: ignore[valid-type]


SCHEMA = fraiseql.build_schema([items, item_cols])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def filters_db_url(pg_server: TestServer) -> AsyncIterator[str]:
    name = unique_database_name("fraiseql_filters")
    url = await create_database(pg_server, name)
    await _create(url)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(filters_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(SCHEMA, database_url=filters_db_url)) as c:
        yield c


async def numbers(client: AppClient, root: str, where: str,
                  variables: dict[str, Any] | None = None, decl: str = "") -> list[int]:
    """The row numbers (see ROWS) a where returns, in id order."""
    data = await client.data(f"query {decl} {{ {root}(where: {{{where}}}) {{ id }} }}",
                             variables)
    return [int(item["id"][-12:]) for item in data[root]]


async def error_of(client: AppClient, root: str, where: str) -> dict[str, Any]:
    response = await client.post_graphql(f"{{ {root}(where: {{{where}}}) {{ id }} }}")
    body = response.json()
    assert "errors" in body and body.get("data", {}) in (None, {}, {root: None}), body
    return body["errors"][0]  # type: ignore[no-any-return]


ROOTS = ("items", "itemCols")

CASES: list[tuple[str, list[int]]] = [
    # numbers compare numerically, whatever their JSON spelling
    ('price: {eq: 19.9}', [3, 4]),
    ('price: {in: [19.90, 9]}', [2, 3, 4]),
    ('price: {gt: 10}', [1, 3, 4]),
    ('price: {lte: 10}', [2, 5]),
    ('ref: {eq: "abcdef01-2345-4678-9abc-def012345678"}', [1]),
    # strings: wildcards in the value are literal
    ('name: {contains: "%"}', [1]),
    ('name: {contains: "_"}', [2, 5]),
    ('name: {contains: "\\\\"}', [3]),
    ('name: {contains: "e"}', [1, 2, 4, 5]),
    ('name: {icontains: "NAME"}', [4]),
    ('name: {startsWith: "under"}', [2]),
    ('name: {startsWith: "u_d"}', []),
    ('name: {istartsWith: "plain"}', [4]),
    ('name: {endsWith: "slash"}', [3]),
    ('name: {iendsWith: "SCORE"}', [2]),
    ('name: {like: "u_d%"}', [2]),
    ('name: {ilike: "%NAME"}', [4]),
    ('name: {regex: "^[a-z]+_"}', [2]),
    ('name: {iregex: "^plain"}', [4]),
    ('name: {isnull: true}', [6]),
    # arrays
    ('tags: {contains: ["b"]}', [1, 3]),
    ('tags: {contains: ["a", "c"]}', []),
    ('tags: {containedBy: ["a", "b", "c"]}', [1, 2, 3]),
    ('tags: {overlaps: ["c", "z"]}', [3]),
    ('tags: {lenEq: 0}', [2]),
    ('tags: {lenGt: 1}', [1, 3]),
    ('tags: {lenGte: 0}', [1, 2, 3]),
    ('tags: {lenLt: 2}', [2]),
    ('tags: {lenLte: 2}', [1, 2, 3]),
    ('tags: {isnull: true}', [4, 5, 6]),
    ('scores: {contains: [10]}', [1]),
    ('scores: {overlaps: [9, 100]}', [1, 2]),
    ('scores: {containedBy: [9, 10, 11]}', [1, 3]),
    # JSON
    ('meta: {hasKey: "size"}', [1, 3]),
    ('meta: {hasAnyKeys: ["tags", "color"]}', [1, 2, 3]),
    ('meta: {hasAllKeys: ["color", "size"]}', [1]),
    ('meta: {contains: {color: "red"}}', [1]),
    ('meta: {contains: {size: 10.0}}', [1]),
    ('meta: {containedBy: {color: "blue", size: 3}}', [2]),
    # full text (documents indexed with english: "dogs" -> dog)
    ('search: {matches: "fox & dog"}', [3]),
    ('search: {matches: "quick:*"}', [1]),
    ('search: {matches: "dogs", language: ENGLISH}', [2, 3, 4]),
    ('search: {matches: "dogs"}', []),
    ('search: {plainQuery: "dog fox"}', [3]),
    ('search: {phraseQuery: "lazy dog", language: ENGLISH}', [2]),
    ('search: {phraseQuery: "dog lazy"}', []),
    ('search: {websearchQuery: "fox -quick"}', [3]),
    ('search: {websearchQuery: "\\"and cats\\"", language: ENGLISH}', [4]),
    # Regression (found by tests/property): without a query, the defaulted language was
    # bound but unused, and PostgreSQL could not type the parameter (a 500).
    ('search: {isnull: true}', [5, 6]),
    ('search: {isnull: false, language: ENGLISH}', [1, 2, 3, 4]),
    ('search: {language: ENGLISH}', [1, 2, 3, 4, 5, 6]),
    # network
    ('ip: {eq: "10.1.2.3"}', [1]),
    ('ip: {in: ["::1", "127.0.0.1"]}', [4, 5]),
    ('ip: {nin: ["::1", "127.0.0.1"]}', [1, 2, 3, 6]),
    ('ip: {inSubnet: "10.0.0.0/8"}', [1]),
    ('ip: {inSubnet: "2001:db8::/32"}', [3]),
    ('ip: {isPrivate: true}', [1, 2, 6]),
    ('ip: {isPrivate: false}', [3, 4, 5]),
    ('ip: {isLoopback: true}', [4, 5]),
    ('ip: {isIPv4: true}', [1, 2, 5]),
    ('ip: {isIPv6: true}', [3, 4, 6]),
    ('net: {containsSubnet: "10.1.0.0/16"}', [1]),
    ('net: {containsSubnet: "fd00::1"}', [4]),
    ('net: {overlaps: "192.168.1.0/24"}', [2]),
    ('net: {eq: "fc00::/7"}', [4]),
    ('mac: {eq: "08:00:2b:01:02:04"}', [2]),
    ('mac: {in: ["08002b010203", "08-00-2b-01-02-05"]}', [1, 3]),
    ('mac: {neq: "08:00:2b:01:02:04"}', [1, 3, 4, 5, 6]),
    # ltree
    ('path: {ancestorOf: "top.science.physics"}', [1, 4]),
    ('path: {descendantOf: "top.science"}', [1, 2]),
    ('path: {matchesLquery: "*.science.*"}', [1, 2]),
    ('path: {matchesLtxtquery: "science & !physics"}', [2]),
    ('path: {depthEq: 1}', [4]),
    ('path: {depthGt: 2}', [1, 2]),
    ('path: {depthLt: 3}', [3, 4]),
    ('path: {eq: "top.arts"}', [3]),
    ('path: {in: ["top", "top.arts"]}', [3, 4]),
    # date ranges, unbounded ends included
    ('period: {containsDate: "2024-01-16"}', [1, 4]),
    ('period: {containsDate: "2030-01-01"}', [2]),
    ('period: {containsDate: "1999-01-01"}', [3]),
    ('period: {contains: "[2024-01-10,2024-01-12)"}', [1]),
    ('period: {overlaps: "[2023-12-31,2024-01-02)"}', [1, 3]),
    ('period: {adjacent: "[2024-02-01,2024-03-01)"}', [1]),
    ('period: {strictlyLeft: "[2024-01-21,)"}', [3, 4]),
    ('period: {strictlyRight: "(,2024-01-31)"}', [2]),
    ('period: {eq: "[2024-02-01,)"}', [2]),
    # vectors: distances to [1, 0, 0] are 0, 1, 0.006 (cosine); 0, 1.41, 0.14 (L2)
    ('embedding: {cosineDistance: {vector: [1, 0, 0], lt: 0.3}}', [1, 3]),
    ('embedding: {cosineDistance: {vector: [1, 0, 0], gte: 0.5}}', [2]),
    ('embedding: {l2Distance: {vector: [1, 0, 0], lte: 0.5}}', [1, 3]),
    ('embedding: {l2Distance: {vector: [1, 0, 0], gt: 0.1, lt: 0.5}}', [3]),
    ('embedding: {innerProduct: {vector: [1, 0, 0], lt: -0.5}}', [1, 3]),
    # embedded lists of objects
    ('comments: {any: {score: {gte: 4}}}', [1, 3]),
    ('comments: {any: {body: {eq: "meh"}, score: {eq: 4}}}', []),
    ('comments: {any: {body: {startsWith: "g"}}}', [1, 3]),
    ('comments: {isEmpty: true}', [2, 4, 5, 6]),
    ('comments: {isEmpty: false}', [1, 3]),
    ('_not: {comments: {any: {score: {lt: 3}}}}', [1, 2, 4, 5, 6]),
]


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize(("where", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_operator(client: AppClient, root: str, where: str, expected: list[int]) -> None:
    assert await numbers(client, root, where) == expected


async def test_every_operator_has_a_case() -> None:
    from fraiseql.schema.operators import OPERATORS, graphql_name
    written = " ".join(where for where, _ in CASES)
    missing = [name for name, op in OPERATORS.items()
               if f"{graphql_name(op)}:" not in written]
    assert missing == []


async def test_values_through_variables(client: AppClient) -> None:
    decl = "($p: String, $t: [String!], $v: Vector!)"
    where = ('name: {contains: $p}, tags: {overlaps: $t}, '
             'embedding: {cosineDistance: {vector: $v, lt: 0.5}}')
    assert await numbers(client, "items", where, {"p": "_", "t": ["z"], "v": [0, 1, 0]},
                         decl) == []
    assert await numbers(client, "items", 'name: {contains: $p}', {"p": "%"},
                         "($p: String)") == [1]


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("where", "code", "fragment"), [
    ('name: {regex: "("}', "BAD_USER_INPUT", "regular expression"),
    # Regression (found by tests/property): a pattern ending in a backslash was a 500.
    ('name: {like: "%\\\\"}', "BAD_USER_INPUT", "LIKE pattern"),
    ('search: {matches: "fox &"}', "BAD_USER_INPUT", "full-text search query"),
    ('path: {matchesLquery: "a..b"}', "BAD_USER_INPUT", "lquery"),
    # Regressions (found by tests/property): these were 500s.
    ('path: {matchesLtxtquery: "a b"}', "BAD_USER_INPUT", "ltxtquery"),
    ('period: {overlaps: "[2024-02-01,2024-01-01)"}', "BAD_USER_INPUT", "lower bound"),
    ('meta: {contains: {a: "\\u0000"}}', "BAD_USER_INPUT", "JSON value"),
    ('embedding: {cosineDistance: {vector: [1, 0], lt: 1}}', "BAD_USER_INPUT", "dimension"),
    ('embedding: {cosineDistance: {vector: [1, 0, 0]}}', "BAD_USER_INPUT", "needs a bound"),
    ('ip: {eq: "10.0.0.256"}', "GRAPHQL_VALIDATION_FAILED", "IPAddress"),
    ('net: {eq: "10.0.0.1/8"}', "GRAPHQL_VALIDATION_FAILED", "CIDR"),
    ('period: {eq: "2024-01-01"}', "GRAPHQL_VALIDATION_FAILED", "DateRange"),
    ('path: {eq: "a b"}', "GRAPHQL_VALIDATION_FAILED", "LTree"),
    ('price: {contains: "1"}', "GRAPHQL_VALIDATION_FAILED", "contains"),
    ('ref: {regex: "a"}', "GRAPHQL_VALIDATION_FAILED", "regex"),
    ('mac: {inSubnet: "10.0.0.0/8"}', "GRAPHQL_VALIDATION_FAILED", "inSubnet"),
    ('search: {language: KLINGON, matches: "a"}', "GRAPHQL_VALIDATION_FAILED", "KLINGON"),
    ('name: {contains: null}', "BAD_USER_INPUT", "is null"),
])
async def test_bad_input_is_a_clear_error(client: AppClient, where: str, code: str,
                                          fragment: str) -> None:
    error = await error_of(client, "items", where)
    assert error["extensions"]["code"] == code, error
    assert fragment.lower() in error["message"].lower(), error


# --- injection ----------------------------------------------------------------------------

HOSTILE = ["'; DROP TABLE tb_item; --", "') OR 1=1 --", "\\x27", "$1", "' OR '1'='1",
           "%' OR 1=1 --", "\\'; SELECT 1; --"]

# (operator, the variable's type, how the hostile string is wrapped, the same question
# asked in plain SQL of tb_item with the value bound as $1)
INJECTION_SITES: list[tuple[str, str, Any, str]] = [
    ("name: {eq: $x}", "String", lambda s: s, "data->>'name' = $1"),
    ("name: {contains: $x}", "String", lambda s: s, "strpos(data->>'name', $1) > 0"),
    ("name: {like: $x}", "String", lambda s: s, "data->>'name' LIKE $1"),
    ("name: {regex: $x}", "String", lambda s: s, "data->>'name' ~ $1"),
    ("name: {in: $x}", "[String!]", lambda s: [s], "data->>'name' = ANY($1::text[])"),
    ("tags: {contains: $x}", "[String!]", lambda s: [s], "tags @> $1::text[]"),
    ("meta: {hasKey: $x}", "String", lambda s: s, "meta ? $1"),
    ("meta: {hasAnyKeys: $x}", "[String!]", lambda s: [s], "meta ?| $1::text[]"),
    ("meta: {contains: $x}", "JSON", lambda s: {s: s}, "meta @> $1::text::jsonb"),
    ("search: {plainQuery: $x}", "String", lambda s: s,
     "search @@ plainto_tsquery('simple', $1)"),
    ("search: {websearchQuery: $x}", "String", lambda s: s,
     "search @@ websearch_to_tsquery('simple', $1)"),
    ("path: {matchesLtxtquery: $x}", "String", lambda s: s, "path @ $1::ltxtquery"),
]


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_injection_strings_are_plain_values(client: AppClient, filters_db_url: str,
                                                  hostile: str) -> None:
    conn = await asyncpg.connect(filters_db_url)
    try:
        for where, gql_type, wrap, plain in INJECTION_SITES:
            value = wrap(hostile)
            try:
                rows = await conn.fetch(f"SELECT id FROM tb_item WHERE {plain} ORDER BY id",
                                        json.dumps(value) if gql_type == "JSON" else value)
                expected: list[int] | None = [int(str(r[0])[-12:]) for r in rows]
            except asyncpg.PostgresError:
                expected = None  # PostgreSQL refuses the value: a client error
            response = await client.post_graphql(
                f"query ($x: {gql_type}) {{ items(where: {{{where}}}) {{ id }} }}",
                {"x": value})
            body = response.json()
            if expected is None:
                assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
                continue
            assert "errors" not in body, (where, body)
            got = [int(i["id"][-12:]) for i in body["data"]["items"]]
            assert got == expected, (where, hostile)
            if not where.startswith("name"):
                assert got == []
        assert await conn.fetchval("SELECT count(*) FROM tb_item") == len(ROWS)
    finally:
        await conn.close()


async def test_text_search_languages_are_the_built_in_configurations(
        filters_db_url: str) -> None:
    from fraiseql.schema.filter_inputs import TEXT_SEARCH_CONFIGS
    conn = await asyncpg.connect(filters_db_url)
    try:
        names = await conn.fetch("SELECT cfgname FROM pg_ts_config c JOIN pg_namespace n "
                                 "ON n.oid = c.cfgnamespace WHERE nspname = 'pg_catalog'")
    finally:
        await conn.close()
    assert sorted(r[0] for r in names) == sorted(TEXT_SEARCH_CONFIGS)


# --- boot: an operator is advertised only if it runs ------------------------------------


async def test_boot_fails_without_the_vector_extension(empty_db_url: str) -> None:
    from fraiseql.errors import DatabaseSetupError
    conn = await asyncpg.connect(empty_db_url)
    try:
        await conn.execute("CREATE EXTENSION ltree; "
                           "CREATE VIEW v_item AS SELECT NULL::uuid AS id, '{}'::jsonb AS data")
    finally:
        await conn.close()
    app = fraiseql.create_app(fraiseql.build_schema([items]), database_url=empty_db_url)
    with pytest.raises(DatabaseSetupError) as raised:
        async with AppClient(app):
            pass
    assert str(raised.value).startswith(
        "fields FilterItem.embedding need the PostgreSQL extension 'vector', which is not "
        "installed in this database")
    assert "ltree" not in str(raised.value)
    assert app.engine.pool is None  # nothing left open


async def test_boot_succeeds_with_the_extensions(client: AppClient) -> None:
    assert client.app.started
