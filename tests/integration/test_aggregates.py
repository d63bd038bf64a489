"""Aggregate queries over a fact table, over the app, on a real database.

The fixture table tf_sales holds the rows of ROWS below. Every answer is compared
with the same question answered in Python over ROWS (``expected``) and, for the
grouping itself, with hand-written SQL. The rows are chosen to catch the usual
mistakes: a NULL dimension (absent key and JSON null), a missing nested object,
a NULL measure, measures whose text order differs from their numeric order
(9.50 < 10.00 < 100.00), sums that a float would get wrong (0.10 + 0.20), and
timestamps one second either side of hour, day, week (Sunday -> Monday) and month
boundaries, one written with a +01:00 offset. The app's pool runs in UTC; the
statement itself is also run in an Asia/Kolkata session, where any bucket computed
in the session's zone would be wrong.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
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

UTC = datetime.UTC


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).astimezone(UTC)


# (revenue, quantity, discount, occurred_at, dimensions)
ROWS: list[tuple[Decimal | None, int | None, float | None, datetime.datetime, dict[str, Any]]] = [
    (Decimal("9.50"), 9, 0.5, at("2024-01-07T23:59:59+00:00"),
     {"category": "books", "region": "EU", "customer": {"tier": "gold"}}),
    (Decimal("10.00"), 10, 0.25, at("2024-01-08T00:00:00+00:00"),
     {"category": "books", "region": "EU", "customer": {"tier": "silver"}}),
    (Decimal("100.00"), 2, None, at("2024-01-08T00:59:59+00:00"),
     {"category": "books", "region": "US", "customer": {"tier": "gold"}}),
    (Decimal("20.00"), 100, 1.0, at("2024-01-08T01:00:00+00:00"),
     {"category": "games", "customer": {"tier": "gold"}}),
    (Decimal("0.10"), 1, 0.125, at("2024-01-31T23:59:59+00:00"),
     {"category": "games", "region": "EU", "customer": {"tier": "bronze"}}),
    (Decimal("0.20"), 3, None, at("2024-02-01T00:00:00+00:00"),
     {"category": "games", "region": "EU"}),
    (None, 4, 0.0, at("2024-02-01T12:00:00+00:00"),
     {"category": "music", "region": None, "customer": {"tier": "gold"}}),
    (Decimal("1.00"), 5, 0.75, at("2024-01-08T00:30:00+01:00"),  # Sunday 23:30 UTC
     {"category": "books", "region": "EU", "customer": {"tier": "gold"}}),
]

DDL = """
CREATE TABLE tf_sales (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    revenue numeric(12, 2),
    quantity int,
    discount double precision,
    occurred_at timestamptz NOT NULL,
    dimensions jsonb NOT NULL
);
"""


@fraiseql.fact(sql_source="tf_sales")
class Sale:
    """Sales, one row per order line."""

    revenue: Decimal = fraiseql.measure()
    quantity: int = fraiseql.measure()
    discount: float = fraiseql.measure()
    occurred_at: datetime.datetime = fraiseql.time_dimension()
    category: str = fraiseql.dimension()
    region: str | None = fraiseql.dimension()
    customer_tier: str = fraiseql.dimension(path="customer.tier")


schema = fraiseql.build_schema(facts=[Sale], max_page_size=50)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sales_db_url(pg_server: TestServer) -> AsyncIterator[str]:
    name = unique_database_name("fraiseql_facts")
    url = await create_database(pg_server, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(DDL)
        await conn.executemany(
            "INSERT INTO tf_sales (revenue, quantity, discount, occurred_at, dimensions)"
            " VALUES ($1, $2, $3, $4, $5::jsonb)",
            [(r, q, d, t, json.dumps(dims)) for r, q, d, t, dims in ROWS])
    finally:
        await conn.close()
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(sales_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(schema, database_url=sales_db_url)) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(sales_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(sales_db_url, server_settings={"TimeZone": "Asia/Kolkata"})
    yield conn
    await conn.close()


async def groups(client: AppClient, arguments: str, selection: str,
                 variables: dict[str, Any] | None = None, header: str = "") -> list[Any]:
    query = f"query {header} {{ salesAggregate{arguments} {{ {selection} }} }}"
    response = await client.post_graphql(query, variables)
    body = response.json()
    assert "errors" not in body, body
    assert response.status_code == 200
    return body["data"]["salesAggregate"]  # type: ignore[no-any-return]


async def error_of(client: AppClient, query: str,
                   variables: dict[str, Any] | None = None) -> tuple[str, str]:
    response = await client.post_graphql(query, variables)
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert len(body["errors"]) == 1, body
    assert body.get("data") is None, body
    return body["errors"][0]["extensions"]["code"], body["errors"][0]["message"]


# --- the same questions answered in Python over ROWS -----------------------------------------

def dimension(row: tuple[Any, ...], name: str) -> Any:
    dims = row[4]
    if name == "customer_tier":
        return (dims.get("customer") or {}).get("tier")
    return dims.get(name)


def bucket(moment: datetime.datetime, unit: str) -> str:
    moment = moment.astimezone(UTC)
    if unit == "hour":
        start = moment.replace(minute=0, second=0, microsecond=0)
    elif unit == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "week":
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day - datetime.timedelta(days=day.weekday())  # Monday
    else:
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.isoformat()


def sort_key(value: Any) -> tuple[bool, Any]:
    return (value is None, value if value is not None else 0)  # NULLS LAST, as ASC does


MEASURES = {"revenue": 0, "quantity": 1, "discount": 2}


def expected(keys: list[str], unit: str | None = None,
             keep: Callable[[tuple[Any, ...]], bool] = lambda _row: True) -> list[dict[str, Any]]:
    """Groups by dimension ``keys`` (and bucket ``unit``), sorted on the keys, ASC NULLS LAST."""
    found: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in ROWS:
        if keep(row):
            key = tuple(dimension(row, k) for k in keys) + ((bucket(row[3], unit),) if unit else ())
            found.setdefault(key, []).append(row)
    result = []
    for key in sorted(found, key=lambda k: tuple(sort_key(v) for v in k)):
        rows = found[key]
        group: dict[str, Any] = dict(zip(keys, key, strict=False))
        if unit:
            group["bucket"] = key[-1]
        group["count"] = len(rows)
        for aggregate in ("sum", "avg", "min", "max"):
            group[aggregate] = {m: _aggregate(aggregate, m, [r[i] for r in rows if r[i] is not None])
                                for m, i in MEASURES.items()}
        result.append(group)
    return result


def _aggregate(aggregate: str, measure: str, values: list[Any]) -> Any:
    if not values:
        return None
    if aggregate == "sum":
        value = sum(values, Decimal(0) if measure == "revenue" else 0)
    elif aggregate == "avg":
        value = (sum(values, Decimal(0)) / len(values) if measure == "revenue"
                 else sum(values) / len(values))
    else:
        value = (min if aggregate == "min" else max)(values)
    return str(value) if measure == "revenue" and aggregate != "avg" else value


ALL_AGGREGATES = ("count sum { revenue quantity discount } avg { revenue quantity discount } "
                  "min { revenue quantity discount } max { revenue quantity discount }")
CAMEL = {"customer_tier": "customerTier"}


def normalized(answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer keyed like ``expected``: snake_case dims, Decimal averages as Decimal."""
    result = []
    for group in answer:
        item = {({v: k for k, v in CAMEL.items()}).get(k, k): v for k, v in group.items()}
        if "avg" in item and item["avg"]["revenue"] is not None:
            item["avg"] = {**item["avg"], "revenue": Decimal(item["avg"]["revenue"])}
        result.append(item)
    return result


