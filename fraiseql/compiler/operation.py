"""A validated operation -> a Plan: one SQL statement per root field."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_non_null_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from fraiseql.authz.selection import require_selected
from fraiseql.authz.tenancy import tenant_predicate
from fraiseql.compiler.aggregate import compile_aggregate
from fraiseql.compiler.context import CompileContext, SourceInfo, bad_input, param
from fraiseql.compiler.mutation import compile_mutation
from fraiseql.compiler.nearest import nearest_sql
from fraiseql.compiler.order import order_by_sql
from fraiseql.compiler.plan import ListShape, Plan, RootPlan
from fraiseql.compiler.projection import Projector, root_fields
from fraiseql.compiler.sql import Params, ident, literal
from fraiseql.compiler.values import bounded, to_lower_text, to_text
from fraiseql.compiler.where import FILTER_DATA, WhereCompiler, comparable, scanned
from fraiseql.schema.model import RootField, Schema

# The row's JSONB, read once: a stored (TOASTed) value would otherwise be fetched and
# decompressed again by every `->` of the projection; `|| '{}'` makes one in-memory
# copy that every field then reads (measured: 50 rows x 5 fields of tv_post, 2.2 ms
# -> 1.1 ms). `data` is an object by contract, which the concatenation leaves as is.
DATA = "v.data || '{}'::jsonb AS data"

# A page larger than this many rows is streamed to the client as it is read.
STREAM_ROWS = 1000


def compile_operation(schema: Schema, document: DocumentNode, operation: OperationDefinitionNode,
                      variables: dict[str, Any], sources: dict[str, SourceInfo],
                      max_page_size: int, audit: bool = False) -> Plan:
    """Compile ``operation`` for these (coerced) variables' shape (``audit``: mutations
    write their audit row in their own statement)."""
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    ctx = CompileContext(schema, fragments, variables, sources, [], [], audit=audit)
    op_type = operation.operation.value
    root_type = schema.graphql.get_root_type(operation.operation)
    assert root_type is not None  # validation refuses operations the schema lacks
    roots: list[RootPlan] = []
    python_roots: list[Any] = []
    introspection_roots: list[Any] = []
    for key, nodes in root_fields(ctx, operation, root_type).items():
        name = nodes[0].name.value
        ctx.root_key = key
        ctx.require(_root_rule(schema, op_type, name), f"running {op_type} {name}")
        if name in ("__schema", "__type"):  # answered by graphql-core, per caller's view
            roots.append(RootPlan(key, "graphql", path_name=name,
                                  nullable=not is_non_null_type(_field_type(root_type, name))))
            introspection_roots.extend(nodes)
            continue
        if name == "__typename":
            roots.append(RootPlan(key, "typename", nullable=False,
                                  value=b'"' + root_type.name.encode() + b'"'))
            continue
        mutation = schema.mutations.get(name) if op_type == "mutation" else None
        if mutation is not None and not mutation.definition.is_resolver:
            roots.append(compile_mutation(ctx, mutation, key, nodes, root_type.fields[name]))
            continue
        fact = schema.facts.get(name) if op_type == "query" else None
        if fact is not None:  # an aggregate over a fact table (compiler/aggregate.py)
            roots.append(compile_aggregate(ctx, fact, key, nodes, root_type.fields[name]))
            continue
        if op_type == "query" and (name in schema.connections or name in schema.counts):
            roots.append(_compile_companion(ctx, name, key, nodes, root_type.fields[name],
                                            max_page_size))
            continue
        root = schema.queries.get(name) if op_type == "query" else None
        if root is None or root.sql_source is None:
            python = RootPlan(key, "graphql", path_name=name,
                              nullable=not is_non_null_type(_field_type(root_type, name)))
            if op_type == "mutation":  # each runs alone, in document order
                python.document = _only_fields(document, operation, nodes)
            roots.append(python)
            python_roots.extend(nodes)
            # Its rejected fields are refused before it runs (a mutation would commit).
            require_selected(ctx, root_type.fields[name].type, nodes)
            continue
        roots.append(compile_root(ctx, root, key, nodes, root_type.fields[name], max_page_size))
    plan = Plan(op_type, roots, ctx.sites, variable_definitions=operation.variable_definitions,
                checks=tuple(ctx.checks), tenant_required=ctx.tenant_required,
                introspection=bool(introspection_roots))
    if python_roots:
        plan.graphql_document = _only_fields(document, operation, python_roots)
    if introspection_roots:
        plan.introspection_document = _only_fields(document, operation, introspection_roots)
    return plan


def _root_rule(schema: Schema, op_type: str, name: str) -> Any:
    """The rule declared on a root field (a companion's is its list root's), or None."""
    if op_type == "mutation":
        mutation = schema.mutations.get(name)
        return mutation.definition.rule if mutation is not None else None
    fact = schema.facts.get(name)
    if fact is not None:
        return fact.definition.rule
    root = schema.queries.get(name) or schema.connections.get(name) or schema.counts.get(name)
    return root.definition.rule if root is not None else None


def compile_root(ctx: CompileContext, root: RootField, key: str, nodes: list[Any],
                 gql_field: Any, max_page_size: int, site: int | None = None) -> RootPlan:
    """One root field's statement; ``site`` overrides where its arguments come from."""
    assert root.object is not None and root.sql_source is not None
    source = ctx.sources.get(root.sql_source) or SourceInfo()
    params = Params()
    if site is None:
        site = ctx.add_site(gql_field, nodes[0])
    args = ctx.site_values[site]
    projector = Projector(ctx, params)
    gql_type = get_named_type(gql_field.type)
    projection, shape, columns = projector.root_object("d.data", root.object, gql_type, nodes,
                                                       source.columns,
                                                       not_null=source.not_null)
    selected = _select_list(projection, columns)
    predicates = row_predicates(ctx, root, args, site, params, source)
    view = ident(root.sql_source)
    if root.is_list:
        cap = root.page_size_cap or max_page_size
        sql, streamed = _list_sql(ctx, root, args, site, params, source, view, projection,
                                  predicates, cap, selected)
        assert root.returns.of is not None
        item_nullable = root.returns.of.nullable
        plan = RootPlan(key, "sql", root.returns.nullable, sql, params.sources,
                        shape=ListShape(item_nullable, shape), path_name=root.name)
        if cap > STREAM_ROWS:
            plan.stream_sql = streamed
            plan.stream_limit = next(i for i, p in enumerate(params.sources)
                                     if p.path == ("limit",) and p.node == site) \
                if args.get("limit") is not None else -1
        return plan
    where = " AND ".join(predicates) or "TRUE"
    sql = (f"SELECT {projection} FROM (SELECT {selected} FROM {view} AS v WHERE {where} "
           f"LIMIT 2) AS d")
    return RootPlan(key, "sql", root.returns.nullable, sql, params.sources, single=True,
                    shape=shape, path_name=root.name)


