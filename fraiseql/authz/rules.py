"""Requirements on operations and fields, and how a caller is measured against them.

    @fraiseql.mutation(function="fn_publish_post", requires="post:publish")
    @fraiseql.query(requires_role="admin")
    email: str = fraiseql.field(requires_scope="read:email", on_deny="mask", mask="email")

A :class:`Rule` holds what one declaration asks for: permissions (all of them, from
the RBAC store), roles (any one of them: token roles and granted roles with their
ancestors) and scopes (all of them, from the token). The caller's side is an
``Access`` (roles, permissions) plus the principal's scopes; a request without an
RBAC store has the token's roles and no permissions (``Access.from_token``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fraiseql.errors import ConfigurationError

if TYPE_CHECKING:
    from fraiseql.authz.rbac import Access

# resource:action, each part a plain name or * (for grants); a rule names no wildcard.
PERMISSION = re.compile(r"^(\*|[A-Za-z0-9_.-]+):(\*|[A-Za-z0-9_.-]+)$")
ON_DENY = ("reject", "mask")


@dataclass(frozen=True)
class Rule:
    """What a declaration requires; empty parts ask nothing."""

    permissions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()

    def allows(self, access: Access, scopes: frozenset[str] | Iterable[str]) -> bool:
        """Whether a caller with ``access`` and ``scopes`` satisfies every part."""
        if self.roles and not any(access.has_role(role) for role in self.roles):
            return False
        if self.scopes and not all(scope in scopes for scope in self.scopes):
            return False
        return all(access.has_permission(p) for p in self.permissions)

    def describe(self) -> str:
        """What is missing, for a FORBIDDEN message: names only, never the caller's."""
        parts = []
        if self.permissions:
            parts.append("permission " + " and ".join(self.permissions))
        if self.roles:
            parts.append("role " + " or ".join(self.roles))
        if self.scopes:
            parts.append("scope " + " and ".join(self.scopes))
        return ", ".join(parts)


def make_rule(requires: str | Iterable[str] | None = None,
              requires_role: str | Iterable[str] | None = None,
              requires_scope: str | Iterable[str] | None = None) -> Rule | None:
    """The rule of a declaration's ``requires*`` options, or None when it asks nothing."""
    permissions = _names(requires)
    for permission in permissions:
        if not PERMISSION.match(permission) or "*" in permission:
            raise ConfigurationError(
                f"requires={permission!r}: a permission is 'resource:action', e.g. "
                "'post:publish' (wildcards belong in grants, not in requirements)")
    rule = Rule(permissions, _names(requires_role), _names(requires_scope))
    return rule if rule.permissions or rule.roles or rule.scopes else None


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else tuple(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"requirement {name!r} must be a non-empty string")
    return tuple(names)


def check_on_deny(on_deny: str, mask: Any) -> None:
    """Refuse an unknown on_deny, or a mask without masking."""
    if on_deny not in ON_DENY:
        raise ConfigurationError(f"on_deny={on_deny!r} must be one of {', '.join(ON_DENY)}")
    if mask is not None and on_deny != "mask":
        raise ConfigurationError("mask= is only used with on_deny='mask'")


def fields_used(schema: Any, obj: Any, where: Any, order_by: Any) -> list[tuple[Any, str]]:
    """(field, owner type name) for every restricted field a where/orderBy value names."""
    found: list[tuple[Any, str]] = []
    _named_fields(schema, obj, where, found)
    for item in order_by or []:
        _named_fields(schema, obj, item, found)
    return found


def _named_fields(schema: Any, obj: Any, value: Any, found: list[tuple[Any, str]]) -> None:
    """Walk a where tree or an orderBy item: keys are fields of ``obj`` (or _and/_or/_not),
    a nested object's value names its fields, a list of objects' ``any`` its items'."""
    if not isinstance(value, dict):
        return
    for key, inner in value.items():
        if key in ("_and", "_or"):
            for item in inner or []:
                _named_fields(schema, obj, item, found)
            continue
        if key == "_not":
            _named_fields(schema, obj, inner, found)
            continue
        f = obj.fields.get(key) or next(
            (f for f in obj.fields.values() if f.python_name == key), None)
        if f is None:
            continue
        if f.rule is not None:
            found.append((f, obj.name))
        nested = schema.objects.get(f.type.named().name)
        if nested is not None and isinstance(inner, dict):
            _named_fields(schema, nested, inner.get("any") if f.type.kind == "list" else inner,
                          found)