def assert_same(answer: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> None:
    got = normalized(answer)
    assert len(got) == len(wanted), (got, wanted)
    for g, w in zip(got, wanted, strict=True):
        if "avg" in w:
            for m in ("quantity", "discount"):  # Float averages: the nearest double
                if w["avg"][m] is None:
                    assert g["avg"][m] is None, (g, w)
                else:
                    assert g["avg"][m] == pytest.approx(w["avg"][m], rel=1e-12, abs=0), (g, w)
            # A Decimal average is exact to PostgreSQL's scale (16+ places for these).
            got_revenue, want_revenue = g["avg"]["revenue"], w["avg"]["revenue"]
            assert (got_revenue is None) == (want_revenue is None), (g, w)
            if got_revenue is not None:
                assert abs(got_revenue - want_revenue) < Decimal("1e-15"), (g, w)
            g = {**g, "avg": None}
            w = {**w, "avg": None}
        assert g == w


# --- grouping -------------------------------------------------------------------------------


def test_the_python_answer_sees_the_boundaries() -> None:
    """The fixture's own claims: the +01:00 row is a Sunday in UTC, weeks split on Monday."""
    assert bucket(ROWS[7][3], "day") == "2024-01-07T00:00:00+00:00"
    assert bucket(ROWS[0][3], "week") == "2024-01-01T00:00:00+00:00"
    assert bucket(ROWS[1][3], "week") == "2024-01-08T00:00:00+00:00"
    assert [g["count"] for g in expected([], "week")] == [2, 3, 3]


async def test_group_by_one_dimension_with_every_aggregate(client: AppClient) -> None:
    answer = await groups(client, "(groupBy: [CATEGORY])", f"category {ALL_AGGREGATES}")
    wanted = expected(["category"])
    assert [g["category"] for g in wanted] == ["books", "games", "music"]
    assert_same(answer, wanted)
    books = answer[0]
    # Exact decimals leave as strings; Int sums as numbers; avg of an Int is a Float.
    assert books["sum"] == {"revenue": "120.50", "quantity": 26, "discount": 1.5}
    assert books["avg"]["quantity"] == 6.5
    assert Decimal(books["avg"]["revenue"]) == Decimal("30.125")
    # Numeric, not text, order: text would make "9.50" the max and "1.00" the min.
    assert (books["min"]["revenue"], books["max"]["revenue"]) == ("1.00", "100.00")
    assert answer[2]["sum"] == {"revenue": None, "quantity": 4, "discount": 0.0}


async def test_grouping_matches_hand_written_sql(client: AppClient,
                                                 db: asyncpg.Connection) -> None:
    rows = await db.fetch("""
        SELECT dimensions->>'category' AS category, dimensions#>>'{customer,tier}' AS tier,
               count(*) AS n, sum(revenue)::text AS revenue, sum(quantity) AS quantity
        FROM tf_sales GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST""")
    answer = await groups(client, "(groupBy: [CATEGORY, CUSTOMER_TIER])",
                          "category customerTier count sum { revenue quantity }")
    assert answer == [{"category": r["category"], "customerTier": r["tier"], "count": r["n"],
                       "sum": {"revenue": r["revenue"], "quantity": r["quantity"]}}
                      for r in rows]


async def test_group_by_two_dimensions_with_nulls_and_a_nested_path(client: AppClient) -> None:
    answer = await groups(client, "(groupBy: [REGION, CUSTOMER_TIER])",
                          f"region customerTier {ALL_AGGREGATES}")
    wanted = expected(["region", "customer_tier"])
    assert_same(answer, wanted)
    # An absent key and a JSON null are both a null dimension; so is a missing object.
    assert [(g["region"], g["customerTier"], g["count"]) for g in answer] == [
        ("EU", "bronze", 1), ("EU", "gold", 2), ("EU", "silver", 1), ("EU", None, 1),
        ("US", "gold", 1), (None, "gold", 2)]


async def test_the_same_dimension_twice_groups_once(client: AppClient) -> None:
    answer = await groups(client, "(groupBy: [CATEGORY, CATEGORY])", "category count")
    assert answer == [{"category": "books", "count": 4}, {"category": "games", "count": 3},
                      {"category": "music", "count": 1}]


async def test_without_group_by_one_group_totals_everything(client: AppClient) -> None:
    answer = await groups(client, "", "count sum { revenue quantity } max { discount }")
    assert answer == [{"count": 8, "sum": {"revenue": "140.80", "quantity": 134},
                       "max": {"discount": 1.0}}]
    empty = await groups(client, '(where: {category: {eq: "toys"}})', "count sum { revenue }")
    assert empty == [{"count": 0, "sum": {"revenue": None}}]
    none = await groups(client, '(groupBy: [CATEGORY], where: {category: {eq: "toys"}})',
                        "category count")
    assert none == []


@pytest.mark.parametrize("unit", ["HOUR", "DAY", "WEEK", "MONTH"])
async def test_each_time_bucket_unit_in_utc(client: AppClient, unit: str) -> None:
    answer = await groups(client, f"(timeBucket: {{field: OCCURRED_AT, unit: {unit}}})",
                          f"bucket {ALL_AGGREGATES}")
    assert_same(answer, expected([], unit.lower()))


async def test_week_buckets_start_on_monday(client: AppClient,
                                            db: asyncpg.Connection) -> None:
    answer = await groups(client, "(groupBy: [CATEGORY], timeBucket: {unit: WEEK})",
                          "bucket category count")
    assert answer == [
        {"bucket": "2024-01-01T00:00:00+00:00", "category": "books", "count": 2},
        {"bucket": "2024-01-08T00:00:00+00:00", "category": "books", "count": 2},
        {"bucket": "2024-01-08T00:00:00+00:00", "category": "games", "count": 1},
        {"bucket": "2024-01-29T00:00:00+00:00", "category": "games", "count": 2},
        {"bucket": "2024-01-29T00:00:00+00:00", "category": "music", "count": 1}]
    monday = await db.fetchval("SELECT extract(isodow FROM date '2024-01-29')")
    assert monday == 1


@pytest.mark.parametrize("unit", ["HOUR", "DAY", "WEEK", "MONTH"])
async def test_buckets_do_not_depend_on_the_session_time_zone(
        client: AppClient, db: asyncpg.Connection, unit: str) -> None:
    """The statement itself, run in an Asia/Kolkata (+05:30) session, still buckets in UTC."""
    assert await db.fetchval("SHOW TimeZone") == "Asia/Kolkata"
    engine = client.app.engine
    query = "query ($u: TimeBucketUnit!) { salesAggregate(timeBucket: {unit: $u}) { bucket count } }"
    plan = engine.compile(query, {"u": unit})
    (args,) = engine.bind(plan, {"u": unit})
    answer = json.loads(await db.fetchval(plan.roots[0].sql, *args))
    assert answer == [{"bucket": g["bucket"], "count": g["count"]}
                      for g in expected([], unit.lower())]


# --- where, having, orderBy, limit --------------------------------------------------------


async def test_where_on_dimensions_time_and_measures(client: AppClient) -> None:
    cases: list[tuple[str, Callable[[tuple[Any, ...]], bool]]] = [
        ('{category: {in: ["books", "music"]}}',
         lambda r: r[4]["category"] in ("books", "music")),
        ('{customerTier: {eq: "gold"}}', lambda r: dimension(r, "customer_tier") == "gold"),
        ("{region: {isnull: true}}", lambda r: dimension(r, "region") is None),
        ('{region: {neq: "EU"}}', lambda r: dimension(r, "region") != "EU"),
        # numeric comparison: as text "10.00" < "9.9"
        ('{revenue: {gt: "9.9"}}', lambda r: r[0] is not None and r[0] > Decimal("9.9")),
        ("{quantity: {lte: 9}}", lambda r: r[1] is not None and r[1] <= 9),
        ("{discount: {gte: 0.5}}", lambda r: r[2] is not None and r[2] >= 0.5),
        ('{occurredAt: {gte: "2024-01-08T00:00:00Z", lt: "2024-02-01T00:00:00+00:00"}}',
         lambda r: at("2024-01-08T00:00:00+00:00") <= r[3] < at("2024-02-01T00:00:00+00:00")),
        ('{_or: [{category: {eq: "music"}}, {_not: {quantity: {lt: 10}}}]}',
         lambda r: r[4]["category"] == "music" or not (r[1] is not None and r[1] < 10)),
    ]
    for where, keep in cases:
        answer = await groups(client, f"(groupBy: [CATEGORY], where: {where})",
                              f"category {ALL_AGGREGATES}")
        assert answer, where
        assert_same(answer, expected(["category"], keep=keep))


async def test_where_from_variables(client: AppClient) -> None:
    for tier, wanted in (("gold", [("books", 3), ("games", 1), ("music", 1)]),
                         ("silver", [("books", 1)])):
        answer = await groups(client, "(groupBy: [CATEGORY], where: $w)", "category count",
                              {"w": {"customerTier": {"eq": tier}}}, "($w: SaleFactWhere)")
        assert [(g["category"], g["count"]) for g in answer] == wanted


async def test_having_on_count_and_each_aggregate(client: AppClient) -> None:
    cases: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
        ("{count: {gt: 1}}", lambda g: g["count"] > 1),
        ('{sum: {revenue: {gte: "100"}}}', lambda g: Decimal(g["sum"]["revenue"] or 0) >= 100),
        ("{avg: {quantity: {gt: 6.4}}}", lambda g: g["avg"]["quantity"] > 6.4),
        ('{min: {revenue: {lt: "1"}}}',
         lambda g: g["min"]["revenue"] is not None and Decimal(g["min"]["revenue"]) < 1),
        ("{max: {quantity: {eq: 100}}}", lambda g: g["max"]["quantity"] == 100),
        ("{max: {discount: {isnull: true}}}", lambda g: g["max"]["discount"] is None),
        ('{_or: [{count: {eq: 1}}, {sum: {revenue: {gt: "100"}, quantity: {gt: 20}}}]}',
         lambda g: g["count"] == 1 or (Decimal(g["sum"]["revenue"] or 0) > 100
                                       and g["sum"]["quantity"] > 20)),
        ("{_not: {count: {gt: 1}}}", lambda g: not g["count"] > 1),
    ]
    for having, keep in cases:
        answer = await groups(client, f"(groupBy: [REGION, CUSTOMER_TIER], having: {having})",
                              f"region customerTier {ALL_AGGREGATES}")
        wanted = [g for g in expected(["region", "customer_tier"]) if keep(g)]
        assert wanted, having
        assert_same(answer, wanted)


