"""``fraiseql dev``: database ready, migrations applied, server with auto-reload.

Without a database URL, an embedded PostgreSQL private to the project runs in
``./.fraiseql/pgdata`` and outlives the command so the next start is instant
(``fraiseql dev --stop-db`` stops it). The server process, and every process
the reloader starts, learns the database through ``FRAISEQL_DATABASE_URL``.

Dev tokens: the app accepts ``fraiseql token --sub alice`` tokens, signed with
``FRAISEQL_DEV_AUTH_SECRET`` or the secret generated in ``.fraiseql/dev-auth-secret``
(passed to the app, and the reloader's children, as ``FRAISEQL_DEV_AUTH_SECRET``).
Refused with ``FRAISEQL_ENV=production``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from fraiseql.cli.server import port_number

GRACEFUL_SHUTDOWN_S = 5


def register(subparsers: Any) -> None:
    """Add the ``dev`` subcommand."""
    parser = subparsers.add_parser(
        "dev", help="run the app for development (embedded PostgreSQL, auto-reload)",
        description="Prepare the database (an embedded one in .fraiseql/pgdata unless a URL "
                    "is given), install the framework SQL, apply db/*.sql, and serve with "
                    "auto-reload.")
    parser.add_argument("target", nargs="?", default="app:app", metavar="module:app",
                        help="the app to serve (default: app:app)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=8000)
    parser.add_argument("--database-url", help="use this database instead of the embedded one "
                        "(default: FRAISEQL_DATABASE_URL, else DATABASE_URL)")
    parser.add_argument("--dir", default="db", help="the migrations folder (default: db)")
    parser.add_argument("--no-reload", action="store_true", help="do not restart on code changes")
    parser.add_argument("--stop-db-on-exit", action="store_true",
                        help="stop the embedded PostgreSQL when the server stops")
    parser.add_argument("--stop-db", action="store_true",
                        help="only stop this project's embedded PostgreSQL, then exit")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prepare the database, then serve until interrupted."""
    from fraiseql.auth.dev import SECRET_ENV, dev_secret
    from fraiseql.cli import devdb
    from fraiseql.cli.common import CliError, ensure_importable, load_app
    from fraiseql.cli.server import Stopped, ensure_port_free, stop_on_sigterm
    from fraiseql.ops.database_url import resolve_database_url
    project = Path.cwd()
    if args.stop_db:
        stopped = devdb.stop(project)
        print("stopped the embedded PostgreSQL" if stopped else
              f"no embedded PostgreSQL running for {project}")
        return 0
    if os.environ.get("FRAISEQL_ENV") == "production":
        raise CliError("`fraiseql dev` accepts dev tokens and never runs with "
                       "FRAISEQL_ENV=production; use `fraiseql serve`")
    ensure_importable(args.target)
    ensure_port_free(args.host, args.port)
    stop_on_sigterm()
    url = resolve_database_url(args.database_url)
    embedded = url is None
    if url is None:
        print(f"starting the embedded PostgreSQL in {devdb.data_dir(project)} ...", flush=True)
        url = devdb.start(project)
    try:
        applied = _prepare_database(url, project / args.dir)
        # Before the app is imported: its Settings, and the reloader's children, read it.
        os.environ["FRAISEQL_DATABASE_URL"] = url
        os.environ[SECRET_ENV] = dev_secret(project) or ""
        app = load_app(args.target)
        _banner(args, url, embedded, applied, app.schema)
        _serve(args, project, app)
    except Stopped:
        pass
    finally:
        if embedded and args.stop_db_on_exit:
            devdb.stop(project)
            print("stopped the embedded PostgreSQL")
    return 0


def _prepare_database(url: str, migrations: Path) -> list[str] | None:
    """Install the framework SQL and apply pending migrations; None when there is no folder."""
    from fraiseql.cli.common import connect
    from fraiseql.cli.common import run as run_async
    from fraiseql.ops.migrations import apply_migrations, install_framework

    async def prepare() -> list[str] | None:
        conn = await connect(url)
        try:
            await install_framework(conn)
            return await apply_migrations(conn, migrations) if migrations.is_dir() else None
        finally:
            await conn.close()

    return run_async(prepare())  # type: ignore[no-any-return]


def _banner(args: argparse.Namespace, url: str, embedded: bool, applied: list[str] | None,
            schema: Any) -> None:
    from fraiseql.cli.common import mask_url
    from fraiseql.cli.server import base_url, curl_command, sample_query
    endpoint = base_url(args.host, args.port) + "/graphql"
    where = (" (embedded; stop it with `fraiseql dev --stop-db`)" if embedded else "")
    if applied is None:
        migrations = f"no {args.dir}/ folder, nothing to apply"
    else:
        migrations = f"applied {', '.join(applied)}" if applied else "up to date"
    print(f"\nFraiseQL dev server\n"
          f"  database    {mask_url(url)}{where}\n"
          f"  migrations  {migrations}\n"
          f"  server      {base_url(args.host, args.port)}\n"
          f"  GraphiQL    {endpoint}  (open it in a browser)\n"
          f"  auth        dev tokens accepted: fraiseql token --sub alice --role editor\n"
          f"  try         {curl_command(endpoint, sample_query(schema))}\n", flush=True)


def _serve(args: argparse.Namespace, project: Path, app: Any) -> None:
    import uvicorn
    common: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": "info",
                              "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S}
    if args.no_reload:
        uvicorn.run(app, **common)
        return
    state = project / ".fraiseql"
    # The server's data files change constantly: never look at them for reloads.
    excludes = [str(state)] if state.is_dir() else None
    uvicorn.run(args.target, reload=True, reload_dirs=[str(project)], reload_excludes=excludes,
                app_dir=str(project), **common)
    sys.stdout.flush()
