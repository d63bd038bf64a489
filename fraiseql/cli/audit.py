"""``fraiseql audit``: verify the hash chain of the audit log, list its newest records.

``audit verify`` walks ``fraiseql.audit_log`` in id order (streamed, so any size fits)
and checks every record's hash and its link to the previous one; exit status 1 names
the first broken record. ``audit list`` prints the newest records, one line each.
Both read the log, so the role needs SELECT on fraiseql.audit_log and
fraiseql.audit_log_head (the application role has no such grant: see migration 0009).
"""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from fraiseql.cli.common import DATABASE_URL_HELP, action_parsers

DEFAULT_LIMIT = 20


def register(subparsers: Any) -> None:
    """Add the ``audit`` subcommand and its ``verify`` and ``list`` actions."""
    from fraiseql.authz.audit import KINDS
    parser = subparsers.add_parser(
        "audit", help="verify and list the audit log",
        description="Work with the hash-chained audit log (fraiseql.audit_log).")
    actions = action_parsers(parser, "fraiseql audit verify | fraiseql audit list")
    verify = actions.add_parser(
        "verify", help="check that no audit record was changed, deleted or reordered",
        description="Walk the audit log in id order and check each record's hash and its "
                    "link to the previous record. Exit status 1 names the first broken one.")
    verify.add_argument("--database-url", help=DATABASE_URL_HELP)
    verify.set_defaults(handler=run_verify)
    listing = actions.add_parser(
        "list", help="print the newest audit records",
        description="Print the newest audit records, newest first, one line each.")
    listing.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                         help=f"how many records (default: {DEFAULT_LIMIT})")
    listing.add_argument("--actor", help="only this actor's records")
    listing.add_argument("--tenant", help="only this tenant's records")
    listing.add_argument("--kind", choices=KINDS, help="only records of this kind")
    listing.add_argument("--database-url", help=DATABASE_URL_HELP)
    listing.set_defaults(handler=run_list)


def run_verify(args: argparse.Namespace) -> int:
    """Verify the chain; 0 when intact, 1 at the first broken record."""
    from fraiseql.authz.audit import verify
    from fraiseql.cli.common import database_url
    from fraiseql.cli.common import run as run_async
    result = run_async(_with_connection(database_url(args.database_url), verify))
    if result.broken is None:
        print(f"audit log: {_records(result.records)}, chain intact")
        return 0
    print(f"audit log: chain broken after {_records(result.records, 'intact ')}")
    print(str(result.broken))
    return 1


def run_list(args: argparse.Namespace) -> int:
    """Print the newest records matching the filters."""
    from fraiseql.authz.audit import recent
    from fraiseql.cli.common import UsageError, database_url
    from fraiseql.cli.common import run as run_async
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    url = database_url(args.database_url)
    records = run_async(_with_connection(url, recent, limit=args.limit, actor=args.actor,
                                         tenant_id=args.tenant, kind=args.kind))
    if not records:
        print("no audit records" + (" match" if args.actor or args.tenant or args.kind else ""))
        return 0
    rows = [("ID", "RECORDED (UTC)", "KIND", "OUTCOME", "OPERATION", "ACTOR", "TENANT", "TRACE",
             "DETAIL")]
    for r in records:
        actor = _or_dash(r.actor) + (f" ({r.actor_type})" if r.actor_type else "")
        recorded = r.recorded_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        rows.append((str(r.id), recorded, r.kind, r.outcome, r.operation, actor,
                     _or_dash(r.tenant_id), _or_dash(r.trace_id), _detail(r.detail)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def _records(count: int, adjective: str = "") -> str:
    return f"{count} {adjective}record{'' if count == 1 else 's'}"


def _or_dash(value: str | None) -> str:
    return "-" if value is None else value


def _detail(detail: Any) -> str:
    import orjson
    return orjson.dumps(detail).decode()


async def _with_connection(url: str, work: Any, **kwargs: Any) -> Any:
    import asyncpg

    from fraiseql.cli.common import CliError, connect, mask_url
    conn = await connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('fraiseql.audit_log') IS NOT NULL"):
            raise CliError(f"the database at {mask_url(url)} has no fraiseql.audit_log "
                           "(framework SQL older than version 9, or not installed): run "
                           "`fraiseql install`")
        try:
            return await work(conn, **kwargs)
        except asyncpg.InsufficientPrivilegeError as exc:
            raise CliError(f"{exc}: reading the audit log needs SELECT on fraiseql.audit_log "
                           "and fraiseql.audit_log_head") from None
    finally:
        await conn.close()
