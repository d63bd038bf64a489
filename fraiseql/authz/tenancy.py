"""Tenant isolation in the compiler: every read of a tenant-scoped source is filtered.

    @fraiseql.type(sql_source="v_post", tenant_column="tenant_id")

Every statement that reads ``v_post`` - a list, a single object, a count, a
connection page and its lateral fetch by id, an aggregate, a Python resolver's
``find`` - carries ``v.tenant_id = $n``, the parameter bound from the request's
``tenant_id`` (the principal's, from a JWT claim or an accepted X-Tenant-ID header).
The plan is shared by all tenants; only the bound value differs, so a plan or a
prepared statement never carries one tenant's rows to another.

A request without a tenant that reads a required-tenant source is refused with
TENANT_REQUIRED before any SQL runs (fraiseql/authz/checkpoint.py); were that check
ever skipped, the parameter would be NULL and the predicate would match nothing.
A source declared ``tenant_required=False`` shows a request without a tenant only
its shared rows (tenant NULL): ``v.tenant_id IS NOT DISTINCT FROM $n``.

PostgreSQL row-level security on ``fraiseql.tenant_id`` is the second wall;
``fraiseql check`` warns where it is missing.
"""

from __future__ import annotations

from typing import Any

from fraiseql.compiler.context import SourceInfo
from fraiseql.compiler.sql import Params, ParamSource, ident
from fraiseql.compiler.values import to_text

TENANT_KEY = "tenant_id"  # the request context key the tenant is bound from


def tenant_predicate(ctx: Any, definition: Any, source: SourceInfo | None, params: Params,
                     alias: str = "v") -> str | None:
    """The tenant predicate on ``alias`` for a source declared by ``definition``, or None.

    ``definition``: a TypeDefinition or FactDefinition (their ``tenant_column``).
    Marks ``ctx`` as needing a tenant when the source requires one.
    """
    column = getattr(definition, "tenant_column", None)
    if column is None:
        return None
    cast = (source.columns.get(column) if source is not None else None) or "text"
    # One parameter per statement however often it is read (a statement's variants,
    # such as the streamed one, must not leave a parameter unused).
    placeholder = params.shared.get(cast)
    if placeholder is None:
        placeholder = params.shared[cast] = params.add(
            ParamSource(-1, (), to_text, context_key=TENANT_KEY), f"text::{cast}")
    if definition.tenant_required:
        ctx.tenant_required = True
        return f"{alias}.{ident(column)} = {placeholder}"
    return f"{alias}.{ident(column)} IS NOT DISTINCT FROM {placeholder}"


def missing_tenant_columns(schema: Any, sources: dict[str, SourceInfo]) -> list[str]:
    """Why the database cannot serve the declared tenancy: one line per missing column."""
    problems = []
    declared = [(o.name, o.definition, o.definition.sql_source)
                for o in schema.objects.values()] + [
        (f.name, f.definition, f.definition.sql_source) for f in schema.facts.values()]
    # A root reading a tenant-scoped type from a view of its own filters that view too.
    declared += [(root.object.name, root.object.definition, root.sql_source)
                 for root in schema.queries.values()
                 if root.object is not None and root.sql_source is not None
                 and root.sql_source != root.object.definition.sql_source]
    for name, definition, source in declared:
        column = getattr(definition, "tenant_column", None)
        if column is None or source is None or source not in sources:
            continue
        if column not in sources[source].columns:
            problems.append(f"{name} is tenant-scoped by column {column!r}, but {source} has "
                            f"no such column (of a comparable type)")
    return problems
