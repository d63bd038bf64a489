"""Two tenants whose rows share ids, read by an ordinary role (RLS applies to it).

Tenants ``acme`` and ``globex`` each own projects with ids 1..N (overlapping), each
project's name starting with its tenant's name, so a row of the wrong tenant is
recognisable in any response. ``tb_project`` has no row-level security on purpose:
these tests prove the compiler's tenant predicate alone. ``tb_invoice`` has forced RLS
on ``fraiseql.tenant_id`` behind a ``security_invoker`` view: the second wall, seen
through a Python resolver's raw SQL, which no compiler predicate covers.

The app connects as a fresh NOSUPERUSER NOBYPASSRLS role.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
import pytest_asyncio

import fraiseql
from fraiseql.auth import Auth
from fraiseql.auth.dev import DevAuthenticator, make_dev_token
from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)

SECRET = "tenant-test-secret-" + "y" * 40
TENANTS = {"acme": 12, "globex": 9}  # projects per tenant; ids 1..n in each

SETUP = """
CREATE TABLE tb_project (
    tenant_id text NOT NULL, id int NOT NULL, name text NOT NULL, owner_email text,
    budget int, secret text, tags text[] NOT NULL DEFAULT '{}',
    members jsonb NOT NULL DEFAULT '[]', PRIMARY KEY (tenant_id, id));
INSERT INTO tb_project
SELECT t.tenant, i, t.tenant || ' project ' || i,
       CASE WHEN i % 4 = 0 THEN NULL ELSE t.tenant || i || '@example.com' END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1000 END,
       t.tenant || ' secret ' || i,
       ARRAY[t.tenant, 'p' || (i % 3)],
       jsonb_build_array(jsonb_build_object('name', t.tenant || ' member ' || i,
                                            'email', 'm' || i || '@' || t.tenant || '.test'))
FROM (VALUES ('acme', {acme}), ('globex', {globex})) AS t(tenant, n),
     generate_series(1, t.n) AS i;
CREATE VIEW v_project WITH (security_invoker = true) AS
SELECT id, tenant_id, name,
       jsonb_build_object('id', id, 'tenant', tenant_id, 'name', name,
                          'owner_email', owner_email, 'budget', budget, 'secret', secret,
                          'tags', tags, 'members', members) AS data
FROM tb_project;

CREATE TABLE tf_usage (
    tenant_id text NOT NULL, project_id int NOT NULL, hours numeric NOT NULL,
    occurred_at timestamptz NOT NULL, dimensions jsonb NOT NULL);
INSERT INTO tf_usage
SELECT p.tenant_id, p.id, p.id, timestamptz '2025-01-01' + p.id * interval '1 day',
       jsonb_build_object('kind', CASE WHEN p.id % 2 = 0 THEN 'build' ELSE 'test' END)
FROM tb_project AS p;

CREATE TABLE tb_invoice (tenant_id text NOT NULL, id int NOT NULL, amount int NOT NULL);
ALTER TABLE tb_invoice ENABLE ROW LEVEL SECURITY;
ALTER TABLE tb_invoice FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON tb_invoice
  USING (tenant_id = nullif(current_setting('fraiseql.tenant_id', true), ''));
INSERT INTO tb_invoice VALUES ('acme', 1, 100), ('acme', 2, 200), ('globex', 1, 999);

CREATE FUNCTION fn_create_project(tenant text, actor text, input jsonb)
RETURNS fraiseql.mutation_result LANGUAGE plpgsql AS $$
DECLARE new_id int;
BEGIN
    SELECT coalesce(max(id), 0) + 1 INTO new_id FROM tb_project WHERE tenant_id = tenant;
    INSERT INTO tb_project (tenant_id, id, name, owner_email)
    VALUES (tenant, new_id, tenant || ' ' || (input->>'name'), actor || '@example.com');
    RETURN fraiseql.success('Project', new_id::text,
                            (SELECT data FROM v_project WHERE tenant_id = tenant AND id = new_id));
END $$;

CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS;
GRANT USAGE ON SCHEMA fraiseql TO {role};
GRANT SELECT, INSERT ON fraiseql.change_log TO {role};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA fraiseql TO {role};
GRANT SELECT, INSERT ON tb_project TO {role};
GRANT SELECT ON v_project, tf_usage, tb_invoice TO {role};
"""
# What the app role needs of the authorization tables, once they exist.
GRANTS_IF_PRESENT = """
DO $$ BEGIN
  IF to_regclass('fraiseql.audit_log') IS NOT NULL THEN
    EXECUTE 'GRANT INSERT, SELECT (id) ON fraiseql.audit_log TO {role}';
  END IF;
  IF to_regprocedure('fraiseql.effective_access(text,text,text[])') IS NOT NULL THEN
    EXECUTE 'GRANT EXECUTE ON FUNCTION fraiseql.effective_access(text,text,text[]) TO {role}';
  END IF;
