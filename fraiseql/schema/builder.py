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
    MUTATION_OPERATIONS,
    UNSET,
    EnumDefinition,
    MutationDefinition,
    QueryDefinition,
    TypeDefinition,
    definition_of,
    location_of,
)
from fraiseql.schema.model import (
    ArgumentInfo,
    FieldInfo,
    MutationField,
    ObjectInfo,
    RootField,
    Schema,
    TypeRef,
)
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
    facts: Iterable[type] = (),
) -> Schema:
    """Build the schema from decorated queries, mutations, extra types and fact tables."""
    resolver = _Resolver(max_page_size)
    for query in queries:
        resolver.add_query(query)
    fact_infos = _resolve_facts(facts, resolver)
    for mutation in mutations:
        resolver.add_mutation(mutation)
    for extra in types:
        resolver.add_class(extra, f"types=[{getattr(extra, '__name__', extra)!r}]")
    resolver.drain()
    resolver.check_interface_rules()
    if resolver.errors:
        raise SchemaBuildError(resolver.errors)
    from fraiseql.schema.connections import companion_roots
    from fraiseql.schema.graphql_types import to_graphql
    connections, counts = companion_roots(resolver.roots)
    graphql_schema: GraphQLSchema = to_graphql(resolver.objects, resolver.roots,
                                               resolver.enums, resolver.inputs,
                                               resolver.mutations, fact_infos, connections,
                                               counts)
    return Schema(graphql_schema, resolver.objects, resolver.roots, resolver.enums,
                  resolver.mutations, resolver.inputs, facts=fact_infos,
                  connections=connections, counts=counts)


def _resolve_facts(facts: Iterable[type], resolver: _Resolver) -> dict[str, Any]:
    """Fact tables by root field name (see schema/facts.py); errors go to the resolver."""
    from fraiseql.schema.facts import generated_type_names, resolve_fact
    resolved: dict[str, Any] = {}
    for cls in facts:
        info = resolve_fact(cls, resolver.max_page_size, resolver.errors.append)
        if info is None:
            continue
        if info.root_name in resolver.roots or info.root_name in resolved:
            resolver.error(f"fact {cls.__name__}: root field {info.root_name!r} is already "
                           "taken", cls, "pass query_name=... to @fraiseql.fact")
            continue
        taken = [n for n in generated_type_names(info) if n in resolver._names]
        if taken:
            resolver.error(f"fact {cls.__name__}: its generated type {taken[0]!r} is already "
                           "declared", cls, "pass name=... to @fraiseql.fact")
            continue
        resolver._names.update(dict.fromkeys(generated_type_names(info), cls))
        resolved[info.root_name] = info
    return resolved


