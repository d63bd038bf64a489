"""GraphQL types generated for a fact table (see schema/facts.py).

For a fact named ``Sale`` the root field is::

    salesAggregate(where: SaleFactWhere, groupBy: [SaleDimension!],
                   timeBucket: SaleTimeBucket, having: SaleHaving,
                   orderBy: [SaleGroupOrderBy!], limit: Int = <cap>): [SaleGroup!]!

``where`` and ``having`` reuse the ``<Scalar>Filter`` inputs of ordinary lists, so
there is one filter language. Aggregate types: ``count`` is Int; sum/min/max have
the measure's type; avg of an Int measure is a Float, otherwise the measure's type
(a Decimal average stays exact and leaves as a string).
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
)

from fraiseql.schema.facts import FactInfo, FactMember
from fraiseql.schema.model import TypeRef
from fraiseql.schema.scalars import SCALARS

# date_trunc field names; week buckets start on Monday (ISO), all in UTC.
BUCKET_UNITS = ("hour", "day", "week", "month")
MEASURE_AGGREGATES = ("sum", "avg", "min", "max")

TIME_BUCKET_UNIT = GraphQLEnumType(
    "TimeBucketUnit", {unit.upper(): GraphQLEnumValue(unit) for unit in BUCKET_UNITS},
    description="A time bucket's length; buckets start at the unit's start in UTC "
                "(weeks on Monday).")


def aggregate_ref(member: FactMember, aggregate: str) -> TypeRef:
    """The (nullable) type of ``aggregate`` over a measure: avg of an Int is a Float."""
    if aggregate == "avg" and member.type.python is int:
        return TypeRef("scalar", True, "Float", scalar=SCALARS[float], python=float)
    return TypeRef("scalar", True, member.type.name, scalar=member.type.scalar,
                   python=member.type.python)


def is_decimal(ref: TypeRef) -> bool:
    return ref.python is decimal.Decimal


class FactTypes:
    """Builds one fact's types with the converter that owns the schema's named types."""

    def __init__(self, converter: Any, fact: FactInfo) -> None:
        self.conv, self.fact, self.prefix = converter, fact, fact.name
        self.named: dict[str, Any] = converter.named
        self.named.setdefault("TimeBucketUnit", TIME_BUCKET_UNIT)

    def _once(self, name: str, make: Any) -> Any:
        if name not in self.named:
            self.named[name] = make(name)
        return self.named[name]

    def root_field(self) -> GraphQLField:
        fact = self.fact
        args: dict[str, GraphQLArgument] = {
            "where": GraphQLArgument(self.where_type(), description="Only rows matching this."),
        }
        if fact.of_role("dimension"):
            args["groupBy"] = GraphQLArgument(
                GraphQLList(GraphQLNonNull(self.dimension_enum())),
                description="Dimensions to group by; one group per distinct combination.")
        if fact.of_role("time"):
            args["timeBucket"] = GraphQLArgument(self.time_bucket_type(),
                                                 description="Group by time bucket, too.")
        args["having"] = GraphQLArgument(self.having_type(),
                                         description="Only groups whose aggregates match this.")
        args["orderBy"] = GraphQLArgument(
            GraphQLList(GraphQLNonNull(self.order_type())),
            description="Sort keys, one per object; the group keys break ties.")
        args["limit"] = GraphQLArgument(GraphQLInt, default_value=fact.page_size_cap,
                                        description=f"At most this many groups "
                                                    f"(cap {fact.page_size_cap}).")
        return GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(self.group_type()))),
                            args=args, description=fact.definition.description or
                            f"Aggregates over {fact.definition.sql_source}.")

    # --- inputs ---------------------------------------------------------------------

    def dimension_enum(self) -> GraphQLEnumType:
        made: GraphQLEnumType = self._once(
            f"{self.prefix}Dimension", lambda name: GraphQLEnumType(name, {
                m.enum_name: GraphQLEnumValue(m.python_name, description=m.description)
                for m in self.fact.of_role("dimension")},
                description=f"A dimension of {self.prefix}."))
        return made

    def time_bucket_type(self) -> GraphQLInputObjectType:
        times = self.fact.of_role("time")

        def make(name: str) -> GraphQLInputObjectType:
            field_enum = GraphQLEnumType(f"{self.prefix}TimeField", {
                m.enum_name: GraphQLEnumValue(m.python_name) for m in times},
                description=f"A time dimension of {self.prefix}.")
            self.named[field_enum.name] = field_enum
            # With one time dimension, `field` may be left out.
            default = times[0].python_name if len(times) == 1 else None
            field_type: Any = field_enum if default else GraphQLNonNull(field_enum)
            return GraphQLInputObjectType(name, {
                "field": GraphQLInputField(field_type, default_value=default or Undefined),
                "unit": GraphQLInputField(GraphQLNonNull(TIME_BUCKET_UNIT)),
            }, description="Which time dimension to bucket, and how.")
        return self._once(f"{self.prefix}TimeBucket", make)  # type: ignore[no-any-return]

    def where_type(self) -> GraphQLInputObjectType:
        def make(name: str) -> GraphQLInputObjectType:
            def fields() -> dict[str, GraphQLInputField]:
                result = {m.graphql_name: GraphQLInputField(self.conv.filter_type(m.type),
                                                            description=m.description)
                          for m in self.fact.members.values()}
                result.update(_logical(self.named[name]))
                return result
            return GraphQLInputObjectType(name, fields,
                                          description=f"Filter on {self.prefix} rows.")
        return self._once(f"{self.prefix}FactWhere", make)  # type: ignore[no-any-return]

    def having_type(self) -> GraphQLInputObjectType:
        def make(name: str) -> GraphQLInputObjectType:
            def fields() -> dict[str, GraphQLInputField]:
                count = TypeRef("scalar", False, "Int", scalar=SCALARS[int], python=int)
                result = {"count": GraphQLInputField(self.conv.filter_type(count))}
                if self.fact.of_role("measure"):
                    for aggregate in MEASURE_AGGREGATES:
                        result[aggregate] = GraphQLInputField(self.measure_filter(aggregate))
                result.update(_logical(self.named[name]))
                return result
            return GraphQLInputObjectType(name, fields,
                                          description=f"Filter on {self.prefix} groups.")
        return self._once(f"{self.prefix}Having", make)  # type: ignore[no-any-return]

    def measure_filter(self, aggregate: str) -> GraphQLInputObjectType:
        name = f"{self.prefix}{'Average' if aggregate == 'avg' else 'Measure'}Filter"
        made: GraphQLInputObjectType = self._once(name, lambda n: GraphQLInputObjectType(
            n, lambda: {m.graphql_name: GraphQLInputField(
                self.conv.filter_type(aggregate_ref(m, aggregate)))
                for m in self.fact.of_role("measure")}))
        return made

    def order_type(self) -> GraphQLInputObjectType:
        direction = self.named["OrderDirection"]

        def make(name: str) -> GraphQLInputObjectType:
            def fields() -> dict[str, GraphQLInputField]:
                result = {m.graphql_name: GraphQLInputField(direction)
                          for m in self.fact.of_role("dimension")}
                if self.fact.of_role("time"):
                    result["bucket"] = GraphQLInputField(direction)
                result["count"] = GraphQLInputField(direction)
                if self.fact.of_role("measure"):
                    measures = self._once(f"{self.prefix}MeasureOrderBy",
                                          lambda n: GraphQLInputObjectType(n, {
                                              m.graphql_name: GraphQLInputField(direction)
                                              for m in self.fact.of_role("measure")}))
                    for aggregate in MEASURE_AGGREGATES:
                        result[aggregate] = GraphQLInputField(measures)
                return result
            return GraphQLInputObjectType(
                name, fields, description=f"Sort key for {self.prefix} groups: set exactly "
                                          "one field (one measure inside an aggregate).")
        return self._once(f"{self.prefix}GroupOrderBy", make)  # type: ignore[no-any-return]

    # --- output ---------------------------------------------------------------------

    def group_type(self) -> GraphQLObjectType:
        def make(name: str) -> GraphQLObjectType:
            def fields() -> dict[str, GraphQLField]:
                result = {m.graphql_name: GraphQLField(m.type.scalar.graphql,  # type: ignore[union-attr]
                                                       description=m.description)
                          for m in self.fact.of_role("dimension")}
                if self.fact.of_role("time"):
                    result["bucket"] = GraphQLField(
                        SCALARS[datetime.datetime].graphql,
                        description="The start of the time bucket (UTC).")
                result["count"] = GraphQLField(GraphQLNonNull(GraphQLInt),
                                               description="The number of rows in the group.")
                if self.fact.of_role("measure"):
                    for aggregate in MEASURE_AGGREGATES:
                        result[aggregate] = GraphQLField(self.measures_type(aggregate))
                return result
            return GraphQLObjectType(name, fields, description=f"One group of {self.prefix} "
                                                               "rows and its aggregates.")
        return self._once(f"{self.prefix}Group", make)  # type: ignore[no-any-return]

    def measures_type(self, aggregate: str) -> GraphQLObjectType:
        name = f"{self.prefix}{'Averages' if aggregate == 'avg' else 'Measures'}"
        made: GraphQLObjectType = self._once(name, lambda n: GraphQLObjectType(n, lambda: {
            m.graphql_name: GraphQLField(aggregate_ref(m, aggregate).scalar.graphql)  # type: ignore[union-attr]
            for m in self.fact.of_role("measure")},
            description="Null when every value in the group is null."))
        return made


def _logical(me: Any) -> dict[str, GraphQLInputField]:
    return {"_and": GraphQLInputField(GraphQLList(GraphQLNonNull(me)),
                                      description="All of these filters."),
            "_or": GraphQLInputField(GraphQLList(GraphQLNonNull(me)),
                                     description="Any of these filters."),
            "_not": GraphQLInputField(me, description="Not this filter.")}


def fact_root_fields(converter: Any, facts: dict[str, FactInfo]) -> dict[str, GraphQLField]:
    """The Query fields for ``facts`` (by root name)."""
    return {name: FactTypes(converter, fact).root_field() for name, fact in facts.items()}
