"""The auth middleware: a request's headers become a Principal, then the request context.

    app = fraiseql.create_app(schema, auth=Auth([BearerAuthenticator(...), ApiKeys(...)],
                                                session_claims={"fraiseql.org": "org_id"}))

Revocation: with ``revocations=True`` (a RevocationList on the app's database) or
``revocations=RevocationList(url)``, any principal whose ``token_id`` (the jti of a
provider's JWT, a dev token or a session access token; an API key's id) is in
``fraiseql.revoked_tokens`` is refused with 401 "the token has been revoked", in every
process, from the next request on (``fraiseql tokens revoke JTI``). The list starts and
stops with the app; until it has loaded, such principals get a 503 (fail closed).

Per GraphQL request (GraphiQL, static files, /health and /ready stay open):
the authenticators are asked in order and the first Principal wins; none ->
``ANONYMOUS``, or 401 UNAUTHENTICATED with ``WWW-Authenticate: Bearer`` when
``required``; an :class:`AuthenticationError` -> 401 with its (secret-free) message.

The principal becomes the engine's request context (:meth:`Auth.context`):
``principal``, ``user_id``, ``tenant_id``, ``roles`` (sorted list), ``scopes``,
``actor_type`` and the ``context_claims`` asked for. Mutations' ``context_params``,
the change log's actor and tenant, the result cache key and Python resolvers
(``info.context["principal"]``) read it there.

An authenticated request also carries a :class:`SqlSession`: its statements run in
a transaction where these are set with ``set_config(name, value, true)``:

    fraiseql.user_id      the subject
    fraiseql.tenant_id    the tenant id ('' when none)
    fraiseql.roles        a JSON array of the roles, sorted: '["admin","editor"]'
    fraiseql.scopes       a JSON array of the scopes, sorted
    fraiseql.actor_type   user | service
    <session_claims>      each configured claim: strings as is, other values as JSON,
                          '' when the token lacks it

Roles are a JSON array, not a comma-separated list, so that a role containing a
comma stays one role: ``current_setting('fraiseql.roles', true)::jsonb ? 'editor'``.
Read them with ``current_setting(name, true)`` (missing_ok): outside an
authenticated request they are ``''`` or NULL, never another caller's values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from fraiseql.auth.principal import ANONYMOUS, AuthenticationError, Authenticator, Principal
from fraiseql.auth.revocation import RevocationList
from fraiseql.errors import ConfigurationError
from fraiseql.execution.session import SESSION_KEY, SqlSession, check_setting_name

logger = logging.getLogger("fraiseql")
# Context keys the middleware owns: a context claim may not shadow them.
RESERVED_CONTEXT_KEYS = frozenset({"principal", "user_id", "tenant_id", "roles", "scopes",
                                   "actor_type", "db", SESSION_KEY})
BUILTIN_SETTINGS = ("fraiseql.user_id", "fraiseql.tenant_id", "fraiseql.roles",
                    "fraiseql.scopes", "fraiseql.actor_type")
CHALLENGE = (b"www-authenticate", b"Bearer")
INVALID_TOKEN_CHALLENGE = (b"www-authenticate", b'Bearer error="invalid_token"')


class CredentialsRequired(AuthenticationError):
    """The request carries no credentials and this app requires some."""


class Auth:
    """How requests authenticate: authenticators in order, and what the principal feeds."""

    def __init__(self, authenticators: Sequence[Authenticator] = (), required: bool = False, *,
                 session_claims: Mapping[str, str] | None = None,
                 context_claims: Sequence[str] = (), session_variables: bool = True,
                 revocations: RevocationList | bool = False) -> None:
        """``session_claims`` maps SQL setting names to claim names ({"fraiseql.org":
        "org_id"}); ``context_claims`` are claims copied into the request context under
        their own names; ``session_variables=False`` skips the SQL session entirely;
        ``revocations``: True (a RevocationList on the app's database, made at start) or
        a RevocationList of your own refuses revoked token ids."""
        self.authenticators = list(authenticators)
        self._revocations_option = revocations
        self.revocations = revocations if isinstance(revocations, RevocationList) else None
        self.required = required
        self.session_claims = dict(session_claims or {})
        self.context_claims = tuple(context_claims)
        self.session_variables = session_variables
        for name in self.session_claims:
            check_setting_name(name)
            if name in BUILTIN_SETTINGS:
                raise ConfigurationError(f"session claim {name!r} would replace the built-in "
                                         "setting of that name; choose another name")
        shadowing = sorted(RESERVED_CONTEXT_KEYS & set(self.context_claims))
        if shadowing:
            raise ConfigurationError(f"context claims {', '.join(shadowing)} would replace the "
                                     "middleware's own context keys")

    def with_first(self, authenticator: Authenticator) -> Auth:
        """A copy asking ``authenticator`` before the others (the dev authenticator)."""
        return Auth([authenticator, *self.authenticators], self.required,
                    session_claims=self.session_claims, context_claims=self.context_claims,
                    session_variables=self.session_variables,
                    revocations=self._revocations_option)

    # --- lifecycle (app startup / shutdown) ---------------------------------------------

    async def start(self, database_url: str | None = None) -> None:
        """Boot checks: fail now, with a clear message, when this auth cannot work.

        ``database_url``: the app's, for ``revocations=True``.
        """
        if self.required and not self.authenticators:
            raise ConfigurationError("auth is required but no authenticator is configured: "
                                     "pass Auth([...authenticators], required=True)")
        for authenticator in self.authenticators:
            start = getattr(authenticator, "start", None)
            if start is None:
                continue
            try:
                await start()
            except ConfigurationError:
                raise
            except Exception as exc:
                raise ConfigurationError(
                    f"authentication: {type(authenticator).__name__} could not start: "
                    f"{type(exc).__name__}: {exc}") from exc
        if self._revocations_option is True and self.revocations is None:
            if not database_url:
                raise ConfigurationError(
                    "Auth(revocations=True) needs the app's database URL "
                    "(FRAISEQL_DATABASE_URL), or pass revocations=RevocationList(url)")
            self.revocations = RevocationList(database_url)
        if self.revocations is not None:
            await require_revocation_table(self.revocations.database_url)
            await self.revocations.start()

    async def stop(self) -> None:
        """Release what the authenticators hold (HTTP clients, pools), stop the revocations."""
        if self.revocations is not None:
            await self.revocations.stop()
        for authenticator in self.authenticators:
            # Authenticators name it stop (dev), aclose (Bearer: HTTP clients) or close
            # (API keys, sessions: a pool they opened from a URL).
            stop = next((getattr(authenticator, name) for name in ("stop", "aclose", "close")
                         if hasattr(authenticator, name)), None)
            if stop is None:
                continue
            try:
                await stop()
            except Exception as exc:  # noqa: BLE001 - shutdown goes on (the pool must close)
                logger.warning("authentication: %s did not stop cleanly: %s",
                               type(authenticator).__name__, exc)

    # --- per request ----------------------------------------------------------------------

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller for these lower-cased headers; raises AuthenticationError (401)."""
        for authenticator in self.authenticators:
            principal = await authenticator.authenticate(headers)
            if principal is None or not principal.is_authenticated:
                continue
            if not principal.subject:  # '' is how SQL sees anonymous callers
                raise AuthenticationError("the credentials name no subject")
            if principal.expires_at is not None and principal.expires_at <= time.time():
                raise AuthenticationError("the credentials have expired")
            if self.revocations is not None:
                self.revocations.check(principal.token_id)  # one set lookup, no I/O
            return principal
        # A bearer token nobody accepts must not silently become anonymous. Other schemes
        # (Basic added by a reverse proxy in front of a staging site) are not ours to judge.
        if headers.get("authorization", "")[:7].lower() == "bearer ":
            raise AuthenticationError("the bearer token was not accepted by any configured "
                                      "authenticator")
        if self.required:
            raise CredentialsRequired("authentication is required")
        return ANONYMOUS

    def context(self, principal: Principal) -> dict[str, Any]:
        """The engine's request context for ``principal`` (a new dict per request)."""
        # Built per request (~6 µs): with bound values the SQL text depends only on the
        # number of settings, so there is nothing worth caching across principals.
        session = self._session(principal) \
            if self.session_variables and principal.is_authenticated else None
        return principal_context(principal, self.context_claims, session)

    def _session(self, principal: Principal) -> SqlSession:
        variables = {
            "fraiseql.user_id": principal.subject,
            "fraiseql.tenant_id": principal.tenant_id or "",
            "fraiseql.roles": orjson.dumps(sorted(principal.roles)).decode(),
            "fraiseql.scopes": orjson.dumps(sorted(principal.scopes)).decode(),
            "fraiseql.actor_type": principal.actor_type,
        }
        for name, claim in self.session_claims.items():
            variables[name] = setting_text(principal.claims.get(claim))
        try:
            return SqlSession(variables)
        except ValueError:  # a NUL character: PostgreSQL text cannot hold it
            raise AuthenticationError("the credentials carry a value that cannot be used") \
                from None


async def require_revocation_table(database_url: str) -> None:
    """ConfigurationError if the database is reachable but lacks fraiseql.revoked_tokens.

    Without the table the list could never load and every token would be refused; a
    database that is down is not a configuration error (the list retries, failing closed).
    """
    from fraiseql.ops.migrations import require_installed
    await require_installed(database_url,
                            "SELECT to_regclass('fraiseql.revoked_tokens') IS NOT NULL",
                            "token revocation", "fraiseql.revoked_tokens",
                            "tokens with a jti are refused until it is")


def challenge(exc: AuthenticationError) -> list[tuple[bytes, bytes]]:
    """The WWW-Authenticate header of a 401 (RFC 6750): invalid_token when some were sent."""
    return [CHALLENGE if isinstance(exc, CredentialsRequired) else INVALID_TOKEN_CHALLENGE]


def principal_context(principal: Principal, context_claims: Sequence[str] = (),
                      session: SqlSession | None = None) -> dict[str, Any]:
    """The request context every consumer reads (see the module docstring)."""
    context: dict[str, Any] = {
        "principal": principal,
        "user_id": principal.subject or None,
        "tenant_id": principal.tenant_id,
        "roles": sorted(principal.roles),
        "scopes": sorted(principal.scopes),
        "actor_type": principal.actor_type,
    }
    for claim in context_claims:
        context[claim] = principal.claims.get(claim)
    if session is not None:
        context[SESSION_KEY] = session
    return context


def setting_text(value: Any) -> str:
    """A claim's value as a setting's text: strings as is, None as '', the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
