"""Property tests: a caller of one tenant gets exactly its tenant's rows, on every entry path.

The fixture (tests/tenants_db.py, schema extended in tenant_fixture.py)
has tenants acme and globex with overlapping ids and no row-level security on
tb_project: only the compiler's tenant predicate keeps them apart. Hypothesis draws
requests (where trees, orderBy, limit/offset, ids, connection walks with cursors of
either tenant, aggregates, creates) and sends them as different tenants in turn
through the same app, so the plan cache, the result cache and the persisted-query
store are shared between them; every answer is compared with a Python model of the
fixture (tenant_model.py), not only checked for foreign rows. Also: streamed exports
(a second database, acme with 1500 projects), a forged X-Tenant-ID (with and without
``authz=Authorization()``), and concurrent callers of both tenants and of none
(pooled connections, session settings read by row-level security).

About 20 s; TENANT_PROPERTY_SCALE multiplies every test's examples for a longer hunt.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
import pytest_asyncio
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from tenants_db import TENANTS, bearer, build

from fraiseql.authz.authorization import Authorization
from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import TestServer, drop_database
from tests.property import tenant_strategies as ts
from tests.property.tenant_fixture import (
    AGGREGATE,
    AGGREGATE_BY_KIND,
    CACHED,
    CONNECTION,
    CREATE,
    EXPORT,
    READ,
    SCHEMA,
    SHARED_USER,
    USERS,
    caller,
    make_app,
)
from tests.property.tenant_model import TenantModel, as_graphql
from tests.property.where_model import WhereModel

# TENANT_PROPERTY_SCALE=10 for a longer hunt (about 2.5 minutes); 1 keeps the module ~20 s.
SCALE = float(os.environ.get("TENANT_PROPERTY_SCALE", "1"))


def examples(n: int) -> settings:
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def other(tenant: str) -> str:
    return "globex" if tenant == "acme" else "acme"


@dataclass
class Fixture:
    """One two-tenant database, its model and two apps over it (plain, and with
    ``authz=Authorization()`` for the X-Tenant-ID header)."""

    client: AppClient
    authz_client: AppClient
    conn: asyncpg.Connection  # superuser: PostgreSQL's text order for the model
    model: TenantModel
    ordered_text: bool  # the database orders text like Python (string gt/lt are modelled)

    def __repr__(self) -> str:
        return f"Fixture({self.model!r})"

    async def post(self, query: str, headers: dict[str, str] | None,
                   variables: dict[str, Any] | None = None, client: AppClient | None = None,
                   status: int = 200, method: str = "POST") -> Any:
        client = client or self.client
        send = client.post_graphql if method == "POST" else client.get_graphql
        response = await send(query, variables, headers=headers)
        assert response.status_code == status, response.text
        return orjson.loads(response.content)


async def sorts_like_python(conn: asyncpg.Connection, texts: set[str]) -> bool:
    ordered = await conn.fetchval("SELECT array_agg(s ORDER BY s) FROM unnest($1::text[]) s",
                                  sorted(texts))
    return list(ordered) == sorted(texts)


async def open_fixture(pg_server: TestServer, template: str,
                       sizes: dict[str, int]) -> AsyncIterator[Fixture]:
    admin_url, url, name = await build(pg_server, template, sizes)
    conn = await asyncpg.connect(admin_url)
    try:
        model = TenantModel(sizes, WhereModel(SCHEMA, SCHEMA.objects["Project"], ()))
        await model.learn_order(conn)
        pools = {*ts.NAMES, *ts.TENANT_VALUES, *ts.EMAILS, *ts.MEMBER_NAMES, *ts.MEMBER_EMAILS}
        ordered = await sorts_like_python(conn, model.texts() | pools)
        async with AppClient(make_app(url)) as client, \
                AppClient(make_app(url, authz=Authorization())) as authz_client:
            yield Fixture(client, authz_client, conn, model, ordered)
    finally:
        await conn.close()
        await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fx(pg_server: TestServer, blog_template: str) -> AsyncIterator[Fixture]:
    """The module's database: acme 12 projects, globex 9 (plus what the creates add)."""
    async for fixture in open_fixture(pg_server, blog_template, dict(TENANTS)):
        yield fixture


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def big(pg_server: TestServer, blog_template: str) -> AsyncIterator[Fixture]:
    """A database where acme has 1500 projects: its export pages are streamed."""
    async for fixture in open_fixture(pg_server, blog_template, {**TENANTS, "acme": 1500}):
        yield fixture


# --- lists, counts, single objects, Python resolvers; one plan for every tenant ------------

