"""Large pages go to the client while PostgreSQL still produces them.

A list query whose page cap is raised above ``STREAM_ROWS`` (an export) gets a
second statement, one row per item, at compile time. When a request asks for
more than ``STREAM_ROWS`` rows, the rows are read through a server-side cursor
in chunks and written to the client as they arrive: memory stays bounded by the
chunk size, not by the result. An error part-way closes the JSON properly and
reports it in ``errors``. A null in a non-null position inside an item is a
field error as usual; an item that must itself be null is sent as ``null``
(the spec would null the whole list, which a stream has already sent).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson

from fraiseql.compiler.operation import STREAM_ROWS
from fraiseql.compiler.plan import ListShape, Plan, RootPlan
from fraiseql.compiler.sql import SENTINEL_BYTES
from fraiseql.errors import ErrorCode, RequestError
from fraiseql.execution import db_errors
from fraiseql.execution.field_errors import repair
from fraiseql.execution.session import SqlSession, session_of, transaction

logger = logging.getLogger("fraiseql")
CHUNK_ROWS = 500


def stream_if_large(engine: Any, plan: Plan, site_values: list[dict[str, Any]],
                    errors: Any, context: dict[str, Any] | None = None
                    ) -> AsyncIterator[bytes] | None:
    """A body stream when this request reads a page too large to buffer, else None."""
    if plan.operation != "query" or len(plan.roots) != 1:
        return None
    root = plan.roots[0]
    if root.kind != "sql" or not root.stream_sql:
        return None
    from fraiseql.execution.engine import _bind
    try:
        args = _bind(root, site_values, context)
    except RequestError:
        return None  # the ordinary path reports it
    rows = args[root.stream_limit] if root.stream_limit >= 0 else STREAM_ROWS + 1
    if rows <= STREAM_ROWS:
        return None
    return _stream(engine, root, args, errors, session_of(context))


async def _stream(engine: Any, root: RootPlan, args: list[Any], errors: Any,
                  session: SqlSession | None) -> AsyncIterator[bytes]:
    yield b'{"data":{' + root.key_json + b"["
    shape = root.shape if isinstance(root.shape, ListShape) else ListShape(True, None)
    index, chunk = 0, []
    try:
        async with engine.pool.acquire() as conn, transaction(conn, session, read_only=True):
            async for record in conn.cursor(root.stream_sql, *args, prefetch=CHUNK_ROWS):
                value = record[0]
                if SENTINEL_BYTES in value:
                    value = repair(value, shape.item, True, [root.key, index],
                                   errors.items) or b"null"
                chunk.append(value)
                index += 1
                if len(chunk) >= CHUNK_ROWS:
                    yield (b"," if index > len(chunk) else b"") + b",".join(chunk)
                    chunk = []
    except Exception as exc:  # noqa: BLE001 - reported in the closing errors entry
        _report(exc, root, errors)
    if chunk:
        yield (b"," if index > len(chunk) else b"") + b",".join(chunk)
    tail = b"]}"
    if errors.items:
        tail += b',"errors":' + orjson.dumps(errors.items)
    yield tail + b"}"


def _report(exc: BaseException, root: RootPlan, errors: Any) -> None:
    translated = db_errors.translate(exc)
    if translated is not None:
        errors.add(translated.message, translated.code, [root.key])
        return
    error_id = uuid.uuid4().hex
    logger.error("unexpected error %s while streaming %s", error_id, root.key, exc_info=exc)
    errors.add("Internal server error", ErrorCode.INTERNAL_SERVER_ERROR, [root.key],
               extensions={"errorId": error_id})
