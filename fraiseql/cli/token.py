"""``fraiseql token``: a dev token for ``fraiseql dev`` (HS256, issuer ``fraiseql-dev``).

    curl -H "Authorization: Bearer $(fraiseql token --sub alice --role editor)" ...

Signed with ``FRAISEQL_DEV_AUTH_SECRET``, else the project's ``.fraiseql/dev-auth-secret``
(created here or by ``fraiseql dev``). Apps running with ``FRAISEQL_ENV=production``
never accept these tokens.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def duration(text: str) -> int:
    """argparse type: seconds from ``30m``, ``1h``, ``7d``."""
    from fraiseql.auth.dev import parse_duration
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: Any) -> None:
    """Add the ``token`` subcommand."""
    parser = subparsers.add_parser(
        "token", help="print a dev token that `fraiseql dev` accepts",
        description="Print an HS256 JWT signed with the project's dev secret "
                    "(FRAISEQL_DEV_AUTH_SECRET or .fraiseql/dev-auth-secret).")
    parser.add_argument("--sub", required=True, help="the subject (user id)")
    parser.add_argument("--role", action="append", default=[], help="a role (repeatable)")
    parser.add_argument("--scope", action="append", default=[], help="a scope (repeatable)")
    parser.add_argument("--tenant", help="the tenant id")
    parser.add_argument("--expires-in", type=duration, default=3600, metavar="DURATION",
                        help="lifetime such as 30m, 1h, 7d (default: 1h)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the token on stdout (nothing else, so that $(...) captures it)."""
    import os

    from fraiseql.auth.dev import dev_secret, make_dev_token
    from fraiseql.cli.common import CliError
    if os.environ.get("FRAISEQL_ENV") == "production":
        raise CliError("dev tokens are for development: FRAISEQL_ENV=production never "
                       "accepts them")
    if not args.sub:
        raise CliError("--sub must not be empty")
    secret = dev_secret(Path.cwd())
    assert secret is not None
    print(make_dev_token(secret, args.sub, roles=args.role, scopes=args.scope,
                         tenant_id=args.tenant, expires_in=args.expires_in))
    return 0
