"""Framework SQL install and project migrations: each file once, in order, under a lock.

Project migrations are the ``*.sql`` files of one directory (``db/``), applied in
lexical order of their names. Each file runs in its own transaction together
with its row in ``fraiseql.migrations``, so a file is either applied and
recorded or neither. A recorded file whose content changed is refused, never
re-applied: the database would silently disagree with the repository.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

from fraiseql.errors import DatabaseSetupError

# One advisory-lock key for every FraiseQL schema change (framework install and
# migrations): the ASCII bytes of "fraiseql", so it is stable and recognisable
# in pg_locks (objid/classid) and unlikely to collide with an application's keys.
LOCK_KEY = int.from_bytes(b"fraiseql", "big", signed=True)


@dataclass(frozen=True)
class SqlFile:
    """One SQL file: its name, its text and the checksum of that text."""

    filename: str
    sql: str
    checksum: str


def checksum(sql: str) -> str:
    """The hex SHA-256 of ``sql`` with line endings normalised."""
    # A Windows checkout (CRLF) of an unchanged file must not look like an edit.
    return hashlib.sha256(sql.replace("\r\n", "\n").encode()).hexdigest()


def read_sql_files(directory: Path) -> list[SqlFile]:
    """The ``*.sql`` files of ``directory`` in lexical order of their names."""
    if not directory.is_dir():
        raise DatabaseSetupError(f"migrations directory {directory} does not exist")
    paths = sorted((p for p in directory.glob("*.sql") if p.is_file()), key=lambda p: p.name)
    return [_sql_file(p.name, p.read_bytes()) for p in paths]


def framework_files() -> list[SqlFile]:
    """The framework's own SQL files (``fraiseql/sql/*.sql``) in lexical order."""
    folder = resources.files("fraiseql") / "sql"
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".sql")), key=lambda e: e.name)
    return [_sql_file(e.name, e.read_bytes()) for e in entries]


async def install_framework(conn: asyncpg.Connection) -> None:
    """Create or update the ``fraiseql`` schema (idempotent)."""
    async with conn.transaction():
        # Transaction-scoped: released by COMMIT/ROLLBACK whatever happens. Two
        # concurrent "CREATE ... IF NOT EXISTS" can otherwise both try to create.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        for file in framework_files():
            await _run(conn, file, origin="fraiseql/sql")


async def apply_migrations(conn: asyncpg.Connection, directory: Path) -> list[str]:
    """Apply the not-yet-applied files of ``directory``; return their names."""
    files = read_sql_files(directory)
    async with _migration_lock(conn):
        if not await _framework_installed(conn):
            raise DatabaseSetupError(
                "the fraiseql schema is missing; call install_framework(conn) before migrating"
            )
        todo = _pending(files, await _applied(conn))
        for file in todo:
            async with conn.transaction():
                await _run(conn, file, origin=str(directory))
                await conn.execute(
                    "INSERT INTO fraiseql.migrations (filename, checksum) VALUES ($1, $2)",
                    file.filename, file.checksum,
                )
    return [file.filename for file in todo]


async def pending_migrations(conn: asyncpg.Connection, directory: Path) -> list[str]:
    """The names of the files of ``directory`` not applied yet, in the order they would run."""
    files = read_sql_files(directory)
    applied = await _applied(conn) if await _framework_installed(conn) else {}
    return [file.filename for file in _pending(files, applied)]


def _pending(files: list[SqlFile], applied: dict[str, str]) -> list[SqlFile]:
    changed = [f.filename for f in files if f.filename in applied and applied[f.filename] != f.checksum]
    if changed:
        raise DatabaseSetupError(
            f"already-applied migration(s) changed since they ran: {', '.join(changed)}; "
            "restore the applied version and put the change in a new file"
        )
    return [f for f in files if f.filename not in applied]


@asynccontextmanager
async def _migration_lock(conn: asyncpg.Connection) -> AsyncIterator[None]:
    # Session-scoped because each file commits on its own: the lock must outlive
    # those transactions so a second migrator waits, then finds nothing to do.
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        yield
    finally:
        if not conn.is_closed():
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def _framework_installed(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass('fraiseql.migrations') IS NOT NULL"))


async def _applied(conn: asyncpg.Connection) -> dict[str, str]:
    rows = await conn.fetch("SELECT filename, checksum FROM fraiseql.migrations")
    return {row["filename"]: row["checksum"] for row in rows}


async def _run(conn: asyncpg.Connection, file: SqlFile, *, origin: str) -> None:
    try:
        # No arguments: asyncpg uses the simple protocol, which runs many statements.
        await conn.execute(file.sql)
    except asyncpg.PostgresError as error:
        where = f"{origin}/{file.filename}{_line_of(file.sql, error)}"
        raise DatabaseSetupError(f"{where}: {error}") from error


def _line_of(sql: str, error: asyncpg.PostgresError) -> str:
    """`` line N`` for errors PostgreSQL located in the text (syntax errors), else ``""``."""
    position = getattr(error, "position", None)
    if not position or not str(position).isdigit():
        return ""
    return f" line {sql.count(chr(10), 0, int(position) - 1) + 1}"


def _sql_file(filename: str, raw: bytes) -> SqlFile:
    try:
        # utf-8-sig: editors on Windows prepend a BOM that PostgreSQL would reject.
        sql = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatabaseSetupError(f"{filename} is not UTF-8 text: {error}") from error
    return SqlFile(filename, sql, checksum(sql))
