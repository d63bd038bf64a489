"""What the decorators record: plain definitions, resolved later by the builder."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fraiseql.errors import SourceLocation


class _Unset:
    """The value of an input field the client did not send (absent is not null)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()

# Every decorated class by its Python name, so a forward reference such as
# list["Review"] resolves even when Review lives in another module.
KNOWN_CLASSES: dict[str, type] = {}


@dataclass
class FieldOptions:
    """Per-field options given with ``fraiseql.field(...)``."""

    description: str | None = None
    graphql_name: str | None = None
    default: Any = UNSET
    deprecation_reason: str | None = None
    rule: Any = None  # fraiseql.authz.rules.Rule: who may read it
    on_deny: str = "reject"  # "reject": FORBIDDEN; "mask": null or the mask's value
    mask: str | None = None  # fraiseql/authz/masks.py


def field_options(
    *,
    description: str | None = None,
    name: str | None = None,
    default: Any = UNSET,
    deprecation_reason: str | None = None,
    requires: str | list[str] | None = None,
    requires_role: str | list[str] | None = None,
    requires_scope: str | list[str] | None = None,
    on_deny: str = "reject",
    mask: str | None = None,
) -> Any:
    """Attach options to a field: ``title: str = fraiseql.field(description="...")``.

    ``requires`` (permissions, all), ``requires_role`` (any) and ``requires_scope``
    (all) restrict who may read it; a caller without them gets FORBIDDEN
    (``on_deny="reject"``) or, with ``on_deny="mask"``, null or ``mask``'s value
    (fraiseql/authz/masks.py), computed in SQL.
    """
    from fraiseql.authz.masks import check_mask
    from fraiseql.authz.rules import check_on_deny, make_rule
    check_on_deny(on_deny, mask)
    check_mask(mask)
    return FieldOptions(description, name, default, deprecation_reason,
                        make_rule(requires, requires_role, requires_scope), on_deny, mask)


def location_of(obj: Any, field: str | None = None) -> SourceLocation | None:
    """The user's file and line for a class (or one of its fields) or a function.

    Computed only when an error is reported, so reading source costs nothing at startup.
    """
    try:
        target = inspect.unwrap(obj)
        code = getattr(target, "__code__", None)
        if code is not None:
            return SourceLocation(code.co_filename, code.co_firstlineno)
        lines, first = inspect.getsourcelines(target)
        file = inspect.getsourcefile(target) or "?"
    except (OSError, TypeError):
        return None
    if field is not None:
        declaration = re.compile(rf"^\s+{re.escape(field)}\s*:")
        for offset, line in enumerate(lines):
            if declaration.match(line):
                return SourceLocation(file, first + offset)
    return SourceLocation(file, first)


@dataclass
class TypeDefinition:
    """A class decorated with @type, @input, @interface, @success or @error."""

    cls: type
    kind: str  # "type" | "input" | "interface"
    name: str
    sql_source: str | None = None
    description: str | None = None
    implements: list[type] = field(default_factory=list)
    role: str | None = None  # "success" | "error" for mutation result members
    # The view's column naming each row's tenant: every read gets its tenant predicate
    # (fraiseql/authz/tenancy.py). Required: a request without a tenant is refused;
    # not required: it sees only rows whose tenant is NULL (shared rows).
    tenant_column: str | None = None
    tenant_required: bool = True

    @property
    def module_globals(self) -> dict[str, Any]:
        module = sys.modules.get(self.cls.__module__)
        return vars(module) if module else {}


@dataclass
class EnumDefinition:
    """An enum.Enum decorated with @enum: GraphQL names are the member names."""

    cls: type
    name: str
    description: str | None = None


@dataclass
class QueryDefinition:
    """A function decorated with @query."""

    func: Callable[..., Any]
    name: str
    sql_source: str | None = None
    description: str | None = None
    max_page_size: int | None = None
    is_resolver: bool = False  # an async def that runs in Python with `info`
    cache_ttl: float | None = None  # seconds the result cache may serve its answers
    rule: Any = None  # fraiseql.authz.rules.Rule: who may run it


MUTATION_OPERATIONS = ("INSERT", "UPDATE", "DELETE", "CUSTOM")


@dataclass
class MutationDefinition:
    """A class (SQL function form) or async def (Python form) decorated with @mutation."""

    target: Any
    name: str
    function: str | None = None  # the PostgreSQL function, for the SQL form
    operation: str = "CUSTOM"  # recorded in fraiseql.change_log
    context_params: tuple[str, ...] = ()  # request values passed as leading arguments
    description: str | None = None
    is_resolver: bool = False
    rule: Any = None  # fraiseql.authz.rules.Rule: who may run it


def definition_of(obj: Any) -> Any:
    """The definition a decorator attached to ``obj``, or None."""
    return getattr(obj, "__fraiseql_definition__", None) if obj is not None else None


def own_docstring(obj: Any) -> str | None:
    """The docstring written on obj itself (not inherited), cleaned."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else obj.__doc__
    if doc and isinstance(obj, type) and doc.startswith(f"{obj.__name__}("):
        return None  # the signature dataclasses write, not the user's words
    return inspect.cleandoc(doc) if doc else None
