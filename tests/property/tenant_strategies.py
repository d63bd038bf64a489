"""Hypothesis strategies for requests against the two-tenant fixture.

Operands favour what tells tenants apart: the other tenant's names, tags, emails
and ids (overlapping ids exist in both tenants), so a filter that would select a
foreign row if the tenant predicate were missing is common.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from hypothesis import strategies as st

TENANT_NAMES = ["acme", "globex"]
tenants = st.sampled_from(TENANT_NAMES)
# Ids both tenants have (1..9), only acme has (10..12), neither has (0, 13+, negative);
# created projects take 13 and up in acme, 10 and up in globex.
ids = st.integers(-1, 24)

INTS = st.integers(-1, 15)
# Values that split a tenant's rows (some match, some do not) are the common case.
BUDGETS = st.sampled_from([0, 1000, 3000, 5000, 9000, 12000, 15000])
NAMES = ["acme project 1", "acme project 10", "acme project 12", "globex project 3",
         "globex project 9", "acme", "globex", "project", "project 1", "ACME", "Globex Project",
         "1", "2", "3", "5", "0", " ", "", "acme n1", "globex n2", "n", "project 1", "t 2",
         "acme project 5", "globex project 5", "PROJECT 7"]
LIKE = ["acme%", "%project 1_", "globex%", "%1", "_cme%", "%", "%N%", "GLOBEX%"]
REGEX = ["^acme", "globex", "1$", "^g.*9$", "project 1", "n.*1", "^A", "^acme n"]
TENANT_VALUES = ["acme", "globex", "ACME", "initech", ""]
EMAILS = ["acme1@example.com", "globex1@example.com", "example", "@example.com",
          "ann@example.com", "gus", "acme"]
MEMBER_NAMES = ["acme member 1", "globex member 1", "member 1", "acme", "globex", "member"]
MEMBER_EMAILS = ["m1@acme.test", "m1@globex.test", "@acme.test", "globex", "m2"]
TAGS = ["acme", "globex", "p0", "p1", "p2", "x"]


def int_filter(values: st.SearchStrategy[int]) -> st.SearchStrategy[dict[str, Any]]:
    one = st.one_of(
        st.tuples(st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]), values),
        st.tuples(st.sampled_from(["in", "nin"]), st.lists(values, max_size=4)),
        st.tuples(st.just("isnull"), st.booleans()))
    return st.lists(one, min_size=1, max_size=2).map(dict)


def string_filter(pool: list[str], ordered: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Operators on a string field; gt/lt only when the database orders text like Python."""
    values = st.sampled_from(pool)
    compare = ["eq", "neq", "contains", "icontains", "startsWith", "istartsWith", "endsWith",
               "iendsWith"] + (["gt", "gte", "lt", "lte"] if ordered else [])
    one = st.one_of(
        st.tuples(st.sampled_from(compare), values),
        st.tuples(st.sampled_from(["like", "ilike"]), st.sampled_from(LIKE)),
        st.tuples(st.sampled_from(["regex", "iregex"]), st.sampled_from(REGEX)),
        st.tuples(st.sampled_from(["in", "nin"]), st.lists(values, max_size=3)),
        st.tuples(st.just("isnull"), st.booleans()))
    return st.lists(one, min_size=1, max_size=2).map(dict)


def tags_filter() -> st.SearchStrategy[dict[str, Any]]:
    tag_lists = st.lists(st.sampled_from(TAGS), max_size=3)
    one = st.one_of(
        st.tuples(st.sampled_from(["contains", "containedBy", "overlaps"]), tag_lists),
        st.tuples(st.sampled_from(["lenEq", "lenGt", "lenGte", "lenLt", "lenLte"]),
                  st.integers(0, 3)),
        st.tuples(st.just("isnull"), st.booleans()))
    return st.lists(one, min_size=1, max_size=2).map(dict)


def merged(fields: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """One to two fields' filters in one object (an implicit AND)."""
    return st.lists(fields, min_size=1, max_size=2).map(lambda ds: reduce(lambda a, b: {**a, **b},
                                                                            ds))


def member_where(ordered: bool) -> st.SearchStrategy[dict[str, Any]]:
    return merged(st.one_of(
        st.builds(lambda f: {"name": f}, string_filter(MEMBER_NAMES, ordered)),
        st.builds(lambda f: {"email": f}, string_filter(MEMBER_EMAILS, ordered))))


def project_where(ordered: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Random where trees over every field a non-admin caller may filter on."""
    leaf = merged(st.one_of(
        st.builds(lambda f: {"id": f}, int_filter(INTS)),
        st.builds(lambda f: {"name": f}, string_filter(NAMES, ordered)),
        st.builds(lambda f: {"tenant": f}, string_filter(TENANT_VALUES, ordered)),
        st.builds(lambda f: {"ownerEmail": f}, string_filter(EMAILS, ordered)),
        st.builds(lambda f: {"budget": f}, int_filter(BUDGETS)),
        st.builds(lambda f: {"tags": f}, tags_filter()),
        st.builds(lambda f: {"members": {"any": f}}, member_where(ordered)),
        st.builds(lambda b: {"members": {"isEmpty": b}}, st.booleans())))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"_and": xs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"_or": xs}),
        inner.map(lambda x: {"_not": x})), max_leaves=5)


def wheres(ordered: bool) -> st.SearchStrategy[dict[str, Any] | None]:
    """No where (a quarter of the time) or a tree."""
    tree = project_where(ordered)
    return st.one_of(st.none(), tree, tree, tree)


DIRECTION = st.sampled_from(["ASC", "DESC", "ASC_NULLS_FIRST", "ASC_NULLS_LAST",
                             "DESC_NULLS_FIRST", "DESC_NULLS_LAST"])
order_bys = st.one_of(st.none(), st.lists(
    st.builds(lambda f, d: {f: d},
              st.sampled_from(["id", "tenant", "name", "ownerEmail", "budget"]), DIRECTION),
    max_size=3, unique_by=lambda item: next(iter(item))))

# Usage facts: hours 1..n (one per project), kind "build" (even) or "test" (odd).
usage_wheres = st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "hours": st.one_of(
        st.tuples(st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]),
                  st.integers(0, 13).map(float)),
        st.tuples(st.sampled_from(["in", "nin"]),
                  st.lists(st.integers(0, 13).map(float), max_size=3))).map(lambda t: dict([t])),
    "kind": st.one_of(
        st.tuples(st.sampled_from(["eq", "neq"]), st.sampled_from(["build", "test", "other"])),
        st.tuples(st.just("in"), st.lists(st.sampled_from(["build", "test", "other"]),
                                          max_size=2))).map(lambda t: dict([t]))}))
