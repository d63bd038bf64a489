"""A coerced ``where`` value -> one SQL predicate, driven by the operator table."""

from __future__ import annotations

from typing import Any

import orjson

from fraiseql.compiler.context import SourceInfo, bad_input, param
from fraiseql.compiler.sql import Params, ident, literal
from fraiseql.compiler.values import text_list, to_lower_text, to_text
from fraiseql.schema.model import FieldInfo, ObjectInfo
from fraiseql.schema.operators import Operator, operator_named


# What a where clause reads as the row's data: a copy detoasted once per row, behind a
# fence (OFFSET 0) so the planner cannot inline it back into each reference. Without it
# every `->` of the filter decompresses the stored (TOASTed) value again: the blog's
# filtered list (3 data fields in the where) took 84 ms, 4 ms with it.
FILTER_DATA = "vd.data"
_FILTER_ROW = "CROSS JOIN LATERAL (SELECT v.data || '{}'::jsonb AS data OFFSET 0) AS vd"


def scanned(view: str, predicate: str) -> str:
    """FROM items for ``view`` filtered by ``predicate`` (compiled with FILTER_DATA)."""
    return f"{view} AS v {_FILTER_ROW}" if FILTER_DATA in predicate else f"{view} AS v"


class WhereCompiler:
    """Compiles one where tree; ``data`` is the SQL expression of the row's JSONB."""

    def __init__(self, schema: Any, params: Params, site: int, source: SourceInfo | None,
                 table_alias: str = "v") -> None:
        self.schema, self.params, self.site = schema, params, site
        self.source, self.table_alias = source, table_alias
        self._elements_seen = 0  # names each EXISTS over a list's elements

    def compile(self, where: dict[str, Any], obj: ObjectInfo, data: str,
                path: tuple[str | int, ...], top: bool = True) -> str:
        """The predicate for ``where`` on ``obj`` whose JSONB is ``data``."""
        parts = [self._entry(key, value, obj, data, (*path, key), top)
                 for key, value in where.items()]
        return _join(parts, "AND", "TRUE")

    def _entry(self, key: str, value: Any, obj: ObjectInfo, data: str,
               path: tuple[str | int, ...], top: bool) -> str:
        if value is None:
            raise bad_input(f"where.{_dotted(path)} is null; omit it or use isnull")
        if key in ("_and", "_or"):
            parts = [self.compile(item, obj, data, (*path, i), top) for i, item in enumerate(value)]
            return _join(parts, key[1:].upper(), "TRUE" if key == "_and" else "FALSE")
        if key == "_not":
            return f"NOT ({self.compile(value, obj, data, path, top)})"
        f = obj.fields[key]
        if f.type.kind == "object":
            nested = self.schema.objects[f.type.name]
            return self.compile(value, nested, f"({data}->{literal(f.python_name)})", path, False)
        if filter_family(f) == "objects":
            return self._elements(value, f, data, path, top)
        return self._filter(value, f, data, path, top)

    def _elements(self, filters: dict[str, Any], f: FieldInfo, data: str,
                  path: tuple[str | int, ...], top: bool) -> str:
        """``any``/``isEmpty`` on a list of objects embedded in the JSONB."""
        column = self.source.column(f.python_name) if top and self.source else None
        lhs = f"{self.table_alias}.{ident(f.python_name)}" if column == "jsonb" \
            else f"({data}->{literal(f.python_name)})"
        parts = []
        for name, operand in filters.items():
            self._refuse_null(operand, path, name)
            op = operator_named("objects", name)
            if op.operand == "where":
                self._elements_seen += 1
                alias = f"elem{self._elements_seen}"
                element = self.schema.objects[f.type.named().name]
                inner = self.compile(operand, element, f"{alias}.value", (*path, name), False)
                parts.append(op.sql(lhs, inner, alias))
            else:
                parts.append(op.sql(lhs, self._param((*path, name), to_text, "text::boolean")))
        return _join(parts, "AND", "TRUE")

    def _filter(self, filters: dict[str, Any], f: FieldInfo, data: str,
                path: tuple[str | int, ...], top: bool) -> str:
        family = filter_family(f)
        source = self.source if top else None
        if family == "array":
            lhs, cast = array_comparable(f, data, source, self.table_alias)
            lowercase = False
        else:
            lhs, cast, lowercase = comparable(f, data, source, self.table_alias)
        # Bound only for a query operator: `language` has a default, and a parameter the SQL
        # never uses has no type PostgreSQL can infer (isnull alone was a 500).
        queries = family == "fulltext" and any(
            operator_named(family, name).operand == "query" for name in filters)
        language = self._language(filters, path) if queries else ""
        parts = []
        for name, operand in filters.items():
            self._refuse_null(operand, path, name)
            op = operator_named(family, name)
            if op.option:
                continue
            at = (*path, name)
            if op.operand == "distance":
                parts.append(self._distance(op, lhs, operand, at))
                continue
            placeholder = self._operand(op, at, cast, lowercase)
            parts.append(op.sql(lhs, placeholder, language) if op.operand == "query"
                         else op.sql(lhs, placeholder))
        return _join(parts, "AND", "TRUE")

    def _operand(self, op: Operator, at: tuple[str | int, ...], cast: str,
                 lowercase: bool) -> str:
        """The cast placeholder of one operator's operand."""
        convert = op.convert or (to_lower_text if lowercase else to_text)
        sql_type = op.cast or {"value": cast, "list": f"{cast}[]", "boolean": "boolean",
                               "string": "text", "strings": "text[]", "int": "int4",
                               "json": "jsonb", "date": "date", "query": "text"}[op.operand]
        if op.operand in ("list", "strings"):
            return self._param(at, text_list(convert), f"text[]::{sql_type}")
        if op.operand == "json":
            return self._param(at, _json_text, "text::jsonb")
        return self._param(at, convert, f"text::{sql_type}")

    def _language(self, filters: dict[str, Any], path: tuple[str | int, ...]) -> str:
        """The text search configuration of a full-text filter (an enum value, still bound)."""
        if filters.get("language") is None:
            return "'simple'::regconfig"
        return self._param((*path, "language"), to_text, "text::regconfig")

    def _distance(self, op: Operator, lhs: str, operand: dict[str, Any],
                  at: tuple[str | int, ...]) -> str:
        """``(lhs <=> vector) < bound`` for each bound given."""
        bounds = [(key, sign) for key, sign in _BOUNDS if key in operand]
        if not bounds:
            raise bad_input(f"where.{_dotted(at)} needs a bound: lt, lte, gt or gte")
        distance = op.sql(lhs, self._param((*at, "vector"), to_text, "text::vector"))
        parts = []
        for key, sign in bounds:
            self._refuse_null(operand[key], at, key)
            parts.append(f"{distance} {sign} {self._param((*at, key), to_text, 'text::float8')}")
        return _join(parts, "AND", "TRUE")

    def _param(self, at: tuple[str | int, ...], convert: Any, sql_type: str) -> str:
        return param(self.params, self.site, at, convert, sql_type)

    @staticmethod
    def _refuse_null(operand: Any, path: tuple[str | int, ...], name: str) -> None:
        if operand is None:
            raise bad_input(f"where.{_dotted(path)}.{name} is null; use isnull to "
                            "test for null")