# The caller's subject: its tenant's own user, or one user with a token for each tenant
# (the result cache and the plan must tell them apart by tenant, not by user).
subjects = st.sampled_from([None, SHARED_USER])
contains_values = st.sampled_from(["", "project", "1", "acme", "globex", "n", "project 1"])


def expected_read(model: TenantModel, tenant: str, v: dict[str, Any]) -> dict[str, Any]:
    """The model's answer to READ with variables ``v`` for a caller of ``tenant``."""
    rows = model.projects[tenant]
    found = sorted((d for d in rows if v["contains"] in d["name"]), key=lambda d: d["id"],
                   reverse=v["newest"])[:v["limit"]]
    single = model.row(tenant, v["id"])
    first = model.row(tenant, 1)
    return {"projects": model.page(tenant, v["where"], v["orderBy"], v["limit"], v["offset"]),
            "projectsCount": len(model.selected(tenant, v["where"])),
            "project": single and as_graphql(single),
            "foundProjects": [as_graphql(d) for d in found],
            "foundProject": single and as_graphql(single),
            "firstProject": first and as_graphql(first)}


def read_variables(fx: Fixture) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "where": ts.wheres(fx.ordered_text), "orderBy": ts.order_bys,
        "limit": st.integers(0, 15), "offset": st.one_of(st.none(), st.integers(0, 14)),
        "id": ts.ids, "contains": contains_values, "newest": st.booleans()})


@examples(40)
@given(data=st.data())
async def test_each_tenant_reads_exactly_its_rows_through_one_shared_plan(
        fx: Fixture, data: st.DataObject) -> None:
    tenant = data.draw(ts.tenants, label="tenant")
    subject = data.draw(subjects, label="subject")
    variables = data.draw(read_variables(fx), label="variables")
    mine = len(fx.model.selected(tenant, variables["where"]))
    share = "none" if not mine else "all" if mine == len(fx.model.projects[tenant]) else "some"
    event(f"where selects {share} of the caller's rows")
    foreign = bool(fx.model.selected(other(tenant), variables["where"]))
    event(f"without the tenant predicate, foreign rows would match: {foreign}")
    plans = fx.client.app.engine.plans._plans
    for turn, who in enumerate([tenant, other(tenant), tenant]):
        body = await fx.post(READ, caller(who, subject), variables)
        assert body == {"data": expected_read(fx.model, who, variables)}, who
        if turn == 0:
            planned = len(plans)
    assert len(plans) == planned  # the other tenant's request reused the plan


# --- the result cache -----------------------------------------------------------------------


@examples(25)
@given(data=st.data())
async def test_the_result_cache_answers_each_tenant_its_own_rows(
        fx: Fixture, data: st.DataObject) -> None:
    variables = data.draw(st.fixed_dictionaries({
        "where": ts.wheres(fx.ordered_text), "orderBy": ts.order_bys,
        "limit": st.integers(0, 15), "offset": st.one_of(st.none(), st.integers(0, 14))}),
        label="variables")
    subject = data.draw(subjects, label="subject")
    turns = data.draw(st.lists(st.tuples(ts.tenants, st.sampled_from(["POST", "GET"])),
                               min_size=2, max_size=5), label="turns")
    cache = fx.client.app.engine.result_cache
    hits = cache.hits
    # Both tenants ask, some of them repeatedly, by POST or GET.
    for who, method in [*turns, *((t, "POST") for t in ts.TENANT_NAMES)]:
        body = await fx.post(CACHED, caller(who, subject), variables, method=method)
        expected = fx.model.page(who, variables["where"], variables["orderBy"],
                                 variables["limit"], variables["offset"])
        assert body == {"data": {"projects": expected}}, who
    assert cache.hits > hits  # a tenant asked twice: answered from the cache


# --- connections: walks forward and backward, cursors of either tenant ----------------------


def decode(cursor: str) -> list[Any]:
    return json.loads(base64.b64decode(cursor))  # type: ignore[no-any-return]


async def connection_page(fx: Fixture, tenant: str, where: Any, order_by: Any, size: int,
                          forward: bool, cursor: str | None) -> dict[str, Any]:
    variables = {"where": where, "orderBy": order_by,
                 "first" if forward else "last": size, "after" if forward else "before": cursor}
    body = await fx.post(CONNECTION, caller(tenant), variables)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["projectsConnection"]
    edges = page["edges"]
    info = page["pageInfo"]
    assert (info["startCursor"], info["endCursor"]) == (
        (edges[0]["cursor"], edges[-1]["cursor"]) if edges else (None, None))
    return page


