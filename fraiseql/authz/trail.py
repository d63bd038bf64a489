"""When the audit log is written (fraiseql/authz/audit.py says how).

- An SQL mutation: one row in the same statement as its change (the compiler adds an
  ``INSERT INTO fraiseql.audit_log`` CTE to it), outcome ``success`` or ``failure`` -
  they commit together or not at all.
- A mutation whose function raised: its statement rolled back, so the row
  (outcome ``error``) is written in a transaction of its own.
- A Python mutation: one row after it ran, in a transaction of its own.
- A refused request (FORBIDDEN, TENANT_REQUIRED, a refused X-Tenant-ID): one row,
  kind ``denied``, in a transaction of its own; nothing else is written for it.

A failure to write a denial's row is logged, and the request is still refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger("fraiseql")


def _actor(context: Mapping[str, Any] | None) -> dict[str, Any]:
    context = context or {}
    return {"actor": context.get("user_id"), "actor_type": context.get("actor_type"),
            "tenant_id": _text(context.get("tenant_id")),
            "trace_id": _text(context.get("trace_id"))}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class AuditTrail:
    """Writes the rows the compiler's mutation statements do not write themselves."""

    async def denied(self, pool: Any, plan: Any, operation: Any,
                     context: Mapping[str, Any] | None, errors: list[dict[str, Any]]) -> None:
        """A refused request: which operation, and the refusals (messages and codes)."""
        name = operation.name.value if operation is not None and operation.name else None
        roots = [root.path_name or root.key for root in plan.roots if root.kind != "typename"]
        await self.write(pool, context, operation=",".join(roots) or plan.operation,
                         kind="denied", outcome="denied",
                         detail={"operation_type": plan.operation, "operation_name": name,
                                 "errors": [{"message": e["message"],
                                             "code": e["extensions"]["code"]}
                                            for e in errors]})

    async def write(self, pool: Any, context: Mapping[str, Any] | None, *, operation: str,
                    kind: str, outcome: str, detail: dict[str, Any]) -> None:
        """One row in a transaction of its own (never the request's)."""
        from fraiseql.authz.audit import record
        try:
            async with pool.acquire() as conn:
                await record(conn, operation=operation, kind=kind, outcome=outcome,
                             detail=detail, **_actor(context))
        except Exception as exc:  # noqa: BLE001 - the request's answer does not change
            logger.error("audit: could not record %s %s: %s", kind, operation, exc)
