"""Browser login (authorization code + PKCE) against npm oidc-provider, without a browser.

httpx plays the browser: one client talks to the app in-process (its cookie jar holds
the app's cookies), another to the identity provider, whose devInteractions login and
consent forms are submitted like a user would.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql.auth import Auth
from fraiseql.auth.login import LoginFlow, pkce_challenge, safe_next
from fraiseql.auth.providers import ClaimMapping, oidc, static_jwt
from fraiseql.auth.sessions import AccessTokens, SessionStore
from fraiseql.errors import ConfigurationError
from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)
from tests.auth.helpers import IssuerSpec, OIDCServer, free_port, make_key

APP = "http://127.0.0.1:8000"
CALLBACK = APP + "/auth/callback"
STATE_SECRET = "state-secret-" + "k" * 32
TOKEN_SECRET = "token-secret-" + "t" * 32
TAGS = "{ tags(limit: 2, orderBy: {name: ASC}) { name } }"
TAGS_DATA = {"data": {"tags": [{"name": "API Design"}, {"name": "Architecture"}]}}
XHR = {"x-requested-with": "fetch"}
ACCOUNTS = {"alice": {"name": "Alice", "email": "alice@example.test", "roles": ["editor"],
                      "tenant": "t-1"},
            "bob": {"name": "Bob", "email": "bob@example.test"}}


@pytest.fixture(scope="module")
def idp() -> Iterator[OIDCServer]:
    spec = IssuerSpec("/realms/web", [make_key("RS256")], {}, accounts=ACCOUNTS, login_clients={
        "web": {"redirect_uris": [CALLBACK]},
        "spa": {"redirect_uris": [CALLBACK], "public": True}})
    server = OIDCServer([spec])
    server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db_url(pg_server: TestServer, blog_template: str) -> AsyncIterator[str]:
    name = unique_database_name("fraiseql_login")
    url = await create_database(pg_server, name, template=blog_template)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(loop_scope="session")
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(db_url)
    yield conn
    await conn.close()


def make_flow(idp: OIDCServer, db_url: str, *, public: bool = False, **options: Any) -> LoginFlow:
    provider = oidc(idp.issuer("/realms/web"), audience="unused",
                    mapping=ClaimMapping(roles=("roles",), tenant="tenant"))
    settings: dict[str, Any] = {
        "client_id": "spa" if public else "web",
        "client_secret": None if public else "secret-web-0123456789abcdef",
        "redirect_uri": CALLBACK, "sessions": SessionStore(db_url),
        "tokens": AccessTokens(TOKEN_SECRET), "state_secret": STATE_SECRET}
    return LoginFlow(provider, **(settings | options))


@pytest_asyncio.fixture(loop_scope="session")
async def flow(idp: OIDCServer, db_url: str) -> LoginFlow:
    return make_flow(idp, db_url)


@pytest_asyncio.fixture(loop_scope="session")
async def app(flow: LoginFlow, db_url: str) -> AsyncIterator[AppClient]:
    application = fraiseql.create_app(blog_schema, database_url=db_url, login=flow)
    async with AppClient(application, base_url=APP) as client:
        yield client
    await flow.sessions.close()


async def sign_in(app: AppClient, *, login: str = "alice", next_path: str | None = "/posts",
                  edit_authorize: Callable[[str], str] | None = None) -> str:
    """Start at /auth/login, pass the provider's forms; the callback path+query it sends."""
    response = await app.http.get("/auth/login", params={"next": next_path} if next_path else {})
    assert response.status_code == 302, response.text
    url = response.headers["location"]
    if edit_authorize is not None:
        url = edit_authorize(url)
    async with httpx.AsyncClient() as browser:  # the provider's side of the browser
        for _ in range(20):
            if url.startswith(APP):
                parts = urlsplit(url)
                return f"{parts.path}?{parts.query}"
            page = await browser.get(url)
            if page.is_redirect:
                url = urljoin(url, page.headers["location"])
                continue
            assert page.status_code == 200, page.text
            action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
            assert action is not None, page.text
            prompt = re.search(r'name="prompt" value="(\w+)"', page.text)
            assert prompt is not None
            form = {"prompt": prompt.group(1)}
            if form["prompt"] == "login":
                form |= {"login": login, "password": "any"}
            answer = await browser.post(urljoin(url, action.group(1)), data=form)
            assert answer.is_redirect, answer.text
            url = urljoin(url, answer.headers["location"])
    raise AssertionError("the provider never redirected back to the app")


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """name -> the full Set-Cookie header, for each cookie the response sets."""
    return {header.split("=", 1)[0]: header
            for header in response.headers.get_list("set-cookie")}