def model_page(page: dict[str, Any]) -> dict[str, Any]:
    """A response page in the shape of TenantModel.connection_page."""
    return {"nodes": [edge["node"] for edge in page["edges"]],
            "hasNextPage": page["pageInfo"]["hasNextPage"],
            "hasPreviousPage": page["pageInfo"]["hasPreviousPage"],
            "totalCount": page["totalCount"]}


@examples(30)
@given(data=st.data())
async def test_connection_walks_and_foreign_cursors_page_the_callers_rows(
        fx: Fixture, data: st.DataObject) -> None:
    tenant = data.draw(ts.tenants, label="tenant")
    where = data.draw(ts.wheres(fx.ordered_text), label="where")
    order_by = data.draw(ts.order_bys, label="orderBy")
    size = data.draw(st.integers(1, 6), label="size")
    forward = data.draw(st.booleans(), label="forward")
    model = fx.model

    # Walk the caller's connection to its end, carrying each page's cursor to the next.
    walked: list[dict[str, Any]] = []
    cursor, cursor_row = None, None
    while True:
        page = await connection_page(fx, tenant, where, order_by, size, forward, cursor)
        expected = model.connection_page(tenant, where, order_by, size, forward, cursor_row)
        assert model_page(page) == expected, (tenant, cursor_row)
        nodes = [edge["node"] for edge in page["edges"]]
        walked = walked + nodes if forward else nodes + walked
        more = page["pageInfo"]["hasNextPage" if forward else "hasPreviousPage"]
        if not more:
            break
        cursor = page["pageInfo"]["endCursor" if forward else "startCursor"]
        cursor_row = model.row(tenant, (nodes[-1] if forward else nodes[0])["id"])
    assert walked == [as_graphql(d) for d in model.ordered(tenant, where, order_by)]

    # A cursor of the other tenant's page, presented by the caller: a position only.
    foreign = other(tenant)
    page = await connection_page(fx, foreign, None, order_by, 6, True, None)
    if page["edges"]:
        edge = data.draw(st.sampled_from(page["edges"]), label="foreign edge")
        if not order_by:  # the cursor is the id alone: a position, not a tenant's row
            assert decode(edge["cursor"])[1:] == [edge["node"]["id"]]
        foreign_row = model.row(foreign, edge["node"]["id"])
        got = await connection_page(fx, tenant, where, order_by, size, forward, edge["cursor"])
        assert all(node["tenant"] == tenant for node in model_page(got)["nodes"]), got
        assert model_page(got) == model.connection_page(tenant, where, order_by, size, forward,
                                                        foreign_row)


# --- aggregates -----------------------------------------------------------------------------


def aggregate_rows(body: Any) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    rows = []
    for group in body["data"]["usageAggregate"]:
        row = {"count": group["count"], "sum": group["sum"]["hours"],
               "avg": group["avg"]["hours"], "min": group["min"]["hours"],
               "max": group["max"]["hours"]}
        if "kind" in group:
            row["kind"] = group["kind"]
        rows.append(row)
    return sorted(rows, key=lambda r: r.get("kind") or "")


@examples(25)
@given(data=st.data())
async def test_aggregates_count_only_the_callers_facts(fx: Fixture, data: st.DataObject) -> None:
    tenant = data.draw(ts.tenants, label="tenant")
    where = data.draw(ts.usage_wheres, label="where")
    group_by = data.draw(st.sampled_from([None, [], ["KIND"]]), label="groupBy")
    query, variables = (AGGREGATE_BY_KIND, {"where": where}) if group_by else \
        (AGGREGATE, {"where": where, "groupBy": group_by})
    for who in [tenant, other(tenant), tenant]:
        body = await fx.post(query, caller(who), variables)
        got = aggregate_rows(body)
        expected = fx.model.aggregate(who, where, bool(group_by))
        note(f"{who}: {got} vs {expected}")
        assert [{**g, "avg": g["avg"] and round(g["avg"], 9)} for g in got] == \
            [{**e, "avg": e["avg"] and round(e["avg"], 9)} for e in expected]


# --- persisted queries (APQ): a hash registered by one tenant, used by the other ------------

REGISTRATIONS = itertools.count()


async def persisted(fx: Fixture, tenant: str, query: str, variables: dict[str, Any],
                    with_query: bool, subject: str | None) -> Any:
    sha = hashlib.sha256(query.encode()).hexdigest()
    payload: dict[str, Any] = {"variables": variables,
                               "extensions": {"persistedQuery": {"version": 1,
                                                                 "sha256Hash": sha}}}
    if with_query:
        payload["query"] = query
    response = await fx.client.http.post("/graphql", json=payload, headers=caller(tenant, subject))
    assert response.status_code == 200, response.text
    return orjson.loads(response.content)


