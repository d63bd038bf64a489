"""One GraphQL request, from text to response bytes.

    checked document (cached) -> operation -> coerced variables -> plan (cached)
    -> bind parameters -> one statement per root field on one connection
    -> the database's JSON spliced into {"data": ...}
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    Undefined,
    execute,
    type_from_ast,
    value_from_ast,
)

from fraiseql.authz.checkpoint import Refusal, allowed, refusals
from fraiseql.authz.visibility import suggestions_for, visible_schema
from fraiseql.compiler.binding import coerce_variables
from fraiseql.compiler.cache import PlanCache, variables_shape
from fraiseql.compiler.context import SourceInfo
from fraiseql.compiler.operation import compile_operation
from fraiseql.compiler.plan import Plan, RootPlan
from fraiseql.compiler.sql import SENTINEL_BYTES
from fraiseql.config import Settings
from fraiseql.errors import ErrorCode, RequestError
from fraiseql.execution import db_errors
from fraiseql.execution.field_errors import repair
from fraiseql.execution.session import SqlSession, acquire, recover, session_of
from fraiseql.execution.streaming import stream_if_large
from fraiseql.schema.model import Schema
from fraiseql.validation.documents import DocumentCache

logger = logging.getLogger("fraiseql")


@dataclass
class Outcome:
    """The result of one request: body bytes and whether it was a request error."""

    body: bytes
    request_error: bool = False  # parse/validation/variables: no execution happened
    operation: str = "query"
    stream: Any = None  # an async iterator of body chunks instead of ``body``


@dataclass
class _Errors:
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, message: str, code: ErrorCode | str, path: list[Any] | None = None,
            locations: list[dict[str, int]] | None = None,
            extensions: dict[str, Any] | None = None) -> None:
        entry: dict[str, Any] = {"message": message}
        if locations:
            entry["locations"] = locations
        if path is not None:
            entry["path"] = path
        entry["extensions"] = {**(extensions or {}), "code": str(getattr(code, "value", code))}
        self.items.append(entry)


def _locations(error: GraphQLError) -> list[dict[str, int]] | None:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or []] or None


def request_error_body(errors: list[GraphQLError] | tuple[GraphQLError, ...],
                       code: ErrorCode) -> bytes:
    """A body for errors raised before execution."""
    collected = _Errors()
    for error in errors:
        collected.add(error.message, code, locations=_locations(error))
    return orjson.dumps({"errors": collected.items})


class Prepared:
    """A checked document's chosen operation, with its variables' types and defaults."""

    __slots__ = ("document", "operation", "types", "definitions")

    def __init__(self, document: Any, operation: OperationDefinitionNode, schema: Any) -> None:
        self.document, self.operation = document, operation
        self.types = {d.variable.name.value: type_from_ast(schema, d.type)
                      for d in operation.variable_definitions}
        self.definitions = [
            (name, gql_type, Undefined if d.default_value is None
             else value_from_ast(d.default_value, gql_type))  # type: ignore[arg-type]
            for d, (name, gql_type) in zip(operation.variable_definitions, self.types.items(),
                                           strict=True)]


class Engine:
    """Executes GraphQL requests against a pool, with document and plan caches."""

    def __init__(self, schema: Schema, settings: Settings) -> None:
        self.schema, self.settings = schema, settings
        self.documents = DocumentCache(schema.graphql, settings)
        self.plans = PlanCache(settings.plan_cache_size)
        self.sources: dict[str, SourceInfo] | None = None
        self.pool: Any = None
        self._operations: dict[tuple[str, str | None], Prepared] = {}
        from fraiseql.execution.result_cache import create_result_cache
        self.result_cache = create_result_cache(schema, settings)  # None: nothing opts in
        self.audit: Any = None  # fraiseql.authz.audit.AuditTrail when audit is on

    async def load_sources(self, conn: Any) -> None:
        """Learn the views' columns (once; plans compiled before this are dropped)."""
        from fraiseql.execution.sources import load_sources
        names = sorted({root.sql_source for root in self.schema.queries.values()
                        if root.sql_source}
                       | {obj.sql_source for obj in self.schema.objects.values()
                          if obj.sql_source}
                       | {fact.definition.sql_source for fact in self.schema.facts.values()})
        from fraiseql.execution.extensions import check_extensions
        await check_extensions(conn, self.schema)
        sources = await load_sources(conn, names)
        from fraiseql.authz.tenancy import missing_tenant_columns
        problems = missing_tenant_columns(self.schema, sources)
        if problems:
            from fraiseql.errors import DatabaseSetupError
            raise DatabaseSetupError("; ".join(problems))
        self.sources = sources
        self.plans.clear()

    # --- request phases ---------------------------------------------------------------

    def prepare(self, query: str, operation_name: str | None) -> Prepared | Outcome:
        """The document, chosen operation and its variables, or a request-error outcome."""
        cached = self._operations.get((query, operation_name))
        if cached is not None:
            return cached
        checked = self.documents.get(query)
        if checked.document is None:
            assert checked.code is not None
            return Outcome(request_error_body(checked.errors, checked.code), True)
        operations = [d for d in checked.document.definitions
                      if isinstance(d, OperationDefinitionNode)]
        chosen = _choose_operation(operations, operation_name)
        if isinstance(chosen, str):
            return Outcome(request_error_body([GraphQLError(chosen)],
                                              ErrorCode.GRAPHQL_VALIDATION_FAILED), True)
        prepared = Prepared(checked.document, chosen, self.schema.graphql)
        if len(self._operations) < self.settings.plan_cache_size:
            self._operations[(query, operation_name)] = prepared
        return prepared

    async def run(self, query: str, variables: dict[str, Any] | None,
                  operation_name: str | None, context: dict[str, Any] | None = None) -> Outcome:
        """Execute one request and return its response body."""
        prepared = self.prepare(query, operation_name)
        if isinstance(prepared, Outcome):
            if prepared.request_error:  # no suggestion names what the caller may not see
                return Outcome(suggestions_for(self.schema, self.settings.introspection,
                                               context, prepared.body), True)
            return prepared
        raw_variables = variables or {}
        errors = _Errors()
        try:
            coerced = coerce_variables(prepared.definitions, raw_variables)
        except RequestError as exc:
            errors.add(exc.message, exc.code)
            return Outcome(orjson.dumps({"errors": errors.items}), True)
        try:
            plan, site_values = self._plan(query, operation_name, prepared, raw_variables,
                                           coerced)
        except RequestError as exc:
            errors.add(exc.message, exc.code, exc.path)
            return Outcome(orjson.dumps({"data": None, "errors": errors.items}), False,
                           prepared.operation.operation.value)
        if plan.checks or plan.tenant_required or plan.introspection:
            refused = refusals(plan, context, self.settings.introspection)
            if refused:
                return await self._refuse(plan, prepared, refused, context)
        if plan.cache is not None:  # every root opted into the result cache
            assert self.result_cache is not None
            return await self.result_cache.run(self, query, operation_name, plan, site_values,
                                               coerced, raw_variables, context, errors)
        return await self._respond(plan, site_values, coerced, raw_variables, context, errors)

    async def _refuse(self, plan: Plan, prepared: Prepared, refused: list[Refusal],
                      context: dict[str, Any] | None) -> Outcome:
        """The answer to a request the checkpoint refused: errors, no data, no SQL run
        (but the audit record of the denial, in a transaction of its own)."""
        errors = _Errors()
        for message, code, path in refused:
            errors.add(message, code, path)
        if self.audit is not None:
            await self.audit.denied(self.pool, plan, prepared.operation, context, errors.items)
        return Outcome(orjson.dumps({"errors": errors.items, "data": None}), False,
                       plan.operation)

    async def _respond(self, plan: Plan, site_values: list[dict[str, Any]],
                       coerced: dict[str, Any], raw: dict[str, Any],
                       context: dict[str, Any] | None, errors: _Errors) -> Outcome:
        """Execute a planned request: a streamed body, or the envelope of its parts."""
        stream = stream_if_large(self, plan, site_values, errors, context)
        if stream is not None:
            return Outcome(b"", False, plan.operation, stream)
        parts = await self._execute(plan, site_values, coerced, raw, context, errors)
        return Outcome(_envelope(parts, errors.items), False, plan.operation)

    def compile(self, query: str, variables: dict[str, Any] | None = None,
                operation_name: str | None = None) -> Plan:
        """The plan for a request (for `fraiseql explain` and tests); raises on bad input."""
        prepared = self.prepare(query, operation_name)
        if isinstance(prepared, Outcome):
            raise RequestError(orjson.loads(prepared.body)["errors"][0]["message"],
                               ErrorCode.GRAPHQL_VALIDATION_FAILED)
        coerced = coerce_variables(prepared.definitions, variables or {})
        return self._plan(query, operation_name, prepared, variables or {}, coerced)[0]

    def bind(self, plan: Plan, variables: dict[str, Any] | None = None,
             context: dict[str, Any] | None = None) -> list[list[Any]]:
        """Each SQL root's parameter values for these variables (for explain and tests);
        ``context``: the request context values read (``tenant_id``; masks are shown)."""
        coerced = coerce_variables(plan.variables, variables or {})
        values = [site.values(coerced) for site in plan.sites]
        return [_bind(root, values, context) for root in plan.roots
                if root.kind in ("sql", "mutation")]

    def _plan(self, query: str, operation_name: str | None, prepared: Prepared,
              raw: dict[str, Any], coerced: dict[str, Any]) -> tuple[Plan, list[dict[str, Any]]]:
        key = (query, operation_name, variables_shape(raw, prepared.types))
        plan = self.plans.get(key)
        if plan is None:
            plan = compile_operation(self.schema, prepared.document, prepared.operation, coerced,
                                     self.sources or {}, self.settings.max_page_size,
                                     audit=self.audit is not None)
            plan.variables = prepared.definitions
            if self.result_cache is not None:
                plan.cache = self.result_cache.policy(plan)
            self.plans.put(key, plan)
        return plan, [site.values(coerced) for site in plan.sites]

    async def _execute(self, plan: Plan, site_values: list[dict[str, Any]],
                       coerced: dict[str, Any], raw: dict[str, Any],
                       context: dict[str, Any] | None, errors: _Errors) -> list[tuple[bytes, bytes]]:
        if plan.operation == "mutation":
            from fraiseql.execution.mutations import run_mutations
            return await run_mutations(self, plan, site_values, raw, context, errors)
        parts: list[tuple[bytes, bytes]] = []
        sql_roots = [r for r in plan.roots if r.kind == "sql"]
        results: dict[str, bytes | None] = {}
        if sql_roots:
            results = await self._run_sql(sql_roots, site_values, errors, context)
        python_values: dict[str, Any] = {}
        if plan.graphql_document is not None:
            python_values = await self._run_graphql(plan, raw, context, errors)
        if plan.introspection_document is not None:  # what this caller may see
            python_values.update(await self._run_graphql(
                plan, raw, context, errors, plan.introspection_document,
                visible_schema(self.schema, context)))
        for root in plan.roots:
            if root.kind == "typename":
                parts.append((root.key_json, root.value))
            elif root.kind == "sql":
                value = results.get(root.key)
                if value is None and not root.nullable:
                    return []  # a non-null root failed: data is null (errors say why)
                parts.append((root.key_json, value if value is not None else b"null"))
            else:
                value = python_values.get(root.key)
                if value in (None, b"null") and not root.nullable:
                    return []
                parts.append((root.key_json, value if value is not None else b"null"))
        return parts

    async def _run_sql(self, roots: list[RootPlan], site_values: list[dict[str, Any]],
                       errors: _Errors, context: dict[str, Any] | None = None
                       ) -> dict[str, bytes | None]:
        results: dict[str, bytes | None] = {}
        session = session_of(context)
        try:
            bound = [(root, _bind(root, site_values, context)) for root in roots]
        except RequestError as exc:
            errors.add(exc.message, exc.code, exc.path)
            return {root.key: None for root in roots}
        # Reads are retried once on a lost connection: after a database restart the
        # pool still holds dead connections, and the retry gets a fresh one.
        for attempt in (1, 2):
            try:
                # Anonymous: a bare connection, one statement per root (the hot path).
                connection = self.pool.acquire() if session is None else acquire(self.pool,
                                                                                 session)
                async with connection as conn:
                    for root, args in bound:
                        if root.key not in results:
                            results[root.key] = await self._run_root(conn, root, args, errors,
                                                                     session)
                return results
            except Exception as exc:  # noqa: BLE001 - translated or masked right here
                if attempt == 1 and _connection_lost(exc):
                    continue
                self._database_failure(exc, [r for r in roots if r.key not in results], errors)
                break
        for root in roots:
            results.setdefault(root.key, None)
        return results

    async def _run_root(self, conn: Any, root: RootPlan, args: list[Any],
                        errors: _Errors, session: SqlSession | None = None) -> bytes | None:
        try:
            rows = await conn.fetch(root.sql, *args)
        except Exception as exc:
            translated = db_errors.translate(exc)
            if translated is None or translated.code == ErrorCode.SERVICE_UNAVAILABLE:
                raise
            errors.add(translated.message, translated.code, [root.key])
            if session is not None:  # the next root needs a transaction that is not aborted
                await recover(conn, session)
            return None
        if root.single and len(rows) > 1:
            errors.add(f"{root.path_name} matched more than one row", ErrorCode.CONFLICT,
                       [root.key])
            return None
        value: bytes | None = rows[0][0] if rows else None
        if value is not None and SENTINEL_BYTES in value:
            value = repair(value, root.shape, root.nullable, [root.key], errors.items)
        return value

    def _database_failure(self, exc: BaseException, roots: list[RootPlan],
                          errors: _Errors) -> None:
        translated = db_errors.translate(exc)
        for root in roots:
            if translated is not None:
                errors.add(translated.message, translated.code, [root.key])
            else:
                self._masked(exc, [root.key], errors)

    def _masked(self, exc: BaseException, path: list[Any] | None, errors: _Errors) -> None:
        error_id = uuid.uuid4().hex
        logger.error("unexpected error %s", error_id, exc_info=exc)
        errors.add("Internal server error", ErrorCode.INTERNAL_SERVER_ERROR, path,
                   extensions={"errorId": error_id})

    async def _run_graphql(self, plan: Plan, raw: dict[str, Any],
                           context: dict[str, Any] | None, errors: _Errors,
                           document: Any = None, schema: Any = None) -> dict[str, bytes]:
        from fraiseql.execution.resolver_context import Database
        ctx = dict(context or {})
        ctx.setdefault("db", Database(self, context))
        result = execute(schema or self.schema.graphql, document or plan.graphql_document,
                         variable_values=raw, context_value=ctx)
        if hasattr(result, "__await__"):
            result = await result
        for error in result.errors or []:
            original = error.original_error
            if isinstance(original, RequestError):
                errors.add(original.message, original.code, list(error.path or []) or None)
            elif original is not None and db_errors.translate(original) is not None:
                translated = db_errors.translate(original)
                assert translated is not None
                errors.add(translated.message, translated.code, list(error.path or []) or None)
            elif original is not None:
                self._masked(original, list(error.path or []) or None, errors)
            else:
                errors.add(error.message, ErrorCode.INTERNAL_SERVER_ERROR,
                           list(error.path or []) or None, _locations(error))
        data = result.data or {}
        return {key: orjson.dumps(value) for key, value in data.items()}


