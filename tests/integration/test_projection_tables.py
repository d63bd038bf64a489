"""Projection tables: fraiseql.register/refresh/rebuild_projection and the blog's tv_post.

Each test runs on its own clone of the blog database, where db/005_projections.sql
created tv_post, registered it for v_post and replaced the four write functions
with versions that refresh it. "In step" means tv_post has exactly v_post's rows,
every column equal as text (what a client would read).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql.testing.client import AppClient


def seed_id(key: str) -> str:
    """The id of a seed row (examples/blog/DATA.md: md5('<kind>-<n>')::uuid)."""
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


USER_1 = seed_id("user-1")
USER_2 = seed_id("user-2")
POST_NO_COMMENTS = seed_id("post-9974")  # published, no comments
POST_8_COMMENTS = seed_id("post-9996")  # archived, 8 comments
POST_1 = seed_id("post-1")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

# Rows of tv_post and v_post that differ (either side missing or any column unequal).
OUT_OF_STEP_SQL = """
SELECT coalesce(t.id, v.id)::text AS id
FROM tv_post t FULL JOIN v_post v ON v.id = t.id
WHERE t.id IS NULL OR v.id IS NULL
   OR ROW(t.id, t.author_id, t.created_at, t.status, t.data)::text
      IS DISTINCT FROM ROW(v.id, v.author_id, v.created_at, v.status, v.data)::text
ORDER BY 1
"""


@pytest_asyncio.fixture(loop_scope="session")
async def db(fresh_blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_blog_db_url, server_settings={"TimeZone": "UTC"})
    yield conn
    await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def client(fresh_blog_db_url: str) -> AsyncIterator[AppClient]:
    async with AppClient(fraiseql.create_app(blog_schema, database_url=fresh_blog_db_url)) as c:
        yield c


async def out_of_step(conn: asyncpg.Connection) -> list[str]:
    return [row["id"] for row in await conn.fetch(OUT_OF_STEP_SQL)]


async def stored(conn: asyncpg.Connection, id_: str) -> dict[str, Any] | None:
    raw = await conn.fetchval("SELECT data FROM tv_post WHERE id = $1::uuid", id_)
    return None if raw is None else json.loads(raw)


async def rebuild(conn: asyncpg.Connection, tv: str = "tv_post") -> dict[str, int]:
    """fraiseql.rebuild_projection's counts: inserted, updated, deleted."""
    row = await conn.fetchrow("SELECT * FROM fraiseql.rebuild_projection($1)", tv)
    assert row is not None
    return dict(row)


async def call(conn: asyncpg.Connection, function: str, **input_: Any) -> dict[str, Any]:
    """Call a blog write function straight from SQL; its mutation_result as a dict."""
    row = await conn.fetchrow(f"SELECT * FROM {function}($1::jsonb)", json.dumps(input_))
    assert row is not None
    return dict(row)


async def wait_until_blocked(conn: asyncpg.Connection, pid: int) -> None:
    """Return once backend ``pid`` waits for a lock (fail after 10 s)."""
    for _ in range(1000):
        if await conn.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity"
                               " WHERE pid = $1", pid):
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"backend {pid} never waited for a lock")


# --- the blog's tv_post --------------------------------------------------------------------


async def test_tv_post_is_registered_built_and_shaped_like_v_post(
        db: asyncpg.Connection) -> None:
    row = await db.fetchrow("SELECT tv::text, source::text, key_column::text, rebuilt_at"
                            " FROM fraiseql.projections")
    assert row is not None
    assert (row["tv"], row["source"], row["key_column"]) == ("tv_post", "v_post", "id")
    assert row["rebuilt_at"] is not None
    columns = """SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
                 WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
                 ORDER BY attnum"""
    assert [tuple(r) for r in await db.fetch(columns, "tv_post")] == \
        [tuple(r) for r in await db.fetch(columns, "v_post")]
    assert await db.fetchval("SELECT count(*) FROM tv_post") == 10000
    assert await out_of_step(db) == []
    indexes = await db.fetch("SELECT indexdef FROM pg_indexes WHERE tablename = 'tv_post'")
    assert sorted(r["indexdef"].split(" USING ")[1] for r in indexes) == [
        "btree (author_id)", "btree (created_at)", "btree (id)", "btree (status)"]


