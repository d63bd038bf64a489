"""The two-tenant fixture's schema, extended by the roots the isolation properties need.

tests/tenants_db.py declares the types and roots (its tests depend on
them as they are); this schema adds, over the same ``v_project``:

- ``exportProjects``: a page cap above STREAM_ROWS, so a large page is streamed;
- ``foundProjects`` / ``foundProject``: Python resolvers reading through
  ``db.find`` (where, order_by, limit) and ``db.find_one`` (by id).
"""

from __future__ import annotations

from typing import Any

from tenants_db import (
    SECRET,
    CreateProject,
    Project,
    Usage,
    audit_projects,
    bearer,
    first_project,
    invoice_total,
    project,
    projects,
)

import fraiseql
from fraiseql.auth import Auth
from fraiseql.auth.dev import DevAuthenticator


@fraiseql.query(max_page_size=100_000)
def export_projects(limit: int = 100) -> list[Project]:
    """Every project of the caller's tenant: an export, streamed when large."""


@fraiseql.query
async def found_projects(  # type: ignore[no-untyped-def]
        info, name_contains: str = "", limit: int = 100,
        newest_first: bool = False) -> list[Project]:
    """A Python resolver's find with a where, an order and a limit."""
    return await info.context["db"].find(
        "v_project", info, where={"name": {"contains": name_contains}},
        order_by=[{"id": "DESC" if newest_first else "ASC"}], limit=limit)


@fraiseql.query
async def found_project(info, id: int) -> Project | None:  # type: ignore[no-untyped-def]
    """A Python resolver's find_one by an id both tenants may have."""
    return await info.context["db"].find_one("v_project", info, id=id)


SCHEMA = fraiseql.build_schema(
    queries=[projects, project, invoice_total, first_project, audit_projects, export_projects,
             found_projects, found_project],
    mutations=[CreateProject], facts=[Usage])

USERS = {"acme": "ann", "globex": "gus"}  # each tenant's own caller
SHARED_USER = "sam"  # a subject with a token for each tenant


def caller(tenant: str, subject: str | None = None) -> dict[str, str]:
    """A caller of ``tenant`` allowed every field it reads (so nothing is masked) and
    to create projects: what it gets must be exactly its tenant's rows."""
    return bearer(subject or USERS[tenant], tenant_id=tenant, scopes=["read:pii"],
                  roles=["finance", "editor"])


def make_app(url: str, authz: Any = None, **settings: Any) -> Any:
    return fraiseql.create_app(SCHEMA, database_url=url, auth=Auth([DevAuthenticator(SECRET)]),
                               authz=authz, **settings)


PROJECT_FIELDS = "id tenant name tags ownerEmail budget members { name email }"

# Lists, counts and single objects (SQL and Python resolvers) in one document: one plan.
READ = f"""query Read($where: ProjectWhereInput, $orderBy: [ProjectOrderBy!], $limit: Int!,
    $offset: Int, $id: Int!, $contains: String!, $newest: Boolean!) {{
  projects(where: $where, orderBy: $orderBy, limit: $limit, offset: $offset) {{ ...P }}
  projectsCount(where: $where)
  project(id: $id) {{ ...P }}
  foundProjects(nameContains: $contains, limit: $limit, newestFirst: $newest) {{ ...P }}
  foundProject(id: $id) {{ ...P }}
  firstProject {{ ...P }}
}}
fragment P on Project {{ {PROJECT_FIELDS} }}"""

# Only result-cached roots: the whole response is cached (projects has cache_ttl=60).
CACHED = f"""query Cached($where: ProjectWhereInput, $orderBy: [ProjectOrderBy!], $limit: Int!,
    $offset: Int) {{
  projects(where: $where, orderBy: $orderBy, limit: $limit, offset: $offset) {{
    {PROJECT_FIELDS} }}
}}"""

CONNECTION = f"""query Page($where: ProjectWhereInput, $orderBy: [ProjectOrderBy!], $first: Int,
    $after: String, $last: Int, $before: String) {{
  projectsConnection(where: $where, orderBy: $orderBy, first: $first, after: $after,
                     last: $last, before: $before) {{
    totalCount
    edges {{ cursor node {{ {PROJECT_FIELDS} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""

MEASURES = "count sum { hours } avg { hours } min { hours } max { hours }"
AGGREGATE = f"""query Usage($where: UsageFactWhere, $groupBy: [UsageDimension!]) {{
  usageAggregate(where: $where, groupBy: $groupBy) {{ {MEASURES} }}
}}"""
AGGREGATE_BY_KIND = f"""query UsageByKind($where: UsageFactWhere) {{
  usageAggregate(where: $where, groupBy: [KIND]) {{ kind {MEASURES} }}
}}"""

CREATE = f"""mutation Create($name: String!) {{
  createProject(input: {{name: $name}}) {{ {PROJECT_FIELDS} }}
}}"""

EXPORT = f"""query Export($where: ProjectWhereInput, $orderBy: [ProjectOrderBy!], $limit: Int!,
    $offset: Int) {{
  exportProjects(where: $where, orderBy: $orderBy, limit: $limit, offset: $offset) {{
    {PROJECT_FIELDS} }}
}}"""
