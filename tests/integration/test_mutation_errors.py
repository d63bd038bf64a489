"""Mutation failures: the error classes the functions return, SQL errors raised inside
a function, illegal results, timeouts and malformed input. Whatever fails leaves
nothing behind: no partial write and no ``fraiseql.change_log`` row.
"""

from __future__ import annotations

import enum
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
from examples.blog.app import CreatePost, Tag, UpdatePost, posts
from examples.blog.app import schema as blog_schema
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
POST_NO_COMMENTS = seed_id("post-9974")  # "Linux Rate Limiters: Lessons Learned"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest_asyncio.fixture(loop_scope="session")
async def db(fresh_blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_blog_db_url, server_settings={"TimeZone": "UTC"})
    yield conn
    await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def client(fresh_blog_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(blog_schema, database_url=fresh_blog_db_url)) as c:
        yield c


TABLES = ("tb_post", "tb_comment", "tb_tag", "tb_post_tag", "tb_user", "fraiseql.change_log")


async def snapshot(db: asyncpg.Connection) -> tuple[int, list[int]]:
    """The next transaction id and the row counts of every table a mutation could write."""
    xid = await db.fetchval("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
    counts = await db.fetchrow(
        "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES))
    assert counts is not None
    return int(xid), list(counts)


async def assert_nothing_written(db: asyncpg.Connection, before: tuple[int, list[int]]) -> None:
    """Same row counts, and no row version committed since ``before`` (inserts and
    updates leave one; deletes change the counts)."""
    xid, counts = before
    assert (await snapshot(db))[1] == counts
    written = await db.fetch(" UNION ALL ".join(
        f"SELECT '{t}', count(*) FROM {t} WHERE xmin::text::bigint >= $1" for t in TABLES),
        xid % 2**32)
    assert {r[0]: r[1] for r in written} == dict.fromkeys(TABLES, 0)


async def change_log_count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM fraiseql.change_log"))


CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  __typename
  ... on CreatePostSuccess { post { id title } }
  ... on CreatePostError { code message conflictingId field } } }"""
UPDATE = """mutation($input: UpdatePostInput!) { updatePost(input: $input) {
  __typename
  ... on UpdatePostSuccess { updatedFields post { title body } }
  ... on UpdatePostError { code message field } } }"""
ADD_COMMENT = "mutation($input: AddCommentInput!) { addComment(input: $input) { id body } }"


def create_input(**fields: Any) -> dict[str, Any]:
    return {"input": {"authorId": USER_1, "title": "A title", "body": "A body.", **fields}}


# --- error classes returned by the blog's functions --------------------------------------


@pytest.mark.parametrize(("fields", "error"), [
    ({"title": " \t "}, ("validation", "title must not be blank", "title")),
    ({"title": "!!!"}, ("validation", "title must contain at least one letter or digit (A-Z, 0-9)",
                        "title")),
    ({"title": "x" * 201}, ("validation", "title must be at most 200 characters", "title")),
    ({"body": "   "}, ("validation", "body must not be blank", "body")),
    ({"authorId": "not-a-uuid"}, ("validation", "author_id is not a valid id", "author_id")),
    ({"tagSlugs": ["python", "no-such-tag"]}, ("validation", "unknown tag slug: no-such-tag",
                                               "tag_slugs")),
    ({"authorId": UNKNOWN_ID}, ("not_found", "author not found", None)),
])
async def test_create_post_error_classes(client: AppClient, db: asyncpg.Connection,
                                         fields: dict[str, Any],
                                         error: tuple[str, str, str | None]) -> None:
    before = await snapshot(db)
    data = await client.data(CREATE, create_input(**fields))
    code, message, field = error
    assert data["createPost"] == {"__typename": "CreatePostError", "code": code,
                                  "message": message, "conflictingId": None, "field": field}
    await assert_nothing_written(db, before)


async def test_create_post_conflict_names_the_existing_post(client: AppClient,
                                                            db: asyncpg.Connection) -> None:
    before = await snapshot(db)
    # post-9974's slug is linux-rate-limiters-lessons-learned-9974
    data = await client.data(CREATE, create_input(
        title="Linux: Rate-Limiters -- Lessons Learned (9974)"))
    assert data["createPost"] == {
        "__typename": "CreatePostError", "code": "conflict",
        "message": "a post with this title already exists",
        "conflictingId": POST_NO_COMMENTS, "field": None}
    await assert_nothing_written(db, before)


@pytest.mark.parametrize(("fields", "error"), [
    ({"id": UNKNOWN_ID, "title": "x"}, ("not_found", "post not found", None)),
    ({"id": "12345", "title": "x"}, ("validation", "id is not a valid id", "id")),
    ({"id": POST_NO_COMMENTS, "title": "  "}, ("validation", "title must not be blank", "title")),
    ({"id": POST_NO_COMMENTS, "body": "\n"}, ("validation", "body must not be blank", "body")),
])
async def test_update_post_error_classes(client: AppClient, db: asyncpg.Connection,
                                         fields: dict[str, Any],
                                         error: tuple[str, str, str | None]) -> None:
    before = await snapshot(db)
    data = await client.data(UPDATE, {"input": fields})
    code, message, field = error
    assert data["updatePost"] == {"__typename": "UpdatePostError", "code": code,
                                  "message": message, "field": field}
    await assert_nothing_written(db, before)


@pytest.mark.parametrize(("fields", "code", "message"), [
    ({"postId": UNKNOWN_ID}, "NOT_FOUND", "post not found"),
    ({"authorId": UNKNOWN_ID}, "NOT_FOUND", "author not found"),
    ({"body": "  \t "}, "VALIDATION", "body must not be blank"),
    ({"body": "x" * 2001}, "VALIDATION", "body must be at most 2000 characters"),
    ({"postId": "nope"}, "VALIDATION", "post_id is not a valid id"),
])
async def test_add_comment_failures_are_graphql_errors(
        client: AppClient, db: asyncpg.Connection, fields: dict[str, Any], code: str,
        message: str) -> None:
    before = await snapshot(db)
    response = await client.post_graphql(ADD_COMMENT, {"input": {
        "postId": POST_NO_COMMENTS, "authorId": USER_1, "body": "hello", **fields}})
    assert response.status_code == 200
    assert response.json() == {"data": None, "errors": [{
        "message": message, "path": ["addComment"],
        "extensions": {"code": code, "errorClass": code.lower()}}]}
    await assert_nothing_written(db, before)


# --- SQL errors raised inside a function ----------------------------------------------------

# Inserts a tag first (a partial write), then fails the way `kind` says.
FAIL_SQL = r"""
CREATE TABLE tb_limited (n integer CONSTRAINT tb_limited_n_check CHECK (n < 10));
CREATE FUNCTION fn_fail(input jsonb) RETURNS fraiseql.mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    k text := input->>'kind';
    v_id uuid := gen_random_uuid();
