"""The connection pool: asyncpg, JSON returned as raw bytes, settings applied once.

asyncpg was measured against psycopg 3 on the hot path (benchmarks/RESULTS.md).
The ``json`` type is decoded in binary format as the bytes PostgreSQL sent, so
the response body is spliced from them without a UTF-8 round trip.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from fraiseql.config import Settings
from fraiseql.errors import ConfigurationError


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("json", schema="pg_catalog", encoder=bytes, decoder=bytes,
                              format="binary")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on release: one round trip per request.

    FraiseQL sets no session state (its settings are transaction-scoped) and
    never hands a raw connection to user code, so there is nothing to reset;
    asyncpg still rolls back a transaction left open. Measured in
    benchmarks/RESULTS.md: about 20% less server CPU on a one-row query.
    """


def pool_options(settings: Settings) -> dict[str, Any]:
    """asyncpg pool keyword arguments for these settings."""
    return {
        "min_size": 0,
        "max_size": settings.pool_max_size,
        "timeout": settings.connect_timeout_s,
        "statement_cache_size": 256 if settings.prepared_statements else 0,
        "max_inactive_connection_lifetime": 300.0,
        "init": _init_connection,
        "reset": _keep_session,
        "server_settings": {"statement_timeout": str(settings.statement_timeout_ms),
                            "TimeZone": "UTC", "application_name": "fraiseql"},
    }


async def create_pool(settings: Settings) -> asyncpg.Pool:
    """A pool that connects lazily: the app starts even while the database is down."""
    if not settings.database_url:
        raise ConfigurationError(
            "no database: set FRAISEQL_DATABASE_URL or DATABASE_URL (or use `fraiseql dev`)")
    pool = asyncpg.create_pool(settings.database_url, **pool_options(settings))
    await pool
    await warm_up(pool, settings.pool_min_size)
    return pool


async def warm_up(pool: asyncpg.Pool, count: int) -> bool:
    """Open ``count`` connections now; False if the database is unreachable."""
    try:
        conns = [await pool.acquire() for _ in range(count)]
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError):
        return False
    for conn in conns:
        await pool.release(conn)
    return True
