"""orderBy on list roots: NULLS FIRST/LAST, nested keys, typed casts, the id tiebreak.

Each answer equals the same order asked of the tables in plain SQL
(tests/integration/items_db.py: nullable keys, ties, numbers that sort
differently as text, timestamps with mixed offsets; and the blog example).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql.testing.client import AppClient
from tests.integration.items_db import client, db, items_url  # noqa: F401 - fixtures


async def listed(client: AppClient, field: str, arguments: str) -> list[str]:
    data = await client.data(f"{{ rows: {field}({arguments}) {{ id }} }}")
    return [row["id"] for row in data["rows"]]


async def sql_ids(db: asyncpg.Connection, sql: str, *args: Any) -> list[str]:
    return [str(r[0]) for r in await db.fetch(sql, *args)]


@pytest.mark.parametrize(("direction", "sql"), [
    ("ASC", "score ASC NULLS LAST"),
    ("DESC", "score DESC NULLS FIRST"),
    ("ASC_NULLS_FIRST", "score ASC NULLS FIRST"),
    ("ASC_NULLS_LAST", "score ASC NULLS LAST"),
    ("DESC_NULLS_FIRST", "score DESC NULLS FIRST"),
    ("DESC_NULLS_LAST", "score DESC NULLS LAST"),
])
@pytest.mark.parametrize("field", ["items", "itemDocs"])
async def test_every_direction_places_nulls_as_named(client: AppClient, db: asyncpg.Connection,
                                                     field: str, direction: str,
                                                     sql: str) -> None:
    expected = await sql_ids(db, f"SELECT id FROM tb_item ORDER BY {sql}, id LIMIT 50")
    answer = await listed(client, field, f"orderBy: {{score: {direction}}}")
    assert answer == expected and len(answer) == 50  # the cap
    nulls = {str(r[0]) for r in await db.fetch("SELECT id FROM tb_item WHERE score IS NULL")}
    assert (answer[0] in nulls) == ("NULLS FIRST" in sql) and len(nulls) == 12


async def test_numbers_sort_as_numbers_not_text(client: AppClient, db: asyncpg.Connection) -> None:
    data = await client.data("{ items(orderBy: [{score: ASC}], where: {score: {isnull: false}}) "
                             "{ score } }")
    scores = [row["score"] for row in data["items"]]
    assert scores == sorted(scores) and scores[0] == 2.5 and scores[-1] == 110
    distinct = list(dict.fromkeys(scores))
    assert distinct == [2.5, 9, 10, 100, 110]  # as text: 10, 100, 110, 2.5, 9


async def test_timestamps_sort_as_instants(client: AppClient) -> None:
    # The instants: 1 = 05:00Z (written +05:00), 2 = 06:00Z, 3 = 05:30Z (written -01:00),
    # 4 = 05:00Z; as text, 3 would come first and 1 last.
    data = await client.data("{ events(orderBy: [{at: DESC}, {seq: ASC}]) { seq } }")
    assert [row["seq"] for row in data["events"]] == [2, 3, 1, 4]
    data = await client.data("{ events(orderBy: [{at: ASC}, {seq: DESC}]) { seq } }")
    assert [row["seq"] for row in data["events"]] == [4, 1, 3, 2]


@pytest.mark.parametrize(("order_by", "sql"), [
    ("{owner: {level: ASC}}", "(owner->>'level')::numeric ASC NULLS LAST, id"),
    ("[{owner: {name: DESC_NULLS_LAST}}, {owner: {level: ASC_NULLS_FIRST}}, {rank: DESC}]",
     "owner->>'name' DESC NULLS LAST, (owner->>'level')::numeric ASC NULLS FIRST, rank DESC, id"),
])
@pytest.mark.parametrize("field", ["items", "itemDocs"])
async def test_nested_keys(client: AppClient, db: asyncpg.Connection, field: str, order_by: str,
                           sql: str) -> None:
    expected = await sql_ids(db, f"SELECT id FROM tb_item ORDER BY {sql} LIMIT 50")
    assert await listed(client, field, f"orderBy: {order_by}") == expected


async def test_ties_break_on_id_ascending(client: AppClient, db: asyncpg.Connection) -> None:
    expected = await sql_ids(db, "SELECT id FROM tb_item ORDER BY rank DESC, id LIMIT 50")
    assert await listed(client, "items", "orderBy: {rank: DESC}") == expected
    expected = await sql_ids(db, "SELECT id FROM tb_item ORDER BY rank DESC, id DESC LIMIT 50")
    assert await listed(client, "items", "orderBy: [{rank: DESC}, {id: DESC}]") == expected


async def test_order_by_variables_of_every_direction(client: AppClient,
                                                     db: asyncpg.Connection) -> None:
    query = "query ($o: [ItemOrderBy!]) { items(orderBy: $o) { id } }"
    for direction, sql in (("DESC_NULLS_LAST", "label DESC NULLS LAST"),
                           ("ASC_NULLS_FIRST", "label ASC NULLS FIRST"),
                           ("DESC", "label DESC")):
        data = await client.data(query, {"o": [{"label": direction}]})
        expected = await sql_ids(db, f"SELECT id FROM tb_item ORDER BY {sql}, id LIMIT 50")
        assert [row["id"] for row in data["items"]] == expected


@pytest.mark.parametrize(("order_by", "message"), [
    ("[{rank: ASC, score: DESC}]", "orderBy[0] must set exactly one field, got 2"),
    ("[{rank: ASC}, {}]", "orderBy[1] must set exactly one field, got 0 (none)"),
    ("[{owner: {name: ASC, level: ASC}}]", "orderBy[0].owner must set exactly one field, got 2"),
    ("[{owner: {}}]", "orderBy[0].owner must set exactly one field, got 0 (none)"),
    ("[{rank: null}]", "orderBy[0].rank is null"),
])
async def test_bad_order_by_is_bad_user_input(client: AppClient, order_by: str,
                                              message: str) -> None:
    response = await client.post_graphql(f"{{ items(orderBy: {order_by}) {{ id }} }}")
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]


# --- the blog example -------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def blog(blog_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(blog_schema, database_url=blog_db_url)) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def blog_db(blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(blog_db_url, server_settings={"TimeZone": "UTC"})
    yield conn
    await conn.close()


async def test_blog_posts_by_author_name_then_newest(blog: AppClient,
                                                     blog_db: asyncpg.Connection) -> None:
    answer = await listed(blog, "posts", "limit: 200, orderBy: [{author: {fullName: ASC}}, "
                                         "{publishedAt: DESC_NULLS_LAST}]")
    expected = await sql_ids(blog_db, "SELECT id FROM tv_post ORDER BY "
                                      "data->'author'->>'full_name', "
                                      "(data->>'published_at')::timestamptz DESC NULLS LAST, id "
                                      "LIMIT 200")
    assert answer == expected


async def test_blog_ratings_nulls_first_ascending(blog: AppClient,
                                                  blog_db: asyncpg.Connection) -> None:
    answer = await listed(blog, "posts", "limit: 100, offset: 3950, "
                                         "orderBy: {rating: ASC_NULLS_FIRST}")
    expected = await sql_ids(blog_db, "SELECT id FROM tb_post ORDER BY rating ASC NULLS FIRST, "
                                      "id LIMIT 100 OFFSET 3950")
    assert answer == expected
    # The page straddles the last of the 3,964 nulls (DATA.md).
    rating = await blog_db.fetchval("SELECT count(*) FROM tb_post WHERE rating IS NULL AND "
                                    "id = ANY($1::uuid[])", [uuid.UUID(i) for i in answer])
    assert rating == 14