async def test_a_write_reaches_tv_post_in_its_own_transaction(
        db: asyncpg.Connection, fresh_blog_db_url: str) -> None:
    other = await asyncpg.connect(fresh_blog_db_url)
    try:
        before = await stored(db, POST_NO_COMMENTS)
        assert before is not None
        transaction = db.transaction()
        await transaction.start()
        result = await call(db, "fn_update_post", id=POST_NO_COMMENTS, title="Renamed")
        assert result["succeeded"] and result["state_changed"]
        # Inside the transaction tv_post already shows it, and equals the view...
        assert (await stored(db, POST_NO_COMMENTS))["title"] == "Renamed"  # type: ignore[index]
        assert await out_of_step(db) == []
        # ...while nobody else sees it before the commit.
        assert await stored(other, POST_NO_COMMENTS) == before
        await transaction.rollback()
        assert await stored(db, POST_NO_COMMENTS) == before
        assert await stored(other, POST_NO_COMMENTS) == before
        assert await out_of_step(db) == []

        await call(db, "fn_update_post", id=POST_NO_COMMENTS, title="Renamed")
        assert (await stored(other, POST_NO_COMMENTS))["title"] == "Renamed"  # type: ignore[index]
        assert await out_of_step(other) == []
    finally:
        await other.close()


async def test_a_failed_write_leaves_tv_post_alone(db: asyncpg.Connection) -> None:
    xmin = await db.fetchval("SELECT xmin::text FROM tv_post WHERE id = $1::uuid",
                             POST_NO_COMMENTS)
    result = await call(db, "fn_update_post", id=POST_NO_COMMENTS, title="   ")
    assert result["error_class"] == "validation"
    noop = await call(db, "fn_update_post", id=POST_NO_COMMENTS, status="published")
    assert noop["succeeded"] and not noop["state_changed"]
    assert await db.fetchval("SELECT xmin::text FROM tv_post WHERE id = $1::uuid",
                             POST_NO_COMMENTS) == xmin


async def test_graphql_writes_show_in_posts_at_once(client: AppClient,
                                                   db: asyncpg.Connection) -> None:
    by_id = "query($id: ID!) { post(id: $id) { title status comments { body } } }"
    listed = ("query($id: ID!) { posts(where: {id: {eq: $id}}) { title } "
              "newest: posts(orderBy: {createdAt: DESC}, limit: 1) { id } }")

    created = (await client.data("""mutation($input: CreatePostInput!) {
        createPost(input: $input) { ... on CreatePostSuccess { post { id } } } }""",
        {"input": {"authorId": USER_1, "title": "Fresh from GraphQL", "body": "Hi.",
                   "status": "PUBLISHED", "tagSlugs": ["graphql"]}}))["createPost"]["post"]
    new_id = created["id"]
    assert await client.data(by_id, {"id": new_id}) == {
        "post": {"title": "Fresh from GraphQL", "status": "PUBLISHED", "comments": []}}
    assert await client.data(listed, {"id": new_id}) == {
        "posts": [{"title": "Fresh from GraphQL"}], "newest": [{"id": new_id}]}
    assert await out_of_step(db) == []

    await client.data("""mutation($id: ID!) { updatePost(input: {id: $id, title: "Edited",
        status: ARCHIVED}) { __typename } }""", {"id": new_id})
    assert await client.data(by_id, {"id": new_id}) == {
        "post": {"title": "Edited", "status": "ARCHIVED", "comments": []}}
    assert await client.data(
        "{ posts(where: {status: {eq: ARCHIVED}, title: {eq: \"Edited\"}}) { id } }") == {
        "posts": [{"id": new_id}]}
    assert await out_of_step(db) == []

    comment = await client.data("""mutation($id: ID!, $author: ID!) { addComment(input:
        {postId: $id, authorId: $author, body: " First! "}) { id body } }""",
        {"id": new_id, "author": USER_2})
    assert comment["addComment"]["body"] == "First!"
    assert await client.data(by_id, {"id": new_id}) == {
        "post": {"title": "Edited", "status": "ARCHIVED", "comments": [{"body": "First!"}]}}
    assert await out_of_step(db) == []

    deleted = await client.data("""mutation($id: ID!) { deletePost(input: {id: $id}) {
        ... on DeletePostSuccess { post { title comments { body } } } } }""", {"id": new_id})
    # The deleted post is answered as it was (from the view, before the delete)...
    assert deleted["deletePost"]["post"] == {"title": "Edited", "comments": [{"body": "First!"}]}
    # ...and is gone from every read.
    assert await client.data(by_id, {"id": new_id}) == {"post": None}
    assert (await client.data(listed, {"id": new_id}))["posts"] == []
    assert await db.fetchval("SELECT count(*) FROM tv_post WHERE id = $1::uuid", new_id) == 0
    assert await out_of_step(db) == []


