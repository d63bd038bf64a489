"""The audit log: ``fraiseql.audit_log``, append-only and hash-chained (migration 0009).

``record(conn, ...)`` adds one row and returns its id; the database trigger chains it
(id, recorded_at, prev_hash, hash), so a writer only ever names ``AUDIT_COLUMNS``,
whether in one INSERT here or in a data-modifying CTE the compiler adds to a mutation
statement. ``verify(conn)`` walks the chain in id order, streamed through a cursor, and
returns the first break; ``recent(conn, ...)`` reads the newest rows for
``fraiseql audit list``.

Verification checks, for every row in id order: its hash is ``fraiseql.audit_hash`` of
its content, its prev_hash is the previous row's hash (the genesis hash for the first),
and at the end that the last row is the head the trigger moved
(``fraiseql.audit_log_head``). Ids are not required to be consecutive: the linkage
alone proves that nothing was removed or reordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

# The columns a writer names; the trigger fills id, recorded_at, prev_hash and hash.
AUDIT_COLUMNS = ("actor", "actor_type", "tenant_id", "operation", "kind", "outcome",
                 "detail", "trace_id")
KINDS = ("mutation", "denied")
GENESIS_HASH = bytes(32)
VERIFY_PREFETCH = 1000

_INSERT_SQL = (
    f"INSERT INTO fraiseql.audit_log ({', '.join(AUDIT_COLUMNS)})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8) RETURNING id"
)
# The recomputed hash next to the stored one: the database computes both the same way.
_CHAIN_SQL = """
SELECT a.id, a.prev_hash, a.hash, fraiseql.audit_hash(a) AS computed
FROM fraiseql.audit_log AS a ORDER BY a.id
"""
_HEAD_SQL = "SELECT last_id, last_hash FROM fraiseql.audit_log_head"
_RECENT_SQL = """
SELECT id, recorded_at, actor, actor_type, tenant_id, operation, kind, outcome,
       detail::text AS detail, trace_id
FROM fraiseql.audit_log
WHERE ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR tenant_id = $3)
  AND ($4::text IS NULL OR kind = $4)
ORDER BY id DESC LIMIT $1
"""


async def record(conn: Any, *, actor: str | None, actor_type: str | None,
                 tenant_id: str | None, operation: str, kind: str, outcome: str,
                 detail: dict[str, Any] | None = None, trace_id: str | None = None) -> int:
    """Add one row to the audit log (in ``conn``'s transaction, if any); its id.

    The role needs INSERT on fraiseql.audit_log and SELECT (id) for the returned id.
    """
    if kind not in KINDS:
        raise ValueError(f"audit kind must be one of {', '.join(KINDS)}, got {kind!r}")
    document = orjson.dumps(detail if detail is not None else {}).decode()
    audit_id = await conn.fetchval(_INSERT_SQL, actor, actor_type, tenant_id, operation, kind,
                                   outcome, document, trace_id)
    return int(audit_id)


@dataclass(frozen=True)
class ChainBreak:
    """The first record at which the chain does not hold, and why."""

    record_id: int
    reason: str

    def __str__(self) -> str:
        return f"record {self.record_id}: {self.reason}"


@dataclass(frozen=True)
class VerifyResult:
    """How many records were checked (up to the break), and the first break if any."""

    records: int
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


async def verify(conn: Any) -> VerifyResult:
    """Walk the whole chain in id order (streamed) and return the first break, if any.

    Runs in one read-only REPEATABLE READ transaction, so that the rows and the head
    are read from the same snapshot while writers go on.
    """
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        checked, previous_id, previous_hash = 0, None, GENESIS_HASH
        async for row in conn.cursor(_CHAIN_SQL, prefetch=VERIFY_PREFETCH):
            problem = _row_problem(row, previous_id, previous_hash)
            if problem is not None:
                return VerifyResult(checked, ChainBreak(row["id"], problem))
            checked, previous_id, previous_hash = checked + 1, row["id"], bytes(row["hash"])
        head = await conn.fetchrow(_HEAD_SQL)
    if head is None:
        return VerifyResult(checked, ChainBreak(previous_id or 0,
                                                "fraiseql.audit_log_head has no row"))
    if head["last_id"] != (previous_id or 0) or bytes(head["last_hash"]) != previous_hash:
        if previous_id is None:
            reason = (f"the log is empty but its head is record {head['last_id']} "
                      "(every record was deleted)")
            return VerifyResult(checked, ChainBreak(head["last_id"], reason))
        reason = (f"the last record is not the head of the chain, record {head['last_id']} "
                  "(the newest records were deleted)")
        return VerifyResult(checked, ChainBreak(previous_id, reason))
    return VerifyResult(checked, None)


def _row_problem(row: Any, previous_id: int | None, previous_hash: bytes) -> str | None:
    """Why this row breaks the chain, or None."""
    if row["hash"] is None or bytes(row["hash"]) != bytes(row["computed"]):
        return "hash does not match its content"
    if bytes(row["prev_hash"]) != previous_hash:
        if previous_id is None:
            return "prev_hash is not the genesis hash (records before it were deleted)"
        return (f"prev_hash does not match record {previous_id}'s hash "
                "(a record was deleted or reordered)")
    return None


@dataclass(frozen=True)
class AuditRecord:
    """One row of the audit log, as ``recent`` reads it."""

    id: int
    recorded_at: datetime
    actor: str | None
    actor_type: str | None
    tenant_id: str | None
    operation: str
    kind: str
    outcome: str
    detail: Any
    trace_id: str | None


async def recent(conn: Any, *, limit: int = 20, actor: str | None = None,
                 tenant_id: str | None = None, kind: str | None = None) -> list[AuditRecord]:
    """The newest ``limit`` rows (newest first), optionally of one actor, tenant or kind."""
    rows = await conn.fetch(_RECENT_SQL, limit, actor, tenant_id, kind)
    return [AuditRecord(id=row["id"], recorded_at=row["recorded_at"], actor=row["actor"],
                        actor_type=row["actor_type"], tenant_id=row["tenant_id"],
                        operation=row["operation"], kind=row["kind"], outcome=row["outcome"],
                        detail=orjson.loads(row["detail"]), trace_id=row["trace_id"])
            for row in rows]
