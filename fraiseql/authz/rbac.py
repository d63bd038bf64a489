"""Role-based access control: what a subject may do, read from the framework schema.

The roles, their parents, their allowed and denied permission patterns and the
grants of roles to subjects live in the tables of framework SQL 0008
(fraiseql/sql/migrations/0008_rbac.sql). ``RoleStore.access(subject, tenant_id,
token_roles)`` asks ``fraiseql.effective_access`` once and answers with an
``Access``, whose ``has_permission`` is a few set lookups (no I/O).

Caching: an answer is kept for ``ttl_s`` and never past its ``valid_until`` (the
first expiry of a grant it used). Every change to the four tables notifies the
channel ``fraiseql_rbac``; each store listens on a connection of its own and clears
its whole cache on a notification. While that listener is not connected (before
``start`` finished, after the connection was lost, until it reconnects) nothing is
cached and every call reads the database, so no change is ever missed.

A permission is ``resource:action`` (``post:publish``); a role's pattern may use
``*`` for the whole resource or the whole action (``post:*``, ``*:read``, ``*:*``).
A deny among the subject's roles (inherited or not) beats every allow.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fraiseql.errors import ErrorCode
from fraiseql.execution.db_errors import translate
from fraiseql.execution.listener import cancel, start_listening

logger = logging.getLogger("fraiseql")

CHANNEL = "fraiseql_rbac"
CONNECT_TIMEOUT_S = 5.0
PING_INTERVAL_S = 30.0
ACCESS_SQL = ("SELECT roles, allowed, denied, tenants, valid_until"
              " FROM fraiseql.effective_access($1, $2, $3)")

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
# The same rules as fraiseql.is_permission_pattern in SQL.
PATTERN_RE = re.compile(rf"(?:{_NAME}|\*):(?:{_NAME}|\*)")
PERMISSION_RE = re.compile(rf"{_NAME}:{_NAME}")
ROLE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,99}")
_MEMO_LIMIT = 1024  # answers remembered per Access (permissions are few: the app's rules)


def check_permission_pattern(pattern: str) -> str:
    """``pattern`` if it is resource:action with ``*`` allowed for either; else ValueError."""
    if not PATTERN_RE.fullmatch(pattern):
        raise ValueError(f"bad permission {pattern!r}: expected resource:action, e.g. "
                         "post:publish, post:* or *:read")
    return pattern


def check_permission(permission: str) -> str:
    """``permission`` if it is a concrete resource:action (no ``*``); else ValueError."""
    if not PERMISSION_RE.fullmatch(permission):
        raise ValueError(f"bad permission {permission!r}: expected resource:action without *, "
                         "e.g. post:publish")
    return permission


def check_role_name(name: str) -> str:
    """``name`` if it is a valid role name (as fraiseql.roles accepts); else ValueError."""
    if not ROLE_RE.fullmatch(name):
        raise ValueError(f"bad role name {name!r}: 1 to 100 letters, digits, _ . : @ - "
                         "(not starting with . : @ -)")
    return name


def pattern_matches(pattern: str, permission: str) -> bool:
    """Whether the pattern (``post:*``, ``*:read``, ``*:*``, ``post:read``) covers permission."""
    p_resource, _, p_action = pattern.partition(":")
    resource, _, action = permission.partition(":")
    return p_resource in ("*", resource) and p_action in ("*", action)


class _Patterns:
    """A set of permission patterns, split by shape so that a match is set lookups."""

    __slots__ = ("actions", "everything", "exact", "resources")

    def __init__(self, patterns: Iterable[str]) -> None:
        exact, resources, actions = set(), set(), set()
        self.everything = False
        for pattern in patterns:
            resource, _, action = pattern.partition(":")
            if resource == "*" and action == "*":
                self.everything = True
            elif action == "*":
                resources.add(resource)
            elif resource == "*":
                actions.add(action)
            else:
                exact.add(pattern)
        self.exact, self.resources, self.actions = \
            frozenset(exact), frozenset(resources), frozenset(actions)

    def cover(self, permission: str, resource: str, action: str) -> bool:
        return (self.everything or permission in self.exact or resource in self.resources
                or action in self.actions)


@dataclass(frozen=True)
class Access:
    """What one subject may do in one tenant: its roles and their permission patterns.

    ``tenants`` are the tenants in which the subject holds a grant (which it may act
    for). ``valid_until`` (epoch seconds, None: no grant expires) is when the answer
    stops holding; ``RoleStore`` does not cache it past then.
    """

    roles: frozenset[str]
    allowed: frozenset[str]
    denied: frozenset[str]
    tenants: frozenset[str] = frozenset()
    valid_until: float | None = field(default=None, compare=False)
    _allow: _Patterns = field(init=False, repr=False, compare=False)
    _deny: _Patterns = field(init=False, repr=False, compare=False)
    _memo: dict[str, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen: the precomputed lookups are set once, here.
        object.__setattr__(self, "_allow", _Patterns(self.allowed))
        object.__setattr__(self, "_deny", _Patterns(self.denied))
        object.__setattr__(self, "_memo", {})

    @classmethod
    def from_token(cls, roles: Iterable[str]) -> Access:
        """The token's roles alone, with no permissions (no store to read them from)."""
        return cls(roles=frozenset(roles), allowed=frozenset(), denied=frozenset())

    def has_role(self, role: str) -> bool:
        """Whether the subject holds ``role`` (directly, by grant, or inherited)."""
        return role in self.roles

    def has_permission(self, permission: str) -> bool:
        """Whether some role allows ``permission`` (resource:action) and none denies it.

        ValueError if ``permission`` is not a concrete resource:action (a ``*`` in a
        question is a bug in the rule that asks, not an answer to give).
        """
        answer = self._memo.get(permission)
        if answer is None:
            check_permission(permission)
            resource, _, action = permission.partition(":")
            answer = (not self._deny.cover(permission, resource, action)
                      and self._allow.cover(permission, resource, action))
            if len(self._memo) < _MEMO_LIMIT:
                self._memo[permission] = answer
        return answer

    def explain(self, permission: str) -> tuple[bool, list[str], list[str]]:
        """(allowed?, the denied patterns that match, the allowed patterns that match)."""
        check_permission(permission)
        denying = sorted(p for p in self.denied if pattern_matches(p, permission))
        allowing = sorted(p for p in self.allowed if pattern_matches(p, permission))
        return (not denying and bool(allowing)), denying, allowing

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short text that differs whenever roles, allowed or denied do (a cache key part;
        computed once per Access: every result-cache lookup of the request reads it)."""
        text = "\n".join(",".join(sorted(part))
                         for part in (self.roles, self.allowed, self.denied))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


CacheKey = tuple[str, str | None, frozenset[str]]


class RoleStore:
    """Effective access per (subject, tenant, token roles), cached and kept current.

    ``start()`` checks the tables exist and starts the listener; ``access()`` answers.
    """

    def __init__(self, database_url: str, *, ttl_s: float = 60.0, max_entries: int = 10_000,
                 pool_size: int = 4, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.database_url = database_url
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self.pool_size, self.connect_timeout_s = pool_size, connect_timeout_s
        self.queries = 0  # effective_access calls made: for tests and metrics
        self._cache: dict[CacheKey, tuple[float, Access]] = {}  # key -> (expires, access)
        # Bumped by every clear: a query that started before a clear must not be cached.
        self._generation = 0
        self._inflight: dict[tuple[CacheKey, int], asyncio.Future[Access]] = {}
        self._listening = False
        self._worked = False  # the last listener connection got as far as LISTEN
        self._pool: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """Whether the listener is connected (only then are answers cached)."""
        return self._listening

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the pool and start listening; returns once listening or after a failed try.

        ConfigurationError if the database is reachable but lacks the RBAC tables. A
        database that is down is not one: the listener retries, and ``access`` raises
        until the database answers.
        """
        import asyncpg
        await self._require_tables()
        self._pool = await asyncpg.create_pool(
            self.database_url, min_size=0, max_size=self.pool_size,
            timeout=self.connect_timeout_s,
            server_settings={"application_name": "fraiseql-rbac"})
        self._task = await start_listening(self._listen, lambda: self._worked, "rbac listener",
                                           "fraiseql-rbac-listener", self.connect_timeout_s + 1)

    async def stop(self) -> None:
        """Stop listening and close the pool."""
        await cancel(self._task)
        self._task = None
        self._set_listening(False)
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _require_tables(self) -> None:
        from fraiseql.ops.migrations import require_installed
        await require_installed(
            self.database_url,
            "SELECT to_regprocedure('fraiseql.effective_access(text, text, text[])') IS NOT NULL",
            "role-based access control", "fraiseql.effective_access",
            "access checks fail until it is", self.connect_timeout_s)

    # --- answers ------------------------------------------------------------------------

    async def access(self, subject: str, tenant_id: str | None,
                     token_roles: frozenset[str]) -> Access:
        """What ``subject`` may do in ``tenant_id`` holding ``token_roles``."""
        key: CacheKey = (subject, tenant_id, token_roles)
        cached = self._cache.get(key)
        if cached is not None:
            if cached[0] > time.time():
                return cached[1]
            del self._cache[key]
        if not self._listening:
            return await self._read(key)  # nothing is cached, nor shared: read it now
        # Callers asking the same thing at the same time share one query (a task of its
        # own, so that a caller cancelled meanwhile does not cancel the others'); the
        # generation keeps a caller that arrives after a change off an older query.
        flight = (key, self._generation)
        task = self._inflight.get(flight)
        if task is None:
            task = asyncio.ensure_future(self._read_and_remember(key, flight[1]))
            self._inflight[flight] = task
            task.add_done_callback(lambda done: self._landed(flight, done))
        return await asyncio.shield(task)

    async def _read_and_remember(self, key: CacheKey, generation: int) -> Access:
        access = await self._read(key)
        self._remember(key, generation, access)
        return access

    def _landed(self, flight: tuple[CacheKey, int], task: asyncio.Future[Access]) -> None:
        self._inflight.pop(flight, None)
        if not task.cancelled():
            task.exception()  # retrieved, even if every caller was cancelled meanwhile

    async def _read(self, key: CacheKey) -> Access:
        if self._pool is None:
            raise RuntimeError("RoleStore.start() has not been called")
        subject, tenant_id, token_roles = key
        self.queries += 1
        try:
            async with self._pool.acquire() as conn:
                row = await conn.fetchrow(ACCESS_SQL, subject, tenant_id, sorted(token_roles))
        except Exception as exc:
            # A database that cannot be reached is a 503 (SERVICE_UNAVAILABLE), not a bug.
            translated = translate(exc)
            if translated is not None and translated.code is ErrorCode.SERVICE_UNAVAILABLE:
                raise translated from exc
            raise
        valid_until = row["valid_until"]
        return Access(roles=frozenset(row["roles"]), allowed=frozenset(row["allowed"]),
                      denied=frozenset(row["denied"]), tenants=frozenset(row["tenants"]),
                      valid_until=valid_until.timestamp() if valid_until else None)

    def _remember(self, key: CacheKey, generation: int, access: Access) -> None:
        # Only while listening, and only if nothing changed since the query began.
        if not self._listening or generation != self._generation \
                or self.ttl_s <= 0 or self.max_entries < 1:
            return
        expires = time.time() + self.ttl_s
        if access.valid_until is not None:
            expires = min(expires, access.valid_until)
        self._cache.pop(key, None)  # re-inserted last: the dict's order is the age order
        while len(self._cache) >= self.max_entries:
            del self._cache[next(iter(self._cache))]
        self._cache[key] = (expires, access)

    def clear(self) -> None:
        """Forget every cached answer (on every change notification)."""
        self._generation += 1
        self._cache.clear()

    def _set_listening(self, listening: bool) -> None:
        self._listening = listening
        self.clear()

    # --- the listener -------------------------------------------------------------------

    async def _listen(self, first: asyncio.Event) -> None:
        """One connection's life: LISTEN, then clear the cache on every notification."""
        import asyncpg
        self._worked = False
        try:
            conn = await asyncpg.connect(
                self.database_url, timeout=self.connect_timeout_s,
                server_settings={"application_name": "fraiseql-listener"})
        except BaseException:
            first.set()  # start() returns; nothing is cached until a retry works
            raise
        try:
            lost = asyncio.Event()

            def on_lost(_conn: Any) -> None:
                self._set_listening(False)  # at once: no answer cached past this point
                lost.set()

            conn.add_termination_listener(on_lost)
            await conn.add_listener(CHANNEL, lambda *_: self.clear())
            # Listening from here on: anything that changes later clears the cache.
            self._set_listening(True)
            self._worked = True
            first.set()
            while not lost.is_set():
                # A connection that died silently (no reset from a lost network) is
                # noticed by a query at least every PING_INTERVAL_S.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), PING_INTERVAL_S)
                if not lost.is_set():
                    await conn.fetchval("SELECT 1", timeout=self.connect_timeout_s)
            raise ConnectionError("the listener's connection was closed")
        finally:
            self._set_listening(False)
            first.set()
            with contextlib.suppress(Exception):
                await conn.close(timeout=1.0)