async def test_a_comment_on_a_seed_post_refreshes_that_post(client: AppClient,
                                                           db: asyncpg.Connection) -> None:
    before = (await stored(db, POST_8_COMMENTS))["comments"]  # type: ignore[index]
    await client.data("""mutation($id: ID!, $author: ID!) { addComment(input:
        {postId: $id, authorId: $author, body: "Ninth."}) { id } }""",
        {"id": POST_8_COMMENTS, "author": USER_1})
    after = (await client.data("query($id: ID!) { post(id: $id) { comments { body } } }",
                               {"id": POST_8_COMMENTS}))["post"]["comments"]
    assert len(before) == 8
    assert [c["body"] for c in after] == [c["body"] for c in before] + ["Ninth."]
    assert await out_of_step(db) == []


# --- refresh_projection ----------------------------------------------------------------------


async def test_refresh_copies_only_the_keys_it_is_given(db: asyncpg.Connection) -> None:
    # Changed behind the functions' back: tv_post is stale for both posts.
    await db.execute("UPDATE tb_post SET title = 'Changed ' || title WHERE id = ANY($1::uuid[])",
                     [POST_1, POST_NO_COMMENTS])
    assert await out_of_step(db) == sorted([POST_1, POST_NO_COMMENTS])
    await db.execute("SELECT fraiseql.refresh_projection('tv_post', $1::uuid[])", [POST_1])
    assert await out_of_step(db) == [POST_NO_COMMENTS]
    for nothing in ("'{}'::uuid[]", "NULL", f"ARRAY['{UNKNOWN_ID}']::uuid[]"):
        await db.execute(f"SELECT fraiseql.refresh_projection('tv_post', {nothing})")
    assert await out_of_step(db) == [POST_NO_COMMENTS]
    await db.execute("SELECT fraiseql.refresh_projection('tv_post', $1::uuid[])",
                     [POST_NO_COMMENTS, POST_NO_COMMENTS, POST_1])
    assert await out_of_step(db) == []


async def test_refresh_of_ids_gone_from_the_source_deletes_them(
        db: asyncpg.Connection) -> None:
    await db.execute("DELETE FROM tb_post WHERE id = ANY($1::uuid[])",
                     [POST_1, POST_8_COMMENTS])
    assert await out_of_step(db) == sorted([POST_1, POST_8_COMMENTS])
    await db.execute("SELECT fraiseql.refresh_projection('tv_post', $1::uuid[])",
                     [POST_1, POST_8_COMMENTS, UNKNOWN_ID])
    assert await db.fetchval("SELECT count(*) FROM tv_post WHERE id = ANY($1::uuid[])",
                             [POST_1, POST_8_COMMENTS]) == 0
    assert await db.fetchval("SELECT count(*) FROM tv_post") == 9998
    assert await out_of_step(db) == []