@examples(20)
@given(data=st.data())
async def test_a_persisted_query_registered_by_one_tenant_serves_each_its_own_rows(
        fx: Fixture, data: st.DataObject) -> None:
    tenant = data.draw(ts.tenants, label="registers")
    subject = data.draw(subjects, label="subject")
    variables = data.draw(read_variables(fx), label="variables")
    # A fresh document per example, so every example registers its hash anew.
    query = f"{READ}\n# registration {next(REGISTRATIONS)}"
    turns = [(tenant, True), (other(tenant), False), (tenant, False), (other(tenant), False)]
    for who, with_query in turns:
        body = await persisted(fx, who, query, variables, with_query, subject)
        assert body == {"data": expected_read(fx.model, who, variables)}, (who, with_query)


# --- mutations interleaved with reads -------------------------------------------------------


def steps(fx: Fixture) -> st.SearchStrategy[list[tuple[str, str, str | None, Any]]]:
    create = st.tuples(st.just("create"), ts.tenants, subjects,
                       st.integers(0, 99).map(lambda k: f"n{k}"))
    read = st.tuples(st.just("read"), ts.tenants, subjects, read_variables(fx))
    cached = st.tuples(st.just("cached"), ts.tenants, subjects, st.fixed_dictionaries({
        "where": st.one_of(st.none(), st.just({"name": {"contains": " n"}})),
        "orderBy": ts.order_bys, "limit": st.just(100), "offset": st.none()}))
    return st.lists(st.one_of(create, read, cached), min_size=1, max_size=8)


@examples(20)
@given(data=st.data())
async def test_creates_land_in_the_callers_tenant_and_every_read_follows(
        fx: Fixture, data: st.DataObject) -> None:
    model = fx.model
    for kind, tenant, subject, argument in data.draw(steps(fx), label="steps"):
        if kind == "create":
            body = await fx.post(CREATE, caller(tenant, subject), {"name": argument})
            created = model.create(tenant, subject or USERS[tenant], argument)
            await model.learn_order(fx.conn)
            assert body == {"data": {"createProject": as_graphql(created)}}
        elif kind == "read":
            body = await fx.post(READ, caller(tenant, subject), argument)
            assert body == {"data": expected_read(model, tenant, argument)}, tenant
        else:  # result-cached: a create must have invalidated the entry
            body = await fx.post(CACHED, caller(tenant, subject), argument)
            assert body == {"data": {"projects": model.page(
                tenant, argument["where"], argument["orderBy"], 100, None)}}, tenant


# --- streamed exports -----------------------------------------------------------------------


@examples(6)
@given(data=st.data())
async def test_a_streamed_export_holds_exactly_the_callers_rows(
        big: Fixture, data: st.DataObject) -> None:
    tenant = data.draw(st.sampled_from(["acme", "acme", "globex"]), label="tenant")
    variables = data.draw(st.fixed_dictionaries({
        "where": st.one_of(st.none(), ts.project_where(big.ordered_text)),
        "orderBy": ts.order_bys, "limit": st.integers(1001, 1600),
        "offset": st.one_of(st.none(), st.integers(0, 600))}), label="variables")
    response = await big.client.post_graphql(EXPORT, variables, headers=caller(tenant))
    assert response.status_code == 200
    assert "content-length" not in response.headers  # streamed, not buffered
    rows = orjson.loads(response.content)["data"]["exportProjects"]
    assert [r["id"] for r in rows if r["tenant"] != tenant] == []
    assert rows == big.model.page(tenant, variables["where"], variables["orderBy"],
                                  variables["limit"], variables["offset"])


# --- a forged X-Tenant-ID ------------------------------------------------------------------

# A read of each entry path, and its data for a caller of a tenant.
ANY_READ: dict[str, Any] = {
    "{ projects(limit: 3) { name } }":
        lambda m, t: {"projects": [{"name": d["name"]} for d in m.projects[t][:3]]},
    "{ projectsCount }": lambda m, t: {"projectsCount": len(m.projects[t])},
    "{ project(id: 10) { name } }":
        lambda m, t: {"project": (d := m.row(t, 10)) and {"name": d["name"]}},
    "{ projectsConnection(last: 1) { edges { node { name } } } }":
        lambda m, t: {"projectsConnection": {"edges": [{"node": {"name": m.projects[t][-1][
            "name"]}}]}},
    "{ usageAggregate { count } }": lambda m, t: {"usageAggregate": [{"count": len(
        m.usage[t])}]},
    "{ firstProject { name } }": lambda m, t: {"firstProject": {"name": f"{t} project 1"}},
    "{ foundProject(id: 2) { name } }": lambda m, t: {"foundProject": {"name": f"{t} project 2"}},
}
FORGED_CREATE = 'mutation { createProject(input: {name: "forged"}) { id tenant name } }'
HEADER_VALUES = ["acme", "globex", " globex ", "GLOBEX", "initech", "", "  "]
NO_TENANT = bearer("nobody", roles=["editor"])  # authenticated, its token names no tenant


