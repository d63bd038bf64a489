"""What the PostgreSQL-backed auth stores share: their database, secrets and their hashes.

API keys, refresh tokens and session ids are high-entropy random values, so the
tables keep only their SHA-256: a leaked table reveals no usable credential, and
no slow (password) hash is needed because 256 random bits cannot be guessed
through a fast one either.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

SECRET_BYTES = 32
POOL_MIN_SIZE, POOL_MAX_SIZE = 1, 4
CONNECT_TIMEOUT_S = 5.0


def new_secret() -> str:
    """32 random bytes, base64url without padding (43 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).rstrip(b"=").decode()


def hash_secret(secret: str) -> bytes:
    """The SHA-256 of a secret (what the tables store)."""
    return hashlib.sha256(secret.encode()).digest()


class Database:
    """The connections a store uses: a pool it was given, or one it opens from a URL.

    ``pool_or_url`` is an asyncpg pool, a database URL, or a function returning the
    pool (``lambda: app.engine.pool``, for a pool that only exists once the app has
    started). A URL opens a small pool on first use (so constructing a store needs no
    running event loop); ``close`` closes only a pool it opened.
    """

    def __init__(self, pool_or_url: Any) -> None:
        self.url: str | None = None
        self._pool: Any = None
        self._get_pool: Any = None
        if isinstance(pool_or_url, str):
            self.url = pool_or_url
        elif callable(pool_or_url) and not hasattr(pool_or_url, "acquire"):
            self._get_pool = pool_or_url
        else:
            self._pool = pool_or_url
        self._lock = asyncio.Lock()

    async def pool(self) -> Any:
        if self._get_pool is not None:
            pool = self._get_pool()
            if pool is None:
                raise RuntimeError("the database pool is not open yet (has the app started?)")
            return pool
        if self._pool is None:
            import asyncpg
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.url, min_size=POOL_MIN_SIZE, max_size=POOL_MAX_SIZE,
                        timeout=CONNECT_TIMEOUT_S,
                        server_settings={"application_name": "fraiseql-auth"})
        return self._pool

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        pool = await self.pool()
        async with pool.acquire() as conn:
            yield conn

    async def close(self) -> None:
        if self.url is not None and self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in ``30d``, ``12h``, ``15m``, ``90s`` or ``2w``; ValueError if not one of those."""
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in _UNITS or not number.isdigit() or int(number) == 0:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 15m, 90s or 2w")
    return int(number) * _UNITS[unit]