BEGIN
    INSERT INTO tb_tag (id, name, slug) VALUES (v_id, 'Partial ' || k, 'partial-' || k);
    IF k = 'unique' THEN
        INSERT INTO tb_tag (name, slug) VALUES ('Another', 'partial-unique');
    ELSIF k = 'check' THEN
        INSERT INTO tb_limited VALUES (10);
    ELSIF k = 'fk' THEN
        INSERT INTO tb_post_tag (post_id, tag_id) VALUES (gen_random_uuid(), v_id);
    ELSIF k = 'not_null' THEN
        INSERT INTO tb_tag (name, slug) VALUES (NULL, 'x');
    ELSIF k = 'cast' THEN
        PERFORM (input->>'kind')::integer;
    ELSIF k = 'divide' THEN
        PERFORM 1 / 0;
    ELSIF k = 'raise' THEN
        RAISE EXCEPTION 'secret detail: password=hunter2';
    ELSIF k = 'undefined' THEN
        PERFORM no_such_function();
    ELSIF k = 'sleep' THEN
        PERFORM pg_sleep(5);
    ELSIF k = 'illegal' THEN
        RETURN ROW(false, true, 'validation', 'half done', v_id::text, 'Tag', NULL, NULL, NULL,
                   NULL)::fraiseql.mutation_result;
    ELSIF k = 'null' THEN
        RETURN NULL;
    ELSIF k = 'bad_class' THEN
        RETURN ROW(false, false, 'oops', 'm', NULL, NULL, NULL, NULL, NULL,
                   NULL)::fraiseql.mutation_result;
    END IF;
    RETURN fraiseql.success('Tag', v_id::text, (SELECT data FROM v_tag WHERE id = v_id), 'ok');
