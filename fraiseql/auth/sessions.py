"""Native sessions: single-use refresh tokens with theft detection, short-lived access JWTs.

A session (``fraiseql.sessions``) is one login: a principal's subject, roles, scopes
and tenant, an absolute expiry and an idle timeout. It is also a *family* of
refresh tokens (``fraiseql.refresh_tokens``, stored as SHA-256): ``rotate`` exchanges
the current token for the next one, and each token works once. Presenting a token
that was already exchanged means two parties hold it (the client and a thief), so
the whole session is revoked and both are logged out.

Two concurrent rotations of the same token: ``rotate`` marks the token used with a
single ``UPDATE ... WHERE used_at IS NULL RETURNING``; the row lock makes the second
wait for the first to commit, after which its UPDATE matches nothing, so exactly
one wins. The loser is treated as reuse and revokes the session (the winner's new
token dies with it). A well-behaved client never sends one refresh token twice, so
a duplicate is indistinguishable from theft, and failing safe (log in again) is the
chosen answer; there is no grace window.

Access tokens are HS256 JWTs signed by FraiseQL with a secret of at least 32 bytes:
claims ``iss`` ("fraiseql"), ``sub``, ``sid`` (the session), ``jti``, ``iat``, ``exp``
(default 5 minutes), ``roles``, ``scopes``, ``tenant``. ``SessionAuthenticator``
validates them from ``Authorization: Bearer`` and checks on every request that the
session is still active (one primary-key lookup), so ``revoke`` takes effect on the
next request in every server process. Bearer tokens whose ``iss`` is not FraiseQL's
are left to the next authenticator (an OIDC provider's, say).
"""

from __future__ import annotations

import base64
import builtins
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from fraiseql.auth.principal import AuthenticationError, Principal
from fraiseql.auth.store import Database, hash_secret, new_secret

ISSUER = "fraiseql"
MIN_SECRET_BYTES = 32
DEFAULT_ACCESS_TTL = timedelta(minutes=5)
DEFAULT_LIFETIME = timedelta(days=30)
DEFAULT_IDLE_TIMEOUT = timedelta(days=7)
PROVIDER = "session"

_SESSION_COLUMNS = ("id, subject, roles, scopes, tenant_id, created_at, last_used_at,"
                    " expires_at, idle_timeout, revoked_at, revoked_reason,"
                    " (revoked_at IS NULL AND expires_at > now()"
                    "  AND last_used_at + idle_timeout > now()) AS active")
# The session of a token, locked: a revocation or another rotation waits for this one.
_LOCK_SESSION_SQL = f"SELECT {_SESSION_COLUMNS} FROM fraiseql.sessions WHERE id = $1 FOR UPDATE"
_ACTIVE_SQL = ("SELECT true FROM fraiseql.sessions WHERE id = $1 AND revoked_at IS NULL"
               " AND expires_at > now() AND last_used_at + idle_timeout > now()")


@dataclass(frozen=True)
class Session:
    """One session as stored (its refresh tokens are never readable)."""

    id: str
    subject: str
    roles: frozenset[str]
    scopes: frozenset[str]
    tenant_id: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    idle_timeout: timedelta
    revoked_at: datetime | None
    revoked_reason: str | None
    active: bool  # not revoked, not expired, not idle for too long (at read time)


@dataclass(frozen=True)
class Rotation:
    """What ``rotate`` returns: the next refresh token and the session it continues."""

    refresh_token: str
    session: Session


