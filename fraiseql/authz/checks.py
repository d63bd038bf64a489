"""Security warnings of ``fraiseql check``: where row-level security would not apply.

``security_warnings(conn, schema)`` returns one line per finding, read from the
catalog as the role of ``conn`` (the role the server connects as):

- that role is a superuser or has BYPASSRLS: no policy applies to anything it reads;
- for each type declared tenant-scoped (``@fraiseql.type(..., tenant_column=...)``),
  every view it is read from (its ``sql_source`` and any root field's own source), and
  every view those read, recursively: a view that is not ``security_invoker`` reads its
  tables with its owner's rights, not the caller's; every table reached without row-level
  security enabled AND forced is read unfiltered (or unfiltered by its owner); a
  materialized view's stored rows have no policies at all.

What a view reads is its rewrite rule's dependencies (``pg_depend``); tables read only
inside functions the view calls are not seen.
"""

from __future__ import annotations

from typing import Any

_ROLE_SQL = """
SELECT current_user::text AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls
FROM pg_roles AS r WHERE r.rolname = current_user
"""

# The source itself and every relation reached through views (not through materialized
# views: their rows are stored), with what decides whether policies apply to it.
_REACHED_SQL = """
WITH RECURSIVE reached(oid) AS (
    SELECT to_regclass($1)::oid
  UNION
    SELECT d.refobjid
    FROM reached AS r
    JOIN pg_class AS v ON v.oid = r.oid AND v.relkind = 'v'
    JOIN pg_rewrite AS w ON w.ev_class = v.oid
    JOIN pg_depend AS d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                       AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid
)
SELECT c.oid::regclass::text AS name, c.relkind::text AS kind,
       c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
       coalesce((SELECT o.option_value::boolean FROM pg_options_to_table(c.reloptions) AS o
                 WHERE o.option_name = 'security_invoker'), false) AS invoker,
       c.oid = to_regclass($1) AS is_source
FROM reached JOIN pg_class AS c ON c.oid = reached.oid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY c.oid = to_regclass($1) DESC, c.oid::regclass::text
"""


async def security_warnings(conn: Any, schema: Any) -> list[str]:
    """Every reason row-level security might not protect tenant-scoped data, one line each."""
    warnings = await role_warnings(conn)
    for type_name, (column, sources) in tenant_scoped_sources(schema).items():
        seen: set[str] = set()
        for source in sources:
            for line in await source_warnings(conn, source):
                if line not in seen:  # two sources over one table: named once per type
                    seen.add(line)
                    warnings.append(f"{type_name} (tenant_column {column}): {line}")
    return warnings


async def role_warnings(conn: Any) -> list[str]:
    """A warning when the connection's role bypasses row-level security."""
    row = await conn.fetchrow(_ROLE_SQL)
    if row is None:
        return []
    attributes = [name for name, present in (("SUPERUSER", row["superuser"]),
                                             ("BYPASSRLS", row["bypassrls"])) if present]
    if not attributes:
        return []
    return [(f"row-level security does not apply to role {row['name']} "
            f"({', '.join(attributes)}): the server should connect as an ordinary role "
            "(NOSUPERUSER NOBYPASSRLS)")]


def tenant_scoped_sources(schema: Any) -> dict[str, tuple[str, list[str]]]:
    """Each tenant-scoped type: its tenant column and the sql_sources it is read from."""
    found: dict[str, tuple[str, list[str]]] = {}
    for name, info in sorted(schema.objects.items()):
        column = getattr(info.definition, "tenant_column", None)
        if column:
            found[name] = (column, [info.sql_source] if info.sql_source else [])
    for root in schema.queries.values():
        scoped = found.get(root.object.name) if root.object is not None else None
        if scoped is not None and root.sql_source and root.sql_source not in scoped[1]:
            scoped[1].append(root.sql_source)
    return found


async def source_warnings(conn: Any, source: str) -> list[str]:
    """Why policies might not filter what ``source`` returns ([] for a missing source:
    ``fraiseql check`` reports that as a problem already)."""
    import asyncpg
    try:
        relations = await conn.fetch(_REACHED_SQL, source)
    except asyncpg.PostgresError:  # a malformed name: reported by the view check
        return []
    warnings = []
    for rel in relations:
        name = rel["name"]
        where = "" if rel["is_source"] else f" (read through {source})"
        if rel["kind"] == "v" and not rel["invoker"]:
            warnings.append(
                f"view {name}{where} is not security_invoker, so it reads its tables with its "
                f"owner's rights, not the caller's: ALTER VIEW {name} SET "
                "(security_invoker = true)")
        elif rel["kind"] in ("r", "p") and not rel["enabled"]:
            warnings.append(
                f"table {name}{where} does not have row-level security enabled: ALTER TABLE "
                f"{name} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY (and add a policy)")
        elif rel["kind"] in ("r", "p") and not rel["forced"]:
            warnings.append(
                f"table {name}{where} enables row-level security but does not force it, so "
                f"its owner reads every row: ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
        elif rel["kind"] == "m":
            warnings.append(f"materialized view {name}{where} has no row-level security: its "
                            "stored rows are returned to every caller")
        elif rel["kind"] == "f":
            warnings.append(f"foreign table {name}{where} has no row-level security")
    return warnings
