"""Authorization with the role store, the X-Tenant-ID header and the audit log.

The two-tenant fixture (tests/tenants_db.py), served by an app created with
``authz=Authorization(roles=True, audit=True)``: grants in the database decide roles and
permissions per tenant, an authenticated caller may act for a tenant where it holds a
grant, and every mutation and every refusal leaves one chained audit record.
"""

from __future__ import annotations

from typing import Any

import asyncpg

import fraiseql
from fraiseql.authz import Authorization
from fraiseql.authz.audit import verify
from fraiseql.testing.client import AppClient
from tenants_db import (  # noqa: F401 - tenants is the fixture
    CreateProject,
    Project,
    audit_projects,
    bearer,
    graphql,
    invoice_total,
    make_app,
    projects,
    tenants,
)

MUTATION = 'mutation { createProject(input: {name: "audited"}) { id name } }'


@fraiseql.query(requires="project:export")
def project_export(limit: int = 100) -> list[Project]:
    """Needs the project:export permission (from a role granted in the database)."""


SCHEMA = fraiseql.build_schema(queries=[projects, audit_projects, project_export, invoice_total],
                               mutations=[CreateProject])


async def admin_sql(url: str, sql: str) -> list[Any]:
    """Rows of a query, or (several statements) nothing, as the superuser."""
    conn = await asyncpg.connect(url)
    try:
        if sql.count(";") > 1 or sql.rstrip().endswith(";"):
            await conn.execute(sql)
            return []
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def audit_rows(url: str) -> list[tuple[Any, ...]]:
    rows = await admin_sql(url, "SELECT actor, tenant_id, operation, kind, outcome, "
                                "detail->>'entity_id' FROM fraiseql.audit_log ORDER BY id")
    return [tuple(r) for r in rows]


def authorized_app(url: str) -> Any:
    from fraiseql.auth import Auth
    from fraiseql.auth.dev import DevAuthenticator
    from tenants_db import SECRET
    return fraiseql.create_app(SCHEMA, database_url=url, auth=Auth([DevAuthenticator(SECRET)]),
                               authz=Authorization(roles=True, audit=True))


async def test_granted_roles_and_permissions_decide_per_tenant(tenants: Any) -> None:
    admin_url, url = tenants
    await admin_sql(admin_url, """
        SELECT fraiseql.create_role('exporter');
        SELECT fraiseql.allow('exporter', 'project:*');
        SELECT fraiseql.create_role('auditor', NULL, '{exporter}');
        SELECT fraiseql.deny('auditor', 'project:delete');
        SELECT fraiseql.grant_role('ann', 'auditor', 'acme');""")
    export = "{ projectExport(limit: 2) { name } }"
    async with AppClient(authorized_app(url)) as client:
        acme = await graphql(client, export, bearer("ann", tenant_id="acme"))
        other = await graphql(client, export, bearer("bob", tenant_id="acme"))
    assert acme == {"data": {"projectExport": [{"name": "acme project 1"},
                                               {"name": "acme project 2"}]}}
    assert other["errors"][0]["message"] == \
        "running query projectExport needs permission project:export"


