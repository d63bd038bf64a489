"""Revoked token ids on the request path: Auth(revocations=...) in front of every authenticator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import jwt
import pytest

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql.auth import Auth, Principal
from fraiseql.auth.dev import DevAuthenticator, make_dev_token
from fraiseql.auth.providers import BearerAuthenticator, static_jwt
from fraiseql.auth.revocation import RevocationList, revoke
from fraiseql.auth.sessions import AccessTokens, SessionAuthenticator, SessionStore
from fraiseql.errors import ConfigurationError
from fraiseql.testing.client import AppClient

SECRET = "revocation-secret-" + "r" * 40
TAGS = "{ tags(limit: 1, orderBy: {name: ASC}) { name } }"
TAGS_DATA = {"data": {"tags": [{"name": "API Design"}]}}
REVOKED = {"errors": [{"message": "the token has been revoked",
                       "extensions": {"code": "UNAUTHENTICATED"}}]}
SOON = datetime.now(UTC) + timedelta(hours=2)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def jti_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


async def revoke_now(url: str, jti: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        assert await revoke(conn, jti, SOON, "test") is True
    finally:
        await conn.close()


async def post_until_refused(client: AppClient, token: str) -> Any:
    """The first response that is not a 200 (the notification takes milliseconds)."""
    deadline = time.monotonic() + 5
    while True:
        response = await client.post_graphql(TAGS, headers=bearer(token))
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.02)


async def test_revoked_dev_tokens_are_refused_on_the_next_request(fresh_blog_db_url: str) -> None:
    app = fraiseql.create_app(blog_schema, database_url=fresh_blog_db_url,
                              auth=Auth([DevAuthenticator(SECRET)], revocations=True))
    revoked_token = make_dev_token(SECRET, "alice")
    other_token = make_dev_token(SECRET, "alice")
    async with AppClient(app) as client:
        assert app.auth is not None and app.auth.revocations is not None
        assert app.auth.revocations.loaded is True
        ok = await client.post_graphql(TAGS, headers=bearer(revoked_token))
        assert (ok.status_code, ok.json()) == (200, TAGS_DATA)
        await revoke_now(fresh_blog_db_url, jti_of(revoked_token))
        refused = await post_until_refused(client, revoked_token)
        assert (refused.status_code, refused.json()) == (401, REVOKED)
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        still = await client.post_graphql(TAGS, headers=bearer(other_token))
        assert (still.status_code, still.json()) == (200, TAGS_DATA)
        anonymous = await client.post_graphql(TAGS)
        assert (anonymous.status_code, anonymous.json()) == (200, TAGS_DATA)
    assert app.auth.revocations._task is None  # stopped with the app


async def test_revocation_covers_provider_jwts_and_session_access_tokens(
        fresh_blog_db_url: str) -> None:
    provider = static_jwt("https://issuer.test", audience="api", key=SECRET,
                          algorithms=["HS256"])
    store = SessionStore(fresh_blog_db_url)
    tokens = AccessTokens(SECRET)
    # The session authenticator has no revocation list of its own: Auth's covers it.
    auth = Auth([SessionAuthenticator(store, tokens), BearerAuthenticator([provider])],
                revocations=RevocationList(fresh_blog_db_url))
    now = int(time.time())
    provider_token = jwt.encode({"iss": "https://issuer.test", "aud": "api", "sub": "svc",
                                 "iat": now, "exp": now + 600, "jti": "provider-jti-1"},
                                SECRET, algorithm="HS256")
    without_jti = jwt.encode({"iss": "https://issuer.test", "aud": "api", "sub": "svc",
                              "iat": now, "exp": now + 600}, SECRET, algorithm="HS256")
    session_id, _ = await store.create("bob", roles=["editor"])
    session = await store.get(session_id)
    assert session is not None
    session_token = tokens.issue(session)
    app = fraiseql.create_app(blog_schema, database_url=fresh_blog_db_url, auth=auth)
    try:
        async with AppClient(app) as client:
            for token in (provider_token, session_token, without_jti):
                ok = await client.post_graphql(TAGS, headers=bearer(token))
                assert (ok.status_code, ok.json()) == (200, TAGS_DATA)
            await revoke_now(fresh_blog_db_url, "provider-jti-1")
            await revoke_now(fresh_blog_db_url, jti_of(session_token))
            for token in (provider_token, session_token):
                refused = await post_until_refused(client, token)
                assert (refused.status_code, refused.json()) == (401, REVOKED)
            ok = await client.post_graphql(TAGS, headers=bearer(without_jti))
            assert (ok.status_code, ok.json()) == (200, TAGS_DATA)
    finally:
        await store.close()


class FixedPrincipal:
    """An authenticator that names one principal (a stand-in for any credential kind)."""

    def __init__(self, token_id: str | None) -> None:
        self.token_id = token_id

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        return Principal(subject="carol", token_id=self.token_id)


async def test_an_unknown_revocation_status_refuses_tokens_with_an_id_with_a_503() -> None:
    down = RevocationList("postgresql://nobody@127.0.0.1:1/none", connect_timeout_s=0.2)
    with_id = Auth([FixedPrincipal("jti-1")], revocations=down)
    without_id = Auth([FixedPrincipal(None)], revocations=down)
    await with_id.start()
    try:
        assert down.loaded is False
        with pytest.raises(fraiseql.FraiseQLError) as caught:
            await with_id.authenticate({})
        assert (caught.value.message, caught.value.code) == (  # type: ignore[attr-defined]
            "token revocation status is not known yet; retry shortly",
            fraiseql.ErrorCode.SERVICE_UNAVAILABLE)
        assert (await without_id.authenticate({})).subject == "carol"
    finally:
        await with_id.stop()


async def test_the_unknown_status_is_a_503_over_http(blog_db_url: str) -> None:
    down = RevocationList("postgresql://nobody@127.0.0.1:1/none", connect_timeout_s=0.2)
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url,
                              auth=Auth([DevAuthenticator(SECRET)], revocations=down))
    async with AppClient(app) as client:
        response = await client.post_graphql(
            TAGS, headers=bearer(make_dev_token(SECRET, "alice")))
        assert (response.status_code, response.headers["retry-after"], response.json()) == (
            503, "5", {"errors": [{"message": "token revocation status is not known yet; "
                                              "retry shortly",
                                   "extensions": {"code": "SERVICE_UNAVAILABLE"}}]})


async def test_revocation_without_a_database_url_fails_the_start() -> None:
    with pytest.raises(ConfigurationError, match=r"Auth\(revocations=True\) needs the app's "
                                                 r"database URL \(FRAISEQL_DATABASE_URL\)"):
        await Auth([FixedPrincipal("x")], revocations=True).start()


async def test_revocation_on_a_database_without_the_table_fails_the_start(
        empty_db_url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"token revocation is on but the database has "
                                                 r"no fraiseql.revoked_tokens: run `fraiseql "
                                                 r"install`"):
        await Auth([FixedPrincipal("x")], revocations=True).start(empty_db_url)


def test_with_first_keeps_the_revocation_option() -> None:
    revocations = RevocationList("postgresql://localhost/x")
    auth = Auth([FixedPrincipal("x")], revocations=revocations)
    assert auth.with_first(DevAuthenticator(SECRET)).revocations is revocations
    assert Auth([], revocations=True).with_first(DevAuthenticator(SECRET)) \
        ._revocations_option is True