async def test_having_computes_what_it_filters_on_without_selecting_it(
        client: AppClient) -> None:
    answer = await groups(client, '(groupBy: [CATEGORY], having: {sum: {quantity: {gt: 20}}})',
                          "category count")
    assert answer == [{"category": "books", "count": 4}, {"category": "games", "count": 3}]


async def test_order_by_aggregates_dimensions_and_bucket(client: AppClient) -> None:
    base = expected(["category"])
    by_revenue = await groups(client, "(groupBy: [CATEGORY], orderBy: [{sum: {revenue: DESC}}])",
                              "category")
    # DESC puts the null sum first (PostgreSQL's default), then numeric order.
    assert [g["category"] for g in by_revenue] == ["music", "books", "games"]
    by_max = await groups(client, "(groupBy: [CATEGORY], orderBy: [{max: {revenue: ASC}}])",
                          "category max { revenue }")
    assert [g["max"]["revenue"] for g in by_max] == ["20.00", "100.00", None]
    by_count = await groups(client, "(groupBy: [CATEGORY], orderBy: [{count: ASC}])",
                            "category count")
    assert by_count == sorted([{"category": g["category"], "count": g["count"]} for g in base],
                              key=lambda g: g["count"])
    by_name = await groups(client, "(groupBy: [CATEGORY], orderBy: [{category: DESC}])",
                           "category")
    assert [g["category"] for g in by_name] == ["music", "games", "books"]
    two_keys = await groups(
        client, "(groupBy: [CATEGORY], timeBucket: {unit: MONTH}, "
                "orderBy: [{bucket: DESC}, {avg: {quantity: DESC}}])", "bucket category")
    assert two_keys == [
        {"bucket": "2024-02-01T00:00:00+00:00", "category": "music"},  # avg 4
        {"bucket": "2024-02-01T00:00:00+00:00", "category": "games"},  # avg 3
        {"bucket": "2024-01-01T00:00:00+00:00", "category": "games"},  # avg 50.5
        {"bucket": "2024-01-01T00:00:00+00:00", "category": "books"}]  # avg 6.5


