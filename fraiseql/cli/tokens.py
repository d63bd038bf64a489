"""``fraiseql tokens revoke|purge``: revoked token ids (fraiseql.revoked_tokens).

``revoke JTI`` refuses the token with that ``jti`` (a provider's JWT, a dev token, a
session access token) in every server running with revocation on
(``FRAISEQL_AUTH_REVOCATION=true`` or ``Auth(revocations=True)``), from its next
request on. The row is kept until the token would have expired anyway: give
``--expires-at`` (the token's ``exp``) or ``--expires-in``; the default, 30 days,
outlives the tokens of any usual identity provider. ``purge`` deletes the rows of
tokens that have expired (servers also do it every few minutes).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from fraiseql.cli.common import DATABASE_URL_HELP, action_parsers

DEFAULT_EXPIRES_IN = "30d"
TABLE = "fraiseql.revoked_tokens"


def register(subparsers: Any) -> None:
    """Add the ``tokens`` subcommand and its ``revoke`` and ``purge`` actions."""
    parser = subparsers.add_parser(
        "tokens", help="revoke tokens by id (jti)",
        description="Revoke tokens by their id (the jti claim), or purge expired revocations.")
    actions = action_parsers(parser, "fraiseql tokens revoke JTI, or fraiseql tokens purge")
    revoke = actions.add_parser(
        "revoke", help="revoke a token by its jti",
        description="Revoke a token: every server with revocation on refuses it from its "
                    "next request on.")
    revoke.add_argument("jti", help="the token's id (its jti claim)")
    until = revoke.add_mutually_exclusive_group()
    until.add_argument("--expires-at", metavar="ISO",
                       help="when the token expires anyway, e.g. 2030-01-31T12:00:00Z")
    until.add_argument("--expires-in", metavar="DURATION",
                       help=f"e.g. 1h, 7d (default: {DEFAULT_EXPIRES_IN})")
    revoke.add_argument("--reason", help="why (kept with the revocation)")
    revoke.add_argument("--database-url", help=DATABASE_URL_HELP)
    revoke.set_defaults(handler=run_revoke)
    purge = actions.add_parser("purge", help="delete the revocations of expired tokens",
                               description="Delete the revocations of tokens that have "
                                           "expired anyway.")
    purge.add_argument("--database-url", help=DATABASE_URL_HELP)
    purge.set_defaults(handler=run_purge)



def expiry(expires_at: str | None, expires_in: str | None,
           now: datetime | None = None) -> datetime:
    """When the revocation may be forgotten; UsageError for a bad or past value."""
    from fraiseql.auth.store import parse_duration
    from fraiseql.cli.common import UsageError
    now = now or datetime.now(UTC)
    if expires_at is not None:
        try:
            moment = datetime.fromisoformat(expires_at)
        except ValueError:
            raise UsageError(f"--expires-at: {expires_at!r} is not an ISO 8601 date and time "
                             "(e.g. 2030-01-31T12:00:00Z)") from None
        if moment.tzinfo is None:
            raise UsageError(f"--expires-at: {expires_at!r} has no time zone; add Z or +HH:MM")
        if moment <= now:
            raise UsageError(f"--expires-at: {expires_at} is in the past: the token has "
                             "expired, there is nothing to revoke")
        return moment
    try:
        return now + timedelta(seconds=parse_duration(expires_in or DEFAULT_EXPIRES_IN))
    except ValueError as exc:
        raise UsageError(f"--expires-in: {exc}") from None


def run_revoke(args: argparse.Namespace) -> int:
    from fraiseql.auth.revocation import revoke
    from fraiseql.cli.common import UsageError
    if not args.jti.strip():
        raise UsageError("the token id (jti) must not be empty")
    until = expiry(args.expires_at, args.expires_in)
    added = _with_connection(args, lambda conn: revoke(conn, args.jti, until, args.reason))
    when = until.astimezone(UTC).isoformat(timespec="seconds")
    if added:
        print(f"revoked token {args.jti} until {when}")
    else:
        print(f"token {args.jti} was already revoked")
    return 0


def run_purge(args: argparse.Namespace) -> int:
    from fraiseql.auth.revocation import purge_expired
    purged = _with_connection(args, purge_expired)
    print(f"purged {purged} expired revocation(s)")
    return 0


def _with_connection(args: argparse.Namespace, work: Any) -> Any:
    """Run ``await work(conn)`` on a connection to a database with fraiseql.revoked_tokens."""
    from fraiseql.cli.apikey import connect_auth
    from fraiseql.cli.common import database_url
    from fraiseql.cli.common import run as run_async
    url = database_url(args.database_url)

    async def go() -> Any:
        conn = await connect_auth(url, TABLE)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return run_async(go())
