"""Real PostgreSQL for test suites: one server per session, databases cloned from templates.

Use it as a pytest plugin (``pytest_plugins = ["fraiseql.testing.postgres"]``).
It provides ``pg_server`` (session) and ``empty_db_url`` (per test); build
project fixtures on :func:`build_template` and :func:`create_database`.

Set ``FRAISEQL_TEST_DATABASE_URL`` to a superuser URL to use an existing server
instead of starting the embedded one; it is never stopped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from fraiseql.ops.database_url import url_with_database
from fraiseql.ops.embedded import EmbeddedPostgres, quote_ident
from fraiseql.ops.migrations import apply_migrations, install_framework

TEST_DATABASE_URL_VARIABLE = "FRAISEQL_TEST_DATABASE_URL"


@dataclass(frozen=True)
class TestServer:
    """A PostgreSQL server the tests may create and drop databases on."""

    __test__ = False  # a helper, not a test class, despite its name

    admin_url: str
    embedded: EmbeddedPostgres | None = None

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server."""
        return url_with_database(self.admin_url, database)


def start_test_server(environ: Mapping[str, str] = os.environ) -> TestServer:
    """The server named by FRAISEQL_TEST_DATABASE_URL, else a new embedded one in a temp dir."""
    if environ.get(TEST_DATABASE_URL_VARIABLE):
        return TestServer(environ[TEST_DATABASE_URL_VARIABLE])
    # Not pytest's tmp_path: its base dir is private (0700) and, when we run as
    # root, the server runs as another OS user that must reach its data dir.
    root = Path(tempfile.mkdtemp(prefix="fraiseql-test-pg-"))
    embedded = EmbeddedPostgres(root / "data", fast_unsafe=True)
    return TestServer(embedded.start(), embedded)


def stop_test_server(server: TestServer) -> None:
    """Stop and delete an embedded test server; leave an external one alone."""
    if server.embedded is None:
        return
    server.embedded.stop()
    shutil.rmtree(server.embedded.data_dir.parent, ignore_errors=True)


def unique_database_name(prefix: str = "fraiseql_test") -> str:
    """A database name no other test (or test process) uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def create_database(server: TestServer, name: str, *, template: str | None = None) -> str:
    """Create ``name`` (a copy of ``template`` if given) and return its URL."""
    sql = f"CREATE DATABASE {quote_ident(name)}"
    if template is not None:
        sql += f" TEMPLATE {quote_ident(template)}"
        # The embedded test server runs with fsync=off, where copying files beats the
        # default WAL_LOG strategy (~45 vs ~70 ms); an external server may predate
        # STRATEGY (PostgreSQL 15) or pay for the checkpoints FILE_COPY forces.
        if server.embedded is not None:
            sql += " STRATEGY FILE_COPY"
    await _admin(server, sql)
    return server.url(name)


async def drop_database(server: TestServer, name: str) -> None:
    """Drop ``name`` if it exists (template or not), closing sessions a test left open."""
    conn = await asyncpg.connect(server.admin_url)
    try:
        if await conn.fetchval("SELECT datistemplate FROM pg_database WHERE datname = $1", name):
            await conn.execute(f"ALTER DATABASE {quote_ident(name)} IS_TEMPLATE false")
        await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()


async def build_template(server: TestServer, name: str, migrations: Path | None) -> None:
    """(Re)create template database ``name``: framework SQL, then ``migrations`` if given."""
    await drop_database(server, name)
    url = await create_database(server, name)
    conn = await asyncpg.connect(url)
    try:
        await install_framework(conn)
        if migrations is not None:
            await apply_migrations(conn, migrations)
    finally:
        await conn.close()
    # CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template:
    # refusing connections turns a stray one into an immediate, clear error.
    await _admin(server, f"ALTER DATABASE {quote_ident(name)} IS_TEMPLATE true ALLOW_CONNECTIONS false")


async def _admin(server: TestServer, sql: str) -> None:
    conn = await asyncpg.connect(server.admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TestServer]:
    """One PostgreSQL server for the whole test session."""
    server = start_test_server()
    try:
        yield server
    finally:
        stop_test_server(server)


@pytest_asyncio.fixture(loop_scope="session")
async def empty_db_url(pg_server: TestServer) -> AsyncIterator[str]:
    """A new database with nothing installed, dropped after the test."""
    name = unique_database_name("fraiseql_empty")
    url = await create_database(pg_server, name)
    yield url
    await drop_database(pg_server, name)
