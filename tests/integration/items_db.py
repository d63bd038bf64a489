"""A small database built to catch ordering and paging mistakes.

60 items whose sort keys have nulls (label, score, owner, owner.level), ties
(rank: 4 values; label: 13), and numbers that sort differently as text
(score 9 < 10 < 100 < 110). ``v_item`` has real ``id`` and ``created_at`` columns;
``v_item_doc`` has only ``data`` (the path without an id column); ``v_event``'s
timestamps carry mixed offsets, so their text order is not their time order. Expected orders
are asked of ``tb_item`` in plain SQL.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

import fraiseql
from fraiseql import ID
from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)

SCHEMA_SQL = """
CREATE TABLE tb_item (
    id uuid PRIMARY KEY, label text, score numeric, rank int NOT NULL,
    created_at timestamptz NOT NULL UNIQUE, owner jsonb);
INSERT INTO tb_item
SELECT md5('item-' || i)::uuid,
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'L' || (i % 13) END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE (ARRAY[9, 10, 100, 110, 2.5, 9])[1 + i % 6] END,
       i % 4,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour',
       CASE WHEN i % 11 = 0 THEN NULL
            ELSE jsonb_build_object('name', (ARRAY['ann', 'bob', 'cy'])[1 + i % 3],
                                    'level', CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 * 10 - 5 END)
       END
FROM generate_series(1, 60) AS i;
CREATE VIEW v_item AS
SELECT id, created_at, jsonb_build_object(
    'id', id, 'label', label, 'score', score, 'rank', rank, 'created_at', created_at,
    'owner', owner) AS data
FROM tb_item;
CREATE VIEW v_item_doc AS SELECT data FROM v_item;
-- Timestamps with mixed offsets: text order is not time order.
CREATE VIEW v_event AS
SELECT md5('event-' || n)::uuid AS id,
       jsonb_build_object('id', md5('event-' || n)::uuid, 'at', at, 'seq', n) AS data
FROM (VALUES (1, '2024-01-01T10:00:00+05:00'), (2, '2024-01-01T06:00:00+00:00'),
             (3, '2024-01-01T04:30:00-01:00'), (4, '2024-01-01T05:00:00Z')) AS e(n, at);
"""


@fraiseql.type
class Owner:
    name: str
    level: int | None


@fraiseql.type(sql_source="v_item")
class Item:
    id: ID
    label: str | None
    score: float | None
    rank: int
    created_at: datetime.datetime
    owner: Owner | None


@fraiseql.type(sql_source="v_item_doc")
class ItemDoc:
    id: ID
    label: str | None
    score: float | None
    rank: int
    created_at: datetime.datetime
    owner: Owner | None


@fraiseql.type(sql_source="v_event")
class Event:
    id: ID
    at: datetime.datetime
    seq: int


@fraiseql.query
def events() -> list[Event]:
    """Events."""


@fraiseql.query
def items() -> list[Item]:
    """Items."""


@fraiseql.query
def item_docs() -> list[ItemDoc]:
    """Items read from data only."""


schema = fraiseql.build_schema(queries=[items, item_docs, events], max_page_size=50)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def items_url(pg_server: TestServer) -> AsyncIterator[str]:
    """A database with SCHEMA_SQL loaded, for one test module (import this fixture)."""
    name = unique_database_name("fraiseql_items")
    url = await create_database(pg_server, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SCHEMA_SQL)
    finally:
        await conn.close()
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(items_url: str) -> AsyncIterator[AppClient]:
    """The items app on the module's database (import this fixture with items_url)."""
    async with AppClient(fraiseql.create_app(schema, database_url=items_url)) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(items_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the module's database, for the expected answers in plain SQL."""
    conn = await asyncpg.connect(items_url)
    yield conn
    await conn.close()
