"""The rules a Python root's selection needs, recorded before it runs.

An SQL root records the rule of every ``on_deny="reject"`` field its projection reads
(compiler/projection.py). A Python root (a resolver, a Python mutation) is answered by
graphql-core, whose field resolvers check each field only after the resolver ran
(authz/checkpoint.py ``restricted_resolver``): a Python mutation would have written
and committed by then. Its selection is known before it runs, so its rejected fields
are recorded here and the checkpoint refuses the request before anything runs.
Masked fields need nothing here: they answer, masked in Python.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, get_named_type, is_abstract_type
from graphql.execution.collect_fields import collect_sub_fields


def require_selected(ctx: Any, gql_type: Any, nodes: list[Any]) -> None:
    """Record on ``ctx`` the rule of every rejected field ``nodes`` select of ``gql_type``
    (its object types, nested ones included; every possible type of an abstract one)."""
    named = get_named_type(gql_type)
    if is_abstract_type(named):
        candidates = list(ctx.schema.graphql.get_possible_types(named))
    elif isinstance(named, GraphQLObjectType):
        candidates = [named]
    else:
        return
    for object_type in candidates:
        obj = ctx.schema.objects.get(object_type.name)
        selected = collect_sub_fields(ctx.schema.graphql, ctx.fragments, ctx.variables,
                                      object_type, nodes)
        for sub_nodes in selected.values():
            name = sub_nodes[0].name.value
            if name.startswith("__") or name not in object_type.fields:
                continue
            f = obj.fields.get(name) if obj is not None else None
            if f is not None and f.rule is not None and f.on_deny == "reject":
                ctx.require(f.rule, f"reading {obj.name}.{f.graphql_name}")
            require_selected(ctx, object_type.fields[name].type, sub_nodes)
