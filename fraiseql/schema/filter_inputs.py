"""The generated filter input types, one per (family, operand type), from the operator table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLString,
)

from fraiseql.schema.operators import graphql_name, operators_for
from fraiseql.schema.scalars import DateScalar, JSONScalar
from fraiseql.schema.special_scalars import VectorScalar

# PostgreSQL's built-in text search configurations (pg_catalog.pg_ts_config).
TEXT_SEARCH_CONFIGS = (
    "simple", "arabic", "armenian", "basque", "catalan", "danish", "dutch", "english",
    "estonian", "finnish", "french", "german", "greek", "hindi", "hungarian", "indonesian", "irish",
    "italian", "lithuanian", "nepali", "norwegian", "portuguese", "romanian", "russian",
    "serbian", "spanish", "swedish", "tamil", "turkish", "yiddish")

TEXT_SEARCH_LANGUAGE = GraphQLEnumType(
    "TextSearchLanguage",
    {name.upper(): GraphQLEnumValue(name, description=f"The `{name}` configuration.")
     for name in TEXT_SEARCH_CONFIGS},
    description="A PostgreSQL text search configuration: how query words are normalized.")

VECTOR_DISTANCE = GraphQLInputObjectType("VectorDistance", lambda: {
    "vector": GraphQLInputField(GraphQLNonNull(VectorScalar), description="Compared to this."),
    "lt": GraphQLInputField(GraphQLFloat, description="Distance less than."),
    "lte": GraphQLInputField(GraphQLFloat, description="Distance at most."),
    "gt": GraphQLInputField(GraphQLFloat, description="Distance greater than."),
    "gte": GraphQLInputField(GraphQLFloat, description="Distance at least."),
}, description="A distance to a vector, bounded by at least one of lt, lte, gt, gte.")


def filter_input(named: dict[str, GraphQLNamedType], name: str, family: str,
                 operand: Any, element_where: Callable[[], Any] | None = None
                 ) -> GraphQLInputObjectType:
    """The ``name`` input (e.g. ``StringFilter``): one field per operator of ``family``.

    ``operand`` is the GraphQL type of the filtered value (the item type for
    arrays); ``element_where`` gives the element WhereInput of a list of objects.
    """
    if name in named:
        return named[name]  # type: ignore[return-value]

    def fields() -> dict[str, GraphQLInputField]:
        shapes: dict[str, Any] = {
            "boolean": GraphQLBoolean, "string": GraphQLString,
            "strings": GraphQLList(GraphQLNonNull(GraphQLString)), "int": GraphQLInt,
            "json": JSONScalar, "date": DateScalar, "query": GraphQLString,
            "language": TEXT_SEARCH_LANGUAGE, "distance": VECTOR_DISTANCE}
        if operand is not None:
            shapes.update(value=operand, list=GraphQLList(GraphQLNonNull(operand)))
        if element_where is not None:
            shapes["where"] = element_where()
        return {graphql_name(op): GraphQLInputField(
            shapes[op.operand], description=op.description,
            default_value="simple" if op.operand == "language" else _no_default())
            for op in operators_for(family)}

    made = GraphQLInputObjectType(name, fields, description=f"Operators on {_what(name)}.")
    named[name] = made
    return made


def _no_default() -> Any:
    from graphql import Undefined
    return Undefined


def _what(name: str) -> str:
    base = name.removesuffix("Filter")
    return f"lists of {base.removesuffix('List')}" if base.endswith("List") else f"{base} values"
