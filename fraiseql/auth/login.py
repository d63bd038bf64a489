"""Browser login: OpenID Connect authorization code + PKCE, then a native FraiseQL session.

    login = LoginFlow(keycloak(...) or "https://sso.example.com/realms/main",
                      client_id="web", redirect_uri="https://app.example.com/auth/callback",
                      sessions=SessionStore(url), tokens=AccessTokens(secret),
                      state_secret=os.environ["LOGIN_STATE_SECRET"])
    app = fraiseql.create_app(schema, login=login)   # the session tokens authenticate /graphql

Routes (all under ``/auth``):

``GET /auth/login?next=/path``
    A PKCE verifier (86 characters) goes into a short-lived HttpOnly cookie, and the
    ``state`` parameter is a token signed with HMAC-SHA256 (``state_secret``) carrying
    the nonce, ``next``, its expiry and the SHA-256 of the verifier. So the state binds
    the login to the browser that started it (a state replayed elsewhere lacks the
    cookie), and an intercepted redirect (code + state) does not reveal the verifier.
    ``next`` must be a same-origin relative path. 302 to the provider.
``GET /auth/callback?code&state``
    Checks the state (signature, expiry, the browser's cookie), exchanges the code with
    the verifier, validates the ID token (signature via the provider's JWKS, issuer,
    audience = client_id, nonce), creates a session and sets its refresh token as an
    HttpOnly cookie with path ``/auth``. 302 to ``next``.
``POST /auth/refresh``
    Rotates the refresh cookie and answers ``{"access_token", "token_type", "expires_in"}``:
    a FraiseQL access token for ``Authorization: Bearer``. A reused refresh token revokes
    the whole session (theft detection): 401.
``POST /auth/logout``
    Revokes the session and clears the cookie; answers (or redirects to) the provider's
    ``end_session_endpoint`` when ``provider_logout`` is on, else ``post_logout_redirect``.

CSRF: the POSTs must carry an ``Origin`` of the app (or of ``allowed_origins``), or, when
the browser sends no Origin, an ``X-Requested-With`` header (which no cross-site form can
set, and which a cross-site script cannot send without a CORS preflight we never grant).
The cookies are SameSite=Lax and Secure (unless the redirect URI is plain http on loopback).
Errors are 400 (401 for refresh) with a message that names the problem and echoes nothing
secret; an unreachable provider is a 502.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import httpx
import orjson

from fraiseql.auth.jwt import JWTValidator
from fraiseql.auth.oidc import OIDCProvider, is_loopback_host, require_secure_url
from fraiseql.auth.principal import AuthenticationError
from fraiseql.auth.providers import ClaimMapping, JWTProvider, principal_from_claims
from fraiseql.auth.sessions import AccessTokens, SessionAuthenticator, SessionStore
from fraiseql.errors import ConfigurationError

LOGIN_PREFIX = "/auth/"
COOKIE_PATH = "/auth"
MIN_STATE_SECRET_BYTES = 32
MAX_STATE_CHARS = 2048
PROVIDER_ERROR_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class LoginError(Exception):
    """A login request that is refused: the status and a message safe to show."""

    def __init__(self, status: int, message: str, clear_cookie: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.clear_cookie = status, message, clear_cookie


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: bytes = b"application/json; charset=utf-8"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636)."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class StateSigner:
    """Signed, expiring ``state`` tokens: base64url(JSON payload) "." base64url(HMAC-SHA256)."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < MIN_STATE_SECRET_BYTES:
            raise ConfigurationError(f"the login state secret must be at least "
                                     f"{MIN_STATE_SECRET_BYTES} bytes (got {len(key)})")
        self._key = key

    def sign(self, payload: Mapping[str, Any]) -> str:
        body = b64url(orjson.dumps(dict(payload)))
        return f"{body}.{self._mac(body)}"

    def verify(self, state: str, now: float | None = None) -> dict[str, Any]:
        """The payload of a genuine, unexpired state; LoginError otherwise."""
        body, _, mac = state.partition(".")
        if not body or len(state) > MAX_STATE_CHARS or not hmac.compare_digest(
                mac.encode(), self._mac(body).encode()):
            raise LoginError(400, "the login state is invalid (tampered with or not ours)")
        try:
            payload = orjson.loads(unb64url(body))
        except (ValueError, orjson.JSONDecodeError):
            raise LoginError(400, "the login state is invalid") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int | float):
            raise LoginError(400, "the login state is invalid")
        if (time.time() if now is None else now) > payload["exp"]:
            raise LoginError(400, "the login took too long (the state has expired): "
                                  "start again")
        return payload

    def _mac(self, body: str) -> str:
        return b64url(hmac.new(self._key, b"fraiseql-login-state:" + body.encode(),
                               hashlib.sha256).digest())


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a same-origin relative path; LoginError (an open redirect) if not."""
    if not target:
        return default
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith(("//", "/\\")) or parts.scheme
            or parts.netloc or any(ord(c) < 0x21 or c == "\\" for c in target)):
        raise LoginError(400, "next must be a path on this site (like /dashboard)")
    return target


class LoginFlow:
    """The browser login routes of one OpenID Connect client (see the module docstring)."""

    def __init__(self, provider: str | OIDCProvider | JWTProvider, *, client_id: str,
                 redirect_uri: str, sessions: SessionStore, tokens: AccessTokens,
                 state_secret: str | bytes, client_secret: str | None = None,
                 client_auth: str = "client_secret_basic",
                 scopes: Sequence[str] = ("openid", "profile", "email"),
                 mapping: ClaimMapping | None = None, algorithms: Sequence[str] = ("RS256",),
                 state_ttl_s: float = 600, post_login_redirect: str = "/",
                 post_logout_redirect: str = "/", provider_logout: bool = False,
                 allowed_origins: Sequence[str] = (), cookie_name: str = "fraiseql_refresh",
                 cookie_secure: bool | None = None, timeout_s: float = 10.0) -> None:
        if isinstance(provider, JWTProvider):  # a preset: its discovery and its claim mapping
            if provider.oidc is None:
                raise ConfigurationError("browser login needs an OpenID Connect provider "
                                         "(with discovery), not a static-key JWT issuer")
            mapping = mapping or provider.mapping
            provider = provider.oidc
        self._owns_provider = isinstance(provider, str)
        self.provider = OIDCProvider(provider) if isinstance(provider, str) else provider
        if client_auth not in ("client_secret_basic", "client_secret_post"):
            raise ConfigurationError("client_auth must be client_secret_basic or "
                                     "client_secret_post")
        if "openid" not in scopes:
            raise ConfigurationError("the login scopes must include 'openid'")
        require_secure_url(redirect_uri, "login redirect_uri")
        redirect = urlsplit(redirect_uri)
        self.client_id, self.client_secret, self.client_auth = client_id, client_secret, client_auth
        self.redirect_uri, self.scopes = redirect_uri, " ".join(scopes)
        self.sessions, self.tokens = sessions, tokens
        self.states = StateSigner(state_secret)
        self.state_ttl_s = state_ttl_s
        self.post_login_redirect = safe_next(post_login_redirect, "/")
        self.post_logout_redirect = post_logout_redirect
        self.provider_logout = provider_logout
        self.origin = f"{redirect.scheme}://{redirect.netloc}"
        self.allowed_origins = frozenset({self.origin, *(o.rstrip("/") for o in allowed_origins)})
        self.mapping = mapping or ClaimMapping()
        self.refresh_cookie, self.login_cookie = cookie_name, cookie_name + "_login"
        loopback = redirect.scheme == "http" and is_loopback_host(redirect.hostname)
        self.cookie_secure = (not loopback) if cookie_secure is None else cookie_secure
        self.id_tokens = JWTValidator(issuer=self.provider.issuer, audience=client_id,
                                      algorithms=algorithms, keys=self.provider,
                                      required_claims=("exp", "iat", "sub"))
        self._timeout = timeout_s
        self._client: httpx.AsyncClient | None = None

    def authenticator(self) -> SessionAuthenticator:
        """The authenticator accepting this flow's access tokens (create_app adds it)."""
        return SessionAuthenticator(self.sessions, self.tokens)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Discovery (the provider's endpoints and keys); ConfigurationError if unusable."""
        await self.provider.start()
        for name in ("authorization_endpoint", "token_endpoint"):
            url = self.provider.metadata.get(name)
            if not isinstance(url, str):
                raise ConfigurationError(f"the OIDC provider {self.provider.issuer} has no {name}")
            require_secure_url(url, f"OIDC {name}")
        self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._owns_provider:
            await self.provider.aclose()

    # --- routing --------------------------------------------------------------------------

    async def handle(self, method: str, path: str, query_string: bytes,
                     headers: Mapping[str, str]) -> Response:
        """The response to one request under /auth/ (headers lower-cased, as text)."""
        query = {k: v[0] for k, v in parse_qs(query_string.decode("latin-1")).items()}
        cookies = parse_cookies(headers.get("cookie", ""))
        routes = {("GET", "/auth/login"): self._login, ("GET", "/auth/callback"): self._callback,
                  ("POST", "/auth/refresh"): self._refresh, ("POST", "/auth/logout"): self._logout}
        route = routes.get((method, path))
        if route is None:
            allowed = [m for (m, p) in routes if p == path]
            if allowed:
                return error_response(405, f"use {allowed[0]} for {path}", headers,
                                      [(b"allow", allowed[0].encode())])
            return error_response(404, "not found", headers)
        try:
            if method == "POST":
                self._check_csrf(headers)
            return await route(query, cookies, headers)
        except LoginError as exc:
            extra = [self._cookie(exc.clear_cookie, "", 0)] if exc.clear_cookie else []
            return error_response(exc.status, exc.message, headers, extra)

    def _check_csrf(self, headers: Mapping[str, str]) -> None:
        origin = headers.get("origin")
        if origin is not None:
            if origin.rstrip("/") not in self.allowed_origins:
                raise LoginError(403, "cross-site request refused (Origin not allowed)")
        elif "x-requested-with" not in headers:
            raise LoginError(403, "cross-site request refused: send an Origin or an "
                                  "X-Requested-With header")

    # --- the routes -----------------------------------------------------------------------

    async def _login(self, query: dict[str, str], cookies: dict[str, str],
                     headers: Mapping[str, str]) -> Response:
        target = safe_next(query.get("next"), self.post_login_redirect)
        verifier = b64url(secrets.token_bytes(64))  # 86 characters (RFC 7636: 43 to 128)
        nonce = b64url(secrets.token_bytes(24))
        state = self.states.sign({"nonce": nonce, "next": target,
                                  "exp": int(time.time() + self.state_ttl_s),
                                  "bind": pkce_challenge(verifier)})
        location = self.provider.metadata["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": self.scopes, "state": state,
            "nonce": nonce, "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256"})
        return redirect(location, [self._cookie(self.login_cookie, verifier,
                                                int(self.state_ttl_s))])

    async def _callback(self, query: dict[str, str], cookies: dict[str, str],
                        headers: Mapping[str, str]) -> Response:
        clear = self.login_cookie
        if "error" in query:  # the user declined, or the provider refused the request
            code = query["error"] if PROVIDER_ERROR_RE.fullmatch(query["error"]) else "error"
            raise LoginError(400, f"the identity provider refused the login ({code})", clear)
        if not query.get("code") or not query.get("state"):
            raise LoginError(400, "the callback needs code and state parameters", clear)
        state = self.states.verify(query["state"])
        verifier = cookies.get(self.login_cookie, "")
        if not verifier or not hmac.compare_digest(pkce_challenge(verifier).encode(),
                                                   str(state.get("bind", "")).encode()):
            raise LoginError(400, "this login was not started in this browser (or its "
                                  "cookie expired): start again", clear)
        id_token = await self._exchange(query["code"], verifier)
        try:
            claims = await self.id_tokens.validate(id_token)
        except AuthenticationError as exc:
            raise LoginError(400, f"the ID token is not acceptable: {exc.message}",
                             clear) from None
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(),
                                   str(state.get("nonce", "")).encode()):
            raise LoginError(400, "the ID token's nonce does not match this login", clear)
        principal = principal_from_claims("login", claims, self.mapping)
        _, refresh_token = await self.sessions.create(
            principal.subject, roles=principal.roles, scopes=principal.scopes,
            tenant_id=principal.tenant_id)
        return redirect(str(state.get("next") or self.post_login_redirect), [
            self._cookie(self.login_cookie, "", 0),
            self._cookie(self.refresh_cookie, refresh_token,
                         int(self.sessions.lifetime.total_seconds()))])

    async def _exchange(self, code: str, verifier: str) -> str:
        """The ID token for an authorization code (the token endpoint checks the verifier)."""
        assert self._client is not None, "LoginFlow.start() was not called"
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "code_verifier": verifier,
                "client_id": self.client_id}
        headers = {"accept": "application/json"}
        if self.client_secret is not None:
            if self.client_auth == "client_secret_post":
                form["client_secret"] = self.client_secret
            else:  # RFC 6749 2.3.1: both parts form-encoded before Basic
                pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
                headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        try:
            response = await self._client.post(
                self.provider.metadata["token_endpoint"], data=form, headers=headers)
        except httpx.HTTPError:
            raise LoginError(502, "the identity provider could not be reached") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            reason = error if isinstance(error, str) and PROVIDER_ERROR_RE.fullmatch(error) \
                else f"HTTP {response.status_code}"
            raise LoginError(400, f"the identity provider refused the authorization code "
                                  f"({reason})", self.login_cookie)
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise LoginError(400, "the identity provider returned no ID token",
                             self.login_cookie)
        return id_token

    async def _refresh(self, query: dict[str, str], cookies: dict[str, str],
                       headers: Mapping[str, str]) -> Response:
        token = cookies.get(self.refresh_cookie)
        if not token:
            raise LoginError(401, "not logged in (no refresh cookie)")
        try:
            rotation = await self.sessions.rotate(token)
        except AuthenticationError as exc:
            raise LoginError(401, exc.message, self.refresh_cookie) from None
        body = orjson.dumps({"access_token": self.tokens.issue(rotation.session),
                             "token_type": "Bearer",
                             "expires_in": int(self.tokens.ttl.total_seconds())})
        return Response(200, body, headers=[
            (b"cache-control", b"no-store"),
            self._cookie(self.refresh_cookie, rotation.refresh_token,
                         int(self.sessions.lifetime.total_seconds()))])

    async def _logout(self, query: dict[str, str], cookies: dict[str, str],
                      headers: Mapping[str, str]) -> Response:
        token = cookies.get(self.refresh_cookie)
        if token:
            try:  # the only way from a refresh token to its session; then end that session
                rotation = await self.sessions.rotate(token)
                await self.sessions.revoke(rotation.session.id, "logout")
            except AuthenticationError:
                pass  # unknown, or reused (rotate has revoked the session then): logged out
        target = self.post_logout_redirect
        end_session = self.provider.metadata.get("end_session_endpoint")
        if self.provider_logout and isinstance(end_session, str):
            target = end_session + "?" + urlencode({"client_id": self.client_id})
        clear = [self._cookie(self.refresh_cookie, "", 0)]
        if "x-requested-with" in headers:  # a script: it navigates itself
            return Response(200, orjson.dumps({"logged_out": True, "redirect": target}),
                            headers=[(b"cache-control", b"no-store"), *clear])
        return redirect(target, clear, status=303)  # a form post

    def _cookie(self, name: str, value: str, max_age: int) -> tuple[bytes, bytes]:
        parts = [f"{name}={value}", f"Path={COOKIE_PATH}", f"Max-Age={max_age}", "HttpOnly",
                 "SameSite=Lax"]
        if self.cookie_secure:
            parts.append("Secure")
        return (b"set-cookie", "; ".join(parts).encode("latin-1"))


def parse_cookies(header: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in cookies:
            cookies[name] = value.strip('"')
    return cookies


def redirect(location: str, headers: list[tuple[bytes, bytes]], status: int = 302) -> Response:
    return Response(status, b"", b"text/plain; charset=utf-8", [
        (b"location", location.encode("latin-1")), (b"cache-control", b"no-store"), *headers])


def error_response(status: int, message: str, headers: Mapping[str, str],
                   extra: list[tuple[bytes, bytes]] | None = None) -> Response:
    """The error as a small HTML page for a browser navigation, JSON otherwise."""
    extra = [(b"cache-control", b"no-store"), *(extra or [])]
    if "text/html" in headers.get("accept", ""):
        page = (f"<!doctype html><meta charset=utf-8><title>Login failed</title>"
                f"<h1>Login failed</h1><p>{html.escape(message)}</p>"
                f'<p><a href="/auth/login">Log in again</a></p>')
        return Response(status, page.encode(), b"text/html; charset=utf-8", extra)
    return Response(status, orjson.dumps({"error": message}), headers=extra)