class SessionStore:
    """Sessions and their refresh tokens in PostgreSQL (pool or database URL)."""

    def __init__(self, pool_or_url: Any, *, lifetime: timedelta = DEFAULT_LIFETIME,
                 idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT) -> None:
        self.database = Database(pool_or_url)
        self.lifetime, self.idle_timeout = lifetime, idle_timeout

    async def create(self, subject: str, *, roles: Iterable[str] = (),
                     scopes: Iterable[str] = (), tenant_id: str | None = None) -> tuple[str, str]:
        """Start a session (log in); returns (session id, its first refresh token)."""
        if not subject:
            raise ValueError("a session needs a subject")
        session_id, token = str(uuid.uuid4()), new_secret()
        async with self.database.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO fraiseql.sessions (id, subject, roles, scopes, tenant_id,"
                " expires_at, idle_timeout)"
                " VALUES ($1, $2, $3, $4, $5, now() + $6::interval, $7::interval)",
                session_id, subject, sorted(set(roles)), sorted(set(scopes)), tenant_id,
                self.lifetime, self.idle_timeout)
            await conn.execute("INSERT INTO fraiseql.refresh_tokens (token_hash, session_id)"
                               " VALUES ($1, $2)", hash_secret(token), session_id)
        return session_id, token

    async def rotate(self, refresh_token: str) -> Rotation:
        """Exchange a refresh token for the next one; AuthenticationError if it cannot be.

        Unknown token: "invalid refresh token". Already used: the session is revoked
        (reason "refresh token reuse") and "refresh token reuse detected". Session
        revoked or expired: says so.
        """
        token_hash = hash_secret(refresh_token)
        async with self.database.acquire() as conn:
            async with conn.transaction():
                session_id = await conn.fetchval(
                    "UPDATE fraiseql.refresh_tokens SET used_at = now()"
                    " WHERE token_hash = $1 AND used_at IS NULL RETURNING session_id",
                    token_hash)
                if session_id is not None:
                    return await self._continue(conn, session_id)
            # Not the current token of any session: unknown, or used before (reuse).
            reused = await conn.fetchval(
                "UPDATE fraiseql.sessions s SET revoked_at = now(),"
                " revoked_reason = 'refresh token reuse'"
                " FROM fraiseql.refresh_tokens t WHERE t.token_hash = $1"
                " AND s.id = t.session_id AND s.revoked_at IS NULL RETURNING true",
                token_hash)
            if reused or await conn.fetchval(
                    "SELECT true FROM fraiseql.refresh_tokens WHERE token_hash = $1",
                    token_hash):
                raise AuthenticationError(
                    "refresh token reuse detected: the session is revoked, log in again")
        raise AuthenticationError("invalid refresh token")

    async def _continue(self, conn: Any, session_id: Any) -> Rotation:
        """Inside rotate's transaction: check the session, issue its next token."""
        row = await conn.fetchrow(_LOCK_SESSION_SQL, session_id)
        session = _session(row)
        if not session.active:
            raise AuthenticationError(_why_inactive(session))
        token = new_secret()
        await conn.execute("INSERT INTO fraiseql.refresh_tokens (token_hash, session_id)"
                           " VALUES ($1, $2)", hash_secret(token), session_id)
        row = await conn.fetchrow(
            f"UPDATE fraiseql.sessions SET last_used_at = now() WHERE id = $1"
            f" RETURNING {_SESSION_COLUMNS}", session_id)
        return Rotation(token, _session(row))

    async def get(self, session_id: str) -> Session | None:
        """The session, or None if there is none with that id."""
        parsed = _uuid(session_id)
        if parsed is None:
            return None
        async with self.database.acquire() as conn:
            row = await conn.fetchrow(f"SELECT {_SESSION_COLUMNS} FROM fraiseql.sessions"
                                      " WHERE id = $1", parsed)
        return _session(row) if row else None

    async def is_active(self, session_id: str) -> bool:
        """Whether the session exists and is neither revoked nor expired (one index lookup)."""
        parsed = _uuid(session_id)
        if parsed is None:
            return False
        async with self.database.acquire() as conn:
            return bool(await conn.fetchval(_ACTIVE_SQL, parsed))

    async def list(self, subject: str, *, include_inactive: bool = False) -> builtins.list[Session]:
        """The sessions of ``subject``, newest first (only active ones unless asked)."""
        async with self.database.acquire() as conn:
            rows = await conn.fetch(f"SELECT {_SESSION_COLUMNS} FROM fraiseql.sessions"
                                    " WHERE subject = $1 ORDER BY created_at DESC, id", subject)
        sessions = [_session(row) for row in rows]
        return sessions if include_inactive else [s for s in sessions if s.active]

    async def revoke(self, session_id: str, reason: str = "revoked") -> bool:
        """Revoke one session (log out); False if there is none or it was revoked already."""
        parsed = _uuid(session_id)
        if parsed is None:
            return False
        async with self.database.acquire() as conn:
            return bool(await conn.fetchval(
                "UPDATE fraiseql.sessions SET revoked_at = now(), revoked_reason = $2"
                " WHERE id = $1 AND revoked_at IS NULL RETURNING true", parsed, reason))

    async def revoke_all(self, subject: str, reason: str = "revoked") -> int:
        """Revoke every session of ``subject`` (log out everywhere); how many were revoked."""
        async with self.database.acquire() as conn:
            rows = await conn.fetch(
                "UPDATE fraiseql.sessions SET revoked_at = now(), revoked_reason = $2"
                " WHERE subject = $1 AND revoked_at IS NULL RETURNING id", subject, reason)
        return len(rows)

    async def purge(self, older_than: timedelta = timedelta(days=30)) -> int:
        """Delete sessions (and their tokens) expired or revoked more than ``older_than`` ago."""
        async with self.database.acquire() as conn:
            rows = await conn.fetch(
                # least() skips nulls: the moment the session stopped working.
                "DELETE FROM fraiseql.sessions WHERE least(expires_at, revoked_at,"
                " last_used_at + idle_timeout) < now() - $1::interval RETURNING id",
                older_than)
        return len(rows)

    async def close(self) -> None:
        await self.database.close()


