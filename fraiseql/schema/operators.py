"""The operator table: one row per filter operator.

Each row says which scalar families accept the operator, the GraphQL type of
its operand, and the SQL it becomes. The schema builder reads it to generate
the ``<Scalar>Filter`` input types (an operator is advertised only where it
runs), the compiler reads it to emit SQL, and the docs list it. Extending the
WHERE language means adding rows here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ALL_FAMILIES = frozenset({"string", "number", "boolean", "temporal", "id", "json", "enum"})
ORDERED = frozenset({"string", "number", "temporal"})
EQUATABLE = ALL_FAMILIES - {"json"}


@dataclass(frozen=True)
class Operator:
    """A filter operator: ``sql(lhs, param)`` builds the predicate."""

    name: str
    families: frozenset[str]
    operand: str  # "value" (same scalar), "list" (list of it), "boolean"
    sql: Callable[[str, str], str]
    description: str


OPERATORS: dict[str, Operator] = {op.name: op for op in [
    Operator("eq", EQUATABLE, "value", lambda a, p: f"{a} = {p}", "Equal to."),
    Operator("neq", EQUATABLE, "value", lambda a, p: f"{a} IS DISTINCT FROM {p}",
             "Not equal to (null counts as different)."),
    Operator("gt", ORDERED, "value", lambda a, p: f"{a} > {p}", "Greater than."),
    Operator("gte", ORDERED, "value", lambda a, p: f"{a} >= {p}", "Greater than or equal to."),
    Operator("lt", ORDERED, "value", lambda a, p: f"{a} < {p}", "Less than."),
    Operator("lte", ORDERED, "value", lambda a, p: f"{a} <= {p}", "Less than or equal to."),
    Operator("in", EQUATABLE, "list", lambda a, p: f"{a} = ANY({p})",
             "Equal to one of the values; an empty list matches nothing."),
    Operator("nin", EQUATABLE, "list", lambda a, p: f"NOT coalesce({a} = ANY({p}), false)",
             "Equal to none of the values (null matches); an empty list matches everything."),
    Operator("isnull", ALL_FAMILIES, "boolean", lambda a, p: f"(({a}) IS NULL) = {p}",
             "True: the value is null or absent. False: it is present."),
]}


def operators_for(family: str) -> list[Operator]:
    """The operators a scalar family supports, in table order."""
    return [op for op in OPERATORS.values() if family in op.families]
