"""Fact tables: @fraiseql.fact and its measures, dimensions and time dimensions.

A fact table (``tf_*``) holds one row per event: numeric MEASURE columns, a JSONB
column of DIMENSIONS and a timestamp column. Declaring one adds an aggregate root
field (``<source>Aggregate``, e.g. ``tf_sales`` -> ``salesAggregate``) that groups
rows by dimensions and time buckets and computes count/sum/avg/min/max; see
docs/aggregates.md and fraiseql/compiler/aggregate.py.

This module records the declaration and resolves it into a :class:`FactInfo`,
collecting definition errors the way build_schema does for types.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fraiseql.errors import DefinitionError
from fraiseql.schema.definitions import location_of, own_docstring
from fraiseql.schema.model import FieldInfo, ObjectInfo, TypeRef
from fraiseql.schema.naming import to_camel
from fraiseql.schema.resolve import AnnotationError, class_fields, definition_error, to_ref

T = TypeVar("T")

_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PATH_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names a group already uses for its own fields, so no member may take them.
RESERVED = ("bucket", "count", "sum", "avg", "min", "max", "data")
MEASURE_TYPES = (int, float, decimal.Decimal)
# Scalars a dimension may have (read from JSONB text and cast per the SCALARS table).
DIMENSION_KINDS = ("string", "id", "number", "boolean")


@dataclass(frozen=True)
class _Member:
    """What ``fraiseql.measure()``/``dimension()``/``time_dimension()`` return."""

    role: str  # "measure" | "dimension" | "time"
    column: str | None = None  # measure/time: the real column (default: the field name)
    path: str | None = None  # dimension: dotted path in the dimensions JSONB
    description: str | None = None


def measure(*, column: str | None = None, description: str | None = None) -> Any:
    """A numeric column aggregated by sum/avg/min/max: ``revenue: Decimal = measure()``."""
    return _Member("measure", column=column, description=description)


def dimension(*, path: str | None = None, description: str | None = None) -> Any:
    """A value in the dimensions JSONB, grouped and filtered on (``path="customer.tier"``)."""
    return _Member("dimension", path=path, description=description)


def time_dimension(*, column: str | None = None, description: str | None = None) -> Any:
    """A ``timestamptz`` column rows are bucketed on (HOUR, DAY, WEEK, MONTH; UTC)."""
    return _Member("time", column=column, description=description)


@dataclass
class FactDefinition:
    """A class decorated with @fact."""

    cls: type
    name: str
    sql_source: str
    dimensions_column: str = "dimensions"
    query_name: str | None = None
    description: str | None = None
    max_page_size: int | None = None
    tenant_column: str | None = None  # as @fraiseql.type's: every aggregate is per tenant
    tenant_required: bool = True
    rule: Any = None  # fraiseql.authz.rules.Rule: who may aggregate it


def fact(cls: Any = None, *, sql_source: str, dimensions_column: str = "dimensions",
         name: str | None = None, query_name: str | None = None,
         description: str | None = None, max_page_size: int | None = None,
         tenant_column: str | None = None, tenant_required: bool = True,
         requires: str | list[str] | None = None, requires_role: str | list[str] | None = None,
         requires_scope: str | list[str] | None = None) -> Any:
    """Declare a fact table; pass the class to ``build_schema(facts=[...])``.

    ``name`` prefixes the generated GraphQL types (default: the class name), and
    ``query_name`` names the root field (default: ``tf_sales`` -> ``salesAggregate``).
    ``tenant_column`` and ``requires*`` as for @fraiseql.type and @fraiseql.query.
    """
    from fraiseql.authz.rules import make_rule
    rule = make_rule(requires, requires_role, requires_scope)

    def wrap(target: type[T]) -> type[T]:
        target.__fraiseql_fact__ = FactDefinition(  # type: ignore[attr-defined]
            cls=target, name=name or target.__name__, sql_source=sql_source,
            dimensions_column=dimensions_column, query_name=query_name,
            description=description or own_docstring(target), max_page_size=max_page_size,
            tenant_column=tenant_column, tenant_required=tenant_required, rule=rule)
        return target

    return wrap(cls) if cls is not None else wrap


@dataclass
class FactMember:
    """One resolved measure, dimension or time dimension."""

    python_name: str  # also the column name the compiler gives it
    graphql_name: str
    role: str
    type: TypeRef
    column: str | None = None
    path: tuple[str, ...] = ()
    description: str | None = None

    @property
    def enum_name(self) -> str:
        """Its value in the generated dimension / time field enums."""
        return self.python_name.upper()


@dataclass
class FactInfo:
    """A resolved fact: its members and the root field answering it."""

    definition: FactDefinition
    root_name: str
    page_size_cap: int
    members: dict[str, FactMember] = field(default_factory=dict)  # by GraphQL name

    @property
    def name(self) -> str:
        return self.definition.name

    def of_role(self, role: str) -> list[FactMember]:
        return [m for m in self.members.values() if m.role == role]

    @property
    def filterable(self) -> ObjectInfo:
        """The members as an object whose fields are the compiler's row columns.

        The compiler reads the fact through a sub-select exposing every member as a
        column named after it, so the ordinary where compiler filters on them.
        """
        cached = self.__dict__.get("_filterable")
        if cached is None:
            from fraiseql.schema.definitions import TypeDefinition
            cached = ObjectInfo(self.name, TypeDefinition(self.definition.cls, "type", self.name))
            for m in self.members.values():
                cached.fields[m.graphql_name] = FieldInfo(m.python_name, m.graphql_name, m.type)
            self.__dict__["_filterable"] = cached
        return cached


# The types fact_types.py generates for a fact, by suffix of its name.
GENERATED_SUFFIXES = ("Dimension", "TimeField", "TimeBucket", "FactWhere", "Having",
                      "MeasureFilter", "AverageFilter", "GroupOrderBy", "MeasureOrderBy",
                      "Group", "Measures", "Averages")


def generated_type_names(info: FactInfo) -> list[str]:
    """The GraphQL type names a fact's API takes, e.g. SaleGroup."""
    return [f"{info.name}{suffix}" for suffix in GENERATED_SUFFIXES]


