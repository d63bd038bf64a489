"""Where persisted queries live: hash -> query text.

A persisted query is keyed by the lower-case hex SHA-256 of its text (UTF-8), so
an entry never changes once written: any copy of it, in any process, stays
right forever, and caching found entries needs no invalidation. Missing entries
are never cached (another worker may register the query a moment later).

- :class:`MemoryQueryStore`: a bounded LRU in this process (``apq_store=memory``).
- :class:`PostgresQueryStore`: ``fraiseql.persisted_queries`` shared by every
  worker and instance, behind a small LRU of the same kind (``apq_store=postgres``).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Any, Protocol

from fraiseql.errors import ConfigurationError
from fraiseql.execution import db_errors

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_hex(query: str) -> str:
    """The document identifier of ``query``: lower-case hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


class QueryStore(Protocol):
    """hash -> query text."""

    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, query: str) -> None: ...


class MemoryQueryStore:
    """The ``size`` most recently used persisted queries of this process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def cached(self, sha256: str) -> str | None:
        """The query for ``sha256`` if held here (and mark it recently used)."""
        query = self._entries.get(sha256)
        if query is not None:
            self._entries.move_to_end(sha256)
        return query

    def remember(self, sha256: str, query: str) -> None:
        """Hold ``query`` under ``sha256``, evicting the least recently used beyond ``size``."""
        self._entries[sha256] = query
        self._entries.move_to_end(sha256)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    async def get(self, sha256: str) -> str | None:
        return self.cached(sha256)

    async def put(self, sha256: str, query: str) -> None:
        self.remember(sha256, query)


class PostgresQueryStore:
    """``fraiseql.persisted_queries`` through the app's pool, an LRU of found entries in front."""

    def __init__(self, engine: Any, cache_size: int) -> None:
        self.engine = engine  # its pool is opened at startup
        self.cache = MemoryQueryStore(cache_size)

    async def check(self, conn: Any) -> None:
        """Refuse to start on a database whose framework SQL predates the table."""
        if not await conn.fetchval("SELECT to_regclass('fraiseql.persisted_queries') IS NOT NULL"):
            raise ConfigurationError(
                "apq_store=postgres needs the table fraiseql.persisted_queries: run "
                "`fraiseql install` to upgrade the framework SQL of this database")

    async def get(self, sha256: str) -> str | None:
        cached = self.cache.cached(sha256)
        if cached is not None:
            return cached
        query: str | None = await self._database(
            "SELECT query FROM fraiseql.persisted_queries WHERE hash = $1", sha256)
        if query is not None:
            self.cache.remember(sha256, query)
        return query

    async def put(self, sha256: str, query: str) -> None:
        if self.cache.cached(sha256) is not None:
            return  # already in the table: this process read or wrote it
        await self._database("INSERT INTO fraiseql.persisted_queries (hash, query)"
                             " VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING", sha256, query)
        self.cache.remember(sha256, query)

    async def _database(self, sql: str, *args: Any) -> Any:
        try:
            async with self.engine.pool.acquire() as conn:
                return await conn.fetchval(sql, *args)
        except Exception as exc:
            translated = db_errors.translate(exc)
            if translated is None:
                raise
            raise translated from exc


def create_store(engine: Any, kind: str, cache_size: int) -> MemoryQueryStore | PostgresQueryStore:
    """The store ``apq_store`` names."""
    if kind == "postgres":
        return PostgresQueryStore(engine, cache_size)
    return MemoryQueryStore(cache_size)
