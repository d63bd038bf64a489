"""Framework SQL install and project migrations: each file once, in order, under a lock.

Framework SQL (``fraiseql/sql``) is versioned like procrastinate's: numbered
migrations ``migrations/NNNN_name.sql`` and ``schema.sql``, the whole current
schema written out. A fresh database runs ``schema.sql`` and records every
migration as applied in ``fraiseql.framework_migrations``; an installed one gets
the migrations it lacks, in order, each in its own transaction with its ledger
row. ``fraiseql.schema_version`` holds the highest migration applied.

Project migrations are the ``*.sql`` files of one directory (``db/``), applied in
lexical order of their names. Each file runs in its own transaction together
with its row in ``fraiseql.migrations``, so a file is either applied and
recorded or neither. A recorded file whose content changed is refused, never
re-applied: the database would silently disagree with the repository.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

from fraiseql.errors import ConfigurationError, DatabaseSetupError

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


@dataclass(frozen=True)
class FrameworkMigration:
    """One framework migration: ``0002_mutations.sql`` is version 2, name ``mutations``."""

    version: int
    name: str
    file: SqlFile


_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def framework_files() -> list[SqlFile]:
    """The framework's migrations (``fraiseql/sql/migrations/NNNN_name.sql``) in order."""
    return [migration.file for migration in framework_migrations()]


def framework_migrations() -> list[FrameworkMigration]:
    """The framework's migrations, numbered 1, 2, ... without gaps."""
    folder = resources.files("fraiseql") / "sql" / "migrations"
    migrations = []
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith(".sql")),
                        key=lambda e: e.name):
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            raise DatabaseSetupError(f"fraiseql/sql/migrations/{entry.name}: not named "
                                     "NNNN_name.sql (a broken fraiseql installation)")
        migrations.append(FrameworkMigration(int(match[1]), match[2],
                                             _sql_file(entry.name, entry.read_bytes())))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(migrations) + 1)):
        raise DatabaseSetupError(f"fraiseql/sql/migrations: versions {versions} are not "
                                 "1, 2, ... without gaps (a broken fraiseql installation)")
    return migrations


def framework_schema() -> SqlFile:
    """``fraiseql/sql/schema.sql``: the whole current framework schema, for fresh installs."""
    entry = resources.files("fraiseql") / "sql" / "schema.sql"
    return _sql_file(entry.name, entry.read_bytes())


def framework_version() -> int:
    """The version a database has once this fraiseql installed it: the last migration's."""
    return framework_migrations()[-1].version


async def install_framework(conn: asyncpg.Connection) -> list[str]:
    """Create or upgrade the ``fraiseql`` schema (idempotent); the migrations it recorded.

    A fresh database runs ``schema.sql`` and records every migration; an installed
    one runs the migrations it lacks. Returns their file names, [] when up to date.
    """
    migrations = framework_migrations()
    async with _migration_lock(conn):
        state = await _framework_state(conn)
        if state == "absent":
            async with conn.transaction():
                await _run(conn, framework_schema(), origin="fraiseql/sql")
                for migration in migrations:
                    await _record_framework(conn, migration)
            return [m.file.filename for m in migrations]
        # "legacy": installed by the former 000_framework.sql, before this ledger
        # existed; 0001 re-creates what is missing and records itself like the rest.
        applied = await _framework_applied(conn) if state == "ledger" else {}
        for migration in migrations:
            recorded = applied.get(migration.version)
            if recorded is not None and recorded != migration.name:
                raise DatabaseSetupError(
                    f"framework migration {migration.version} is recorded as {recorded!r} "
                    f"but this fraiseql names it {migration.name!r}: the database was "
                    "installed by an incompatible fraiseql version")
        todo = [m for m in migrations if m.version not in applied]
        for migration in todo:
            async with conn.transaction():
                await _run(conn, migration.file, origin="fraiseql/sql/migrations")
                await _record_framework(conn, migration)
    return [m.file.filename for m in todo]


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


async def _framework_state(conn: asyncpg.Connection) -> str:
    """``absent`` (nothing installed), ``legacy`` (no framework ledger yet) or ``ledger``."""
    row = await conn.fetchrow(
        "SELECT to_regclass('fraiseql.framework_migrations') IS NOT NULL AS ledger,"
        " to_regclass('fraiseql.schema_version') IS NOT NULL AS version")
    assert row is not None
    if row["ledger"]:
        return "ledger"
    return "legacy" if row["version"] else "absent"


async def _framework_applied(conn: asyncpg.Connection) -> dict[int, str]:
    rows = await conn.fetch("SELECT version, name FROM fraiseql.framework_migrations")
    return {row["version"]: row["name"] for row in rows}


async def _record_framework(conn: asyncpg.Connection, migration: FrameworkMigration) -> None:
    await conn.execute("INSERT INTO fraiseql.framework_migrations (version, name) VALUES ($1, $2)",
                       migration.version, migration.name)
    # Never lowered: a newer fraiseql may have installed later versions already.
    await conn.execute(
        "INSERT INTO fraiseql.schema_version (singleton, version) VALUES (true, $1)"
        " ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, installed_at = now()"
        " WHERE fraiseql.schema_version.version < excluded.version",
        migration.version)


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


async def require_installed(database_url: str, present_sql: str, feature: str, missing: str,
                            when_down: str, timeout_s: float = 5.0) -> None:
    """Boot check of a feature that needs framework SQL: ConfigurationError when the
    database is reachable and ``present_sql`` answers false. A database that is down is
    not a configuration error: a warning says so and what happens meanwhile
    (``when_down``); the feature retries on its own."""
    try:
        conn = await asyncpg.connect(database_url, timeout=timeout_s)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        logging.getLogger("fraiseql").warning(
            "%s: the database is not reachable yet (%s); %s", feature, type(exc).__name__,
            when_down)
        return
    try:
        present = await conn.fetchval(present_sql)
    finally:
        await conn.close()
    if not present:
        raise ConfigurationError(f"{feature} is on but the database has no {missing}: run "
                                 "`fraiseql install` (it installs or upgrades the framework SQL)")
