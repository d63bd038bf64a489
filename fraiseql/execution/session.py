"""The caller's identity as SQL settings: ``current_setting('fraiseql.user_id', true)``.

An authenticated request runs every statement on one connection inside one
transaction that starts with ``set_config(name, value, true)`` for each variable:
transaction-local, so when the transaction ends the connection goes back to the
pool with nothing of this request left on it (the next caller sees ``''``).

The transaction costs three extra round trips, not one per variable:

    BEGIN
    SELECT set_config($1, $2, true), set_config($3, $4, true), ...   prepared, bound values
    <the request's statements>                                       as for anonymous callers
    COMMIT

The values (a token's subject and claims) are bound parameters like every other
value, never SQL text; the names are validated setting names from the
configuration. Requests without a session (anonymous, or no auth configured)
keep the single-statement path untouched.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fraiseql.errors import ConfigurationError

SESSION_KEY = "sql_session"  # where the request context carries its SqlSession
# A custom setting needs a dotted name; keep it to plain identifiers.
_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$")


def check_setting_name(name: str) -> str:
    """``name`` if it can be a custom PostgreSQL setting (``prefix.name``), else raise."""
    if not _NAME.match(name):
        raise ConfigurationError(
            f"session setting {name!r} must be a dotted lower-case name such as 'fraiseql.org'")
    return name


class SqlSession:
    """The transaction-local settings every statement of one request runs under."""

    __slots__ = ("_arguments", "_set_sql", "variables")

    def __init__(self, variables: Mapping[str, str]) -> None:
        self.variables = dict(variables)
        for name, value in self.variables.items():
            check_setting_name(name)
            if "\x00" in value:  # PostgreSQL text cannot hold NUL
                raise ValueError(f"the value of session setting {name!r} contains NUL")
        calls = ", ".join(f"set_config(${2 * i + 1}, ${2 * i + 2}, true)"
                          for i in range(len(self.variables)))
        self._set_sql = f"SELECT {calls}" if calls else ""
        self._arguments = [part for item in self.variables.items() for part in item]

    async def begin(self, conn: Any, read_only: bool = False) -> None:
        """Open the transaction on ``conn`` and set every variable in it."""
        await conn.execute("BEGIN READ ONLY" if read_only else "BEGIN")
        if self._set_sql:
            await conn.execute(self._set_sql, *self._arguments)


def session_of(context: Mapping[str, Any] | None) -> SqlSession | None:
    """The request's SQL session, or None (anonymous: no transaction, no settings)."""
    if not context:
        return None
    session = context.get(SESSION_KEY)
    return session if isinstance(session, SqlSession) else None


@contextlib.asynccontextmanager
async def transaction(conn: Any, session: SqlSession | None,
                      read_only: bool = False) -> AsyncIterator[Any]:
    """A transaction on ``conn`` carrying ``session``'s settings; commits unless it raises.

    Without a session it is asyncpg's ordinary transaction.
    """
    if session is None:
        async with conn.transaction(readonly=read_only):
            yield conn
        return
    await session.begin(conn, read_only)
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(Exception):  # a lost connection: the pool discards it
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")  # after a failed statement this rolls back (no error)


@contextlib.asynccontextmanager
async def acquire(pool: Any, session: SqlSession | None) -> AsyncIterator[Any]:
    """A pooled connection; with a session, inside a transaction that carries it."""
    async with pool.acquire() as conn:
        if session is None:
            yield conn
        else:
            async with transaction(conn, session):
                yield conn


async def recover(conn: Any, session: SqlSession) -> None:
    """After a failed statement: a fresh transaction with the same settings.

    A failed statement aborts the transaction; the request's next root field must
    still run (as it would anonymously, each statement being its own transaction).
    """
    await conn.execute("ROLLBACK")
    await session.begin(conn)
