"""Automatic persisted queries (Apollo's protocol): memory and PostgreSQL stores, modes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest

from fraiseql import Settings
from fraiseql.errors import ConfigurationError
from fraiseql.http.app import FraiseQLApp
from fraiseql.testing.client import AppClient

GRAPHQL_RESPONSE = "application/graphql-response+json"
TAGS = "{ tags { name } }"
POSTS = "query Newest($n: Int!) { posts(limit: $n, orderBy: {createdAt: DESC}) { title } }"
CREATE_POST = ('mutation { createPost(input: {authorId: "x", title: "t", body: "b"}) '
               '{ __typename } }')
NOT_FOUND = {"errors": [{"message": "PersistedQueryNotFound",
                         "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def apq(sha256: str, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256}}


async def send(client: AppClient, query: str | None = None, sha256: str | None = None,
               variables: dict[str, Any] | None = None, accept: str | None = None,
               extensions: dict[str, Any] | None = None) -> httpx.Response:
    """POST a request: the query, its persisted-query hash, or both."""
    body: dict[str, Any] = {}
    if query is not None:
        body["query"] = query
    if variables is not None:
        body["variables"] = variables
    if extensions is not None:
        body["extensions"] = extensions
    elif sha256 is not None:
        body["extensions"] = apq(sha256)
    return await client.post("/graphql", json=body,
                             headers={"accept": accept} if accept else None)


async def get(client: AppClient, sha256: str, accept: str | None = None,
              **params: str) -> httpx.Response:
    """GET with the hash only, in the `extensions` parameter."""
    return await client.get("/graphql", headers={"accept": accept} if accept else None,
                            params={"extensions": json.dumps(apq(sha256)), **params})


def error(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    assert "data" not in body, body
    [only] = body["errors"]
    return only["extensions"]["code"], only["message"]


@pytest.fixture
def app_client(make_blog_app: Callable[..., FraiseQLApp]
               ) -> Callable[..., Any]:
    """``async with app_client(url, **settings) as client``: a blog app of its own."""
    @asynccontextmanager
    async def make(url: str, **settings: Any) -> AsyncIterator[AppClient]:
        async with AppClient(make_blog_app(url, **settings)) as client:
            yield client
    return make


# --- the protocol (memory store) -------------------------------------------------------


async def test_unknown_hash_is_persisted_query_not_found(blog_db_url: str,
                                                         app_client: Any) -> None:
    async with app_client(blog_db_url) as client:
        response = await send(client, sha256=sha(TAGS))
        assert response.status_code == 200  # application/json: what Apollo clients expect
        assert response.json() == NOT_FOUND
        # GraphQL over HTTP: no data -> 4xx; 404, as a 400 would disable Apollo's APQ link.
        response = await send(client, sha256=sha(TAGS), accept=GRAPHQL_RESPONSE)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert response.json() == NOT_FOUND


async def test_register_then_execute_by_hash_over_post_and_get(blog_db_url: str,
                                                               app_client: Any) -> None:
    async with app_client(blog_db_url) as client:
        expected = await client.data(POSTS, {"n": 2})
        assert (await send(client, sha256=sha(POSTS), variables={"n": 2})).json() == NOT_FOUND
        registered = await send(client, POSTS, sha(POSTS), {"n": 2})
        assert registered.status_code == 200
        assert registered.json() == {"data": expected}
        by_hash = await send(client, sha256=sha(POSTS), variables={"n": 2})
        assert by_hash.json() == {"data": expected}
        fewer = await send(client, sha256=sha(POSTS), variables={"n": 1})
        assert fewer.json() == {"data": {"posts": expected["posts"][:1]}}
        over_get = await get(client, sha(POSTS), variables=json.dumps({"n": 2}))
        assert over_get.status_code == 200
        assert over_get.json() == {"data": expected}
        # A browser's GET with a hash runs it too (GraphiQL is for GETs without a request).
        browser = await get(client, sha(POSTS), accept="text/html,*/*;q=0.8",
                            variables=json.dumps({"n": 2}))
        assert browser.json() == {"data": expected}


async def test_get_with_a_hash_only_for_an_unknown_query_is_not_found(
        blog_db_url: str, app_client: Any) -> None:
    async with app_client(blog_db_url) as client:
        response = await get(client, sha(TAGS))
        assert (response.status_code, response.json()) == (200, NOT_FOUND)


async def test_a_hash_that_does_not_match_the_query_is_refused_and_nothing_stored(
        blog_db_url: str, app_client: Any) -> None:
    async with app_client(blog_db_url) as client:
        wrong = sha(TAGS + " ")
        response = await send(client, TAGS, wrong)
        assert response.status_code == 200
        assert error(response) == ("BAD_USER_INPUT", "provided sha does not match query")
        response = await send(client, TAGS, wrong, accept=GRAPHQL_RESPONSE)
        assert response.status_code == 400
        assert (await send(client, sha256=wrong)).json() == NOT_FOUND
        assert (await send(client, sha256=sha(TAGS))).json() == NOT_FOUND
        assert len(client.app.persisted.store) == 0  # type: ignore[arg-type]


async def test_an_invalid_document_is_reported_and_not_stored(blog_db_url: str,
                                                              app_client: Any) -> None:
    async with app_client(blog_db_url) as client:
        bad = "{ tags { nope } }"
        response = await send(client, bad, sha(bad))
        assert error(response)[0] == "GRAPHQL_VALIDATION_FAILED"
        assert (await send(client, sha256=sha(bad))).json() == NOT_FOUND


@pytest.mark.parametrize("version", [2, 0, "1", None, True])
async def test_an_unsupported_version_is_bad_user_input(blog_db_url: str, app_client: Any,
                                                        version: Any) -> None:
    async with app_client(blog_db_url) as client:
        response = await send(client, TAGS, extensions=apq(sha(TAGS), version))
        code, message = error(response)
        assert code == "BAD_USER_INPUT"
        assert message.startswith("unsupported persisted query version")
        assert "only version 1" in message


@pytest.mark.parametrize("persisted", [
    "abc", {"version": 1}, {"version": 1, "sha256Hash": "abc"},
    {"version": 1, "sha256Hash": 5}, {"version": 1, "sha256Hash": "g" * 64}])
async def test_a_malformed_extension_is_a_400(blog_client: AppClient, persisted: Any) -> None:
    response = await send(blog_client, TAGS, extensions={"persistedQuery": persisted})
    assert response.status_code == 400
    assert error(response)[0] == "BAD_USER_INPUT"


async def test_an_upper_case_hash_is_the_same_hash(blog_db_url: str, app_client: Any) -> None:
    async with app_client(blog_db_url) as client:
        expected = await client.data(TAGS)
        assert (await send(client, TAGS, sha(TAGS).upper())).json() == {"data": expected}
        assert (await send(client, sha256=sha(TAGS))).json() == {"data": expected}


async def test_requests_without_a_hash_are_unchanged(blog_client: AppClient) -> None:
    expected = await blog_client.data(TAGS)
    for extensions in ({}, {"tracing": True}):
        response = await send(blog_client, TAGS, extensions=extensions)
        assert response.json() == {"data": expected}
    response = await send(blog_client, extensions={"tracing": True})
    assert response.status_code == 400  # no query and no hash: malformed, as before


async def test_a_mutation_stored_by_hash_is_refused_over_get(blog_db_url: str,
                                                             app_client: Any) -> None:
    async with app_client(blog_db_url) as client:
        # Registered over POST (it fails: the author does not exist; still a valid document).
        await send(client, CREATE_POST, sha(CREATE_POST))
        response = await get(client, sha(CREATE_POST))
        assert response.status_code == 405


async def test_the_memory_store_is_a_bounded_lru(blog_db_url: str, app_client: Any) -> None:
    queries = ["{ tags { name } }", "{ tags { slug } }", "{ a: tags { name } }"]
    async with app_client(blog_db_url, apq_cache_size=2) as client:
        for query in queries[:2]:
            await send(client, query, sha(query))
        assert "data" in (await send(client, sha256=sha(queries[0]))).json()  # most recent now
        await send(client, queries[2], sha(queries[2]))  # evicts queries[1]
        assert (await send(client, sha256=sha(queries[1]))).json() == NOT_FOUND
        for query in (queries[0], queries[2]):
            assert "data" in (await send(client, sha256=sha(query))).json()


# --- the PostgreSQL store --------------------------------------------------------------


async def test_the_postgres_store_is_shared_by_every_instance(fresh_blog_db_url: str,
                                                              app_client: Any) -> None:
    async with app_client(fresh_blog_db_url, apq_store="postgres") as first, \
            app_client(fresh_blog_db_url, apq_store="postgres") as second:
        expected = await first.data(POSTS, {"n": 3})
        assert (await send(second, sha256=sha(POSTS), variables={"n": 3})).json() == NOT_FOUND
        await send(first, POSTS, sha(POSTS), {"n": 3})
        assert (await send(second, sha256=sha(POSTS), variables={"n": 3})).json() \
            == {"data": expected}
        assert (await get(second, sha(POSTS), variables=json.dumps({"n": 3}))).json() \
            == {"data": expected}
        # Registering again (another client, another instance) is harmless.
        assert (await send(second, POSTS, sha(POSTS), {"n": 3})).json() == {"data": expected}
    conn = await asyncpg.connect(fresh_blog_db_url)
    try:
        rows = await conn.fetch("SELECT hash, query FROM fraiseql.persisted_queries")
    finally:
        await conn.close()
    assert [(r["hash"], r["query"]) for r in rows] == [(sha(POSTS), POSTS)]


async def test_the_postgres_store_stores_nothing_on_a_mismatch(fresh_blog_db_url: str,
                                                               app_client: Any) -> None:
    async with app_client(fresh_blog_db_url, apq_store="postgres") as client:
        response = await send(client, TAGS, sha(POSTS))
        assert error(response) == ("BAD_USER_INPUT", "provided sha does not match query")
        assert (await send(client, sha256=sha(POSTS))).json() == NOT_FOUND
    conn = await asyncpg.connect(fresh_blog_db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM fraiseql.persisted_queries") == 0
    finally:
        await conn.close()


async def test_the_postgres_store_needs_its_table(fresh_blog_db_url: str,
                                                  make_blog_app: Any) -> None:
    conn = await asyncpg.connect(fresh_blog_db_url)
    try:
        await conn.execute("DROP TABLE fraiseql.persisted_queries")
    finally:
        await conn.close()
    app = make_blog_app(fresh_blog_db_url, apq_store="postgres")
    with pytest.raises(ConfigurationError, match="fraiseql install"):
        await app.startup()
    assert app.engine.pool is None  # nothing left open


# --- modes -----------------------------------------------------------------------------


async def test_required_mode_refuses_a_request_without_a_hash(blog_db_url: str,
                                                              app_client: Any) -> None:
    async with app_client(blog_db_url, apq_mode="required") as client:
        response = await client.post_graphql(TAGS)
        assert response.status_code == 200
        code, message = error(response)
        assert code == "BAD_USER_INPUT"
        assert message.startswith("only persisted queries are accepted")
        assert (await send(client, TAGS, accept=GRAPHQL_RESPONSE)).status_code == 400
        assert (await client.get_graphql(TAGS)).status_code == 200  # refused as well
        assert error(await client.get_graphql(TAGS))[0] == "BAD_USER_INPUT"
        # The APQ flow itself works: unknown hash, then hash + query, then hash only.
        assert (await send(client, sha256=sha(TAGS))).json() == NOT_FOUND
        registered = await send(client, TAGS, sha(TAGS))
        assert "data" in registered.json()
        assert (await send(client, sha256=sha(TAGS))).json() == registered.json()


async def test_disabled_mode_refuses_the_extension(blog_db_url: str, app_client: Any) -> None:
    async with app_client(blog_db_url, apq_mode="disabled") as client:
        expected = await client.data(TAGS)
        for response in (await send(client, sha256=sha(TAGS)),
                         await send(client, TAGS, sha(TAGS)), await get(client, sha(TAGS))):
            assert response.status_code == 200
            # The message Apollo clients recognise: they stop sending hashes.
            assert error(response) == ("BAD_USER_INPUT", "PersistedQueryNotSupported")
        response = await send(client, TAGS, sha(TAGS), accept=GRAPHQL_RESPONSE)
        assert response.status_code == 400
        assert (await send(client, TAGS, extensions={})).json() == {"data": expected}


# --- settings --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [
    ("apq_mode", "on"), ("apq_store", "redis"), ("trusted_documents", "Strict"),
    ("apq_cache_size", 0)])
def test_settings_are_validated(name: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings(**{name: value})


def test_settings_from_the_environment() -> None:
    settings = Settings.from_env({"FRAISEQL_APQ_MODE": "required", "FRAISEQL_APQ_STORE":
                                  "postgres", "FRAISEQL_APQ_CACHE_SIZE": "50",
                                  "FRAISEQL_TRUSTED_DOCUMENTS": "strict"})
    assert (settings.apq_mode, settings.apq_store, settings.apq_cache_size,
            settings.trusted_documents) == ("required", "postgres", 50, "strict")
    assert (Settings().apq_mode, Settings().apq_store, Settings().trusted_documents) \
        == ("optional", "memory", "off")
    with pytest.raises(ConfigurationError, match="apq_mode"):
        Settings.from_env({"FRAISEQL_APQ_MODE": "sometimes"})
    with pytest.raises(ConfigurationError, match="FRAISEQL_APQ"):
        Settings.from_env({"FRAISEQL_APQ": "on"})
