"""Operation and field rules: FORBIDDEN before SQL, masks computed in SQL, per caller.

Project.owner_email and Member.email are masked without scope read:pii (email mask),
Project.budget is null without role finance, Project.secret is refused without role
admin (tests/tenants_db.py).
"""

from __future__ import annotations

from typing import Any

from graphql import get_introspection_query

from fraiseql.testing.client import AppClient
from tenants_db import bearer, graphql, make_app, tenants  # noqa: F401 - the fixture

PLAIN = bearer("ann", tenant_id="acme")
PII = bearer("pat", tenant_id="acme", scopes=["read:pii"])
FINANCE = bearer("fin", tenant_id="acme", roles=["finance"])
ADMIN = bearer("ada", tenant_id="acme", roles=["admin"], scopes=["read:pii"])
QUERY = "{ project(id: 3) { id ownerEmail budget members { name email } } }"


async def test_masks_follow_the_caller_in_objects_nested_objects_and_lists(
        tenants: Any) -> None:
    _, url = tenants
    async with AppClient(make_app(url)) as client:
        plain = (await graphql(client, QUERY, PLAIN))["data"]["project"]
        pii = (await graphql(client, QUERY, PII))["data"]["project"]
        finance = (await graphql(client, QUERY, FINANCE))["data"]["project"]
        listed = (await graphql(client, "{ projects(limit: 2) { ownerEmail members { email } }"
                                        " }", PLAIN))["data"]["projects"]
    assert plain == {"id": 3, "ownerEmail": "a***@example.com", "budget": None,
                     "members": [{"name": "acme member 3", "email": "m***@acme.test"}]}
    assert pii == {"id": 3, "ownerEmail": "acme3@example.com", "budget": None,
                   "members": [{"name": "acme member 3", "email": "m3@acme.test"}]}
    assert finance["budget"] == 3000 and finance["ownerEmail"] == "a***@example.com"
    assert listed == [{"ownerEmail": "a***@example.com", "members": [{"email": "m***@acme.test"}]},
                      {"ownerEmail": "a***@example.com", "members": [{"email": "m***@acme.test"}]}]


async def test_one_plan_serves_every_caller(tenants: Any) -> None:
    _, url = tenants
    app = make_app(url)
    async with AppClient(app) as client:
        for headers in (PLAIN, PII, PLAIN, PII):
            await graphql(client, QUERY, headers)
        assert len(app.engine.plans._plans) == 1  # the mask is a bound value, not SQL text
        assert (await graphql(client, QUERY, PII))["data"]["project"]["ownerEmail"] == \
            "acme3@example.com"


async def test_a_refused_field_or_operation_is_forbidden_before_sql(tenants: Any) -> None:
    _, url = tenants
    async with AppClient(make_app(url)) as client:
        secret = await graphql(client, "{ project(id: 1) { name secret } }", PLAIN)
        allowed = await graphql(client, "{ project(id: 1) { secret } }", ADMIN)
        operation = await graphql(client, "{ auditProjects { name } }", PII)
        admin = await graphql(client, "{ auditProjects(limit: 1) { name } }", ADMIN)
    assert secret == {"errors": [{"message": "reading Project.secret needs role admin",
                                  "path": ["project"], "extensions": {"code": "FORBIDDEN"}}],
                      "data": None}
    assert allowed == {"data": {"project": {"secret": "acme secret 1"}}}
    assert operation["data"] is None
    assert operation["errors"][0]["message"] == "running query auditProjects needs role admin"
    assert admin == {"data": {"auditProjects": [{"name": "acme project 1"}]}}


async def test_filtering_or_ordering_on_a_masked_field_is_forbidden(tenants: Any) -> None:
    _, url = tenants
    probes = ['{ projects(where: {ownerEmail: {startsWith: "acme1"}}) { id } }',
              '{ projects(orderBy: [{budget: DESC}]) { id } }',
              '{ projects(where: {members: {any: {email: {contains: "m1@"}}}}) { id } }',
              '{ projectsCount(where: {ownerEmail: {isnull: false}}) }']
    async with AppClient(make_app(url)) as client:
        for probe in probes:
            body = await graphql(client, probe, PLAIN)
            assert body["data"] is None, probe
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", probe
        allowed = await graphql(client, probes[0], PII)
    assert allowed == {"data": {"projects": [{"id": 1}, {"id": 10}, {"id": 11}]}}


async def test_python_resolved_objects_obey_the_same_rules(tenants: Any) -> None:
    _, url = tenants
    async with AppClient(make_app(url)) as client:
        plain = await graphql(client, "{ firstProject { ownerEmail members { email } } }",
                              PLAIN)
        refused = await graphql(client, "{ firstProject { secret } }", PLAIN)
    assert plain == {"data": {"firstProject": {"ownerEmail": "a***@example.com",
                                               "members": [{"email": "m***@acme.test"}]}}}
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_introspection_shows_only_what_the_caller_may_use(tenants: Any) -> None:
    _, url = tenants
    query = "{ __type(name: \"Project\") { fields { name } } __schema { queryType { fields " \
            "{ name } } } }"
    async with AppClient(make_app(url)) as client:
        plain = (await graphql(client, query, PLAIN))["data"]
        admin = (await graphql(client, query, ADMIN))["data"]
        full = await graphql(client, get_introspection_query(), PLAIN)
    plain_fields = {f["name"] for f in plain["__type"]["fields"]}
    admin_fields = {f["name"] for f in admin["__type"]["fields"]}
    assert admin_fields - plain_fields == {"secret"}  # masked fields stay: they answer
    assert {"ownerEmail", "budget"} <= plain_fields
    plain_roots = {f["name"] for f in plain["__schema"]["queryType"]["fields"]}
    admin_roots = {f["name"] for f in admin["__schema"]["queryType"]["fields"]}
    assert {"auditProjects", "auditProjectsConnection", "auditProjectsCount"} <= admin_roots
    assert not {"auditProjects", "auditProjectsConnection", "auditProjectsCount"} & plain_roots
    assert "errors" not in full and full["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_policies_and_suggestions(tenants: Any) -> None:
    _, url = tenants
    typo = "{ projects { nmae } }"
    async with AppClient(make_app(url, introspection="disabled")) as client:
        refused = await graphql(client, "{ __schema { queryType { name } } }", ADMIN)
        hint = await graphql(client, typo, ADMIN)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert hint["errors"][0]["message"] == "Cannot query field 'nmae' on type 'Project'."
    async with AppClient(make_app(url, introspection="authenticated")) as client:
        anonymous = await graphql(client, "{ __schema { queryType { name } } }")
        signed_in = await graphql(client, "{ __schema { queryType { name } } }", PLAIN)
        hint_anonymous = await graphql(client, typo)
        hint_signed_in = await graphql(client, typo, PLAIN)
    assert anonymous["errors"][0]["message"] == \
        "introspection is not available to anonymous callers"
    assert signed_in == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean" not in hint_anonymous["errors"][0]["message"]
    assert "Did you mean 'name'?" in hint_signed_in["errors"][0]["message"]