async def test_refresh_stores_timestamps_in_utc_whatever_the_session_says(
        fresh_blog_db_url: str, db: asyncpg.Connection) -> None:
    tokyo = await asyncpg.connect(fresh_blog_db_url, server_settings={"TimeZone": "Asia/Tokyo"})
    try:
        await call(tokyo, "fn_update_post", id=POST_NO_COMMENTS, body="Now from Tokyo.")
        # The function's own answer follows the session; what it stores does not.
        assert (await tokyo.fetchval("SELECT data->>'updated_at' FROM v_post WHERE id = $1::uuid",
                                     POST_NO_COMMENTS)).endswith("+09:00")
    finally:
        await tokyo.close()
    assert (await stored(db, POST_NO_COMMENTS))["updated_at"].endswith("+00:00")  # type: ignore[index]
    assert await out_of_step(db) == []  # db's session is UTC, like FraiseQL's pool


async def test_refresh_of_an_unregistered_table_is_an_error(db: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.UndefinedObjectError) as raised:
        await db.execute("SELECT fraiseql.refresh_projection('tb_post', '{}')")
    assert raised.value.message == "tb_post is not a registered projection table"
    assert "fraiseql.register_projection('tb_post'" in (raised.value.hint or "")
    with pytest.raises(asyncpg.UndefinedObjectError):
        await db.execute("SELECT fraiseql.rebuild_projection('tb_post')")


# --- rebuild_projection ----------------------------------------------------------------------


async def test_rebuild_fixes_a_table_altered_behind_its_back(db: asyncpg.Connection) -> None:
    rebuilt_at = await db.fetchval("SELECT rebuilt_at FROM fraiseql.projections")
    await db.execute(f"""
        UPDATE tv_post SET data = data || '{{"title": "tampered"}}' WHERE id = '{POST_1}';
        DELETE FROM tv_post WHERE id = '{POST_8_COMMENTS}';
        INSERT INTO tv_post SELECT '{UNKNOWN_ID}', author_id, created_at, status, data
            FROM tv_post WHERE id = '{POST_1}';
        UPDATE tv_post SET status = 'draft' WHERE id = '{POST_NO_COMMENTS}';
    """)
    assert await out_of_step(db) == sorted([POST_1, POST_8_COMMENTS, UNKNOWN_ID,
                                            POST_NO_COMMENTS])
    assert await rebuild(db) == {"inserted": 1, "updated": 2, "deleted": 1}
    assert await out_of_step(db) == []
    assert await db.fetchval("SELECT rebuilt_at FROM fraiseql.projections") > rebuilt_at


async def test_rebuild_rewrites_no_unchanged_row(db: asyncpg.Connection) -> None:
    versions = "SELECT string_agg(ctid::text || xmin::text, ',' ORDER BY id) FROM tv_post"
    before = await db.fetchval(versions)
    assert await rebuild(db) == {"inserted": 0, "updated": 0, "deleted": 0}
    assert await db.fetchval(versions) == before


async def test_rebuild_counts_a_numeric_scale_change_as_a_change(db: asyncpg.Connection) -> None:
    # jsonb equality calls 1.5 and 1.50 equal; a client would still see the difference.
    await db.execute("UPDATE tv_post SET data = jsonb_set(data, '{rating}', '4.5')"
                     " WHERE id = (SELECT id FROM tb_post WHERE rating = 4.50 LIMIT 1)")
    assert len(await out_of_step(db)) == 1
    assert await rebuild(db) == {"inserted": 0, "updated": 1, "deleted": 0}
    assert await out_of_step(db) == []