async def test_the_tenant_header_is_accepted_only_where_the_caller_holds_a_grant(
        tenants: Any) -> None:
    admin_url, url = tenants
    await admin_sql(admin_url, "SELECT fraiseql.create_role('viewer'); "
                               "SELECT fraiseql.grant_role('ann', 'viewer', 'globex');")
    query = "{ projects(limit: 1) { name } }"
    ann = bearer("ann", tenant_id="acme")
    invoices = "{ invoiceTotal }"  # row-level security on fraiseql.tenant_id, not the compiler
    async with AppClient(authorized_app(url)) as client:
        own = await graphql(client, query, ann)
        granted = await graphql(client, query, {**ann, "x-tenant-id": "globex"})
        own_invoices = await graphql(client, invoices, ann)
        granted_invoices = await graphql(client, invoices, {**ann, "x-tenant-id": "globex"})
        refused = await graphql(client, query, {**ann, "x-tenant-id": "initech"}, status=403)
        anonymous = await graphql(client, query, {"x-tenant-id": "globex"})
    assert own == {"data": {"projects": [{"name": "acme project 1"}]}}
    assert granted == {"data": {"projects": [{"name": "globex project 1"}]}}
    assert (own_invoices, granted_invoices) == ({"data": {"invoiceTotal": 300}},
                                                {"data": {"invoiceTotal": 999}})
    assert refused == {"errors": [{"message": "you may not act for tenant 'initech'",
                                   "extensions": {"code": "FORBIDDEN"}}]}
    assert anonymous["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"
    assert await audit_rows(admin_url) == [
        ("ann", "acme", "X-Tenant-ID", "denied", "denied", None),
        (None, None, "projects", "denied", "denied", None)]


async def test_a_mutation_and_its_audit_record_commit_together(tenants: Any) -> None:
    admin_url, url = tenants
    await admin_sql(admin_url, "SELECT fraiseql.create_role('editor'); "
                               "SELECT fraiseql.grant_role('ed', 'editor', 'globex');")
    async with AppClient(authorized_app(url)) as client:
        created = await graphql(client, MUTATION, bearer("ed", tenant_id="globex",
                                                         roles=["viewer"]))
    assert created == {"data": {"createProject": {"id": 10, "name": "globex audited"}}}
    assert await audit_rows(admin_url) == [("ed", "globex", "createProject", "mutation",
                                            "success", "10")]
    conn = await asyncpg.connect(admin_url)
    try:
        assert (await verify(conn)).broken is None
    finally:
        await conn.close()


async def test_a_denied_mutation_writes_nothing_but_its_audit_record(tenants: Any) -> None:
    admin_url, url = tenants
    before = await admin_sql(admin_url, "SELECT count(*) AS n FROM tb_project")
    changes = await admin_sql(admin_url, "SELECT count(*) AS n FROM fraiseql.change_log")
    async with AppClient(authorized_app(url)) as client:
        denied = await graphql(client, MUTATION, bearer("ann", tenant_id="acme"))
    assert denied["data"] is None
    assert denied["errors"][0] == {"message": "running mutation createProject needs role "
                                              "editor", "path": ["createProject"],
                                   "extensions": {"code": "FORBIDDEN"}}
    assert await admin_sql(admin_url, "SELECT count(*) AS n FROM tb_project") == before
    assert await admin_sql(admin_url, "SELECT count(*) AS n FROM fraiseql.change_log") == \
        changes
    assert await audit_rows(admin_url) == [("ann", "acme", "createProject", "denied",
                                            "denied", None)]
    detail = await admin_sql(admin_url, "SELECT detail, trace_id FROM fraiseql.audit_log")
    assert '"code": "FORBIDDEN"' in detail[0]["detail"] and len(detail[0]["trace_id"]) == 32


async def test_the_trace_id_of_a_traceparent_header_is_recorded(tenants: Any) -> None:
    admin_url, url = tenants
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with AppClient(make_app(url)) as client:  # no authz: no audit
        await graphql(client, MUTATION, bearer("ann", tenant_id="acme"))
    async with AppClient(authorized_app(url)) as client:
        await graphql(client, MUTATION, {**bearer("ann", tenant_id="acme"),
                                         "traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
    rows = await admin_sql(admin_url, "SELECT trace_id FROM fraiseql.audit_log")
    assert [r["trace_id"] for r in rows] == [trace]


async def test_a_role_store_that_cannot_be_reached_answers_503(
        tenants: Any) -> None:
    from fraiseql.auth import Auth
    from fraiseql.auth.dev import DevAuthenticator
    from fraiseql.authz import RoleStore
    from tenants_db import SECRET
    _, url = tenants
    store = RoleStore("postgresql://nobody@127.0.0.1:9/none", connect_timeout_s=1)
    app = fraiseql.create_app(SCHEMA, database_url=url, auth=Auth([DevAuthenticator(SECRET)]),
                              authz=Authorization(roles=store))
    async with AppClient(app) as client:
        down = await graphql(client, "{ projects(limit: 1) { name } }",
                             bearer("ann", tenant_id="acme"), status=503)
        anonymous = await graphql(client, "{ projects(limit: 1) { name } }")
    assert down["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert anonymous["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"  # no store asked


async def test_audit_on_a_database_without_the_audit_log_fails_the_boot(tenants: Any) -> None:
    import pytest

    from fraiseql.errors import ConfigurationError
    admin_url, url = tenants
    await admin_sql(admin_url, "DROP TABLE fraiseql.audit_log CASCADE;")
    app = authorized_app(url)
    with pytest.raises(ConfigurationError, match=r"^the audit log is on but the database has "
                                                 r"no fraiseql\.audit_log: run `fraiseql"):
        await app.startup()
    assert app.engine.pool is None  # nothing left open: the role store was not started
    assert app.authz is not None and app.authz.store is None
