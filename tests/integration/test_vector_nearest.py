"""``nearest: {field, vector, k, metric}`` on list queries, against pgvector.

Every case runs on two sources of the same rows: ``v_doc_cols`` (a real
``vector(3)`` column, with an HNSW index, and an id column) and ``v_doc_data``
(only ``data``: the vector is read from JSONB and the id tiebreak too). The
expected ids are computed here in Python: distance, then id.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)


def uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


# n -> (category, embedding, alt). Duplicated vectors (3/13, 5/15/16, 8/18) tie on every
# metric; 9 is all zeros (no cosine distance); 10 has no embedding at all.
ROWS: dict[int, tuple[str, list[float] | None, list[float]]] = {
    1: ("a", [1, 0, 0], [0, 0, 1]),
    2: ("b", [0, 1, 0], [0, 1, 0]),
    3: ("a", [1, 1, 0], [1, 0, 0]),
    4: ("b", [2, 0, 1], [2, 2, 2]),
    5: ("a", [0, 0, 1], [1, 2, 0]),
    6: ("b", [-1, 0, 0], [0, 0, -1]),
    7: ("a", [1, 2, 3], [3, 2, 1]),
    8: ("b", [0.5, 0.5, 0.5], [1, 1, 0]),
    9: ("a", [0, 0, 0], [1, 0, 0]),
    10: ("b", None, [0, 1, 1]),
    11: ("a", [2, -1, 0], [0, 2, 0]),
    12: ("b", [-1, -1, -1], [1, 1, 1]),
    13: ("a", [1, 1, 0], [2, 0, 0]),
    14: ("b", [3, 0, 0], [0, 3, 0]),
    15: ("a", [0, 0, 1], [1, 2, 2]),
    16: ("b", [0, 0, 1], [2, 1, 0]),
    17: ("a", [1, -2, 2], [0, 1, 2]),
    18: ("b", [0.5, 0.5, 0.5], [2, 0, 1]),
    19: ("a", [4, 1, 0], [1, 1, 2]),
    20: ("b", [-2, 1, 1], [3, 0, 1]),
}

SETUP = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE tb_doc (id uuid PRIMARY KEY, data jsonb NOT NULL, embedding vector(3),
                     alt vector(3));
CREATE VIEW v_doc_cols AS SELECT id, data, embedding FROM tb_doc;
CREATE VIEW v_doc_data AS SELECT data FROM tb_doc;
CREATE VIEW v_doc_two AS SELECT id, data FROM tb_doc;
CREATE INDEX tb_doc_embedding_cosine ON tb_doc USING hnsw (embedding vector_cosine_ops);
CREATE INDEX tb_doc_embedding_l2 ON tb_doc USING hnsw (embedding vector_l2_ops);
CREATE INDEX tb_doc_embedding_ip ON tb_doc USING hnsw (embedding vector_ip_ops);
"""


async def _create(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SETUP)
        for n, (category, embedding, alt) in ROWS.items():
            data = {"id": uid(n), "title": f"doc {n}", "category": category,
                    "embedding": embedding, "alt": alt}
            await conn.execute(
                "INSERT INTO tb_doc VALUES ($1::uuid, $2::jsonb, $3::text::vector, "
                "$4::text::vector)", uid(n), json.dumps(data),
                None if embedding is None else json.dumps(embedding), json.dumps(alt))
        await conn.execute("ANALYZE tb_doc")
    finally:
        await conn.close()


@fraiseql.type(sql_source="v_doc_cols")
class NearDoc:
    id: fraiseql.ID
    title: str
    category: str
    embedding: fraiseql.Vector | None


@fraiseql.type(sql_source="v_doc_data")
class NearDocData:
    id: fraiseql.ID
    title: str
    category: str
    embedding: fraiseql.Vector | None


@fraiseql.type(sql_source="v_doc_two")
class NearDocTwo:
    id: fraiseql.ID
    embedding: fraiseql.Vector | None
    alt: fraiseql.Vector


@fraiseql.type(sql_source="v_doc_cols")
class NearPlain:
    id: fraiseql.ID
    title: str


@fraiseql.query
def docs() -> list[NearDoc]: ...


@fraiseql.query
def doc_data() -> list[NearDocData]: ...


@fraiseql.query
def doc_two() -> list[NearDocTwo]: ...


