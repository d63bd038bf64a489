"""Managing roles and grants from Python (what ``fraiseql roles|grants`` runs).

Each function takes an asyncpg connection to a database with framework SQL 0008 and
calls the SQL functions of that migration, so the rules (format checks, unknown
roles, cycles) are the database's own. Names and permissions are checked here first
as well, for a message that does not depend on a round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fraiseql.authz.rbac import (
    Access,
    check_permission,
    check_permission_pattern,
    check_role_name,
    pattern_matches,
)


@dataclass(frozen=True)
class RoleInfo:
    """One role as ``roles list`` shows it."""

    name: str
    description: str | None
    parents: list[str]
    allowed: list[str]
    denied: list[str]


@dataclass(frozen=True)
class GrantInfo:
    """One grant as ``grants list`` shows it."""

    id: int
    subject: str
    role: str
    tenant_id: str | None
    expires_at: datetime | None
    granted_at: datetime
    granted_by: str | None
    expired: bool


@dataclass(frozen=True)
class Reason:
    """A pattern that decides a permission, and the role that holds it."""

    effect: str  # allow or deny
    pattern: str
    role: str


@dataclass(frozen=True)
class Verdict:
    """Whether a subject holds a permission, and why."""

    allowed: bool
    reasons: list[Reason]  # the matching patterns, denies first
    access: Access


async def create_role(conn: Any, name: str, description: str | None = None,
                      parents: list[str] | tuple[str, ...] = ()) -> bool:
    """Create the role (or add parents / set the description of an existing one); new?"""
    check_role_name(name)
    async with conn.transaction():
        existed = await conn.fetchval("SELECT true FROM fraiseql.roles WHERE name = $1", name)
        await conn.execute("SELECT fraiseql.create_role($1, $2, $3)", name, description,
                           list(parents))
    return not existed


async def set_permission(conn: Any, role: str, permission: str, effect: str) -> None:
    """Make ``role`` allow or deny (``effect``) the permission pattern."""
    check_permission_pattern(permission)
    await conn.execute("SELECT fraiseql.set_permission($1, $2, $3)", role, permission, effect)


async def delete_role(conn: Any, name: str) -> int | None:
    """Delete the role with its grants; how many grants went with it, None if unknown."""
    async with conn.transaction():
        grants = await conn.fetchval(
            "SELECT count(*) FROM fraiseql.role_grants WHERE role = $1", name)
        deleted = await conn.fetchval(
            "DELETE FROM fraiseql.roles WHERE name = $1 RETURNING true", name)
    return int(grants) if deleted else None


async def list_roles(conn: Any) -> list[RoleInfo]:
    """Every role, by name, with its parents and permission patterns."""
    rows = await conn.fetch("""
        SELECT r.name, r.description,
               ARRAY(SELECT p.parent FROM fraiseql.role_parents AS p
                     WHERE p.role = r.name ORDER BY 1) AS parents,
               ARRAY(SELECT p.permission FROM fraiseql.role_permissions AS p
                     WHERE p.role = r.name AND p.effect = 'allow' ORDER BY 1) AS allowed,
               ARRAY(SELECT p.permission FROM fraiseql.role_permissions AS p
                     WHERE p.role = r.name AND p.effect = 'deny' ORDER BY 1) AS denied
        FROM fraiseql.roles AS r ORDER BY r.name""")
    return [RoleInfo(row["name"], row["description"], list(row["parents"]),
                     list(row["allowed"]), list(row["denied"])) for row in rows]


async def grant_role(conn: Any, subject: str, role: str, tenant_id: str | None = None,
                     expires_at: datetime | None = None, granted_by: str | None = None) -> int:
    """Grant ``role`` to ``subject`` (re-granting updates the expiry); the grant's id."""
    if not subject:
        raise ValueError("the subject must not be empty")
    if tenant_id == "":
        raise ValueError("the tenant must not be empty (leave it out for every tenant)")
    return int(await conn.fetchval("SELECT fraiseql.grant_role($1, $2, $3, $4, $5)",
                                   subject, role, tenant_id, expires_at, granted_by))


async def revoke_role(conn: Any, subject: str, role: str, tenant_id: str | None = None) -> bool:
    """Remove that grant; whether there was one."""
    return bool(await conn.fetchval("SELECT fraiseql.revoke_role($1, $2, $3)",
                                    subject, role, tenant_id))


async def list_grants(conn: Any, subject: str | None = None,
                      tenant_id: str | None = None) -> list[GrantInfo]:
    """The grants (of ``subject``, and in ``tenant_id`` incl. every-tenant ones), oldest first."""
    rows = await conn.fetch("""
        SELECT g.*, g.expires_at <= now() AS expired FROM fraiseql.role_grants AS g
        WHERE ($1::text IS NULL OR g.subject = $1)
          AND ($2::text IS NULL OR g.tenant_id IS NULL OR g.tenant_id = $2)
        ORDER BY g.granted_at, g.id""", subject, tenant_id)
    return [GrantInfo(row["id"], row["subject"], row["role"], row["tenant_id"],
                      row["expires_at"], row["granted_at"], row["granted_by"],
                      bool(row["expired"])) for row in rows]


async def check(conn: Any, subject: str, permission: str, tenant_id: str | None = None,
                token_roles: frozenset[str] = frozenset()) -> Verdict:
    """Whether ``subject`` holds ``permission`` in ``tenant_id``, with the patterns that decide."""
    check_permission(permission)
    row = await conn.fetchrow("SELECT * FROM fraiseql.effective_access($1, $2, $3)",
                              subject, tenant_id, sorted(token_roles))
    access = Access(roles=frozenset(row["roles"]), allowed=frozenset(row["allowed"]),
                    denied=frozenset(row["denied"]), tenants=frozenset(row["tenants"]))
    held = await conn.fetch("SELECT role, permission, effect FROM fraiseql.role_permissions"
                            " WHERE role = ANY($1) ORDER BY effect DESC, role, permission",
                            sorted(access.roles))
    reasons = [Reason(r["effect"], r["permission"], r["role"]) for r in held
               if pattern_matches(r["permission"], permission)]
    return Verdict(access.has_permission(permission), reasons, access)
