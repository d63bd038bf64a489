"""Shared fixtures: one PostgreSQL server per session, the blog example as a template."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

# Before the import below: the plugin module is imported here first, and pytest
# can only rewrite its asserts if told before that happens.
pytest.register_assert_rewrite("fraiseql.testing")

from fraiseql.testing.postgres import (
    TestServer,
    build_template,
    create_database,
    drop_database,
    unique_database_name,
)

pytest_plugins = ["fraiseql.testing.postgres"]

BLOG_MIGRATIONS = Path(__file__).resolve().parents[1] / "examples" / "blog" / "db"
BLOG_TEMPLATE = "fraiseql_blog_template"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def blog_template(pg_server: TestServer) -> str:
    """Name of the template database: framework SQL plus examples/blog/db/*.sql."""
    await build_template(pg_server, BLOG_TEMPLATE, BLOG_MIGRATIONS)
    return BLOG_TEMPLATE


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def blog_db_url(pg_server: TestServer, blog_template: str) -> AsyncIterator[str]:
    """One clone of the blog template shared by the session's read-only tests."""
    name = unique_database_name("fraiseql_blog_ro")
    url = await create_database(pg_server, name, template=blog_template)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_blog_db_url(pg_server: TestServer, blog_template: str) -> AsyncIterator[str]:
    """A clone of the blog template for one test that writes; dropped afterwards."""
    name = unique_database_name("fraiseql_blog")
    url = await create_database(pg_server, name, template=blog_template)
    yield url
    await drop_database(pg_server, name)
