"""What every subcommand shares: errors with exit codes, app loading, database access.

Heavy imports (asyncpg, the user's app) happen inside the functions, so that
``fraiseql --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    import asyncpg

    from fraiseql.http.app import FraiseQLApp

EXIT_FAILURE = 1
EXIT_USAGE = 2
CONNECT_TIMEOUT_S = 5.0
NO_DATABASE = ("no database: pass --database-url, or set FRAISEQL_DATABASE_URL or DATABASE_URL"
               " (or run `fraiseql dev` once here to create the embedded dev database)")


DATABASE_URL_HELP = ("default: FRAISEQL_DATABASE_URL, else DATABASE_URL, else the dev database "
                     "of this folder")


def action_parsers(parser: Any, usage: str) -> Any:
    """The actions of a subcommand (``fraiseql tv rebuild|list``); naming none is a
    usage error that shows ``usage``."""
    def missing_action(_args: Any) -> int:
        raise UsageError(f"say what to do: {usage}")

    parser.set_defaults(handler=missing_action)
    return parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))


def add_action(actions: Any, name: str, help_text: str, description: str,
               handler: Any) -> Any:
    """One action of ``actions`` that works on a database (``--database-url``)."""
    sub = actions.add_parser(name, help=help_text, description=description)
    sub.add_argument("--database-url", help=DATABASE_URL_HELP)
    sub.set_defaults(handler=handler)
    return sub


class CliError(Exception):
    """A failure reported as one line on stderr; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class UsageError(CliError):
    """The command line itself is wrong (exit status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable database URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hostinfo}"
    query = parts.query
    if "password=" in query:
        pairs = [(k, "***" if k == "password" else v) for k, v in parse_qsl(query, True)]
        query = urlencode(pairs, safe="/")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def split_target(target: str) -> tuple[str, str]:
    """``module:attribute`` split in two; the attribute defaults to ``app``."""
    module, _, attribute = target.partition(":")
    if not module or (":" in target and not attribute) or ":" in attribute:
        raise UsageError(f"expected module:app (e.g. app:app), got {target!r}")
    return module, attribute or "app"


def ensure_importable(target: str) -> None:
    """Fail early (before starting anything) when ``module:app``'s module cannot be found."""
    import importlib.util
    module_name, _ = split_target(target)
    _add_cwd_to_path()
    try:
        found = importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise CliError(f"cannot import module {module_name!r} from {os.getcwd()} "
                       f"(no {module_name.replace('.', '/')}.py there?)")


def _add_cwd_to_path() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def load_app(target: str) -> FraiseQLApp:
    """Import ``module:app`` from the current directory and return the FraiseQL app."""
    module_name, attribute = split_target(target)
    _add_cwd_to_path()
    cwd = os.getcwd()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise CliError(f"cannot import module {module_name!r} from {cwd} "
                           f"(no {exc.name.replace('.', '/')}.py there?)") from None
        raise CliError(_import_failure(module_name, exc)) from None
    except Exception as exc:  # noqa: BLE001 - the user's module: reported, not re-raised
        raise CliError(_import_failure(module_name, exc)) from None
    app = getattr(module, attribute, None)
    if app is None:
        raise CliError(f"module {module_name!r} has no attribute {attribute!r}")
    if not hasattr(app, "schema") or not hasattr(app, "engine"):
        raise CliError(f"{target} is not a FraiseQL app (make it with fraiseql.create_app(schema))")
    return app  # type: ignore[no-any-return]


def _import_failure(module_name: str, exc: BaseException) -> str:
    """One message for an exception raised while importing the user's module."""
    from fraiseql.errors import FraiseQLError
    if isinstance(exc, FraiseQLError):
        return f"cannot load {module_name}: {exc}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "importlib" not in f.filename]
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"cannot load {module_name}: {type(exc).__name__}: {exc}{where}"


def database_url(cli_value: str | None, *, announce: bool = True) -> str:
    """The database to use: flag, environment, else this project's dev database."""
    from fraiseql.ops.database_url import resolve_database_url
    url = resolve_database_url(cli_value)
    if url:
        return url
    from fraiseql.cli import devdb
    project = Path.cwd()
    if not devdb.data_dir(project).is_dir():
        raise CliError(NO_DATABASE)
    url = devdb.start(project)
    if announce:
        print(f"using the dev database {devdb.database_name(project)} "
              f"in {devdb.data_dir(project)}", file=sys.stderr)
    return url


async def connect(url: str) -> asyncpg.Connection:
    """An asyncpg connection to ``url``, or a CliError naming the (masked) URL."""
    import asyncpg
    try:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except TimeoutError:
        reason = f"timed out after {CONNECT_TIMEOUT_S:g} s"
    except Exception as exc:  # noqa: BLE001 - every way to fail to connect reads the same
        reason = str(exc).strip() or type(exc).__name__
    raise CliError(f"cannot connect to the database at {mask_url(url)}: {reason}")


def run(coroutine: Any) -> Any:
    """Run ``coroutine`` to completion (the CLI is synchronous on the outside)."""
    return asyncio.run(coroutine)
