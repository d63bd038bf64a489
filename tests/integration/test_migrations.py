"""Framework install and project migrations against a real server; the database fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

import fraiseql.ops.migrations as migrations_module
from fraiseql.errors import DatabaseSetupError
from fraiseql.ops.migrations import (
    LOCK_KEY,
    FrameworkMigration,
    SqlFile,
    apply_migrations,
    framework_migrations,
    framework_version,
    install_framework,
    pending_migrations,
)
from fraiseql.testing.postgres import TestServer, create_database, drop_database

BLOG_MIGRATIONS = Path(__file__).resolve().parents[2] / "examples" / "blog" / "db"

# Each file appends its name to a log table: the log is the order files ran in.
LOG_TABLE = "CREATE TABLE migration_log (seq serial PRIMARY KEY, name text NOT NULL);\n"


def log_line(name: str) -> str:
    return f"INSERT INTO migration_log (name) VALUES ('{name}');\n"


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


@pytest.fixture
async def conn(empty_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(empty_db_url)
    yield connection
    await connection.close()


@pytest.fixture
async def installed(conn: asyncpg.Connection) -> asyncpg.Connection:
    await install_framework(conn)
    return conn


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A migrations folder whose lexical order differs from creation and numeric order."""
    return write(tmp_path / "db", {
        "010_c.sql": log_line("010_c"),
        "001_a.sql": LOG_TABLE + log_line("001_a"),
        "10_d.sql": log_line("10_d"),
        "002_b.sql": log_line("002_b"),
        "notes.md": "not SQL",
        "003_old.sql.bak": "SELECT broken(",
    })


async def migration_log(conn: asyncpg.Connection) -> list[str]:
    return [r["name"] for r in await conn.fetch("SELECT name FROM migration_log ORDER BY seq")]


async def recorded(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch("SELECT filename FROM fraiseql.migrations ORDER BY filename")
    return [r["filename"] for r in rows]


async def advisory_locks_held(conn: asyncpg.Connection) -> int:
    count = await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        " AND ((classid::bigint << 32) | objid::bigint) = $1",
        LOCK_KEY,
    )
    return int(count)


# --- framework install -------------------------------------------------------------


async def test_install_creates_the_framework_schema(installed: asyncpg.Connection) -> None:
    assert await installed.fetchval("SELECT version FROM fraiseql.schema_version") == framework_version()
    columns = await installed.fetch(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'fraiseql' AND table_name = 'migrations' ORDER BY ordinal_position"
    )
    assert [tuple(c) for c in columns] == [
        ("filename", "text", "NO"),
        ("checksum", "text", "NO"),
        ("applied_at", "timestamp with time zone", "NO"),
    ]
    key = await installed.fetchval(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = 'fraiseql.migrations'::regclass AND i.indisprimary"
    )
    assert key == "filename"


async def test_install_is_idempotent(installed: asyncpg.Connection, project: Path) -> None:
    await apply_migrations(installed, project)
    await install_framework(installed)
    await install_framework(installed)
    assert await installed.fetchval("SELECT count(*) FROM fraiseql.schema_version") == 1
    assert await installed.fetchval("SELECT version FROM fraiseql.schema_version") == framework_version()
    # Reinstalling must not forget what was migrated.
    assert await recorded(installed) == ["001_a.sql", "002_b.sql", "010_c.sql", "10_d.sql"]


async def test_install_never_lowers_a_newer_version(installed: asyncpg.Connection) -> None:
    await installed.execute("UPDATE fraiseql.schema_version SET version = 7")
    await install_framework(installed)
    assert await installed.fetchval("SELECT version FROM fraiseql.schema_version") == 7


async def test_concurrent_installs_do_not_collide(empty_db_url: str) -> None:
    conns = [await asyncpg.connect(empty_db_url) for _ in range(4)]
    try:
        await asyncio.gather(*(install_framework(c) for c in conns))
        assert await conns[0].fetchval("SELECT version FROM fraiseql.schema_version") == framework_version()
    finally:
        await asyncio.gather(*(c.close() for c in conns))


