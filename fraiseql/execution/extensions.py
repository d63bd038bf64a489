"""Boot check: every PostgreSQL extension the schema's field types need is installed.

An operator is advertised only if it runs: a schema with Vector (pgvector) or
LTree fields on a database without the extension fails at startup, naming the
fields and the fix, instead of failing on the first filter.
"""

from __future__ import annotations

from typing import Any

from fraiseql.errors import DatabaseSetupError


def required_extensions(schema: Any) -> dict[str, list[str]]:
    """Extension name -> the fields (Type.field) whose scalar needs it."""
    needed: dict[str, list[str]] = {}
    for obj in schema.objects.values():
        for f in obj.fields.values():
            scalar = f.type.named().scalar
            if scalar is not None and scalar.extension is not None:
                needed.setdefault(scalar.extension, []).append(f"{obj.name}.{f.graphql_name}")
    return needed


async def check_extensions(conn: Any, schema: Any) -> None:
    """Raise DatabaseSetupError if a needed extension is missing from the database."""
    needed = required_extensions(schema)
    if not needed:
        return
    installed = {row[0] for row in await conn.fetch("SELECT extname FROM pg_extension")}
    missing = [name for name in needed if name not in installed]
    if missing:
        raise DatabaseSetupError("; ".join(
            f"fields {', '.join(needed[name])} need the PostgreSQL extension {name!r}, which "
            f"is not installed in this database (run CREATE EXTENSION {name}; in a migration)"
            for name in missing))
