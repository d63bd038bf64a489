"""``<list>Count(where)``: the number of rows a filter matches, equal to a SQL count."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql.testing.client import AppClient


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(blog_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(blog_schema, database_url=blog_db_url)) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(blog_db_url, server_settings={"TimeZone": "UTC"})
    yield conn
    await conn.close()


async def test_counts_of_every_list_root(client: AppClient) -> None:
    data = await client.data("{ postsCount usersCount commentsCount tagsCount }")
    assert data == {"postsCount": 10000, "usersCount": 1000, "commentsCount": 40095,
                    "tagsCount": 30}  # DATA.md


POST_AUTHOR = "SELECT count(*) FROM tb_post p JOIN tb_user u ON u.id = p.author_id"


@pytest.mark.parametrize(("field", "where", "sql", "expected"), [
    ("postsCount", "{status: {eq: PUBLISHED}}",
     "SELECT count(*) FROM tb_post WHERE status = 'published'", 7008),
    ("postsCount", '{author: {username: {eq: "liam.nguyen1"}}}',
     "SELECT count(*) FROM v_post WHERE data->'author'->>'username' = 'liam.nguyen1'", 302),
    ("postsCount",
     "{_or: [{status: {eq: DRAFT}}, {author: {bio: {isnull: true}}}], rating: {isnull: true}}",
     (f"{POST_AUTHOR} WHERE (p.status = 'draft' OR u.bio IS NULL) AND p.rating IS NULL"), None),
    ("postsCount",
     ('{_not: {author: {fullName: {in: ["Alice Costa", "Ximena Petrov"]}}}, '
      'viewCount: {gte: 1000}}'),
     (f"{POST_AUTHOR} WHERE u.full_name NOT IN ('Alice Costa', 'Ximena Petrov') "
      "AND p.view_count >= 1000"), None),
    ("commentsCount", '{author: {username: {eq: "bobby.tables"}}}',
     ("SELECT count(*) FROM tb_comment c JOIN tb_user u ON u.id = c.author_id "
      "WHERE u.username = 'bobby.tables'"), None),
    ("usersCount", "{bio: {isnull: true}}", "SELECT count(*) FROM tb_user WHERE bio IS NULL",
     200),
])
async def test_count_with_nested_where_equals_sql(client: AppClient, db: asyncpg.Connection,
                                                  field: str, where: str, sql: str,
                                                  expected: int | None) -> None:
    count = await db.fetchval(sql)
    if expected is not None:
        assert count == expected
    assert 0 < count
    assert await client.data(f"{{ n: {field}(where: {where}) }}") == {"n": count}


async def test_count_with_variables_reuses_the_plan(client: AppClient,
                                                    db: asyncpg.Connection) -> None:
    query = "query ($w: PostWhereInput) { postsCount(where: $w) }"
    for name in ("liam.nguyen1", "bobby.tables", "nobody"):
        where = {"author": {"username": {"eq": name}}}
        expected = await db.fetchval("SELECT count(*) FROM v_post WHERE "
                                     "data->'author'->>'username' = $1", name)
        assert await client.data(query, {"w": where}) == {"postsCount": expected}
    assert await client.data(query, {"w": None}) == {"postsCount": 10000}


async def test_count_sql_is_one_count(client: AppClient) -> None:
    plan = client.app.engine.compile('{ postsCount(where: {status: {eq: DRAFT}}) }')
    assert [r.sql for r in plan.roots] == [
        'SELECT to_json(count(*)) FROM "tv_post" AS v WHERE v."status" = $1::text']


async def test_bad_where_is_bad_user_input(client: AppClient) -> None:
    response = await client.post_graphql("{ postsCount(where: {viewCount: {gt: null}}) }")
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "viewCount.gt is null" in body["errors"][0]["message"]
    response = await client.post_graphql("{ postsCount(where: {nope: {eq: 1}}) }")
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