_BOUNDS = (("lt", "<"), ("lte", "<="), ("gt", ">"), ("gte", ">="))


def _json_text(value: Any) -> str:
    """A JSON operand as JSON text (a bare string operand stays a JSON string)."""
    return orjson.dumps(value).decode()


def filter_family(f: FieldInfo) -> str:
    """The operator family of a filterable field (see fraiseql/schema/operators.py)."""
    ref = f.type
    if ref.kind == "list":
        assert ref.of is not None
        return "array" if ref.of.kind in ("scalar", "enum") else "objects"
    if ref.kind == "enum":
        return "enum"
    assert ref.scalar is not None
    return ref.scalar.kind


def array_comparable(f: FieldInfo, data: str, source: SourceInfo | None,
                     alias: str = "v") -> tuple[str, str]:
    """(array expression, item cast) for a list-of-scalars field.

    A real array column is used as is; a JSONB array becomes a PostgreSQL array
    of the item type, so numbers compare as numbers (a non-array is null).
    """
    item = f.type.of
    assert item is not None
    item_cast = item.scalar.sql_cast if item.scalar is not None else "text"
    column = source.column(f.python_name) if source else None
    if column is not None and column.endswith("[]"):
        return f"{alias}.{ident(f.python_name)}", column[:-2]
    json = f"{alias}.{ident(f.python_name)}" if column == "jsonb" \
        else f"({data}->{literal(f.python_name)})"
    return (f"(CASE WHEN jsonb_typeof({json}) = 'array' THEN ARRAY(SELECT "
            f"jsonb_array_elements_text({json}))::{item_cast}[] END)"), item_cast


def comparable(f: FieldInfo, data: str, source: SourceInfo | None,
               alias: str = "v") -> tuple[str, str, bool]:
    """(expression, cast type, compare lowercased) for a scalar field.

    A real column of the view is used as is, so its index serves the filter;
    otherwise the value is read from the JSONB and cast per its declared type.
    """
    column = source.column(f.python_name) if source else None
    if column is not None:
        return f"{alias}.{ident(f.python_name)}", column, False
    key = literal(f.python_name)
    if f.type.kind == "enum":
        return f"({data}->>{key})", "text", False
    scalar = f.type.scalar
    assert scalar is not None
    if scalar.kind == "json":
        # A JSON null reads as null (as the field's output does), not as jsonb 'null'.
        return f"nullif({data}->{key}, 'null'::jsonb)", "jsonb", False
    if scalar.kind == "id" and scalar.sql_cast == "text":
        return f"lower({data}->>{key})", "text", True
    return f"(({data}->>{key})::{scalar.sql_cast})", scalar.sql_cast, False


def _join(parts: list[str], glue: str, empty: str) -> str:
    if not parts:
        return empty
    return parts[0] if len(parts) == 1 else "(" + f" {glue} ".join(parts) + ")"


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path[1:]) if len(path) > 1 else str(path[0])
