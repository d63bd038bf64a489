"""``postsConnection`` and ``postsCount`` -> one SQL statement each.

A connection page is read like a list page: the page's keys first (``page``: at
most n + 1 rows past the cursor, the extra row only says whether more follow),
then each returned row's data once (``edge``), and the response JSON built in
PostgreSQL. ``last``/``before`` read the page in the reversed order (so the
keyset and LIMIT work the same way) and aggregate it back into the requested
order. Only what is selected is computed: no ``totalCount`` selected, no count.

Relay semantics: with ``first`` (the default, ``first`` = the page cap), hasNextPage
says more than ``first`` rows follow the cursor and hasPreviousPage says rows exist
at or before ``after``; with ``last``, the mirror image. ``after`` and ``before``
together page the rows between them. ``first`` and ``last`` together are refused.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, get_named_type
from graphql.execution.collect_fields import collect_sub_fields

from fraiseql.compiler.context import CompileContext, SourceInfo, bad_input, param
from fraiseql.compiler.cursor import after_sql, cursor_sql, decoder, fingerprint
from fraiseql.authz.tenancy import tenant_predicate
from fraiseql.compiler.operation import _select_list, row_predicates
from fraiseql.compiler.order import SortKey, order_terms, sort_keys
from fraiseql.compiler.plan import ListShape, RootPlan
from fraiseql.compiler.projection import Projector, build_object
from fraiseql.compiler.sql import Params, ident, literal
from fraiseql.compiler.values import bounded
from fraiseql.compiler.where import FILTER_DATA, WhereCompiler, scanned
from fraiseql.schema.model import RootField


def compile_count(ctx: CompileContext, root: RootField, key: str, nodes: list[Any],
                  gql_field: Any) -> RootPlan:
    """``postsCount(where)``: the number of rows the filter matches."""
    assert root.sql_source is not None
    params = Params()
    site = ctx.add_site(gql_field, nodes[0])
    filtered = _filter_sql(ctx, root, site, params)
    sql = f"SELECT to_json(count(*)) FROM {scanned(ident(root.sql_source), filtered)} " \
          f"WHERE {filtered}"
    return RootPlan(key, "sql", False, sql, params.sources, single=True,
                    path_name=nodes[0].name.value)


def compile_connection(ctx: CompileContext, root: RootField, key: str, nodes: list[Any],
                       gql_field: Any, max_page_size: int) -> RootPlan:
    """``postsConnection(first, after, last, before, where, orderBy)``."""
    return _Connection(ctx, root, nodes, gql_field, max_page_size).plan(key)


def _filter_sql(ctx: CompileContext, root: RootField, site: int, params: Params) -> str:
    """The root's declared equality arguments and ``where``, as one predicate."""
    assert root.object is not None and root.sql_source is not None
    source = ctx.sources.get(root.sql_source) or SourceInfo()
    args = ctx.site_values[site]
    predicates = row_predicates(ctx, root, args, site, params, source)
    if args.get("where") is not None:
        where = WhereCompiler(ctx.schema, params, site, source)
        predicates.append(where.compile(args["where"], root.object, FILTER_DATA, ("where",)))
    return " AND ".join(predicates) or "TRUE"


