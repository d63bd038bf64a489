"""Relay connections: every page forward and backward equals the same query in plain SQL.

Most walks run on a small database built to catch mistakes (tests/integration/
items_db.py: nullable keys, ties, numbers that sort differently as text); a few
run on the blog example (examples/blog/DATA.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql.testing.client import AppClient
from tests.integration.items_db import client, db, items_url  # noqa: F401 - fixtures

# orderBy (GraphQL) -> the same order on tb_item in SQL (the id tiebreak is ascending).
ORDERINGS = [
    ("[]", "id"),
    ("{score: ASC}", "score ASC NULLS LAST, id ASC"),
    ("{score: DESC}", "score DESC NULLS FIRST, id"),
    ("[{rank: ASC}, {score: DESC_NULLS_LAST}]", "rank, score DESC NULLS LAST, id"),
    ("[{label: ASC_NULLS_FIRST}, {rank: DESC}]", "label ASC NULLS FIRST, rank DESC, id"),
    ("[{rank: DESC}, {label: ASC_NULLS_LAST}]", "rank DESC, label ASC NULLS LAST, id"),
    ("[{owner: {level: DESC_NULLS_LAST}}, {owner: {name: ASC}}]",
     "(owner->>'level')::numeric DESC NULLS LAST, owner->>'name' ASC NULLS LAST, id"),
    ("{createdAt: DESC}", "created_at DESC, id"),
    ("[{rank: DESC}, {id: DESC}]", "rank DESC, id DESC"),
    ("[{rank: ASC}, {createdAt: ASC}]", "rank, created_at, id"),
]


PAGE = """query ($first: Int, $after: String, $last: Int, $before: String) {
  c: %s(first: $first, after: $after, last: $last, before: $before, orderBy: %s%s) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def page(client: AppClient, field: str, order_by: str, where: str = "",
               **variables: Any) -> dict[str, Any]:
    query = PAGE % (field, order_by, f", where: {where}" if where else "")
    return (await client.data(query, variables))["c"]  # type: ignore[no-any-return]


async def walk(client: AppClient, field: str, order_by: str, size: int, where: str = "",
               backward: bool = False) -> tuple[list[str], set[int]]:
    """Every id, page by page, in the requested order; and the totalCounts seen."""
    ids: list[str] = []
    totals: set[int] = set()
    cursor: str | None = None
    for _ in range(100):
        if backward:
            result = await page(client, field, order_by, where, last=size, before=cursor)
        else:
            result = await page(client, field, order_by, where, first=size, after=cursor)
        totals.add(result["totalCount"])
        edge_ids = [e["node"]["id"] for e in result["edges"]]
        info = result["pageInfo"]
        assert len(edge_ids) <= size
        if edge_ids:
            assert info["startCursor"] == result["edges"][0]["cursor"]
            assert info["endCursor"] == result["edges"][-1]["cursor"]
        else:
            assert info["startCursor"] is None and info["endCursor"] is None
        if backward:
            ids = edge_ids + ids
            assert info["hasNextPage"] == (cursor is not None)
            if not info["hasPreviousPage"]:
                return ids, totals
            assert len(edge_ids) == size
            cursor = info["startCursor"]
        else:
            ids += edge_ids
            assert info["hasPreviousPage"] == (cursor is not None)
            if not info["hasNextPage"]:
                return ids, totals
            assert len(edge_ids) == size
            cursor = info["endCursor"]
    raise AssertionError("more than 100 pages")


async def sql_ids(db: asyncpg.Connection, order: str, where: str = "TRUE") -> list[str]:
    rows = await db.fetch(f"SELECT id::text FROM tb_item WHERE {where} ORDER BY {order}")
    return [r[0] for r in rows]


@pytest.mark.parametrize(("order_by", "order"), ORDERINGS)
async def test_walk_forward_and_backward_equals_sql(client: AppClient, db: asyncpg.Connection,
                                                   order_by: str, order: str) -> None:
    expected = await sql_ids(db, order)
    assert len(expected) == 60
    forward, totals = await walk(client, "itemsConnection", order_by, 7)
    assert forward == expected and totals == {60}
    backward, totals = await walk(client, "itemsConnection", order_by, 7, backward=True)
    assert backward == expected and totals == {60}


@pytest.mark.parametrize(("order_by", "order"), [ORDERINGS[3], ORDERINGS[4], ORDERINGS[6]])
async def test_walk_on_a_source_without_id_column(client: AppClient, db: asyncpg.Connection,
                                                  order_by: str, order: str) -> None:
    expected = await sql_ids(db, order)
    forward, _ = await walk(client, "itemDocsConnection", order_by, 9)
    backward, _ = await walk(client, "itemDocsConnection", order_by, 9, backward=True)
    assert forward == expected == backward


async def test_walk_with_a_filter_counts_the_filtered_set(client: AppClient,
                                                          db: asyncpg.Connection) -> None:
    where = "{rank: {neq: 3}, score: {isnull: false}}"
    expected = await sql_ids(db, "score DESC, id", "rank <> 3 AND score IS NOT NULL")
    count = await db.fetchval("SELECT count(*) FROM tb_item WHERE rank <> 3 AND score IS NOT NULL")
    assert len(expected) == count == 36
    forward, totals = await walk(client, "itemsConnection", "{score: DESC}", 5, where)
    assert forward == expected and totals == {count}
    backward, totals = await walk(client, "itemsConnection", "{score: DESC}", 5, where,
                                  backward=True)
    assert backward == expected and totals == {count}


async def test_a_page_between_after_and_before(client: AppClient, db: asyncpg.Connection) -> None:
    expected = await sql_ids(db, "score ASC NULLS LAST, id ASC")
    every = await page(client, "itemsConnection", "{score: ASC}", first=50)
    cursors = [e["cursor"] for e in every["edges"]]
    between = await page(client, "itemsConnection", "{score: ASC}", first=3,
                         after=cursors[10], before=cursors[20])
    assert [e["node"]["id"] for e in between["edges"]] == expected[11:14]
    assert between["pageInfo"]["hasNextPage"] and between["pageInfo"]["hasPreviousPage"]
    tail = await page(client, "itemsConnection", "{score: ASC}", last=4,
                      after=cursors[10], before=cursors[20])
    assert [e["node"]["id"] for e in tail["edges"]] == expected[16:20]
    assert tail["pageInfo"]["hasNextPage"] and tail["pageInfo"]["hasPreviousPage"]


async def test_cursor_past_the_end_gives_an_empty_page(client: AppClient) -> None:
    last = await page(client, "itemsConnection", "{score: DESC}", last=1)
    end = last["edges"][0]["cursor"]
    past = await page(client, "itemsConnection", "{score: DESC}", first=5, after=end)
    assert past["edges"] == []
    assert past["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True,
                                "startCursor": None, "endCursor": None}
    assert past["totalCount"] == 60
    first = await page(client, "itemsConnection", "{score: DESC}", first=1)
    before_start = await page(client, "itemsConnection", "{score: DESC}", last=5,
                              before=first["edges"][0]["cursor"])
    assert before_start["edges"] == [] and before_start["pageInfo"]["hasPreviousPage"] is False
    assert before_start["pageInfo"]["hasNextPage"] is True


async def test_first_zero_and_defaults(client: AppClient, db: asyncpg.Connection) -> None:
    zero = await page(client, "itemsConnection", "{rank: ASC}", first=0)
    assert zero["edges"] == [] and zero["pageInfo"]["hasNextPage"] is True
    # Neither first nor last: the first page of the cap (50 here).
    default = await page(client, "itemsConnection", "{rank: ASC}")
    expected = await sql_ids(db, "rank, id")
    assert [e["node"]["id"] for e in default["edges"]] == expected[:50]
    assert default["pageInfo"]["hasNextPage"] is True


async def errors(client: AppClient, query: str, variables: dict[str, Any] | None = None
                 ) -> list[dict[str, Any]]:
    response = await client.post_graphql(query, variables)
    assert response.status_code == 200
    body = response.json()
    assert body.get("data") is None, body
    return body["errors"]  # type: ignore[no-any-return]


def tamper(cursor: str, edit: Any) -> str:
    values = json.loads(base64.b64decode(cursor))
    return base64.b64encode(json.dumps(edit(values)).encode()).decode()


async def test_bad_cursors_are_bad_user_input(client: AppClient) -> None:
    first = await page(client, "itemsConnection", "{score: ASC}", first=2)
    cursor = first["edges"][1]["cursor"]
    query = PAGE % ("itemsConnection", "{score: DESC}", "")
    bad = [
        cursor,  # made for another orderBy
        "not a cursor!",
        cursor[:-4],  # truncated
        base64.b64encode(b"[1, 2").decode(),
        tamper(cursor, lambda v: v[:-1]),  # a key missing
        tamper(cursor, lambda v: [v[0], "nine", v[2]]),  # a number that is not one
        tamper(cursor, lambda v: [v[0], v[1], "not-a-uuid"]),
        tamper(cursor, lambda v: [v[0], v[1], None]),  # null id
    ]
    good = await page(client, "itemsConnection", "{score: DESC}", first=2)
    same_order = good["edges"][1]["cursor"]
    bad += [tamper(same_order, lambda v: [v[0], "nine", v[2]]),
            tamper(same_order, lambda v: ["0" * 12, *v[1:]])]
    for which in ("after", "before"):
        for value in bad:
            variables = {which: value, "first" if which == "after" else "last": 3}
            errs = await errors(client, query, variables)
            assert [e["extensions"]["code"] for e in errs] == ["BAD_USER_INPUT"], (value, errs)
            assert f"{which} on c" in errs[0]["message"] or which in errs[0]["message"]


async def test_cursor_literal_in_the_document_is_checked(client: AppClient) -> None:
    errs = await errors(client, '{ itemsConnection(after: "xyz") { totalCount } }')
    assert errs[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "after on itemsConnection is not a cursor" in errs[0]["message"]


@pytest.mark.parametrize(("arguments", "message"), [
    ("first: 1, last: 1", "itemsConnection: pass first or last, not both"),
    ("first: 51", "first on itemsConnection must be between 0 and 50, got 51"),
    ("last: -1", "last on itemsConnection must be between 0 and 50, got -1"),
    ("orderBy: [{rank: ASC, score: ASC}]", "orderBy[0] must set exactly one field"),
    ("orderBy: [{}]", "orderBy[0] must set exactly one field, got 0 (none)"),
    ("orderBy: [{rank: ASC}, {owner: {}}]", "orderBy[1].owner must set exactly one field"),
])
async def test_bad_arguments_are_bad_user_input(client: AppClient, arguments: str,
                                                message: str) -> None:
    errs = await errors(client, f"{{ itemsConnection({arguments}) {{ totalCount }} }}")
    assert errs[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in errs[0]["message"]
    # The same through variables: checked when the cached plan is bound.
    if arguments == "first: 51":
        errs = await errors(client, "query ($n: Int) { itemsConnection(first: $n) { totalCount } }",
                            {"n": 51})
        assert errs[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_total_count_only_when_selected(client: AppClient) -> None:
    engine = client.app.engine
    without = engine.compile("{ itemsConnection(first: 3) { edges { node { id } } } }")
    with_count = engine.compile("{ itemsConnection(first: 3) { totalCount } }")
    assert "count(*)" not in without.roots[0].sql.replace("(SELECT count(*) FROM page)", "")
    assert "count(*) FROM page" not in without.roots[0].sql  # pageInfo not selected either
    assert "count(*) FROM \"v_item\"" in with_count.roots[0].sql
    assert "WITH page" not in with_count.roots[0].sql  # the count alone reads no page
    data = await client.data("{ itemsConnection(first: 3) { totalCount t: totalCount } }")
    assert data == {"itemsConnection": {"totalCount": 60, "t": 60}}


async def test_selection_shapes(client: AppClient, db: asyncpg.Connection) -> None:
    expected = await sql_ids(db, "created_at DESC, id")
    data = await client.data("""{ itemsConnection(last: 2, orderBy: {createdAt: ASC}) {
        __typename
        pageInfo { __typename hasPreviousPage }
        a: edges { __typename node { id } }
        b: edges { n: node { rank ...F } }
      } }
      fragment F on Item { owner { name } }""")
    conn = data["itemsConnection"]
    assert conn["__typename"] == "ItemConnection"
    assert conn["pageInfo"] == {"__typename": "PageInfo", "hasPreviousPage": True}
    assert conn["a"] == [{"__typename": "ItemEdge", "node": {"id": expected[1]}},
                         {"__typename": "ItemEdge", "node": {"id": expected[0]}}]
    row = await db.fetchrow("SELECT rank, owner->>'name' AS name FROM tb_item WHERE id = $1",
                            __import__("uuid").UUID(expected[0]))
    assert conn["b"][1] == {"n": {"rank": row["rank"], "owner": None if row["name"] is None
                                  else {"name": row["name"]}}}


async def test_one_statement_per_connection(client: AppClient) -> None:
    plan = client.app.engine.compile(
        "{ itemsConnection(first: 2, orderBy: {score: DESC}) { totalCount edges { cursor } "
        "pageInfo { hasNextPage } } itemsCount }")
    assert [r.kind for r in plan.roots] == ["sql", "sql"]
    assert plan.roots[0].sql.count("SELECT") >= 1 and ";" not in plan.roots[0].sql


# --- the blog example -------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def blog(blog_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(blog_schema, database_url=blog_db_url)) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def blog_db(blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(blog_db_url, server_settings={"TimeZone": "UTC"})
    yield conn
    await conn.close()


@pytest.mark.parametrize(("order_by", "order"), [
    ("[{rating: DESC_NULLS_LAST}, {viewCount: ASC}]",
     "(data->>'rating')::numeric DESC NULLS LAST, (data->>'view_count')::numeric, id"),
    ("[{publishedAt: ASC_NULLS_FIRST}]",
     "(data->>'published_at')::timestamptz ASC NULLS FIRST, id"),
    ("[{author: {fullName: DESC}}, {createdAt: DESC}]",
     "data->'author'->>'full_name' DESC, created_at DESC, id"),
])
async def test_blog_posts_of_one_author(blog: AppClient, blog_db: asyncpg.Connection,
                                        order_by: str, order: str) -> None:
    """user-1's 302 posts (DATA.md), walked 40 at a time both ways."""
    where = '{author: {username: {eq: "liam.nguyen1"}}}'
    rows = await blog_db.fetch(f"SELECT id::text FROM tv_post WHERE "
                               f"data->'author'->>'username' = 'liam.nguyen1' ORDER BY {order}")
    expected = [r[0] for r in rows]
    assert len(expected) == 302
    forward, totals = await walk(blog, "postsConnection", order_by, 40, where)
    assert forward == expected and totals == {302}
    backward, totals = await walk(blog, "postsConnection", order_by, 40, where, backward=True)
    assert backward == expected and totals == {302}


@pytest.mark.parametrize(("order_by", "index_cond"), [
    # One direction: a row comparison, which the index on created_at serves for its prefix.
    ("[{createdAt: ASC}]", "created_at >="),
    ("[{createdAt: DESC}, {id: DESC}]", "created_at <="),
    # Mixed (the id tiebreak goes up): the first key's own bound in front of the expansion.
    ("[{createdAt: DESC}]", "created_at <="),
])
async def test_keyset_pages_read_an_index(blog: AppClient, blog_db: asyncpg.Connection,
                                          order_by: str, index_cond: str) -> None:
    query = (f"query ($after: String) {{ postsConnection(first: 10, after: $after, "
             f"orderBy: {order_by}) {{ edges {{ cursor node {{ id title }} }} }} }}")
    first = (await blog.data(query))["postsConnection"]["edges"]
    variables = {"after": first[-1]["cursor"]}
    engine = blog.app.engine
    plan = engine.compile(query, variables)
    explained = "\n".join(r[0] for r in await blog_db.fetch(
        f"EXPLAIN {plan.roots[0].sql}", *engine.bind(plan, variables)[0]))
    conditions = [line.strip() for line in explained.replace('"', "").splitlines()
                  if line.strip().startswith("Index Cond")]
    assert "tv_post_created_at_idx" in explained and "Seq Scan" not in explained, explained
    assert any(c.startswith(f"Index Cond: ({index_cond}") for c in conditions), explained
