"""Plan and document caches: what makes a new plan, what only rebinds parameters."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLBoolean, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLString

import fraiseql
from fraiseql.compiler.cache import PlanCache, variable_shape, variables_shape
from fraiseql.compiler.context import SourceInfo
from fraiseql.compiler.plan import Plan
from fraiseql.config import Settings
from fraiseql.errors import ErrorCode, RequestError
from fraiseql.execution.engine import Engine


def blog_schema() -> Any:
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from examples.blog.app import schema
    return schema


def new_engine(**settings: Any) -> Engine:
    app = fraiseql.create_app(blog_schema(), settings=Settings(**settings))
    app.engine.sources = {"tv_post": SourceInfo({"id": "uuid", "created_at": "timestamptz"}),
                          "v_tag": SourceInfo({})}
    return app.engine


@pytest.fixture
def engine() -> Engine:
    return new_engine()


def sql_of(plan: Plan) -> list[str]:
    return [root.sql for root in plan.roots if root.kind == "sql"]


# --- one plan, many values ----------------------------------------------------------

BY_TITLE = """query ($title: String!, $ids: [ID!]!, $limit: Int!) {
  posts(where: {title: {eq: $title}, id: {in: $ids}}, limit: $limit) { id }
}"""


def test_scalar_values_reuse_one_plan_with_new_parameters(engine: Engine) -> None:
    first_vars = {"title": "a", "ids": ["6f9619ff-8b86-d011-b42d-00c04fc964ff"], "limit": 1}
    second_vars = {"title": "it's b", "ids": ["6f9619ff-8b86-d011-b42d-00c04fc964ff",
                                             "0b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"], "limit": 7}
    first = engine.compile(BY_TITLE, first_vars)
    second = engine.compile(BY_TITLE, second_vars)
    assert second is first
    assert len(engine.plans) == 1
    # Order: where params in the type's field order (id before title), then the page.
    assert engine.bind(first, first_vars) == [
        [["6f9619ff-8b86-d011-b42d-00c04fc964ff"], "a", 1, 0]]
    assert engine.bind(first, second_vars) == [
        [["6f9619ff-8b86-d011-b42d-00c04fc964ff", "0b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"],
         "it's b", 7, 0]]


def test_page_bounds_are_checked_on_a_cached_plan(engine: Engine) -> None:
    plan = engine.compile(BY_TITLE, {"title": "a", "ids": [], "limit": 5})
    with pytest.raises(RequestError) as info:
        engine.bind(plan, {"title": "a", "ids": [], "limit": 5000})
    assert info.value.code == ErrorCode.BAD_USER_INPUT
    assert "limit on posts must be between 0 and 1000, got 5000" in info.value.message
    # compile() returns the cached plan; the value is checked when it is bound.
    negative = {"title": "a", "ids": [], "limit": -1}
    assert engine.compile(BY_TITLE, negative) is plan
    with pytest.raises(RequestError, match="limit on posts must be between 0 and 1000, got -1"):
        engine.bind(plan, negative)
    assert len(engine.plans) == 1
    # A plan that was never compiled checks while compiling.
    with pytest.raises(RequestError, match="offset on posts must not be negative, got -2"):
        engine.compile("{ posts(offset: -2) { id } }")


# --- what changes the SQL makes a new plan -----------------------------------------

def test_a_variable_switching_between_null_and_a_value(engine: Engine) -> None:
    query = "query ($n: Int) { tags(limit: $n) { name } }"
    with_null = engine.compile(query, {"n": None})
    with_value = engine.compile(query, {"n": 3})
    assert with_value is not with_null
    assert len(engine.plans) == 2
    assert "LIMIT 1000" in sql_of(with_null)[0]  # the cap, written in the SQL
    assert "LIMIT $1::int8" in sql_of(with_value)[0]
    assert engine.bind(with_null, {"n": None}) == [[0]]
    assert engine.bind(with_value, {"n": 3}) == [[3, 0]]
    assert engine.compile(query, {"n": None}) is with_null
    assert engine.compile(query, {"n": 9}) is with_value
    absent = engine.compile(query, {})  # absent is not null: the default applies
    assert absent is not with_null
    assert sql_of(absent) == sql_of(with_value)
    assert engine.bind(absent, {}) == [[1000, 0]]


def test_a_nested_window_switching_between_null_and_a_value(engine: Engine) -> None:
    query = "query ($n: Int) { posts { tags(limit: $n) { name } } }"
    unbounded = engine.compile(query, {"n": None})
    bounded = engine.compile(query, {"n": 2})
    assert bounded is not unbounded
    assert "ordinality <=" not in sql_of(unbounded)[0]
    assert "e1.ordinality <= 0 + $1::int8" in sql_of(bounded)[0]


def test_a_boolean_driving_skip_makes_its_own_plan(engine: Engine) -> None:
    query = "query ($hide: Boolean!) { posts { id title @skip(if: $hide) } }"
    shown = engine.compile(query, {"hide": False})
    hidden = engine.compile(query, {"hide": True})
    assert hidden is not shown
    assert len(engine.plans) == 2
    assert "'title'" in sql_of(shown)[0]
    assert "'title'" not in sql_of(hidden)[0]
    assert engine.compile(query, {"hide": False}) is shown


def test_an_enum_order_direction_makes_its_own_plan(engine: Engine) -> None:
    query = "query ($dir: OrderDirection!) { posts(orderBy: {createdAt: $dir}) { id } }"
    ascending = engine.compile(query, {"dir": "ASC"})
    descending = engine.compile(query, {"dir": "DESC"})
    assert descending is not ascending
    assert len(engine.plans) == 2
    assert 'ORDER BY v."created_at" ASC, v."id"' in sql_of(ascending)[0]
    assert 'ORDER BY v."created_at" DESC, v."id"' in sql_of(descending)[0]
    whole = "query ($o: [PostOrderBy!]) { posts(orderBy: $o) { id } }"
    by_views = engine.compile(whole, {"o": [{"viewCount": "DESC"}]})
    by_both = engine.compile(whole, {"o": [{"viewCount": "DESC"}, {"title": "ASC"}]})
    assert by_both is not by_views
    assert engine.compile(whole, {"o": [{"viewCount": "ASC"}]}) is not by_views
    assert engine.compile(whole, {"o": [{"viewCount": "DESC"}]}) is by_views


def test_where_structure_changes_the_plan_but_values_do_not(engine: Engine) -> None:
    query = "query ($w: PostWhereInput) { posts(where: $w) { id } }"
    by_title = engine.compile(query, {"w": {"title": {"eq": "a"}}})
    assert engine.compile(query, {"w": {"title": {"eq": "b"}}}) is by_title
    by_slug = engine.compile(query, {"w": {"slug": {"eq": "a"}}})
    title_range = engine.compile(query, {"w": {"title": {"gt": "a", "lt": "z"}}})
    nothing = engine.compile(query, {"w": None})
    assert len({id(p) for p in (by_title, by_slug, title_range, nothing)}) == 4
    assert "'slug'" in sql_of(by_slug)[0] and "'title'" not in sql_of(by_slug)[0]
    assert "WHERE TRUE" in sql_of(nothing)[0]
    assert len(engine.plans) == 4


def test_operation_name_is_part_of_the_key(engine: Engine) -> None:
    document = "query A { posts { id } } query B { posts { title } }"
    a = engine.compile(document, None, "A")
    b = engine.compile(document, None, "B")
    assert a is not b
    assert "'title'" in sql_of(b)[0] and "'title'" not in sql_of(a)[0]
    with pytest.raises(RequestError, match="operationName"):
        engine.compile(document)


# --- bounds ----------------------------------------------------------------------------

def test_the_plan_cache_is_a_bounded_lru() -> None:
    engine = new_engine(plan_cache_size=2)
    assert engine.plans.size == 2
    a = engine.compile("{ posts { id } }")
    b = engine.compile("{ posts { title } }")
    assert engine.compile("{ posts { id } }") is a  # a is now the most recent
    c = engine.compile("{ posts { slug } }")  # evicts b
    assert len(engine.plans) == 2
    assert engine.compile("{ posts { id } }") is a
    assert engine.compile("{ posts { slug } }") is c
    b_again = engine.compile("{ posts { title } }")
    assert b_again is not b
    assert sql_of(b_again) == sql_of(b)
    assert len(engine.plans) == 2


def test_create_app_passes_the_cache_size() -> None:
    app = fraiseql.create_app(blog_schema(), plan_cache_size=2)
    assert app.engine.plans.size == 2
    assert app.engine.documents.size == 2
    for n in range(5):
        app.engine.compile(f"{{ posts(limit: {n + 1}) {{ id }} }}")
    assert len(app.engine.plans) == 2


def test_plan_cache_unit() -> None:
    cache = PlanCache(2)
    plans = [Plan("query", [], []) for _ in range(3)]
    cache.put("a", plans[0])
    cache.put("b", plans[1])
    assert cache.get("a") is plans[0]
    cache.put("c", plans[2])
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (plans[0], plans[2])
    cache.clear()
    assert len(cache) == 0


# --- documents ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "code"), [
    ("{ posts { id ", ErrorCode.GRAPHQL_PARSE_FAILED),
    ("{ posts { nope } }", ErrorCode.GRAPHQL_VALIDATION_FAILED),
])
def test_failed_documents_are_cached_too(engine: Engine, text: str, code: ErrorCode) -> None:
    first = engine.documents.get(text)
    assert first.document is None
    assert first.code == code
    assert len(first.errors) == 1
    assert engine.documents.get(text) is first
    with pytest.raises(RequestError) as info:
        engine.compile(text)
    assert info.value.message == first.errors[0].message
    assert len(engine.plans) == 0


def test_good_documents_are_parsed_once(engine: Engine) -> None:
    checked = engine.documents.get("{ posts { id } }")
    assert checked.document is not None and checked.errors == ()
    assert engine.documents.get("{ posts { id } }") is checked
    assert engine.documents.get("{ posts { id }}") is not checked  # the text is the key


def test_the_document_cache_is_bounded() -> None:
    engine = new_engine(plan_cache_size=2)
    texts = ["{ posts { id } }", "{ bad", "{ posts { title } }"]
    checked = [engine.documents.get(t) for t in texts]
    assert engine.documents.get(texts[2]) is checked[2]
    assert engine.documents.get(texts[0]) is not checked[0]  # evicted, checked again


# --- the shape function ------------------------------------------------------------------

def test_variable_shape_keeps_only_what_changes_sql() -> None:
    int_list = GraphQLList(GraphQLNonNull(GraphQLInt))
    assert variable_shape(5, GraphQLInt) == variable_shape(6, GraphQLNonNull(GraphQLInt))
    assert variable_shape("x", GraphQLString) == "str"
    assert variable_shape(None, GraphQLString) is None
    assert variable_shape([1], int_list) == variable_shape([1, 2, 3], int_list) == "scalars"
    assert variable_shape(True, GraphQLBoolean) is True
    assert variable_shape(False, GraphQLBoolean) is False
    bool_list = GraphQLList(GraphQLBoolean)
    assert variable_shape([True], bool_list) != variable_shape([False], bool_list)
    types = {"a": GraphQLInt, "b": GraphQLString}
    assert variables_shape({"a": 1}, types) != variables_shape({"a": 1, "b": None}, types)
    assert variables_shape({"a": 1, "zzz": "undeclared"}, types) == variables_shape(
        {"a": 2}, types)
