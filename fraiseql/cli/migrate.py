"""``fraiseql migrate``: apply the pending ``db/*.sql`` files, each once, in name order.

The framework SQL is installed first (idempotent): it owns the table that
records which files ran.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``migrate`` subcommand."""
    parser = subparsers.add_parser(
        "migrate", help="apply pending db/*.sql migrations",
        description="Apply the *.sql files of the migrations folder that have not run yet, "
                    "each in its own transaction, in name order.")
    parser.add_argument("--database-url", help="default: FRAISEQL_DATABASE_URL, else "
                        "DATABASE_URL, else the dev database of this folder")
    parser.add_argument("--dir", default="db", help="the migrations folder (default: db)")
    parser.add_argument("--dry-run", action="store_true",
                        help="only list the files that would be applied")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Apply (or list) the pending migrations and say which."""
    from fraiseql.cli.common import CliError, database_url
    from fraiseql.cli.common import run as run_async
    directory = Path(args.dir)
    if not directory.is_dir():
        raise CliError(f"no migrations folder {directory.resolve()}; pass --dir")
    url = database_url(args.database_url)
    names = run_async(_migrate(url, directory, args.dry_run))
    if not names:
        print("up to date")
    elif args.dry_run:
        print("\n".join(f"pending {name}" for name in names))
    else:
        print("\n".join(f"applied {name}" for name in names))
    return 0


async def _migrate(url: str, directory: Path, dry_run: bool) -> list[str]:
    from fraiseql.cli.common import connect
    from fraiseql.ops.migrations import apply_migrations, install_framework, pending_migrations
    conn = await connect(url)
    try:
        if dry_run:
            return await pending_migrations(conn, directory)
        await install_framework(conn)
        return await apply_migrations(conn, directory)
    finally:
        await conn.close()
