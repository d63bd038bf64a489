"""API keys: ``X-API-Key: fq_<id>_<secret>`` authenticates a service.

The id (12 letters and digits) is public: it is what lookups use, logs show and
``fraiseql apikey revoke`` names. The secret (32 random bytes, base64url) is shown
once when the key is created and stored only as its SHA-256.

Checking a key is one primary-key lookup by id, then a constant-time comparison of
the hashes (an unknown id is compared against a dummy hash, so both failures take
the same path and read the same: "invalid API key"). There is no cache: the lookup
is as cheap as a cache miss would be, and without one a revoked key is refused on
the very next request by every server process (see docs/auth-store.md for numbers).
``last_used_at`` is written at most once a minute per key, so use does not turn
every request into a write.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fraiseql.auth.principal import AuthenticationError, Principal
from fraiseql.auth.store import Database, hash_secret, new_secret

HEADER = "x-api-key"
PREFIX = "fq_"
ID_LENGTH = 12
_ID_ALPHABET = string.ascii_letters + string.digits
_KEY = re.compile(r"fq_([A-Za-z0-9]{8,32})_([A-Za-z0-9_-]{43})")
# Compared against when the id is unknown, so that case costs the same as a wrong secret.
_DUMMY_HASH = hash_secret("no such key")

LOOKUP_SQL = """
SELECT secret_hash, subject, roles, scopes, tenant_id, expires_at,
       revoked_at IS NOT NULL AS revoked,
       coalesce(expires_at <= now(), false) AS expired,
       (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
FROM fraiseql.api_keys WHERE id = $1
"""
TOUCH_SQL = "UPDATE fraiseql.api_keys SET last_used_at = now() WHERE id = $1"


@dataclass(frozen=True)
class ApiKey:
    """What is stored about a key (never its secret)."""

    id: str
    name: str
    subject: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    tenant_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def parse_key(presented: str) -> tuple[str, str]:
    """(id, secret) of a well-formed key; AuthenticationError("invalid API key") otherwise."""
    match = _KEY.fullmatch(presented.strip())
    if match is None:
        raise AuthenticationError("invalid API key")
    return match[1], match[2]


async def create_api_key(conn: Any, *, name: str, subject: str, roles: Iterable[str] = (),
                         scopes: Iterable[str] = (), tenant_id: str | None = None,
                         expires_in: timedelta | None = None) -> tuple[ApiKey, str]:
    """Store a new key; returns what is stored and the key itself (shown once, never again)."""
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_LENGTH))
    secret = new_secret()
    row = await conn.fetchrow(
        "INSERT INTO fraiseql.api_keys (id, secret_hash, name, subject, roles, scopes,"
        " tenant_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval)"
        f" RETURNING {_COLUMNS}",
        key_id, hash_secret(secret), name, subject, sorted(set(roles)), sorted(set(scopes)),
        tenant_id, expires_in)
    return _api_key(row), f"{PREFIX}{key_id}_{secret}"


async def list_api_keys(conn: Any, subject: str | None = None) -> list[ApiKey]:
    """Every key (of ``subject``, if given), oldest first."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM fraiseql.api_keys"
                            " WHERE $1::text IS NULL OR subject = $1 ORDER BY created_at, id",
                            subject)
    return [_api_key(row) for row in rows]


async def revoke_api_key(conn: Any, key_id: str) -> bool:
    """Revoke a key now; False if there is no such key or it was revoked already."""
    done = await conn.fetchval("UPDATE fraiseql.api_keys SET revoked_at = now()"
                               " WHERE id = $1 AND revoked_at IS NULL RETURNING true", key_id)
    return bool(done)


class ApiKeyAuthenticator:
    """The Authenticator for header ``X-API-Key``: a service principal per key.

    ``pool_or_url``: an asyncpg pool (the app's) or a database URL (a small pool is
    opened on first use; ``close()`` closes it).
    """

    def __init__(self, pool_or_url: Any) -> None:
        self.database = Database(pool_or_url)

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        presented = headers.get(HEADER)
        if presented is None:
            return None
        key_id, secret = parse_key(presented)
        async with self.database.acquire() as conn:
            row = await conn.fetchrow(LOOKUP_SQL, key_id)
            matched = hmac.compare_digest(hash_secret(secret),
                                          row["secret_hash"] if row else _DUMMY_HASH)
            if row is None or not matched:
                raise AuthenticationError("invalid API key")
            if row["revoked"]:
                raise AuthenticationError("API key revoked")
            if row["expired"]:
                raise AuthenticationError("API key expired")
            if row["stale"]:
                await conn.execute(TOUCH_SQL, key_id)
        expires_at = row["expires_at"]
        return Principal(subject=row["subject"], roles=frozenset(row["roles"]),
                         scopes=frozenset(row["scopes"]), tenant_id=row["tenant_id"],
                         actor_type="service", token_id=key_id, provider="api_key",
                         expires_at=expires_at.timestamp() if expires_at else None)

    async def close(self) -> None:
        await self.database.close()


_COLUMNS = ("id, name, subject, roles, scopes, tenant_id, created_at, expires_at, revoked_at,"
            " last_used_at")


def _api_key(row: Any) -> ApiKey:
    return ApiKey(id=row["id"], name=row["name"], subject=row["subject"],
                  roles=tuple(row["roles"]), scopes=tuple(row["scopes"]),
                  tenant_id=row["tenant_id"], created_at=row["created_at"],
                  expires_at=row["expires_at"], revoked_at=row["revoked_at"],
                  last_used_at=row["last_used_at"])
