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
    """Install the framework SQL files and name them."""
    from fraiseql.cli.common import connect, database_url, mask_url
    from fraiseql.cli.common import run as run_async
    from fraiseql.ops.migrations import framework_files, install_framework
    url = database_url(args.database_url)

    async def install() -> None:
        conn = await connect(url)
        try:
            await install_framework(conn)
        finally:
            await conn.close()

    run_async(install())
    files = ", ".join(file.filename for file in framework_files())
    print(f"installed the framework SQL ({files}) in {mask_url(url)}")
    return 0
