"""The plan cache: (document, operation, variable shape) -> Plan, bounded LRU.

The SQL text depends on which variables are null or absent, on booleans (they
drive @skip/@include and isnull), and on the structure of input objects (which
filter keys are present); scalar values and scalar-list lengths are bound as
parameters and do not change the plan.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
)

from fraiseql.compiler.plan import Plan


def variable_shape(value: Any, gql_type: Any) -> Any:
    """A hashable summary of what in ``value`` (of ``gql_type``) the SQL depends on."""
    if isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    if value is None:
        return None
    if isinstance(gql_type, GraphQLList):
        item_type = get_named_type(gql_type)
        if isinstance(item_type, GraphQLScalarType) and item_type.name != "Boolean":
            return "scalars"
        items = value if isinstance(value, list) else [value]
        return ("list", tuple(variable_shape(item, gql_type.of_type) for item in items))
    if isinstance(gql_type, GraphQLInputObjectType) and isinstance(value, dict):
        fields = gql_type.fields
        return tuple(sorted((k, variable_shape(v, fields[k].type if k in fields else None))
                            for k, v in value.items()))
    if isinstance(gql_type, GraphQLEnumType) or isinstance(value, bool):
        return value if isinstance(value, (str, bool)) else "?"
    return type(value).__name__


def variables_shape(variables: dict[str, Any], types: dict[str, Any]) -> Any:
    """The shape of all variables of an operation (types by variable name)."""
    return tuple(sorted((name, variable_shape(variables[name], gql_type))
                        for name, gql_type in types.items() if name in variables))


class PlanCache:
    """LRU cache of compiled plans."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._plans: OrderedDict[Any, Plan] = OrderedDict()

    def get(self, key: Any) -> Plan | None:
        """The cached plan, refreshed as most recently used."""
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
        return plan

    def put(self, key: Any, plan: Plan) -> None:
        """Store a plan, evicting the least recently used beyond the bound."""
        self._plans[key] = plan
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)

    def clear(self) -> None:
        """Forget every plan (e.g. after the database's views changed)."""
        self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)
