"""The principal in the engine's request context, over HTTP: context params, the change
log's actor and tenant, the result cache key and Python resolvers' info.context."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest_asyncio

import fraiseql
from examples.blog.app import CreatePost, posts
from fraiseql.auth import Auth, Principal
from fraiseql.auth.dev import DevAuthenticator, make_dev_token
from fraiseql.testing.client import AppClient

SECRET = "test-secret-" + "y" * 40


def seed_id(key: str) -> str:
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


USER_1 = seed_id("user-1")

SETUP = """
CREATE FUNCTION fn_whoami(user_id text, input jsonb) RETURNS fraiseql.mutation_result
LANGUAGE sql AS $$
    SELECT fraiseql.noop(NULL, NULL, NULL, 'you are ' || coalesce(user_id, 'nobody'),
                         jsonb_build_object('user_id', user_id, 'input', input))
$$;
-- What the statement's session says: a cached read whose bytes depend on the caller.
CREATE VIEW v_me AS SELECT 1 AS id, jsonb_build_object(
    'id', 1, 'who', nullif(current_setting('fraiseql.user_id', true), ''),
    'roles', nullif(current_setting('fraiseql.roles', true), ''),
    'scopes', nullif(current_setting('fraiseql.scopes', true), ''),
    'org', nullif(current_setting('fraiseql.org', true), '')) AS data;
