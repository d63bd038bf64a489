"""The auth middleware over HTTP: who may call /graphql, the 401s, and boot checks."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import jwt
import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql import Settings
from fraiseql.auth import Auth, AuthenticationError, Principal
from fraiseql.auth.dev import DevAuthenticator, make_dev_token
from fraiseql.errors import ConfigurationError, ErrorCode
from fraiseql.testing.client import AppClient

SECRET = "test-secret-" + "z" * 40
TAGS = "{ tags(limit: 2, orderBy: {name: ASC}) { name } }"
TAGS_DATA = {"data": {"tags": [{"name": "API Design"}, {"name": "Architecture"}]}}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def unauthenticated(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}


@pytest_asyncio.fixture(loop_scope="session")
async def optional(blog_db_url: str) -> AsyncIterator[AppClient]:
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url,
                              auth=Auth([DevAuthenticator(SECRET)]))
    async with AppClient(app) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def required(blog_db_url: str) -> AsyncIterator[AppClient]:
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url,
                              auth=Auth([DevAuthenticator(SECRET)], required=True))
    async with AppClient(app) as client:
        yield client


async def test_optional_auth_serves_anonymous_and_authenticated_callers(
        optional: AppClient) -> None:
    assert (await optional.post_graphql(TAGS)).json() == TAGS_DATA
    token = make_dev_token(SECRET, "alice", roles=["editor"])
    response = await optional.post_graphql(TAGS, headers=bearer(token))
    assert (response.status_code, response.json()) == (200, TAGS_DATA)


@pytest.mark.parametrize(("token", "message"), [
    (make_dev_token(SECRET, "alice", expires_in=60, now=time.time() - 3600),
     "the token has expired"),
    (make_dev_token("another-secret-" + "q" * 40, "alice"), "the token is not valid"),
    (jwt.encode({"iss": "fraiseql-dev", "aud": "fraiseql-dev", "sub": "alice"}, SECRET,
                algorithm="HS256"), "the token is not valid"),  # no exp
    (jwt.encode({"iss": "fraiseql-dev", "aud": "fraiseql-dev", "sub": "alice",
                 "exp": time.time() + 60}, SECRET * 2, algorithm="HS512"), "the token is not valid"),
    ("not-a-jwt", "the bearer token was not accepted by any configured authenticator"),
])
async def test_invalid_credentials_are_a_401_that_never_echoes_them(
        optional: AppClient, token: str, message: str) -> None:
    for send in (optional.post_graphql, optional.get_graphql):
        response = await send(TAGS, headers=bearer(token))
        assert response.status_code == 401
        assert response.json() == unauthenticated(message)
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert token not in response.text


async def test_another_scheme_is_left_alone(optional: AppClient, required: AppClient) -> None:
    # Basic credentials, e.g. added by a proxy in front of a staging site: not ours.
    basic = {"authorization": "Basic YTpi"}
    assert (await optional.post_graphql(TAGS, headers=basic)).json() == TAGS_DATA
    refused = await required.post_graphql(TAGS, headers=basic)
    assert (refused.status_code, refused.json()) == (
        401, unauthenticated("authentication is required"))


async def test_required_auth_refuses_anonymous_graphql_only(required: AppClient) -> None:
    response = await required.post_graphql(TAGS)
    assert response.status_code == 401
    assert response.json() == unauthenticated("authentication is required")
    assert response.headers["www-authenticate"] == "Bearer"
    token = make_dev_token(SECRET, "alice")
    assert (await required.post_graphql(TAGS, headers=bearer(token))).json() == TAGS_DATA
    # Liveness, readiness, GraphiQL and its assets stay open.
    assert (await required.get("/health")).status_code == 200
    assert (await required.get("/ready")).status_code == 200
    page = await required.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # The body of an unauthenticated request is not even read.
    huge = await required.post("/graphql", content=b"x" * 2_000_000,
                               headers={"content-type": "application/json"})
    assert huge.status_code == 401


async def test_persisted_queries_work_behind_auth(required: AppClient) -> None:
    token = bearer(make_dev_token(SECRET, "alice"))
    digest = hashlib.sha256(TAGS.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    anonymous = await required.post("/graphql", json={"extensions": extensions})
    assert anonymous.status_code == 401
    registered = await required.post("/graphql", json={"query": TAGS, "extensions": extensions},
                                     headers=token)
    assert registered.json() == TAGS_DATA
    by_hash = await required.post("/graphql", json={"extensions": extensions}, headers=token)
    assert by_hash.json() == TAGS_DATA


class Failing:
    """An authenticator whose checks fail in a given way."""

    def __init__(self, start_error: BaseException | None = None,
                 authenticate_error: BaseException | None = None,
                 stop_error: BaseException | None = None) -> None:
        self.start_error, self.authenticate_error = start_error, authenticate_error
        self.stop_error, self.stopped = stop_error, False

    async def start(self) -> None:
        if self.start_error is not None:
            raise self.start_error

    async def stop(self) -> None:
        self.stopped = True
        if self.stop_error is not None:
            raise self.stop_error

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        if self.authenticate_error is not None:
            raise self.authenticate_error
        return None


async def test_an_authenticators_own_message_and_code_reach_the_client(blog_db_url: str) -> None:
    auth = Auth([Failing(authenticate_error=AuthenticationError("unknown API key"))])
    async with AppClient(fraiseql.create_app(blog_schema, database_url=blog_db_url,
                                             auth=auth)) as client:
        response = await client.post_graphql(TAGS, headers={"x-api-key": "fq_secret"})
    assert (response.status_code, response.json()) == (401, unauthenticated("unknown API key"))


async def test_an_identity_provider_outage_is_a_503_not_a_401(blog_db_url: str) -> None:
    down = AuthenticationError("GitHub is unreachable", ErrorCode.SERVICE_UNAVAILABLE)
    auth = Auth([Failing(authenticate_error=down)])
    async with AppClient(fraiseql.create_app(blog_schema, database_url=blog_db_url,
                                             auth=auth)) as client:
        response = await client.post_graphql(TAGS, headers=bearer("gho_x"))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "www-authenticate" not in response.headers


class Fixed:
    """An authenticator naming the same principal for every request."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        return self.principal