END $$;
"""


@fraiseql.type
class Member:
    """Someone on a project; the email is personal data."""

    name: str
    email: str | None = fraiseql.field(requires_scope="read:pii", on_deny="mask", mask="email")


@fraiseql.type(sql_source="v_project", tenant_column="tenant_id")
class Project:
    """A tenant's project."""

    id: int
    tenant: str
    name: str
    tags: list[str]
    members: list[Member]
    owner_email: str | None = fraiseql.field(requires_scope="read:pii", on_deny="mask",
                                             mask="email")
    budget: int | None = fraiseql.field(requires_role="finance", on_deny="mask")
    secret: str | None = fraiseql.field(requires_role="admin")


@fraiseql.query(cache_ttl=60)
def projects(limit: int = 100) -> list[Project]:
    """The caller's tenant's projects."""


@fraiseql.query
def project(id: int) -> Project | None:
    """One project of the caller's tenant."""


@fraiseql.query
async def invoice_total(info) -> int:  # type: ignore[no-untyped-def]
    """The invoices the caller's statements see: RLS, not the compiler, filters them."""
    row = await info.context["db"].fetchrow("SELECT coalesce(sum(amount), 0) AS n "
                                            "FROM tb_invoice")
    return int(row["n"])


@fraiseql.query
async def first_project(info) -> Project | None:  # type: ignore[no-untyped-def]
    """A Python resolver's find: compiled with the tenant predicate like any read."""
    return await info.context["db"].find_one("v_project", info, id=1)


@fraiseql.query(requires_role="admin")
def audit_projects(limit: int = 100) -> list[Project]:
    """Admins only."""


@fraiseql.fact(sql_source="tf_usage", tenant_column="tenant_id")
class Usage:
    """Hours spent, per tenant."""

    hours: float = fraiseql.measure()
    kind: str = fraiseql.dimension()
    occurred_at: datetime.datetime = fraiseql.time_dimension()


@fraiseql.input
class CreateProjectInput:
    """A new project's name."""

    name: str


@fraiseql.mutation(function="fn_create_project", context_params=("tenant_id", "user_id"),
                   requires_role="editor")
class CreateProject:
    """Create a project in the caller's tenant (editors only)."""

    input: CreateProjectInput
    success: Project


SCHEMA = fraiseql.build_schema(
    queries=[projects, project, invoice_total, first_project, audit_projects],
    mutations=[CreateProject], facts=[Usage])


def url_as(url: str, role: str) -> str:
    """``url`` logging in as ``role`` instead of the superuser."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))


def bearer(subject: str, **claims: Any) -> dict[str, str]:
    return {"authorization": "Bearer " + make_dev_token(SECRET, subject, **claims)}


def make_app(url: str, authz: Any = None, **settings: Any) -> Any:
    return fraiseql.create_app(SCHEMA, database_url=url, auth=Auth([DevAuthenticator(SECRET)]),
                               authz=authz, **settings)


async def graphql(client: AppClient, query: str, headers: dict[str, str] | None = None,
                  variables: dict[str, Any] | None = None, status: int = 200) -> Any:
    response = await client.post_graphql(query, variables=variables, headers=headers)
    assert response.status_code == status, response.text
    return orjson.loads(response.content)


async def build(server: TestServer, template: str,
                sizes: Mapping[str, int] | None = None) -> tuple[str, str, str]:
    """(superuser URL, app role URL, database name) of a new two-tenant database.

    ``sizes``: projects per tenant instead of :data:`TENANTS` (e.g. one tenant large
    enough for a streamed page).
    """
    sizes = {**TENANTS, **(sizes or {})}
    name = unique_database_name("fraiseql_tenants")
    admin_url = await create_database(server, name, template=template)
    role = f"app_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        setup = SETUP.replace("{acme}", str(sizes["acme"])).replace(
            "{globex}", str(sizes["globex"]))
        await conn.execute(setup.replace("{role}", role))
        await conn.execute(GRANTS_IF_PRESENT.replace("{role}", role))
    finally:
        await conn.close()
    return admin_url, url_as(admin_url, role), name


@pytest_asyncio.fixture(loop_scope="session")
async def tenants(pg_server: TestServer, blog_template: str) -> AsyncIterator[tuple[str, str]]:
    """(superuser URL, app role URL) of a fresh two-tenant database for one test."""
    admin_url, app_url, name = await build(pg_server, blog_template)
    yield admin_url, app_url
    await drop_database(pg_server, name)