def default_root_name(sql_source: str) -> str:
    """``tf_sales`` -> ``salesAggregate``; ``analytics.tf_sales`` too."""
    table = sql_source.split(".")[-1].removeprefix("tf_")
    return f"{to_camel(table)}Aggregate"


def resolve_fact(cls: Any, max_page_size: int,
                 report: Callable[[DefinitionError], None]) -> FactInfo | None:
    """The FactInfo of a @fact class; every problem goes to ``report``."""
    definition = getattr(cls, "__fraiseql_fact__", None)
    if not isinstance(definition, FactDefinition):
        report(DefinitionError(f"facts=[{cls!r}]: not a @fraiseql.fact class",
                               where=location_of(cls),
                               fix="decorate it with @fraiseql.fact(sql_source='tf_...')"))
        return None

    def error(message: str, fix: str, member: str | None = None) -> None:
        report(DefinitionError(f"{cls.__name__}: {message}", where=location_of(cls, member),
                               fix=fix))

    if not _SQL_NAME.match(definition.sql_source):
        error(f"sql_source {definition.sql_source!r} is not a plain SQL name",
              "use a table name such as 'tf_sales'")
    if not _COLUMN.match(definition.dimensions_column):
        error(f"dimensions_column {definition.dimensions_column!r} is not a column name",
              "use a column name such as 'dimensions'")
    cap = definition.max_page_size or max_page_size
    root_name = definition.query_name or default_root_name(definition.sql_source)
    info = FactInfo(definition, root_name, cap)
    for python_name, annotation, raw in class_fields(cls):
        member = _resolve_member(cls, definition, python_name, annotation, raw, error, report)
        if member is not None:
            info.members[member.graphql_name] = member
    if not info.of_role("measure") and not info.of_role("dimension") \
            and not info.of_role("time"):
        error("declares no measures or dimensions",
              "annotate e.g. `revenue: Decimal = fraiseql.measure()`")
    return info


def _resolve_member(cls: Any, definition: FactDefinition, python_name: str, annotation: Any,
                    raw: Any, error: Callable[..., None],
                    report: Callable[[DefinitionError], None]) -> FactMember | None:
    if not isinstance(raw, _Member):
        error(f"field {python_name!r} is neither a measure nor a dimension",
              f"write `{python_name}: ... = fraiseql.measure()` (or dimension(), "
              "time_dimension())", python_name)
        return None
    if python_name in RESERVED:
        error(f"field {python_name!r} would clash with the group's own "
              f"{python_name!r} field", "rename it, e.g. with column=... or path=...",
              python_name)
        return None
    import sys
    namespace = vars(sys.modules[cls.__module__]) if cls.__module__ in sys.modules else {}
    try:
        ref = to_ref(annotation, namespace)
    except AnnotationError as exc:
        report(definition_error(cls, f"{cls.__name__}.{python_name}", exc, python_name))
        return None
    column = raw.column or python_name
    if raw.role in ("measure", "time") and not _COLUMN.match(column):
        error(f"{python_name}: column {column!r} is not a column name",
              "name a real column of the fact table", python_name)
        return None
    member = FactMember(python_name, to_camel(python_name), raw.role, ref, column,
                        description=raw.description)
    if raw.role == "measure":
        if ref.kind != "scalar" or ref.python not in MEASURE_TYPES:
            error(f"measure {python_name!r} must be int, float or Decimal, got "
                  f"{ref.name or ref.kind}", "annotate it `int`, `float` or `Decimal`",
                  python_name)
            return None
    elif raw.role == "time":
        if ref.kind != "scalar" or ref.python is not datetime.datetime:
            error(f"time dimension {python_name!r} must be datetime.datetime (a timestamptz "
                  f"column), got {ref.name or ref.kind}", "annotate it `datetime.datetime`",
                  python_name)
            return None
    else:
        path = tuple((raw.path or python_name).split("."))
        if not all(_PATH_PART.match(part) for part in path):
            error(f"dimension {python_name!r}: path {raw.path!r} is not dotted names",
                  "write e.g. path='customer.tier'", python_name)
            return None
        if ref.kind != "scalar" or ref.scalar is None or ref.scalar.kind not in DIMENSION_KINDS:
            error(f"dimension {python_name!r} must be str, int, float, bool, Decimal, ID or "
                  f"UUID, got {ref.name or ref.kind}", "annotate it with one of those",
                  python_name)
            return None
        member.path, member.column = path, None
    return member


__all__ = ["FactInfo", "FactMember", "default_root_name", "dimension", "fact", "measure",
           "resolve_fact", "time_dimension"]