"""


@fraiseql.input
class WhoamiInput:
    """Anything."""

    note: str | None = fraiseql.UNSET


@fraiseql.success
class WhoamiSuccess:
    """Who the function was told the caller is."""

    message: str | None
    user_id: str | None


@fraiseql.mutation(function="fn_whoami", context_params=["user_id"])
class Whoami:
    """Echo the user id the server passed."""

    input: WhoamiInput
    success: WhoamiSuccess


@fraiseql.type(sql_source="v_me")
class Me:
    """The caller as SQL sees it."""

    id: int
    who: str | None
    roles: str | None
    scopes: str | None
    org: str | None


@fraiseql.query(cache_ttl=60)
def me() -> Me | None:
    """Cached per principal."""


@fraiseql.query
async def principal(info) -> fraiseql.JSON:  # type: ignore[no-untyped-def]
    """The principal and context keys a Python resolver sees."""
    context = info.context
    who: Principal = context["principal"]
    return {"subject": who.subject, "actorType": who.actor_type, "userId": context["user_id"],
            "tenantId": context["tenant_id"], "roles": context["roles"],
            "scopes": context["scopes"], "org": context.get("org_id")}


schema = fraiseql.build_schema(queries=[posts, me, principal], mutations=[Whoami, CreatePost])
WHOAMI = 'mutation { whoami(input: {note: "hi"}) { message userId } }'
CREATE = """mutation($input: CreatePostInput!) {
  createPost(input: $input) { __typename ... on CreatePostSuccess { post { id } } } }"""


def bearer(subject: str, **claims: Any) -> dict[str, str]:
    return {"authorization": "Bearer " + make_dev_token(SECRET, subject, **claims)}


@pytest_asyncio.fixture(loop_scope="session")
async def db(fresh_blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_blog_db_url)
    await conn.execute(SETUP)
    yield conn
    await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def client(fresh_blog_db_url: str, db: asyncpg.Connection) -> AsyncIterator[AppClient]:
    auth = Auth([DevAuthenticator(SECRET)], session_claims={"fraiseql.org": "org_id"},
                context_claims=["org_id"])
    async with AppClient(fraiseql.create_app(schema, database_url=fresh_blog_db_url,
                                             auth=auth)) as c:
        yield c


async def data(client: AppClient, query: str, headers: dict[str, str] | None = None,
               variables: dict[str, Any] | None = None) -> Any:
    response = await client.post_graphql(query, variables, headers=headers)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def test_context_params_receive_the_tokens_subject(client: AppClient) -> None:
    assert await data(client, WHOAMI, bearer("alice")) == {
        "whoami": {"message": "you are alice", "userId": "alice"}}
    assert await data(client, WHOAMI) == {"whoami": {"message": "you are nobody",
                                                     "userId": None}}


async def test_the_change_log_records_the_subject_and_tenant(client: AppClient,
                                                             db: asyncpg.Connection) -> None:
    made = []
    for headers in (bearer("alice", tenant_id="t-1"), None):
        body = await data(client, CREATE, headers, {"input": {
            "authorId": USER_1, "title": f"By {headers and 'alice'}", "body": "b"}})
        made.append(body["createPost"]["post"]["id"])
    rows = await db.fetch("SELECT entity_id, actor, tenant_id FROM fraiseql.change_log "
                          "ORDER BY seq")
    assert [tuple(r) for r in rows] == [(made[0], "alice", "t-1"), (made[1], None, None)]


async def test_python_resolvers_see_the_principal(client: AppClient) -> None:
    headers = bearer("alice", roles=["editor", "admin"], scopes=["posts:write"],
                     tenant_id="t-1")
    assert await data(client, "{ principal }", headers) == {"principal": {
        "subject": "alice", "actorType": "user", "userId": "alice", "tenantId": "t-1",
        "roles": ["admin", "editor"], "scopes": ["posts:write"], "org": None}}
    assert await data(client, "{ principal }") == {"principal": {
        "subject": "", "actorType": "anonymous", "userId": None, "tenantId": None,
        "roles": [], "scopes": [], "org": None}}


async def test_two_principals_never_share_a_result_cache_entry(client: AppClient) -> None:
    cache = client.app.engine.result_cache
    assert cache is not None
    deadline = asyncio.get_running_loop().time() + 10
    while not cache.listening:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    query = "{ me { who roles } }"
    alice, bob = bearer("alice", roles=["editor"]), bearer("bob")
    for _ in range(2):  # the second round is answered from the cache
        assert await data(client, query, alice) == {"me": {"who": "alice",
                                                           "roles": '["editor"]'}}
        assert await data(client, query, bob) == {"me": {"who": "bob", "roles": "[]"}}
        assert await data(client, query) == {"me": {"who": None, "roles": None}}
    # Same subject, other roles: another principal, another entry.
    assert await data(client, query, bearer("alice", roles=["admin"])) == {
        "me": {"who": "alice", "roles": '["admin"]'}}
    # Same subject and roles, other scopes: what SQL sees differs, so does the entry.
    scoped = "{ me { who scopes } }"
    for scopes in (["read"], ["write"], ["read"]):
        assert await data(client, scoped, bearer("alice", scopes=scopes)) == {
            "me": {"who": "alice", "scopes": orjson.dumps(scopes).decode()}}
    assert cache.hits >= 4


async def test_session_claims_become_settings(client: AppClient) -> None:
    token = make_dev_token(SECRET, "carol")
    # A dev token has no org_id claim: the setting is '' (read as null) ...
    assert await data(client, "{ me { org } }", {"authorization": f"Bearer {token}"}) == {
        "me": {"org": None}}
    # ... a principal from another authenticator carries it.
    auth = Auth([FixedPrincipal(Principal("dave", claims={"org_id": 42}))],
                session_claims={"fraiseql.org": "org_id"}, context_claims=["org_id"])
    app = fraiseql.create_app(schema, database_url=client.app.settings.database_url,
                              auth=auth, result_cache=False)
    async with AppClient(app) as other:
        assert await data(other, "{ me { who org } principal }") == {
            "me": {"who": "dave", "org": "42"},
            "principal": {"subject": "dave", "actorType": "user", "userId": "dave",
                          "tenantId": None, "roles": [], "scopes": [], "org": 42}}


class FixedPrincipal:
    """An authenticator that names the same caller for every request."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    async def authenticate(self, headers: Any) -> Principal | None:
        return self.principal


def test_the_context_claims_must_not_shadow_the_middlewares_keys() -> None:
    import pytest

    from fraiseql.errors import ConfigurationError
    with pytest.raises(ConfigurationError, match="user_id would replace"):
        Auth([], context_claims=["user_id"])
    with pytest.raises(ConfigurationError, match="'fraiseql.user_id' would replace"):
        Auth([], session_claims={"fraiseql.user_id": "sub"})
    with pytest.raises(ConfigurationError, match="dotted lower-case name"):
        Auth([], session_claims={"org; DROP TABLE x": "org_id"})
    assert json.dumps(sorted(Auth([]).context(Principal("a", roles=frozenset("ba")))["roles"])) \
        == '["a", "b"]'
