"""The trusted documents (``trusted_documents=strict``): every worker's copy of
``fraiseql.trusted_documents``, kept current.

The set is loaded at startup and reloaded whenever the table changes: a
statement trigger notifies the channel ``fraiseql_trusted_documents`` (so
``fraiseql documents register`` and changes by hand both reach every worker),
and each worker listens on a connection of its own. Notifications sent while
that connection was down are lost, so every (re)connection reloads the whole
set; and every ``CHECK_INTERVAL_S`` the listener compares a digest of the table
with its copy, which both proves the connection alive and catches changes it
could not be told about (LISTEN does not work through PgBouncer in transaction
mode). Until the first load succeeds the set is unknown, and a strict server
refuses every request (fail closed).

Lookups are one dict access: by hash for hash-only requests, by exact text for
requests that send the query (the same text has the same hash).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fraiseql.errors import ConfigurationError
from fraiseql.execution.listener import cancel, keep_listening

logger = logging.getLogger("fraiseql")

CHANNEL = "fraiseql_trusted_documents"
CHECK_INTERVAL_S = 30.0
LOAD_SQL = "SELECT hash, query FROM fraiseql.trusted_documents"
# Changes whenever the set of hashes does (and hash determines query).
DIGEST_SQL = ("SELECT count(*)::text || ':' || coalesce(md5(string_agg(hash, ',' ORDER BY hash)),"
              " '') FROM fraiseql.trusted_documents")


class TrustedDocuments:
    """hash -> query and query -> hash for the trusted set; ``loaded`` once known."""

    def __init__(self, database_url: str | None, connect_timeout_s: float) -> None:
        self.database_url, self.connect_timeout_s = database_url, connect_timeout_s
        self.by_hash: dict[str, str] = {}
        self.by_query: dict[str, str] = {}
        self.loaded = False
        self.digest: str | None = None
        self.reloads = 0  # how many times the set was (re)loaded: for tests and logs
        self._task: asyncio.Task[None] | None = None
        self._listening = False

    # --- lifecycle --------------------------------------------------------------------

    async def start(self, pool: Any) -> None:
        """Load the set now if the database answers, then keep it current in the background.

        A database without the table is a configuration error (raised); one that
        is down is retried by the listener.
        """
        try:
            async with pool.acquire() as conn:
                await self._check(conn)
                await self.load(conn)
        except ConfigurationError:
            raise
        except Exception as exc:  # noqa: BLE001 - database down: the listener retries
            logger.warning("could not load the trusted documents yet: %s", exc)
        self._task = asyncio.create_task(
            keep_listening(self._listen, lambda: self._listening, "trusted documents listener"),
            name="fraiseql-trusted-documents")

    async def stop(self) -> None:
        """Stop listening (closes the listener's connection)."""
        await cancel(self._task)
        self._task = None

    # --- loading ----------------------------------------------------------------------

    async def load(self, conn: Any) -> None:
        """Replace the copy with the table's current content (one swap, no partial state)."""
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            digest = await conn.fetchval(DIGEST_SQL)
            rows = await conn.fetch(LOAD_SQL)
        by_hash = {row["hash"]: row["query"] for row in rows}
        self.by_hash, self.by_query = by_hash, {q: h for h, q in by_hash.items()}
        self.digest, self.loaded = digest, True
        self.reloads += 1
        logger.info("loaded %d trusted document(s)", len(by_hash))

    async def _check(self, conn: Any) -> None:
        if not await conn.fetchval("SELECT to_regclass('fraiseql.trusted_documents') IS NOT NULL"):
            raise ConfigurationError(
                "trusted_documents=strict needs the table fraiseql.trusted_documents: run "
                "`fraiseql install` to upgrade the framework SQL, then "
                "`fraiseql documents register MANIFEST`")

    async def _listen(self) -> None:
        """One connection's life: LISTEN, load, then reload on every change."""
        import asyncpg
        self._listening = False
        conn = await asyncpg.connect(self.database_url, timeout=self.connect_timeout_s,
                                     server_settings={"application_name": "fraiseql-listener"})
        try:
            changed = asyncio.Event()
            await conn.add_listener(CHANNEL, lambda *_: changed.set())
            conn.add_termination_listener(lambda *_: changed.set())
            await self.load(conn)  # after LISTEN: no change can fall in between
            self._listening = True
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), CHECK_INTERVAL_S)
                changed.clear()
                if conn.is_closed():
                    raise ConnectionError("the listener's connection was closed")
                if await conn.fetchval(DIGEST_SQL) != self.digest:
                    await self.load(conn)
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=1.0)
