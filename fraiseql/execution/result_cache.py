"""The result cache: whole response bodies of opted-in queries, per process.

A query declared ``@fraiseql.query(cache_ttl=30)`` may be answered from memory
for up to 30 seconds. An operation is looked up only when every root field in
it is such a query (``__typename`` aside); anything else runs as usual, and a
plan without cached roots costs one attribute check (``plan.cache is None``).

**Key.** Everything that decides the bytes: the schema version (a hash of its
SDL), the query text and operation name, the coerced variable values (sorted
JSON), and the principal from the request context (``user_id``, ``tenant_id``,
``roles``; none of them: anonymous) with, for an authenticated request, every SQL
session setting it runs under (scopes, configured claims). So one principal's
answer is never served to another. The value is the final response body; a
response with errors, or a streamed one, is not stored.

**Invalidation.** Each entry remembers the types it read: every object type
reachable from its roots' types (embedded ones included) and their
``sql_source`` names. A row in ``fraiseql.change_log`` whose ``entity_type`` is
one of them drops the entry in every worker: a statement trigger notifies the
channel ``fraiseql_changes`` with the distinct entity types inserted (framework
migration 0005; off until the first cache turns it on, 0007), and each worker listens
on a connection of its own. A
mutation run here also invalidates locally as soon as it returns, without
waiting for the notification; so does a Python mutation's ``record_change``
once its transaction commits. A null entity type (or the payload ``*``)
flushes everything.

**Listener down means no cache.** Notifications sent while the listener's
connection is down are lost, so the cache neither serves nor stores until it
is listening again, and it is flushed both when the connection is lost and
when LISTEN is back. A heartbeat every ``HEARTBEAT_S`` seconds proves the
connection alive. A read that was in flight when an invalidation (or flush)
touching its types arrived is answered but not stored: it may have read the
state from before that change.

**Bounds.** ``result_cache_max_entries`` entries and ``result_cache_max_bytes``
bytes (bodies, keys and a fixed overhead per entry), least recently used
evicted first; an expired entry is dropped when next looked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from time import monotonic
from typing import Any

import orjson

from fraiseql.compiler.plan import Plan
from fraiseql.config import Settings
from fraiseql.errors import ConfigurationError
from fraiseql.execution.engine import Outcome
from fraiseql.execution.listener import cancel, keep_listening
from fraiseql.execution.session import session_of
from fraiseql.schema.model import ObjectInfo, Schema

logger = logging.getLogger("fraiseql")

CHANNEL = "fraiseql_changes"
EVERYTHING = "*"  # a payload (or entity type) that flushes the whole cache
HEARTBEAT_S = 5.0
ENTRY_OVERHEAD = 300  # bytes counted per entry beyond its body and key texts
CHECK_SQL = ("SELECT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'change_log_notify'"
             " AND tgrelid = to_regclass('fraiseql.change_log'))"
             " AND to_regproc('fraiseql.enable_change_notifications') IS NOT NULL")
# Notifications start off (framework migration 0007); a cache turns them on before it
# listens, and this returns once no change can be committed without notifying.
ENABLE_SQL = "SELECT fraiseql.enable_change_notifications()"


@dataclass(frozen=True)
class CachePolicy:
    """What a cacheable plan needs: how long an answer lives, the types it reads."""

    ttl: float
    tags: tuple[str, ...]


class _Entry:
    __slots__ = ("body", "expires", "size", "tags")

    def __init__(self, body: bytes, expires: float, tags: tuple[str, ...], size: int) -> None:
        self.body, self.expires, self.tags, self.size = body, expires, tags, size


def create_result_cache(schema: Schema, settings: Settings) -> ResultCache | None:
    """The cache, or None when it is turned off or no query declares ``cache_ttl``."""
    if not settings.result_cache:
        return None
    if not any(root.definition.cache_ttl and root.sql_source for root in schema.queries.values()):
        return None
    return ResultCache(schema, settings)


class ResultCache:
    """Response bodies by request, LRU-bounded, dropped by type when data changes."""

    def __init__(self, schema: Schema, settings: Settings) -> None:
        self.schema = schema
        self.max_bytes = settings.result_cache_max_bytes
        self.max_entries = settings.result_cache_max_entries
        self.database_url, self.connect_timeout_s = (settings.database_url,
                                                     settings.connect_timeout_s)
        self.version = hashlib.sha256(schema.sdl().encode()).hexdigest()[:16]
        self._entries: OrderedDict[Any, _Entry] = OrderedDict()
        self._by_tag: dict[str, set[Any]] = {}
        self._root_tags = {name: _reads(schema, root.object)
                           for name, root in schema.queries.items()
                           if root.definition.cache_ttl and root.sql_source and root.object}
        # Invalidations per type (only the types some cached query reads), and of
        # everything: a read stores its answer only if neither moved meanwhile.
        self._versions = {tag: 0 for tags in self._root_tags.values() for tag in tags}
        self._epoch = 0
        self.bytes = 0
        self.listening = False
        self.hits = self.misses = self.bypassed = self.invalidations = 0
        self._task: asyncio.Task[None] | None = None
        self._listened = False

    # --- planning ---------------------------------------------------------------------

    def policy(self, plan: Plan) -> CachePolicy | None:
        """The policy of a plan whose every root is a cached SQL query, else None."""
        if plan.operation != "query":
            return None
        ttls: list[float] = []
        tags: set[str] = set()
        for root in plan.roots:
            if root.kind == "typename":
                continue
            field = self.schema.queries.get(root.path_name) if root.kind == "sql" else None
            if field is None or root.path_name not in self._root_tags:
                return None
            assert field.definition.cache_ttl is not None
            ttls.append(float(field.definition.cache_ttl))
            tags.update(self._root_tags[root.path_name])
        if not ttls:
            return None
        return CachePolicy(min(ttls), tuple(sorted(tags)))

    # --- serving ----------------------------------------------------------------------

    async def run(self, engine: Any, query: str, operation_name: str | None, plan: Plan,
                  site_values: list[dict[str, Any]], coerced: dict[str, Any],
                  raw: dict[str, Any], context: dict[str, Any] | None, errors: Any) -> Outcome:
        """Answer from the cache, or execute and keep the answer."""
        if not self.listening:  # changes could go unheard: neither serve nor store
            self.bypassed += 1
            answer: Outcome = await engine._respond(plan, site_values, coerced, raw, context,
                                                    errors)
            return answer
        key = (self.version, query, operation_name, variables_key(coerced), principal(context),
               session_key(context), access_key(context))
        entry = self._entries.get(key)
        now = monotonic()
        if entry is not None:
            if entry.expires > now:
                self._entries.move_to_end(key)
                self.hits += 1
                return Outcome(entry.body, False, "query")
            self._drop(key)
        self.misses += 1
        policy: CachePolicy = plan.cache
        epoch, versions = self._epoch, self._snapshot(policy.tags)
        outcome: Outcome = await engine._respond(plan, site_values, coerced, raw, context,
                                                 errors)
        if outcome.stream is None and not errors.items and self.listening \
                and epoch == self._epoch and versions == self._snapshot(policy.tags):
            self._store(key, outcome.body, now + policy.ttl, policy.tags)
        return outcome

    def _snapshot(self, tags: tuple[str, ...]) -> tuple[int, ...]:
        versions = self._versions
        return tuple([versions[tag] for tag in tags])

    def _store(self, key: Any, body: bytes, expires: float, tags: tuple[str, ...]) -> None:
        size = len(body) + len(key[1]) + len(key[3]) + ENTRY_OVERHEAD \
            + sum(len(name) + len(value) for name, value in key[5])
        if size > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = _Entry(body, expires, tags, size)
        self.bytes += size
        for tag in tags:
            self._by_tag.setdefault(tag, set()).add(key)
        while self.bytes > self.max_bytes or len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))  # the least recently used

    def _drop(self, key: Any) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self.bytes -= entry.size
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    def __len__(self) -> int:
        return len(self._entries)

    # --- invalidation -----------------------------------------------------------------

    def invalidate(self, entity_types: Iterable[str | None]) -> None:
        """Drop every entry that read one of these types (None or ``*``: everything)."""
        for entity_type in entity_types:
            if entity_type is None or entity_type == EVERYTHING:
                self.flush()
                return
            if entity_type not in self._versions:
                continue  # no cached query reads it
            self._versions[entity_type] += 1
            self.invalidations += 1
            for key in list(self._by_tag.get(entity_type, ())):
                self._drop(key)

    def flush(self) -> None:
        """Forget everything, including answers still being read."""
        self._epoch += 1
        self.invalidations += 1
        self._entries.clear()
        self._by_tag.clear()
        self.bytes = 0

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        self.invalidate(parse_payload(str(payload)))

    # --- the listener -----------------------------------------------------------------

    async def start(self, pool: Any) -> None:
        """Listen for changes in the background; the cache serves once listening.

        A database without the change notification (framework migrations 0005, 0007) is
        a configuration error (raised); one that is down is retried by the listener.
        """
        try:
            async with pool.acquire() as conn:
                await _check(conn)
        except ConfigurationError:
            raise
        except Exception as exc:  # noqa: BLE001 - database down: the listener retries
            logger.warning("result cache: could not check the database yet: %s", exc)
        if self._task is None:
            self._task = asyncio.create_task(
                keep_listening(self._listen, lambda: self._listened,
                               "result cache listener (not caching meanwhile)"),
                name="fraiseql-result-cache")

    async def stop(self) -> None:
        """Stop listening (closes the listener's connection); the cache stops serving."""
        await cancel(self._task)
        self._task = None
        self._down()

    def _down(self) -> None:
        if self.listening:
            self.listening = False
            self.flush()

    async def _listen(self) -> None:
        """One connection's life: LISTEN, then serve until the connection is lost."""
        import asyncpg
        self._listened = False
        conn = await asyncpg.connect(
            self.database_url, timeout=self.connect_timeout_s,
            server_settings={"application_name": "fraiseql-cache-listener"})
        try:
            lost = asyncio.Event()

            def on_lost(*_: Any) -> None:
                self._down()  # at once: no request may be served from here on
                lost.set()

            conn.add_termination_listener(on_lost)
            await _check(conn)
            await conn.execute(ENABLE_SQL)
            await conn.add_listener(CHANNEL, self._on_notify)
            # LISTEN is active: every later commit is heard. Whatever committed
            # before it was not, so start from nothing.
            self.flush()
            self.listening = self._listened = True
            logger.info("result cache: listening on %s", CHANNEL)
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), HEARTBEAT_S)
                if lost.is_set() or conn.is_closed():
                    raise ConnectionError("the listener's connection was closed")
                await conn.fetchval("SELECT 1", timeout=HEARTBEAT_S)
        finally:
            self._down()
            with contextlib.suppress(Exception):
                await conn.close(timeout=1.0)


