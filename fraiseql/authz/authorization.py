"""The authorization a server applies beyond the schema's own declarations.

    authz = Authorization(roles=True, tenant_header="X-Tenant-ID", audit=True)
    app = fraiseql.create_app(schema, auth=Auth([...]), authz=authz)

- ``roles``: True (a RoleStore on the app's database: fraiseql/authz/rbac.py) or a
  RoleStore: each authenticated request's roles, permissions and tenants are resolved
  once (cached across requests, invalidated on every process when a grant changes).
  Without it a caller has its token's roles and no permissions.
- ``tenant_header``: an authenticated caller may name the tenant it acts for in this
  header when it may act for it (its token's tenant, or a tenant where it holds a
  grant); anything else is refused (403). An anonymous caller's header is ignored.
  None: the tenant comes from the token only.
- ``audit``: write the audit log (fraiseql/authz/trail.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from fraiseql.auth.principal import Principal
from fraiseql.authz.rbac import Access, RoleStore
from fraiseql.errors import ConfigurationError, ErrorCode, FraiseQLError

_NOBODY = Access.from_token(())


class TenantRefused(FraiseQLError):
    """The caller named a tenant it may not act for (HTTP 403, FORBIDDEN)."""

    code = ErrorCode.FORBIDDEN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Authorization:
    """Roles store, tenant header and audit, for one app."""

    def __init__(self, *, roles: Any = None, tenant_header: str | None = "X-Tenant-ID",
                 audit: bool = False) -> None:
        self._roles_option = roles
        self.store: RoleStore | None = roles if roles not in (None, True, False) else None
        self.tenant_header = tenant_header.lower() if tenant_header else None
        self.audit = audit

    async def start(self, database_url: str | None) -> None:
        """Check the audit log exists, open the role store (fail the boot when either
        cannot work; the check first, so a refused boot leaves nothing open)."""
        if self.audit and database_url:  # every mutation statement would fail without it
            from fraiseql.ops.migrations import require_installed
            await require_installed(database_url,
                                    "SELECT to_regclass('fraiseql.audit_log') IS NOT NULL",
                                    "the audit log", "fraiseql.audit_log",
                                    "audited mutations fail until it is")
        if self._roles_option is True and self.store is None:
            if not database_url:
                raise ConfigurationError("Authorization(roles=True) needs the app's database "
                                         "URL (FRAISEQL_DATABASE_URL), or pass roles=RoleStore(url)")
            self.store = RoleStore(database_url)
        if self.store is not None:
            await self.store.start()

    async def stop(self) -> None:
        if self.store is not None:
            await self.store.stop()

    async def resolve(self, principal: Principal, headers: Mapping[str, str]
                      ) -> tuple[Principal, Access]:
        """The principal acting (tenant from the header when allowed) and its access.

        With a role store the principal's roles become its effective roles (granted and
        inherited included), so SQL (``fraiseql.roles``) sees what the checkpoint saw.
        """
        if not principal.is_authenticated:
            return principal, _NOBODY  # an anonymous caller names no tenant
        requested = headers.get(self.tenant_header, "").strip() if self.tenant_header else ""
        other_tenant = bool(requested) and requested != principal.tenant_id
        acting = dataclasses.replace(principal, tenant_id=requested) if other_tenant \
            else principal
        # Resolved once, for the tenant acted for: its grants decide, and its ``tenants``
        # (the same in every tenant) say whether the caller may act there at all.
        access = await self._access(acting)
        if other_tenant and requested not in access.tenants:
            raise TenantRefused(f"you may not act for tenant {requested!r}")
        principal = acting
        if self.store is not None:
            principal = dataclasses.replace(principal, roles=frozenset(access.roles))
        return principal, access

    async def _access(self, principal: Principal) -> Access:
        if self.store is None:
            return Access.from_token(principal.roles)
        return await self.store.access(principal.subject, principal.tenant_id, principal.roles)
