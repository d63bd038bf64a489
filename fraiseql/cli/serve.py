"""``fraiseql serve``: the production server (uvicorn, one worker per core by default).

uvloop and httptools are used when installed (``fraiseql[speed]``). On SIGTERM
the server stops accepting, lets in-flight requests finish for up to
``--graceful-timeout`` seconds, then closes the pool.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from fraiseql.cli.server import port_number

GRACEFUL_SHUTDOWN_S = 30


def worker_count(text: str) -> int:
    """argparse type: a positive number of worker processes."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"workers must be a positive integer, got {text!r}")
    return int(text)


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve", help="run the app in production",
        description="Serve module:app with uvicorn. The database comes from "
                    "FRAISEQL_DATABASE_URL or DATABASE_URL.")
    parser.add_argument("target", metavar="module:app", help="e.g. app:app")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1; "
                        "0.0.0.0 in a container)")
    parser.add_argument("--port", type=port_number, default=8000)
    parser.add_argument("--workers", type=worker_count, default=None,
                        help="worker processes (default: one per CPU core)")
    parser.add_argument("--graceful-timeout", type=float, default=GRACEFUL_SHUTDOWN_S,
                        help=f"seconds to finish in-flight requests on SIGTERM "
                             f"(default: {GRACEFUL_SHUTDOWN_S})")
    parser.add_argument("--log-level", default="info",
                        choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the app imports and has a database, then serve until SIGTERM."""
    import uvicorn

    from fraiseql.cli.common import CliError, load_app, mask_url
    from fraiseql.cli.server import Stopped, base_url, ensure_port_free, fastest, stop_on_sigterm
    app = load_app(args.target)
    if not app.settings.database_url:
        raise CliError("no database: set FRAISEQL_DATABASE_URL or DATABASE_URL")
    ensure_port_free(args.host, args.port)
    workers = args.workers or os.cpu_count() or 1
    loop, http = fastest("uvloop", "asyncio"), fastest("httptools", "h11")
    print(f"serving {args.target} at {base_url(args.host, args.port)}/graphql with {workers} "
          f"worker(s) ({loop}, {http}); database {mask_url(app.settings.database_url)}",
          flush=True)
    if app.settings.dev_auth_secret:
        print("warning: FRAISEQL_DEV_AUTH_SECRET is set, so dev tokens (`fraiseql token`) are "
              "accepted; unset it, and set FRAISEQL_ENV=production to refuse them",
              file=sys.stderr, flush=True)
    stop_on_sigterm()
    try:
        # One worker runs the app already imported; several import it by name each.
        uvicorn.run(app if workers == 1 else args.target, host=args.host, port=args.port,
                    workers=workers, loop=loop, http=http, access_log=False,
                    timeout_graceful_shutdown=args.graceful_timeout, app_dir=os.getcwd(),
                    log_level=args.log_level, server_header=False)
    except Stopped:
        pass
    return 0
