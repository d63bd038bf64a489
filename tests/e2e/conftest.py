"""End-to-end fixtures: the blog app over HTTP (in-process, or on a real socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql.http.app import FraiseQLApp
from fraiseql.testing.client import AppClient


@pytest.fixture(scope="session")
def make_blog_app() -> Callable[..., FraiseQLApp]:
    """Build a blog app for a database URL (settings as keyword overrides)."""
    def make(database_url: str, **settings: Any) -> FraiseQLApp:
        return fraiseql.create_app(blog_schema, database_url=database_url, **settings)
    return make


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def blog_client(blog_db_url: str,
                      make_blog_app: Callable[..., FraiseQLApp]) -> AsyncIterator[AppClient]:
    """The blog app on the shared read-only database, in-process."""
    async with AppClient(make_blog_app(blog_db_url)) as client:
        yield client
