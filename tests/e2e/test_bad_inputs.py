"""Hostile and malformed requests: each gets its documented error, the data stays intact.

The module runs on its own clone of the blog database; after every test the
row count of every table is checked against the seed (examples/blog/DATA.md).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"
SEED_COUNTS = {"tb_user": 1000, "tb_tag": 30, "tb_post": 10000, "tb_comment": 40095,
               "tb_post_tag": 19778}
POST_META = "0801ad8c-fdeb-1662-4742-70cacc395e66"  # post-9999
POST_META_TITLE = """O'Reilly "quotes" -- ; DROP TABLE tb_post; \\ % _"""
USER_BOBBY = "13ca05f7-945e-7659-a51d-a6abfd2eddac"  # user-13
USER_BOBBY_BIO = "Robert') DROP TABLE tb_user;-- \\ % _"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db_url(pg_server: TestServer, blog_template: str) -> AsyncIterator[str]:
    """A clone of the blog database for this module's (hopefully harmless) attacks."""
    name = unique_database_name("fraiseql_bad_inputs")
    url = await create_database(pg_server, name, template=blog_template)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(db_url: str, make_blog_app: Any) -> AsyncIterator[AppClient]:
    async with AppClient(make_blog_app(db_url)) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(db_url)
    yield conn
    await conn.close()


COUNT_SQL = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in SEED_COUNTS)


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def tables_intact(db: asyncpg.Connection) -> AsyncIterator[None]:
    yield
    assert dict(await db.fetchrow(COUNT_SQL)) == SEED_COUNTS


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


# --- the HTTP envelope -------------------------------------------------------------------


@pytest.mark.parametrize("body", [b'{"query": "{ __typename }"', b"{query: 1}", b"\xff\xfe",
                                  b"[1, 2]", b'"{ __typename }"', b"", b'{"query": 5}',
                                  b'{"query": ""}', b'{"query": "{ __typename }", "variables": [1]}',
                                  b'{"query": "{ __typename }", "operationName": 5}'],
                         ids=["truncated", "not-json", "not-utf8", "array", "string", "empty",
                              "query-not-string", "query-empty", "variables-array",
                              "operation-name-number"])