class _Connection:
    """Compiles one connection field: its page, its edges and what pageInfo needs."""

    def __init__(self, ctx: CompileContext, root: RootField, nodes: list[Any], gql_field: Any,
                 max_page_size: int) -> None:
        assert root.object is not None and root.sql_source is not None
        self.ctx, self.root, self.nodes = ctx, root, nodes
        self.name = nodes[0].name.value
        self.source = ctx.sources.get(root.sql_source) or SourceInfo()
        self.view = ident(root.sql_source)
        self.params = Params()
        self.site = ctx.add_site(gql_field, nodes[0])
        self.args = ctx.site_values[self.site]
        self.cap = root.page_size_cap or max_page_size
        self.gql_type = get_named_type(gql_field.type)
        self.filtered = _filter_sql(ctx, root, self.site, self.params)
        self.keys = sort_keys(self.args.get("order_by"), root.object, self.source,
                              ctx.schema.objects)
        self.backward = self.args.get("last") is not None
        self.fp = fingerprint(root.name, self.keys)
        self._check_arguments()
        # The paging parameters, registered once the page is needed: a statement that
        # only counts must not bind parameters it does not use.
        self._paging: tuple[str, list[str] | None, list[str] | None] | None = None
        self.uses_page = False
        self.node_columns: set[str] = set()
        self.node_data = False

    # --- arguments ------------------------------------------------------------------

    def _check_arguments(self) -> None:
        """Refuse bad paging arguments now (bound values are checked again when bound)."""
        if self.args.get("first") is not None and self.args.get("last") is not None:
            raise bad_input(f"{self.name}: pass first or last, not both")
        for which in ("first", "last"):
            if self.args.get(which) is not None:
                bounded(f"{which} on {self.name}", 0, self.cap)(self.args[which])
        for which in ("after", "before"):
            if self.args.get(which) is not None:
                decoder(self.fp, self.keys, f"{which} on {self.name}")(self.args[which])

    @property
    def limit(self) -> str:
        return self._paging_parameters()[0]

    @property
    def after(self) -> list[str] | None:
        return self._paging_parameters()[1]

    @property
    def before(self) -> list[str] | None:
        return self._paging_parameters()[2]

    def _paging_parameters(self) -> tuple[str, list[str] | None, list[str] | None]:
        if self._paging is None:
            self._paging = (self._limit(), self._cursor("after"), self._cursor("before"))
        return self._paging

    def _limit(self) -> str:
        which = "last" if self.backward else "first"
        if self.args.get(which) is None:
            return str(int(self.cap))
        check = bounded(f"{which} on {self.name}", 0, self.cap)
        return param(self.params, self.site, (which,), check, "int8")

    def _cursor(self, which: str) -> list[str] | None:
        """Parameters holding the key values of the ``after``/``before`` cursor."""
        if self.args.get(which) is None:
            return None
        decode = decoder(self.fp, self.keys, f"{which} on {self.name}")
        return [param(self.params, self.site, (which,),
                      lambda cursor, i=i: decode(cursor)[i], f"text::{key.cast}")
                for i, key in enumerate(self.keys)]

    # --- the statement ----------------------------------------------------------------

    def plan(self, key: str) -> RootPlan:
        fields = self._collect(self.gql_type, self.nodes)
        pairs: list[tuple[str, str]] = []
        shape: dict[str, tuple[bool, Any]] = {}
        for response_key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((response_key, literal(self.gql_type.name)))
                shape[response_key] = (False, None)
            elif name == "totalCount":
                count = (f"(SELECT count(*) FROM {scanned(self.view, self.filtered)} "
                         f"WHERE {self.filtered})")
                pairs.append((response_key, count))
                shape[response_key] = (False, None)
            elif name == "pageInfo":
                pairs.append((response_key, self._page_info(nodes)))
                shape[response_key] = (False, None)
            else:
                edges, edge_shape = self._edges(nodes)
                pairs.append((response_key, edges))
                shape[response_key] = (False, ListShape(False, edge_shape))
        sql = f"SELECT {build_object(pairs)}"
        if self.uses_page:
            sql = f"WITH {self._page_sql()}, {self._edge_sql()} {sql}"
        return RootPlan(key, "sql", False, sql, self.params.sources, single=True, shape=shape,
                        path_name=self.name)

    def _collect(self, gql_type: Any, nodes: list[Any]) -> dict[str, list[Any]]:
        return collect_sub_fields(self.ctx.schema.graphql, self.ctx.fragments,
                                  self.ctx.variables, gql_type, nodes)

    def _page_keys(self) -> list[SortKey]:
        return [k.reversed() for k in self.keys] if self.backward else self.keys

    def _page_sql(self) -> str:
        """The page's keys in reading order: at most limit + 1 rows past the cursors."""
        keys = self._page_keys()
        predicates = []
        if self.after is not None:
            predicates.append(after_sql(self.keys, self.after))
        if self.before is not None:
            predicates.append(after_sql([k.reversed() for k in self.keys], self.before))
        order = order_terms(keys)
        columns = [f"{k.expr} AS __k{i}" for i, k in enumerate(keys)]
        if self.source.has_id:
            columns.insert(0, f"v.{ident('id')} AS __id")
        elif self.node_data or self.node_columns:
            columns.append(self._selected())  # no id column to fetch by: carry the row
        where = self._where(*predicates)
        return (f"page AS (SELECT {', '.join(columns)}, row_number() OVER (ORDER BY {order}) "
                f"AS __n FROM {scanned(self.view, where)} WHERE {where} "
                f"ORDER BY {order} LIMIT {self.limit} + 1)")

    def _selected(self) -> str:
        projection = "d.data" if self.node_data else ""
        return _select_list(projection, sorted(self.node_columns))

    def _edge_sql(self) -> str:
        """The returned rows (the page without its extra row), each with its cursor."""
        cursor = cursor_sql(self.fp, [f"p.__k{i}" for i in range(len(self.keys))])
        within = f"p.__n <= {self.limit}"
        if not (self.node_data or self.node_columns):
            return f"edge AS (SELECT p.__n, {cursor} AS __cursor FROM page AS p WHERE {within})"
        if not self.source.has_id:
            return f"edge AS (SELECT p.*, {cursor} AS __cursor FROM page AS p WHERE {within})"
        # Ids repeat across tenants: the fetch by id is scoped to the tenant too.
        assert self.root.object is not None
        tenant = tenant_predicate(self.ctx, self.root.object.definition, self.source,
                                  self.params)
        same_tenant = f" AND {tenant}" if tenant else ""
        return (f"edge AS (SELECT p.__n, {cursor} AS __cursor, d.* FROM page AS p "
                f"CROSS JOIN LATERAL (SELECT {self._selected()} FROM {self.view} AS v "
                f"WHERE v.id = p.__id{same_tenant} LIMIT 1) AS d WHERE {within})")

    def _requested(self, reverse: bool = False) -> str:
        """ORDER BY of the edges in the requested order (or its reverse)."""
        return "d.__n DESC" if self.backward != reverse else "d.__n"

    def _edges(self, nodes: list[Any]) -> tuple[str, dict[str, tuple[bool, Any]]]:
        self.uses_page = True
        edge_type = get_named_type(self.gql_type.fields["edges"].type)
        pairs: list[tuple[str, str]] = []
        shape: dict[str, tuple[bool, Any]] = {}
        for response_key, field_nodes in self._collect(edge_type, nodes).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((response_key, literal(edge_type.name)))
            elif name == "cursor":
                pairs.append((response_key, "d.__cursor"))
            else:
                projection, node_shape = self._node(field_nodes)
                pairs.append((response_key, projection))
                shape[response_key] = (False, node_shape)
                continue
            shape[response_key] = (False, None)
        return (f"(SELECT coalesce(json_agg({build_object(pairs)} ORDER BY {self._requested()}), "
                f"'[]'::json) FROM edge AS d)"), shape

    def _node(self, nodes: list[Any]) -> tuple[str, Any]:
        assert self.root.object is not None
        node_type = get_named_type(
            get_named_type(self.gql_type.fields["edges"].type).fields["node"].type)
        assert isinstance(node_type, GraphQLObjectType)
        projection, shape, columns = Projector(self.ctx, self.params).root_object(
            "d.data", self.root.object, node_type, nodes, self.source.columns)
        self.node_columns.update(columns)
        self.node_data = self.node_data or "d.data" in projection or not columns
        return projection, shape

    def _page_info(self, nodes: list[Any]) -> str:
        info_type = get_named_type(self.gql_type.fields["pageInfo"].type)
        pairs: list[tuple[str, str]] = []
        for response_key, field_nodes in self._collect(info_type, nodes).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((response_key, literal(info_type.name)))
                continue
            self.uses_page = True
            if name in ("startCursor", "endCursor"):
                order = self._requested(reverse=name == "endCursor")
                pairs.append((response_key,
                              f"(SELECT d.__cursor FROM edge AS d ORDER BY {order} LIMIT 1)"))
            else:
                pairs.append((response_key, self._has_page(name == "hasNextPage")))
        return build_object(pairs)

    def _has_page(self, next_page: bool) -> str:
        """hasNextPage / hasPreviousPage (see the module docstring)."""
        if next_page != self.backward:  # the side the page is read towards: the extra row
            return f"((SELECT count(*) FROM page) > {self.limit})"
        # The other side: rows at or beyond the cursor we started from, if any.
        start = self.before if self.backward else self.after
        if start is None:
            return "false"
        keys = self.keys if self.backward else [k.reversed() for k in self.keys]
        where = self._where(after_sql(keys, start, inclusive=True))
        return f"EXISTS (SELECT 1 FROM {scanned(self.view, where)} WHERE {where})"

    def _where(self, *predicates: str) -> str:
        """The filter and ``predicates``, ANDed."""
        return " AND ".join(p for p in (self.filtered, *predicates) if p != "TRUE") or "TRUE"
