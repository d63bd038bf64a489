"""Fields read from real columns answer exactly what the same fields read from data do.

One table carries every field both as a typed column and inside `data`; one type reads it
through the table (the compiler uses the columns, natively where the type allows), a twin
type through a view that exposes only `data`. Every answer, errors included, must match.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from fraiseql import ID, JSON
from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import TestServer, create_database, drop_database, \
    unique_database_name

SETUP = """
CREATE TABLE tv_item (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    nickname    text,
    rank        int         NOT NULL,
    score       int,
    price       numeric     NOT NULL,
    flag        boolean     NOT NULL,
    seen_at     timestamptz NOT NULL,
    born        date,
    tags        text[]      NOT NULL,
    maybe_tags  text[],
    meta        jsonb,
    data        jsonb       NOT NULL
);
INSERT INTO tv_item (id, name, nickname, rank, score, price, flag, seen_at, born, tags,
                     maybe_tags, meta, data)
SELECT id, name, nickname, rank, score, price, flag, seen_at, born, tags, maybe_tags, meta,
       jsonb_build_object('id', id, 'name', name, 'nickname', nickname, 'rank', rank,
                          'score', score, 'price', price, 'flag', flag, 'seen_at', seen_at,
                          'born', born, 'tags', tags, 'maybe_tags', maybe_tags, 'meta', meta)
FROM (VALUES
    ('00000000-0000-4000-8000-000000000001'::uuid, 'plain', 'p', 1, 10, 1.50, true,
     '2024-03-01 12:00:00.5+00'::timestamptz, '2000-01-31'::date, ARRAY['a', 'b'],
     ARRAY['x', NULL], '{"k": [1, 2.50, null]}'::jsonb),
    ('00000000-0000-4000-8000-000000000002', 'nulls', NULL, 2, NULL, 100, false,
     '1999-12-31 23:59:59+00', NULL, ARRAY[]::text[], NULL, NULL),
    ('00000000-0000-4000-8000-000000000003', 'quote "\\ é', 'n', 3, 7, 0.000, true,
     '2024-01-01 00:00:00+00', '2024-02-29', ARRAY['has null', NULL], ARRAY[]::text[],
     '"a string"')
) AS v(id, name, nickname, rank, score, price, flag, seen_at, born, tags, maybe_tags, meta);
CREATE VIEW v_item AS SELECT id, data FROM tv_item;
"""

FIELDS = "id name nickname rank score price flag seenAt born tags maybeTags meta"


def declare(source: str) -> Any:
    @fraiseql.type(sql_source=source, name=f"Item_{source}")
    class Item:
        id: ID
        name: str
        nickname: str | None
        rank: int
        score: int  # non-null over a nullable column: a null is a field error
        price: decimal.Decimal
        flag: bool
        seen_at: datetime.datetime
        born: datetime.date | None
        tags: list[str]  # non-null items over an array holding a null: a field error
        maybe_tags: list[str | None] | None
        meta: JSON | None

    return Item


TableItem = declare("tv_item")
ViewItem = declare("v_item")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db_url(pg_server: TestServer) -> AsyncIterator[str]:
    name = unique_database_name("fraiseql_columns")
    url = await create_database(pg_server, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SETUP)
    finally:
        await conn.close()
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(db_url: str) -> AsyncIterator[AppClient]:
    @fraiseql.query
    def items(limit: int = 20) -> list[TableItem]:
        """Through the table's columns."""

    @fraiseql.query
    def item(id: ID) -> TableItem | None:
        """One, through the table's columns."""

    @fraiseql.query
    def data_items(limit: int = 20) -> list[ViewItem]:
        """Through data only."""

    @fraiseql.query
    def data_item(id: ID) -> ViewItem | None:
        """One, through data only."""

    schema = fraiseql.build_schema(queries=[items, item, data_items, data_item])
    async with AppClient(fraiseql.create_app(schema, database_url=db_url)) as c:
        yield c


async def query(client: AppClient, document: str) -> dict[str, Any]:
    response = await client.post_graphql(document)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def without_type_names(body: dict[str, Any], root: str, twin: str) -> dict[str, Any]:
    """The twin's answer under the first root's name, for comparison."""
    text = repr(body).replace(f"'{twin}'", f"'{root}'")
    return eval(text)  # noqa: S307 - our own repr of plain JSON values


@pytest.mark.parametrize("field", FIELDS.split())
async def test_each_field_reads_the_same_from_its_column_as_from_data(
        client: AppClient, field: str) -> None:
    by_column = await query(client, f"{{ items(orderBy: [{{id: ASC}}]) {{ id {field} }} }}")
    by_data = await query(client, f"{{ dataItems(orderBy: [{{id: ASC}}]) {{ id {field} }} }}")
    assert by_column == without_type_names(by_data, "items", "dataItems")


async def test_the_whole_rows_read_the_same_and_hold_the_expected_values(
        client: AppClient) -> None:
    by_column = await query(client, f"{{ items(orderBy: [{{id: ASC}}]) {{ {FIELDS} }} }}")
    by_data = await query(client, f"{{ dataItems(orderBy: [{{id: ASC}}]) {{ {FIELDS} }} }}")
    assert by_column == without_type_names(by_data, "items", "dataItems")
    # Row 2's null score and row 3's null tag are errors in non-null fields; the list
    # and its items are non-null, so the null reaches the root: data is null.
    assert by_column["data"] is None
    assert [e["path"] for e in by_column["errors"]] == [["items", 1, "score"]]
    tags = await query(client, "{ items(orderBy: [{id: ASC}]) { tags } }")
    assert [e["path"] for e in tags["errors"]] == [["items", 2, "tags", 1]]


async def test_a_clean_row_passes_through_with_native_renderings(client: AppClient) -> None:
    document = f'{{ item(id: "00000000-0000-4000-8000-000000000001") {{ {FIELDS} }} }}'
    body = await query(client, document)
    assert body == {"data": {"item": {
        "id": "00000000-0000-4000-8000-000000000001", "name": "plain", "nickname": "p",
        "rank": 1, "score": 10, "price": "1.50", "flag": True,
        "seenAt": "2024-03-01T12:00:00.5+00:00", "born": "2000-01-31", "tags": ["a", "b"],
        "maybeTags": ["x", None], "meta": {"k": [1, 2.50, None]}}}}
    twin = await query(client, document.replace("item(", "dataItem("))
    assert body == without_type_names(twin, "item", "dataItem")


async def test_the_compiled_sql_reads_not_null_columns_natively(client: AppClient) -> None:
    plan = client.app.engine.compile(  # type: ignore[attr-defined]
        "{ items { id name rank price seenAt tags score } }", {}, None)
    sql = plan.roots[0].sql
    for native in ("'id', d.\"id\"", "'name', d.\"name\"", "'rank', d.\"rank\"",
                   "'price', d.\"price\"::text", "'seenAt', d.\"seen_at\"",
                   "array_position(d.\"tags\", NULL) IS NULL THEN to_jsonb(d.\"tags\")"):
        assert native in sql, native
    # score is nullable in the table but not in GraphQL: the generic, checked read.
    assert "to_jsonb(d.\"score\")" in sql
    assert "d.data" not in sql and "v.data" not in sql
