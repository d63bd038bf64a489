"""A coerced ``where`` value -> one SQL predicate, driven by the operator table."""

from __future__ import annotations

from typing import Any

from fraiseql.compiler.context import SourceInfo, bad_input, param
from fraiseql.compiler.sql import Params, ident, literal
from fraiseql.compiler.values import text_list, to_lower_text, to_text
from fraiseql.schema.model import FieldInfo, ObjectInfo
from fraiseql.schema.operators import OPERATORS


class WhereCompiler:
    """Compiles one where tree; ``data`` is the SQL expression of the row's JSONB."""

    def __init__(self, schema: Any, params: Params, site: int, source: SourceInfo | None,
                 table_alias: str = "v") -> None:
        self.schema, self.params, self.site = schema, params, site
        self.source, self.table_alias = source, table_alias

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
        return self._filter(value, f, data, path, top)

    def _filter(self, filters: dict[str, Any], f: FieldInfo, data: str,
                path: tuple[str | int, ...], top: bool) -> str:
        lhs, cast, lowercase = comparable(f, data, self.source if top else None,
                                          self.table_alias)
        parts = []
        for op_name, operand in filters.items():
            op = OPERATORS[op_name]
            if operand is None:
                raise bad_input(f"where.{_dotted(path)}.{op_name} is null; use isnull to "
                                "test for null")
            convert = to_lower_text if lowercase else to_text
            if op.operand == "list":
                placeholder = param(self.params, self.site, (*path, op_name), text_list(convert),
                                    f"text[]::{cast}[]")
            elif op.operand == "boolean":
                placeholder = param(self.params, self.site, (*path, op_name), to_text,
                                    "text::boolean")
            else:
                placeholder = param(self.params, self.site, (*path, op_name), convert,
                                    f"text::{cast}")
            parts.append(op.sql(lhs, placeholder))
        return _join(parts, "AND", "TRUE")

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