@pytest.mark.parametrize(("principal", "message"), [
    (Principal(""), "the credentials name no subject"),  # SQL would read '' as anonymous
    (Principal("alice", expires_at=time.time() - 1), "the credentials have expired"),
    (Principal("alice\x00"), "the credentials carry a value that cannot be used"),
])
async def test_unusable_principals_are_refused(blog_db_url: str, principal: Principal,
                                               message: str) -> None:
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url, auth=Auth([Fixed(principal)]))
    async with AppClient(app) as client:
        response = await client.post_graphql(TAGS)
    assert (response.status_code, response.json()) == (401, unauthenticated(message))


@pytest.mark.parametrize(("auth", "message"), [
    (lambda: Auth([], required=True), "auth is required but no authenticator is configured"),
    (lambda: Auth([Failing(ConfigurationError("issuer https://x has no JWKS"))]),
     "issuer https://x has no JWKS"),
    (lambda: Auth([Failing(OSError("connection refused"))]),
     "authentication: Failing could not start: OSError: connection refused"),
])
async def test_auth_that_cannot_work_fails_the_boot(blog_db_url: str, auth: Any,
                                                    message: str) -> None:
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url, auth=auth())
    with pytest.raises(ConfigurationError) as raised:
        await app.startup()
    assert message in str(raised.value)
    assert app.engine.pool is None and not app.started


async def test_authenticators_are_started_and_stopped_with_the_app(blog_db_url: str) -> None:
    clumsy, fine = Failing(stop_error=RuntimeError("socket already closed")), Failing()
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url, auth=Auth([clumsy, fine]))
    async with AppClient(app) as client:
        assert (await client.post_graphql(TAGS)).json() == TAGS_DATA
    # One that fails to stop does not keep the others, or the pool, open.
    assert clumsy.stopped and fine.stopped and app.engine.pool is None


def test_dev_tokens_are_refused_in_production() -> None:
    with pytest.raises(ConfigurationError, match="FRAISEQL_ENV=production"):
        Settings.from_env({"FRAISEQL_ENV": "production", "FRAISEQL_DEV_AUTH_SECRET": SECRET})
    with pytest.raises(ConfigurationError, match="env must be one of development, production"):
        Settings(env="prod")
    assert SECRET not in repr(Settings(dev_auth_secret=SECRET))


async def test_a_dev_secret_in_the_settings_enables_dev_tokens(blog_db_url: str) -> None:
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url, dev_auth_secret=SECRET)
    async with AppClient(app) as client:
        token = make_dev_token(SECRET, "alice")
        assert (await client.post_graphql(TAGS, headers=bearer(token))).json() == TAGS_DATA
        forged = make_dev_token("forged-" + "w" * 40, "alice")
        assert (await client.post_graphql(TAGS, headers=bearer(forged))).status_code == 401
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        fraiseql.create_app(blog_schema, database_url=blog_db_url, dev_auth_secret="short")