async def _check(conn: Any) -> None:
    if not await conn.fetchval(CHECK_SQL):
        raise ConfigurationError(
            "queries declare cache_ttl, and the result cache needs the trigger "
            "fraiseql.change_log -> fraiseql_changes: run `fraiseql install` to upgrade the "
            "framework SQL (or set result_cache=false)")


# --- keys and payloads -------------------------------------------------------------------


def variables_key(coerced: dict[str, Any]) -> bytes:
    """The coerced variable values as canonical JSON (keys sorted at every level)."""
    if not coerced:
        return b""
    return orjson.dumps(coerced, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                        default=_json_default)


def _json_default(value: Any) -> Any:
    # Decimal and anything else orjson has no encoding for: tagged with the type,
    # so 1.0 (float) and Decimal("1.0") stay different keys.
    return f"{type(value).__qualname__}:{value}"


Principal = tuple[str | None, str | None, tuple[str, ...]]


def principal(context: dict[str, Any] | None) -> Principal | None:
    """Who is asking: (user id, tenant id, sorted roles), or None for anonymous."""
    if not context:
        return None
    user, tenant, roles = context.get("user_id"), context.get("tenant_id"), context.get("roles")
    if roles is None:
        role_names: tuple[str, ...] = ()
    elif isinstance(roles, str):
        role_names = (roles,)
    else:
        role_names = tuple(sorted({str(role) for role in roles}))
    if user is None and tenant is None and not role_names:
        return None
    return (None if user is None else str(user), None if tenant is None else str(tenant),
            role_names)


