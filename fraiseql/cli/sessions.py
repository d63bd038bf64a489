"""``fraiseql sessions list|revoke``: the native login sessions of a database."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fraiseql.cli.common import DATABASE_URL_HELP, action_parsers


def register(subparsers: Any) -> None:
    """Add the ``sessions`` subcommand and its ``list`` and ``revoke`` actions."""
    parser = subparsers.add_parser(
        "sessions", help="list or revoke native login sessions",
        description="List or revoke the native login sessions (fraiseql.sessions).")
    actions = action_parsers(
        parser, "fraiseql sessions list --subject S, or fraiseql sessions revoke ID")
    show = actions.add_parser("list", help="list the sessions of a subject",
                              description="List the sessions of a subject, newest first.")
    show.add_argument("--subject", required=True, help="whose sessions")
    show.add_argument("--all", action="store_true",
                      help="include revoked and expired sessions")
    show.add_argument("--database-url", help=DATABASE_URL_HELP)
    show.set_defaults(handler=run_list)
    revoke = actions.add_parser(
        "revoke", help="revoke a session by its id",
        description="Revoke a session: its refresh token stops working, and its access "
                    "tokens are refused from the next request on.")
    revoke.add_argument("id", help="the session id (as sessions list shows)")
    revoke.add_argument("--database-url", help=DATABASE_URL_HELP)
    revoke.set_defaults(handler=run_revoke)



def run_list(args: argparse.Namespace) -> int:
    sessions = _with_store(args, lambda store: store.list(args.subject,
                                                          include_inactive=args.all))
    for s in sessions:
        state = ("revoked " + (s.revoked_reason or "") if s.revoked_at else
                 "active" if s.active else "expired")
        sys.stdout.write(f"{s.id}\t{s.subject}\t{','.join(sorted(s.roles)) or '-'}\t"
                         f"{s.tenant_id or '-'}\tcreated {s.created_at.isoformat('T', 'seconds')}"
                         f"\tlast used {s.last_used_at.isoformat('T', 'seconds')}\t"
                         f"{state.strip()}\n")
    print(f"{len(sessions)} session(s)", file=sys.stderr)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from fraiseql.cli.common import CliError
    if not _with_store(args, lambda store: store.revoke(args.id, reason="revoked by CLI")):
        raise CliError(f"no active session with id {args.id!r} (unknown or already revoked)")
    print(f"revoked session {args.id}")
    return 0


def _with_store(args: argparse.Namespace, work: Any) -> Any:
    """Run ``await work(store)`` with a SessionStore on one connection."""
    from fraiseql.auth.sessions import SessionStore
    from fraiseql.cli.apikey import connect_auth
    from fraiseql.cli.common import database_url
    from fraiseql.cli.common import run as run_async
    url = database_url(args.database_url)

    async def go() -> Any:
        conn = await connect_auth(url, "fraiseql.sessions")
        try:
            return await work(SessionStore(_OneConnection(conn)))
        finally:
            await conn.close()

    return run_async(go())


class _OneConnection:
    """A stand-in for a pool that hands out one connection (the CLI needs no more)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def acquire(self) -> Any:
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def hold() -> Any:
            yield self.conn
        return hold()
