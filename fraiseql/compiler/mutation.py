"""A mutation root field -> one statement: call the function, log the change, project.

    WITH r AS MATERIALIZED (SELECT * FROM fraiseql.checked(fn_x(<context params>, $n::jsonb))),
         logged AS (INSERT INTO fraiseql.change_log ... SELECT ... FROM r
                    WHERE r.succeeded AND r.state_changed)
    SELECT r.succeeded, r.error_class, r.message, <the member's JSON>,
           <the entity type logged, for the result cache> FROM r

One statement is one implicit transaction: the function's writes, its change-log
row and the answer commit together or not at all. ``fraiseql.checked`` refuses
an illegal result (e.g. failed but state changed) before anything commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from fraiseql.authz.tenancy import TENANT_KEY
from fraiseql.compiler.context import CompileContext, bad_input, param
from fraiseql.compiler.plan import RootPlan
from fraiseql.compiler.projection import Projector
from fraiseql.compiler.sql import Params, ParamSource, ident, literal
from fraiseql.compiler.values import to_text
from fraiseql.schema.model import MutationField, ObjectInfo

# Result columns that fill member fields of the same (snake_case) name.
_SUCCESS_SOURCES = {
    "message": ("to_jsonb(r.message)", "r.message"),
    "updated_fields": ("to_jsonb(r.updated_fields)", "NULL::text"),
    "cascade": ("r.cascade", "(r.cascade #>> '{}')"),
    "entity_id": ("to_jsonb(r.entity_id)", "r.entity_id"),
}
_ERROR_SOURCES = {
    "message": ("to_jsonb(r.message)", "r.message"),
    "code": ("to_jsonb(lower(r.error_class))", "lower(r.error_class)"),
}
# Request context keys recorded in the change log (null until auth fills them).
LOG_CONTEXT = ("user_id", "tenant_id", "trace_id")


@dataclass(frozen=True)
class MutationInfo:
    """What the executor needs beyond the SQL: how to answer a failure."""

    name: str
    error_member: str | None  # the error member's GraphQL name, None in the direct form
    error_fields: tuple[tuple[str, str], ...]  # (response key, "typename"|"code"|"message"|"")


def compile_mutation(ctx: CompileContext, mutation: MutationField, key: str,
                     nodes: list[Any], gql_field: Any) -> RootPlan:
    """The statement for one mutation root field."""
    params = Params()
    site = ctx.add_site(gql_field, nodes[0])
    assert mutation.input is not None and mutation.success is not None
    args = [params.add(ParamSource(-1, (), to_text, context_key=name), "text")
            for name in mutation.context_params]
    if TENANT_KEY in mutation.context_params:
        ctx.tenant_required = True  # the function acts for a tenant: one must be named
    input_info, schema = mutation.input, ctx.schema  # not ctx: the plan outlives it
    args.append(param(params, site, ("input",),
                      lambda value: input_json(value, input_info, schema), "jsonb"))
    log_args = [params.add(ParamSource(-1, (), to_text, context_key=name), "text")
                for name in LOG_CONTEXT]
    projector = Projector(ctx, params)
    member, shape = _member_json(projector, mutation, nodes)
    call = f"{ident(mutation.definition.function or '')}({', '.join(args)})"
    audited = _audit_sql(params, mutation, log_args) if ctx.audit else ""
    sql = (f"WITH r AS MATERIALIZED (SELECT * FROM fraiseql.checked({call})), "
           f"logged AS (INSERT INTO fraiseql.change_log (entity_type, entity_id, operation, "
           f"entity_after, entity_before, updated_fields, mutation, actor, tenant_id, trace_id) "
           f"SELECT r.entity_type, r.entity_id, {literal(mutation.definition.operation)}, "
           f"r.entity, r.metadata->'before', r.updated_fields, {literal(mutation.name)}, "
           f"{', '.join(log_args)} FROM r WHERE r.succeeded AND r.state_changed){audited} "
           f"SELECT r.succeeded, r.error_class, r.message, {member}, "
           f"CASE WHEN r.succeeded AND r.state_changed THEN ARRAY[r.entity_type] END FROM r")
    plan = RootPlan(key, "mutation", mutation.returns.nullable, sql, params.sources,
                    shape=shape, path_name=mutation.name)
    plan.mutation = MutationInfo(mutation.name, mutation.error.name if mutation.error else None,
                                 _error_fields(ctx, mutation, nodes))
    return plan


def _audit_sql(params: Params, mutation: MutationField, log_args: list[str]) -> str:
    """The audit row of this call, written by the same statement: it commits with the
    change or not at all (fraiseql/authz/audit.py chains it)."""
    user, tenant, trace = log_args
    actor_type = params.add(ParamSource(-1, (), to_text, context_key="actor_type"), "text")
    return (f", audited AS (INSERT INTO fraiseql.audit_log (actor, actor_type, tenant_id, "
            f"operation, kind, outcome, detail, trace_id) "
            f"SELECT {user}, {actor_type}, {tenant}, {literal(mutation.name)}, 'mutation', "
            f"CASE WHEN r.succeeded THEN 'success' ELSE 'failure' END, "
            f"jsonb_strip_nulls(jsonb_build_object('entity_type', r.entity_type, 'entity_id', "
            f"r.entity_id, 'error_class', r.error_class, 'state_changed', r.state_changed)), "
            f"{trace} FROM r)")


def _member_json(projector: Projector, mutation: MutationField, nodes: list[Any]
                 ) -> tuple[str, Any]:
    success = mutation.success
    assert success is not None
    if success.definition.role != "success":  # direct form: the entity itself
        built, shape = projector.member_object(success, nodes, {}, "r.entity")
        return f"CASE WHEN r.succeeded THEN {built} END", shape
    success_sources = dict(_SUCCESS_SOURCES)
    if mutation.entity_field is not None:
        success_sources[mutation.entity_field.python_name] = ("r.entity", "(r.entity #>> '{}')")
    built, shape = projector.member_object(success, nodes, success_sources, "r.metadata")
    if mutation.error is None:
        return f"CASE WHEN r.succeeded THEN {built} END", shape
    error_sources = dict(_ERROR_SOURCES)
    error_sources.update({f.python_name: ("r.entity", "(r.entity #>> '{}')")
                          for f in _entity_fields(projector.ctx, mutation.error)})
    failed, error_shape = projector.member_object(mutation.error, nodes, error_sources,
                                                  "r.metadata")
    # Only one member is ever returned; a key both declare keeps the success side's shape.
    merged = {**error_shape, **shape} if isinstance(shape, dict) and isinstance(
        error_shape, dict) else shape
    return f"CASE WHEN r.succeeded THEN {built} ELSE {failed} END", merged


def _entity_fields(ctx: CompileContext, obj: ObjectInfo) -> list[Any]:
    return [f for f in obj.fields.values()
            if f.type.kind == "object" and ctx.schema.objects[f.type.name].sql_source]


def _error_fields(ctx: CompileContext, mutation: MutationField, nodes: list[Any]
                  ) -> tuple[tuple[str, str], ...]:
    """How to fill the error member when the database raised instead of returning."""
    if mutation.error is None:
        return ()
    from graphql.execution.collect_fields import collect_sub_fields
    gql_type = ctx.schema.graphql.get_type(mutation.error.name)
    fields = collect_sub_fields(ctx.schema.graphql, ctx.fragments, ctx.variables, gql_type, nodes)
    sources = {"__typename": "typename", "code": "code", "message": "message"}
    return tuple((key, sources.get(field_nodes[0].name.value, ""))
                 for key, field_nodes in fields.items())


def input_json(value: Any, info: ObjectInfo, schema: Any) -> str:
    """The coerced input object as the JSONB text the function receives."""
    check_input(value, info, schema, ("input",))
    if _has_nul(value):
        raise bad_input("the input contains a NUL character, which PostgreSQL cannot store")
    return orjson.dumps(value, default=_json_default).decode()


def check_input(value: Any, info: ObjectInfo, schema: Any, path: tuple[str, ...]) -> None:
    """What GraphQL coercion cannot say: a required ID may not be blank (a String may:
    whether it must say something is the function's business rule), and an omittable
    (``= UNSET``) non-null field may be absent but not null."""
    if not isinstance(value, dict):
        return
    for f in info.fields.values():
        where = ".".join((*path, f.graphql_name))
        if f.python_name not in value:
            continue
        item = value[f.python_name]
        if item is None and f.omittable and not f.type.nullable:
            raise bad_input(f"{where} may be omitted but not null")
        if f.type.kind == "scalar" and not f.type.nullable and isinstance(item, str) \
                and f.type.scalar is not None and f.type.scalar.kind == "id" \
                and not item.strip():
            raise bad_input(f"{where} must not be empty")
        nested = schema.inputs.get(f.type.named().name)
        if nested is not None:
            for element in item if isinstance(item, list) else [item]:
                check_input(element, nested, schema, (*path, f.graphql_name))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _json_default(value: Any) -> Any:
    import decimal
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "value"):  # enum members: the stored value
        return value.value
    raise TypeError(f"cannot send {type(value).__name__} to the database")
