"""A plain-Python model of the two-tenant fixture (tests/tenants_db.py).

It knows every tenant's projects and usage rows as the SQL in ``tenants_db.SETUP``
writes them, folds in the projects ``createProject`` adds, and answers what each
entry path must return to a caller of one tenant: a filtered, ordered page, a
count, a connection page before/after a cursor position (of any tenant's row), an
aggregate. ``where`` trees are decided by the where-compiler's own model
(where_model.py); text is ordered by ranks PostgreSQL gave the fixture's strings
(the database's collation decides, not Python's code-point order).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from typing import Any

import asyncpg

from tests.property.where_model import WhereModel

TENANT_OF_USER = {"ann": "acme", "gus": "globex"}  # the callers' subjects
# orderBy field -> (key in the stored document, compared as text)
ORDER_FIELDS = {"id": ("id", False), "tenant": ("tenant", True), "name": ("name", True),
                "ownerEmail": ("owner_email", True), "budget": ("budget", False)}
# OrderDirection -> (descending, nulls first); ASC/DESC keep PostgreSQL's defaults.
DIRECTIONS = {"ASC": (False, False), "DESC": (True, True), "ASC_NULLS_FIRST": (False, True),
              "ASC_NULLS_LAST": (False, False), "DESC_NULLS_FIRST": (True, True),
              "DESC_NULLS_LAST": (True, False)}


def initial_project(tenant: str, i: int) -> dict[str, Any]:
    """Project ``i`` of ``tenant`` as v_project's ``data`` holds it (tenants_db.SETUP)."""
    return {"id": i, "tenant": tenant, "name": f"{tenant} project {i}",
            "owner_email": None if i % 4 == 0 else f"{tenant}{i}@example.com",
            "budget": None if i % 5 == 0 else i * 1000, "secret": f"{tenant} secret {i}",
            "tags": [tenant, f"p{i % 3}"],
            "members": [{"name": f"{tenant} member {i}", "email": f"m{i}@{tenant}.test"}]}


def initial_usage(tenant: str, i: int) -> dict[str, Any]:
    """The tf_usage row of project ``i`` of ``tenant``."""
    return {"tenant": tenant, "project_id": i, "hours": float(i),
            "kind": "build" if i % 2 == 0 else "test",
            "occurred_at": datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
            + datetime.timedelta(days=i)}


def as_graphql(doc: dict[str, Any]) -> dict[str, Any]:
    """The response object of ``PROJECT_FIELDS`` for a caller allowed every read field."""
    return {"id": doc["id"], "tenant": doc["tenant"], "name": doc["name"], "tags": doc["tags"],
            "ownerEmail": doc["owner_email"], "budget": doc["budget"],
            "members": [{"name": m["name"], "email": m["email"]} for m in doc["members"]]}


