"""Selection set -> a SQL expression building the response JSON from JSONB data.

This is the engine's core, so it is one file: each GraphQL field becomes a
read from the view's ``data`` (``->`` for JSON passthrough, ``->>`` for text),
nested objects become nested ``json_build_object`` calls, nested lists become
``json_agg`` over ``jsonb_array_elements``. The ``json`` type (not ``jsonb``)
keeps keys in selection order, as GraphQL requires, and skips a binary round
trip. A null in a non-null field, or an unknown enum value, yields a sentinel
string that the executor finds with one byte search and turns into a field
error with null propagation (see execution/field_errors.py).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLObjectType, get_named_type
from graphql.execution.collect_fields import collect_fields, collect_sub_fields

from fraiseql.compiler.context import CompileContext, param
from fraiseql.compiler.plan import ListShape, Shape
from fraiseql.authz.masks import masked_sql
from fraiseql.compiler.sql import Params, ParamSource, ident, literal, sentinel
from fraiseql.compiler.values import bounded, to_text
from fraiseql.schema.model import FieldInfo, ObjectInfo, TypeRef

# json_build_object takes at most 100 arguments: 50 key/value pairs.
_MAX_PAIRS = 50

# Column types that json_build_object renders exactly as to_jsonb does, per output scalar
# (ISO 8601 date-times included), with the expression that renders them. Reading such a
# column directly skips the to_jsonb round trip (W4's 50 rows: 0.72 -> 0.55 ms).
_NATIVE_OUTPUT: dict[str, tuple[frozenset[str], str]] = {
    "String": (frozenset({"text"}), "{}"),
    "ID": (frozenset({"text", "uuid"}), "{}"),
    "UUID": (frozenset({"uuid"}), "{}"),
    "Int": (frozenset({"int2", "int4", "int8", "numeric"}), "{}"),
    "Decimal": (frozenset({"numeric"}), "{}::text"),  # Decimals leave as strings
    "Boolean": (frozenset({"boolean"}), "{}"),
    "DateTime": (frozenset({"timestamptz"}), "{}"),
    "Date": (frozenset({"date"}), "{}"),
    "Time": (frozenset({"time"}), "{}"),
    "JSON": (frozenset({"jsonb"}), "{}"),
}


class Projector:
    """Builds projection expressions for one statement (shares its parameters)."""

    def __init__(self, ctx: CompileContext, params: Params) -> None:
        self.ctx, self.params = ctx, params

    def root_object(self, data: str, obj: ObjectInfo, gql_type: GraphQLObjectType,
                    field_nodes: list[Any], columns: dict[str, str] | None = None,
                    row: str = "d", not_null: frozenset[str] = frozenset(),
                    ) -> tuple[str, Shape, list[str]]:
        """The JSON object for a root row whose JSONB is ``data``, and the columns it reads.

        A field that is also a real column of the source (``columns``: name -> type) is
        read from the column, rendered exactly as a view renders it into data (natively
        when the type allows, else by ``to_jsonb``): a page whose fields are all columns
        never touches the (large) data value. ``not_null``: the NOT NULL columns.
        """
        columns = columns or {}
        fields = collect_sub_fields(self.ctx.schema.graphql, self.ctx.fragments,
                                    self.ctx.variables, gql_type, field_nodes)
        selected = {nodes[0].name.value for nodes in fields.values()}
        used = [f for f in obj.fields.values()
                if f.python_name in columns and f.python_name != "data"
                and f.graphql_name in selected]
        sources, direct = {}, {}
        for f in used:
            column, cast = f"{row}.{ident(f.python_name)}", columns[f.python_name]
            as_json = column if cast == "jsonb" else f"to_jsonb({column})"
            sources[f.python_name] = (as_json, f"({as_json} #>> '{{}}')")
            native = _native_value(column, cast, f.type, f.python_name in not_null)
            if native is not None:
                direct[f.python_name] = native
        built, shape = self._object(data, obj, gql_type, fields, sources, direct)
        return built, shape, [f.python_name for f in used]

    def member_object(self, obj: ObjectInfo, field_nodes: list[Any],
                      sources: dict[str, tuple[str, str]], data: str) -> tuple[str, Shape]:
        """A mutation result member: fields named in ``sources`` read (jsonb, text) SQL
        expressions of the function's result, the others read the JSONB ``data``."""
        gql_type = self.ctx.schema.graphql.get_type(obj.name)
        fields = collect_sub_fields(self.ctx.schema.graphql, self.ctx.fragments,
                                    self.ctx.variables, gql_type, field_nodes)
        return self._object(data, obj, gql_type, fields, sources)

    def _object(self, data: str, obj: ObjectInfo, gql_type: GraphQLObjectType,
                fields: dict[str, list[Any]],
                sources: dict[str, tuple[str, str]] | None = None,
                direct: dict[str, tuple[str | None, str]] | None = None,
                ) -> tuple[str, Shape]:
        pairs: list[tuple[str, str]] = []
        shape: dict[str, tuple[bool, Any]] = {}
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, literal(gql_type.name)))
                shape[key] = (False, None)
                continue
            f = obj.fields[name]
            as_json, as_text = (sources or {}).get(f.python_name) or (
                f"({data}->{literal(f.python_name)})", f"({data}->>{literal(f.python_name)})")
            expr, sub_shape = self._value(as_json, as_text, f.type, nodes, gql_type.fields[name])
            if direct and f.python_name in direct and not nodes[0].arguments:  # no window
                guard, native = direct[f.python_name]
                expr = native if guard is None else f"(CASE WHEN {guard} THEN {native} " \
                                                    f"ELSE {expr} END)"
            if f.rule is not None:
                expr = self._restricted(expr, f, gql_type.name, as_text)
            pairs.append((key, expr))
            shape[key] = (f.type.nullable, sub_shape)
        return build_object(pairs), shape

    def _restricted(self, expr: str, f: FieldInfo, owner: str, as_text: str) -> str:
        """A field with a rule: the plan requires it (reject), or it is masked in SQL for
        callers without it, decided by a bound parameter so the plan serves everyone."""
        if f.on_deny == "reject":
            self.ctx.require(f.rule, f"reading {owner}.{f.graphql_name}")
            return expr
        allowed = self.params.add(ParamSource(-1, (), to_text, rule=f.rule), "text::boolean")
        masked = masked_sql(f.mask, as_text)
        if not f.type.nullable:  # a null value stays a non-null field's error when masked
            masked = f"coalesce({masked}, {sentinel('null')})"
        return f"(CASE WHEN {allowed} THEN {expr} ELSE {masked} END)"

    def _value(self, as_json: str, as_text: str, ref: TypeRef, nodes: list[Any],
               gql_field: GraphQLField | None) -> tuple[str, Shape]:
        """SQL for one value; ``as_json``/``as_text`` read it as jsonb or text."""
        if ref.kind == "list":
            return self._list(as_json, ref, nodes, gql_field)
        if ref.kind == "enum":
            return self._enum(as_text, ref), None
        if ref.kind in ("object", "interface"):
            return self._nested_object(as_json, ref, nodes)
        assert ref.scalar is not None
        if ref.scalar.as_text:
            return (as_text if ref.nullable else f"coalesce({as_text}, {sentinel('null')})"), None
        if ref.nullable:
            return as_json, None
        return f"coalesce(nullif({as_json}, 'null'), to_jsonb({sentinel('null')}))", None

    def _enum(self, as_text: str, ref: TypeRef) -> str:
        cases = " ".join(f"WHEN {literal(str(m.value))} THEN {literal(m.name)}"
                         for m in ref.python)
        when_null = "NULL" if ref.nullable else sentinel("null")
        return (f"(CASE {as_text} {cases} ELSE CASE WHEN {as_text} IS NULL THEN {when_null} "
                f"ELSE {sentinel('enum')} END END)")

    def _nested_object(self, as_json: str, ref: TypeRef, nodes: list[Any]) -> tuple[str, Shape]:
        obj = self.ctx.schema.objects[ref.name]
        gql_type = self.ctx.schema.graphql.get_type(ref.name)
        fields = collect_sub_fields(self.ctx.schema.graphql, self.ctx.fragments,
                                   self.ctx.variables, gql_type, nodes)
        built, shape = self._object(as_json, obj, gql_type, fields)
        otherwise = "" if ref.nullable else f" ELSE to_json({sentinel('null')})"
        return f"(CASE WHEN jsonb_typeof({as_json}) = 'object' THEN {built}{otherwise} END)", shape

    def _list(self, as_json: str, ref: TypeRef, nodes: list[Any],
              gql_field: GraphQLField | None) -> tuple[str, Shape]:
        item = ref.of
        assert item is not None
        window = self._window(nodes, gql_field)
        if item.kind == "scalar" and not window:
            # Scalar arrays pass through whole; only a null item forces the per-item path
            # (built only when items are non-null: nothing else would use it).
            otherwise = "" if ref.nullable else f" ELSE to_jsonb({sentinel('null')})"
            checked = as_json
            if not item.nullable:
                per_item, _ = self._aggregate(as_json, item, nodes, "")
                checked = (f"CASE WHEN {as_json} @> '[null]' THEN {per_item}::jsonb "
                           f"ELSE {as_json} END")
            return (f"(CASE WHEN jsonb_typeof({as_json}) = 'array' THEN {checked}{otherwise} END)",
                    ListShape(item.nullable, None))
        aggregate, item_shape = self._aggregate(as_json, item, nodes, window)
        shape = ListShape(item.nullable, item_shape)
        otherwise = "" if ref.nullable else f" ELSE to_json({sentinel('null')})"
        return (f"(CASE WHEN jsonb_typeof({as_json}) = 'array' THEN {aggregate}{otherwise} END)",
                shape)

    def _aggregate(self, as_json: str, item: TypeRef, nodes: list[Any],
                   window: str) -> tuple[str, Shape]:
        e = self.ctx.alias("e")
        value, shape = self._value(f"{e}.value", f"({e}.value #>> '{{}}')", item, nodes, None)
        if not item.nullable and item.kind == "list":
            value = f"coalesce({value}, to_json({sentinel('null')}))"
        where = f" WHERE {window.format(e=e)}" if window else ""
        return (f"(SELECT coalesce(json_agg({value} ORDER BY {e}.ordinality), '[]'::json) "
                f"FROM jsonb_array_elements({as_json}) WITH ORDINALITY AS {e}(value, ordinality)"
                f"{where})"), shape

    def _window(self, nodes: list[Any], gql_field: GraphQLField | None) -> str:
        """The ordinality filter for a nested list's limit/offset, or ''."""
        node = nodes[0]
        if gql_field is None or not node.arguments:
            return ""
        site = self.ctx.add_site(gql_field, node)
        values = self.ctx.site_values[site]
        name = node.name.value
        parts = []
        offset_sql = "0"
        if values.get("offset") is not None:
            check = bounded(f"offset on {name}", 0, None)
            check(values["offset"])
            offset_sql = param(self.params, site, ("offset",), check, "int8")
            parts.append(f"{{e}}.ordinality > {offset_sql}")
        if values.get("limit") is not None:
            check = bounded(f"limit on {name}", 0, None)
            check(values["limit"])
            limit_sql = param(self.params, site, ("limit",), check, "int8")
            parts.append(f"{{e}}.ordinality <= {offset_sql} + {limit_sql}")
        return " AND ".join(parts)


