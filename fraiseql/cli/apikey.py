"""``fraiseql apikey create|list|revoke``: the API keys of a database (fraiseql.api_keys).

``create`` prints the key once, on stdout and alone on its line, so that it can be
captured (``KEY=$(fraiseql apikey create ...)``); it cannot be shown again, only
revoked and replaced. ``list`` never prints secrets (they are not stored).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from fraiseql.cli.common import DATABASE_URL_HELP, action_parsers


def register(subparsers: Any) -> None:
    """Add the ``apikey`` subcommand and its ``create``, ``list`` and ``revoke`` actions."""
    parser = subparsers.add_parser(
        "apikey", help="manage API keys (header X-API-Key)",
        description="Manage the API keys services send in the X-API-Key header.")
    actions = action_parsers(parser, "fraiseql apikey create|list|revoke")
    create = actions.add_parser(
        "create", help="create a key and print it (once)",
        description="Create an API key and print it; it is stored only as a hash and "
                    "cannot be shown again.")
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument("--subject", required=True, help="the principal's subject")
    create.add_argument("--role", action="append", default=[], dest="roles",
                        help="a role (repeat for several)")
    create.add_argument("--scope", action="append", default=[], dest="scopes",
                        help="a scope (repeat for several)")
    create.add_argument("--tenant", help="the principal's tenant id")
    create.add_argument("--expires-in", help="e.g. 30d, 12h, 2w (default: never)")
    create.add_argument("--database-url", help=DATABASE_URL_HELP)
    create.set_defaults(handler=run_create)
    show = actions.add_parser("list", help="list the keys (never their secrets)",
                              description="List the API keys, oldest first; secrets are "
                                          "not stored and never printed.")
    show.add_argument("--subject", help="only the keys of this subject")
    show.add_argument("--database-url", help=DATABASE_URL_HELP)
    show.set_defaults(handler=run_list)
    revoke = actions.add_parser("revoke", help="revoke a key by its id",
                                description="Revoke an API key: every server refuses it "
                                            "from its next request on.")
    revoke.add_argument("id", help="the key's id (the part after fq_, as apikey list shows)")
    revoke.add_argument("--database-url", help=DATABASE_URL_HELP)
    revoke.set_defaults(handler=run_revoke)



def run_create(args: argparse.Namespace) -> int:
    from fraiseql.auth.api_keys import create_api_key
    from fraiseql.auth.store import parse_duration
    from fraiseql.cli.common import UsageError
    expires_in = None
    if args.expires_in is not None:
        try:
            expires_in = timedelta(seconds=parse_duration(args.expires_in))
        except ValueError as exc:
            raise UsageError(f"--expires-in: {exc}") from None
    for option, value in (("--name", args.name), ("--subject", args.subject)):
        if not value.strip():
            raise UsageError(f"{option} must not be empty")

    async def create(conn: Any) -> Any:
        return await create_api_key(conn, name=args.name, subject=args.subject,
                                    roles=args.roles, scopes=args.scopes,
                                    tenant_id=args.tenant, expires_in=expires_in)

    key, secret_key = _with_connection(args, create)
    print(secret_key)
    expires = key.expires_at.isoformat(timespec="seconds") if key.expires_at else "never"
    print(f"created API key {key.id} ({key.name}) for {key.subject}, expires {expires}; "
          "store it now: it cannot be shown again", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from fraiseql.auth.api_keys import list_api_keys
    keys = _with_connection(args, lambda conn: list_api_keys(conn, args.subject))
    for key in keys:
        state = ("revoked" if key.revoked_at else
                 f"expires {key.expires_at.isoformat(timespec='seconds')}" if key.expires_at
                 else "active")
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
        sys.stdout.write(f"{key.id}\t{key.name}\t{key.subject}\t{','.join(key.roles) or '-'}\t"
                         f"{','.join(key.scopes) or '-'}\t{key.tenant_id or '-'}\t{state}\t"
                         f"last used {used}\n")
    print(f"{len(keys)} API key(s)", file=sys.stderr)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from fraiseql.auth.api_keys import revoke_api_key
    from fraiseql.cli.common import CliError
    if not _with_connection(args, lambda conn: revoke_api_key(conn, args.id)):
        raise CliError(f"no active API key with id {args.id!r} (unknown or already revoked)")
    print(f"revoked API key {args.id}")
    return 0


def _with_connection(args: argparse.Namespace, work: Any) -> Any:
    """Run ``await work(conn)`` on a connection to a database that has the auth tables."""
    from fraiseql.cli.common import database_url
    from fraiseql.cli.common import run as run_async
    url = database_url(args.database_url)

    async def go() -> Any:
        conn = await connect_auth(url, "fraiseql.api_keys")
        try:
            return await work(conn)
        finally:
            await conn.close()

    return run_async(go())


async def connect_auth(url: str, table: str) -> Any:
    """A connection to a database that has ``table`` (installed by framework SQL 0006)."""
    from fraiseql.cli.common import CliError, connect, mask_url
    conn = await connect(url)
    if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
        await conn.close()
        raise CliError(f"{mask_url(url)} has no {table}: run `fraiseql install` first "
                       "(it installs or upgrades the framework SQL)")
    return conn