def _bind(root: RootPlan, site_values: list[dict[str, Any]],
          context: dict[str, Any] | None = None) -> list[Any]:
    args: list[Any] = []
    for source in root.params:
        if source.rule is not None:  # a masked field: shown when the caller may read it
            args.append("true" if allowed(source.rule, context) else "false")
            continue
        if source.context_key is not None:
            value: Any = (context or {}).get(source.context_key)
            args.append(None if value is None else source.convert(value))
            continue
        value = site_values[source.node]
        for step in source.path:
            value = value[step]
        args.append(source.convert(value))
    return args


def _connection_lost(exc: BaseException) -> bool:
    import asyncpg
    return isinstance(exc, (asyncpg.exceptions.ConnectionDoesNotExistError,
                            asyncpg.exceptions.ConnectionFailureError,
                            asyncpg.exceptions.AdminShutdownError, ConnectionResetError))


def _choose_operation(operations: list[OperationDefinitionNode],
                      name: str | None) -> OperationDefinitionNode | str:
    if name is None:
        if len(operations) == 1:
            return operations[0]
        return "The document has several operations; operationName must name one."
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    return f"Unknown operation named '{name}'."


def _envelope(parts: list[tuple[bytes, bytes]], errors: list[dict[str, Any]]) -> bytes:
    """``{"data": {...}}`` from (``"key":``, value JSON) pairs, the database's bytes as is."""
    if not parts and errors:
        data = b"null"
    else:
        data = b"{" + b",".join(key + value for key, value in parts) + b"}"
    if errors:
        return b'{"errors":' + orjson.dumps(errors) + b',"data":' + data + b"}"
    return b'{"data":' + data + b"}"
