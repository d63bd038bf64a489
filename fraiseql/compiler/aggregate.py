"""An aggregate root field over a fact table -> one SQL statement building the JSON.

The statement has three layers (``salesAggregate(groupBy: [CATEGORY], timeBucket:
{unit: DAY}) { category bucket count sum { revenue } }``)::

    SELECT coalesce(json_agg(<group object> ORDER BY g.n), '[]'::json) FROM (
      SELECT h.*, row_number() OVER (ORDER BY <orderBy>) AS n FROM (
        SELECT v."category" AS "category", date_trunc('day', v."occurred_at", 'UTC') AS "bucket",
               count(*) AS "count", sum(v."revenue")::numeric AS "sum_revenue"
        FROM (<the fact, every member as a column>) AS v
        WHERE <where> GROUP BY 1, 2) AS h
      WHERE <having> ORDER BY <orderBy> LIMIT $n) AS g

The innermost sub-select names every member as a column (a dimension is read from
the JSONB and cast per its scalar), so ``where`` and ``having`` are compiled by the
ordinary WhereCompiler over "real columns": one filter language, one operator
table. PostgreSQL inlines that sub-select, so it costs nothing. Only the aggregates
the query selects, filters on (having) or sorts on are computed.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType
from graphql.execution.collect_fields import collect_sub_fields

from fraiseql.compiler.context import CompileContext, SourceInfo, bad_input, param
from fraiseql.compiler.plan import ListShape, RootPlan
from fraiseql.authz.tenancy import tenant_predicate
from fraiseql.compiler.order import DIRECTIONS, SortKey, one_entry
from fraiseql.compiler.projection import build_object
from fraiseql.compiler.sql import Params, ident, literal
from fraiseql.compiler.values import bounded
from fraiseql.compiler.where import WhereCompiler
from fraiseql.schema.definitions import TypeDefinition
from fraiseql.schema.fact_types import MEASURE_AGGREGATES, aggregate_ref, is_decimal
from fraiseql.schema.facts import FactInfo, FactMember
from fraiseql.schema.model import FieldInfo, ObjectInfo, TypeRef
from fraiseql.schema.scalars import SCALARS

COUNT_REF = TypeRef("scalar", False, "Int", scalar=SCALARS[int], python=int)
# A bucket start as DateTime text, whatever the session's TimeZone.
BUCKET_TEXT = literal('YYYY-MM-DD"T"HH24:MI:SS"+00:00"')


def aggregate_column(aggregate: str, member: FactMember) -> str:
    """The column of the group row holding ``aggregate`` over ``member``."""
    return f"{aggregate}_{member.python_name}"


def _sql_type(ref: TypeRef) -> str:
    """What an aggregate is cast to: float8 for Float, exact numeric otherwise."""
    return "float8" if ref.python is float else "numeric"


def _member_column_type(member: FactMember) -> str:
    if member.role == "time":
        return "timestamptz"
    if member.role == "measure":
        return _sql_type(member.type)
    assert member.type.scalar is not None
    return member.type.scalar.sql_cast


class _HavingCompiler(WhereCompiler):
    """``having``: a where tree whose sum/avg/min/max keys hold one filter per measure."""

    def __init__(self, plan: _AggregatePlan, params: Params, site: int) -> None:
        super().__init__(plan.ctx.schema, params, site, plan.group_source(), table_alias="h")
        self.plan = plan

    def _entry(self, key: str, value: Any, obj: ObjectInfo, data: str,
               path: tuple[str | int, ...], top: bool) -> str:
        if key not in MEASURE_AGGREGATES or value is None:
            return super()._entry(key, value, obj, data, path, top)
        parts = []
        for measure_name, filters in value.items():
            if filters is None:
                raise bad_input(f"having.{key}.{measure_name} is null; omit it")
            member = self.plan.fact.members[measure_name]
            column = self.plan.need(key, member)
            f = FieldInfo(column, measure_name, aggregate_ref(member, key))
            parts.append(self._filter(filters, f, data, (*path, measure_name), True))
        return " AND ".join(parts) if len(parts) < 2 else "(" + " AND ".join(parts) + ")"


class _AggregatePlan:
    """Compiles one aggregate root field; collects what the statement needs."""

    def __init__(self, ctx: CompileContext, fact: FactInfo, site: int, params: Params) -> None:
        self.ctx, self.fact, self.site, self.params = ctx, fact, site, params
        self.args: dict[str, Any] = ctx.site_values[site]
        self.root = fact.root_name
        self.aggregates: dict[str, str] = {}  # column -> SQL expression
        group_by = self.args.get("groupBy") or []
        by_python = {m.python_name: m for m in fact.members.values()}
        self.group_by = [by_python[name] for name in dict.fromkeys(group_by)]
        self.bucket = self._bucket()

    def _bucket(self) -> str | None:
        spec = self.args.get("timeBucket")
        if spec is None:
            return None
        if spec.get("field") is None or spec.get("unit") is None:
            raise bad_input(f"{self.root}: timeBucket needs a field and a unit")
        member = next(m for m in self.fact.of_role("time") if m.python_name == spec["field"])
        return f"date_trunc({literal(spec['unit'])}, v.{ident(member.python_name)}, 'UTC')"

    def need(self, aggregate: str, member: FactMember) -> str:
        """Compute ``aggregate`` over ``member`` in the group row; returns its column."""
        column = aggregate_column(aggregate, member)
        cast = _sql_type(aggregate_ref(member, aggregate))
        self.aggregates[column] = f"{aggregate}(v.{ident(member.python_name)})::{cast}"
        return column

    def group_source(self) -> SourceInfo:
        """The group row's columns as a source, for the having compiler."""
        columns = {"count": "int8"}
        for measure in self.fact.of_role("measure"):
            for aggregate in MEASURE_AGGREGATES:
                columns[aggregate_column(aggregate, measure)] = _sql_type(
                    aggregate_ref(measure, aggregate))
        return SourceInfo(columns)

    # --- the parts ------------------------------------------------------------------

    def where(self) -> str:
        if self.args.get("where") is None:
            return "TRUE"
        source = SourceInfo({m.python_name: _member_column_type(m)
                             for m in self.fact.members.values()})
        compiler = WhereCompiler(self.ctx.schema, self.params, self.site, source)
        return compiler.compile(self.args["where"], self.fact.filterable, "v.data", ("where",))

    def having(self) -> str:
        if self.args.get("having") is None:
            return "TRUE"
        obj = ObjectInfo(f"{self.fact.name}Having",
                         TypeDefinition(self.fact.definition.cls, "input", "having"))
        obj.fields["count"] = FieldInfo("count", "count", COUNT_REF)
        compiler = _HavingCompiler(self, self.params, self.site)
        return compiler.compile(self.args["having"], obj, "h.data", ("having",))

    def order_terms(self) -> list[str]:
        terms: list[str] = []
        used: set[str] = set()
        for index, item in enumerate(self.args.get("orderBy") or []):
            column, direction = self._order_item(index, item)
            descending, nulls_first = DIRECTIONS[direction]  # as lists order (compiler/order)
            terms.append(SortKey(column, f"h.{ident(column)}", "", descending, nulls_first,
                                 nullable=True).sql())
            used.add(column)
        # The group keys break ties, so the order never depends on the plan.
        keys = [m.python_name for m in self.group_by] + (["bucket"] if self.bucket else [])
        terms += [f"h.{ident(k)}" for k in keys if k not in used]
        return terms

    def _order_item(self, index: int, item: dict[str, Any]) -> tuple[str, str]:
        where = f"orderBy[{index}]"
        name, value = one_entry(item, where)
        if name in MEASURE_AGGREGATES:
            if len(value) != 1:
                raise bad_input(f"{where}.{name} must set exactly one measure, got "
                                f"{len(value)}")
            (measure_name, direction), = value.items()
            if direction is None:
                raise bad_input(f"{where}.{name}.{measure_name} is null; use ASC or DESC")
            return self.need(name, self.fact.members[measure_name]), direction
        if name == "count":
            return "count", value
        if name == "bucket":
            self._require_bucket(where)
            return "bucket", value
        return self._grouped(self.fact.members[name], where).python_name, value

    def _grouped(self, member: FactMember, where: str) -> FactMember:
        if member not in self.group_by:
            raise bad_input(f"{self.root}: {where} uses dimension {member.graphql_name}, "
                            f"which is not in groupBy; add {member.enum_name} to groupBy")
        return member

    def _require_bucket(self, where: str) -> None:
        if self.bucket is None:
            raise bad_input(f"{self.root}: {where} uses bucket, but no timeBucket is given")

    def limit(self) -> str:
        cap = self.fact.page_size_cap
        if self.args.get("limit") is None:
            return str(cap)
        check = bounded(f"limit on {self.root}", 0, cap)
        check(self.args["limit"])
        return param(self.params, self.site, ("limit",), check, "int8")

    # --- the group object -----------------------------------------------------------

    def projection(self, gql_type: GraphQLObjectType, nodes: list[Any]) -> tuple[str, Any]:
        fields = collect_sub_fields(self.ctx.schema.graphql, self.ctx.fragments,
                                    self.ctx.variables, gql_type, nodes)
        pairs: list[tuple[str, str]] = []
        shape: dict[str, tuple[bool, Any]] = {}
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            nullable = name != "count"
            if name == "__typename":
                expr, nullable = literal(gql_type.name), False
            elif name == "count":
                expr = 'g."count"'
            elif name == "bucket":
                self._require_bucket(f"the selected field {key}")
                expr = f"to_char(g.\"bucket\" AT TIME ZONE 'UTC', {BUCKET_TEXT})"
            elif name in MEASURE_AGGREGATES:
                expr = self._measures(name, gql_type.fields[name].type, field_nodes)
            else:
                member = self.fact.members[name]
                self._grouped(member, f"the selected field {key}")
                expr = f"g.{ident(member.python_name)}"
                scalar = member.type.scalar
                if scalar is not None and scalar.as_text and scalar.sql_cast != "text":
                    expr += "::text"  # a UUID or Decimal leaves as a string
            pairs.append((key, expr))
            shape[key] = (nullable, None)
        return build_object(pairs), shape

    def _measures(self, aggregate: str, gql_type: Any, nodes: list[Any]) -> str:
        fields = collect_sub_fields(self.ctx.schema.graphql, self.ctx.fragments,
                                    self.ctx.variables, gql_type, nodes)
        pairs = []
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, literal(gql_type.name)))
                continue
            member = self.fact.members[name]
            expr = f"g.{ident(self.need(aggregate, member))}"
            if is_decimal(member.type):  # exact: leaves as a string
                expr += "::text"
            pairs.append((key, expr))
        return build_object(pairs)

    # --- the statement --------------------------------------------------------------

    def members_select(self) -> str:
        """The fact table with every member as a column named after it."""
        definition = self.fact.definition
        dimensions = f"f.{ident(definition.dimensions_column)}"
        items = []
        for m in self.fact.members.values():
            if m.role == "dimension":
                assert m.type.scalar is not None
                read = (f"({dimensions}->>{literal(m.path[0])})" if len(m.path) == 1 else
                        f"({dimensions}#>>{literal('{' + ','.join(m.path) + '}')})")
                cast = m.type.scalar.sql_cast
                items.append(f"{read if cast == 'text' else f'{read}::{cast}'} "
                             f"AS {ident(m.python_name)}")
            else:
                assert m.column is not None
                items.append(f"f.{ident(m.column)} AS {ident(m.python_name)}")
        source = self.ctx.sources.get(definition.sql_source)
        tenant = tenant_predicate(self.ctx, definition, source, self.params, alias="f")
        scope = f" WHERE {tenant}" if tenant else ""
        return f"SELECT {', '.join(items)} FROM {ident(definition.sql_source)} AS f{scope}"

    def statement(self, gql_type: GraphQLObjectType, nodes: list[Any]) -> tuple[str, Any]:
        # Parts that decide which aggregates to compute come before the group row.
        projection, shape = self.projection(gql_type, nodes)
        where, having = self.where(), self.having()
        order = ", ".join(self.order_terms())
        limit = self.limit()
        keys = [f"v.{ident(m.python_name)}" for m in self.group_by]
        columns = [f"{k} AS {ident(m.python_name)}" for k, m in zip(keys, self.group_by,
                                                                      strict=True)]
        if self.bucket is not None:
            keys.append(self.bucket)
            columns.append(f"{self.bucket} AS \"bucket\"")
        columns.append('count(*) AS "count"')
        columns += [f"{expr} AS {ident(column)}" for column, expr in self.aggregates.items()]
        group = f" GROUP BY {', '.join(keys)}" if keys else ""
        over = f"ORDER BY {order}" if order else ""
        groups = (f"SELECT {', '.join(columns)} FROM ({self.members_select()}) AS v "
                  f"WHERE {where}{group}")
        page = (f"SELECT h.*, row_number() OVER ({over}) AS n FROM ({groups}) AS h "
                f"WHERE {having}{' ' + over if over else ''} LIMIT {limit}")
        sql = (f"SELECT coalesce(json_agg({projection} ORDER BY g.n), '[]'::json) "
               f"FROM ({page}) AS g")
        return sql, shape


def compile_aggregate(ctx: CompileContext, fact: FactInfo, key: str, nodes: list[Any],
                      gql_field: Any) -> RootPlan:
    """The statement answering an aggregate root field over ``fact``."""
    params = Params()
    site = ctx.add_site(gql_field, nodes[0])
    plan = _AggregatePlan(ctx, fact, site, params)
    gql_type = ctx.schema.graphql.get_type(f"{fact.name}Group")
    sql, shape = plan.statement(gql_type, nodes)
    return RootPlan(key, "sql", False, sql, params.sources,
                    shape=ListShape(False, shape), path_name=fact.root_name)


__all__ = ["compile_aggregate"]