def with_query(path: str, **changes: str) -> str:
    parts = urlsplit(path)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def session_rows(db: asyncpg.Connection, subject: str) -> list[asyncpg.Record]:
    return await db.fetch("SELECT id, roles, tenant_id, revoked_reason FROM fraiseql.sessions"
                          " WHERE subject = $1 ORDER BY created_at", subject)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --- the whole flow ----------------------------------------------------------------------


async def test_login_refresh_rotation_and_theft_detection(
        app: AppClient, db: asyncpg.Connection) -> None:
    await db.execute("DELETE FROM fraiseql.sessions WHERE subject = 'alice'")
    callback = await sign_in(app)
    response = await app.http.get(callback)
    assert (response.status_code, response.headers["location"]) == (302, "/posts")
    cookies = set_cookies(response)
    refresh = app.http.cookies["fraiseql_refresh"]
    assert cookies["fraiseql_refresh"] == (f"fraiseql_refresh={refresh}; Path=/auth; "
                                           "Max-Age=2592000; HttpOnly; SameSite=Lax")
    assert cookies["fraiseql_refresh_login"].startswith("fraiseql_refresh_login=; Path=/auth; "
                                                        "Max-Age=0")
    # One session, with the principal mapped from the ID token, its refresh token hashed.
    rows = await session_rows(db, "alice")
    assert [(r["roles"], r["tenant_id"], r["revoked_reason"]) for r in rows] == [
        (["editor"], "t-1", None)]
    hashes = await db.fetch("SELECT token_hash FROM fraiseql.refresh_tokens WHERE session_id"
                            " = $1", rows[0]["id"])
    assert [h["token_hash"] for h in hashes] == [hashlib.sha256(refresh.encode()).digest()]

    # Refresh: an access token that authenticates /graphql, and a rotated cookie.
    first = await app.http.post("/auth/refresh", headers=XHR)
    assert first.status_code == 200, first.text
    assert (first.json()["token_type"], first.json()["expires_in"]) == ("Bearer", 300)
    assert first.headers["cache-control"] == "no-store"
    rotated = app.http.cookies["fraiseql_refresh"]
    assert rotated != refresh
    access = first.json()["access_token"]
    graphql = await app.post_graphql(TAGS, headers=bearer(access))
    assert (graphql.status_code, graphql.json()) == (200, TAGS_DATA)
    claims = app.app.login.tokens.decode(access)  # type: ignore[union-attr]
    assert (claims["sub"], claims["sid"], claims["roles"], claims["tenant"]) == (
        "alice", str(rows[0]["id"]), ["editor"], "t-1")

    second = await app.http.post("/auth/refresh", headers=XHR)
    assert second.status_code == 200 and app.http.cookies["fraiseql_refresh"] != rotated

    # The first refresh token again (stolen): 401, and the whole session is revoked.
    app.http.cookies.set("fraiseql_refresh", refresh, domain="127.0.0.1", path="/auth")
    reused = await app.http.post("/auth/refresh", headers=XHR)
    assert (reused.status_code, reused.json()) == (401, {
        "error": "refresh token reuse detected: the session is revoked, log in again"})
    assert set_cookies(reused)["fraiseql_refresh"].startswith("fraiseql_refresh=; Path=/auth")
    assert [r["revoked_reason"] for r in await session_rows(db, "alice")] == [
        "refresh token reuse"]
    refused = await app.post_graphql(TAGS, headers=bearer(access))
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["message"] == "the session has ended (revoked or expired)"


async def test_public_client_with_pkce_alone_then_logout(
        idp: OIDCServer, db_url: str, db: asyncpg.Connection) -> None:
    flow = make_flow(idp, db_url, public=True, post_logout_redirect="/bye")
    application = fraiseql.create_app(blog_schema, database_url=db_url, login=flow)
    await db.execute("DELETE FROM fraiseql.sessions WHERE subject = 'bob'")
    async with AppClient(application, base_url=APP) as app:
        response = await app.http.get(await sign_in(app, login="bob", next_path=None))
        assert (response.status_code, response.headers["location"]) == (302, "/")
        access = (await app.http.post("/auth/refresh", headers=XHR)).json()["access_token"]
        assert (await app.post_graphql(TAGS, headers=bearer(access))).json() == TAGS_DATA

        out = await app.http.post("/auth/logout", headers={"origin": APP})  # a form post
        assert (out.status_code, out.headers["location"]) == (303, "/bye")
        assert set_cookies(out)["fraiseql_refresh"].startswith("fraiseql_refresh=; Path=/auth;")
        assert [r["revoked_reason"] for r in await session_rows(db, "bob")] == ["logout"]
        assert (await app.post_graphql(TAGS, headers=bearer(access))).status_code == 401
        again = await app.http.post("/auth/refresh", headers=XHR)
        assert (again.status_code, again.json()) == (401, {"error": "not logged in (no "
                                                                     "refresh cookie)"})
    await flow.sessions.close()


