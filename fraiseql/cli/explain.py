"""``fraiseql explain``: the SQL a GraphQL request runs, its parameters, and its plan.

Without a database the SQL is compiled as the server would before it learns
the views' columns; with one (``--database-url`` or the environment) the
engine reads them first, and ``--analyze`` runs ``EXPLAIN (ANALYZE, BUFFERS)``
inside a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain", help="show the SQL of a GraphQL request (and its plan)",
        description="Compile a GraphQL request and print each root field's SQL with its "
                    "parameters; --analyze also runs EXPLAIN (ANALYZE, BUFFERS).")
    parser.add_argument("target", nargs="?", default="app:app", metavar="module:app",
                        help="the app (default: app:app)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-q", "--query", help="the GraphQL document")
    source.add_argument("-f", "--file", help="read the document from this file")
    parser.add_argument("--variables", help="variables as a JSON object")
    parser.add_argument("--operation-name", help="the operation to run, if several")
    parser.add_argument("--tenant", help="bind this tenant id to tenant-scoped reads "
                                         "(default: none, which matches no rows)")
    parser.add_argument("--analyze", action="store_true",
                        help="run EXPLAIN (ANALYZE, BUFFERS) on the database (rolled back)")
    parser.add_argument("--database-url", help="default: FRAISEQL_DATABASE_URL, else "
                        "DATABASE_URL (with --analyze, else the dev database of this folder)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Compile, bind and print; explain on the database if asked."""
    from fraiseql.cli.common import database_url, load_app
    from fraiseql.cli.common import run as run_async
    from fraiseql.ops.database_url import resolve_database_url
    query, variables = _read_query(args), _read_variables(args.variables)
    app = load_app(args.target)
    url = database_url(args.database_url) if args.analyze else resolve_database_url(
        args.database_url)
    return run_async(_explain(app, url, query, variables, args))  # type: ignore[no-any-return]


def _read_query(args: argparse.Namespace) -> str:
    from fraiseql.cli.common import CliError, UsageError
    if args.query is not None:
        return str(args.query)
    if args.file is not None:
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    if not sys.stdin.isatty():
        return sys.stdin.read()
    raise UsageError("give the GraphQL document with -q QUERY or -f FILE (or on stdin)")


def _read_variables(text: str | None) -> dict[str, Any]:
    from fraiseql.cli.common import UsageError
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--variables is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("--variables must be a JSON object, e.g. '{\"id\": \"1\"}'")
    return value


async def _explain(app: Any, url: str | None, query: str, variables: dict[str, Any],
                   args: argparse.Namespace) -> int:
    from fraiseql.cli.common import CliError, connect, mask_url
    from fraiseql.errors import RequestError
    conn = None
    if url is not None:
        try:
            conn = await connect(url)
        except CliError as exc:
            if args.analyze:
                raise
            print(f"warning: {exc.message}; showing the SQL compiled without the views' "
                  "columns", file=sys.stderr)
    try:
        if conn is not None:
            await app.engine.load_sources(conn)
        try:
            plan = app.engine.compile(query, variables, args.operation_name)
            bound = iter(app.engine.bind(plan, variables, {"tenant_id": args.tenant}))
        except RequestError as exc:
            raise CliError(f"the request is invalid: {exc.message}") from None
        if conn is not None and args.analyze:
            print(f"-- explained on {mask_url(url or '')}")
        for root in plan.roots:
            await _print_root(conn if args.analyze else None, root,
                              next(bound) if root.kind in ("sql", "mutation") else [])
    finally:
        if conn is not None:
            await conn.close()
    return 0


async def _print_root(conn: Any, root: Any, params: list[Any]) -> None:
    """One root field: its SQL and parameters, then its plan when ``conn`` is given."""
    if root.kind == "typename":
        print(f"-- {root.key}: answered without SQL ({root.value.decode()})\n")
        return
    if root.kind not in ("sql", "mutation"):
        print(f"-- {root.key}: a Python resolver (its SQL, if any, is issued at run time)\n")
        return
    label = root.key if root.key == root.path_name else f"{root.key}: {root.path_name}"
    print(f"-- {label}")
    print(root.sql + ";")
    for number, value in enumerate(params, start=1):
        print(f"-- ${number} = {_show(value)}")
    if conn is not None:
        print("-- plan:")
        for line in await _plan_lines(conn, root.sql, params):
            print(f"--   {line}")
    print()


async def _plan_lines(conn: Any, sql: str, params: list[Any]) -> list[str]:
    import asyncpg

    from fraiseql.cli.common import CliError
    transaction = conn.transaction()
    await transaction.start()
    try:
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
    except asyncpg.PostgresError as exc:
        raise CliError(f"EXPLAIN failed: {exc}") from None
    finally:
        await transaction.rollback()  # ANALYZE executes the statement: keep nothing
    return [row[0] for row in rows]


def _show(value: Any) -> str:
    """A parameter value as it would be written in SQL-ish text."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return f"{value!r} ({type(value).__name__})"
