"""The resolved schema model the compiler reads: types, fields, root fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSchema

from fraiseql.schema.definitions import MutationDefinition, QueryDefinition, TypeDefinition
from fraiseql.schema.scalars import ScalarInfo


@dataclass(frozen=True)
class TypeRef:
    """A resolved field type: a named type or a list, each nullable or not."""

    kind: str  # "scalar" | "enum" | "object" | "interface" | "input" | "list"
    nullable: bool
    name: str = ""
    of: TypeRef | None = None
    scalar: ScalarInfo | None = None
    python: Any = None  # the enum class or decorated class

    def named(self) -> TypeRef:
        """The innermost named type under any lists."""
        ref = self
        while ref.of is not None:
            ref = ref.of
        return ref


@dataclass
class FieldInfo:
    """One field of an object or input type."""

    python_name: str  # snake_case: the key in the view's JSONB data
    graphql_name: str
    type: TypeRef
    description: str | None = None
    default: Any = None
    has_default: bool = False
    deprecation_reason: str | None = None
    omittable: bool = False  # `= fraiseql.UNSET`: may be absent, yet not null if non-null
    rule: Any = None  # fraiseql.authz.rules.Rule: who may read it (None: everyone)
    on_deny: str = "reject"  # "reject" | "mask"
    mask: str | None = None  # fraiseql/authz/masks.py


@dataclass
class ObjectInfo:
    """An object type (or interface) and its fields by GraphQL name."""

    name: str
    definition: TypeDefinition
    fields: dict[str, FieldInfo] = field(default_factory=dict)

    @property
    def sql_source(self) -> str | None:
        return self.definition.sql_source


@dataclass
class ArgumentInfo:
    """A declared argument of a root field."""

    python_name: str
    graphql_name: str
    type: TypeRef
    default: Any = None
    has_default: bool = False


@dataclass
class RootField:
    """A root query field and how it reads its data."""

    name: str
    definition: QueryDefinition
    returns: TypeRef
    object: ObjectInfo | None
    arguments: dict[str, ArgumentInfo] = field(default_factory=dict)
    page_size_cap: int | None = None

    @property
    def is_list(self) -> bool:
        return self.returns.kind == "list"

    @property
    def sql_source(self) -> str | None:
        if self.definition.is_resolver:
            return None
        return self.definition.sql_source or (self.object.sql_source if self.object else None)


@dataclass
class MutationField:
    """A root mutation field: a PostgreSQL function (or a resolver) and its result types."""

    name: str
    definition: MutationDefinition
    returns: TypeRef  # the union (nullable) or, in the direct form, the entity type
    input: ObjectInfo | None = None
    success: ObjectInfo | None = None
    error: ObjectInfo | None = None
    entity_field: FieldInfo | None = None  # the success member's sql_source-typed field
    arguments: dict[str, ArgumentInfo] = field(default_factory=dict)

    @property
    def function(self) -> str | None:
        return self.definition.function

    @property
    def context_params(self) -> tuple[str, ...]:
        return self.definition.context_params

    @property
    def union_name(self) -> str:
        return f"{self.name[:1].upper()}{self.name[1:]}Result"


@dataclass
class Schema:
    """A built schema: the graphql-core schema plus what the compiler needs."""

    graphql: GraphQLSchema
    objects: dict[str, ObjectInfo]
    queries: dict[str, RootField]
    enums: dict[str, type]
    mutations: dict[str, MutationField] = field(default_factory=dict)
    inputs: dict[str, ObjectInfo] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # root name -> facts.FactInfo
    # Generated companions of list roots, by field name -> the list root they page/count.
    connections: dict[str, RootField] = field(default_factory=dict)
    counts: dict[str, RootField] = field(default_factory=dict)

    def sdl(self) -> str:
        """The schema in GraphQL SDL."""
        from graphql import print_schema
        return print_schema(self.graphql)
