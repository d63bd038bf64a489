"""FraiseQL serving the peer benchmark harness's canonical schema.

The harness (https://.../bench, copied to /tmp/bench) loads `users`, `posts` and
`comments`; `schema.sql` in this folder adds the schema `fraiseql_bench` with the
projection tables this app reads (`tv_user`, `tv_post`: `id`, filter/order columns,
and a `data` jsonb with snake_case keys, kept in sync by triggers on the harness
tables) and the write function `fn_create_comment`. Start it through
`benchmarks/bench-target.toml` (see benchmarks/README.md).

The canonical SDL it serves (from the harness README), in our naming:

    user(id: ID!): User
    post(id: ID!): Post
    posts(where, orderBy, limit: Int = 20, offset: Int = 0): [Post!]!
    createComment(input: CreateCommentInput!): Comment!
"""

from __future__ import annotations

import datetime

import fraiseql
from fraiseql import ID


@fraiseql.type(sql_source="fraiseql_bench.tv_user")
class User:
    """A user."""

    id: ID
    username: str
    email: str
    full_name: str
    bio: str | None
    is_active: bool
    post_count: int
    follower_count: int
    created_at: datetime.datetime


@fraiseql.type(sql_source="fraiseql_bench.v_comment")
class Comment:
    """A comment, embedded in its post (oldest first) with its author.

    A mutation returning the entity directly needs a view-backed type; `createComment`
    answers from the entity `fn_create_comment` returns, not from the view.
    """

    id: ID
    body: str
    like_count: int
    created_at: datetime.datetime
    author: User


@fraiseql.type(sql_source="fraiseql_bench.tv_post")
class Post:
    """A post with its author and all its comments embedded."""

    id: ID
    title: str
    slug: str
    body: str
    tags: list[str]
    category: str | None
    view_count: int
    like_count: int
    is_published: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    author: User
    comments: list[Comment]


@fraiseql.query
def user(id: ID) -> User | None:
    """One user by id."""


@fraiseql.query
def post(id: ID) -> Post | None:
    """One post by id."""


@fraiseql.query
def posts(limit: int = 20, offset: int = 0) -> list[Post]:
    """Posts; `where` and `orderBy` come with every list query."""


@fraiseql.input
class CreateCommentInput:
    """A new comment."""

    post_id: ID
    author_id: ID
    body: str


@fraiseql.mutation(function="fraiseql_bench.fn_create_comment", operation="INSERT")
class CreateComment:
    """Add a comment to a post; returns the comment itself."""

    input: CreateCommentInput
    success: Comment


schema = fraiseql.build_schema(queries=[user, post, posts], mutations=[CreateComment])
app = fraiseql.create_app(schema)
