"""A small database built to catch ordering and paging mistakes.

60 items whose sort keys have nulls (label, score, owner, owner.level), ties
(rank: 4 values; label: 13), and numbers that sort differently as text
(score 9 < 10 < 100 < 110). ``v_item`` has real ``id`` and ``created_at`` columns;
``v_item_doc`` has only ``data`` (the path without an id column). Expected orders
are asked of ``tb_item`` in plain SQL.
"""

from __future__ import annotations

import datetime

import fraiseql
from fraiseql import ID

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


@fraiseql.query
def items() -> list[Item]:
    """Items."""


@fraiseql.query
def item_docs() -> list[ItemDoc]:
    """Items read from data only."""


schema = fraiseql.build_schema(queries=[items, item_docs], max_page_size=50)
