"""The decorators users write: @type, @input, @enum, @interface, @query."""

from __future__ import annotations

import builtins
import enum as _enum
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from fraiseql.schema.definitions import (
    KNOWN_CLASSES,
    EnumDefinition,
    MutationDefinition,
    QueryDefinition,
    TypeDefinition,
    own_docstring,
)

T = TypeVar("T")
_Class = builtins.type  # `type` below is the decorator, not the builtin
F = TypeVar("F", bound=Callable[..., Any])


def _class_decorator(kind: str, cls: _Class | None, **options: Any) -> Any:
    def wrap(target: _Class) -> _Class:
        implements = [base for base in target.__mro__[1:]
                      if getattr(base.__dict__.get("__fraiseql_definition__"), "kind", None)
                      == "interface"]
        target.__fraiseql_definition__ = TypeDefinition(  # type: ignore[attr-defined]
            cls=target, kind=kind, name=options.pop("name", None) or target.__name__,
            description=options.pop("description", None) or own_docstring(target),
            implements=implements, **options)
        KNOWN_CLASSES[target.__name__] = target
        return target

    return wrap(cls) if cls is not None else wrap


@overload
def type(cls: builtins.type[T]) -> builtins.type[T]: ...
@overload
def type(*, sql_source: str | None = None, name: str | None = None,
         description: str | None = None, tenant_column: str | None = None,
         tenant_required: bool = True) -> Callable[[builtins.type[T]], builtins.type[T]]: ...
def type(cls: Any = None, *, sql_source: str | None = None, name: str | None = None,  # noqa: A001
         description: str | None = None, tenant_column: str | None = None,
         tenant_required: bool = True) -> Any:
    """Declare a GraphQL object type, optionally read from a view (``sql_source``).

    ``tenant_column``: the view's column holding each row's tenant; every read of the
    type is then restricted to the request's tenant (fraiseql/authz/tenancy.py).
    """
    return _class_decorator("type", cls, sql_source=sql_source, name=name,
                            description=description, tenant_column=tenant_column,
                            tenant_required=tenant_required)


def input(cls: Any = None, *, name: str | None = None,  # noqa: A001
          description: str | None = None) -> Any:
    """Declare a GraphQL input object type."""
    return _class_decorator("input", cls, name=name, description=description)


def interface(cls: Any = None, *, name: str | None = None,
              description: str | None = None) -> Any:
    """Declare a GraphQL interface; decorated subclasses implement it."""
    return _class_decorator("interface", cls, name=name, description=description)


def enum(cls: Any = None, *, name: str | None = None, description: str | None = None) -> Any:
    """Declare a GraphQL enum from an ``enum.Enum``: member names are the GraphQL values."""
    def wrap(target: _Class) -> _Class:
        if not (inspect.isclass(target) and issubclass(target, _enum.Enum)):
            from fraiseql.errors import DefinitionError
            from fraiseql.schema.definitions import location_of
            raise DefinitionError(f"@fraiseql.enum needs an enum.Enum subclass, got {target!r}",
                                  where=location_of(target),
                                  fix=f"write `class {getattr(target, '__name__', 'X')}"
                                      "(enum.Enum): ...`")
        target.__fraiseql_definition__ = EnumDefinition(  # type: ignore[attr-defined]
            cls=target, name=name or target.__name__,
            description=description or own_docstring(target))
        KNOWN_CLASSES[target.__name__] = target
        return target

    return wrap(cls) if cls is not None else wrap


def success(cls: Any = None, *, name: str | None = None,
            description: str | None = None) -> Any:
    """Declare a mutation's success member: its sql_source-typed field gets the entity."""
    return _class_decorator("type", cls, name=name, description=description, role="success")


def error(cls: Any = None, *, name: str | None = None, description: str | None = None) -> Any:
    """Declare a mutation's error member: ``code``, ``message``, the rest from metadata."""
    return _class_decorator("type", cls, name=name, description=description, role="error")


def mutation(target: Any = None, *, function: str | None = None, name: str | None = None,
             operation: str = "CUSTOM", context_params: tuple[str, ...] | list[str] = (),
             description: str | None = None, requires: str | list[str] | None = None,
             requires_role: str | list[str] | None = None,
             requires_scope: str | list[str] | None = None) -> Any:
    """Declare a mutation: a class naming a PostgreSQL ``function``, or an async resolver.

    ``requires`` (permissions, all of them), ``requires_role`` (any) and
    ``requires_scope`` (all): a caller without them gets FORBIDDEN before any SQL runs.
    """
    from fraiseql.authz.rules import make_rule
    rule = make_rule(requires, requires_role, requires_scope)

    def wrap(item: Any) -> Any:
        is_resolver = inspect.iscoroutinefunction(item)
        default_name = item.__name__ if is_resolver else item.__name__[:1].lower() + item.__name__[1:]
        item.__fraiseql_definition__ = MutationDefinition(
            target=item, name=name or default_name, function=function,
            operation=operation.upper(), context_params=tuple(context_params),
            description=description or own_docstring(item), is_resolver=is_resolver,
            rule=rule)
        return item

    return wrap(target) if target is not None else wrap


def query(func: Any = None, *, sql_source: str | None = None, name: str | None = None,
          description: str | None = None, max_page_size: int | None = None,
          cache_ttl: float | None = None, requires: str | list[str] | None = None,
          requires_role: str | list[str] | None = None,
          requires_scope: str | list[str] | None = None) -> Any:
    """Declare a root query field: read from ``sql_source``, or an async resolver.

    ``cache_ttl`` (seconds) lets the result cache answer it from memory for that
    long, until a change to a type it reads (see execution/result_cache.py).
    ``requires*``: as for @mutation (its Connection and Count companions inherit it).
    """
    from fraiseql.authz.rules import make_rule
    rule = make_rule(requires, requires_role, requires_scope)

    def wrap(target: F) -> F:
        target.__fraiseql_definition__ = QueryDefinition(  # type: ignore[attr-defined]
            func=target, name=name or target.__name__, sql_source=sql_source,
            description=description or own_docstring(target), max_page_size=max_page_size,
            is_resolver=inspect.iscoroutinefunction(target), cache_ttl=cache_ttl, rule=rule)
        return target

    return wrap(func) if func is not None else wrap
