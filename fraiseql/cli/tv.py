"""``fraiseql tv``: list and rebuild projection tables (``tv_*``).

A projection table stores the rows of its source view. A migration creates it
and registers it (``fraiseql.register_projection``); the write functions keep it
in step (``fraiseql.refresh_projection``). ``tv rebuild`` makes tables equal to
their sources again, each in its own transaction, after a change the write
functions did not refresh (a new view definition, a fix by hand, a bulk load).
Readers keep reading a table while it is rebuilt; writes to it wait.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from dataclasses import dataclass
from typing import Any

from fraiseql.cli.common import DATABASE_URL_HELP, action_parsers

# Every registered table, with what it needs to be reported: tv and source are
# shown by name (an OID when the relation was dropped after it was registered).
_REGISTERED_SQL = """
SELECT p.tv::oid AS oid, p.tv::text AS tv, p.source::text AS source,
       p.key_column::text AS key_column, p.rebuilt_at,
       EXISTS (SELECT FROM pg_class c WHERE c.oid = p.tv) AS tv_exists,
       EXISTS (SELECT FROM pg_class c WHERE c.oid = p.source) AS source_exists
FROM fraiseql.projections p
"""


@dataclass(frozen=True)
class Projection:
    """One row of ``fraiseql.projections``."""

    oid: int
    tv: str
    source: str
    key_column: str
    rebuilt_at: Any
    tv_exists: bool
    source_exists: bool

    @property
    def problem(self) -> str | None:
        """Why it cannot be rebuilt, if it cannot."""
        if not self.tv_exists:
            return (f"the table registered with OID {self.oid} was dropped; forget it with "
                    f"DELETE FROM fraiseql.projections WHERE tv = {self.oid}")
        if not self.source_exists:
            return (f"{self.tv}: its source (OID {self.source}) was dropped; register the table "
                    f"again with SELECT fraiseql.register_projection('{self.tv}', '<source>')")
        return None


def register(subparsers: Any) -> None:
    """Add the ``tv`` subcommand and its ``rebuild`` and ``list`` actions."""
    parser = subparsers.add_parser(
        "tv", help="list and rebuild projection tables (tv_*)",
        description="Work with projection tables: tables that store the rows of a view, "
                    "registered with fraiseql.register_projection.")
    actions = action_parsers(parser, "fraiseql tv rebuild [NAME ...] | fraiseql tv list")
    rebuild = actions.add_parser(
        "rebuild", help="make projection tables equal to their views again",
        description="Rebuild each named projection table (default: every registered one) "
                    "from its source, each in one transaction: rows are inserted, updated "
                    "or deleted as needed, readers are never blocked.")
    rebuild.add_argument("names", nargs="*", metavar="NAME",
                         help="a projection table, e.g. tv_post or app.tv_post "
                              "(default: all registered)")
    rebuild.add_argument("--database-url", help=DATABASE_URL_HELP)
    rebuild.set_defaults(handler=run_rebuild)
    listing = actions.add_parser(
        "list", help="list the registered projection tables",
        description="List the registered projection tables with their source, key and "
                    "last rebuild.")
    listing.add_argument("--database-url", help=DATABASE_URL_HELP)
    listing.set_defaults(handler=run_list)



def run_list(args: argparse.Namespace) -> int:
    """Print one line per registered projection table; 1 if any is broken."""
    from fraiseql.cli.common import database_url
    from fraiseql.cli.common import run as run_async
    url = database_url(args.database_url)
    projections = run_async(_with_connection(url, _registered))
    if not projections:
        print("no projection tables registered "
              "(SELECT fraiseql.register_projection('tv_x', 'v_x') registers one)")
        return 0
    rows = [("TABLE", "SOURCE", "KEY", "REBUILT")]
    for p in projections:
        rebuilt = "never" if p.rebuilt_at is None else p.rebuilt_at.astimezone(
            datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        rows.append((p.tv if p.tv_exists else f"(dropped, OID {p.oid})",
                     p.source if p.source_exists else f"(dropped, OID {p.source})",
                     p.key_column, rebuilt))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    problems = [p.problem for p in projections if p.problem]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def run_rebuild(args: argparse.Namespace) -> int:
    """Rebuild the named (or all) projection tables; 1 if any could not be rebuilt."""
    from fraiseql.cli.common import database_url
    from fraiseql.cli.common import run as run_async
    url = database_url(args.database_url)
    return run_async(_with_connection(url, _rebuild, list(args.names)))  # type: ignore[no-any-return]


async def _with_connection(url: str, work: Any, *args: Any) -> Any:
    from fraiseql.cli.common import CliError, connect, mask_url
    conn = await connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('fraiseql.projections') IS NOT NULL"):
            raise CliError(f"the database at {mask_url(url)} has no fraiseql.projections "
                           "(framework SQL older than version 4, or not installed): run "
                           "`fraiseql install`")
        return await work(conn, *args)
    finally:
        await conn.close()


async def _registered(conn: Any) -> list[Projection]:
    rows = await conn.fetch(_REGISTERED_SQL + " ORDER BY p.tv::text")
    return [Projection(**dict(row)) for row in rows]


async def _rebuild(conn: Any, names: list[str]) -> int:
    import asyncpg
    failures = 0
    if names:
        targets = []
        for name in dict.fromkeys(names):
            found, problem = await _resolve(conn, name)
            if problem is not None:
                print(f"error: {problem}", file=sys.stderr)
                failures += 1
            elif found is not None:
                targets.append(found)
    else:
        targets = await _registered(conn)
        if not targets:
            print("no projection tables registered: nothing to rebuild")
            return 0
    for projection in {p.oid: p for p in targets}.values():  # tv_post, public.tv_post: once
        if projection.problem is not None:
            print(f"error: {projection.problem}", file=sys.stderr)
            failures += 1
            continue
        started = time.perf_counter()
        try:
            # One statement, so one transaction per table (the connection autocommits).
            row = await conn.fetchrow("SELECT inserted, updated, deleted"
                                      " FROM fraiseql.rebuild_projection($1::oid::regclass)",
                                      projection.oid)
        except asyncpg.PostgresError as exc:
            print(f"error: {projection.tv}: {exc}", file=sys.stderr)
            failures += 1
            continue
        elapsed = time.perf_counter() - started
        print(f"rebuilt {projection.tv} from {projection.source} in {elapsed:.2f} s: "
              f"{row['inserted']} inserted, {row['updated']} updated, {row['deleted']} deleted")
    return 1 if failures else 0


async def _resolve(conn: Any, name: str) -> tuple[Projection | None, str | None]:
    """The registered projection ``name`` refers to, or why there is none."""
    import asyncpg
    try:
        oid = await conn.fetchval("SELECT to_regclass($1)::oid", name)
    except asyncpg.PostgresError as exc:  # e.g. a malformed name
        return None, f"{name}: {exc}"
    if oid is None:
        return None, f"{name}: no such table"
    row = await conn.fetchrow(_REGISTERED_SQL + " WHERE p.tv = $1::oid::regclass", oid)
    if row is None:
        return None, (f"{name} is not a registered projection table (register it with "
                      f"SELECT fraiseql.register_projection('{name}', '<source view>'))")
    return Projection(**dict(row)), None
