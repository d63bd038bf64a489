"""build_schema: decorated Python -> resolved model -> graphql-core schema.

Two passes. The first resolves every reachable declaration into the model
(``ObjectInfo``/``RootField``), collecting *all* definition errors; if any,
one SchemaBuildError lists them. The second turns the model into graphql-core
types, adding the generated inputs (where, orderBy) for list queries.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any

from graphql import GraphQLSchema

from fraiseql.errors import DefinitionError, SchemaBuildError
from fraiseql.schema.definitions import (
    EnumDefinition,
    QueryDefinition,
    TypeDefinition,
    definition_of,
    location_of,
)
from fraiseql.schema.model import ArgumentInfo, FieldInfo, ObjectInfo, RootField, Schema, TypeRef
from fraiseql.schema.naming import to_camel
from fraiseql.schema.resolve import (
    AnnotationError,
    class_fields,
    definition_error,
    field_default,
    to_ref,
)

DEFAULT_MAX_PAGE_SIZE = 1000
LIST_ARGUMENTS = ("where", "order_by", "limit", "offset")
_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")


def build_schema(
    queries: Iterable[Callable[..., Any]] = (),
    mutations: Iterable[Any] = (),
    types: Iterable[type] = (),
    *,
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE,
) -> Schema:
    """Build the schema from decorated queries, mutations and extra types."""
    resolver = _Resolver(max_page_size)
    for query in queries:
        resolver.add_query(query)
    for extra in types:
        resolver.add_class(extra, f"types=[{getattr(extra, '__name__', extra)!r}]")
    resolver.drain()
    if resolver.errors:
        raise SchemaBuildError(resolver.errors)
    from fraiseql.schema.graphql_types import to_graphql
    graphql_schema: GraphQLSchema = to_graphql(resolver.objects, resolver.roots,
                                               resolver.enums, resolver.inputs)
    return Schema(graphql_schema, resolver.objects, resolver.roots, resolver.enums)


class _Resolver:
    """Walks declarations reachable from the roots; fills the model, collects errors."""

    def __init__(self, max_page_size: int) -> None:
        self.max_page_size = max_page_size
        self.errors: list[DefinitionError] = []
        self.objects: dict[str, ObjectInfo] = {}
        self.inputs: dict[str, ObjectInfo] = {}
        self.enums: dict[str, type] = {}
        self.roots: dict[str, RootField] = {}
        self._pending: list[type] = []
        self._names: dict[str, Any] = {}

    def error(self, message: str, owner: Any, fix: str = "") -> None:
        self.errors.append(DefinitionError(message, where=location_of(owner), fix=fix))

    # --- classes -----------------------------------------------------------------

    def add_class(self, cls: Any, used_by: str) -> None:
        definition = definition_of(cls) if inspect.isclass(cls) else None
        if definition is None:
            self.error(f"{used_by}: {cls!r} is not a FraiseQL declaration", cls,
                       "decorate it with @fraiseql.type, @fraiseql.input or @fraiseql.enum")
            return
        if self._claim_name(definition.name, cls):
            self._pending.append(cls)

    def _claim_name(self, name: str, cls: Any) -> bool:
        owner = self._names.setdefault(name, cls)
        if owner is not cls:
            self.error(f"two declarations are named {name!r}: {owner!r} and {cls!r}", cls,
                       "rename one, or pass name=... to its decorator")
        return owner is cls

    def drain(self) -> None:
        while self._pending:
            cls = self._pending.pop()
            definition = definition_of(cls)
            if isinstance(definition, EnumDefinition):
                self.enums[definition.name] = cls
            elif definition.name not in self.objects and definition.name not in self.inputs:
                self._resolve_class(cls, definition)

    def _resolve_class(self, cls: type, definition: TypeDefinition) -> None:
        info = ObjectInfo(definition.name, definition)
        (self.inputs if definition.kind == "input" else self.objects)[definition.name] = info
        if definition.sql_source is not None and not _SQL_NAME.match(definition.sql_source):
            self.error(f"{cls.__name__}: sql_source {definition.sql_source!r} is not a plain "
                       "SQL name", cls, "use a view or table name such as 'v_book'")
        if definition.kind != "input":
            for base in definition.implements:
                self.add_class(base, cls.__name__)
        for python_name, annotation, raw_default in class_fields(cls):
            self._resolve_field(cls, info, python_name, annotation, raw_default)
        if not info.fields:
            self.error(f"{cls.__name__} declares no fields", cls,
                       "annotate at least one field, e.g. `id: fraiseql.ID`")

    def _resolve_field(self, cls: type, info: ObjectInfo, python_name: str,
                       annotation: Any, raw_default: Any) -> None:
        options, has_default, default = field_default(raw_default)
        try:
            ref = to_ref(annotation, definition_of(cls).module_globals)
        except AnnotationError as exc:
            self.errors.append(definition_error(cls, f"{cls.__name__}.{python_name}", exc,
                                                python_name))
            return
        if not self._allowed_in(info.definition.kind, ref, cls, python_name):
            return
        graphql_name = options.graphql_name or to_camel(python_name)
        if graphql_name in info.fields:
            self.error(f"{cls.__name__}: fields {info.fields[graphql_name].python_name!r} and "
                       f"{python_name!r} both become GraphQL field {graphql_name!r}", cls,
                       "rename one, or set fraiseql.field(name=...)")
            return
        info.fields[graphql_name] = FieldInfo(
            python_name, graphql_name, ref, options.description, default, has_default,
            options.deprecation_reason)
        self._enqueue(ref)

    def _allowed_in(self, kind: str, ref: TypeRef, cls: type, python_name: str) -> bool:
        named = ref.named()
        bad = (kind == "input" and named.kind in ("object", "interface")) or (
            kind != "input" and named.kind == "input")
        if bad:
            expected = "an @fraiseql.input" if kind == "input" else "an output type"
            self.error(f"{cls.__name__}.{python_name}: {named.name} cannot be used here, "
                       f"{expected} is expected", cls,
                       f"declare {named.name} with the matching decorator")
        return not bad

    def _enqueue(self, ref: TypeRef) -> None:
        named = ref.named()
        if named.kind != "scalar" and named.python is not None:
            if self._claim_name(named.name, named.python):
                self._pending.append(named.python)

    # --- queries -----------------------------------------------------------------

    def add_query(self, func: Any) -> None:
        definition = definition_of(func)
        if not isinstance(definition, QueryDefinition):
            self.error(f"{func!r} is not a query", func, "decorate it with @fraiseql.query")
            return
        if to_camel(definition.name) in self.roots:
            self.error(f"two queries are named {to_camel(definition.name)!r}", func,
                       "rename one")
            return
        annotations = getattr(func, "__annotations__", {})
        namespace = func.__globals__
        if "return" not in annotations:
            self.error(f"query {definition.name} has no return annotation", func,
                       f"write `def {definition.name}(...) -> list[MyType]: ...`")
            return
        try:
            returns = to_ref(annotations["return"], namespace)
        except AnnotationError as exc:
            self.errors.append(definition_error(func, f"query {definition.name} return type", exc))
            return
        self._enqueue(returns)
        self.drain()
        root = RootField(to_camel(definition.name), definition, returns,
                         self.objects.get(returns.named().name),
                         page_size_cap=definition.max_page_size or self.max_page_size)
        self._resolve_arguments(func, root, namespace)
        self._check_source(func, root)
        self.roots[root.name] = root

    def _resolve_arguments(self, func: Any, root: RootField, namespace: dict[str, Any]) -> None:
        params = list(inspect.signature(func).parameters.values())
        if root.definition.is_resolver:
            if not params or params[0].name != "info":
                self.error(f"resolver {func.__name__} must take `info` first", func,
                           f"write `async def {func.__name__}(info, ...)`")
            params = params[1:]
        for param in params:
            if param.annotation is inspect.Parameter.empty:
                self.error(f"argument {param.name!r} of query {func.__name__} has no type", func,
                           f"annotate it, e.g. `{param.name}: int`")
                continue
            try:
                ref = to_ref(param.annotation, namespace)
            except AnnotationError as exc:
                self.errors.append(definition_error(func, f"argument {param.name!r}", exc))
                continue
            self._enqueue(ref)
            has_default = param.default is not inspect.Parameter.empty
            root.arguments[to_camel(param.name)] = ArgumentInfo(
                param.name, to_camel(param.name), ref, param.default if has_default else None,
                has_default)
        self.drain()

    def _check_source(self, func: Any, root: RootField) -> None:
        if root.definition.is_resolver:
            return
        if root.object is None or root.sql_source is None:
            self.error(f"query {func.__name__} returns {root.returns.named().name}, which has "
                       "no sql_source", func,
                       "return a @fraiseql.type(sql_source='v_...') class, give the query "
                       "sql_source=..., or make it an `async def` resolver taking `info`")
            return
        if root.returns.kind == "list" and root.returns.of and root.returns.of.kind == "list":
            self.error(f"query {func.__name__} returns a list of lists", func,
                       "return list[MyType]")
        if root.definition.sql_source and not _SQL_NAME.match(root.definition.sql_source):
            self.error(f"query {func.__name__}: sql_source {root.definition.sql_source!r} "
                       "is not a plain SQL name", func, "use a view name such as 'v_book'")
        limit = root.arguments.get("limit")
        cap = root.page_size_cap or self.max_page_size
        if root.is_list and limit is not None and isinstance(limit.default, int) \
                and limit.default > cap:
            self.error(f"query {func.__name__}: default limit {limit.default} is above the "
                       f"page cap {cap}", func,
                       f"lower the default to at most {cap}, or pass "
                       f"max_page_size={limit.default} to @fraiseql.query")
        for name, arg in root.arguments.items():
            if root.is_list and arg.python_name in LIST_ARGUMENTS:
                continue
            if name not in root.object.fields:
                self.error(f"argument {arg.python_name!r} of query {func.__name__} is not a "
                           f"field of {root.object.name}, so it cannot filter", func,
                           f"name it after a field ({', '.join(f.python_name for f in root.object.fields.values())})"
                           ", or make the query an `async def` resolver")
            elif root.object.fields[name].type.named().kind not in ("scalar", "enum"):
                self.error(f"argument {arg.python_name!r} of query {func.__name__} names a "
                           "non-scalar field", func, "filter on a scalar field")

