"""The resolved model -> graphql-core types, with generated where/orderBy inputs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
)

from fraiseql.schema.definitions import UNSET, definition_of, own_docstring
from fraiseql.schema.model import MutationField, ObjectInfo, RootField, TypeRef
from fraiseql.schema.naming import to_camel
from fraiseql.schema.nearest import nearest_argument
from fraiseql.schema.filter_inputs import filter_input

ORDER_DIRECTION = GraphQLEnumType(
    "OrderDirection", {
        "ASC": GraphQLEnumValue("ASC", description="Ascending, nulls last."),
        "DESC": GraphQLEnumValue("DESC", description="Descending, nulls first."),
        "ASC_NULLS_FIRST": GraphQLEnumValue("ASC_NULLS_FIRST",
                                            description="Ascending, nulls first."),
        "ASC_NULLS_LAST": GraphQLEnumValue("ASC_NULLS_LAST",
                                           description="Ascending, nulls last."),
        "DESC_NULLS_FIRST": GraphQLEnumValue("DESC_NULLS_FIRST",
                                             description="Descending, nulls first."),
        "DESC_NULLS_LAST": GraphQLEnumValue("DESC_NULLS_LAST",
                                            description="Descending, nulls last.")},
    description="Sort direction; ASC and DESC keep PostgreSQL's defaults (nulls sort as "
                "larger than every value).")


# Scalar families without an orderBy key: no meaningful (or indexable) order.
UNORDERED = ("json", "fulltext", "vector")


class _EnumType(GraphQLEnumType):
    """An enum that also serializes what SQL and Python resolvers hand it.

    SQL-built rows already carry the GraphQL name; Python code may return the
    member or the stored value. All three mean the same value.
    """

    def serialize(self, output_value: Any) -> Any:
        if isinstance(output_value, str) and output_value in self.values:
            return output_value
        for name, value in self.values.items():
            if getattr(value.value, "value", None) == output_value:
                return name
        return super().serialize(output_value)


def response_key_resolver(source: Any, info: Any, **_args: Any) -> Any:
    """Default resolver for Python-resolved data: dicts keyed by response key."""
    if isinstance(source, dict):
        key = info.path.key
        return source[key] if key in source else source.get(info.field_name)
    return getattr(source, info.field_name, None)


def to_graphql(objects: dict[str, ObjectInfo], roots: dict[str, RootField],
               enums: dict[str, type], inputs: dict[str, ObjectInfo],
               mutations: dict[str, MutationField] | None = None,
               facts: dict[str, Any] | None = None,
               connections: dict[str, RootField] | None = None,
               counts: dict[str, RootField] | None = None) -> GraphQLSchema:
    """Build the graphql-core schema for a resolved model (facts: schema/fact_types.py;
    the list roots' companions: schema/connections.py)."""
    return _Converter(objects, enums, inputs).schema(roots, mutations or {}, facts or {},
                                                     connections or {}, counts or {})


class _Converter:
    def __init__(self, objects: dict[str, ObjectInfo], enums: dict[str, type],
                 inputs: dict[str, ObjectInfo]) -> None:
        self.objects, self.enums, self.inputs = objects, enums, inputs
        self.named: dict[str, GraphQLNamedType] = {"OrderDirection": ORDER_DIRECTION}

    def schema(self, roots: dict[str, RootField], mutations: dict[str, MutationField],
               facts: dict[str, Any], connections: dict[str, RootField] | None = None,
               counts: dict[str, RootField] | None = None) -> GraphQLSchema:
        from fraiseql.schema.connections import companion_fields
        from fraiseql.schema.fact_types import fact_root_fields
        query = GraphQLObjectType("Query", lambda: {
            **{name: self.root_field(root) for name, root in roots.items()},
            **companion_fields(self, connections or {}, counts or {}),
            **fact_root_fields(self, facts)})
        mutation = GraphQLObjectType("Mutation", lambda: {
            name: self.mutation_field(m) for name, m in mutations.items()}) if mutations else None
        extra = [self.object_type(info) for info in self.objects.values()]
        return GraphQLSchema(query=query, mutation=mutation, types=extra)

    def mutation_field(self, m: MutationField) -> GraphQLField:
        args = {name: GraphQLArgument(self.input(arg.type), out_name=arg.python_name,
                                      default_value=arg.default if arg.has_default
                                      and arg.default is not UNSET else Undefined)
                for name, arg in m.arguments.items()}
        if m.returns.kind == "union":
            assert m.success is not None and m.error is not None
            members: Any = [self.object_type(m.success), self.object_type(m.error)]
            returns: Any = self.named.get(m.returns.name) or GraphQLUnionType(
                m.returns.name, members, resolve_type=_typename_of,
                description=f"The outcome of {m.name}: {members[0].name} or {members[1].name}.")
            self.named[m.returns.name] = returns
        else:
            returns = self.output(m.returns)
        func = m.definition.target
        resolve = _mutation_resolver(func) if m.definition.is_resolver else None
        return GraphQLField(returns, args=args, description=m.definition.description,
                            resolve=resolve)

    # --- output ---------------------------------------------------------------------

    def wrap(self, ref: TypeRef, named: Any) -> Any:
        return named if ref.nullable else GraphQLNonNull(named)

    def output(self, ref: TypeRef) -> Any:
        if ref.kind == "list":
            assert ref.of is not None
            return self.wrap(ref, GraphQLList(self.output(ref.of)))
        if ref.kind == "scalar":
            assert ref.scalar is not None
            return self.wrap(ref, ref.scalar.graphql)
        if ref.kind == "enum":
            return self.wrap(ref, self.enum_type(ref.name))
        return self.wrap(ref, self.object_type(self.objects[ref.name]))

    def input(self, ref: TypeRef) -> Any:
        if ref.kind == "list":
            assert ref.of is not None
            return self.wrap(ref, GraphQLList(self.input(ref.of)))
        if ref.kind == "scalar":
            assert ref.scalar is not None
            return self.wrap(ref, ref.scalar.graphql)
        if ref.kind == "enum":
            return self.wrap(ref, self.enum_type(ref.name))
        return self.wrap(ref, self.input_type(self.inputs[ref.name]))

    def enum_type(self, name: str) -> GraphQLEnumType:
        if name not in self.named:
            cls = self.enums[name]
            self.named[name] = _EnumType(
                name, {m.name: GraphQLEnumValue(m) for m in cls},  # type: ignore[attr-defined]
                description=cls.__fraiseql_definition__.description)  # type: ignore[attr-defined]
        return self.named[name]  # type: ignore[return-value]

    def object_type(self, info: ObjectInfo) -> GraphQLObjectType | GraphQLInterfaceType:
        if info.name in self.named:
            return self.named[info.name]  # type: ignore[return-value]
        definition = info.definition
        fields = lambda: {name: self.object_field(f, info.name)  # noqa: E731
                          for name, f in info.fields.items()}
        if definition.kind == "interface":
            made: Any = GraphQLInterfaceType(info.name, fields, description=definition.description)
        else:
            interfaces: Any = lambda: [  # noqa: E731
                self.object_type(self.objects[definition_of(base).name])
                for base in definition.implements]
            made = GraphQLObjectType(info.name, fields, interfaces=interfaces,
                                     description=definition.description)
        self.named[info.name] = made
        return made  # type: ignore[no-any-return]

    def object_field(self, f: Any, owner: str = "") -> GraphQLField:
        args = {}
        if f.type.kind == "list":
            args = {"limit": GraphQLArgument(GraphQLInt, description="At most this many items."),
                    "offset": GraphQLArgument(GraphQLInt, description="Skip this many items.")}
        resolve = response_key_resolver
        if f.rule is not None:  # Python-resolved objects obey the field's rule too
            from fraiseql.authz.checkpoint import restricted_resolver
            resolve = restricted_resolver(f, owner, response_key_resolver)
        return GraphQLField(self.output(f.type), args=args, description=f.description,
                            deprecation_reason=f.deprecation_reason, resolve=resolve)

    def input_type(self, info: ObjectInfo) -> GraphQLInputObjectType:
        if info.name not in self.named:
            self.named[info.name] = GraphQLInputObjectType(
                info.name, lambda: {name: GraphQLInputField(
                    # An omittable field must be optional in GraphQL, so its type is
                    # nullable there; an explicit null is refused when binding.
                    self.input(replace(f.type, nullable=True) if f.omittable else f.type),
                    description=f.description,
                    default_value=f.default if f.has_default else Undefined,
                    out_name=f.python_name) for name, f in info.fields.items()},
                description=info.definition.description)
        return self.named[info.name]  # type: ignore[return-value]

    # --- roots ----------------------------------------------------------------------

    def root_field(self, root: RootField) -> GraphQLField:
        args = {name: GraphQLArgument(
            self.input(arg.type), out_name=arg.python_name,
            default_value=arg.default if arg.has_default and arg.default is not UNSET else Undefined)
            for name, arg in root.arguments.items()}
        if root.is_list and root.object is not None and not root.definition.is_resolver:
            self.add_list_arguments(root, args)
        resolve = _resolver_for(root) if root.definition.is_resolver else None
        return GraphQLField(self.output(root.returns), args=args,
                            description=root.definition.description
                            or own_docstring(root.definition.func), resolve=resolve)

    def add_list_arguments(self, root: RootField, args: dict[str, GraphQLArgument]) -> None:
        assert root.object is not None
        args["where"] = GraphQLArgument(self.where_type(root.object), out_name="where",
                                        description="Only rows matching this filter.")
        args["orderBy"] = GraphQLArgument(
            GraphQLList(GraphQLNonNull(self.order_type(root.object))), out_name="order_by",
            description="Sort keys, one field per object, applied in order.")
        args.setdefault("limit", GraphQLArgument(
            GraphQLInt, default_value=root.page_size_cap, out_name="limit",
            description=f"At most this many rows (cap {root.page_size_cap})."))
        args.setdefault("offset", GraphQLArgument(GraphQLInt, default_value=0, out_name="offset",
                                                  description="Skip this many rows."))
        nearest = nearest_argument(self.named, root.object)  # only with a Vector field
        if nearest is not None:
            args.setdefault("nearest", nearest)

    def where_type(self, info: ObjectInfo) -> GraphQLInputObjectType:
        name = f"{info.name}WhereInput"
        if name not in self.named:
            def fields() -> dict[str, GraphQLInputField]:
                result: dict[str, GraphQLInputField] = {}
                for field_name, f in info.fields.items():
                    if f.type.kind in ("scalar", "enum"):
                        result[field_name] = GraphQLInputField(self.filter_type(f.type))
                    elif f.type.kind == "list" and f.type.of is not None \
                            and f.type.of.kind in ("scalar", "enum", "object"):
                        result[field_name] = GraphQLInputField(self.list_filter_type(f.type.of))
                    elif f.type.kind == "object":
                        result[field_name] = GraphQLInputField(
                            self.where_type(self.objects[f.type.name]))
                me: Any = self.named[name]
                result["_and"] = GraphQLInputField(GraphQLList(GraphQLNonNull(me)),
                                                   description="All of these filters.")
                result["_or"] = GraphQLInputField(GraphQLList(GraphQLNonNull(me)),
                                                  description="Any of these filters.")
                result["_not"] = GraphQLInputField(me, description="Not this filter.")
                return result
            self.named[name] = GraphQLInputObjectType(
                name, fields, description=f"Filter for {info.name}.")
        return self.named[name]  # type: ignore[return-value]

    def filter_type(self, ref: TypeRef) -> GraphQLInputObjectType:
        family = "enum" if ref.kind == "enum" else ref.scalar.kind  # type: ignore[union-attr]
        return filter_input(self.named, f"{ref.name}Filter", family, self.filter_operand(ref))

    def list_filter_type(self, item: TypeRef) -> GraphQLInputObjectType:
        """``<Item>ListFilter``: array operators, or any/isEmpty for embedded objects."""
        if item.kind == "object":
            where = lambda: self.where_type(self.objects[item.name])  # noqa: E731
            return filter_input(self.named, f"{item.name}ListFilter", "objects", None, where)
        return filter_input(self.named, f"{item.name}ListFilter", "array",
                            self.filter_operand(item))

    def filter_operand(self, ref: TypeRef) -> Any:
        return self.enum_type(ref.name) if ref.kind == "enum" else ref.scalar.graphql  # type: ignore[union-attr]

    def order_type(self, info: ObjectInfo) -> GraphQLInputObjectType:
        name = f"{info.name}OrderBy"
        if name not in self.named:
            def fields() -> dict[str, GraphQLInputField]:
                result: dict[str, GraphQLInputField] = {}
                for field_name, f in info.fields.items():
                    if _sortable(f.type):
                        result[field_name] = GraphQLInputField(ORDER_DIRECTION)
                    elif f.type.kind == "object" and _orderable(self.objects, f.type.name):
                        result[field_name] = GraphQLInputField(
                            self.order_type(self.objects[f.type.name]),
                            description=f"Sort on a field of the embedded {f.type.name}.")
                return result
            self.named[name] = GraphQLInputObjectType(
                name, fields, description=f"Sort key for {info.name}: set exactly one field.")
        return self.named[name]  # type: ignore[return-value]


def _sortable(ref: TypeRef) -> bool:
    """A scalar (not JSON, full text or vector) or enum field: one OrderDirection sorts on it."""
    return ref.kind == "enum" or (ref.kind == "scalar" and ref.scalar is not None
                                  and ref.scalar.kind not in UNORDERED)


def _orderable(objects: dict[str, ObjectInfo], name: str, seen: frozenset[str] = frozenset()
               ) -> bool:
    """Whether an embedded object has a field to sort on (its OrderBy is not empty)."""
    for f in objects[name].fields.values():
        if _sortable(f.type):
            return True
        if f.type.kind == "object" and f.type.name not in seen | {name} \
                and _orderable(objects, f.type.name, seen | {name}):
            return True
    return False


def _typename_of(value: Any, *_: Any) -> Any:
    return value.get("__typename") if isinstance(value, dict) else None


def _mutation_resolver(func: Any) -> Any:
    """Run a Python mutation inside its own transaction (see execution/resolver_context)."""
    async def resolve(_source: Any, info: Any, **kwargs: Any) -> Any:
        db = info.context["db"]
        async with db.transaction():
            return await func(info, **kwargs)

    return resolve


def _resolver_for(root: RootField) -> Any:
    func = root.definition.func

    async def resolve(_source: Any, info: Any, **kwargs: Any) -> Any:
        return await func(info, **kwargs)

    return resolve


__all__ = ["to_graphql", "to_camel", "response_key_resolver"]
