"""Adversarial review of the authorization work: each test is one finding.

The two-tenant fixture (tests/tenants_db.py); the caller is tenant acme's ``ann``
(no roles, no scopes) unless a test says otherwise.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tenants_db import (  # noqa: F401 - tenants is the fixture
    SECRET,
    Project,
    bearer,
    first_project,
    graphql,
    projects,
    tenants,
)

import fraiseql
from fraiseql.auth import Auth
from fraiseql.auth.dev import DevAuthenticator
from fraiseql.authz import Authorization
from fraiseql.testing.client import AppClient

ANN = bearer("ann", tenant_id="acme")


async def admin_fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


@fraiseql.mutation
async def add_project(info, name: str) -> Project:  # type: ignore[no-untyped-def]
    """Insert project 99 of the caller's tenant; answer it as a plain dict."""
    tenant = info.context["tenant_id"]
    await info.context["db"].execute(
        "INSERT INTO tb_project (tenant_id, id, name, secret) VALUES ($1, 99, $2, 's')",
        tenant, name)
    return {"id": 99, "tenant": tenant, "name": name, "tags": [], "members": [],
            "owner_email": None, "budget": None, "secret": "s"}


PYTHON_ROOTS = fraiseql.build_schema(queries=[projects, first_project],
                                     mutations=[add_project])


def audited_app(url: str, schema: Any) -> Any:
    return fraiseql.create_app(schema, database_url=url, auth=Auth([DevAuthenticator(SECRET)]),
                               authz=Authorization(audit=True))


async def test_a_python_mutation_selecting_a_rejected_field_is_refused_before_it_writes(
        tenants: Any) -> None:
    admin_url, url = tenants
    async with AppClient(audited_app(url, PYTHON_ROOTS)) as client:
        refused = await graphql(client, 'mutation { addProject(name: "n") { id secret } }',
                                ANN)
        mixed = await graphql(client, "{ projects(limit: 1) { name } firstProject { secret } }",
                              ANN)
    assert refused == {"errors": [{"message": "reading Project.secret needs role admin",
                                   "path": ["addProject"],
                                   "extensions": {"code": "FORBIDDEN"}}], "data": None}
    assert await admin_fetch(admin_url, "SELECT id FROM tb_project WHERE id = 99") == []
    # One refused root refuses the whole request, a Python one included.
    assert mixed == {"errors": [{"message": "reading Project.secret needs role admin",
                                 "path": ["firstProject"],
                                 "extensions": {"code": "FORBIDDEN"}}], "data": None}
    assert await admin_fetch(admin_url, "SELECT actor, operation, kind, outcome "
                                        "FROM fraiseql.audit_log ORDER BY id") == [
        ("ann", "addProject", "denied", "denied"), ("ann", "projects,firstProject", "denied", "denied")]


async def test_suggestions_do_not_name_operations_or_fields_hidden_from_the_caller(
        tenants: Any) -> None:
    from tenants_db import make_app
    _, url = tenants
    async with AppClient(make_app(url)) as client:
        operation = await graphql(client, "{ auditProject { id } }", ANN)
        field = await graphql(client, "{ project(id: 1) { secre } }", ANN)
        visible = await graphql(client, "{ project(id: 1) { nmae } }", ANN)
        admin = await graphql(client, "{ project(id: 1) { secre } }",
                              bearer("ada", tenant_id="acme", roles=["admin"]))
    assert operation["errors"][0]["message"] == \
        "Cannot query field 'auditProject' on type 'Query'."
    assert field["errors"][0]["message"] == "Cannot query field 'secre' on type 'Project'."
    assert visible["errors"][0]["message"] == \
        "Cannot query field 'nmae' on type 'Project'. Did you mean 'name'?"
    assert admin["errors"][0]["message"] == \
        "Cannot query field 'secre' on type 'Project'. Did you mean 'secret'?"


