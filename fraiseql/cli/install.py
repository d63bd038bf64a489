"""``fraiseql install``: create or update the framework's ``fraiseql`` schema (idempotent)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``install`` subcommand."""
    parser = subparsers.add_parser(
        "install", help="install the framework SQL into the database",
        description="Create or update the fraiseql schema (safe to run again).")
    parser.add_argument("--database-url", help="default: FRAISEQL_DATABASE_URL, else "
                        "DATABASE_URL, else the dev database of this folder")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Install or upgrade the framework SQL and say what was applied."""
    from fraiseql.cli.common import connect, database_url, mask_url
    from fraiseql.cli.common import run as run_async
    from fraiseql.ops.migrations import framework_version, install_framework
    url = database_url(args.database_url)

    async def install() -> list[str]:
        conn = await connect(url)
        try:
            return await install_framework(conn)
        finally:
            await conn.close()

    applied: list[str] = run_async(install())
    version = framework_version()
    if applied:
        print(f"installed the framework SQL version {version} ({', '.join(applied)}) "
              f"in {mask_url(url)}")
    else:
        print(f"the framework SQL is up to date (version {version}) in {mask_url(url)}")
    return 0