class TenantModel:
    """Every tenant's rows, and what each read of one tenant returns."""

    def __init__(self, sizes: dict[str, int], where: WhereModel) -> None:
        self.projects = {t: [initial_project(t, i) for i in range(1, n + 1)]
                         for t, n in sizes.items()}
        self.usage = {t: [initial_usage(t, i) for i in range(1, n + 1)]
                      for t, n in sizes.items()}
        self.where = where
        self.ranks: dict[str, int] = {}

    def __repr__(self) -> str:  # hypothesis prints it with a failing example
        return f"TenantModel({ {t: len(rows) for t, rows in self.projects.items()} })"

    # --- text order: PostgreSQL's -------------------------------------------------------

    def texts(self) -> set[str]:
        return {doc[key] for rows in self.projects.values() for doc in rows
                for key in ("tenant", "name", "owner_email") if doc[key] is not None}

    async def learn_order(self, conn: asyncpg.Connection, extra: Iterable[str] = ()) -> None:
        """Rank every text the model holds (and ``extra``) as the database sorts them."""
        wanted = self.texts() | set(extra)
        if wanted <= self.ranks.keys():
            return
        ordered = await conn.fetchval("SELECT array_agg(s ORDER BY s) FROM unnest($1::text[]) s",
                                      sorted(wanted))
        self.ranks = {text: rank for rank, text in enumerate(ordered)}

    # --- rows ---------------------------------------------------------------------------

    def row(self, tenant: str, project_id: int) -> dict[str, Any] | None:
        return next((d for d in self.projects[tenant] if d["id"] == project_id), None)

    def selected(self, tenant: str, where: dict[str, Any] | None) -> list[dict[str, Any]]:
        """``tenant``'s rows matching ``where``, in id order."""
        rows = self.projects[tenant]
        return [d for d in rows if where is None or self.where.matches(where, d)]

    def ordered(self, tenant: str, where: dict[str, Any] | None,
                order_by: list[dict[str, str]] | None) -> list[dict[str, Any]]:
        rows = self.selected(tenant, where)
        return sorted(rows, key=functools.cmp_to_key(self.comparator(order_by)))

    def comparator(self, order_by: list[dict[str, str]] | None) -> Any:
        """cmp(a, b) of the ORDER BY the compiler writes: the keys, then id ascending."""
        keys = []
        for item in order_by or []:
            [(field, direction)] = item.items()
            keys.append((*ORDER_FIELDS[field], *DIRECTIONS[direction]))
        if not any(key == "id" for key, *_ in keys):
            keys.append(("id", False, False, False))

        def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
            for key, text, descending, nulls_first in keys:
                x, y = a[key], b[key]
                if x is None or y is None:
                    if x is None and y is None:
                        continue
                    return (-1 if nulls_first else 1) * (1 if x is None else -1)
                if text:
                    x, y = self.ranks[x], self.ranks[y]
                order = (x > y) - (x < y)
                if order:
                    return -order if descending else order
            return 0

        return compare

    # --- entry paths --------------------------------------------------------------------

    def page(self, tenant: str, where: dict[str, Any] | None,
             order_by: list[dict[str, str]] | None, limit: int, offset: int | None
             ) -> list[dict[str, Any]]:
        rows = self.ordered(tenant, where, order_by)
        start = offset or 0
        return [as_graphql(d) for d in rows[start:start + limit]]

    def connection_page(self, tenant: str, where: dict[str, Any] | None,
                        order_by: list[dict[str, str]] | None, size: int, forward: bool,
                        cursor_row: dict[str, Any] | None) -> dict[str, Any]:
        """A page of ``size`` after (forward) / before (backward) ``cursor_row``'s position.

        ``cursor_row`` may be a row of another tenant: a cursor is a position.
        Returns the nodes and both pageInfo flags as documented on PageInfo.
        """
        rows = self.ordered(tenant, where, order_by)
        compare = self.comparator(order_by)
        if forward:
            beyond = [r for r in rows if cursor_row is None or compare(r, cursor_row) > 0]
            nodes = beyond[:size]
            has_next = len(beyond) > size
            has_previous = cursor_row is not None and any(compare(r, cursor_row) <= 0
                                                          for r in rows)
        else:
            before = [r for r in rows if cursor_row is None or compare(r, cursor_row) < 0]
            nodes = before[-size:] if size else []
            has_previous = len(before) > size
            has_next = cursor_row is not None and any(compare(r, cursor_row) >= 0
                                                      for r in rows)
        return {"nodes": [as_graphql(d) for d in nodes], "hasNextPage": has_next,
                "hasPreviousPage": has_previous, "totalCount": len(rows)}

    def aggregate(self, tenant: str, where: dict[str, Any] | None, by_kind: bool
                  ) -> list[dict[str, Any]]:
        """usageAggregate groups (sorted by kind), as floats."""
        rows = [u for u in self.usage[tenant] if usage_matches(where, u)]
        groups: dict[str | None, list[float]] = {}
        for u in rows:
            groups.setdefault(u["kind"] if by_kind else None, []).append(u["hours"])
        if not by_kind and not groups:
            groups[None] = []  # an aggregate without GROUP BY is one row, even of nothing
        found = []
        for kind, hours in sorted(groups.items(), key=lambda kv: kv[0] or ""):
            group: dict[str, Any] = {"count": len(hours),
                                     "sum": sum(hours) if hours else None,
                                     "avg": sum(hours) / len(hours) if hours else None,
                                     "min": min(hours, default=None),
                                     "max": max(hours, default=None)}
            if by_kind:
                group["kind"] = kind
            found.append(group)
        return found

    def create(self, tenant: str, actor: str, name: str) -> dict[str, Any]:
        """What fn_create_project inserts (and the mutation returns)."""
        new_id = max((d["id"] for d in self.projects[tenant]), default=0) + 1
        doc = {"id": new_id, "tenant": tenant, "name": f"{tenant} {name}",
               "owner_email": f"{actor}@example.com", "budget": None, "secret": None,
               "tags": [], "members": []}
        self.projects[tenant].append(doc)
        return doc


USAGE_TESTS = {
    "eq": lambda v, o: v == o, "neq": lambda v, o: v != o, "gt": lambda v, o: v > o,
    "gte": lambda v, o: v >= o, "lt": lambda v, o: v < o, "lte": lambda v, o: v <= o,
    "in": lambda v, o: v in o, "nin": lambda v, o: v not in o,
}


def usage_matches(where: dict[str, Any] | None, row: dict[str, Any]) -> bool:
    """A conjunction of non-null fields' filters (all the usage strategy draws)."""
    for field, filters in (where or {}).items():
        value = row[{"hours": "hours", "kind": "kind"}[field]]
        if not all(USAGE_TESTS[op](value, operand) for op, operand in filters.items()):
            return False
    return True