async def test_introspection_of_filter_and_sort_inputs_hides_rejected_fields(
        tenants: Any) -> None:
    from tenants_db import make_app
    _, url = tenants
    query = ('{ where: __type(name: "ProjectWhereInput") { inputFields { name } } '
             'order: __type(name: "ProjectOrderBy") { inputFields { name } } }')
    async with AppClient(make_app(url)) as client:
        plain = (await graphql(client, query, ANN))["data"]
        admin = (await graphql(client, query,
                               bearer("ada", tenant_id="acme", roles=["admin"])))["data"]
    names = {key: [f["name"] for f in value["inputFields"]] for key, value in plain.items()}
    assert names == {"where": ["id", "tenant", "name", "tags", "members", "ownerEmail", "budget",
                               "_and", "_or", "_not"],
                     "order": ["id", "tenant", "name", "ownerEmail", "budget"]}
    assert "secret" in [f["name"] for f in admin["where"]["inputFields"]]
    assert "secret" in [f["name"] for f in admin["order"]["inputFields"]]


@fraiseql.query(sql_source="v_project_names")
def project_names(limit: int = 10) -> list[Project]:
    """Projects read from a view of the root's own, which lacks the tenant column."""


async def test_a_root_view_without_the_tenant_column_fails_the_boot(tenants: Any) -> None:
    from fraiseql.errors import DatabaseSetupError
    admin_url, url = tenants
    await admin_fetch(admin_url, "CREATE VIEW v_project_names AS SELECT id, data FROM v_project")
    await admin_fetch(admin_url, "GRANT SELECT ON v_project_names TO "
                                 + url.split("//")[1].split("@")[0])
    app = fraiseql.create_app(fraiseql.build_schema(queries=[projects, project_names]),
                              database_url=url)
    conn = await asyncpg.connect(url)
    try:
        try:
            await app.engine.load_sources(conn)
        except DatabaseSetupError as exc:
            message = str(exc)
        else:
            message = "booted"
    finally:
        await conn.close()
    assert message == ("Project is tenant-scoped by column 'tenant_id', but v_project_names has "
                       "no such column (of a comparable type)")


async def test_a_resolver_find_refused_for_want_of_a_tenant_is_audited(tenants: Any) -> None:
    admin_url, url = tenants
    async with AppClient(audited_app(url, PYTHON_ROOTS)) as client:
        body = await graphql(client, "{ firstProject { name } }", bearer("nat"))
    assert body["data"] == {"firstProject": None}
    assert body["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"
    assert await admin_fetch(admin_url, "SELECT actor, tenant_id, operation, kind, outcome, "
                                        "detail->'errors'->0->>'code' "
                                        "FROM fraiseql.audit_log ORDER BY id") == [
        ("nat", None, "firstProject", "denied", "denied", "TENANT_REQUIRED")]


@fraiseql.type(sql_source="v_project", tenant_column="tenant_id")
class RequiredEmail:
    """A project whose owner email is declared non-null (project 4's is NULL)."""

    id: int
    owner_email: str = fraiseql.field(requires_scope="read:pii", on_deny="mask", mask="redact")


@fraiseql.query
def required_email(id: int) -> RequiredEmail | None:
    """One project, its email masked without read:pii."""


async def test_a_masked_non_null_field_whose_value_is_null_is_a_field_error(
        tenants: Any) -> None:
    _, url = tenants
    app = fraiseql.create_app(fraiseql.build_schema(queries=[required_email]), database_url=url,
                              auth=Auth([DevAuthenticator(SECRET)]))
    query = "{ requiredEmail(id: 4) { id ownerEmail } }"
    async with AppClient(app) as client:
        plain = await graphql(client, query, ANN)
        pii = await graphql(client, query, bearer("pat", tenant_id="acme", scopes=["read:pii"]))
        shown = await graphql(client, "{ requiredEmail(id: 3) { ownerEmail } }", ANN)
    error = {"errors": [{"message": "Cannot return null for non-nullable field.",
                         "path": ["requiredEmail", "ownerEmail"],
                         "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
             "data": {"requiredEmail": None}}
    assert pii == error
    assert plain == error  # not {"ownerEmail": null} in a non-null field
    assert shown == {"data": {"requiredEmail": {"ownerEmail": "***"}}}
