"""Python-form mutations: ``@fraiseql.mutation async def ...(info, ...)``.

The resolver runs inside one transaction of its own: ``info.context["db"]``'s
execute / fetch / find_one / record_change all use it, so the resolver sees its
own writes, and everything commits when it returns or rolls back when it raises.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import CreatePost, Post, Tag, posts, tags
from fraiseql import ID, ErrorCode, RequestError
from fraiseql.testing.client import AppClient


def seed_id(key: str) -> str:
    """The id of a seed row (examples/blog/DATA.md: md5('<kind>-<n>')::uuid)."""
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


def fill(text: str, *values: str) -> str:
    """``text`` with each ``%s`` replaced by the next value (ids in GraphQL documents)."""
    for value in values:
        text = text.replace("%s", value, 1)
    return text


USER_1 = seed_id("user-1")
POST_DRAFT = seed_id("post-9951")  # a draft, no comments
TAG_PYTHON = seed_id("tag-2")  # Python / python


async def _rename(info: Any, id: ID, name: str) -> Any:
    """Rename a tag, log it, and answer the tag as the selection wants it."""
    db = info.context["db"]
    before = await db.fetchrow("SELECT data FROM v_tag WHERE id = $1::uuid", id)
    if before is None:
        raise RequestError("tag not found", ErrorCode.NOT_FOUND)
    status = await db.execute("UPDATE tb_tag SET name = $2 WHERE id = $1::uuid", id, name)
    assert status == "UPDATE 1"
    after = await db.fetchrow("SELECT data FROM v_tag WHERE id = $1::uuid", id)
    await db.record_change("Tag", id, "update", "renameTag",
                           entity_after=json.loads(after["data"]),
                           entity_before=json.loads(before["data"]), updated_fields=["name"])
    return await db.find_one("v_tag", info, id=id)


@fraiseql.mutation
async def rename_tag(info, id: ID, name: str) -> Tag:  # type: ignore[no-untyped-def]
    """Rename a tag."""
    return await _rename(info, id, name)  # type: ignore[no-any-return]


@fraiseql.mutation
async def rename_tag_then_crash(info, id: ID, name: str) -> Tag:  # type: ignore[no-untyped-def]
    """Rename a tag, log it, then fail with an unexpected error."""
    await _rename(info, id, name)
    raise RuntimeError("crashed after writing: secret detail")


@fraiseql.mutation
async def rename_tag_then_refuse(  # type: ignore[no-untyped-def]
        info, id: ID, name: str) -> Tag | None:
    """Rename a tag, log it, then refuse with a client error."""
    await _rename(info, id, name)
    raise RequestError("renaming is closed today", ErrorCode.CONFLICT)


@fraiseql.mutation
async def publish_post(info, id: ID) -> Post | None:  # type: ignore[no-untyped-def]
    """Publish a draft; the answer is read in the same transaction (sees the write)."""
    db = info.context["db"]
    async with db.transaction() as conn:  # nested: the resolver's own transaction
        status = await conn.execute(
            "UPDATE tb_post SET status = 'published', published_at = clock_timestamp() "
            "WHERE id = $1::uuid AND status = 'draft'", id)
    if status != "UPDATE 1":
        return None
    await db.record_change("Post", id, "UPDATE", "publishPost", updated_fields=["status"])
    return await db.find_one("v_post", info, id=id)  # type: ignore[no-any-return]


@fraiseql.mutation
async def count_tags(info) -> int:  # type: ignore[no-untyped-def]
    """A mutation answering a scalar: how many tags exist right now."""
    rows = await info.context["db"].fetch("SELECT count(*) AS n FROM tb_tag")
    return int(rows[0]["n"])


schema = fraiseql.build_schema(
    queries=[posts, tags],
    mutations=[rename_tag, rename_tag_then_crash, rename_tag_then_refuse, publish_post,
               count_tags, CreatePost])


@pytest_asyncio.fixture(loop_scope="session")
async def db(fresh_blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_blog_db_url, server_settings={"TimeZone": "UTC"})
    yield conn
    await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def client(fresh_blog_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(schema, database_url=fresh_blog_db_url)) as c:
        yield c


async def change_log(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT entity_type, entity_id, operation, mutation, entity_after, "
                          "entity_before, updated_fields FROM fraiseql.change_log ORDER BY seq")
    return [{**dict(r), "entity_after": r["entity_after"] and json.loads(r["entity_after"]),
             "entity_before": r["entity_before"] and json.loads(r["entity_before"])}
            for r in rows]


async def tag_name(db: asyncpg.Connection, id_: str = TAG_PYTHON) -> str:
    return str(await db.fetchval("SELECT name FROM tb_tag WHERE id = $1::uuid", id_))


async def test_a_python_mutation_commits_its_writes_and_change_log(
        client: AppClient, db: asyncpg.Connection) -> None:
    data = await client.data("""mutation($id: ID!) {
      renamed: renameTag(id: $id, name: "Python 3") { __typename slug label: name } }""",
                             {"id": TAG_PYTHON})
    assert data == {"renamed": {"__typename": "Tag", "slug": "python", "label": "Python 3"}}
    assert await tag_name(db) == "Python 3"
    assert await change_log(db) == [{
        "entity_type": "Tag", "entity_id": TAG_PYTHON, "operation": "UPDATE",
        "mutation": "renameTag", "updated_fields": ["name"],
        "entity_after": {"id": TAG_PYTHON, "name": "Python 3", "slug": "python"},
        "entity_before": {"id": TAG_PYTHON, "name": "Python", "slug": "python"}}]
    # The rename is visible to the next request (committed, not just in the resolver's view).
    listed = await client.data("{ tags { id name } }")
    assert {"id": TAG_PYTHON, "name": "Python 3"} in listed["tags"]


async def test_an_unexpected_error_after_a_write_rolls_everything_back(
        client: AppClient, db: asyncpg.Connection, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="fraiseql"):
        body = (await client.post_graphql(fill("""mutation {
          renameTagThenCrash(id: "%s", name: "Broken") { name } }""", TAG_PYTHON))).json()
    [error] = body["errors"]
    assert (error["message"], error["path"], error["extensions"]["code"]) == (
        "Internal server error", ["renameTagThenCrash"], "INTERNAL_SERVER_ERROR")
    assert error["extensions"]["errorId"] in caplog.text
    assert "secret detail" not in json.dumps(body)
    assert "secret detail" in caplog.text  # the cause is in the server log
    assert await tag_name(db) == "Python"
    assert await change_log(db) == []


async def test_a_request_error_after_a_write_rolls_back_and_keeps_its_code(
        client: AppClient, db: asyncpg.Connection) -> None:
    body = (await client.post_graphql(fill("""mutation {
      renameTagThenRefuse(id: "%s", name: "Refused") { name } }""", TAG_PYTHON))).json()
    assert body == {"data": {"renameTagThenRefuse": None}, "errors": [{
        "message": "renaming is closed today", "path": ["renameTagThenRefuse"],
        "extensions": {"code": "CONFLICT"}}]}
    assert await tag_name(db) == "Python"
    assert await change_log(db) == []


async def test_a_not_found_before_any_write(client: AppClient, db: asyncpg.Connection) -> None:
    body = (await client.post_graphql("""mutation {
      renameTag(id: "00000000-0000-4000-8000-000000000000", name: "x") { name } }""")).json()
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["renameTag"], "NOT_FOUND")]
    assert await change_log(db) == []


async def test_the_resolver_reads_its_own_write_and_returns_the_projection(
        client: AppClient, db: asyncpg.Connection) -> None:
    data = await client.data("""mutation($id: ID!) {
      publishPost(id: $id) { id status publishedAt author { username } comments { id } } }""",
                             {"id": POST_DRAFT})
    row = await db.fetchrow("SELECT status, data->>'published_at' AS published_at FROM v_post "
                            "WHERE id = $1::uuid", POST_DRAFT)
    assert row is not None
    assert row["status"] == "published"
    assert data["publishPost"] == {"id": POST_DRAFT, "status": "PUBLISHED",
                                   "publishedAt": row["published_at"],
                                   "author": data["publishPost"]["author"], "comments": []}
    assert data["publishPost"]["publishedAt"] is not None
    again = await client.data(fill('mutation { publishPost(id: "%s") { id } }', POST_DRAFT))
    assert again == {"publishPost": None}  # no longer a draft: nothing done, nothing logged
    assert [(r["entity_id"], r["operation"], r["mutation"]) for r in await change_log(db)] == [
        (POST_DRAFT, "UPDATE", "publishPost")]


async def test_python_and_sql_mutations_run_serially_in_one_document(
        client: AppClient, db: asyncpg.Connection) -> None:
    body = (await client.post_graphql(fill("""mutation {
      before: countTags
      created: createPost(input: {authorId: "%s", title: "Mixed", body: "b"}) { __typename }
      renamed: renameTag(id: "%s", name: "Py") { name }
      crashed: renameTagThenCrash(id: "%s", name: "Never") { name }
      after: countTags
    }""", USER_1, TAG_PYTHON, TAG_PYTHON))).json()
    assert [e["path"] for e in body["errors"]] == [["crashed"]]
    # `crashed` is non-null: data is null and `after` never runs, per the spec; the
    # mutations before it ran in order and stay committed.
    assert body["data"] is None
    assert await tag_name(db) == "Py"
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'mixed'") == 1
    assert [r["mutation"] for r in await change_log(db)] == ["createPost", "renameTag"]
    ok = await client.data(fill("""mutation {
      a: countTags
      b: renameTag(id: "%s", name: "Python") { name }
      c: countTags
    }""", TAG_PYTHON))
    assert ok == {"a": 30, "b": {"name": "Python"}, "c": 30}


async def test_a_failed_non_null_python_mutation_nulls_data_and_stops(
        client: AppClient, db: asyncpg.Connection) -> None:
    body = (await client.post_graphql(fill("""mutation {
      crashed: renameTagThenCrash(id: "%s", name: "Never") { name }
      later: createPost(input: {authorId: "%s", title: "Never Runs", body: "b"}) { __typename }
    }""", TAG_PYTHON, USER_1))).json()
    assert await tag_name(db) == "Python"  # rolled back: this part holds today
    assert [e["path"] for e in body["errors"]] == [["crashed"]]
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'never-runs'") == 0
    assert body["data"] is None