async def test_order_by_places_null_aggregates_where_asked(client: AppClient) -> None:
    # music's revenue sum is null: the explicit placements override PostgreSQL's defaults.
    last = await groups(client, "(groupBy: [CATEGORY], orderBy: [{sum: {revenue: "
                                "DESC_NULLS_LAST}}])", "category")
    assert [g["category"] for g in last] == ["books", "games", "music"]
    first = await groups(client, "(groupBy: [CATEGORY], orderBy: [{sum: {revenue: "
                                 "ASC_NULLS_FIRST}}])", "category")
    assert [g["category"] for g in first] == ["music", "games", "books"]


async def test_limit_keeps_the_first_groups_in_order(client: AppClient) -> None:
    answer = await groups(client, "(groupBy: [REGION, CUSTOMER_TIER], "
                                  "orderBy: [{count: DESC}], limit: 2)",
                          "region customerTier count")
    assert answer == [{"region": "EU", "customerTier": "gold", "count": 2},
                      {"region": None, "customerTier": "gold", "count": 2}]
    for limit, size in ((0, 0), (3, 3), (50, 6)):
        answer = await groups(client, "(groupBy: [REGION, CUSTOMER_TIER], limit: $n)", "count",
                              {"n": limit}, "($n: Int)")
        assert len(answer) == size