def _compile_companion(ctx: CompileContext, name: str, key: str, nodes: list[Any],
                       gql_field: Any, max_page_size: int) -> RootPlan:
    """A generated ``<list>Connection`` or ``<list>Count`` root (compiler/connection.py)."""
    from fraiseql.compiler.connection import compile_connection, compile_count
    if name in ctx.schema.connections:
        return compile_connection(ctx, ctx.schema.connections[name], key, nodes, gql_field,
                                  max_page_size)
    return compile_count(ctx, ctx.schema.counts[name], key, nodes, gql_field)


def row_predicates(ctx: CompileContext, root: RootField, args: dict[str, Any], site: int,
                   params: Params, source: SourceInfo) -> list[str]:
    """Which rows a root may read: its tenant's (fraiseql/authz/tenancy.py) matching the
    equality arguments named after fields. Records the rules filtering on them needs."""
    assert root.object is not None
    ctx.require_readable(root.object, args)
    tenant = tenant_predicate(ctx, root.object.definition, source, params)
    return ([tenant] if tenant else []) + _argument_predicates(ctx, root, args, site, params,
                                                               source)


def _argument_predicates(ctx: CompileContext, root: RootField, args: dict[str, Any], site: int,
                         params: Params, source: SourceInfo) -> list[str]:
    """Equality predicates for declared arguments named after fields."""
    assert root.object is not None
    predicates = []
    for name, arg in root.arguments.items():
        if root.is_list and arg.python_name in ("where", "order_by", "limit", "offset"):
            continue
        if args.get(arg.python_name) is None:
            continue
        f = root.object.fields[name]
        ctx.require(f.rule, f"filtering on {root.object.name}.{f.graphql_name}")
        lhs, cast, lowercase = comparable(f, "v.data", source)
        placeholder = param(params, site, (arg.python_name,),
                            to_lower_text if lowercase else to_text, f"text::{cast}")
        predicates.append(f"{lhs} = {placeholder}")
    return predicates


