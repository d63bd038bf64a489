"""``fraiseql init NAME``: a runnable project skeleton (app.py, db/001_schema.sql, README)."""

from __future__ import annotations

import argparse
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

TEMPLATE_SUFFIX = ".tmpl"
RENAMED = {"gitignore": ".gitignore"}


def register(subparsers: Any) -> None:
    """Add the ``init`` subcommand."""
    parser = subparsers.add_parser("init", help="create a new project folder",
                                   description="Create a project folder with an example type "
                                               "bound to a view, its migration and a README.")
    parser.add_argument("name", help="the folder to create (its name names the dev database)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the skeleton into a new (or empty) folder."""
    from fraiseql.cli import devdb
    from fraiseql.cli.common import CliError, UsageError
    target = Path(args.name)
    if not args.name.strip():
        raise UsageError("the project name must not be empty")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CliError(f"{target} already exists and is not empty; choose another name")
    name = target.resolve().name
    values = {"name": name, "database": devdb.database_name(target.resolve())}
    written = _copy(resources.files("fraiseql.cli") / "templates" / "project", target, values)
    print(f"created {target}/ with " + ", ".join(written))
    print(f"\nnext:\n  cd {target}\n  fraiseql dev")
    return 0


def _copy(source: Traversable, target: Path, values: dict[str, str]) -> list[str]:
    """Copy a template tree, filling ``{{key}}`` placeholders; the written paths."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(("__", ".")):
            continue
        if entry.is_dir():
            written += [f"{entry.name}/{p}" for p in _copy(entry, target / entry.name, values)]
            continue
        name = entry.name.removesuffix(TEMPLATE_SUFFIX)
        name = RENAMED.get(name, name)
        text = entry.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        (target / name).write_text(text, encoding="utf-8")
        written.append(name)
    return written
