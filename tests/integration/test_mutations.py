"""Mutations on the blog example, end to end on a real database (one fresh clone per test).

Every test checks the GraphQL answer, the rows the function wrote and the
``fraiseql.change_log`` rows the engine wrote in the same statement: one per
effective mutation, none for a no-op or a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest_asyncio

import fraiseql
from examples.blog.app import (
    CreatePost,
    CreatePostError,
    CreatePostInput,
    Post,
    post,
    posts,
)
from examples.blog.app import schema as blog_schema
from fraiseql.testing.client import AppClient, serve_in_thread


def seed_id(key: str) -> str:
    """The id of a seed row (examples/blog/DATA.md: md5('<kind>-<n>')::uuid)."""
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))

def fill(text: str, *values: str) -> str:
    """``text`` with each ``%s`` replaced by the next value (ids in GraphQL documents)."""
    for value in values:
        text = text.replace("%s", value, 1)
    return text


USER_1 = seed_id("user-1")  # liam.nguyen1, 302 posts
USER_5 = seed_id("user-5")  # alice.costa5, null bio
POST_NO_COMMENTS = seed_id("post-9974")  # "Linux Rate Limiters: Lessons Learned", published
POST_8_COMMENTS = seed_id("post-9996")  # archived, 8 comments
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

POST_FIELDS = """id title slug body status publishedAt viewCount rating createdAt updatedAt
                 author { id username fullName email bio } tags { id name slug }
                 comments { id body author { username } }"""
CREATE = fill("""mutation Create($input: CreatePostInput!) {
  createPost(input: $input) {
    __typename
    ... on CreatePostSuccess { message post { %s } }
    ... on CreatePostError { code message conflictingId field }
  }
}""", POST_FIELDS)


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def as_graphql(data: dict[str, Any]) -> dict[str, Any]:
    """A view's ``data`` (snake_case keys, lower-case status) as GraphQL answers it."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "status":
            value = value.upper()
        elif key == "rating" and value is not None:
            value = f"{value:.2f}"
        elif isinstance(value, dict):
            value = as_graphql(value)
        elif isinstance(value, list):
            value = [as_graphql(v) if isinstance(v, dict) else v for v in value]
        out[camel(key)] = value
    return out


def post_answer(data: dict[str, Any]) -> dict[str, Any]:
    """What POST_FIELDS selects of a v_post row."""
    answer = as_graphql(data)
    answer["comments"] = [{"id": c["id"], "body": c["body"],
                           "author": {"username": c["author"]["username"]}}
                          for c in answer["comments"]]
    answer["author"] = {k: answer["author"][k]
                        for k in ("id", "username", "fullName", "email", "bio")}
    return answer


@pytest_asyncio.fixture(loop_scope="session")
async def db(fresh_blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_blog_db_url, server_settings={"TimeZone": "UTC"})
    yield conn
    await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def client(fresh_blog_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(blog_schema, database_url=fresh_blog_db_url)) as c:
        yield c


async def view_row(db: asyncpg.Connection, view: str, id_: str) -> dict[str, Any] | None:
    raw = await db.fetchval(f"SELECT data FROM {view} WHERE id = $1::uuid", id_)
    return None if raw is None else json.loads(raw)


