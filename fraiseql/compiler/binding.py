"""Request values without graphql-core: variable coercion and argument templates.

A cached plan is bound by plain functions compiled once per document: each
field's arguments become a template (constants folded, variable references
kept), and each variable is coerced by its type. Semantics follow the GraphQL
spec's CoerceVariableValues and CoerceArgumentValues (and graphql-core's
behaviour): absent and null are different, defaults apply to absent values
only, a missing non-null value is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    Undefined,
    VariableNode,
    value_from_ast,
)

from fraiseql.compiler.context import bad_input

# A compiled value: called with the coerced variables; may return Undefined
# (a variable that was not provided), which the caller treats as absent.
Value = Callable[[dict[str, Any]], Any]


def coerce_variable(value: Any, gql_type: Any, where: str) -> Any:
    """One variable's value, coerced to its type (raises BAD_USER_INPUT)."""
    if isinstance(gql_type, GraphQLNonNull):
        if value is None:
            raise bad_input(f"{where}: a non-null value is required, got null")
        return coerce_variable(value, gql_type.of_type, where)
    if value is None:
        return None
    if isinstance(gql_type, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return [coerce_variable(item, gql_type.of_type, f"{where}[{i}]")
                for i, item in enumerate(items)]
    if isinstance(gql_type, GraphQLInputObjectType):
        return _coerce_object(value, gql_type, where)
    if isinstance(gql_type, GraphQLEnumType):
        enum_value = gql_type.values.get(value) if isinstance(value, str) else None
        if enum_value is None:
            raise bad_input(f"{where}: {value!r} is not a value of {gql_type.name}")
        return enum_value.value
    return _coerce_scalar(value, gql_type, where)


def _coerce_object(value: Any, gql_type: GraphQLInputObjectType, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_input(f"{where}: expected an object of type {gql_type.name}")
    fields = gql_type.fields
    unknown = [key for key in value if key not in fields]
    if unknown:
        raise bad_input(f"{where}: field {unknown[0]!r} is not defined by {gql_type.name}")
    result: dict[str, Any] = {}
    for name, field in fields.items():
        out = field.out_name or name
        if name in value:
            result[out] = coerce_variable(value[name], field.type, f"{where}.{name}")
        elif field.default_value is not Undefined:
            result[out] = field.default_value
        elif isinstance(field.type, GraphQLNonNull):
            raise bad_input(f"{where}: field {name!r} of type {field.type} is required")
    return result


def _coerce_scalar(value: Any, gql_type: GraphQLScalarType, where: str) -> Any:
    try:
        result = gql_type.parse_value(value)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's input
        raise bad_input(f"{where}: {exc}") from None
    if result is Undefined or result is None:
        raise bad_input(f"{where}: {value!r} is not a valid {gql_type.name}")
    return result


def coerce_variables(definitions: list[tuple[str, Any, Any]], raw: dict[str, Any]
                     ) -> dict[str, Any]:
    """All variables of an operation: (name, type, default or Undefined) per definition."""
    coerced: dict[str, Any] = {}
    for name, gql_type, default in definitions:
        if name not in raw:
            if default is not Undefined:
                coerced[name] = default
            elif isinstance(gql_type, GraphQLNonNull):
                raise bad_input(f"Variable '${name}' of required type '{gql_type}' was not "
                                "provided.")
            continue
        coerced[name] = coerce_variable(raw[name], gql_type, f"Variable '${name}'")
    return coerced


def argument_template(field_def: Any, field_node: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function from coerced variables to the field's coerced argument values."""
    nodes = {arg.name.value: arg.value for arg in field_node.arguments or ()}
    steps: list[tuple[str, Any, Value | None, Any]] = []
    for name, arg in field_def.args.items():
        node = nodes.get(name)
        value = None if node is None else compile_value(node, arg.type)
        steps.append((arg.out_name or name, arg.default_value, value, arg.type))

    def materialize(variables: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for out, default, value, gql_type in steps:
            result = Undefined if value is None else value(variables)
            if result is Undefined:
                if default is not Undefined:
                    values[out] = default
                elif isinstance(gql_type, GraphQLNonNull):
                    raise bad_input(f"Argument '{out}' of type '{gql_type}' is required")
                continue
            if result is None and isinstance(gql_type, GraphQLNonNull):
                raise bad_input(f"Argument '{out}' of non-null type '{gql_type}' must not be null")
            values[out] = result
        return values

    return materialize


def compile_value(node: Any, gql_type: Any) -> Value:
    """A value node of a (validated) document as a function of the variables."""
    if not _has_variables(node):
        constant = value_from_ast(node, gql_type)
        return lambda _variables: constant
    if isinstance(node, VariableNode):
        name = node.name.value
        return lambda variables: variables.get(name, Undefined)
    if isinstance(gql_type, GraphQLNonNull):
        return compile_value(node, gql_type.of_type)
    if isinstance(gql_type, GraphQLList):
        if not isinstance(node, ListValueNode):
            single = compile_value(node, gql_type.of_type)
            return lambda variables: [_present(single(variables))]
        items = [compile_value(item, gql_type.of_type) for item in node.values]
        return lambda variables: [_present(item(variables)) for item in items]
    assert isinstance(node, ObjectValueNode) and isinstance(gql_type, GraphQLInputObjectType)
    given = {f.name.value: f.value for f in node.fields}
    fields = [(field.out_name or name, field.default_value,
               compile_value(given[name], field.type) if name in given else None)
              for name, field in gql_type.fields.items()]

    def build(variables: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for out, default, value in fields:
            item = Undefined if value is None else value(variables)
            if item is Undefined:
                if default is not Undefined:
                    result[out] = default
                continue
            result[out] = item
        return result

    return build


def _present(value: Any) -> Any:
    """A list item whose variable was not provided is null."""
    return None if value is Undefined else value


def _has_variables(node: Any) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_has_variables(item) for item in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_has_variables(f.value) for f in node.fields)
    return False


__all__ = ["argument_template", "coerce_variables", "NullValueNode"]
