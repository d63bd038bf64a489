"""The GraphQL in the READMEs runs: every ```graphql block that reads the blog example
is sent to the blog app on the seeded database and must answer without errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql.testing.client import AppClient

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)


def blog_blocks() -> list[tuple[str, str]]:
    """(id, document) for every block whose root fields are all the blog's queries."""
    roots = set(blog_schema.graphql.query_type.fields)  # type: ignore[union-attr]
    found = []
    for readme in ("README.md", "examples/blog/README.md"):
        text = (ROOT / readme).read_text()
        for number, match in enumerate(BLOCK.finditer(text), start=1):
            document = match.group(1)
            if document.lstrip().startswith("mutation"):
                continue
            names = set(re.findall(r"^\s*(?:\w+:\s*)?(\w+)\s*[({]", document, re.M))
            if names & roots and not any(n.endswith("Aggregate") for n in names):
                found.append((f"{readme}#{number}", document))
    return found


BLOCKS = blog_blocks()


def test_the_readmes_have_blog_queries_to_check() -> None:
    assert len(BLOCKS) >= 5, [name for name, _ in BLOCKS]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(blog_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(blog_schema, database_url=blog_db_url)) as c:
        yield c


@pytest.mark.parametrize(("name", "document"), BLOCKS, ids=[name for name, _ in BLOCKS])
async def test_a_readme_query_answers_without_errors(client: AppClient, name: str,
                                                     document: str) -> None:
    response = await client.post_graphql(document)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, (name, body)
    assert body["data"] and all(value is not None for value in body["data"].values()), name
