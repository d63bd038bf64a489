"""GraphQL over HTTP: methods, media types, status codes, GraphiQL, health routes."""

from __future__ import annotations

import json
import re

import pytest

from fraiseql.testing.client import AppClient

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# Notable seed rows (examples/blog/DATA.md).
POST_META = "0801ad8c-fdeb-1662-4742-70cacc395e66"  # post-9999, second newest
POST_META_TITLE = """O'Reilly "quotes" -- ; DROP TABLE tb_post; \\ % _"""
POST_NEWEST = "b54b4bad-ddc1-8c4c-7e5e-947539969c91"  # post-10000

TWO_POSTS = "{ posts(limit: 2, orderBy: {createdAt: DESC}) { id title } }"


def media(response) -> str:  # type: ignore[no-untyped-def]
    return response.headers["content-type"].split(";")[0].strip()


# --- POST and GET ----------------------------------------------------------------------


async def test_post_json(blog_client: AppClient) -> None:
    response = await blog_client.post_graphql(TWO_POSTS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert list(body) == ["data"]
    assert [p["id"] for p in body["data"]["posts"]] == [POST_NEWEST, POST_META]
    assert body["data"]["posts"][1]["title"] == POST_META_TITLE
    assert int(response.headers["content-length"]) == len(response.content)


async def test_post_json_with_charset_and_variables(blog_client: AppClient) -> None:
    response = await blog_client.post(
        "/graphql", headers={"content-type": "application/json; charset=utf-8"},
        content=json.dumps({"query": "query($id: ID!) { post(id: $id) { title } }",
                            "variables": {"id": POST_META}, "operationName": None,
                            "extensions": {}}).encode())
    assert response.status_code == 200
    assert response.json() == {"data": {"post": {"title": POST_META_TITLE}}}


async def test_get_gives_the_same_answer_as_post(blog_client: AppClient) -> None:
    got = await blog_client.get_graphql(TWO_POSTS)
    posted = await blog_client.post_graphql(TWO_POSTS)
    assert got.status_code == 200 and media(got) == JSON
    assert got.json() == posted.json()
    with_variables = await blog_client.get_graphql(
        "query One($id: ID!) { post(id: $id) { title } }", {"id": POST_META}, "One")
    assert with_variables.status_code == 200
    assert with_variables.json() == {"data": {"post": {"title": POST_META_TITLE}}}


async def test_get_with_a_browser_accept_header_and_a_query_runs_it(
        blog_client: AppClient) -> None:
    response = await blog_client.get_graphql("{ __typename }", headers={
        "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert response.status_code == 200 and media(response) == JSON
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_get_with_invalid_variables_json_is_400(blog_client: AppClient) -> None:
    response = await blog_client.get("/graphql", params={"query": "{ __typename }",
                                                         "variables": "{not json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unsupported_method_is_405(blog_client: AppClient) -> None:
    response = await blog_client.request("PUT", "/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


# --- media types and status codes ------------------------------------------------------

REQUEST_ERRORS = [
    pytest.param("{ posts { id ", "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param("{ posts { nope } }", "GRAPHQL_VALIDATION_FAILED", id="validation"),
    pytest.param("query($n: Int!) { posts(limit: $n) { id } }", "BAD_USER_INPUT",
                 id="missing-variable"),
]


@pytest.mark.parametrize(("query", "code"), REQUEST_ERRORS)
async def test_request_error_is_400_in_graphql_response_json(
        blog_client: AppClient, query: str, code: str) -> None:
    response = await blog_client.post_graphql(query, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["message"]


@pytest.mark.parametrize(("query", "code"), REQUEST_ERRORS)
async def test_request_error_is_200_in_application_json(
        blog_client: AppClient, query: str, code: str) -> None:
    for accept in (JSON, None):
        headers = {"accept": accept} if accept else {}
        response = await blog_client.post_graphql(query, headers=headers)
        assert response.status_code == 200
        assert media(response) == JSON
        body = response.json()
        assert "data" not in body
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]


async def test_parse_error_has_a_location(blog_client: AppClient) -> None:
    body = (await blog_client.post_graphql("{ posts { id ")).json()
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 14}]


async def test_field_error_during_execution_is_200_even_in_graphql_response_json(
        blog_client: AppClient) -> None:
    response = await blog_client.post_graphql('{ post(id: "not-a-uuid") { id } __typename }',
                                              headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert media(response) == GRAPHQL_RESPONSE
    body = response.json()
    assert body["data"] == {"post": None, "__typename": "Query"}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["post"], "BAD_USER_INPUT")]


async def test_success_in_graphql_response_json(blog_client: AppClient) -> None:
    response = await blog_client.post_graphql("{ __typename }",
                                              headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert media(response) == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(("accept", "expected"), [
    (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0, {JSON}", JSON),
    ("application/*", JSON),
    ("*/*", JSON),
])
async def test_accept_negotiation(blog_client: AppClient, accept: str, expected: str) -> None:
    response = await blog_client.post_graphql("{ posts { nope } }", headers={"accept": accept})
    assert media(response) == expected
    assert response.status_code == (400 if expected == GRAPHQL_RESPONSE else 200)


async def test_unacceptable_accept_is_406(blog_client: AppClient) -> None:
    response = await blog_client.post_graphql("{ __typename }", headers={"accept": "text/plain"})
    assert response.status_code == 406


# --- operationName ---------------------------------------------------------------------

SEVERAL = f"""
query Newest {{ posts(limit: 1, orderBy: {{createdAt: DESC}}) {{ id }} }}
query Meta {{ post(id: "{POST_META}") {{ title }} }}
query Name {{ __typename }}
"""


async def test_operation_name_selects_among_several(blog_client: AppClient) -> None:
    assert await blog_client.data(SEVERAL, operation_name="Meta") == {
        "post": {"title": POST_META_TITLE}}
    assert await blog_client.data(SEVERAL, operation_name="Newest") == {
        "posts": [{"id": POST_NEWEST}]}
    got = await blog_client.get_graphql(SEVERAL, operation_name="Name")
    assert got.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("name", [None, "Nope"])
async def test_missing_or_unknown_operation_name_is_an_error(blog_client: AppClient,
                                                             name: str | None) -> None:
    response = await blog_client.post_graphql(SEVERAL, operation_name=name,
                                              headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    if name:
        assert "Nope" in body["errors"][0]["message"]
    plain = await blog_client.post_graphql(SEVERAL, operation_name=name)
    assert plain.status_code == 200 and plain.json() == body


async def test_operation_name_of_a_single_anonymous_operation(blog_client: AppClient) -> None:
    response = await blog_client.post_graphql("{ __typename }", operation_name="Other")
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# --- mutations over GET ----------------------------------------------------------------


@pytest.mark.parametrize("query", ["mutation { x }", "mutation M { x }",
                                   "subscription { x }"])
async def test_mutation_over_get_is_405_before_validation(blog_client: AppClient,
                                                          query: str) -> None:
    for accept in (GRAPHQL_RESPONSE, JSON):
        response = await blog_client.get_graphql(query, headers={"accept": accept})
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"


async def test_get_selects_the_query_when_a_mutation_is_also_in_the_document(
        blog_client: AppClient) -> None:
    document = "query Q { __typename } mutation M { x }"
    assert (await blog_client.get_graphql(document, operation_name="M")).status_code == 405
    # Selecting the query over GET is allowed; validation then judges the whole
    # document (this schema has no mutations, so it is a validation error).
    assert (await blog_client.get_graphql(document, operation_name="Q")).status_code == 200


async def test_mutation_over_post_on_a_schema_without_mutations_is_a_validation_error(
        blog_client: AppClient) -> None:
    response = await blog_client.post_graphql("mutation { x }",
                                              headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


# --- GraphiQL --------------------------------------------------------------------------

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


async def test_graphiql_page_and_its_local_assets(blog_client: AppClient) -> None:
    page = await blog_client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert "<title>FraiseQL · GraphiQL</title>" in html
    assert not re.search(r"https?://", html), "the page must not load anything from another host"
    assets = ASSET.findall(html)
    assert sorted(a.split("?")[0] for a in assets) == [
        "/graphql/static/graphiql.min.css", "/graphql/static/graphiql.min.js",
        "/graphql/static/react-dom.production.min.js", "/graphql/static/react.production.min.js"]
    for asset in assets:
        response = await blog_client.get(asset)
        assert response.status_code == 200, asset
        kind = "text/css" if asset.split("?")[0].endswith(".css") else "text/javascript"
        assert media(response) == kind
        assert len(response.content) > 1000
        assert "immutable" in response.headers["cache-control"]


async def test_graphiql_only_for_html_without_a_query(blog_client: AppClient) -> None:
    # No Accept for HTML: a GET without a query is a GraphQL request error.
    response = await blog_client.get("/graphql", headers={"accept": JSON})
    assert response.status_code == 400
    assert media(response) == JSON
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("path", ["/graphql/static/nope.js", "/graphql/static/../app.py",
                                  "/graphql/static/%2e%2e/app.py",
                                  "/graphql/static/vendor/graphiql.min.js", "/nope"])
async def test_unknown_paths_are_404(blog_client: AppClient, path: str) -> None:
    response = await blog_client.get(path)
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


# --- health ----------------------------------------------------------------------------


async def test_health_and_ready(blog_client: AppClient) -> None:
    health = await blog_client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await blog_client.get("/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
