"""Companions of every SQL-backed list root ``posts``: ``postsConnection`` and ``postsCount``.

``postsConnection(first, after, last, before, where, orderBy): PostConnection!`` pages
with Relay keyset cursors; ``postsCount(where): Int!`` counts the filtered rows. A
companion is generated only when its name is free (a declared query of that name
wins), and a connection only for types with an ``id`` field (its cursors need a
unique tiebreak). Both keep the list root's own declared filter arguments.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
)

from fraiseql.schema.definitions import UNSET
from fraiseql.schema.model import RootField

# Arguments of a list root that the companions replace or drop.
_LIST_ONLY = ("where", "order_by", "limit", "offset")

PAGE_INFO = GraphQLObjectType("PageInfo", {
    "hasNextPage": GraphQLField(GraphQLNonNull(GraphQLBoolean),
                                description="More rows follow this page (forward: beyond "
                                            "`first`; backward: at or after `before`)."),
    "hasPreviousPage": GraphQLField(GraphQLNonNull(GraphQLBoolean),
                                    description="Rows precede this page (backward: beyond "
                                                "`last`; forward: at or before `after`)."),
    "startCursor": GraphQLField(GraphQLString, description="The first edge's cursor."),
    "endCursor": GraphQLField(GraphQLString, description="The last edge's cursor."),
}, description="Where a page of a connection sits in the whole (Relay).")


def companion_roots(roots: dict[str, RootField]) -> tuple[dict[str, RootField],
                                                           dict[str, RootField]]:
    """(connection name -> list root, count name -> list root) for the SQL list roots."""
    connections: dict[str, RootField] = {}
    counts: dict[str, RootField] = {}
    for name, root in roots.items():
        if not root.is_list or root.object is None or root.sql_source is None:
            continue
        if f"{name}Count" not in roots:
            counts[f"{name}Count"] = root
        has_id = any(f.python_name == "id" for f in root.object.fields.values())
        if has_id and f"{name}Connection" not in roots:
            connections[f"{name}Connection"] = root
    return connections, counts


def companion_fields(converter: Any, connections: dict[str, RootField],
                     counts: dict[str, RootField]) -> dict[str, GraphQLField]:
    """The Query fields of the companions (``converter`` is graphql_types._Converter)."""
    fields: dict[str, GraphQLField] = {}
    for name, root in connections.items():
        assert root.object is not None
        cap = root.page_size_cap
        args = {
            "first": GraphQLArgument(GraphQLInt, out_name="first",
                                     description=f"The first n rows (at most {cap}); the "
                                                 "default when neither first nor last is set."),
            "after": GraphQLArgument(GraphQLString, out_name="after",
                                     description="Only rows after this cursor."),
            "last": GraphQLArgument(GraphQLInt, out_name="last",
                                    description=f"The last n rows (at most {cap}), returned in "
                                                "the requested order; not with first."),
            "before": GraphQLArgument(GraphQLString, out_name="before",
                                      description="Only rows before this cursor."),
            **_filter_arguments(converter, root),
            "orderBy": GraphQLArgument(
                GraphQLList(GraphQLNonNull(converter.order_type(root.object))),
                out_name="order_by", description="Sort keys, one field per object, applied in "
                                                 "order; a cursor belongs to one orderBy."),
        }
        fields[name] = GraphQLField(GraphQLNonNull(connection_type(converter, root)), args=args,
                                    description=f"{root.name} as a Relay connection, paged "
                                                "with keyset cursors.")
    for name, root in counts.items():
        fields[name] = GraphQLField(GraphQLNonNull(GraphQLInt),
                                    args=_filter_arguments(converter, root),
                                    description=f"How many rows {root.name} filters.")
    return fields


def connection_type(converter: Any, root: RootField) -> GraphQLObjectType:
    """``<Type>Connection`` (and ``<Type>Edge``, ``PageInfo``), made once per type."""
    assert root.object is not None
    type_name = root.object.name
    name = f"{type_name}Connection"
    if name not in converter.named:
        node = converter.object_type(root.object)
        converter.named.setdefault("PageInfo", PAGE_INFO)
        edge = GraphQLObjectType(f"{type_name}Edge", {
            "node": GraphQLField(GraphQLNonNull(node), description="The row."),
            "cursor": GraphQLField(GraphQLNonNull(GraphQLString),
                                   description="Opaque: pass it as after or before."),
        }, description=f"A {type_name} in a connection, with its cursor.")
        converter.named[edge.name] = edge
        converter.named[name] = GraphQLObjectType(name, {
            "edges": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(edge))),
                                  description="The page's rows, in the requested order."),
            "pageInfo": GraphQLField(GraphQLNonNull(converter.named["PageInfo"])),
            "totalCount": GraphQLField(GraphQLNonNull(GraphQLInt),
                                       description="Rows matching the filter, on every page "
                                                   "(computed only when selected)."),
        }, description=f"A page of {type_name} rows (Relay connection).")
    return converter.named[name]  # type: ignore[no-any-return]


def _filter_arguments(converter: Any, root: RootField) -> dict[str, GraphQLArgument]:
    """``where`` plus the list root's declared equality arguments."""
    assert root.object is not None
    args = {name: GraphQLArgument(
        converter.input(arg.type), out_name=arg.python_name,
        default_value=arg.default if arg.has_default and arg.default is not UNSET else Undefined)
        for name, arg in root.arguments.items() if arg.python_name not in _LIST_ONLY}
    args["where"] = GraphQLArgument(converter.where_type(root.object), out_name="where",
                                    description="Only rows matching this filter.")
    return args