async def test_group_by_and_time_bucket_from_variables(client: AppClient) -> None:
    header = "($by: [SaleDimension!], $tb: SaleTimeBucket)"
    for by, unit in ((["CATEGORY"], "DAY"), (["REGION"], "MONTH"), ([], "WEEK")):
        answer = await groups(client, "(groupBy: $by, timeBucket: $tb)",
                              "bucket count sum { revenue quantity discount } "
                              "avg { revenue quantity discount } min { revenue quantity discount } "
                              "max { revenue quantity discount } "
                              + " ".join(b.lower() for b in by),
                              {"by": by, "tb": {"unit": unit}}, header)
        assert_same(answer, expected([b.lower() for b in by], unit.lower()))


async def test_aliases_fragments_and_typename(client: AppClient) -> None:
    query = """
      query { first: salesAggregate(groupBy: [CATEGORY], limit: 1) {
                __typename kind: category n: count ...Money }
              total: salesAggregate { count } }
      fragment Money on SaleGroup { total: sum { __typename r: revenue } top: max { revenue } }
    """
    response = await client.post_graphql(query)
    assert response.json() == {"data": {
        "first": [{"__typename": "SaleGroup", "kind": "books", "n": 4,
                   "total": {"__typename": "SaleMeasures", "r": "120.50"},
                   "top": {"revenue": "100.00"}}],
        "total": [{"count": 8}]}}