def access_key(context: dict[str, Any] | None) -> str:
    """The caller's resolved access (roles, permissions; fraiseql/authz): masks and
    refusals depend on it, so two callers share an entry only when it is the same."""
    access = (context or {}).get("access")
    return "" if access is None else str(getattr(access, "fingerprint", repr(access)))


def session_key(context: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """The request's SQL session settings (auth/middleware.py): views may read any of them
    (scopes, claims), so two requests share an entry only when all of them are equal."""
    session = session_of(context)
    return () if session is None else tuple(sorted(session.variables.items()))


def parse_payload(payload: str) -> list[str | None]:
    """The entity types of a ``fraiseql_changes`` notification (a JSON array, or ``*``)."""
    try:
        types = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return [None]  # not ours to understand: be safe
    if not isinstance(types, list):
        return [None]
    return [t if isinstance(t, str) else None for t in types]


def _reads(schema: Schema, obj: ObjectInfo) -> tuple[str, ...]:
    """Every type a read of ``obj`` may show: reachable object types and their sources."""
    seen: set[str] = set()
    pending = [obj.name]
    while pending:
        name = pending.pop()
        if name in seen or name not in schema.objects:
            continue
        seen.add(name)
        info = schema.objects[name]
        pending.extend(f.type.named().name for f in info.fields.values()
                       if f.type.named().kind in ("object", "interface"))
        if info.definition.kind == "interface":  # any implementation may be returned
            pending.extend(other.name for other in schema.objects.values()
                           if info.definition.cls in other.definition.implements)
    sources = {schema.objects[name].sql_source for name in seen}
    return tuple(sorted(seen | {source for source in sources if source}))
