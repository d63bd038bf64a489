"""Authorization: who may run which operation and read which field, in which tenant.

rules.py: the requirements declared on operations and fields (roles, permissions,
scopes); checkpoint.py: the check every request passes before any SQL runs;
tenancy.py: the tenant predicate; visibility.py: introspection per caller;
authorization.py: the per-app options (role store, X-Tenant-ID, audit); rbac.py:
roles, permissions and grants stored in the framework schema; audit.py and trail.py:
the hash-chained audit log.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Access", "Authorization", "RoleStore"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the decorators import fraiseql.authz.rules at definition time.
    if name in ("Access", "RoleStore"):
        from fraiseql.authz import rbac
        return getattr(rbac, name)
    if name == "Authorization":
        from fraiseql.authz.authorization import Authorization
        return Authorization
    raise AttributeError(name)