async def test_logout_from_a_script_names_the_providers_end_session(
        idp: OIDCServer, db_url: str, db: asyncpg.Connection) -> None:
    flow = make_flow(idp, db_url, provider_logout=True)
    # An app's own Auth (required here) also accepts the login's access tokens.
    application = fraiseql.create_app(blog_schema, database_url=db_url, login=flow,
                                      auth=Auth([], required=True))
    async with AppClient(application, base_url=APP) as app:
        await app.http.get(await sign_in(app, login="carol"))
        assert (await app.post_graphql(TAGS)).status_code == 401
        access = (await app.http.post("/auth/refresh", headers=XHR)).json()["access_token"]
        assert (await app.post_graphql(TAGS, headers=bearer(access))).json() == TAGS_DATA
        out = await app.http.post("/auth/logout", headers=XHR)
        assert (out.status_code, out.json()) == (200, {
            "logged_out": True,
            "redirect": idp.issuer("/realms/web") + "/session/end?client_id=web"})
    assert [r["revoked_reason"] for r in await session_rows(db, "carol")] == ["logout"]
    await flow.sessions.close()


# --- refusals ----------------------------------------------------------------------------


async def count_sessions(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM fraiseql.sessions"))


async def test_a_tampered_state_is_refused(app: AppClient, db: asyncpg.Connection) -> None:
    before = await count_sessions(db)
    callback = await sign_in(app)
    state = query_of(callback)["state"]
    body, mac = state.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    response = await app.http.get(with_query(callback, state=forged))
    assert (response.status_code, response.json()) == (400, {
        "error": "the login state is invalid (tampered with or not ours)"})
    assert await count_sessions(db) == before


async def test_a_state_replayed_from_another_browser_is_refused(
        app: AppClient, db: asyncpg.Connection) -> None:
    before = await count_sessions(db)
    callback = await sign_in(app)
    app.http.cookies.clear()  # the attacker's browser never started this login
    response = await app.http.get(callback, headers={"accept": "text/html"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "this login was not started in this browser" in response.text
    assert await count_sessions(db) == before


async def test_an_expired_state_is_refused(app: AppClient, flow: LoginFlow) -> None:
    await app.http.get("/auth/login")
    verifier = app.http.cookies["fraiseql_refresh_login"]
    expired = flow.states.sign({"nonce": "n", "next": "/", "exp": int(time.time()) - 1,
                                "bind": pkce_challenge(verifier)})
    response = await app.http.get("/auth/callback", params={"code": "c", "state": expired})
    assert (response.status_code, response.json()) == (400, {
        "error": "the login took too long (the state has expired): start again"})


async def test_a_wrong_pkce_verifier_is_refused_by_the_provider(
        app: AppClient, flow: LoginFlow, db: asyncpg.Connection) -> None:
    before = await count_sessions(db)
    callback = await sign_in(app)
    state = flow.states.verify(query_of(callback)["state"])
    # A state and cookie that agree with each other, but not with the code's challenge.
    wrong = "w" * 60
    app.http.cookies.set("fraiseql_refresh_login", wrong, domain="127.0.0.1", path="/auth")
    forged = flow.states.sign({**state, "bind": pkce_challenge(wrong)})
    response = await app.http.get(with_query(callback, state=forged))
    assert (response.status_code, response.json()) == (400, {
        "error": "the identity provider refused the authorization code (invalid_grant)"})
    assert await count_sessions(db) == before


async def test_a_nonce_mismatch_is_refused(app: AppClient, db: asyncpg.Connection) -> None:
    before = await count_sessions(db)

    def other_nonce(url: str) -> str:
        return with_query(url, nonce="not-the-nonce-of-this-login")

    callback = await sign_in(app, edit_authorize=other_nonce)
    response = await app.http.get(callback)
    assert (response.status_code, response.json()) == (400, {
        "error": "the ID token's nonce does not match this login"})
    assert await count_sessions(db) == before


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)", "posts",
                                    "/ok\r\nSet-Cookie: x=1"])