def _native_value(column: str, cast: str, ref: TypeRef,
                  not_null: bool) -> tuple[str | None, str] | None:
    """(guard, expression) reading ``column`` natively, or None to go through to_jsonb.

    The expression is used when the guard (SQL, None: always) holds; otherwise the
    generic expression, which also reports a null in a non-null field.
    """
    if not (not_null or ref.nullable):
        return None  # a nullable column behind a non-null field needs the null check
    if ref.kind == "scalar" and ref.scalar is not None:
        casts, template = _NATIVE_OUTPUT.get(ref.scalar.graphql.name, (frozenset(), ""))
        return (None, template.format(column)) if cast in casts else None
    item = ref.of
    if ref.kind == "list" and cast == "text[]" and item is not None and item.kind == "scalar" \
            and item.scalar is not None and item.scalar.graphql.name in ("String", "ID"):
        if item.nullable:
            return None, column
        # Non-null items: pass the array through unless it holds a null.
        return f"array_position({column}, NULL) IS NULL", f"to_jsonb({column})"
    return None


def build_object(pairs: list[tuple[str, str]]) -> str:
    """json_build_object over (key, expression) pairs, chunked past 50 pairs."""
    if not pairs:
        return "'{}'::json"
    chunks = [pairs[i:i + _MAX_PAIRS] for i in range(0, len(pairs), _MAX_PAIRS)]
    built = ["json_build_object(" + ", ".join(f"{literal(k)}, {v}" for k, v in chunk) + ")"
             for chunk in chunks]
    if len(built) == 1:
        return built[0]
    # Join chunk texts: drop each closing brace and the next opening one.
    inner = " || ', ' || ".join(f"substr(left({b}::text, -1), 2)" for b in built)
    return f"('{{' || {inner} || '}}')::json"


def root_fields(ctx: CompileContext, operation: Any, root_type: GraphQLObjectType) -> dict[str, list[Any]]:
    """The operation's root fields by response key (fragments, @skip/@include applied)."""
    return collect_fields(ctx.schema.graphql, ctx.fragments, ctx.variables, root_type,
                          operation.selection_set)


__all__ = ["Projector", "build_object", "root_fields", "get_named_type"]
