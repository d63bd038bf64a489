"""Learn each sql_source's real columns from the catalog, once per pool."""

from __future__ import annotations

from typing import Any

from fraiseql.compiler.context import NATIVE_COLUMN_TYPES, SourceInfo

_COLUMNS_SQL = """
SELECT c.relname AS source, a.attname AS column, format_type(a.atttypid, NULL) AS type,
       a.attnotnull AS not_null
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.oid = ANY($1::regclass[]) AND a.attnum > 0 AND NOT a.attisdropped
"""
_EXISTING_SQL = "SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL"


async def load_sources(conn: Any, names: list[str]) -> dict[str, SourceInfo]:
    """SourceInfo for every existing source; missing ones get an empty SourceInfo."""
    existing = [r["name"] for r in await conn.fetch(_EXISTING_SQL, names)]
    sources = {name: SourceInfo() for name in names}
    by_relname = {name.split(".")[-1]: name for name in existing}
    for row in await conn.fetch(_COLUMNS_SQL, existing):
        cast = NATIVE_COLUMN_TYPES.get(row["type"])
        name = by_relname.get(row["source"])
        if cast is not None and name is not None:
            sources[name].columns[row["column"]] = cast
            if row["not_null"]:
                sources[name].not_null |= {row["column"]}
    return sources