@fraiseql.query(max_page_size=10)
def capped_docs() -> list[NearDoc]: ...


@fraiseql.query
def plain_docs() -> list[NearPlain]: ...


SCHEMA = fraiseql.build_schema([docs, doc_data, doc_two, capped_docs, plain_docs])
ROOTS = ("docs", "docData")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def nearest_db_url(pg_server: TestServer) -> AsyncIterator[str]:
    name = unique_database_name("fraiseql_nearest")
    url = await create_database(pg_server, name)
    await _create(url)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(nearest_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(SCHEMA, database_url=nearest_db_url)) as c:
        yield c


# --- the expected order, computed in Python ---------------------------------------------


def _distance(metric: str, a: list[float], b: list[float]) -> float | None:
    """pgvector's arithmetic, step for step: with components that are small integers or
    halves every sum is exact, so equal distances are equal bit for bit (true ties)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    if metric == "COSINE":
        norms = sum(x * x for x in a) * sum(y * y for y in b)
        if norms == 0:
            return None  # no direction: left out
        return 1 - max(-1.0, min(1.0, dot / math.sqrt(norms)))
    if metric == "L2":
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))
    return -dot  # pgvector's <#>: the negative inner product


def expected(metric: str, vector: list[float], k: int, category: str | None = None,
             column: int = 1) -> list[int]:
    """Row numbers by distance, then id; rows without a distance are left out."""
    ranked = []
    for n, row in ROWS.items():
        value = row[column]
        if value is None or (category is not None and row[0] != category):
            continue
        distance = _distance(metric, vector, value)  # type: ignore[arg-type]
        if distance is not None:
            ranked.append((distance, uid(n), n))
    return [n for _, _, n in sorted(ranked)][:k]


async def nearest(client: AppClient, root: str, arguments: str,
                  variables: dict[str, Any] | None = None, decl: str = "") -> list[int]:
    data = await client.data(f"query {decl} {{ {root}({arguments}) {{ id }} }}", variables)
    return [int(item["id"][-12:]) for item in data[root]]


async def error_of(client: AppClient, query: str) -> dict[str, Any]:
    response = await client.post_graphql(query)
    body = response.json()
    assert response.status_code == 200 and "errors" in body, body
    assert not (body.get("data") or {}).get("docs"), body
    return body["errors"][0]  # type: ignore[no-any-return]


# --- ordering -----------------------------------------------------------------------------

METRICS = ("COSINE", "L2", "INNER_PRODUCT")
VECTORS = ([1, 0, 0], [1, 2, -1], [0, 1, 2])


def test_the_expectations_have_ties_and_leave_rows_out() -> None:
    # The fixture exercises what it claims: tied rows come back by id, and cosine
    # leaves out the zero vector (9) and the missing one (10); L2 only the missing one.
    assert expected("L2", [0, 0, 1], 3) == [5, 15, 16]
    # cosine to [1, 0, 0] is 1 - x/|v|: 0 (1, 14), 0.03 (19), 0.106 (4, 11), 0.293 (3, 13),
    # 0.423 (8, 18), 0.667 (17), 0.733 (7), 1 (2, 5, 15, 16), 1.577 (12), 1.816 (20), 2 (6)
    assert expected("COSINE", [1, 0, 0], 20) == [1, 14, 19, 4, 11, 3, 13, 8, 18, 17, 7, 2,
                                                 5, 15, 16, 12, 20, 6]
    assert 9 in expected("L2", [1, 0, 0], 20) and 10 not in expected("L2", [1, 0, 0], 20)


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("vector", VECTORS, ids=str)
async def test_nearest_first_then_id(client: AppClient, root: str, metric: str,
                                     vector: list[float]) -> None:
    for k in (1, 4, 20):
        got = await nearest(client, root, f"nearest: {{vector: {vector}, k: {k}, "
                                          f"metric: {metric}}}")
        assert got == expected(metric, vector, k), (k, got)


@pytest.mark.parametrize("root", ROOTS)
async def test_cosine_is_the_default_metric(client: AppClient, root: str) -> None:
    got = await nearest(client, root, "nearest: {vector: [1, 2, -1], k: 6}")
    assert got == expected("COSINE", [1, 2, -1], 6)
    assert got != expected("L2", [1, 2, -1], 6)  # the case tells the metrics apart


@pytest.mark.parametrize("root", ROOTS)
async def test_inner_product_puts_the_largest_product_first(client: AppClient,
                                                            root: str) -> None:
    # [4, 1, 0].[1, 0, 0] = 4 is the largest; [3, 0, 0] next with 3.
    assert await nearest(client, root, "nearest: {vector: [1, 0, 0], k: 2, "
                                       "metric: INNER_PRODUCT}") == [19, 14]


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("metric", METRICS)
async def test_where_filters_first_then_k_nearest(client: AppClient, root: str,
                                                  metric: str) -> None:
    got = await nearest(client, root, f'where: {{category: {{eq: "b"}}}}, '
                                      f'nearest: {{vector: [1, 2, -1], k: 3, metric: {metric}}}')
    assert got == expected(metric, [1, 2, -1], 3, category="b")
    assert all(ROWS[n][0] == "b" for n in got) and len(got) == 3


@pytest.mark.parametrize("root", ROOTS)
async def test_limit_and_offset_page_within_the_k_nearest(client: AppClient,
                                                          root: str) -> None:
    top = expected("L2", [1, 0, 0], 7)
    page = "nearest: {vector: [1, 0, 0], k: 7, metric: L2}"
    assert await nearest(client, root, f"{page}, limit: 3, offset: 2") == top[2:5]
    assert await nearest(client, root, f"{page}, limit: 5, offset: 5") == top[5:7]
    assert await nearest(client, root, f"{page}, offset: 7") == []
    assert await nearest(client, root, f"{page}, offset: 9") == []
    assert await nearest(client, root, f"{page}, limit: 2") == top[:2]
    assert await nearest(client, root, f"{page}, limit: null, offset: null") == top


async def test_values_through_variables_reuse_the_plan(client: AppClient) -> None:
    decl = "($v: Vector!, $k: Int!, $m: VectorMetric!)"
    arguments = "nearest: {vector: $v, k: $k, metric: $m}"
    for vector, k, metric in (([1, 0, 0], 3, "L2"), ([0, 1, 0], 5, "L2"),
                              ([1, 2, -1], 4, "COSINE"), ([1, 2, -1], 4, "INNER_PRODUCT")):
        got = await nearest(client, "docs", arguments, {"v": vector, "k": k, "m": metric}, decl)
        assert got == expected(metric, vector, k)


async def test_several_vector_fields_name_the_field(client: AppClient) -> None:
    got = await nearest(client, "docTwo", "nearest: {field: ALT, vector: [1, 0, 0], k: 4, "
                                          "metric: L2}")
    assert got == expected("L2", [1, 0, 0], 4, column=2)
    got = await nearest(client, "docTwo", "nearest: {field: EMBEDDING, vector: [1, 0, 0], "
                                          "k: 4, metric: L2}")
    assert got == expected("L2", [1, 0, 0], 4)


async def test_the_schema_offers_nearest_only_with_a_vector_field(client: AppClient) -> None:
    data = await client.data('{ q: __type(name: "Query") { fields { name args { name } } } '
                             'n: __type(name: "NearDocNearest") { inputFields { name '
                             'defaultValue type { kind name ofType { name } } } } '
                             'm: __type(name: "VectorMetric") { enumValues { name } } }')
    args = {f["name"]: [a["name"] for a in f["args"]] for f in data["q"]["fields"]}
    assert "nearest" in args["docs"] and "nearest" in args["docData"]
    assert "nearest" not in args["plainDocs"]
    assert "nearest" not in args["docsConnection"]
    fields = {f["name"]: (f["defaultValue"], f["type"]["ofType"]["name"])
              for f in data["n"]["inputFields"]}
    assert fields == {"field": ("EMBEDDING", "NearDocVectorField"), "vector": (None, "Vector"),
                      "k": (None, "Int"), "metric": ("COSINE", "VectorMetric")}
    assert [v["name"] for v in data["m"]["enumValues"]] == ["COSINE", "L2", "INNER_PRODUCT"]


# --- the index serves it ------------------------------------------------------------------


@pytest.mark.parametrize(("metric", "index"), [("COSINE", "tb_doc_embedding_cosine"),
                                               ("L2", "tb_doc_embedding_l2"),
                                               ("INNER_PRODUCT", "tb_doc_embedding_ip")])
async def test_an_hnsw_index_serves_nearest_on_a_vector_column(
        client: AppClient, nearest_db_url: str, metric: str, index: str) -> None:
    engine = client.app.engine
    plan = engine.compile(f"{{ docs(nearest: {{vector: [1, 2, -1], k: 5, metric: {metric}}}) "
                          "{ id title } }")
    sql, params = plan.roots[0].sql, engine.bind(plan)[0]
    conn = await asyncpg.connect(nearest_db_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")  # 20 rows: a seq scan wins
            explain = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {sql}", *params))
            rows = await conn.fetchval(sql, *params)
    finally:
        await conn.close()
    assert f"Index Scan using {index} on tb_doc" in explain, explain
    assert "Order By: (embedding <" in explain, explain
    # The index's order is the answer's (HNSW is approximate; 20 rows are all found).
    assert [int(item["id"][-12:]) for item in json.loads(rows)] == \
        expected(metric, [1, 2, -1], 5)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(("arguments", "code", "fragment"), [
    ("nearest: {vector: [1, 0, 0], k: 0}", "BAD_USER_INPUT", "nearest.k on docs must be"),
    ("nearest: {vector: [1, 0, 0], k: -3}", "BAD_USER_INPUT", "between 1 and 1000"),
    ("nearest: {vector: [1, 0, 0], k: 1001}", "BAD_USER_INPUT", "between 1 and 1000"),
    ("nearest: {vector: [1, 0], k: 3}", "BAD_USER_INPUT", "dimension"),
    ("nearest: {vector: [1, 0, 0, 1], k: 3, metric: L2}", "BAD_USER_INPUT", "dimension"),
    ("nearest: {vector: [0, 0, 0], k: 3}", "BAD_USER_INPUT", "all zeros"),
    ("nearest: {vector: [1, 0, 0], k: 3}, orderBy: [{title: ASC}]", "BAD_USER_INPUT",
     "nearest and orderBy"),
    ("nearest: {vector: [], k: 3}", "GRAPHQL_VALIDATION_FAILED", "Vector"),
    ("nearest: {vector: [1, 0, 0]}", "GRAPHQL_VALIDATION_FAILED", "k"),
    ("nearest: {k: 3}", "GRAPHQL_VALIDATION_FAILED", "vector"),
    ("nearest: {vector: [1, 0, 0], k: 3, metric: null}", "GRAPHQL_VALIDATION_FAILED",
     "metric"),
    ("nearest: {vector: [1, 0, 0], k: 3, metric: HAMMING}", "GRAPHQL_VALIDATION_FAILED",
     "HAMMING"),
    ("nearest: {vector: [1, 0, 0], k: 3, field: TITLE}", "GRAPHQL_VALIDATION_FAILED",
     "TITLE"),
])
async def test_bad_nearest_is_a_clear_error(client: AppClient, arguments: str, code: str,
                                            fragment: str) -> None:
    error = await error_of(client, f"{{ docs({arguments}) {{ id }} }}")
    assert error["extensions"]["code"] == code, error
    assert fragment.lower() in error["message"].lower(), error


async def test_k_over_a_lowered_page_cap_is_refused(client: AppClient) -> None:
    response = await client.post_graphql("{ cappedDocs(nearest: {vector: [1, 0, 0], k: 11}) "
                                         "{ id } }")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "between 1 and 10" in error["message"], error
    assert await nearest(client, "cappedDocs", "nearest: {vector: [1, 0, 0], k: 10}") == \
        expected("COSINE", [1, 0, 0], 10)


async def test_k_through_a_variable_is_checked_on_every_request(client: AppClient) -> None:
    query = "query ($k: Int!) { docs(nearest: {vector: [1, 0, 0], k: $k}) { id } }"
    assert await nearest(client, "docs", "nearest: {vector: [1, 0, 0], k: $k}", {"k": 2},
                         "($k: Int!)") == expected("COSINE", [1, 0, 0], 2)
    body = (await client.post_graphql(query, {"k": 0})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


async def test_several_vector_fields_require_the_field(client: AppClient) -> None:
    response = await client.post_graphql("{ docTwo(nearest: {vector: [1, 0, 0], k: 3}) "
                                         "{ id } }")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert "field" in error["message"], error
