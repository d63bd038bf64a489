"""Authorization: what an authenticated principal may do (see rbac.py)."""

from fraiseql.authz.rbac import Access, RoleStore

__all__ = ["Access", "RoleStore"]