async def change_log(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT * FROM fraiseql.change_log ORDER BY seq")
    out = []
    for row in rows:
        item = dict(row)
        for key in ("entity_after", "entity_before"):
            item[key] = None if item[key] is None else json.loads(item[key])
        out.append(item)
    return out


async def post_count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM tb_post"))


async def create(client: AppClient, **fields: Any) -> dict[str, Any]:
    data = await client.data(CREATE, {"input": {"authorId": USER_1, "body": "Body.", **fields}})
    return data["createPost"]  # type: ignore[no-any-return]


# --- createPost -------------------------------------------------------------------------


async def test_create_post_answers_the_new_post_as_its_view_shows_it(
        client: AppClient, db: asyncpg.Connection) -> None:
    before = await post_count(db)
    data = await client.data(fill("""mutation {
      made: createPost(input: {authorId: "%s", title: "  Hello, Mutations!  ",
                               body: "First.\\n\\nSecond.", status: PUBLISHED,
                               tagSlugs: ["python", "graphql", "python"]}) {
        kind: __typename
        ... on CreatePostSuccess {
          note: message
          entry: post { key: id heading: title slug status publishedAt
                        writer: author { __typename handle: username fullName bio }
                        tags { slug } comments { id } }
        }
        ... on CreatePostError { code }
      }
    }""", USER_5))
    made = data["made"]
    new_id = made["entry"]["key"]
    stored = await view_row(db, "v_post", new_id)
    assert stored is not None
    assert made == {
        "kind": "CreatePostSuccess",
        "note": "post created",
        "entry": {"key": new_id, "heading": "Hello, Mutations!", "slug": "hello-mutations",
                  "status": "PUBLISHED", "publishedAt": stored["published_at"],
                  "writer": {"__typename": "Author", "handle": "alice.costa5",
                             "fullName": "Alice Costa", "bio": None},
                  "tags": [{"slug": "graphql"}, {"slug": "python"}], "comments": []}}
    assert stored["published_at"] is not None
    row = await db.fetchrow("SELECT author_id::text, title, slug, body, status, view_count "
                            "FROM tb_post WHERE id = $1::uuid", new_id)
    assert row is not None
    assert dict(row) == {"author_id": USER_5, "title": "Hello, Mutations!",
                         "slug": "hello-mutations", "body": "First.\n\nSecond.",
                         "status": "published", "view_count": 0}
    assert await post_count(db) == before + 1
    [log] = await change_log(db)
    assert {k: log[k] for k in ("entity_type", "entity_id", "operation", "mutation",
                                "entity_before", "actor", "tenant_id", "trace_id")} == {
        "entity_type": "Post", "entity_id": new_id, "operation": "INSERT",
        "mutation": "createPost", "entity_before": None, "actor": None, "tenant_id": None,
        "trace_id": None}
    assert log["entity_after"] == stored
    assert log["updated_fields"] == ["author_id", "title", "body", "status", "tag_slugs"]


async def test_create_post_every_post_field_matches_the_view(
        client: AppClient, db: asyncpg.Connection) -> None:
    made = await create(client, title="Every field")
    assert made["__typename"] == "CreatePostSuccess" and made["message"] == "post created"
    stored = await view_row(db, "v_post", made["post"]["id"])
    assert stored is not None
    assert made["post"] == post_answer(stored)
    assert made["post"]["status"] == "DRAFT" and made["post"]["publishedAt"] is None
    assert made["post"]["viewCount"] == 0 and made["post"]["rating"] is None
    assert made["post"]["createdAt"] == made["post"]["updatedAt"]


async def test_create_post_with_fragments_and_variables_in_the_selection(
        client: AppClient, db: asyncpg.Connection) -> None:
    data = await client.data("""
      mutation($input: CreatePostInput!, $withTags: Boolean!) {
        createPost(input: $input) { ...Outcome }
      }
      fragment Outcome on CreatePostResult {
        ... on CreatePostSuccess { post { title tags @include(if: $withTags) { name } } }
        ... on CreatePostError { message }
      }""", {"input": {"authorId": USER_1, "title": "Fragments", "body": "b",
                       "tagSlugs": ["rust"]}, "withTags": False})
    assert data == {"createPost": {"post": {"title": "Fragments"}}}
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'fragments'") == 1


# cascade: the blog's success type has no `cascade` field; this one does.
@fraiseql.success
class CascadeCreateSuccess:
    """The post was created; cascade lists the other entities it touched."""

    post: Post
    message: str | None
    cascade: fraiseql.JSON | None


@fraiseql.mutation(function="fn_create_post", operation="INSERT")
class CreatePostWithCascade:
    """createPost answering cascade too."""

    input: CreatePostInput
    success: CascadeCreateSuccess
    error: CreatePostError


cascade_schema = fraiseql.build_schema(queries=[posts, post],
                                       mutations=[CreatePost, CreatePostWithCascade])


async def test_cascade_appears_only_when_selected(fresh_blog_db_url: str,
                                                  db: asyncpg.Connection) -> None:
    query = """mutation($input: CreatePostInput!) {
      createPostWithCascade(input: $input) {
        ... on CascadeCreateSuccess { post { title } %s }
      }
    }"""
    async with AppClient(fraiseql.create_app(cascade_schema,
                                             database_url=fresh_blog_db_url)) as c:
        selected = await c.data(fill(query, "cascade"),
                                {"input": {"authorId": USER_5, "title": "With", "body": "b"}})
        plain = await c.data(fill(query, ""),
                             {"input": {"authorId": USER_5, "title": "Without", "body": "b"}})
        aliased = await c.data(fill(query, "touched: cascade message"),
                               {"input": {"authorId": USER_5, "title": "Aliased", "body": "b"}})
    author = await view_row(db, "v_user", USER_5)
    assert author is not None and author["post_count"] == 92 + 3  # read after all three
    result = selected["createPostWithCascade"]
    assert result["post"] == {"title": "With"}
    assert set(result) == {"post", "cascade"}
    # the function's cascade is the author as v_user showed it inside the first create
    assert result["cascade"] == {"author": {**author, "post_count": 92 + 1}}
    assert plain == {"createPostWithCascade": {"post": {"title": "Without"}}}
    assert aliased["createPostWithCascade"]["touched"]["author"]["post_count"] == 92 + 3
    assert aliased["createPostWithCascade"]["message"] == "post created"
    assert [r["mutation"] for r in await change_log(db)] == ["createPostWithCascade"] * 3


# --- updatePost -------------------------------------------------------------------------

UPDATE = fill("""mutation($input: UpdatePostInput!) {
  updatePost(input: $input) {
    __typename
    ... on UpdatePostSuccess { message updatedFields post { %s } }
    ... on UpdatePostError { code message field }
  }
}""", POST_FIELDS)


async def test_update_post_noop_answers_the_current_post_and_logs_nothing(
        client: AppClient, db: asyncpg.Connection) -> None:
    current = await view_row(db, "v_post", POST_NO_COMMENTS)
    assert current is not None
    for changes in ({}, {"title": current["title"]},
                    {"title": f"  {current['title']}\t", "status": "PUBLISHED"}):
        data = await client.data(UPDATE, {"input": {"id": POST_NO_COMMENTS, **changes}})
        assert data["updatePost"] == {"__typename": "UpdatePostSuccess",
                                      "message": "nothing to change", "updatedFields": None,
                                      "post": post_answer(current)}
    assert await view_row(db, "v_post", POST_NO_COMMENTS) == current  # updated_at too
    assert await change_log(db) == []


async def test_update_post_effective_logs_before_and_after(
        client: AppClient, db: asyncpg.Connection) -> None:
    before = await view_row(db, "v_post", POST_NO_COMMENTS)
    assert before is not None
    data = await client.data(UPDATE, {"input": {
        "id": POST_NO_COMMENTS, "title": "Rate Limiters, Revisited", "status": "ARCHIVED",
        "body": before["body"]}})
    after = await view_row(db, "v_post", POST_NO_COMMENTS)
    assert after is not None
    result = data["updatePost"]
    assert result == {"__typename": "UpdatePostSuccess", "message": "post updated",
                      "updatedFields": ["title", "status"], "post": post_answer(after)}
    assert after["title"] == "Rate Limiters, Revisited" and after["status"] == "archived"
    assert after["slug"] == before["slug"]  # the permalink is fixed at creation
    assert after["published_at"] == before["published_at"]
    assert after["updated_at"] > before["updated_at"]
    [log] = await change_log(db)
    assert log["operation"] == "UPDATE" and log["mutation"] == "updatePost"
    assert (log["entity_type"], log["entity_id"]) == ("Post", POST_NO_COMMENTS)
    assert log["updated_fields"] == ["title", "status"]
    assert log["entity_before"] == before
    assert log["entity_after"] == after


async def test_update_post_back_to_draft_clears_published_at(
        client: AppClient, db: asyncpg.Connection) -> None:
    data = await client.data(UPDATE, {"input": {"id": POST_NO_COMMENTS, "status": "DRAFT"}})
    assert data["updatePost"]["updatedFields"] == ["status"]
    assert data["updatePost"]["post"]["publishedAt"] is None
    assert await db.fetchval("SELECT published_at FROM tb_post WHERE id = $1::uuid",
                             POST_NO_COMMENTS) is None


# --- deletePost -------------------------------------------------------------------------


async def test_delete_post_answers_the_deleted_post_and_logs_a_delete(
        client: AppClient, db: asyncpg.Connection) -> None:
    before = await view_row(db, "v_post", POST_8_COMMENTS)
    assert before is not None and len(before["comments"]) == 8
    query = """mutation($id: ID!) { deletePost(input: {id: $id}) {
      __typename
      ... on DeletePostSuccess { message post { id title comments { id } } }
      ... on DeletePostError { code message } } }"""
    data = await client.data(query, {"id": POST_8_COMMENTS})
    assert data["deletePost"] == {
        "__typename": "DeletePostSuccess", "message": "post deleted",
        "post": {"id": POST_8_COMMENTS, "title": before["title"],
                 "comments": [{"id": c["id"]} for c in before["comments"]]}}
    assert await view_row(db, "v_post", POST_8_COMMENTS) is None
    assert await db.fetchval("SELECT count(*) FROM tb_comment WHERE post_id = $1::uuid",
                             POST_8_COMMENTS) == 0
    assert await db.fetchval("SELECT count(*) FROM tb_post_tag WHERE post_id = $1::uuid",
                             POST_8_COMMENTS) == 0
    [log] = await change_log(db)
    assert (log["operation"], log["mutation"], log["entity_id"]) == (
        "DELETE", "deletePost", POST_8_COMMENTS)
    assert log["entity_after"] == before and log["entity_before"] == before
    # Deleting it again: not_found, and still one change-log row.
    again = await client.data(query, {"id": POST_8_COMMENTS})
    assert again["deletePost"] == {"__typename": "DeletePostError", "code": "not_found",
                                   "message": "post not found"}
    assert len(await change_log(db)) == 1


# --- addComment (direct form: the Comment itself) ------------------------------------------


async def test_add_comment_returns_the_comment(client: AppClient,
                                               db: asyncpg.Connection) -> None:
    data = await client.data("""mutation($input: AddCommentInput!) {
      addComment(input: $input) { __typename id body createdAt who: author { username fullName } }
    }""", {"input": {"postId": POST_NO_COMMENTS, "authorId": USER_5, "body": "  Nice!  "}})
    comment = data["addComment"]
    stored = await view_row(db, "v_comment", comment["id"])
    assert stored is not None
    assert comment == {"__typename": "Comment", "id": stored["id"], "body": "Nice!",
                       "createdAt": stored["created_at"],
                       "who": {"username": "alice.costa5", "fullName": "Alice Costa"}}
    row = await db.fetchrow("SELECT post_id::text, author_id::text, body FROM tb_comment "
                            "WHERE id = $1::uuid", comment["id"])
    assert row is not None
    assert dict(row) == {"post_id": POST_NO_COMMENTS, "author_id": USER_5, "body": "Nice!"}
    on_post = await client.data(fill('{ post(id: "%s") { comments { id body } } }',
                                     POST_NO_COMMENTS))
    assert on_post["post"]["comments"] == [{"id": comment["id"], "body": "Nice!"}]
    [log] = await change_log(db)
    assert (log["entity_type"], log["entity_id"], log["operation"], log["mutation"]) == (
        "Comment", comment["id"], "INSERT", "addComment")
    assert log["entity_after"] == stored and log["updated_fields"] is None


# --- the change log across a session -------------------------------------------------------


async def test_change_log_has_one_row_per_effective_mutation(
        client: AppClient, db: asyncpg.Connection) -> None:
    made = await create(client, title="Logged")
    assert made["__typename"] == "CreatePostSuccess"
    new_id = made["post"]["id"]
    failed = await create(client, title="Logged")  # conflict: no row
    assert failed["code"] == "conflict"
    noop = await client.data(UPDATE, {"input": {"id": new_id, "title": "Logged"}})
    assert noop["updatePost"]["message"] == "nothing to change"
    changed = await client.data(UPDATE, {"input": {"id": new_id, "body": "New body."}})
    assert changed["updatePost"]["updatedFields"] == ["body"]
    bad = await client.data(UPDATE, {"input": {"id": UNKNOWN_ID, "body": "x"}})
    assert bad["updatePost"]["code"] == "not_found"
    comment = await client.data(fill("""mutation { addComment(input: {postId: "%s", authorId: "%s",
                                   body: "hi"}) { id } }""", new_id, USER_1))
    deleted = await client.data(fill(
        'mutation { deletePost(input: {id: "%s"}) { __typename } }', new_id))
    assert deleted["deletePost"]["__typename"] == "DeletePostSuccess"
    log = await change_log(db)
    assert [(r["entity_type"], r["entity_id"], r["operation"], r["mutation"]) for r in log] == [
        ("Post", new_id, "INSERT", "createPost"),
        ("Post", new_id, "UPDATE", "updatePost"),
        ("Comment", comment["addComment"]["id"], "INSERT", "addComment"),
        ("Post", new_id, "DELETE", "deletePost")]
    assert log[1]["entity_before"]["body"] == "Body."
    assert log[1]["entity_after"]["body"] == "New body."
    assert log[3]["entity_after"]["comments"][0]["body"] == "hi"
    assert [r["seq"] for r in log] == sorted(r["seq"] for r in log)
    assert all(a["created_at"] < b["created_at"] for a, b in itertools.pairwise(log))


# --- several mutations in one document -----------------------------------------------------


async def test_a_failing_second_mutation_leaves_the_first_committed(
        client: AppClient, db: asyncpg.Connection) -> None:
    before = await post_count(db)
    data = await client.data("""mutation($ok: CreatePostInput!, $bad: CreatePostInput!) {
      first: createPost(input: $ok) { __typename ... on CreatePostSuccess { post { id } } }
      second: createPost(input: $bad) { __typename ... on CreatePostError { code message } }
    }""", {"ok": {"authorId": USER_1, "title": "Stays", "body": "b"},
           "bad": {"authorId": UNKNOWN_ID, "title": "Goes", "body": "b"}})
    assert data["second"] == {"__typename": "CreatePostError", "code": "not_found",
                              "message": "author not found"}
    assert data["first"]["__typename"] == "CreatePostSuccess"
    assert await post_count(db) == before + 1
    assert await db.fetchval("SELECT id::text FROM tb_post WHERE slug = 'stays'") \
        == data["first"]["post"]["id"]
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'goes'") == 0
    assert [r["entity_id"] for r in await change_log(db)] == [data["first"]["post"]["id"]]


async def test_mutations_run_in_document_order_and_see_earlier_writes(
        client: AppClient, db: asyncpg.Connection) -> None:
    body = await client.post_graphql(fill("""mutation {
      b: createPost(input: {authorId: "%s", title: "Same Title", body: "one"}) {
        ... on CreatePostSuccess { post { id body } } }
      a: createPost(input: {authorId: "%s", title: "same title!", body: "two"}) {
        ... on CreatePostError { code conflictingId } }
    }""", USER_1, USER_5))
    data = body.json()["data"]
    assert list(data) == ["b", "a"]  # response keys in document order
    first_id = data["b"]["post"]["id"]
    assert data["a"] == {"code": "conflict", "conflictingId": first_id}
    assert await db.fetchval("SELECT body FROM tb_post WHERE slug = 'same-title'") == "one"
    assert len(await change_log(db)) == 1


async def test_a_failing_non_null_mutation_nulls_data_and_stops_the_operation(
        client: AppClient, db: asyncpg.Connection) -> None:
    """addComment returns Comment! (no error member): its failure is a GraphQL error that
    nulls `data`; serial execution stops there, so the third mutation never runs."""
    body = (await client.post_graphql(fill("""mutation {
      one: createPost(input: {authorId: "%s", title: "Before The Failure", body: "b"}) {
        __typename }
      two: addComment(input: {postId: "%s", authorId: "%s", body: "orphan"}) { id }
      three: createPost(input: {authorId: "%s", title: "After The Failure", body: "b"}) {
        __typename }
    }""", USER_1, UNKNOWN_ID, USER_1, USER_1))).json()
    assert body["data"] is None
    assert [(e["path"], e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
        (["two"], "NOT_FOUND", "post not found")]
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'before-the-failure'") == 1
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'after-the-failure'") == 0
    assert [r["mutation"] for r in await change_log(db)] == ["createPost"]


async def test_a_skipped_mutation_does_not_run(client: AppClient,
                                               db: asyncpg.Connection) -> None:
    query = fill("""mutation($skip: Boolean!, $input: CreatePostInput!) {
      a: createPost(input: $input) @skip(if: $skip) { __typename }
      b: deletePost(input: {id: "%s"}) @include(if: false) { __typename }
    }""", POST_NO_COMMENTS)
    variables = {"input": {"authorId": USER_1, "title": "Skipped", "body": "b"}}
    assert await client.data(query, {"skip": True, **variables}) == {}
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'skipped'") == 0
    assert await view_row(db, "v_post", POST_NO_COMMENTS) is not None
    assert await change_log(db) == []
    assert await client.data(query, {"skip": False, **variables}) == {
        "a": {"__typename": "CreatePostSuccess"}}
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'skipped'") == 1


async def test_typename_root_in_a_mutation(client: AppClient) -> None:
    data = await client.data(fill("""mutation { __typename
      d: deletePost(input: {id: "%s"}) { __typename } }""", UNKNOWN_ID))
    assert data == {"__typename": "Mutation", "d": {"__typename": "DeletePostError"}}


# --- concurrency ---------------------------------------------------------------------------


async def test_twenty_concurrent_creates_of_one_title_yield_one_post(
        fresh_blog_db_url: str, db: asyncpg.Connection) -> None:
    """Over a real socket: all 20 pass the function's friendly slug check or race on
    the unique index; either way exactly one wins and 19 get the conflict member."""
    query = """mutation($input: CreatePostInput!) { createPost(input: $input) {
      __typename ... on CreatePostSuccess { post { id } }
      ... on CreatePostError { code message conflictingId } } }"""
    app = fraiseql.create_app(blog_schema, database_url=fresh_blog_db_url, pool_max_size=20)
    with serve_in_thread(app) as server:
        async with httpx.AsyncClient(timeout=30) as http:
            responses = await asyncio.gather(*[
                http.post(server.graphql_url, json={"query": query, "variables": {"input": {
                    "authorId": USER_1, "title": "Race", "body": f"client {i}"}}})
                for i in range(20)])
    bodies = [r.json() for r in responses]
    assert all(r.status_code == 200 and "errors" not in b for r, b in zip(responses, bodies))
    results = [b["data"]["createPost"] for b in bodies]
    winners = [r for r in results if r["__typename"] == "CreatePostSuccess"]
    losers = [r for r in results if r["__typename"] == "CreatePostError"]
    assert len(winners) == 1 and len(losers) == 19
    assert {r["code"] for r in losers} == {"conflict"}
    rows = await db.fetch("SELECT id::text FROM tb_post WHERE slug = 'race'")
    assert [r[0] for r in rows] == [winners[0]["post"]["id"]]
    # A loser either saw the committed post (the function's friendly conflict) or lost the
    # race on tb_post_slug_key (SQLSTATE 23505, answered by the engine without metadata).
    for loser in losers:
        assert (loser["message"], loser["conflictingId"]) in {
            ("a post with this title already exists", rows[0][0]),
            ("the change conflicts with existing data", None)}
    log = await change_log(db)
    assert [(r["entity_id"], r["mutation"]) for r in log] == [(rows[0][0], "createPost")]


# --- mutations over GET ---------------------------------------------------------------------


async def test_a_mutation_over_get_is_405_and_runs_nothing(
        client: AppClient, db: asyncpg.Connection) -> None:
    mutation = fill("""mutation M {
      createPost(input: {authorId: "%s", title: "Over GET", body: "b"}) { __typename } }""",
                    USER_1)
    document = "query Q { posts(limit: 1) { id } }\n" + mutation
    for text, operation in ((mutation, None), (mutation, "M"), (document, "M")):
        response = await client.get_graphql(text, operation_name=operation)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
    assert (await client.get_graphql(document, operation_name="Q")).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM tb_post WHERE slug = 'over-get'") == 0
    assert await change_log(db) == []
    posted = await client.post_graphql(document, operation_name="M")
    assert posted.json() == {"data": {"createPost": {"__typename": "CreatePostSuccess"}}}


# --- context params and the change log's request context ----------------------------------

WHOAMI_SQL = """
CREATE FUNCTION fn_whoami(user_id text, input jsonb) RETURNS fraiseql.mutation_result
LANGUAGE sql AS $$
    SELECT fraiseql.noop(NULL, NULL, NULL, 'you are ' || coalesce(user_id, 'nobody'),
                         jsonb_build_object('user_id', user_id, 'input', input))
$$;
"""


@fraiseql.input
class WhoamiInput:
    """Anything; a user_id here is just data, never the caller's identity."""

    note: str | None = fraiseql.UNSET
    user_id: str | None = fraiseql.UNSET


@fraiseql.success
class WhoamiSuccess:
    """Who the function was told the caller is."""

    message: str | None
    user_id: str | None
    input: fraiseql.JSON


@fraiseql.mutation(function="fn_whoami", context_params=["user_id"])
class Whoami:
    """Echo the user id the server passed."""

    input: WhoamiInput
    success: WhoamiSuccess


context_schema = fraiseql.build_schema(queries=[posts], mutations=[Whoami, CreatePost])
WHOAMI = "mutation($input: WhoamiInput!) { whoami(input: $input) { message userId input } }"


async def test_context_params_come_from_the_request_context_only(
        fresh_blog_db_url: str, db: asyncpg.Connection) -> None:
    await db.execute(WHOAMI_SQL)
    app = fraiseql.create_app(context_schema, database_url=fresh_blog_db_url)
    async with AppClient(app) as c:
        outcome = await app.engine.run(WHOAMI, {"input": {"note": "hi"}}, None,
                                       context={"user_id": "u-1"})
        assert json.loads(outcome.body) == {"data": {"whoami": {
            "message": "you are u-1", "userId": "u-1", "input": {"note": "hi"}}}}
        # The client can only put a user_id into the input: the parameter stays the context's.
        spoof = await app.engine.run(WHOAMI, {"input": {"userId": "admin"}}, None,
                                     context={"user_id": "u-1"})
        assert json.loads(spoof.body)["data"]["whoami"] == {
            "message": "you are u-1", "userId": "u-1", "input": {"user_id": "admin"}}
        # Over HTTP there is no such context (yet): the parameter is NULL, never the input's.
        over_http = await c.data(WHOAMI, {"input": {"userId": "admin"}})
        assert over_http["whoami"] == {"message": "you are nobody", "userId": None,
                                       "input": {"user_id": "admin"}}
        unknown = (await c.post_graphql(
            'mutation { whoami(input: {note: "x"}, userId: "admin") { message } }')).json()
        assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        # The change log records the request context of an effective mutation.
        created = await app.engine.run(
            CREATE, {"input": {"authorId": USER_1, "title": "Context", "body": "b"}}, None,
            context={"user_id": "u-1", "tenant_id": "t-9", "trace_id": "trace-abc"})
        post_id = json.loads(created.body)["data"]["createPost"]["post"]["id"]
    [log] = await change_log(db)  # whoami is a noop: not logged
    assert (log["entity_id"], log["actor"], log["tenant_id"], log["trace_id"]) == (
        post_id, "u-1", "t-9", "trace-abc")
