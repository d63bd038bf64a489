"""``nearest: <Type>Nearest``: k-nearest-neighbour ordering on a type's Vector fields.

A SQL-backed list query whose type has at least one ``Vector`` field takes
``nearest: {field, vector, k, metric}``; the compiler (fraiseql/compiler/nearest.py)
orders the rows by that distance with pgvector's own operator, so an HNSW or
IVFFlat index on a real vector column serves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLNamedType,
    GraphQLNonNull,
    Undefined,
)

from fraiseql.schema.model import FieldInfo, ObjectInfo
from fraiseql.schema.special_scalars import VectorScalar


@dataclass(frozen=True)
class Metric:
    """One distance: its enum name, pgvector operator and index operator class."""

    name: str
    value: str  # the coerced enum value the compiler reads
    operator: str
    opclass: str
    description: str


# pgvector's `<#>` is the NEGATIVE inner product, so ascending is most similar first for
# every metric.
METRICS = (
    Metric("COSINE", "cosine", "<=>", "vector_cosine_ops",
           "Cosine distance, 1 - cos(angle): 0 is the same direction. Rows whose vector is "
           "all zeros have no direction and are left out."),
    Metric("L2", "l2", "<->", "vector_l2_ops", "Euclidean distance."),
    Metric("INNER_PRODUCT", "inner_product", "<#>", "vector_ip_ops",
           "Negative inner product (pgvector's `<#>`): the largest inner product first."),
)
METRIC_BY_VALUE = {m.value: m for m in METRICS}

VECTOR_METRIC = GraphQLEnumType(
    "VectorMetric", {m.name: GraphQLEnumValue(m.value, description=m.description)
                     for m in METRICS},
    description="How `nearest` measures the distance between two vectors.")


def vector_fields(info: ObjectInfo) -> dict[str, FieldInfo]:
    """The type's own Vector fields, by GraphQL name (embedded objects' are not sortable)."""
    return {name: f for name, f in info.fields.items()
            if f.type.kind == "scalar" and f.type.scalar is not None
            and f.type.scalar.kind == "vector"}


def nearest_argument(named: dict[str, GraphQLNamedType],
                     info: ObjectInfo) -> GraphQLArgument | None:
    """The ``nearest`` argument of a list of ``info``, or None if it has no Vector field."""
    fields = vector_fields(info)
    if not fields:
        return None
    name = f"{info.name}Nearest"
    if name not in named:
        field_enum = GraphQLEnumType(
            f"{info.name}VectorField",
            {f.python_name.upper(): GraphQLEnumValue(graphql_name, description=f.description)
             for graphql_name, f in fields.items()},
            description=f"A Vector field of {info.name}.")
        # With one Vector field it is the default; with several the client names one.
        only = next(iter(fields)) if len(fields) == 1 else None
        named[name] = GraphQLInputObjectType(name, lambda: {
            "field": GraphQLInputField(
                GraphQLNonNull(field_enum), description="The Vector field to measure.",
                default_value=only if only is not None else Undefined),
            "vector": GraphQLInputField(GraphQLNonNull(VectorScalar),
                                        description="The distance is measured to this vector."),
            "k": GraphQLInputField(GraphQLNonNull(GraphQLInt),
                                   description="At most this many rows (1 to the page cap)."),
            "metric": GraphQLInputField(GraphQLNonNull(VECTOR_METRIC), default_value="cosine",
                                        description="The distance; cosine unless given."),
        }, description=f"The k rows of {info.name} nearest to a vector, nearest first "
                       "(ties by id), after `where`; `limit`/`offset` page within them.")
    return GraphQLArgument(named[name], out_name="nearest",  # type: ignore[arg-type]
                           description="Order by distance to a vector: the k nearest rows.")
