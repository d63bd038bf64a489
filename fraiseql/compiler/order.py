"""``orderBy`` -> ORDER BY, with casts from the declared field types."""

from __future__ import annotations

from typing import Any

from fraiseql.compiler.context import SourceInfo, bad_input
from fraiseql.compiler.sql import ident
from fraiseql.compiler.where import comparable
from fraiseql.schema.model import ObjectInfo


def order_by_sql(order_by: list[dict[str, Any]] | None, obj: ObjectInfo,
                 source: SourceInfo, alias: str = "v") -> str:
    """ORDER BY terms (without the keyword), always ending in a tiebreak on id."""
    terms: list[str] = []
    ordered_on_id = False
    for index, item in enumerate(order_by or []):
        if len(item) != 1:
            raise bad_input(f"orderBy[{index}] must set exactly one field, got "
                            f"{len(item)} ({', '.join(item) or 'none'})")
        (name, direction), = item.items()
        if direction is None:
            raise bad_input(f"orderBy[{index}].{name} is null; use ASC or DESC")
        f = obj.fields[name]
        terms.append(f"{comparable(f, f'{alias}.data', source, alias)[0]} {'DESC' if direction == 'DESC' else 'ASC'}")
        ordered_on_id = ordered_on_id or f.python_name == "id"
    if source.has_id and not ordered_on_id:
        terms.append(f"{alias}.{ident('id')}")
    return ", ".join(terms)