END
$$;
"""


@fraiseql.input
class FailInput:
    """How fn_fail should fail."""

    kind: str


@fraiseql.success
class FailSuccess:
    """fn_fail did not fail."""

    tag: Tag
    message: str | None


@fraiseql.error
class FailError:
    """fn_fail failed."""

    code: str
    message: str | None


@fraiseql.mutation(function="fn_fail", operation="INSERT")
class FailMember:
    """Failures answered by the error member."""

    input: FailInput
    success: FailSuccess
    error: FailError


@fraiseql.mutation(function="fn_fail", operation="INSERT")
class FailDirect:
    """Failures answered by GraphQL errors (the Tag itself on success)."""

    input: FailInput
    success: Tag


fail_schema = fraiseql.build_schema(queries=[posts], mutations=[FailMember, FailDirect])
MEMBER = """mutation($kind: String!) { failMember(input: {kind: $kind}) {
  __typename ... on FailSuccess { message tag { slug } } ... on FailError { code message } } }"""
DIRECT = "mutation($kind: String!) { failDirect(input: {kind: $kind}) { slug } }"
REFUSED = "the input was refused by the database"


@pytest_asyncio.fixture(loop_scope="session")
async def fail_app(fresh_blog_db_url: str, db: asyncpg.Connection) -> AsyncIterator[AppClient]:
    await db.execute(FAIL_SQL)
    async with AppClient(fraiseql.create_app(fail_schema, database_url=fresh_blog_db_url,
                                             statement_timeout_ms=300)) as c:
        yield c


async def test_the_test_function_writes_when_it_does_not_fail(
        fail_app: AppClient, db: asyncpg.Connection) -> None:
    assert (await fail_app.data(MEMBER, {"kind": "ok"}))["failMember"] == {
        "__typename": "FailSuccess", "message": "ok", "tag": {"slug": "partial-ok"}}
    assert (await fail_app.data(DIRECT, {"kind": "fine"}))["failDirect"] == {
        "slug": "partial-fine"}
    assert await db.fetchval("SELECT count(*) FROM tb_tag WHERE slug LIKE 'partial-%'") == 2
    assert [tuple(r) for r in await db.fetch(
        "SELECT mutation, operation FROM fraiseql.change_log ORDER BY seq")] == [
        ("failMember", "INSERT"), ("failDirect", "INSERT")]


@pytest.mark.parametrize(("kind", "code", "message", "constraint"), [
    ("unique", "conflict", "the change conflicts with existing data", "tb_tag_slug_key"),
    ("check", "validation", REFUSED, "tb_limited_n_check"),
    ("fk", "validation", REFUSED, "tb_post_tag_post_id_fkey"),
    ("not_null", "validation", REFUSED, None),  # PostgreSQL names no constraint here
    ("cast", "validation", REFUSED, None),
    ("divide", "validation", REFUSED, None),
    ("sleep", "timeout", "the mutation took longer than the configured timeout", None),
])
async def test_sql_errors_inside_a_function_become_error_classes(
        fail_app: AppClient, db: asyncpg.Connection, kind: str, code: str, message: str,
        constraint: str | None) -> None:
    before = await snapshot(db)
    member = await fail_app.data(MEMBER, {"kind": kind})
    assert member == {"failMember": {"__typename": "FailError", "code": code,
                                     "message": message}}
    direct = (await fail_app.post_graphql(DIRECT, {"kind": kind})).json()
    extensions: dict[str, Any] = {"code": code.upper(), "errorClass": code}
    if constraint is not None:
        extensions["constraint"] = constraint
    assert direct == {"data": None, "errors": [{"message": message, "path": ["failDirect"],
                                                "extensions": extensions}]}
    await assert_nothing_written(db, before)  # the partial tag is gone too


async def test_a_raised_error_fills_the_selected_error_member_fields(
        fail_app: AppClient, db: asyncpg.Connection) -> None:
    before = await snapshot(db)
    data = await fail_app.data("""mutation {
      x: failMember(input: {kind: "unique"}) {
        t: __typename
        ... on FailError { c: code m: message code }
        ... on FailSuccess { message }
      }
      y: failMember(input: {kind: "check"}) { ... on FailError { message } }
    }""")
    assert data == {"x": {"t": "FailError", "c": "conflict",
                          "m": "the change conflicts with existing data", "code": "conflict"},
                    "y": {"message": REFUSED}}
    await assert_nothing_written(db, before)


@pytest.mark.parametrize("kind", ["raise", "undefined"])
async def test_an_unexpected_error_is_masked_and_rolled_back(
        fail_app: AppClient, db: asyncpg.Connection, kind: str,
        caplog: pytest.LogCaptureFixture) -> None:
    before = await snapshot(db)
    with caplog.at_level(logging.ERROR, logger="fraiseql"):
        member = (await fail_app.post_graphql(MEMBER, {"kind": kind})).json()
        direct = (await fail_app.post_graphql(DIRECT, {"kind": kind})).json()
    # The union is nullable: the field is null; Tag! is not: data is null.
    assert member["data"] == {"failMember": None}
    assert direct["data"] is None
    ids = []
    for body, path in ((member, "failMember"), (direct, "failDirect")):
        [error] = body["errors"]
        assert error["message"] == "Internal server error" and error["path"] == [path]
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert set(error["extensions"]) == {"code", "errorId"}
        ids.append(error["extensions"]["errorId"])
        assert "hunter2" not in json.dumps(body)
    assert ids[0] != ids[1]
    logged = "\n".join(r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records)
    assert all(error_id in logged for error_id in ids)  # the id leads to the logged cause
    await assert_nothing_written(db, before)


@pytest.mark.parametrize(("kind", "problem"), [
    ("illegal", "succeeded = false with state_changed = true"),
    ("null", "the result is null"),
    ("bad_class", "error_class 'oops' is not one of"),
])
async def test_an_illegal_result_is_refused_and_nothing_commits(
        fail_app: AppClient, db: asyncpg.Connection, kind: str, problem: str,
        caplog: pytest.LogCaptureFixture) -> None:
    before = await snapshot(db)
    with caplog.at_level(logging.ERROR, logger="fraiseql"):
        member = (await fail_app.post_graphql(MEMBER, {"kind": kind})).json()
        direct = (await fail_app.post_graphql(DIRECT, {"kind": kind})).json()
    assert member["data"] == {"failMember": None} and direct["data"] is None
    for body, path in ((member, "failMember"), (direct, "failDirect")):
        [error] = body["errors"]
        assert error["message"] == f"{path}: the mutation function returned an invalid result"
        assert error["path"] == [path]
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert error["extensions"]["errorId"] in caplog.text
    assert f"illegal mutation result: {problem}" in caplog.text
    await assert_nothing_written(db, before)


async def test_the_app_keeps_serving_after_failures(fail_app: AppClient,
                                                    db: asyncpg.Connection) -> None:
    for kind in ("raise", "illegal", "sleep", "unique", "cast"):
        await fail_app.post_graphql(MEMBER, {"kind": kind})
    assert (await fail_app.data(MEMBER, {"kind": "after"}))["failMember"]["tag"] == {
        "slug": "partial-after"}
    assert await change_log_count(db) == 1


# --- malformed input ------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "code", "fragment"), [
    # literals in the document: validation refuses them
    ('mutation { createPost(input: {title: "t", body: "b"}) { __typename } }',
     "GRAPHQL_VALIDATION_FAILED", "authorId"),
    (fill('mutation { createPost(input: {authorId: "%s", title: 5, body: "b"}) { __typename } }',
     USER_1), "GRAPHQL_VALIDATION_FAILED", "String cannot represent a non string value"),
    (fill('mutation { createPost(input: {authorId: "%s", title: "t", body: "b", status: BOGUS}) '
     '{ __typename } }', USER_1), "GRAPHQL_VALIDATION_FAILED", "BOGUS"),
    (fill('mutation { createPost(input: {authorId: "%s", title: "t", body: "b", status: "DRAFT"}) '
     '{ __typename } }', USER_1), "GRAPHQL_VALIDATION_FAILED", "Enum"),
    (fill('mutation { createPost(input: {authorId: "%s", title: "t", body: "b", slug: "x"}) '
     '{ __typename } }', USER_1), "GRAPHQL_VALIDATION_FAILED", "slug"),
    ('mutation { createPost { __typename } }', "GRAPHQL_VALIDATION_FAILED", "input"),
    (fill('mutation { createPost(input: {authorId: "%s", title: "t", body: "b"}) }', USER_1),
     "GRAPHQL_VALIDATION_FAILED", "selection"),
    (fill('mutation { createPost(input: {authorId: "%s", title: "t", body: "b"}) { code } }',
     USER_1), "GRAPHQL_VALIDATION_FAILED", "code"),
])
async def test_malformed_literals_are_refused_before_the_database(
        client: AppClient, db: asyncpg.Connection, query: str, code: str,
        fragment: str) -> None:
    before = await snapshot(db)
    body = (await client.post_graphql(query)).json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code] * len(body["errors"])
    assert fragment in " ".join(e["message"] for e in body["errors"])
    await assert_nothing_written(db, before)


@pytest.mark.parametrize(("variables", "fragment"), [
    ({"title": "t", "body": "b"}, "authorId"),  # missing required field
    ({"authorId": USER_1, "title": 5, "body": "b"}, "title"),  # wrong type
    ({"authorId": USER_1, "title": ["t"], "body": "b"}, "title"),
    ({"authorId": USER_1, "title": "t", "body": "b", "status": "BOGUS"}, "status"),
    ({"authorId": USER_1, "title": "t", "body": "b", "status": "draft"}, "status"),
    ({"authorId": USER_1, "title": "t", "body": "b", "slug": "x"}, "slug"),  # unknown key
    ({"authorId": USER_1, "title": None, "body": "b"}, "title"),  # null for String!
    ({"authorId": USER_1, "title": "t", "body": "b", "tagSlugs": [None]}, "tagSlugs"),
    ({"authorId": True, "title": "t", "body": "b"}, "authorId"),
])
async def test_malformed_variables_are_bad_user_input(
        client: AppClient, db: asyncpg.Connection, variables: dict[str, Any],
        fragment: str) -> None:
    before = await snapshot(db)
    response = await client.post_graphql(CREATE, {"input": variables})
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert fragment in body["errors"][0]["message"]
    await assert_nothing_written(db, before)


@pytest.mark.parametrize("how", ["literal", "variable"])
async def test_explicit_null_for_an_omittable_non_null_field(
        client: AppClient, db: asyncpg.Connection, how: str) -> None:
    before = await snapshot(db)
    if how == "literal":
        response = await client.post_graphql(
            fill('mutation { updatePost(input: {id: "%s", title: null}) { __typename } }',
            POST_NO_COMMENTS))
    else:
        response = await client.post_graphql(UPDATE, {"input": {
            "id": POST_NO_COMMENTS, "title": None}})
    assert response.json() == {"data": {"updatePost": None}, "errors": [{
        "message": "input.title may be omitted but not null", "path": ["updatePost"],
        "extensions": {"code": "BAD_USER_INPUT"}}]}
    # on createPost too (status: omittable, not nullable)
    created = (await client.post_graphql(CREATE, create_input(status=None))).json()
    assert created["errors"][0]["message"] == "input.status may be omitted but not null"
    assert created["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await assert_nothing_written(db, before)


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
async def test_a_blank_id_is_bad_user_input(client: AppClient, db: asyncpg.Connection,
                                            blank: str) -> None:
    before = await snapshot(db)
    body = (await client.post_graphql(UPDATE, {"input": {"id": blank, "title": "x"}})).json()
    assert body == {"data": {"updatePost": None}, "errors": [{
        "message": "input.id must not be empty", "path": ["updatePost"],
        "extensions": {"code": "BAD_USER_INPUT"}}]}
    direct = (await client.post_graphql(ADD_COMMENT, {"input": {
        "postId": POST_NO_COMMENTS, "authorId": blank, "body": "b"}})).json()
    assert direct["data"] is None
    assert direct["errors"][0]["message"] == "input.authorId must not be empty"
    await assert_nothing_written(db, before)


async def test_a_malformed_uuid_is_the_functions_validation_error(
        client: AppClient, db: asyncpg.Connection) -> None:
    before = await snapshot(db)
    for bad in ("not-a-uuid", "'; DROP TABLE tb_post; --", "1" * 33):
        data = await client.data(UPDATE, {"input": {"id": bad, "title": "x"}})
        assert data["updatePost"] == {"__typename": "UpdatePostError", "code": "validation",
                                      "message": "id is not a valid id", "field": "id"}
    await assert_nothing_written(db, before)


async def test_sql_meta_characters_are_stored_verbatim(client: AppClient,
                                                       db: asyncpg.Connection) -> None:
    title = "Robert'); DROP TABLE tb_post;-- \"q\" \\ % _ $1 :name $$ {\"a\": 1}"
    body = ("Body with 'quotes', \"doubles\", \\backslash\\, %, _, $$dollar$$, E'\\n',"
            "\n\ttab, ✓ 🚀")
    data = await client.data(CREATE, create_input(title=title, body=body))
    post_id = data["createPost"]["post"]["id"]
    assert data["createPost"]["post"]["title"] == title
    row = await db.fetchrow("SELECT title, body, slug FROM tb_post WHERE id = $1::uuid", post_id)
    assert row is not None
    assert (row["title"], row["body"]) == (title, body)
    assert row["slug"] == "robert-drop-table-tb-post-q-1-name-a-1"
    assert await db.fetchval("SELECT count(*) FROM tb_post") == 10_001
    logged = await db.fetchval("SELECT entity_after->>'title' FROM fraiseql.change_log")
    assert logged == title
    updated = await client.data(UPDATE, {"input": {"id": post_id, "body": "\\x00 \\u0000 '"}})
    assert updated["updatePost"]["post"]["body"] == "\\x00 \\u0000 '"


async def test_a_nul_character_is_bad_user_input(client: AppClient,
                                                 db: asyncpg.Connection) -> None:
    before = await snapshot(db)
    body = (await client.post_graphql(CREATE, create_input(title="nul\u0000here"))).json()
    await assert_nothing_written(db, before)  # holds today
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_nul_character_writes_nothing(client: AppClient,
                                              db: asyncpg.Connection) -> None:
    """Refused before the database is asked, in both forms; nothing written."""
    before = await snapshot(db)
    member = (await client.post_graphql(CREATE, create_input(body="a\u0000b"))).json()
    assert member["data"] == {"createPost": None}
    assert member["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    direct = (await client.post_graphql(ADD_COMMENT, {"input": {
        "postId": POST_NO_COMMENTS, "authorId": USER_1, "body": "\u0000"}})).json()
    assert direct["data"] is None and len(direct["errors"]) == 1
    await assert_nothing_written(db, before)


# --- what the function receives: absent vs null ---------------------------------------------

ECHO_SQL = """
CREATE FUNCTION fn_echo(input jsonb) RETURNS fraiseql.mutation_result
LANGUAGE sql AS $$
    SELECT fraiseql.noop(NULL, NULL, NULL, 'echo', jsonb_build_object('received', input))
