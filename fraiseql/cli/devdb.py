"""The project-local dev database: an embedded PostgreSQL in ``./.fraiseql/pgdata``.

One server per project folder, one database named after the folder. It keeps
running between `fraiseql dev` sessions so a restart is instant;
``fraiseql dev --stop-db`` stops it.
"""

from __future__ import annotations

import re
from pathlib import Path

STATE_DIR = ".fraiseql"
MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names


def data_dir(project: Path) -> Path:
    """Where the project's embedded server keeps its files."""
    return project / STATE_DIR / "pgdata"


def database_name(project: Path) -> str:
    """The dev database's name: the folder name, as a plain SQL identifier."""
    name = re.sub(r"[^a-z0-9_]+", "_", project.resolve().name.lower()).strip("_")
    if not name or name[0].isdigit():
        name = f"fraiseql_{name}".rstrip("_")
    return name[:MAX_IDENTIFIER]


def start(project: Path) -> str:
    """Start (or reuse) the project's server, create its database if missing; its URL."""
    from fraiseql.ops.embedded import EmbeddedPostgres
    state = project / STATE_DIR
    state.mkdir(exist_ok=True)
    # Ignored by git whatever the project's own .gitignore says.
    (state / ".gitignore").write_text("*\n")
    server = EmbeddedPostgres(data_dir(project))
    server.start()
    name = database_name(project)
    if not server.database_exists(name):
        server.create_database(name)
    return server.url(name)


def stop(project: Path) -> bool:
    """Stop the project's server; False when it was not running."""
    from fraiseql.ops.embedded import EmbeddedPostgres
    folder = data_dir(project)
    if not folder.is_dir():
        return False
    server = EmbeddedPostgres(folder)
    if not server.is_running():
        return False
    server.stop()
    return True