async def test_an_open_redirect_next_is_refused(app: AppClient, target: str) -> None:
    response = await app.http.get("/auth/login", params={"next": target})
    assert (response.status_code, response.json()) == (400, {
        "error": "next must be a path on this site (like /dashboard)"})
    assert "set-cookie" not in response.headers


async def test_the_authorize_redirect(app: AppClient, idp: OIDCServer) -> None:
    response = await app.http.get("/auth/login", params={"next": "/a?b=c"})
    location = response.headers["location"]
    assert location.startswith(idp.issuer("/realms/web") + "/auth?")
    query = query_of(location)
    verifier = app.http.cookies["fraiseql_refresh_login"]
    assert 43 <= len(verifier) <= 128 and re.fullmatch(r"[A-Za-z0-9_-]+", verifier)
    assert {k: query[k] for k in ("response_type", "client_id", "redirect_uri", "scope",
                                  "code_challenge", "code_challenge_method")} == {
        "response_type": "code", "client_id": "web", "redirect_uri": CALLBACK,
        "scope": "openid profile email", "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256"}
    assert verifier not in location  # the verifier never travels through the provider
    state = app.app.login.states.verify(query["state"])  # type: ignore[union-attr]
    assert (state["next"], state["nonce"]) == ("/a?b=c", query["nonce"])


async def test_an_unreachable_token_endpoint_is_a_502(
        app: AppClient, flow: LoginFlow, db: asyncpg.Connection) -> None:
    before = await count_sessions(db)
    callback = await sign_in(app)
    metadata = flow.provider.metadata
    flow.provider.metadata = {**metadata, "token_endpoint": f"http://127.0.0.1:{free_port()}/t"}
    try:
        response = await app.http.get(callback)
    finally:
        flow.provider.metadata = metadata
    assert (response.status_code, response.json()) == (502, {
        "error": "the identity provider could not be reached"})
    assert await count_sessions(db) == before


async def test_a_provider_error_is_a_400_that_echoes_nothing(app: AppClient) -> None:
    response = await app.http.get("/auth/callback", params={
        "error": "access_denied", "error_description": "<script>x</script>", "state": "s"})
    assert (response.status_code, response.json()) == (400, {
        "error": "the identity provider refused the login (access_denied)"})
    odd = await app.http.get("/auth/callback", params={"error": "<b>x</b>"})
    assert odd.json() == {"error": "the identity provider refused the login (error)"}
    missing = await app.http.get("/auth/callback")
    assert (missing.status_code, missing.json()) == (400, {
        "error": "the callback needs code and state parameters"})


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 403), ({"origin": "https://evil.example"}, 403),
    ({"origin": "https://evil.example", "x-requested-with": "fetch"}, 403),
    ({"origin": APP}, 401), (XHR, 401)])
async def test_posts_need_a_same_origin_or_a_custom_header(
        app: AppClient, headers: dict[str, str], status: int) -> None:
    for path in ("/auth/refresh", "/auth/logout"):
        response = await app.http.post(path, headers=headers)
        if path == "/auth/logout" and status == 401:
            assert response.status_code in (200, 303)  # logged out (there was no session)
        else:
            assert response.status_code == status, (path, response.text)


async def test_methods_and_unknown_routes(app: AppClient) -> None:
    assert (await app.http.get("/auth/refresh")).status_code == 405
    assert (await app.http.post("/auth/login", headers=XHR)).status_code == 405
    assert (await app.http.get("/auth/nope")).json() == {"error": "not found"}


def test_configuration_errors(idp: OIDCServer, db_url: str) -> None:
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        make_flow(idp, db_url, state_secret="short")
    with pytest.raises(ConfigurationError, match="https://"):
        make_flow(idp, db_url, redirect_uri="http://app.example.com/auth/callback")
    with pytest.raises(ConfigurationError, match="needs an OpenID Connect provider"):
        LoginFlow(static_jwt("https://i.example", audience=None, key=TOKEN_SECRET,
                             algorithms=["HS256"]),
                  client_id="web", redirect_uri=CALLBACK, sessions=SessionStore(db_url),
                  tokens=AccessTokens(TOKEN_SECRET), state_secret=STATE_SECRET)


def test_safe_next() -> None:
    assert safe_next("/posts?page=2#top", "/") == "/posts?page=2#top"
    assert safe_next(None, "/home") == "/home"
