"""``info.context["db"]``: reads for Python resolvers with the same SQL projection.

For an authenticated request every connection it hands out is inside a transaction
carrying the request's SQL session variables (fraiseql/execution/session.py), so
row-level security policies apply to the resolver's statements too.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import get_named_type

from fraiseql.compiler.context import CompileContext
from fraiseql.compiler.operation import compile_root
from fraiseql.compiler.plan import ArgumentSite
from fraiseql.errors import ErrorCode, RequestError
from fraiseql.execution.session import acquire, session_of
from fraiseql.execution.session import transaction as session_transaction
from fraiseql.schema.definitions import QueryDefinition
from fraiseql.schema.model import ArgumentInfo, RootField, TypeRef
from fraiseql.schema.naming import to_camel


class Database:
    """Finds rows of a view, projected to the resolver's own selection set."""

    def __init__(self, engine: Any, context: dict[str, Any] | None = None) -> None:
        self._engine = engine
        self._context = context or {}  # the request's: change-log actor, SQL session
        self._session = session_of(context)
        self._conn: Any = None  # set inside transaction(): every call uses it
        self._changed: list[str] = []  # entity types record_change logged in it

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """One connection and transaction for everything the block does (commit or roll back)."""
        if self._conn is not None:
            yield self._conn
            return
        async with self._engine.pool.acquire() as conn:
            async with session_transaction(conn, self._session):
                self._conn, self._changed = conn, []
                try:
                    yield conn
                finally:
                    self._conn = None
            self._invalidate(self._changed)  # committed: record_change's types changed

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        if self._conn is not None:
            yield self._conn
        elif self._session is not None:  # one call, one transaction with the settings
            async with acquire(self._engine.pool, self._session) as conn:
                yield conn
        else:
            async with self._engine.pool.acquire() as conn:
                yield conn

    async def execute(self, sql: str, *args: Any) -> str:
        """Run a statement with bound parameters (inside the current transaction, if any)."""
        async with self._connection() as conn:
            return await conn.execute(sql, *args)  # type: ignore[no-any-return]

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """Rows of a query with bound parameters."""
        async with self._connection() as conn:
            return await conn.fetch(sql, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        """The first row of a query with bound parameters, or None."""
        async with self._connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def record_change(self, entity_type: str, entity_id: str, operation: str,
                            mutation: str, *, entity_after: Any = None,
                            entity_before: Any = None,
                            updated_fields: list[str] | None = None) -> None:
        """Write the change-log row for a Python mutation (in its transaction)."""
        await self.execute(
            "INSERT INTO fraiseql.change_log (entity_type, entity_id, operation, entity_after, "
            "entity_before, updated_fields, mutation, actor, tenant_id, trace_id) "
            "VALUES ($1, $2, $3, $4::text::jsonb, $5::text::jsonb, $6, $7, $8, $9, $10)",
            entity_type, str(entity_id), operation.upper(),
            None if entity_after is None else orjson.dumps(entity_after).decode(),
            None if entity_before is None else orjson.dumps(entity_before).decode(),
            updated_fields, mutation, *(_text(self._context.get(key))
                                        for key in ("user_id", "tenant_id", "trace_id")))
        if self._conn is None:
            self._invalidate([entity_type])
        else:
            self._changed.append(entity_type)

    def _invalidate(self, entity_types: list[str]) -> None:
        cache = self._engine.result_cache
        if cache is not None and entity_types:
            cache.invalidate(entity_types)

    async def find(self, sql_source: str, info: Any, *, where: dict[str, Any] | None = None,
                   order_by: list[dict[str, Any]] | None = None, limit: int | None = None,
                   offset: int | None = None, **equals: Any) -> list[Any]:
        """Rows of ``sql_source`` matching the filters, shaped like the field's selection."""
        args = {"where": where, "order_by": order_by, "limit": limit, "offset": offset, **equals}
        result = await self._read(sql_source, info, args, equals, many=True)
        return result if isinstance(result, list) else []

    async def find_one(self, sql_source: str, info: Any, **equals: Any) -> Any:
        """The one row of ``sql_source`` whose fields equal ``equals``, or None."""
        return await self._read(sql_source, info, dict(equals), equals, many=False)

    async def _read(self, sql_source: str, info: Any, args: dict[str, Any],
                    equals: dict[str, Any], many: bool) -> Any:
        engine = self._engine
        schema = engine.schema
        gql_type = get_named_type(info.return_type)
        obj = schema.objects.get(gql_type.name)
        if obj is None:
            raise RequestError(f"{gql_type.name} is not a FraiseQL type", ErrorCode.INTERNAL_SERVER_ERROR)
        unknown = [name for name in equals if to_camel(name) not in obj.fields]
        if unknown:
            raise RequestError(f"find on {sql_source}: {', '.join(unknown)} not a field of "
                               f"{obj.name}", ErrorCode.INTERNAL_SERVER_ERROR)
        named = TypeRef("object", False, obj.name, python=obj.definition.cls)
        returns = TypeRef("list", False, of=named) if many else TypeRef("object", True, obj.name)
        root = RootField(info.field_name, QueryDefinition(func=lambda: None, name=info.field_name,
                                                          sql_source=sql_source),
                         returns, obj, {to_camel(k): ArgumentInfo(k, to_camel(k), named)
                                        for k in equals},
                         page_size_cap=engine.settings.max_page_size)
        ctx = CompileContext(schema, info.fragments, info.variable_values,
                             engine.sources or {}, [], [])
        ctx.sites.append(ArgumentSite(lambda _variables: args))
        ctx.site_values.append(args)
        plan = compile_root(ctx, root, info.field_name, list(info.field_nodes),
                            info.parent_type.fields[info.field_name], engine.settings.max_page_size,
                            site=0)
        # The statement this call compiled passes the same checkpoint as a request.
        from fraiseql.authz.checkpoint import refusals
        from fraiseql.compiler.plan import Plan
        refused = refusals(Plan("query", [plan], ctx.sites, checks=tuple(ctx.checks),
                                tenant_required=ctx.tenant_required), self._context)
        if refused:
            if engine.audit is not None:  # a refusal is audited wherever it happens
                await engine.audit.write(
                    engine.pool, self._context, operation=info.field_name, kind="denied",
                    outcome="denied", detail={"resolver": True, "errors": [
                        {"message": message, "code": code.value}
                        for message, code, _path in refused]})
            raise RequestError(refused[0][0], refused[0][1])
        errors: list[dict[str, Any]] = []
        from fraiseql.execution.engine import _bind
        async with self._connection() as conn:
            from fraiseql.execution.engine import _Errors
            collected = _Errors(errors)
            raw = await engine._run_root(conn, plan, _bind(plan, ctx.site_values,
                                                           self._context), collected)
        if errors:
            raise RequestError(errors[0]["message"], errors[0]["extensions"]["code"])
        return None if raw is None else orjson.loads(raw)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
