"""``fraiseql schema export``: the app's GraphQL schema as SDL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fraiseql.cli.common import action_parsers


def register(subparsers: Any) -> None:
    """Add the ``schema`` subcommand and its ``export`` action."""
    parser = subparsers.add_parser("schema", help="work with the GraphQL schema",
                                   description="Work with the app's GraphQL schema.")
    actions = action_parsers(parser, "fraiseql schema export [module:app]")
    export = actions.add_parser("export", help="print the schema in GraphQL SDL",
                                description="Print the schema in GraphQL SDL (no database "
                                            "needed).")
    export.add_argument("target", nargs="?", default="app:app", metavar="module:app",
                        help="the app (default: app:app)")
    export.add_argument("-o", "--output", help="write to this file instead of stdout")
    export.set_defaults(handler=run_export)



def run_export(args: argparse.Namespace) -> int:
    """Print (or write) the SDL."""
    from fraiseql.cli.common import CliError, load_app
    sdl = load_app(args.target).schema.sdl().rstrip("\n") + "\n"
    if args.output is None:
        sys.stdout.write(sdl)
        return 0
    try:
        Path(args.output).write_text(sdl, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