# --- errors ---------------------------------------------------------------------------------


async def test_limit_over_the_cap_or_negative_is_bad_user_input(client: AppClient) -> None:
    code, message = await error_of(client, "{ salesAggregate(limit: 51) { count } }")
    assert (code, message) == ("BAD_USER_INPUT",
                               "limit on salesAggregate must be between 0 and 50, got 51")
    # A variable is checked on every request, against the cached plan too.
    query = "query ($n: Int) { salesAggregate(limit: $n) { count } }"
    assert (await groups(client, "(limit: $n)", "count", {"n": 1}, "($n: Int)")) == [{"count": 8}]
    code, message = await error_of(client, query, {"n": 51})
    assert code == "BAD_USER_INPUT" and "got 51" in message
    code, message = await error_of(client, query, {"n": -1})
    assert code == "BAD_USER_INPUT" and "got -1" in message


async def test_unknown_fields_and_wrong_operands_are_named(client: AppClient) -> None:
    code, message = await error_of(client, "{ salesAggregate { count nope } }")
    assert code == "GRAPHQL_VALIDATION_FAILED" and "nope" in message
    code, message = await error_of(client, "{ salesAggregate(groupBy: [PRICE]) { count } }")
    assert code == "GRAPHQL_VALIDATION_FAILED" and "PRICE" in message
    code, message = await error_of(
        client, '{ salesAggregate(having: {sum: {revenue: {gte: "lots"}}}) { count } }')
    assert code == "GRAPHQL_VALIDATION_FAILED" and "Decimal" in message and "lots" in message
    code, message = await error_of(
        client, "query ($h: SaleHaving) { salesAggregate(having: $h) { count } }",
        {"h": {"sum": {"revenue": {"gte": "lots"}}}})
    assert code == "BAD_USER_INPUT" and "revenue" in message
    code, message = await error_of(
        client, "query ($w: SaleFactWhere) { salesAggregate(where: $w) { count } }",
        {"w": {"occurredAt": {"gt": "yesterday"}}})
    assert code == "BAD_USER_INPUT" and "occurredAt" in message


