"""An export (a query with a raised page cap) streams 100,000 rows in chunks;
small pages of the same query stay buffered; an error part-way still ends in
valid JSON that reports it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import orjson
import pytest_asyncio

import fraiseql
from fraiseql.testing.client import AppClient

VIEWS = """
CREATE TABLE tb_number (id int PRIMARY KEY, label text NOT NULL);
INSERT INTO tb_number SELECT n, 'row ' || n FROM generate_series(1, 100000) AS n;
CREATE VIEW v_number AS
  SELECT id, jsonb_build_object('id', id, 'label', label) AS data FROM tb_number;
CREATE VIEW v_broken_number AS
  SELECT id, jsonb_build_object('id', id, 'label', label,
                                'half', CASE WHEN id = 77777 THEN 1 / (id - id) END) AS data
  FROM tb_number;
"""


@fraiseql.type(sql_source="v_number")
class Number:
    """A row of an export."""

    id: int
    label: str


@fraiseql.type(sql_source="v_broken_number")
class BrokenNumber:
    """A row whose view fails at row 77,777."""

    id: int
    half: int | None


@fraiseql.query(max_page_size=100_000)
def numbers(limit: int = 100, offset: int = 0) -> list[Number]:
    """Every number: an export."""


@fraiseql.query(max_page_size=100_000)
def broken_numbers(limit: int = 100) -> list[BrokenNumber]:
    """An export that fails part-way."""


SCHEMA = fraiseql.build_schema(queries=[numbers, broken_numbers])


@pytest_asyncio.fixture(loop_scope="session")
async def client(empty_db_url: str) -> AsyncIterator[AppClient]:
    conn = await asyncpg.connect(empty_db_url)
    await conn.execute(VIEWS)
    await conn.close()
    async with AppClient(fraiseql.create_app(SCHEMA, database_url=empty_db_url)) as client:
        yield client


async def _post(client: AppClient, query: str) -> httpx.Response:
    return await client.post_graphql(query)


async def test_a_large_page_is_streamed_in_order(client: AppClient) -> None:
    response = await _post(client, "{ numbers(limit: 100000) { id label } }")
    assert response.status_code == 200
    assert "content-length" not in response.headers  # sent in chunks
    rows = orjson.loads(response.content)["data"]["numbers"]
    assert len(rows) == 100_000
    assert rows[0] == {"id": 1, "label": "row 1"} and rows[-1]["id"] == 100_000
    assert [r["id"] for r in rows] == list(range(1, 100_001))


async def test_a_small_page_of_the_same_query_is_buffered(client: AppClient) -> None:
    response = await _post(client, "{ numbers(limit: 10, offset: 5) { id } }")
    assert response.headers["content-length"] == str(len(response.content))
    assert [r["id"] for r in response.json()["data"]["numbers"]] == list(range(6, 16))


async def test_an_error_part_way_closes_the_json_and_reports_it(client: AppClient) -> None:
    response = await _post(client, "{ brokenNumbers(limit: 100000) { id half } }")
    body = orjson.loads(response.content)  # still valid JSON
    rows = body["data"]["brokenNumbers"]
    assert rows[:2] == [{"id": 1, "half": None}, {"id": 2, "half": None}]
    assert 0 < len(rows) < 77_777 and rows == [{"id": i, "half": None}
                                               for i in range(1, len(rows) + 1)]
    assert [e["path"] for e in body["errors"]] == [["brokenNumbers"]]