class _Resolver:
    """Walks declarations reachable from the roots; fills the model, collects errors."""

    def __init__(self, max_page_size: int) -> None:
        self.max_page_size = max_page_size
        self.errors: list[DefinitionError] = []
        self.objects: dict[str, ObjectInfo] = {}
        self.inputs: dict[str, ObjectInfo] = {}
        self.enums: dict[str, type] = {}
        self.roots: dict[str, RootField] = {}
        self.mutations: dict[str, MutationField] = {}
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

    def check_interface_rules(self) -> None:
        """A field an interface declares keeps the interface's rule in its implementations:
        a read through the interface applies the interface's field, so a rule only an
        implementation declares would not hold there."""
        for info in self.objects.values():
            for base in info.definition.implements:
                interface = self.objects.get(definition_of(base).name)
                if interface is None:
                    continue
                for name, f in interface.fields.items():
                    mine = info.fields.get(name)
                    if mine is not None and (mine.rule, mine.on_deny, mine.mask) != (
                            f.rule, f.on_deny, f.mask):
                        self.error(f"{info.name}.{name}: its requires*/on_deny/mask differ "
                                   f"from interface {interface.name}'s", info.definition.cls,
                                   f"declare the same fraiseql.field(...) rule on "
                                   f"{interface.name}.{f.python_name}")

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
        if options.rule is not None and info.definition.kind == "input":
            self.error(f"{cls.__name__}.{python_name}: requires* restricts reading a field; "
                       "an input field is written", cls,
                       "put the requirement on the mutation (requires=...)")
            return
        if options.on_deny == "mask" and options.rule is not None and options.mask is None \
                and not ref.nullable:
            self.error(f"{cls.__name__}.{python_name}: masked with null but not nullable", cls,
                       f"declare it `{python_name}: ... | None`, or give mask=\"redact\"")
            return
        if options.mask is not None and (ref.kind != "scalar" or ref.scalar is None
                                         or not ref.scalar.as_text):
            self.error(f"{cls.__name__}.{python_name}: mask={options.mask!r} needs a text "
                       "field (String, ID, ...)", cls, "leave mask=None to show null")
            return
        info.fields[graphql_name] = FieldInfo(
            python_name, graphql_name, ref, options.description, default, has_default,
            options.deprecation_reason, omittable=raw_default is UNSET, rule=options.rule,
            on_deny=options.on_deny, mask=options.mask)
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
        ttl = root.definition.cache_ttl
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float))
                                or not 0 < ttl < float("inf")):
            self.error(f"query {func.__name__}: cache_ttl must be a positive number of "
                       f"seconds, got {ttl!r}", func, "write e.g. cache_ttl=30")
        if root.definition.is_resolver:
            if ttl is not None:
                self.error(f"query {func.__name__}: cache_ttl applies to queries read from a "
                           "sql_source, not to resolvers", func,
                           "remove cache_ttl, or read from a view with sql_source=...")
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

    # --- mutations -------------------------------------------------------------------

    def add_mutation(self, target: Any) -> None:
        definition = definition_of(target)
        if not isinstance(definition, MutationDefinition):
            self.error(f"{target!r} is not a mutation", target,
                       "decorate it with @fraiseql.mutation(function='fn_...')")
            return
        name = to_camel(definition.name)
        if name in self.mutations:
            self.error(f"two mutations are named {name!r}", target, "rename one")
            return
        if definition.operation not in MUTATION_OPERATIONS:
            self.error(f"mutation {name}: operation {definition.operation!r} is not one of "
                       f"{', '.join(MUTATION_OPERATIONS)}", target, "operation='INSERT', ...")
        for param in definition.context_params:
            if not param.isidentifier():
                self.error(f"mutation {name}: context param {param!r} is not a name", target,
                           "use request context keys such as 'user_id'")
        if definition.is_resolver:
            self._add_resolver_mutation(target, definition, name)
        else:
            self._add_function_mutation(target, definition, name)

    def _add_resolver_mutation(self, func: Any, definition: MutationDefinition,
                               name: str) -> None:
        annotations = getattr(func, "__annotations__", {})
        if "return" not in annotations:
            self.error(f"mutation {name} has no return annotation", func,
                       f"write `async def {func.__name__}(info, ...) -> MyType: ...`")
            return
        try:
            returns = to_ref(annotations["return"], func.__globals__)
        except AnnotationError as exc:
            self.errors.append(definition_error(func, f"mutation {name} return type", exc))
            return
        self._enqueue(returns)
        field = MutationField(name, definition, returns)
        self._resolve_arguments(func, field, func.__globals__)  # type: ignore[arg-type]
        self.mutations[name] = field

    def _add_function_mutation(self, cls: Any, definition: MutationDefinition,
                               name: str) -> None:
        if not definition.function or not _SQL_NAME.match(definition.function):
            self.error(f"mutation {name}: function {definition.function!r} is not a plain SQL "
                       "name", cls, "pass function='fn_create_post' (optionally schema-qualified)")
            return
        namespace = vars(__import__("sys").modules[cls.__module__])
        parts: dict[str, TypeRef] = {}
        for part in ("input", "success", "error"):
            raw = cls.__dict__.get("__annotations__", {}).get(part)
            if raw is None:
                if part != "error":
                    self.error(f"mutation {name} declares no {part!r}", cls,
                               f"annotate `{part}: My{part.capitalize()}Type` in the class")
                continue
            try:
                parts[part] = to_ref(raw, namespace)
            except AnnotationError as exc:
                self.errors.append(definition_error(cls, f"mutation {name}.{part}", exc, part))
                continue
            self._enqueue(parts[part])
        self.drain()
        if "input" not in parts or "success" not in parts:
            return
        field = self._function_field(cls, definition, name, parts)
        if field is not None:
            self.mutations[name] = field

    def _function_field(self, cls: Any, definition: MutationDefinition, name: str,
                        parts: dict[str, TypeRef]) -> MutationField | None:
        input_info = self.inputs.get(parts["input"].name)
        success = self.objects.get(parts["success"].name)
        error = self.objects.get(parts["error"].name) if "error" in parts else None
        if input_info is None:
            self.error(f"mutation {name}: input must be an @fraiseql.input class", cls,
                       "decorate the input class with @fraiseql.input")
            return None
        if success is None:
            self.error(f"mutation {name}: success must be an object type", cls,
                       "use an @fraiseql.success class or a @fraiseql.type(sql_source=...)")
            return None
        argument = ArgumentInfo("input", "input", TypeRef("input", False, input_info.name,
                                                          python=input_info.definition.cls))
        if success.definition.role != "success":
            if error is not None:
                self.error(f"mutation {name}: an error member needs a @fraiseql.success member",
                           cls, f"decorate {success.name} with @fraiseql.success")
                return None
            if success.sql_source is None:
                self.error(f"mutation {name}: {success.name} has no sql_source", cls,
                           "return a @fraiseql.type(sql_source=...) or a @fraiseql.success")
                return None
            returns = TypeRef("object", False, success.name, python=success.definition.cls)
            return MutationField(name, definition, returns, input_info, success, None, None,
                                 {"input": argument})
        entities = [f for f in success.fields.values()
                    if f.type.kind == "object" and self.objects[f.type.name].sql_source]
        if len(entities) > 1:
            self.error(f"mutation {name}: {success.name} has several sql_source-typed fields "
                       f"({', '.join(f.python_name for f in entities)})", cls,
                       "keep one entity field; return the others through cascade")
            return None
        if error is not None and error.definition.role != "error":
            self.error(f"mutation {name}: {error.name} is not an error member", cls,
                       f"decorate {error.name} with @fraiseql.error")
            return None
        if error is None:  # no error member: failures become GraphQL errors
            returns = TypeRef("object", False, success.name, python=success.definition.cls)
        else:
            returns = TypeRef("union", True, f"{name[:1].upper()}{name[1:]}Result")
        return MutationField(name, definition, returns, input_info, success, error,
                             entities[0] if entities else None, {"input": argument})