class AccessTokens:
    """Issues and validates FraiseQL's session access tokens (HS256 JWTs)."""

    def __init__(self, secret: str | bytes, *, ttl: timedelta = DEFAULT_ACCESS_TTL,
                 issuer: str = ISSUER, leeway_s: float = 5.0) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < MIN_SECRET_BYTES:
            from fraiseql.errors import ConfigurationError
            raise ConfigurationError(f"the session signing secret must be at least "
                                     f"{MIN_SECRET_BYTES} bytes (got {len(key)})")
        self._key, self.ttl, self.issuer, self.leeway_s = key, ttl, issuer, leeway_s

    def issue(self, session: Session) -> str:
        """A fresh access token for ``session`` (after create+get, or from a Rotation)."""
        import time

        import jwt
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": session.subject, "sid": session.id,
            "jti": uuid.uuid4().hex, "iat": now, "exp": now + int(self.ttl.total_seconds()),
            "roles": sorted(session.roles), "scopes": sorted(session.scopes),
            "tenant": session.tenant_id}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def is_ours(self, token: str) -> bool:
        """Whether ``token`` claims to come from this issuer (not verified yet).

        Reads the payload segment by hand: a tenth of the cost of a PyJWT decode, and
        every Bearer token of every request goes through here.
        """
        parts = token.split(".")
        if len(parts) != 3:
            return False
        try:
            payload = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (ValueError, orjson.JSONDecodeError):
            return False
        return isinstance(payload, dict) and payload.get("iss") == self.issuer

    def decode(self, token: str) -> dict[str, Any]:
        """The verified claims; AuthenticationError saying what is wrong otherwise."""
        import jwt
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=["HS256"], issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "sub", "sid", "jti", "iss"]})
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("the access token has expired") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationError("the access token's signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid access token: {exc}") from None
        return claims


class SessionAuthenticator:
    """The Authenticator for FraiseQL's session access tokens (``Authorization: Bearer``).

    Every request costs one signature check and one primary-key lookup of the session
    (so a revoked session is refused on the next request, in every process); with
    ``revocations`` (a started RevocationList) single tokens can be revoked by jti too.
    """

    def __init__(self, store: SessionStore, tokens: AccessTokens,
                 revocations: Any | None = None) -> None:
        self.store, self.tokens, self.revocations = store, tokens, revocations

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not self.tokens.is_ours(token):
            return None
        claims = self.tokens.decode(token)
        if self.revocations is not None:
            self.revocations.check(claims["jti"])
        if not await self.store.is_active(str(claims["sid"])):
            raise AuthenticationError("the session has ended (revoked or expired)")
        return Principal(subject=str(claims["sub"]), roles=frozenset(claims.get("roles") or ()),
                         scopes=frozenset(claims.get("scopes") or ()),
                         tenant_id=claims.get("tenant"), claims=claims, actor_type="user",
                         token_id=str(claims["jti"]), expires_at=float(claims["exp"]),
                         provider=PROVIDER)


def _why_inactive(session: Session) -> str:
    if session.revoked_at is not None:
        return "the session is revoked, log in again"
    return "the session has expired, log in again"


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def _session(row: Any) -> Session:
    return Session(id=str(row["id"]), subject=row["subject"], roles=frozenset(row["roles"]),
                   scopes=frozenset(row["scopes"]), tenant_id=row["tenant_id"],
                   created_at=row["created_at"], last_used_at=row["last_used_at"],
                   expires_at=row["expires_at"], idle_timeout=row["idle_timeout"],
                   revoked_at=row["revoked_at"], revoked_reason=row["revoked_reason"],
                   active=row["active"])
