"""Tenant isolation by the compiler, on every read path, with overlapping ids.

tests/tenants_db.py: tenants acme (12 projects) and globex (9), ids 1..n in
each; every name starts with its tenant. No RLS on tb_project: the compiler's
predicate alone keeps tenants apart here.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from fraiseql.testing.client import AppClient
from tenants_db import bearer, graphql, make_app, tenants  # noqa: F401 - the fixture

ACME = bearer("ann", tenant_id="acme")
GLOBEX = bearer("gus", tenant_id="globex")


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [row["name"] for row in rows]


async def test_lists_single_objects_and_counts_are_per_tenant(tenants: Any) -> None:
    _, url = tenants
    async with AppClient(make_app(url)) as client:
        acme = (await graphql(client, "{ projects { id name } project(id: 3) { name } "
                                      "projectsCount }", ACME))["data"]
        globex = (await graphql(client, "{ projects { id name } project(id: 3) { name } "
                                        "projectsCount }", GLOBEX))["data"]
    assert names(acme["projects"]) == [f"acme project {i}" for i in range(1, 13)]
    assert names(globex["projects"]) == [f"globex project {i}" for i in range(1, 10)]
    assert acme["project"] == {"name": "acme project 3"}
    assert globex["project"] == {"name": "globex project 3"}
    assert (acme["projectsCount"], globex["projectsCount"]) == (12, 9)


async def test_a_filtered_ordered_page_and_an_id_another_tenant_has(tenants: Any) -> None:
    _, url = tenants
    query = ('{ projects(where: {id: {gte: 8}}, orderBy: [{id: DESC}], limit: 3) { id name } '
             'project(id: 11) { name } }')
    async with AppClient(make_app(url)) as client:
        body = await graphql(client, query, GLOBEX)
    assert body == {"data": {"projects": [{"id": 9, "name": "globex project 9"},
                                          {"id": 8, "name": "globex project 8"}],
                             "project": None}}  # acme has an 11, globex does not


async def test_connection_pages_and_cursors_stay_in_the_tenant(tenants: Any) -> None:
    _, url = tenants
    page = ("query($after: String) { projectsConnection(first: 4, after: $after, "
            "orderBy: [{id: ASC}]) { totalCount edges { cursor node { id name } } "
            "pageInfo { hasNextPage endCursor } } }")
    seen: list[str] = []
    async with AppClient(make_app(url)) as client:
        after = None
        while True:
            body = await graphql(client, page, GLOBEX, {"after": after})
            connection = body["data"]["projectsConnection"]
            assert connection["totalCount"] == 9
            seen += [edge["node"]["name"] for edge in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        # globex's cursor (after id 8) presented by acme pages acme's rows: a cursor is
        # a position, never a row
        body = await graphql(client, page, ACME, {"after": after})
    assert seen == [f"globex project {i}" for i in range(1, 10)]
    assert names([e["node"] for e in body["data"]["projectsConnection"]["edges"]]) == [
        "acme project 9", "acme project 10", "acme project 11", "acme project 12"]


async def test_aggregates_are_per_tenant(tenants: Any) -> None:
    _, url = tenants
    query = "{ usageAggregate(groupBy: [KIND]) { kind count sum { hours } } }"
    async with AppClient(make_app(url)) as client:
        acme = (await graphql(client, query, ACME))["data"]["usageAggregate"]
        globex = (await graphql(client, query, GLOBEX))["data"]["usageAggregate"]
    by_kind = {row["kind"]: (row["count"], float(row["sum"]["hours"])) for row in acme}
    assert by_kind == {"build": (6, 42.0), "test": (6, 36.0)}
    by_kind = {row["kind"]: (row["count"], float(row["sum"]["hours"])) for row in globex}
    assert by_kind == {"build": (4, 20.0), "test": (5, 25.0)}


async def test_without_a_tenant_the_request_is_refused_before_sql(tenants: Any) -> None:
    _, url = tenants
    async with AppClient(make_app(url)) as client:
        anonymous = await graphql(client, "{ projects { name } }")
        no_tenant = await graphql(client, "{ projectsCount }", bearer("ann"))
        forged = await graphql(client, "{ projects { name } }", {"x-tenant-id": "acme"})
    for body in (anonymous, no_tenant, forged):
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["TENANT_REQUIRED"]


async def test_a_python_resolvers_find_is_scoped_and_rls_is_the_second_wall(
        tenants: Any) -> None:
    _, url = tenants
    async with AppClient(make_app(url)) as client:
        acme = await graphql(client, "{ firstProject { name } invoiceTotal }", ACME)
        globex = await graphql(client, "{ firstProject { name } invoiceTotal }", GLOBEX)
    assert acme == {"data": {"firstProject": {"name": "acme project 1"}, "invoiceTotal": 300}}
    assert globex == {"data": {"firstProject": {"name": "globex project 1"},
                               "invoiceTotal": 999}}


async def test_the_result_cache_keeps_tenants_apart(tenants: Any) -> None:
    _, url = tenants
    async with AppClient(make_app(url)) as client:
        first = await graphql(client, "{ projects(limit: 2) { name } }", ACME)
        second = await graphql(client, "{ projects(limit: 2) { name } }", GLOBEX)
        again = await graphql(client, "{ projects(limit: 2) { name } }", ACME)
    assert names(first["data"]["projects"]) == ["acme project 1", "acme project 2"]
    assert names(second["data"]["projects"]) == ["globex project 1", "globex project 2"]
    assert again == first


async def test_a_mutation_receives_the_tenant_and_returns_its_entity(tenants: Any) -> None:
    admin_url, url = tenants
    mutation = 'mutation { createProject(input: {name: "new"}) { id name tenant } }'
    editor = bearer("ed", tenant_id="globex", roles=["editor"])
    async with AppClient(make_app(url)) as client:
        body = await graphql(client, mutation, editor)
        refused = await graphql(client, mutation, bearer("ed", roles=["editor"]))
    assert body == {"data": {"createProject": {"id": 10, "name": "globex new",
                                               "tenant": "globex"}}}
    assert refused["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"
    conn = await asyncpg.connect(admin_url)
    try:
        rows = await conn.fetch("SELECT tenant_id, id FROM tb_project WHERE name LIKE '% new'")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [("globex", 10)]