$$;
"""


@fraiseql.enum
class EchoMood(enum.Enum):
    """An enum whose GraphQL names differ from the stored values."""

    HAPPY = "happy-mood"
    SAD = "sad_mood"


@fraiseql.input
class EchoNested:
    """A nested input."""

    label: str
    extra: str | None = fraiseql.UNSET


@fraiseql.input
class EchoInput:
    """Every kind of optional field."""

    id: fraiseql.ID
    note: str | None = fraiseql.UNSET  # may be absent or null
    title: str = fraiseql.UNSET  # may be absent, not null
    count: int | None = None  # absent: the default (null) is sent
    mood: EchoMood | None = fraiseql.UNSET
    nested: EchoNested | None = fraiseql.UNSET
    tags: list[str] | None = fraiseql.UNSET


@fraiseql.success
class EchoSuccess:
    """The input as the function received it."""

    message: str | None
    received: fraiseql.JSON


@fraiseql.mutation(function="fn_echo")
class Echo:
    """Answer the input as the function received it."""

    input: EchoInput
    success: EchoSuccess


echo_schema = fraiseql.build_schema(queries=[posts], mutations=[Echo, CreatePost, UpdatePost])
ECHO = "mutation($input: EchoInput!) { echo(input: $input) { received } }"


@pytest_asyncio.fixture(loop_scope="session")
async def echo_app(fresh_blog_db_url: str, db: asyncpg.Connection) -> AsyncIterator[AppClient]:
    await db.execute(ECHO_SQL)
    async with AppClient(fraiseql.create_app(echo_schema, database_url=fresh_blog_db_url)) as c:
        yield c


@pytest.mark.parametrize(("given", "received"), [
    ({"id": "1"}, {"id": "1", "count": None}),
    ({"id": "1", "note": None}, {"id": "1", "note": None, "count": None}),
    ({"id": "1", "note": "n", "count": 3}, {"id": "1", "note": "n", "count": 3}),
    ({"id": "1", "count": None}, {"id": "1", "count": None}),
    ({"id": "1", "title": "t"}, {"id": "1", "title": "t", "count": None}),
    ({"id": "1", "mood": "HAPPY"}, {"id": "1", "mood": "happy-mood", "count": None}),
    ({"id": "1", "mood": None}, {"id": "1", "mood": None, "count": None}),
    ({"id": "1", "nested": {"label": "l"}}, {"id": "1", "nested": {"label": "l"},
                                             "count": None}),
    ({"id": "1", "nested": {"label": "l", "extra": None}},
     {"id": "1", "nested": {"label": "l", "extra": None}, "count": None}),
    ({"id": "1", "nested": None}, {"id": "1", "nested": None, "count": None}),
    ({"id": "1", "tags": []}, {"id": "1", "tags": [], "count": None}),
    ({"id": "1", "tags": None}, {"id": "1", "tags": None, "count": None}),
    ({"id": 42}, {"id": "42", "count": None}),  # an Int for an ID arrives as a string
    ({"id": "1", "note": "'; \\ $1 \u00e9"}, {"id": "1", "note": "'; \\ $1 \u00e9",
                                             "count": None}),
])
async def test_the_function_receives_absent_and_null_as_sent(
        echo_app: AppClient, db: asyncpg.Connection, given: dict[str, Any],
        received: dict[str, Any]) -> None:
    data = await echo_app.data(ECHO, {"input": given})
    assert data["echo"]["received"] == received
    assert await change_log_count(db) == 0  # a noop


async def test_absent_and_null_in_literals(echo_app: AppClient) -> None:
    data = await echo_app.data("""mutation {
      a: echo(input: {id: "1", note: null, mood: SAD, nested: {label: "x", extra: null}}) {
        received }
      b: echo(input: {id: "2", tags: ["x", "y"]}) { received }
    }""")
    assert data["a"]["received"] == {"id": "1", "note": None, "mood": "sad_mood", "count": None,
                                     "nested": {"label": "x", "extra": None}}
    assert data["b"]["received"] == {"id": "2", "tags": ["x", "y"], "count": None}


async def test_null_for_an_omittable_non_null_nested_or_top_field(echo_app: AppClient) -> None:
    body = (await echo_app.post_graphql(ECHO, {"input": {"id": "1", "title": None}})).json()
    assert body["errors"][0]["message"] == "input.title may be omitted but not null"
    assert body["data"] is None  # echo is EchoSuccess! (no error member)