async def test_selections_and_sorts_the_groups_cannot_answer(client: AppClient) -> None:
    code, message = await error_of(client, "{ salesAggregate(groupBy: [REGION]) { category } }")
    assert code == "BAD_USER_INPUT"
    assert "category" in message and "groupBy" in message
    code, message = await error_of(client, "{ salesAggregate { bucket count } }")
    assert code == "BAD_USER_INPUT" and "timeBucket" in message
    code, message = await error_of(
        client, "{ salesAggregate(orderBy: [{region: ASC}]) { count } }")
    assert code == "BAD_USER_INPUT" and "REGION" in message
    code, message = await error_of(
        client, "{ salesAggregate(orderBy: [{count: ASC, bucket: DESC}]) { count } }")
    assert (code, message) == ("BAD_USER_INPUT",
                               "orderBy[0] must set exactly one field, got 2 (bucket, count)")
    code, message = await error_of(
        client, "{ salesAggregate(orderBy: [{sum: {revenue: ASC, quantity: ASC}}]) { count } }")
    assert code == "BAD_USER_INPUT" and "exactly one measure" in message
    code, message = await error_of(
        client, "{ salesAggregate(where: {category: null}) { count } }")
    assert code == "BAD_USER_INPUT" and "where.category is null" in message


# --- the documentation's example ------------------------------------------------------------


async def test_the_documented_example_answers_as_documented(pg_server: TestServer) -> None:
    """docs/aggregates.md: its SQL, app, query and answer blocks, run as written."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "docs" / "aggregates.md").read_text()

    def block(language: str) -> str:
        return text.split(f"```{language}\n", 1)[1].split("```", 1)[0]

    name = unique_database_name("fraiseql_facts_doc")
    url = await create_database(pg_server, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(block("sql"))
        finally:
            await conn.close()
        namespace: dict[str, Any] = {"__name__": "aggregates_doc"}
        source = block("python").replace("app = fraiseql.create_app(schema)\n", "")
        # dont_inherit: this module's `from __future__ import annotations` must not apply.
        exec(compile(source, "aggregates.md", "exec", dont_inherit=True), namespace)  # noqa: S102
        app = fraiseql.create_app(namespace["schema"], database_url=url)
        async with AppClient(app) as doc_client:
            response = await doc_client.post_graphql(block("graphql"))
        assert response.json() == json.loads(block("json"))
    finally:
        await drop_database(pg_server, name)