async def test_rebuild_lets_readers_read_and_makes_writers_wait(
        fresh_blog_db_url: str, db: asyncpg.Connection) -> None:
    rebuilder = await asyncpg.connect(fresh_blog_db_url, server_settings={"TimeZone": "UTC"})
    writer = await asyncpg.connect(fresh_blog_db_url)
    try:
        await db.execute("UPDATE tv_post SET status = 'draft' WHERE id = $1::uuid", POST_1)
        transaction = rebuilder.transaction()
        await transaction.start()
        await rebuilder.execute("SELECT fraiseql.rebuild_projection('tv_post')")
        # A reader is not blocked (and still sees the old rows).
        await db.execute("SET lock_timeout = '2s'")
        assert await db.fetchval("SELECT status FROM tv_post WHERE id = $1::uuid",
                                 POST_1) == "draft"
        # A write waits for the rebuild, then applies its own (newer) row over it.
        write = asyncio.ensure_future(call(writer, "fn_update_post", id=POST_1,
                                           title="Written during a rebuild"))
        await wait_until_blocked(db, writer.get_server_pid())
        assert not write.done()
        await transaction.commit()
        assert (await write)["succeeded"]
        assert (await stored(db, POST_1))["title"] == "Written during a rebuild"  # type: ignore[index]
        assert await out_of_step(db) == []
    finally:
        await rebuilder.close()
        await writer.close()


async def test_concurrent_comments_on_one_post_both_reach_tv_post(
        fresh_blog_db_url: str, db: asyncpg.Connection) -> None:
    # Both functions lock the post only FOR KEY SHARE, so they run side by side; the
    # second refresh must wait for the first and then read both comments.
    first = await asyncpg.connect(fresh_blog_db_url, server_settings={"TimeZone": "UTC"})
    second = await asyncpg.connect(fresh_blog_db_url, server_settings={"TimeZone": "UTC"})
    try:
        transaction = first.transaction()
        await transaction.start()
        await call(first, "fn_add_comment", post_id=POST_NO_COMMENTS, author_id=USER_1,
                   body="one")
        other = asyncio.ensure_future(call(second, "fn_add_comment", post_id=POST_NO_COMMENTS,
                                           author_id=USER_2, body="two"))
        await wait_until_blocked(db, second.get_server_pid())
        await transaction.commit()
        assert (await other)["succeeded"]
        comments = (await stored(db, POST_NO_COMMENTS))["comments"]  # type: ignore[index]
        assert sorted(c["body"] for c in comments) == ["one", "two"]
        assert await out_of_step(db) == []
    finally:
        await first.close()
        await second.close()


# --- register_projection ---------------------------------------------------------------------


REGISTRATION_ERRORS = [
    pytest.param("", "'v_user', 'v_post'", asyncpg.WrongObjectTypeError,
                 "projection v_user must be a table, not a view", id="view-as-table"),
    pytest.param("", "'tv_post', 'tv_post'", asyncpg.InvalidParameterValueError,
                 "projection tv_post cannot be its own source", id="own-source"),
    pytest.param("CREATE TABLE tv_x (id uuid, data jsonb)", "'tv_x', 'v_post'",
                 asyncpg.InvalidTableDefinitionError,
                 "projection tv_x needs a primary key or unique index on (id)", id="no-key-index"),
    pytest.param("CREATE TABLE tv_x (id uuid PRIMARY KEY, data jsonb)",
                 "'tv_x', 'v_post', 'post_id'", asyncpg.UndefinedColumnError,
                 "tv_x has no key column post_id", id="no-key-column"),
    pytest.param("CREATE TABLE tv_x (id uuid PRIMARY KEY, data jsonb)",
                 "'tv_x', 'v_tag', 'data'", asyncpg.UndefinedColumnError,
                 "key column tv_x.data is jsonb, expected uuid", id="key-not-uuid"),
    pytest.param("CREATE TABLE tv_x (id uuid PRIMARY KEY, status varchar, extra int, data jsonb)",
                 "'tv_x', 'v_post'", asyncpg.DatatypeMismatchError,
                 "projection tv_x does not match its source: column status is character varying "
                 "in tv_x but text in v_post; v_post has no column extra", id="columns"),
]


