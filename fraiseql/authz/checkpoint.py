"""The one checkpoint every request passes after planning and before any SQL runs.

    Engine.run: document -> plan (cached, the same for every caller) -> refusals(plan, ctx)
                -> result cache / SQL / Python resolvers

A plan records what it needs (fraiseql/compiler/plan.py ``Check``): the rules of the
operations it runs, of the fields it reads with ``on_deny="reject"``, and of every
restricted field its ``where``/``orderBy`` names (filtering on a masked field would
reveal it); whether it reads a required-tenant source; whether it introspects. This
module measures the caller (the request context the auth middleware built) against
them. Masked fields are not refused here: their SQL shows the mask, chosen by a bound
parameter (:func:`allowed`), so one plan serves every caller.

The same plan reaches the result cache, persisted queries, streaming and Python
resolvers' ``find`` only through here (``find`` compiles its own statement and calls
:func:`refusals` itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fraiseql.authz.rbac import Access
from fraiseql.authz.rules import Rule
from fraiseql.errors import ErrorCode

Refusal = tuple[str, ErrorCode, list[str] | None]  # message, code, path


def access_of(context: Mapping[str, Any] | None) -> Access:
    """The caller's resolved access (RBAC), or the token's roles without permissions."""
    if not context:
        return _NOBODY
    access = context.get("access")
    if access is not None:
        return access  # type: ignore[no-any-return]
    return Access.from_token(context.get("roles") or ())


def allowed(rule: Rule, context: Mapping[str, Any] | None) -> bool:
    """Whether the request's caller satisfies ``rule``."""
    scopes = (context or {}).get("scopes") or ()
    return rule.allows(access_of(context), frozenset(scopes))


def may_introspect(policy: str, context: Mapping[str, Any] | None) -> bool:
    """public: anyone; authenticated: callers with a principal that is not anonymous."""
    if policy == "public":
        return True
    if policy == "authenticated":
        principal = (context or {}).get("principal")
        return principal is not None and principal.is_authenticated
    return False


def refusals(plan: Any, context: Mapping[str, Any] | None,
             introspection: str = "public") -> list[Refusal]:
    """Why this caller may not run ``plan`` (empty: it may)."""
    found: list[Refusal] = []
    if plan.introspection and not may_introspect(introspection, context):
        found.append(("introspection is not available"
                      + (" to anonymous callers" if introspection == "authenticated" else ""),
                      ErrorCode.FORBIDDEN, None))
    if plan.tenant_required and not (context or {}).get("tenant_id"):
        found.append(("this request reads tenant data but names no tenant: the token "
                      "carries no tenant (or send X-Tenant-ID when you may act for one)",
                      ErrorCode.TENANT_REQUIRED, None))
    seen: set[str] = set()
    for check in plan.checks:
        if check.what in seen or allowed(check.rule, context):
            continue
        seen.add(check.what)
        found.append((f"{check.what} needs {check.rule.describe()}", ErrorCode.FORBIDDEN,
                      list(check.path)))
    return found


_NOBODY = Access.from_token(())


def restricted_resolver(f: Any, owner: str, resolve: Any) -> Any:
    """``resolve`` for a restricted field of an object a Python resolver returned:
    the same rule as the SQL path (FORBIDDEN, or the mask computed in Python)."""
    from fraiseql.authz.masks import masked_value
    from fraiseql.errors import RequestError

    def restricted(source: Any, info: Any, **args: Any) -> Any:
        value = resolve(source, info, **args)
        if allowed(f.rule, info.context if isinstance(info.context, Mapping) else None):
            return value
        if f.on_deny == "reject":  # refused before running (authz/selection.py); kept as
            # the second check, for objects reached some other way
            raise RequestError(f"reading {owner}.{f.graphql_name} needs {f.rule.describe()}",
                               ErrorCode.FORBIDDEN)
        return masked_value(f.mask, value)

    return restricted
