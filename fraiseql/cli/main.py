"""``fraiseql``: the command line, one subcommand per module of this package.

Exit status: 0 success, 1 failure (database unreachable, check found problems,
...), 2 bad usage. Errors are one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Subcommand modules, in the order `fraiseql --help` lists them. Each has
# register(subparsers) and keeps its heavy imports inside its run function.
COMMANDS = ("init", "dev", "token", "serve", "check", "schema", "explain", "migrate", "install",
            "documents", "tv", "apikey", "sessions", "tokens", "roles", "grants", "audit")


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser for every subcommand."""
    from fraiseql import __version__
    parser = _Parser(prog="fraiseql",
                     description="Database-first GraphQL for PostgreSQL.")
    parser.add_argument("--version", action="version", version=f"fraiseql {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"fraiseql.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``fraiseql`` command."""
    sys.exit(run(argv))


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the subcommand, and return the exit status."""
    from fraiseql.cli.common import CliError
    from fraiseql.errors import FraiseQLError
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.code
    except FraiseQLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    main()
