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


@fraiseql.type(sql_source="tv_post")
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
        "tv_post", info, where={"status": {"eq": PostStatus.PUBLISHED}},
        order_by=[{"viewCount": "DESC"}], limit=count)


# --- writes: PostgreSQL functions in db/004_mutations.sql ------------------------------


@fraiseql.input
class CreatePostInput:
    """A new post."""

    author_id: ID
    title: str
    body: str
    status: PostStatus = fraiseql.UNSET  # absent: draft
    tag_slugs: list[str] = fraiseql.UNSET  # absent: no tags


@fraiseql.success
class CreatePostSuccess:
    """The post was created."""

    post: Post
    message: str | None


@fraiseql.error
class CreatePostError:
    """The post was not created."""

    message: str | None
    code: str
    conflicting_id: ID | None = None
    field: str | None = None


@fraiseql.mutation(function="fn_create_post", operation="INSERT")
class CreatePost:
    """Write a new post."""

    input: CreatePostInput
    success: CreatePostSuccess
    error: CreatePostError


@fraiseql.input
class UpdatePostInput:
    """Changes to a post: omitted fields stay as they are."""

    id: ID
    title: str = fraiseql.UNSET
    body: str = fraiseql.UNSET
    status: PostStatus = fraiseql.UNSET


@fraiseql.success
class UpdatePostSuccess:
    """The post after the change (unchanged for a no-op)."""

    post: Post
    message: str | None
    updated_fields: list[str] | None


@fraiseql.error
class UpdatePostError:
    """The post was not changed."""

    message: str | None
    code: str
    field: str | None = None


@fraiseql.mutation(function="fn_update_post", operation="UPDATE")
class UpdatePost:
    """Change a post's title, body or status."""

    input: UpdatePostInput
    success: UpdatePostSuccess
    error: UpdatePostError


@fraiseql.input
class DeletePostInput:
    """The post to delete."""

    id: ID


@fraiseql.success
class DeletePostSuccess:
    """The post as it was before it was deleted."""

    post: Post
    message: str | None


@fraiseql.error
class DeletePostError:
    """The post was not deleted."""

    message: str | None
    code: str


@fraiseql.mutation(function="fn_delete_post", operation="DELETE")
class DeletePost:
    """Delete a post with its comments."""

    input: DeletePostInput
    success: DeletePostSuccess
    error: DeletePostError


@fraiseql.input
class AddCommentInput:
    """A reader's reply."""

    post_id: ID
    author_id: ID
    body: str


@fraiseql.mutation(function="fn_add_comment", operation="INSERT")
class AddComment:
    """Reply to a post; failures are GraphQL errors (NOT_FOUND, VALIDATION)."""

    input: AddCommentInput
    success: Comment


schema = fraiseql.build_schema(
    queries=[posts, post, users, user, user_by_username, comments, tags, top_posts],
    mutations=[CreatePost, UpdatePost, DeletePost, AddComment])
app = fraiseql.create_app(schema)
