"""``orderBy`` -> sort keys -> ORDER BY, with casts from the declared field types.

An ``orderBy`` value is a list of objects that each set exactly one field: a
scalar field to an ``OrderDirection``, or an embedded object field to that
object's own ``<Type>OrderBy`` (any depth). Every ordering ends with a tiebreak
on ``id``, ascending (the real column when the source has one, else the ``id``
field of ``data``), so the keys of a row are unique: the connection's keyset
cursors rely on it. An ordering that names ``id`` itself gets no tiebreak, so
``[{createdAt: DESC}, {id: DESC}]`` is all one direction: one row comparison in
a keyset, an index's natural order read backwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fraiseql.compiler.context import SourceInfo, bad_input
from fraiseql.compiler.sql import ident, literal
from fraiseql.compiler.where import comparable
from fraiseql.schema.model import FieldInfo, ObjectInfo

# OrderDirection value -> (descending, nulls first). ASC and DESC keep PostgreSQL's
# defaults: nulls sort as larger than every value (last ascending, first descending).
DIRECTIONS: dict[str, tuple[bool, bool]] = {
    "ASC": (False, False), "DESC": (True, True),
    "ASC_NULLS_FIRST": (False, True), "ASC_NULLS_LAST": (False, False),
    "DESC_NULLS_FIRST": (True, True), "DESC_NULLS_LAST": (True, False),
}


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY term and what a keyset comparison needs to know about it."""

    label: str  # e.g. "author.fullName": for messages and the cursor fingerprint
    expr: str  # SQL expression of the value
    cast: str  # its PostgreSQL type
    descending: bool
    nulls_first: bool
    nullable: bool  # may the value be null (a nullable field, or one under one)
    tiebreak: bool = False  # the id appended to every ordering (rendered bare, as before)

    def sql(self) -> str:
        """The ORDER BY term; a NULLS clause only where it differs from the default."""
        if self.tiebreak and not self.descending:
            return self.expr
        term = f"{self.expr} {'DESC' if self.descending else 'ASC'}"
        if self.nullable and self.nulls_first != self.descending:
            term += " NULLS FIRST" if self.nulls_first else " NULLS LAST"
        return term

    def reversed(self) -> SortKey:
        """The same key read backwards (nulls change ends too)."""
        return replace(self, descending=not self.descending, nulls_first=not self.nulls_first)

    def spec(self) -> str:
        """The key's identity for a cursor fingerprint."""
        return f"{self.label}:{'D' if self.descending else 'A'}{'F' if self.nulls_first else 'L'}"


def sort_keys(order_by: list[dict[str, Any]] | None, obj: ObjectInfo, source: SourceInfo,
              objects: dict[str, ObjectInfo], alias: str = "v") -> list[SortKey]:
    """The sort keys of an ``orderBy`` value, ending in the tiebreak on id if there is one."""
    keys: list[SortKey] = []
    for index, item in enumerate(order_by or []):
        keys.append(_key(item, obj, f"{alias}.data", source, objects, alias, f"orderBy[{index}]",
                         "", False))
    tiebreak = id_key(obj, source, alias)
    if tiebreak is not None and not any(k.expr == tiebreak.expr for k in keys):
        keys.append(tiebreak)
    return keys


def id_key(obj: ObjectInfo, source: SourceInfo, alias: str) -> SortKey | None:
    """The tiebreak, ascending: the id column, else the declared ``id`` field of data."""
    if source.has_id:
        return SortKey("id", f"{alias}.{ident('id')}", source.columns["id"], False, False,
                       False, tiebreak=True)
    field = next((f for f in obj.fields.values() if f.python_name == "id"), None)
    if field is None or field.type.kind not in ("scalar", "enum"):
        return None
    expr, cast, _ = comparable(field, f"{alias}.data", None, alias)
    return SortKey("id", expr, cast, False, False, False, tiebreak=True)


def order_by_sql(order_by: list[dict[str, Any]] | None, obj: ObjectInfo,
                 source: SourceInfo, objects: dict[str, ObjectInfo], alias: str = "v") -> str:
    """ORDER BY terms (without the keyword), always ending in a tiebreak on id."""
    return order_terms(sort_keys(order_by, obj, source, objects, alias))


def order_terms(keys: list[SortKey]) -> str:
    return ", ".join(key.sql() for key in keys)


def one_entry(item: Any, where: str) -> tuple[str, Any]:
    """The one (field, direction) an orderBy item sets; BAD_USER_INPUT for none, several
    or a null direction."""
    if not isinstance(item, dict) or len(item) != 1:
        given = ", ".join(item) if isinstance(item, dict) else ""
        raise bad_input(f"{where} must set exactly one field, got "
                        f"{len(item) if isinstance(item, dict) else 0} ({given or 'none'})")
    (name, value), = item.items()
    if value is None:
        raise bad_input(f"{where}.{name} is null; use ASC or DESC")
    return name, value


def _key(item: Any, obj: ObjectInfo, data: str, source: SourceInfo | None,
         objects: dict[str, ObjectInfo], alias: str, where: str, label: str,
         under_nullable: bool) -> SortKey:
    name, value = one_entry(item, where)
    where, label = f"{where}.{name}", f"{label}.{name}" if label else name
    f: FieldInfo = obj.fields[name]
    nullable = under_nullable or f.type.nullable
    if f.type.kind == "object":
        # The nested object's JSONB; its fields are never real columns of the source.
        nested = f"({data}->{literal(f.python_name)})"
        return _key(value, objects[f.type.name], nested, None, objects, alias, where, label,
                    nullable)
    descending, nulls_first = DIRECTIONS[value]
    expr, cast, _ = comparable(f, data, source, alias)
    return SortKey(label, expr, cast, descending, nulls_first, nullable)