def _list_sql(ctx: CompileContext, root: RootField, args: dict[str, Any], site: int,
              params: Params, source: SourceInfo, view: str, projection: str,
              predicates: list[str], cap: int, selected: str) -> tuple[str, str]:
    assert root.object is not None
    limit, offset = args.get("limit"), args.get("offset")
    check_limit = bounded(f"limit on {root.name}", 0, cap)
    check_offset = bounded(f"offset on {root.name}", 0, None)
    if limit is not None:
        check_limit(limit)
    if offset is not None:
        check_offset(offset)
    if args.get("where") is not None:
        where = WhereCompiler(ctx.schema, params, site, source)
        predicates = [*predicates,
                      where.compile(args["where"], root.object, FILTER_DATA, ("where",))]
    nearest = None
    if args.get("nearest") is not None:  # k nearest by a vector distance (compiler/nearest.py)
        if args.get("order_by"):
            raise bad_input(f"nearest and orderBy on {root.name}: nearest orders by distance; "
                            "use one of them")
        searched = root.object.fields[args["nearest"]["field"]]  # ordering by it reads it
        ctx.require(searched.rule, f"searching by {root.object.name}.{searched.graphql_name}")
        nearest = nearest_sql(args["nearest"], root.object, source, params, site, cap, root.name)
        predicates = [*predicates, nearest.predicate]
    where_sql = " AND ".join(predicates) or "TRUE"
    scan = scanned(view, where_sql)
    order = nearest.order if nearest is not None else \
        order_by_sql(args.get("order_by"), root.object, source, ctx.schema.objects)
    order_sql = f" ORDER BY {order}" if order else ""
    limit_sql = param(params, site, ('limit',), check_limit, 'int8') \
        if limit is not None else str(cap)
    offset_sql = param(params, site, ('offset',), check_offset, 'int8') \
        if offset is not None else None
    if nearest is not None:
        limit_sql = nearest.limit(limit_sql, offset_sql)
    page = f" LIMIT {limit_sql}" + (f" OFFSET {offset_sql}" if offset_sql is not None else "")
    if source.has_id and DATA in selected:
        # Ids repeat across tenants: the fetch by id is scoped to the tenant too.
        tenant = tenant_predicate(ctx, root.object.definition, source, params)
        same_tenant = f" AND {tenant}" if tenant else ""
        # Page the ids first so data is built only for the rows returned, then
        # fetch each row's data once behind a LIMIT fence. (A page that reads only
        # columns reads them in one step: W4 on tv_post, 0.52-0.61 -> 0.42-0.43 ms.)
        # The page is re-sorted on n (a few small rows) so the nested loop delivers the
        # fetched rows in order and json_agg's ORDER BY needs no sort of its own, which
        # would copy every row's data (W4 on tv_post, pgbench: 0.72 -> 0.48 ms).
        rows = (f"(SELECT * FROM (SELECT v.id, row_number() OVER ({order_sql.strip()}) AS n "
                f"FROM {scan} WHERE {where_sql}{order_sql}{page}) AS k0 ORDER BY k0.n) "
                f"AS k CROSS JOIN LATERAL "
                f"(SELECT {selected} FROM {view} AS v WHERE v.id = k.id{same_tenant} LIMIT 1) "
                f"AS d")
        order_key = "k.n"
    else:
        rows = (f"(SELECT {selected}, row_number() OVER ({order_sql.strip()}) AS n FROM {scan} "
                f"WHERE {where_sql}{order_sql}{page}) AS d")
        order_key = "d.n"
    aggregated = (f"SELECT coalesce(json_agg({projection} ORDER BY {order_key}), '[]'::json) "
                  f"FROM {rows}")
    # One row per item, for results large enough to stream (see execution/streaming.py).
    # Read in one pass, without a final sort, so PostgreSQL sends rows as an index scan
    # finds them instead of sorting the whole export first.
    streamed = (f"SELECT {projection} FROM (SELECT {selected} FROM {scan} WHERE {where_sql}"
                f"{order_sql}{page}) AS d")
    return aggregated, streamed


def _select_list(projection: str, columns: list[str]) -> str:
    """What a row must carry for ``projection``: data (read once) and/or real columns."""
    items = [f"v.{ident(name)}" for name in columns]
    if "d.data" in projection or not items:
        items.insert(0, DATA)
    return ", ".join(items)


def _field_type(root_type: Any, name: str) -> Any:
    """A root field's type, introspection's __schema and __type included."""
    if name in root_type.fields:
        return root_type.fields[name].type
    return {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}[name].type


def _only_fields(document: DocumentNode, operation: OperationDefinitionNode,
                 nodes: list[Any]) -> DocumentNode:
    """A copy of the document whose operation selects only ``nodes`` at the root."""
    selections = tuple(nodes)
    new_operation = OperationDefinitionNode(
        operation=operation.operation, name=operation.name,
        variable_definitions=operation.variable_definitions, directives=operation.directives,
        selection_set=SelectionSetNode(selections=selections))
    others = [d for d in document.definitions if not isinstance(d, OperationDefinitionNode)]
    return DocumentNode(definitions=(new_operation, *others))


__all__ = ["compile_operation", "compile_root", "literal"]