def with_extra_framework_migration(monkeypatch: pytest.MonkeyPatch, sql: str,
                                   name: str = "extra") -> FrameworkMigration:
    """Pretend this fraiseql has one more framework migration than it ships."""
    shipped = framework_migrations()
    version = shipped[-1].version + 1
    extra = FrameworkMigration(version, name, SqlFile(f"{version:04d}_{name}.sql", sql, ""))
    monkeypatch.setattr(migrations_module, "framework_migrations", lambda: [*shipped, extra])
    return extra


async def test_install_applies_a_new_framework_migration_once(
        installed: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = with_extra_framework_migration(
        monkeypatch, "CREATE TABLE fraiseql.extra (x int);\n", "extra_table")
    assert await install_framework(installed) == [extra.file.filename]
    assert await install_framework(installed) == []
    assert await installed.fetchval("SELECT version FROM fraiseql.schema_version") == extra.version
    assert await installed.fetchval("SELECT name FROM fraiseql.framework_migrations"
                                    " WHERE version = $1", extra.version) == "extra_table"
    assert await installed.fetchval("SELECT to_regclass('fraiseql.extra') IS NOT NULL")
    assert await advisory_locks_held(installed) == 0


async def test_failing_framework_migration_rolls_back_with_its_record(
        installed: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    before = framework_version()
    extra = with_extra_framework_migration(
        monkeypatch, "CREATE TABLE fraiseql.half (x int);\nSELECT 1 / 0;\n", "broken")
    with pytest.raises(DatabaseSetupError,
                       match=rf"fraiseql/sql/migrations/{extra.file.filename}: division by zero"):
        await install_framework(installed)
    assert await installed.fetchval("SELECT to_regclass('fraiseql.half')") is None
    assert await installed.fetchval("SELECT max(version) FROM fraiseql.framework_migrations") \
        == before
    assert await installed.fetchval("SELECT version FROM fraiseql.schema_version") == before
    assert await advisory_locks_held(installed) == 0


async def test_fresh_install_of_a_broken_schema_leaves_nothing(
        conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations_module, "framework_schema",
                        lambda: SqlFile("schema.sql", "CREATE SCHEMA fraiseql;\nSELEC 1;\n", ""))
    with pytest.raises(DatabaseSetupError, match=r"fraiseql/sql/schema\.sql line 2: syntax"):
        await install_framework(conn)
    assert await conn.fetchval("SELECT to_regnamespace('fraiseql')") is None
    assert await advisory_locks_held(conn) == 0


async def test_a_differently_named_framework_migration_is_refused(
        installed: asyncpg.Connection) -> None:
    await installed.execute("UPDATE fraiseql.framework_migrations SET name = 'other'"
                            " WHERE version = 2")
    with pytest.raises(DatabaseSetupError, match="framework migration 2 is recorded as 'other'"):
        await install_framework(installed)
    assert await advisory_locks_held(installed) == 0


# --- apply_migrations --------------------------------------------------------------


async def test_applies_in_lexical_order(installed: asyncpg.Connection, project: Path) -> None:
    applied = await apply_migrations(installed, project)
    assert applied == ["001_a.sql", "002_b.sql", "010_c.sql", "10_d.sql"]
    assert await migration_log(installed) == ["001_a", "002_b", "010_c", "10_d"]
    assert await recorded(installed) == applied


async def test_each_file_is_applied_once(installed: asyncpg.Connection, project: Path) -> None:
    await apply_migrations(installed, project)
    assert await apply_migrations(installed, project) == []
    write(project, {"011_e.sql": log_line("011_e")})
    assert await apply_migrations(installed, project) == ["011_e.sql"]
    assert await apply_migrations(installed, project) == []
    assert await migration_log(installed) == ["001_a", "002_b", "010_c", "10_d", "011_e"]


async def test_records_the_checksum_of_each_file(
    installed: asyncpg.Connection, project: Path
) -> None:
    import hashlib

    await apply_migrations(installed, project)
    stored = await installed.fetchval(
        "SELECT checksum FROM fraiseql.migrations WHERE filename = '002_b.sql'"
    )
    assert stored == hashlib.sha256(log_line("002_b").encode()).hexdigest()


async def test_changed_applied_file_is_refused(installed: asyncpg.Connection, project: Path) -> None:
    await apply_migrations(installed, project)
    write(project, {"002_b.sql": log_line("002_b") + log_line("again"),
                    "020_new.sql": log_line("020_new")})
    with pytest.raises(DatabaseSetupError, match=r"002_b\.sql") as raised:
        await apply_migrations(installed, project)
    assert "001_a.sql" not in str(raised.value)
    # Nothing ran: neither the changed file again nor the new one.
    assert await migration_log(installed) == ["001_a", "002_b", "010_c", "10_d"]
    assert "020_new.sql" not in await recorded(installed)
    with pytest.raises(DatabaseSetupError, match=r"002_b\.sql"):
        await pending_migrations(installed, project)


async def test_line_ending_change_is_not_a_change(
    installed: asyncpg.Connection, project: Path
) -> None:
    await apply_migrations(installed, project)
    (project / "002_b.sql").write_bytes(log_line("002_b").replace("\n", "\r\n").encode())
    assert await apply_migrations(installed, project) == []


async def test_failing_file_rolls_back_with_its_record(
    installed: asyncpg.Connection, tmp_path: Path
) -> None:
    project = write(tmp_path / "db", {
        "001_ok.sql": LOG_TABLE + log_line("001_ok"),
        # The INSERT succeeds, then the division fails: the INSERT must be undone.
        "002_bad.sql": log_line("002_bad") + "SELECT 1 / 0;\n",
        "003_later.sql": log_line("003_later"),
    })
    with pytest.raises(DatabaseSetupError, match=r"002_bad\.sql: division by zero") as raised:
        await apply_migrations(installed, project)
    assert isinstance(raised.value.__cause__, asyncpg.DivisionByZeroError)
    assert await migration_log(installed) == ["001_ok"]
    assert await recorded(installed) == ["001_ok.sql"]
    assert await advisory_locks_held(installed) == 0
    # Fixed file: the next run resumes where this one stopped.
    write(project, {"002_bad.sql": log_line("002_bad")})
    assert await apply_migrations(installed, project) == ["002_bad.sql", "003_later.sql"]
    assert await migration_log(installed) == ["001_ok", "002_bad", "003_later"]


async def test_syntax_error_names_file_and_line(
    installed: asyncpg.Connection, tmp_path: Path
) -> None:
    project = write(tmp_path / "db", {"001_typo.sql": "SELECT 1;\n\n-- comment\nSELEC 2;\n"})
    with pytest.raises(DatabaseSetupError, match=r"001_typo\.sql line 4: syntax error") as raised:
        await apply_migrations(installed, project)
    assert isinstance(raised.value.__cause__, asyncpg.PostgresSyntaxError)
    assert await recorded(installed) == []


async def test_refuses_to_migrate_without_framework(
    conn: asyncpg.Connection, project: Path
) -> None:
    with pytest.raises(DatabaseSetupError, match="install_framework"):
        await apply_migrations(conn, project)
    assert await conn.fetchval("SELECT to_regclass('migration_log')") is None
    assert await advisory_locks_held(conn) == 0


async def test_missing_directory_is_an_error(installed: asyncpg.Connection, tmp_path: Path) -> None:
    with pytest.raises(DatabaseSetupError, match="does not exist"):
        await apply_migrations(installed, tmp_path / "nope")


async def test_lock_is_released_after_success(
    installed: asyncpg.Connection, project: Path
) -> None:
    await apply_migrations(installed, project)
    assert await advisory_locks_held(installed) == 0


async def test_concurrent_migrators_apply_each_file_once(
    empty_db_url: str, tmp_path: Path
) -> None:
    # The sleep keeps the first migrator inside the file while the second starts;
    # CREATE TABLE without IF NOT EXISTS fails if the file runs twice.
    project = write(tmp_path / "db", {
        "001_slow.sql": "SELECT pg_sleep(0.3);\nCREATE TABLE only_once (x int);\n",
        "002_next.sql": "INSERT INTO only_once VALUES (1);\n",
    })
    first, second = await asyncpg.connect(empty_db_url), await asyncpg.connect(empty_db_url)
    try:
        await install_framework(first)
        first_pid = first.get_server_pid()

        async def second_migrator() -> list[str]:
            # Start while the first one is running 001_slow.sql, whatever locking it uses.
            for _ in range(500):
                if await second.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE $2",
                    first_pid, "%pg_sleep(0.3)%",
                ):
                    return await apply_migrations(second, project)
                await asyncio.sleep(0.01)
            raise AssertionError("the first migrator never ran 001_slow.sql")

        results = await asyncio.wait_for(
            asyncio.gather(apply_migrations(first, project), second_migrator()), timeout=10
        )
        assert list(results) == [["001_slow.sql", "002_next.sql"], []]
        assert await first.fetchval("SELECT count(*) FROM only_once") == 1
        assert await advisory_locks_held(first) == 0
    finally:
        await first.close()
        await second.close()


async def test_file_and_its_record_commit_together(
    installed: asyncpg.Connection, tmp_path: Path
) -> None:
    # A file that records itself makes the framework's own INSERT fail after the
    # file ran: its effects must be rolled back with that INSERT.
    project = write(tmp_path / "db", {
        "001_ok.sql": LOG_TABLE + log_line("001_ok"),
        "002_self.sql": log_line("002_self")
        + "INSERT INTO fraiseql.migrations (filename, checksum) VALUES ('002_self.sql', 'x');\n",
    })
    with pytest.raises(asyncpg.UniqueViolationError):
        await apply_migrations(installed, project)
    assert await migration_log(installed) == ["001_ok"]
    assert await recorded(installed) == ["001_ok.sql"]


# --- pending_migrations ------------------------------------------------------------


async def test_pending_before_install_lists_every_file(
    conn: asyncpg.Connection, project: Path
) -> None:
    assert await pending_migrations(conn, project) == [
        "001_a.sql", "002_b.sql", "010_c.sql", "10_d.sql"
    ]


async def test_pending_lists_what_is_left(installed: asyncpg.Connection, project: Path) -> None:
    await apply_migrations(installed, project)
    assert await pending_migrations(installed, project) == []
    write(project, {"0005_first.sql": "SELECT 1;", "099_z.sql": "SELECT 1;"})
    assert await pending_migrations(installed, project) == ["0005_first.sql", "099_z.sql"]
    assert await recorded(installed) == ["001_a.sql", "002_b.sql", "010_c.sql", "10_d.sql"]


# --- the database fixtures ---------------------------------------------------------


def blog_files() -> list[str]:
    return sorted(p.name for p in BLOG_MIGRATIONS.glob("*.sql"))


async def test_empty_database_has_nothing_installed(conn: asyncpg.Connection) -> None:
    assert await conn.fetchval("SELECT to_regnamespace('fraiseql')") is None
    user_tables = await conn.fetchval(
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    )
    assert user_tables == 0


async def test_blog_template_is_migrated_and_locked(
    pg_server: TestServer, blog_template: str
) -> None:
    admin = await asyncpg.connect(pg_server.admin_url)
    try:
        row = await admin.fetchrow(
            "SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1", blog_template
        )
    finally:
        await admin.close()
    assert blog_template == "fraiseql_blog_template"
    assert row is not None
    assert (row["datistemplate"], row["datallowconn"]) == (True, False)


async def test_blog_clone_has_every_blog_migration(blog_db_url: str) -> None:
    conn = await asyncpg.connect(blog_db_url)
    try:
        assert await recorded(conn) == blog_files()
        assert await conn.fetchval("SELECT version FROM fraiseql.schema_version") == framework_version()
    finally:
        await conn.close()


async def test_fresh_clone_is_private(
    pg_server: TestServer, fresh_blog_db_url: str, blog_db_url: str, blog_template: str
) -> None:
    assert fresh_blog_db_url != blog_db_url
    conn = await asyncpg.connect(fresh_blog_db_url)
    try:
        assert await recorded(conn) == blog_files()
        await conn.execute("CREATE TABLE written_by_this_test (x int)")
    finally:
        await conn.close()
    shared = await asyncpg.connect(blog_db_url)
    try:
        assert await shared.fetchval("SELECT to_regclass('written_by_this_test')") is None
    finally:
        await shared.close()
    # The template itself is untouched: a new clone does not see the table either.
    url = await create_database(pg_server, "fraiseql_probe_clone", template=blog_template)
    try:
        probe = await asyncpg.connect(url)
        assert await probe.fetchval("SELECT to_regclass('written_by_this_test')") is None
        await probe.close()
    finally:
        await drop_database(pg_server, "fraiseql_probe_clone")
