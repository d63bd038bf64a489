"""Run a mutation operation: root fields one after another, in document order.

Each SQL mutation is one statement (its own transaction: the function, the
change-log row and the answer commit together); a Python mutation runs inside a
transaction of its own. A failure is answered by the error member when the
mutation declares one, else by a GraphQL error whose code is the error class in
upper case. A non-null root that fails nulls ``data`` and stops the operation,
as the GraphQL spec's serial execution does.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson

from fraiseql.compiler.plan import Plan, RootPlan
from fraiseql.compiler.sql import SENTINEL_BYTES
from fraiseql.errors import ErrorCode, RequestError
from fraiseql.execution import db_errors
from fraiseql.execution.field_errors import repair
from fraiseql.execution.session import acquire, session_of

logger = logging.getLogger("fraiseql")
INVALID_RESULT = "FQ001"  # raised by fraiseql.checked()


async def run_mutations(engine: Any, plan: Plan, site_values: list[dict[str, Any]],
                        raw: dict[str, Any], context: dict[str, Any] | None,
                        errors: Any) -> list[tuple[bytes, bytes]]:
    """Execute every root of a mutation operation serially; the response parts."""
    from fraiseql.execution.engine import _bind
    parts: list[tuple[bytes, bytes]] = []
    for root in plan.roots:
        if root.kind == "typename":
            value: bytes | None = root.value
        elif root.kind == "mutation":
            try:
                args = _bind(root, site_values, context)
            except RequestError as exc:
                errors.add(exc.message, exc.code, [root.key])
                value = None
            else:
                value = await _run_one(engine, root, args, errors, context)
        else:
            failed_before = len(errors.items)
            values = await engine._run_graphql(plan, raw, context, errors, root.document)
            value = values.get(root.key)
            value = None if value == b"null" else value
            if engine.audit is not None:  # a Python mutation: its row after it ran
                failed = len(errors.items) > failed_before
                await engine.audit.write(engine.pool, context, operation=root.path_name,
                                         kind="mutation",
                                         outcome="failure" if failed else "success",
                                         detail={"resolver": True})
        if value is None and not root.nullable:
            return []
        parts.append((root.key_json, value if value is not None else b"null"))
    return parts


async def _run_one(engine: Any, root: RootPlan, args: list[Any], errors: Any,
                   context: dict[str, Any] | None) -> bytes | None:
    try:
        # With a session: BEGIN + its settings, the statement, COMMIT (the function sees them).
        async with acquire(engine.pool, session_of(context)) as conn:
            row = await conn.fetchrow(root.sql, *args)
    except Exception as exc:  # noqa: BLE001 - every database failure is answered here
        if engine.audit is not None:  # the statement (and its audit row) rolled back
            await engine.audit.write(engine.pool, context, operation=root.path_name,
                                     kind="mutation", outcome="error",
                                     detail={"error": type(exc).__name__,
                                             "sqlstate": getattr(exc, "sqlstate", None)})
        return _failure_from_exception(exc, root, errors)
    succeeded, error_class, message, value, changed = row[0], row[1], row[2], row[3], row[4]
    if changed is not None and engine.result_cache is not None:
        engine.result_cache.invalidate(changed)  # committed: no stale answer from here on
    if not succeeded and root.mutation.error_member is None:
        errors.add(message or f"{root.path_name} failed", str(error_class).upper(), [root.key],
                   extensions={"errorClass": error_class})
        return None
    if value is not None and SENTINEL_BYTES in value:
        value = repair(value, root.shape, root.nullable, [root.key], errors.items)
    return value  # type: ignore[no-any-return]


def _failure_from_exception(exc: BaseException, root: RootPlan, errors: Any) -> bytes | None:
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate == INVALID_RESULT:
        error_id = uuid.uuid4().hex
        logger.error("mutation %s returned an invalid result (%s): %s", root.path_name,
                     error_id, exc)
        errors.add(f"{root.path_name}: the mutation function returned an invalid result",
                   ErrorCode.INTERNAL_SERVER_ERROR, [root.key], extensions={"errorId": error_id})
        return None
    error_class = db_errors.mutation_error_class(exc)
    if error_class is None:
        translated = db_errors.translate(exc)
        if translated is not None and translated.code == ErrorCode.SERVICE_UNAVAILABLE:
            errors.add(translated.message, translated.code, [root.key])
            return None
        error_id = uuid.uuid4().hex
        logger.error("mutation %s failed (%s)", root.path_name, error_id, exc_info=exc)
        errors.add("Internal server error", ErrorCode.INTERNAL_SERVER_ERROR, [root.key],
                   extensions={"errorId": error_id})
        return None
    message = _public_message(error_class)
    constraint = getattr(exc, "constraint_name", None)
    extensions = {"constraint": constraint} if constraint else {}
    info = root.mutation
    if info.error_member is None:
        errors.add(message, error_class.upper(), [root.key],
                   extensions={**extensions, "errorClass": error_class})
        return None
    member: dict[str, Any] = {}
    for key, source in info.error_fields:
        member[key] = {"typename": info.error_member, "code": error_class,
                       "message": message}.get(source)
    return orjson.dumps(member)


def _public_message(error_class: str) -> str:
    return {"conflict": "the change conflicts with existing data",
            "validation": "the input was refused by the database",
            "timeout": "the mutation took longer than the configured timeout",
            "forbidden": "the database refused the change to this caller"}[error_class]


__all__ = ["run_mutations", "RequestError"]