@pytest.mark.parametrize(("setup", "arguments", "error", "message"), REGISTRATION_ERRORS)
async def test_register_refuses_a_table_that_cannot_be_a_projection(
        db: asyncpg.Connection, setup: str, arguments: str, error: type[Exception],
        message: str) -> None:
    if setup:
        await db.execute(setup)
    with pytest.raises(error) as raised:
        await db.execute(f"SELECT fraiseql.register_projection({arguments})")
    assert raised.value.message == message  # type: ignore[attr-defined]
    assert await db.fetchval("SELECT count(*) FROM fraiseql.projections") == 1


async def test_register_a_subset_of_columns_and_unregister(db: asyncpg.Connection) -> None:
    # A projection may leave source columns out; generated columns are not copied.
    await db.execute("""
        CREATE VIEW v_tag_names AS SELECT id, data->>'name' AS name, data FROM v_tag;
        CREATE TABLE tv_tag (id uuid PRIMARY KEY, data jsonb NOT NULL,
                             slug text GENERATED ALWAYS AS (data->>'slug') STORED);
        SELECT fraiseql.register_projection('tv_tag', 'v_tag_names');
    """)
    assert await rebuild(db, "tv_tag") == {"inserted": 30, "updated": 0, "deleted": 0}
    assert await db.fetchval("SELECT slug FROM tv_tag WHERE data->>'name' = 'PostgreSQL'") \
        == "postgresql"
    # Registering again with the same source keeps rebuilt_at; unregistering forgets it.
    await db.execute("SELECT fraiseql.register_projection('tv_tag', 'v_tag_names', 'id')")
    assert await db.fetchval("SELECT rebuilt_at IS NOT NULL FROM fraiseql.projections"
                             " WHERE tv = 'tv_tag'::regclass")
    await db.execute("SELECT fraiseql.register_projection('tv_tag', 'v_tag')")
    assert await db.fetchval("SELECT rebuilt_at IS NULL FROM fraiseql.projections"
                             " WHERE tv = 'tv_tag'::regclass")
    assert await db.fetchval("SELECT fraiseql.unregister_projection('tv_tag')") is True
    assert await db.fetchval("SELECT fraiseql.unregister_projection('tv_tag')") is False
    assert await db.fetchval("SELECT count(*) FROM tv_tag") == 30


async def test_a_renamed_table_stays_registered(db: asyncpg.Connection) -> None:
    await db.execute("ALTER TABLE tv_post RENAME TO tv_post_renamed")
    assert await db.fetchval("SELECT tv::text FROM fraiseql.projections") == "tv_post_renamed"
    await db.execute("UPDATE tv_post_renamed SET status = 'draft' WHERE id = $1::uuid", POST_1)
    assert await rebuild(db, "tv_post_renamed") == {"inserted": 0, "updated": 1, "deleted": 0}


async def test_a_source_dropped_after_registering_is_reported(db: asyncpg.Connection) -> None:
    await db.execute("""
        CREATE VIEW v_gone AS SELECT id, data FROM v_tag;
        CREATE TABLE tv_gone (id uuid PRIMARY KEY, data jsonb);
        SELECT fraiseql.register_projection('tv_gone', 'v_gone');
        DROP VIEW v_gone;
    """)
    with pytest.raises(asyncpg.UndefinedTableError) as raised:
        await db.execute("SELECT fraiseql.rebuild_projection('tv_gone')")
    assert raised.value.message.startswith("the source of projection tv_gone (OID ")
    assert raised.value.message.endswith(") no longer exists")
