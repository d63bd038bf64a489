"""Our variable coercion and argument templates agree with graphql-core's.

The hot path binds cached plans with fraiseql/compiler/binding.py instead of
graphql-core; these differential tests run both on the same documents and
variables and require the same values, and an error exactly where graphql-core
reports one.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, parse, validate
from graphql.execution.values import get_argument_values, get_variable_values

from examples.blog.app import schema as blog_schema
from fraiseql.compiler.binding import argument_template, coerce_variables
from fraiseql.errors import RequestError
from fraiseql.execution.engine import Prepared

DOCUMENT = """
query Q($id: ID!, $limit: Int = 5, $offset: Int, $after: DateTime, $statuses: [PostStatus!],
        $where: PostWhereInput, $order: [PostOrderBy!], $title: String = "x",
        $dir: OrderDirection) {
  post(id: $id) { id }
  posts(limit: $limit, offset: $offset, orderBy: $order,
        where: {createdAt: {gt: $after}, status: {in: $statuses}, _or: [{title: {eq: $title}}]}) {
    comments(limit: $limit) { id }
  }
  again: posts(where: $where, orderBy: {createdAt: DESC}) { id }
  third: posts(orderBy: {createdAt: $dir}, where: {status: {in: DRAFT}}) { id }
}
mutation M($input: CreatePostInput!, $tags: [String!]) {
  createPost(input: $input) { __typename }
  other: createPost(input: {authorId: "a", title: "t", body: "b", tagSlugs: $tags}) { __typename }
}
"""
ID = "39201609-d980-3efb-38f4-1f440309a429"
CASES: list[tuple[str, dict[str, Any]]] = [
    ("Q", {"id": ID}),
    ("Q", {"id": ID, "limit": None, "offset": 3}),
    ("Q", {"id": ID, "limit": 2, "after": "2024-01-01T00:00:00Z"}),
    ("Q", {"id": ID, "after": "2024-01-01"}),  # no offset: refused
    ("Q", {"id": ID, "statuses": ["DRAFT", "PUBLISHED"]}),
    ("Q", {"id": ID, "statuses": "DRAFT"}),  # a single value is a list of one
    ("Q", {"id": ID, "statuses": ["draft"]}),  # stored value, not the GraphQL name
    ("Q", {"id": ID, "statuses": [None]}),
    ("Q", {"id": ID, "where": {"title": {"eq": "a"}, "_not": {"viewCount": {"gt": 3}}}}),
    ("Q", {"id": ID, "where": {"titel": {"eq": "a"}}}),
    ("Q", {"id": ID, "where": {"rating": {"in": ["4.5", 3]}}}),
    ("Q", {"id": ID, "where": None, "title": None}),
    ("Q", {"id": ID, "order": {"createdAt": "DESC"}}),
    ("Q", {"id": ID, "dir": "ASC"}),
    ("Q", {"id": ID, "dir": None}),
    ("Q", {"id": ID, "order": [{"createdAt": "SIDEWAYS"}]}),
    ("Q", {"id": None}),
    ("Q", {}),
    ("Q", {"id": 12}),
    ("Q", {"id": ID, "limit": "5"}),
    ("Q", {"id": ID, "limit": 2.5}),
    ("Q", {"id": ID, "limit": True}),
    ("M", {"input": {"authorId": ID, "title": "t", "body": "b"}}),
    ("M", {"input": {"authorId": ID, "title": "t", "body": "b", "status": "PUBLISHED",
                     "tagSlugs": ["x", "y"]}, "tags": None}),
    ("M", {"input": {"authorId": ID, "title": "t", "body": "b", "status": None}, "tags": []}),
    ("M", {"input": {"authorId": ID, "title": "t"}}),
    ("M", {"input": {"authorId": ID, "title": "t", "body": "b", "extra": 1}}),
    ("M", {"input": "not an object"}),
]


def _graphql_core(operation: Any, variables: dict[str, Any]) -> Any:
    coerced = get_variable_values(blog_schema.graphql, operation.variable_definitions, variables)
    if isinstance(coerced, list):
        return "error"
    return coerced


def _fields(operation: Any) -> list[Any]:
    root = blog_schema.graphql.get_root_type(operation.operation)
    assert root is not None
    found = []
    for selection in operation.selection_set.selections:
        found.append((root.fields[selection.name.value], selection))
        for inner in (selection.selection_set.selections if selection.selection_set else ()):
            if inner.arguments:
                item = root.fields[selection.name.value].type
                while hasattr(item, "of_type"):
                    item = item.of_type
                found.append((item.fields[inner.name.value], inner))
    return found


@pytest.mark.parametrize(("name", "variables"), CASES)
def test_coercion_agrees_with_graphql_core(name: str, variables: dict[str, Any]) -> None:
    document = parse(DOCUMENT)
    assert validate(blog_schema.graphql, document) == []
    operation = next(d for d in document.definitions
                     if getattr(d, "name", None) and d.name.value == name)
    prepared = Prepared(document, operation, blog_schema.graphql)
    expected = _graphql_core(operation, variables)
    try:
        ours: Any = coerce_variables(prepared.definitions, variables)
    except RequestError as exc:
        assert exc.code.value == "BAD_USER_INPUT"
        ours = "error"
    assert ours == expected
    if expected == "error":
        return
    for field_def, node in _fields(operation):
        try:
            theirs: Any = get_argument_values(field_def, node, expected)
        except GraphQLError:
            theirs = "error"
        try:
            mine: Any = argument_template(field_def, node)(ours)
        except RequestError:
            mine = "error"
        assert mine == theirs
