"""State shared while compiling one root field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fraiseql.compiler.plan import ArgumentSite
from fraiseql.compiler.sql import Params, ParamSource
from fraiseql.errors import ErrorCode, GraphQLRequestError

# Column types (from the catalog) we compare natively; other columns are read from data.
NATIVE_COLUMN_TYPES = {
    "uuid": "uuid", "text": "text", "character varying": "text", "integer": "int4",
    "bigint": "int8", "smallint": "int2", "numeric": "numeric", "double precision": "float8",
    "real": "float4", "boolean": "boolean", "date": "date",
    "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
    "time without time zone": "time", "jsonb": "jsonb", "text[]": "text[]",
    # types with their own filter operators (fraiseql/schema/operators.py)
    "integer[]": "int4[]", "bigint[]": "int8[]", "numeric[]": "numeric[]", "uuid[]": "uuid[]",
    "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "ltree": "ltree",
    "daterange": "daterange", "tsvector": "tsvector", "vector": "vector",
}


@dataclass
class SourceInfo:
    """A view's real columns (name -> cast type) and which are NOT NULL, from the catalog."""

    columns: dict[str, str] = field(default_factory=dict)
    not_null: frozenset[str] = frozenset()

    @property
    def has_id(self) -> bool:
        return "id" in self.columns

    def column(self, python_name: str) -> str | None:
        return self.columns.get(python_name) if python_name != "data" else None


@dataclass
class CompileContext:
    """Everything one operation's compilation reads and accumulates."""

    schema: Any  # fraiseql.schema.model.Schema
    fragments: dict[str, Any]
    variables: dict[str, Any]
    sources: dict[str, SourceInfo]
    sites: list[ArgumentSite]
    site_values: list[dict[str, Any]]
    alias_counter: int = 0
    checks: list[Any] = field(default_factory=list)  # plan.Check: who may run it
    tenant_required: bool = False  # a statement reads a required-tenant source
    root_key: str = ""  # the response key of the root field being compiled
    audit: bool = False  # mutations write their audit row (fraiseql/authz/trail.py)

    def alias(self, prefix: str) -> str:
        """A fresh SQL alias for a nested sub-select."""
        self.alias_counter += 1
        return f"{prefix}{self.alias_counter}"

    def require(self, rule: Any, what: str) -> None:
        """Record that the caller must satisfy ``rule`` (None: nothing) to run the plan."""
        if rule is not None:
            from fraiseql.compiler.plan import Check
            self.checks.append(Check(rule, what, (self.root_key,)))

    def require_readable(self, obj: Any, arguments: dict[str, Any]) -> None:
        """Filtering or ordering on a field reads it: ``where``/``orderBy`` of ``obj`` may
        only name fields the caller may read, masked ones included."""
        from fraiseql.authz.rules import fields_used
        for f, owner in fields_used(self.schema, obj, arguments.get("where"),
                                    arguments.get("order_by")):
            self.require(f.rule, f"filtering or ordering on {owner}.{f.graphql_name}")

    def add_site(self, field_def: Any, field_node: Any) -> int:
        """Record a field with arguments; returns its index and computes its values."""
        from fraiseql.compiler.binding import argument_template
        template = argument_template(field_def, field_node)
        self.sites.append(ArgumentSite(template))
        self.site_values.append(template(self.variables))
        return len(self.sites) - 1


def bad_input(message: str, path: list[str | int] | None = None) -> GraphQLRequestError:
    """A BAD_USER_INPUT error."""
    return GraphQLRequestError(message, ErrorCode.BAD_USER_INPUT, path=path)


def param(params: Params, site: int, path: tuple[str | int, ...], convert: Any,
          sql_type: str) -> str:
    """A parameter read from argument site ``site`` at ``path``."""
    return params.add(ParamSource(site, path, convert), sql_type.replace("text::text", "text"))
