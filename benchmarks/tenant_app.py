"""The blog example with Post tenant-scoped, for benchmarks/tenant_predicate.py.

The same types, roots and data as examples/blog/app.py; only ``Post`` (tv_post) is
declared ``tenant_column="tenant_id"``, so every read of it carries the tenant predicate.
The dev-token authenticator (FRAISEQL_DEV_AUTH_SECRET) gives each request its tenant.
"""

from __future__ import annotations

import fraiseql
from examples.blog import app as blog
from fraiseql.schema.definitions import definition_of

definition_of(blog.Post).tenant_column = "tenant_id"
schema = fraiseql.build_schema(
    queries=[blog.posts, blog.post, blog.users, blog.user, blog.user_by_username, blog.comments,
             blog.tags, blog.top_posts],
    mutations=[blog.CreatePost, blog.UpdatePost, blog.DeletePost, blog.AddComment])
app = fraiseql.create_app(schema)