@examples(40)
@given(who=st.sampled_from(["anonymous", "nobody", "acme", "globex"]),
       header=st.one_of(st.none(), st.sampled_from(HEADER_VALUES)),
       query=st.sampled_from([*sorted(ANY_READ), FORGED_CREATE]), with_authz=st.booleans())
async def test_a_forged_tenant_header_never_opens_another_tenant(
        fx: Fixture, who: str, header: str | None, query: str, with_authz: bool) -> None:
    headers = {"anonymous": {}, "nobody": NO_TENANT}[who] if who not in USERS else caller(who)
    if header is not None:
        headers = {**headers, "x-tenant-id": header}
    client = fx.authz_client if with_authz else fx.client
    named = (header or "").strip()
    if who == "anonymous":  # an anonymous caller's header is ignored
        outcome = "TENANT_REQUIRED"
    elif with_authz and named and named != (who if who in USERS else None):
        outcome = "FORBIDDEN"  # no grant in the named tenant: 403 before any SQL
    elif who == "nobody":  # without authz the header is not read at all
        outcome = "TENANT_REQUIRED"
    else:
        outcome = who
    status = 403 if outcome == "FORBIDDEN" else 200
    body = await fx.post(query, headers, client=client, status=status)
    if outcome in ("TENANT_REQUIRED", "FORBIDDEN"):
        # Refused before any SQL; a Python resolver's find refuses its own field.
        python_root = "firstProject" in query or "foundProject" in query
        assert body.get("data") is None or (python_root and outcome == "TENANT_REQUIRED"
                                            and set(body["data"].values()) == {None}), body
        codes = [e["extensions"]["code"] for e in body["errors"]]
        if query == FORGED_CREATE and who == "anonymous":  # nor is it an editor
            assert codes == ["TENANT_REQUIRED", "FORBIDDEN"], body
        else:
            assert codes == [outcome], body
    elif query == FORGED_CREATE:  # created in the token's tenant, whatever the header
        created = fx.model.create(outcome, USERS[outcome], "forged")
        await fx.model.learn_order(fx.conn)
        assert body == {"data": {"createProject": {
            "id": created["id"], "tenant": outcome, "name": f"{outcome} forged"}}}
    else:
        assert body == {"data": ANY_READ[query](fx.model, outcome)}


# --- concurrent requests of both tenants and of callers without one ------------------------

INVOICES = {"acme": 300, "globex": 999, "anonymous": 0, "nobody": 0}  # RLS, not the compiler


@examples(25)
@given(data=st.data())
async def test_concurrent_requests_never_see_each_others_tenant(
        fx: Fixture, data: st.DataObject) -> None:
    """Pooled connections, prepared statements, session settings (RLS on
    fraiseql.tenant_id) and the caches serve many callers at once."""
    request = st.tuples(st.sampled_from(["acme", "globex", "anonymous", "nobody"]), subjects,
                        st.sampled_from(["read", "cached", "invoices"]), read_variables(fx))
    batch = data.draw(st.lists(request, min_size=2, max_size=8), label="batch")

    async def send(who: str, subject: str | None, kind: str, variables: dict[str, Any]
                   ) -> tuple[Any, Any]:
        headers = caller(who, subject) if who in USERS else \
            {"anonymous": {}, "nobody": NO_TENANT}[who]
        if kind == "invoices":
            return await fx.post("{ invoiceTotal }", headers), \
                {"data": {"invoiceTotal": INVOICES[who]}}
        query, sent = (READ, variables) if kind == "read" else (CACHED, {
            k: variables[k] for k in ("where", "orderBy", "limit", "offset")})
        body = await fx.post(query, headers, sent)
        if who not in USERS:  # refused; filtering on a restricted field is refused too
            codes = [e["extensions"]["code"] for e in body.get("errors", [])]
            return (body.get("data"), codes[:1], set(codes[1:]) <= {"FORBIDDEN"}), \
                (None, ["TENANT_REQUIRED"], True)
        expected = expected_read(fx.model, who, variables)
        return body, {"data": expected if kind == "read" else {"projects": expected["projects"]}}

    results = await asyncio.gather(*(send(*r) for r in batch))
    for (got, expected), r in zip(results, batch, strict=True):
        assert got == expected, r[:3]
