"""What introspection shows a caller: only the operations and fields it may use.

A field (``on_deny="reject"``) or root whose rule the caller does not satisfy is left
out of ``__schema`` and ``__type``: asking for it would be refused. A masked field
stays: the caller may select it and reads its mask. Types only hidden fields lead to
go with them. The pruned schema is built once per set of hidden
fields (from the printed SDL: introspection needs names, types and descriptions, not
resolvers) and cached.

When the caller may not introspect, validation messages lose their "Did you mean ...?"
suggestions, which would otherwise spell out the schema one typo at a time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    build_ast_schema,
    parse,
    print_schema,
    visit,
)
from graphql.language import Visitor

from fraiseql.authz.checkpoint import allowed

_SUGGESTION = re.compile(r" Did you mean [^?]*\?")
_QUOTED = re.compile(r"'([^']*)'")
Hidden = frozenset[tuple[str, str]]  # (type name, field name)


def hidden_fields(schema: Any, context: Mapping[str, Any] | None) -> Hidden:
    """Every (type, field) with a rule this caller does not satisfy, roots included."""
    hidden: set[tuple[str, str]] = set()
    for obj in schema.objects.values():
        for f in obj.fields.values():
            if f.rule is not None and f.on_deny == "reject" and not allowed(f.rule, context):
                hidden.add((obj.name, f.graphql_name))
    query = schema.graphql.query_type.name if schema.graphql.query_type else "Query"
    for name, root in [*schema.queries.items(), *schema.connections.items(),
                       *schema.counts.items()]:
        rule = root.definition.rule
        if rule is not None and not allowed(rule, context):
            hidden.add((query, name))
    for name, fact in schema.facts.items():
        if fact.definition.rule is not None and not allowed(fact.definition.rule, context):
            hidden.add((query, name))
    if schema.graphql.mutation_type is not None:
        for name, mutation in schema.mutations.items():
            rule = mutation.definition.rule
            if rule is not None and not allowed(rule, context):
                hidden.add((schema.graphql.mutation_type.name, name))
    return frozenset(hidden)


def visible_schema(schema: Any, context: Mapping[str, Any] | None) -> GraphQLSchema:
    """The graphql-core schema introspection answers from, for this caller."""
    hidden = hidden_fields(schema, context)
    if not hidden:
        return schema.graphql  # type: ignore[no-any-return]
    return _pruned(schema.graphql, hidden)


@lru_cache(maxsize=64)
def _pruned(graphql_schema: GraphQLSchema, hidden: Hidden) -> GraphQLSchema:
    definitions = list(parse(print_schema(graphql_schema)).definitions)
    gone: set[str] = set()
    while True:  # a type left without fields goes, and so do the fields leading to it
        definitions = [_without_fields(d, hidden, gone) for d in definitions]
        empty = {d.name.value for d in definitions
                 if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode)
                 and not d.fields}
        if not empty:
            break
        gone |= empty
        definitions = [d for d in definitions
                       if not (hasattr(d, "name") and d.name is not None
                               and d.name.value in empty)]
    document = DocumentNode(definitions=tuple(definitions))
    return build_ast_schema(_reachable(document, graphql_schema))


# The generated inputs that name an object's fields (schema/graphql_types.py): filtering
# or sorting on a hidden field is refused, so they do not show it either.
_FIELD_INPUTS = ("WhereInput", "OrderBy")


def _without_fields(definition: Any, hidden: Hidden, gone: set[str]) -> Any:
    if isinstance(definition, InputObjectTypeDefinitionNode):
        return _without_input_fields(definition, hidden)
    if not isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        return definition
    name = definition.name.value
    fields = tuple(f for f in definition.fields or () if (name, f.name.value) not in hidden
                   and not _named_types(f.type) & gone)
    return type(definition)(**{**{k: getattr(definition, k) for k in definition.keys},
                               "fields": fields})


def _without_input_fields(definition: Any, hidden: Hidden) -> Any:
    name = definition.name.value
    owner = next((name.removesuffix(suffix) for suffix in _FIELD_INPUTS
                  if name.endswith(suffix)), None)
    if owner is None:
        return definition
    fields = tuple(f for f in definition.fields or () if (owner, f.name.value) not in hidden)
    if not fields:  # an input needs a field (every sortable one hidden): left as it is
        return definition
    return type(definition)(**{**{k: getattr(definition, k) for k in definition.keys},
                               "fields": fields})


def _reachable(document: DocumentNode, graphql_schema: GraphQLSchema) -> DocumentNode:
    """The document without type definitions no root can reach any more."""
    by_name = {d.name.value: d for d in document.definitions if hasattr(d, "name")}
    roots = [t.name for t in (graphql_schema.query_type, graphql_schema.mutation_type,
                              graphql_schema.subscription_type) if t is not None]
    seen: set[str] = set()
    pending = [name for name in roots if name in by_name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for used in _named_types(by_name[name]):
            if used in by_name and used not in seen:
                pending.append(used)
    # Implementations of a reachable interface stay (a query may ask for them by fragment).
    for d in document.definitions:
        if isinstance(d, ObjectTypeDefinitionNode) and any(
                i.name.value in seen for i in d.interfaces or ()):
            seen.add(d.name.value)
    kept = tuple(d for d in document.definitions
                 if not hasattr(d, "name") or d.name is None or d.name.value in seen
                 or d.kind in ("scalar_type_definition", "directive_definition"))
    return DocumentNode(definitions=kept)


def _named_types(node: Any) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def enter_named_type(self, named: NamedTypeNode, *_args: Any) -> None:
            names.add(named.name.value)

    visit(node, Collect())
    return names


def without_suggestions(body: bytes, hidden: Hidden | None = None) -> bytes:
    """A request-error body whose messages no longer suggest names from the schema
    (``hidden``: only suggestions naming one of these fields or operations go)."""
    names = None if hidden is None else {field for _owner, field in hidden}

    def drop(match: re.Match[str]) -> str:
        if names is None or names & set(_QUOTED.findall(match.group(0))):
            return ""
        return match.group(0)

    parsed = orjson.loads(body)
    for error in parsed.get("errors", []):
        if isinstance(error.get("message"), str):
            error["message"] = _SUGGESTION.sub(drop, error["message"])
    return orjson.dumps(parsed)


def suggestions_for(schema: Any, introspection: str, context: Mapping[str, Any] | None,
                    body: bytes) -> bytes:
    """A request-error body as this caller may see it: without suggestions when it may
    not introspect, without those naming what is hidden from it when it may."""
    from fraiseql.authz.checkpoint import may_introspect
    if not may_introspect(introspection, context):
        return without_suggestions(body)
    hidden = hidden_fields(schema, context)
    return without_suggestions(body, hidden) if hidden else body