async def test_malformed_body_is_400(client: AppClient, body: bytes) -> None:
    response = await client.post("/graphql", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/graphql", "multipart/form-data", None])
async def test_wrong_content_type_is_415(client: AppClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/graphql", content=b'{"query": "{ __typename }"}',
                                 headers=headers)
    assert response.status_code == 415
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_five_megabyte_body_is_413(client: AppClient) -> None:
    huge = json.dumps({"query": "{ __typename }", "variables": {"x": "a" * 5_000_000}})
    response = await client.post("/graphql", content=huge.encode(),
                                 headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_oversized_streamed_body_without_content_length_is_413(client: AppClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"x": "'
        for _ in range(50):
            yield b"a" * 100_000
        yield b'"}}'

    response = await client.post("/graphql", content=chunks(),
                                 headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_body_just_under_the_limit_is_served(client: AppClient) -> None:
    padding = " " * (1_000_000 - 200)
    response = await client.post("/graphql", content=f'{{"query": "{{ __typename }}{padding}"}}'
                                 .encode(), headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


# --- documents and operation names -----------------------------------------------------


async def test_unknown_operation_name(client: AppClient) -> None:
    response = await client.post_graphql("query A { __typename }", operation_name="B",
                                         headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_depth_50_is_rejected(client: AppClient) -> None:
    # Introspection's ofType nests without end: a valid document except for its depth.
    inner = "name"
    for _ in range(45):
        inner = f"ofType {{ {inner} }}"
    # __schema types fields type, 45 x ofType, name: 50 fields deep.
    query = f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"
    body = (await client.post_graphql(query)).json()
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "50 levels deep; the limit is 15" in body["errors"][0]["message"]
    assert "data" not in body


async def test_depth_at_the_limit_is_served(client: AppClient) -> None:
    inner = "name"
    for _ in range(10):
        inner = f"ofType {{ {inner} }}"
    query = f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"
    body = (await client.post_graphql(query)).json()
    assert "errors" not in body and body["data"]["__schema"]["types"]


async def test_thousand_aliases_are_rejected(client: AppClient) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(1000)) + " }"
    body = (await client.post_graphql(query)).json()
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "1000 aliases; the limit is 100" in body["errors"][0]["message"]


async def test_aliases_at_the_limit_are_served(client: AppClient) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(100)) + " }"
    body = (await client.post_graphql(query)).json()
    assert "errors" not in body and len(body["data"]) == 100


async def test_fragment_cycle_is_rejected(client: AppClient) -> None:
    query = ("{ posts { ...A } } fragment A on Post { author { username } ...B } "
             "fragment B on Post { ...A }")
    assert codes((await client.post_graphql(query)).json()) == ["GRAPHQL_VALIDATION_FAILED"]


# --- arguments and variables -------------------------------------------------------------


@pytest.mark.parametrize(("query", "variables"), [
    ("query($n: Int!) { posts(limit: $n) { id } }", {"n": "ten"}),
    ("query($n: Int!) { posts(limit: $n) { id } }", {"n": 1.5}),
    ("query($n: Int!) { posts(limit: $n) { id } }", {"n": 2**40}),
    ("query($n: Int!) { posts(limit: $n) { id } }", {}),
    ("query($n: Int!) { posts(limit: $n) { id } }", {"n": None}),
    ("query($id: ID!) { post(id: $id) { id } }", {"id": {"a": 1}}),
    ("query($w: PostWhereInput) { posts(where: $w) { id } }", {"w": {"nope": {"eq": 1}}}),
    ("query($w: PostWhereInput) { posts(where: $w) { id } }", {"w": {"title": {"lenEq": 1}}}),
    ("query($w: PostWhereInput) { posts(where: $w) { id } }", {"w": {"status": {"eq": "published"}}}),
    ("query($w: PostWhereInput) { posts(where: $w) { id } }", {"w": {"rating": {"eq": "NaN"}}}),
    ("query($w: PostWhereInput) { posts(where: $w) { id } }",
     {"w": {"createdAt": {"gt": "2024-01-01T00:00:00"}}}),
    ("query($o: [PostOrderBy!]) { posts(orderBy: $o) { id } }", {"o": [{"title": "UP"}]}),
], ids=["int-from-string", "int-from-float", "int-too-big", "missing", "null-for-non-null",
        "id-from-object", "undeclared-filter-key", "unknown-operator", "enum-value-not-name",
        "decimal-nan", "datetime-without-offset", "bad-order-direction"])
async def test_variables_of_the_wrong_type(client: AppClient, query: str,
                                           variables: dict[str, Any]) -> None:
    response = await client.post_graphql(query, variables, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert set(codes(body)) == {"BAD_USER_INPUT"}


@pytest.mark.parametrize("query", [
    "{ posts(where: {nope: {eq: 1}}) { id } }",
    "{ posts(where: {title: {lenEq: 1}}) { id } }",
    '{ posts(where: {author: {password: {eq: "x"}}}) { id } }',
    "{ posts(where: {status: {eq: published}}) { id } }",
    '{ posts(limit: "10") { id } }',
    "{ posts(orderBy: {title: UP}) { id } }",
    '{ posts(where: {viewCount: {gt: "5"}}) { id } }',
], ids=["undeclared-filter-key", "unknown-operator", "undeclared-nested-key",
        "enum-value-not-name", "limit-string", "bad-order-direction", "int-from-string"])
async def test_inline_arguments_of_the_wrong_shape(client: AppClient, query: str) -> None:
    response = await client.post_graphql(query, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(("query", "variables"), [
    ("{ tags(orderBy: {name: ASC, slug: DESC}) { id } }", None),
    ("{ tags(orderBy: [{name: ASC}, {name: DESC, id: ASC}]) { id } }", None),
    ("{ tags(orderBy: {}) { id } }", None),
    ("query($o: [TagOrderBy!]) { tags(orderBy: $o) { id } }", {"o": [{"name": "ASC",
                                                                      "slug": "ASC"}]}),
], ids=["two-fields", "two-fields-in-second", "no-field", "two-fields-variable"])
async def test_order_by_with_other_than_one_field(client: AppClient, query: str,
                                                  variables: dict[str, Any] | None) -> None:
    response = await client.post_graphql(query, variables, headers={"accept": GRAPHQL_RESPONSE})
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "exactly one field" in body["errors"][0]["message"]
    assert body.get("data") is None


@pytest.mark.parametrize(("query", "variables", "message"), [
    ("{ posts(limit: 1001) { id } }", None, "limit on posts must be between 0 and 1000"),
    ("{ tags(limit: 100000) { id } }", None, "limit on tags must be between 0 and 1000"),
    ("{ posts(limit: -1) { id } }", None, "limit on posts must be between 0 and 1000"),
    ("{ posts(offset: -1) { id } }", None, "offset on posts must not be negative"),
    ("{ posts(limit: 1) { comments(offset: -3) { id } } }", None,
     "offset on comments must not be negative"),
    ("{ posts(limit: 1) { comments(limit: -1) { id } } }", None,
     "limit on comments must not be negative"),
], ids=["limit-over-cap", "limit-over-cap-tags", "negative-limit", "negative-offset",
        "nested-negative-offset", "nested-negative-limit"])
async def test_page_arguments_out_of_range(client: AppClient, query: str,
                                           variables: dict[str, Any] | None,
                                           message: str) -> None:
    body = (await client.post_graphql(query, variables)).json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]
    assert body["data"] is None


async def test_limit_over_the_cap_is_refused_not_clamped_on_a_cached_plan(
        client: AppClient) -> None:
    query = "query($n: Int!, $o: Int!) { users(limit: $n, offset: $o) { id } }"
    assert len((await client.data(query, {"n": 1000, "o": 0}))["users"]) == 1000
    for bad in ({"n": 1001, "o": 0}, {"n": 10, "o": -1}, {"n": -5, "o": 0}):
        body = (await client.post_graphql(query, bad)).json()
        assert codes(body) == ["BAD_USER_INPUT"], bad
        assert body["data"] is None
    assert len((await client.data(query, {"n": 3, "o": 998}))["users"]) == 2


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "'; DROP TABLE tb_post; --", "", "1",
                                    "0801ad8c-fdeb-1662-4742-70cacc395e6",
                                    "0801ad8c-fdeb-1662-4742-70cacc395e66x"])
async def test_invalid_uuid_is_bad_user_input(client: AppClient, bad_id: str) -> None:
    response = await client.post_graphql("query($id: ID!) { post(id: $id) { id } }",
                                         {"id": bad_id}, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200  # an execution error: the request itself was fine
    body = response.json()
    assert body["data"] == {"post": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["post"], "BAD_USER_INPUT")]
    inline = await client.post_graphql(f"{{ post(id: {json.dumps(bad_id)}) {{ id }} }}")
    assert inline.json() == body


async def test_invalid_uuid_in_a_filter_list_is_bad_user_input(client: AppClient) -> None:
    body = (await client.post_graphql(
        f'{{ posts(where: {{id: {{in: ["{POST_META}", "x"]}}}}) {{ id }} }}')).json()
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]


# --- SQL meta-characters in every string position --------------------------------------

META = ["'; DROP TABLE tb_post; --", "\\", "%", "_", "$1", "'", '"', "''", "\\'", "%_%",
        "$$", "$1::text", "--", "/*", "E'\\x41'", "a\nb", "😀"]

# Filters on keys inside v_post's data build data for every candidate row, so the
# post positions also filter on the real created_at column (the newest ~60 posts).
RECENT = 'createdAt: {gt: "2024-12-20T00:00:00Z"}'
STRING_POSITIONS = [
    (f"query($v: String!) {{ r: posts(where: {{title: {{eq: $v}}, {RECENT}}}) {{ id }} }}",
     "v", []),
    ((f"query($v: String!) {{ r: posts(where: {{slug: {{gt: $v}}, title: {{lt: $v}}, {RECENT}}},"
     " limit: 3) { id } }"), "v", None),
    ("query($v: [String!]) { r: tags(where: {name: {in: $v}}) { id } }", "list", []),
    ("query($v: [String!]) { r: tags(where: {slug: {nin: $v}}) { id } }", "list", 30),
    ("query($v: String!) { r: tags(where: {name: {neq: $v}}) { id } }", "v", 30),
    ((f"query($v: String!) {{ r: posts(where: {{author: {{username: {{eq: $v}}}}, {RECENT}}})"
     " { id } }"), "v", []),
    (f"query($v: String!) {{ r: comments(where: {{body: {{eq: $v}}, {RECENT}}}) {{ id }} }}",
     "v", []),
    ("query($v: String!) { r: userByUsername(username: $v) { id } }", "v", None),
    (("query($v: String!) { r: users(where: {_or: [{bio: {eq: $v}}, {_not: {email: {neq: $v}}}],"
     ' createdAt: {gt: "2022-12-01T00:00:00Z"}}) { id } }'), "v", []),
]


def expected_empty(result: Any, expectation: Any) -> None:
    if expectation is None:
        return
    if isinstance(expectation, int):
        assert len(result) == expectation
    else:
        assert result == expectation


@pytest.mark.parametrize(("query", "kind", "expectation"), STRING_POSITIONS,
                         ids=["eq", "gt-lt", "in", "nin", "neq", "nested-eq", "comment-body",
                              "single-object-arg", "or-not"])
async def test_meta_characters_are_just_values(client: AppClient, query: str, kind: str,
                                               expectation: Any) -> None:
    for value in META:
        variables = {"v": [value, value + "x"] if kind == "list" else value}
        body = (await client.post_graphql(query, variables)).json()
        assert "errors" not in body, (value, body)
        result = body["data"]["r"]
        if "userByUsername" in query:
            assert result is None
        else:
            expected_empty(result, expectation)
        # The same value written inline, as a GraphQL string literal.
        inline = query.split("{", 1)[1].rsplit("}", 1)[0]
        inline_value = json.dumps([value, value + "x"] if kind == "list" else value,
                                  ensure_ascii=False)
        inline_query = "{" + inline.replace("$v", inline_value) + "}"
        assert (await client.post_graphql(inline_query)).json() == body, value


async def test_meta_characters_match_exactly_when_the_value_exists(client: AppClient) -> None:
    data = await client.data(
        "query($t: String!, $b: String!, $u: String!) {"
        f" byTitle: posts(where: {{title: {{eq: $t}}, {RECENT}}}) {{ id }}"
        f' byTitleIn: posts(where: {{title: {{in: [$t, "%"]}}, {RECENT}}}) {{ id }}'
        " byBio: users(where: {bio: {eq: $b}}) { id username }"
        " byName: userByUsername(username: $u) { bio } }",
        {"t": POST_META_TITLE, "b": USER_BOBBY_BIO, "u": "bobby.tables"})
    assert data == {"byTitle": [{"id": POST_META}], "byTitleIn": [{"id": POST_META}],
                    "byBio": [{"id": USER_BOBBY, "username": "bobby.tables"}],
                    "byName": {"bio": USER_BOBBY_BIO}}


async def test_like_wildcards_are_not_wildcards(client: AppClient) -> None:
    data = await client.data('{ a: users(where: {username: {eq: "%"}}) { id } '
                             'b: users(where: {username: {eq: "bobby_tables"}}) { id } '
                             'c: users(where: {username: {in: ["bobby%", "_obby.tables"]}}) '
                             "{ id } }")
    assert data == {"a": [], "b": [], "c": []}


@pytest.mark.parametrize(("query", "value"), [
    ("query($v: String!) { r: tags(where: {name: {eq: $v}}) { id } }", "a\x00b"),
    ("query($v: String!) { r: userByUsername(username: $v) { id } }", "a\x00b"),
    ("query($v: [String!]) { r: tags(where: {name: {in: $v}}) { id } }", ["a\x00b"]),
], ids=["eq", "single-object-arg", "in"])
async def test_nul_character_is_bad_user_input(client: AppClient, query: str,
                                               value: Any) -> None:
    body = (await client.post_graphql(query, {"v": value})).json()
    assert codes(body) in ([], ["BAD_USER_INPUT"]), body
