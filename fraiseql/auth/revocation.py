"""Revoked tokens: ``fraiseql.revoked_tokens`` and every process's copy of it.

``revoke(conn, jti, expires_at)`` refuses one token (by its ``jti`` claim) until it
expires anyway; ``is_revoked(conn, jti)`` asks the table. Servers do not ask the
table per request: a ``RevocationList`` holds the set of unexpired revoked jtis in
memory, so a check is one set lookup. It follows the table as the trusted
documents do (fraiseql/execution/trusted_documents.py): a statement trigger
notifies the channel ``fraiseql_revoked_tokens``, the list listens on a connection
of its own. A notification of an insert carries the new rows, which are added to
the copy as they are (no reload, whatever the size of the list); any other change
makes the list compare a digest of the table with its copy and reload if they
differ. Every (re)connection reloads, and every ``CHECK_INTERVAL_S`` the digest is
compared too, which catches what a lost connection (or PgBouncer in transaction
mode) missed. A revocation thus reaches every process within the notification's
delivery time (milliseconds), or CHECK_INTERVAL_S at worst when notifications
cannot arrive.

Fail closed: until the first load succeeds the list is unknown, and ``check``
refuses (503, retry) every token that carries a jti (a token without one cannot be revoked by
this list and is not affected). Rows past ``expires_at`` are dropped from the copy
at each load and purged from the table (at most every PURGE_INTERVAL_S per process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import datetime
from typing import Any

from fraiseql.auth.principal import AuthenticationError
from fraiseql.errors import ErrorCode
from fraiseql.execution.listener import cancel, start_listening

logger = logging.getLogger("fraiseql")

CHANNEL = "fraiseql_revoked_tokens"
CHECK_INTERVAL_S = 30.0
PURGE_INTERVAL_S = 600.0
CONNECT_TIMEOUT_S = 5.0
LOAD_SQL = "SELECT jti, expires_at FROM fraiseql.revoked_tokens WHERE expires_at > now()"
# Changes whenever the set of unexpired revoked jtis does.
DIGEST_SQL = ("SELECT count(*)::text || ':' || coalesce(md5(string_agg(jti, ',' ORDER BY jti)),"
              " '') FROM fraiseql.revoked_tokens WHERE expires_at > now()")
PURGE_SQL = "DELETE FROM fraiseql.revoked_tokens WHERE expires_at <= now()"


async def revoke(conn: Any, jti: str, expires_at: datetime, reason: str | None = None) -> bool:
    """Refuse the token ``jti`` until ``expires_at``; False if it was revoked already."""
    if not jti:
        raise ValueError("a token id (jti) is required")
    done = await conn.fetchval(
        "INSERT INTO fraiseql.revoked_tokens (jti, expires_at, reason) VALUES ($1, $2, $3)"
        " ON CONFLICT (jti) DO NOTHING RETURNING true", jti, expires_at, reason)
    return bool(done)


async def is_revoked(conn: Any, jti: str) -> bool:
    """Whether the table refuses ``jti`` now (one primary-key lookup)."""
    return bool(await conn.fetchval("SELECT true FROM fraiseql.revoked_tokens"
                                    " WHERE jti = $1 AND expires_at > now()", jti))


async def purge_expired(conn: Any) -> int:
    """Delete the rows of tokens that have expired anyway; how many."""
    result = await conn.execute(PURGE_SQL)
    return int(str(result).rsplit(" ", 1)[-1])


class RevocationList:
    """The revoked jtis of one process, kept current; ``loaded`` once known."""

    def __init__(self, database_url: str, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.database_url, self.connect_timeout_s = database_url, connect_timeout_s
        self.expiry: dict[str, float] = {}  # jti -> epoch seconds when it expires
        self.loaded = False
        self.digest: str | None = None
        self.reloads = 0  # how many times the set was (re)loaded: for tests and logs
        self._task: asyncio.Task[None] | None = None
        self._listening = False
        self._purged_at = 0.0

    # --- checks (the per-request path: no I/O) ------------------------------------------

    def is_revoked(self, jti: str) -> bool:
        """Whether ``jti`` is revoked; True while the list is unknown (fail closed)."""
        if not self.loaded:
            return True
        expires = self.expiry.get(jti)
        return expires is not None and expires > time.time()

    def check(self, jti: str | None) -> None:
        """Raise AuthenticationError if a token with this jti must be refused."""
        if jti is None:
            return
        if not self.loaded:
            # 503 + Retry-After: the credentials may be fine, the server cannot tell yet.
            raise AuthenticationError("token revocation status is not known yet; retry shortly",
                                      ErrorCode.SERVICE_UNAVAILABLE)
        if self.is_revoked(jti):
            raise AuthenticationError("the token has been revoked")

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start following the table; returns once loaded, or after the first failed try.

        A database that is down is retried in the background (the list stays unknown,
        so tokens with a jti are refused until it loads).
        """
        self._task = await start_listening(self._listen, lambda: self._listening,
                                           "revoked tokens listener", "fraiseql-revoked-tokens",
                                           self.connect_timeout_s + 1)

    async def stop(self) -> None:
        """Stop listening (closes the listener's connection)."""
        await cancel(self._task)
        self._task = None

    async def load(self, conn: Any) -> None:
        """Replace the copy with the table's unexpired rows (one swap, no partial state)."""
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            digest = await conn.fetchval(DIGEST_SQL)
            rows = await conn.fetch(LOAD_SQL)
        self.expiry = {row["jti"]: row["expires_at"].timestamp() for row in rows}
        self.digest, self.loaded = digest, True
        self.reloads += 1
        logger.info("loaded %d revoked token(s)", len(rows))

    def _add(self, payloads: list[str]) -> bool:
        """Add the rows of insert notifications; False (nothing added) if one is not that."""
        added: dict[str, float] = {}
        try:
            for payload in payloads:
                for jti, expires_at in json.loads(payload):
                    added[str(jti)] = float(expires_at)
        except (ValueError, TypeError):  # '*' or anything unexpected: reload instead
            return False
        self.expiry.update(added)
        self.digest = None  # the copy moved past the last digest: the next check reloads
        return True

    async def _listen(self, first: asyncio.Event) -> None:
        """One connection's life: LISTEN, load, then reload on every change."""
        import asyncpg
        self._listening = False
        try:
            conn = await asyncpg.connect(
                self.database_url, timeout=self.connect_timeout_s,
                server_settings={"application_name": "fraiseql-listener"})
        except BaseException:
            first.set()  # start() returns; the list stays unknown until a retry works
            raise
        try:
            changed = asyncio.Event()
            payloads: list[str] = []

            def notified(_conn: Any, _pid: int, _channel: str, payload: object) -> None:
                payloads.append(str(payload))
                changed.set()

            await conn.add_listener(CHANNEL, notified)
            conn.add_termination_listener(lambda *_: changed.set())
            await self.load(conn)  # after LISTEN: no change can fall in between
            first.set()
            self._listening = True
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), CHECK_INTERVAL_S)
                changed.clear()
                received, payloads[:] = payloads[:], []
                if conn.is_closed():
                    raise ConnectionError("the listener's connection was closed")
                # New revocations are added as they come; anything else (and the
                # periodic check) compares the digest and reloads if it differs.
                if not (received and self._add(received)) \
                        and await conn.fetchval(DIGEST_SQL) != self.digest:
                    await self.load(conn)
                if time.monotonic() - self._purged_at > PURGE_INTERVAL_S:
                    self._purged_at = time.monotonic()
                    await purge_expired(conn)
        finally:
            first.set()
            with contextlib.suppress(Exception):
                await conn.close(timeout=1.0)
