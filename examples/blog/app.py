"""The blog example: users, posts, comments and tags, read from views.

Run it with `fraiseql dev` in this folder (embedded PostgreSQL), or against your
own database with `fraiseql serve examples.blog.app:app`.
"""

from __future__ import annotations

import datetime
import decimal
import enum

import fraiseql
from fraiseql import ID


@fraiseql.enum
class PostStatus(enum.Enum):
    """Where a post is in its life."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@fraiseql.type(sql_source="v_user")
class User:
    """Someone who writes posts and comments."""

    id: ID
    username: str
    email: str
    full_name: str
    bio: str | None
    is_active: bool
    created_at: datetime.datetime
    post_count: int


@fraiseql.type
class Author:
    """The author embedded in a post."""

    id: ID
    username: str
    full_name: str
    email: str
    bio: str | None


@fraiseql.type
class CommentAuthor:
    """The author embedded in a comment."""

    id: ID
    username: str
    full_name: str


@fraiseql.type(sql_source="v_tag")
class Tag:
    """A topic a post can be filed under."""

    id: ID
    name: str
    slug: str


@fraiseql.type(sql_source="v_comment")
class Comment:
    """A reader's reply to a post."""

    id: ID
    body: str
    created_at: datetime.datetime
    author: CommentAuthor


@fraiseql.type(sql_source="v_post")
class Post:
    """A blog post with its author, tags and comments embedded."""

    id: ID
    title: str
    slug: str
    body: str
    status: PostStatus
    published_at: datetime.datetime | None
    view_count: int
    rating: decimal.Decimal | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    author: Author
    tags: list[Tag]
    comments: list[Comment]


@fraiseql.query
def posts(limit: int = 20, offset: int = 0) -> list[Post]:
    """Posts, in id order unless orderBy says otherwise."""


@fraiseql.query
def post(id: ID) -> Post | None:
    """One post by id."""


@fraiseql.query
def users(limit: int = 20, offset: int = 0) -> list[User]:
    """Users."""


@fraiseql.query
def user(id: ID) -> User | None:
    """One user by id."""


@fraiseql.query
def user_by_username(username: str) -> User | None:
    """One user by username."""


@fraiseql.query
def comments(limit: int = 20, offset: int = 0) -> list[Comment]:
    """Comments."""


@fraiseql.query
def tags() -> list[Tag]:
    """Every tag."""


@fraiseql.query
async def top_posts(info, count: int = 5) -> list[Post]:  # type: ignore[no-untyped-def]
    """The most viewed published posts: a Python resolver using the same projection."""
    return await info.context["db"].find(
        "v_post", info, where={"status": {"eq": PostStatus.PUBLISHED}},
        order_by=[{"viewCount": "DESC"}], limit=count)


schema = fraiseql.build_schema(
    queries=[posts, post, users, user, user_by_username, comments, tags, top_posts])
app = fraiseql.create_app(schema)
