"""The result cache: opted-in queries answered from memory until what they read changes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

import fraiseql
from examples.blog.app import AddComment, Post, Tag, UpdatePost, top_posts, users
from fraiseql import ID
from fraiseql.config import Settings
from fraiseql.errors import ConfigurationError, SchemaBuildError
from fraiseql.execution.result_cache import (
    CHANNEL,
    ResultCache,
    parse_payload,
    principal,
    variables_key,
)
from fraiseql.http.app import FraiseQLApp
from fraiseql.testing.client import AppClient, free_port


def seed_id(key: str) -> str:
    """The id of a seed row (examples/blog/DATA.md: md5('<kind>-<n>')::uuid)."""
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


POST_1, POST_2 = seed_id("post-9974"), seed_id("post-9996")
USER_1 = seed_id("user-1")
TAG_PYTHON = seed_id("tag-2")


@fraiseql.query(name="posts", cache_ttl=60)
def cached_posts(limit: int = 20, offset: int = 0) -> list[Post]:
    """Posts, cached."""


@fraiseql.query(name="post", cache_ttl=60)
def cached_post(id: ID) -> Post | None:
    """One post, cached."""


@fraiseql.query(name="tags", cache_ttl=60)
def cached_tags() -> list[Tag]:
    """Tags, cached."""


@fraiseql.query(name="tagsBriefly", sql_source="v_tag", cache_ttl=0.3)
def tags_briefly() -> list[Tag]:
    """Tags, cached for a moment."""


@fraiseql.mutation
async def rename_tag(info, id: ID, name: str) -> Tag | None:  # type: ignore[no-untyped-def]
    """Rename a tag in Python and log it; ``fail`` rolls back."""
    db = info.context["db"]
    await db.execute("UPDATE tb_tag SET name = $2 WHERE id = $1::uuid", id, name)
    await db.record_change("Tag", id, "UPDATE", "renameTag", updated_fields=["name"])
    if name == "fail":
        raise RuntimeError("rolled back")
    return await db.find_one("v_tag", info, id=id)


schema = fraiseql.build_schema(
    queries=[cached_posts, cached_post, cached_tags, tags_briefly, users, top_posts],
    mutations=[UpdatePost, AddComment, rename_tag])

TAGS = "{ tags { id name } }"
POSTS = "query Posts($limit: Int) { posts(limit: $limit) { id title tags { name } } }"
POST = "query($id: ID!) { post(id: $id) { id title comments { body } } }"
UPDATE = """mutation($id: ID!, $title: String!) {
  updatePost(input: {id: $id, title: $title}) { __typename } }"""


# --- helpers ----------------------------------------------------------------------------


@asynccontextmanager
async def cached_app(url: str, **settings: Any) -> AsyncIterator[FraiseQLApp]:
    """A started app on ``url`` whose result cache is listening."""
    app = fraiseql.create_app(schema, database_url=url, **settings)
    async with AppClient(app):
        cache = app.engine.result_cache
        assert cache is not None
        await eventually(lambda: cache.listening)
        yield app


async def eventually(check: Callable[[], Any], within: float = 10.0) -> None:
    """Wait until ``check()`` is true (an awaitable result is awaited)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.02)


def count_sql(app: FraiseQLApp) -> list[int]:
    """A one-item list counting the engine's SQL reads from now on."""
    engine, calls = app.engine, [0]
    original = engine._run_sql

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return await original(*args, **kwargs)

    engine._run_sql = counted  # type: ignore[method-assign]
    return calls


async def run(app: FraiseQLApp, query: str, variables: dict[str, Any] | None = None,
              operation_name: str | None = None, context: dict[str, Any] | None = None) -> bytes:
    """The response body; the request must succeed."""
    outcome = await app.engine.run(query, variables, operation_name, context)
    assert outcome.stream is None and b'"errors"' not in outcome.body, outcome.body
    return outcome.body


def cache_of(app: FraiseQLApp) -> ResultCache:
    assert app.engine.result_cache is not None
    return app.engine.result_cache


async def execute(url: str, sql: str, *args: Any) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


# --- hits and keys ------------------------------------------------------------------------


async def test_a_hit_returns_the_same_bytes_without_touching_the_database(
        blog_db_url: str) -> None:
    async with cached_app(blog_db_url) as app:
        first = await run(app, POSTS, {"limit": 3})
        assert [p["id"] for p in orjson.loads(first)["data"]["posts"]]

        async def no_sql(*_: Any) -> Any:
            raise AssertionError("a hit must not run SQL")

        app.engine._run_sql = no_sql  # type: ignore[method-assign]
        pool, app.engine.pool = app.engine.pool, None  # nor take a connection
        try:
            assert await run(app, POSTS, {"limit": 3}) == first
            # Over HTTP too: the cached bytes are the body.
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.post("/graphql", json={"query": POSTS,
                                                             "variables": {"limit": 3}})
            assert response.content == first
        finally:
            app.engine.pool = pool
        assert cache_of(app).hits == 2


async def test_every_part_of_the_request_is_in_the_key(blog_db_url: str) -> None:
    async with cached_app(blog_db_url) as app:
        sql = count_sql(app)
        alice = {"user_id": "alice", "tenant_id": "t1", "roles": ["reader", "admin"]}
        requests: list[tuple[str, dict[str, Any] | None, str | None, dict[str, Any] | None]] = [
            (POSTS, {"limit": 3}, None, None),
            (POSTS, {"limit": 4}, None, None),  # variables
            (POSTS, {}, None, None),  # absent variable
            (POSTS.replace("title", "slug"), {"limit": 3}, None, None),  # selection
            (POSTS.replace("id title", "id t: title"), {"limit": 3}, None, None),  # alias
            (POSTS.replace("query Posts", "query Other"), {"limit": 3}, None, None),
            ("query A { tags { name } } query B { tags { slug } }", None, "A", None),
            ("query A { tags { name } } query B { tags { slug } }", None, "B", None),
            (POSTS, {"limit": 3}, None, alice),  # identity
            (POSTS, {"limit": 3}, None, {**alice, "user_id": "bob"}),
            (POSTS, {"limit": 3}, None, {**alice, "tenant_id": "t2"}),  # tenant
            (POSTS, {"limit": 3}, None, {**alice, "roles": ["reader"]}),  # roles
            (POSTS, {"limit": 3}, None, {"tenant_id": "t1"}),
        ]
        bodies = [await run(app, *request) for request in requests]
        assert sql[0] == len(requests)  # each one a miss
        assert len(cache_of(app)) == len(requests)
        # ... and each one now a hit, with its own bytes.
        assert [await run(app, *request) for request in requests] == bodies
        assert sql[0] == len(requests)
        assert cache_of(app).hits == len(requests)
        # The same principal however the context spells it: roles are a set.
        same = {"user_id": "alice", "tenant_id": "t1", "roles": ("admin", "reader", "admin"),
                "trace_id": "ignored"}
        assert await run(app, POSTS, {"limit": 3}, None, same) == bodies[8]
        # An empty context is anonymous.
        assert await run(app, POSTS, {"limit": 3}, None, {"roles": []}) == bodies[0]
        # The coerced value decides, not how it was sent: a default equals the same value.
        assert await run(app, "query($l: Int = 3) { posts(limit: $l) { id } }") \
            == await run(app, "query($l: Int = 3) { posts(limit: $l) { id } }", {"l": 3})
        assert sql[0] == len(requests) + 1


def test_keys_are_canonical() -> None:
    assert variables_key({"b": {"y": 1, "x": [2, None]}, "a": "s"}) \
        == variables_key({"a": "s", "b": {"x": [2, None], "y": 1}})
    assert variables_key({}) == b""
    assert variables_key({"a": None}) != variables_key({})
    import decimal
    assert variables_key({"r": decimal.Decimal("1.0")}) != variables_key({"r": 1.0})
    assert principal(None) is None and principal({}) is None
    assert principal({"roles": "admin"}) == (None, None, ("admin",))
    assert principal({"user_id": 7}) == ("7", None, ())
    assert parse_payload('["Post", "Tag"]') == ["Post", "Tag"]
    assert parse_payload('["Post", null]') == ["Post", None]
    assert parse_payload("*") == [None] and parse_payload("{}") == [None]


async def test_entries_expire(blog_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fraiseql.execution import result_cache
    now = [1000.0]
    monkeypatch.setattr(result_cache, "monotonic", lambda: now[0])
    async with cached_app(blog_db_url) as app:
        sql = count_sql(app)
        query = "{ tagsBriefly { name } }"  # cache_ttl=0.3
        first = await run(app, query)
        now[0] += 0.29
        assert await run(app, query) == first and sql[0] == 1
        now[0] += 0.02
        assert await run(app, query) == first and sql[0] == 2
        # The shortest TTL of the roots applies to the operation.
        both = "{ tagsBriefly { name } tags { slug } }"
        await run(app, both)
        now[0] += 0.31
        await run(app, both)
        assert sql[0] == 4


# --- what is not cached -------------------------------------------------------------------


async def test_queries_that_did_not_opt_in_are_not_cached(blog_db_url: str) -> None:
    async with cached_app(blog_db_url) as app:
        sql = count_sql(app)
        for query in ("{ users(limit: 2) { id } }",  # no cache_ttl
                      "{ tags { name } users(limit: 2) { id } }",  # one root without it
                      "{ tags { name } topPosts(count: 2) { title } }",  # a Python resolver
                      "{ tags { name } __schema { queryType { name } } }"):
            first = await run(app, query)
            assert await run(app, query) == first
            plan = app.engine.compile(query)
            assert plan.cache is None, query
        assert sql[0] == 8  # every request read
        assert len(cache_of(app)) == 0 and cache_of(app).misses == 0
        # __typename beside cached roots does not prevent caching.
        assert app.engine.compile("{ __typename tags { name } }").cache is not None


async def test_answers_with_errors_are_not_stored(blog_db_url: str) -> None:
    async with cached_app(blog_db_url) as app:
        await run(app, POSTS, {"limit": 3})  # compiles the plan: the limit is checked on bind
        for _ in range(2):
            outcome = await app.engine.run(POSTS, {"limit": 5000}, None)
            assert b'"BAD_USER_INPUT"' in outcome.body
        assert len(cache_of(app)) == 1 and cache_of(app).misses == 3


async def test_no_cache_without_opt_in_or_when_turned_off(blog_db_url: str) -> None:
    from examples.blog.app import schema as blog_schema
    assert fraiseql.create_app(blog_schema, database_url=blog_db_url).engine.result_cache is None
    off = fraiseql.create_app(schema, database_url=blog_db_url, result_cache=False)
    assert off.engine.result_cache is None
    assert off.engine.compile(TAGS).cache is None
    assert Settings.from_env({"FRAISEQL_RESULT_CACHE": "off"}).result_cache is False
    assert Settings().result_cache_max_bytes == 64 * 1024 * 1024


def test_cache_ttl_is_checked_at_startup() -> None:
    @fraiseql.query(name="negative", cache_ttl=-1)
    def negative() -> list[Tag]: ...

    @fraiseql.query(name="word", cache_ttl="30")  # type: ignore[arg-type]
    def word() -> list[Tag]: ...

    @fraiseql.query(name="pythonSide", cache_ttl=30)
    async def python_side(info) -> list[Tag]:  # type: ignore[no-untyped-def]
        return []

    with pytest.raises(SchemaBuildError) as raised:
        fraiseql.build_schema(queries=[negative, word, python_side])
    message = str(raised.value)
    assert "cache_ttl must be a positive number of seconds, got -1" in message
    assert "got '30'" in message
    assert "cache_ttl applies to queries read from a sql_source, not to resolvers" in message


# --- invalidation -------------------------------------------------------------------------


async def test_a_mutation_invalidates_what_read_its_type_at_once(
        fresh_blog_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Notifications are ignored here: only the local invalidation can do it.
    monkeypatch.setattr(ResultCache, "_on_notify", lambda *_: None)
    async with cached_app(fresh_blog_db_url) as app:
        sql = count_sql(app)
        before = await run(app, POST, {"id": POST_1})
        tags = await run(app, TAGS)
        assert sql[0] == 2
        await run(app, UPDATE, {"id": POST_1, "title": "Cached No More"})
        after = await run(app, POST, {"id": POST_1})
        assert sql[0] == 3 and after != before
        assert orjson.loads(after)["data"]["post"]["title"] == "Cached No More"
        assert await run(app, TAGS) == tags and sql[0] == 3  # Tag was not changed
        # An embedded type: a comment changes the post that embeds it.
        await run(app, """mutation($p: ID!, $a: ID!) {
          addComment(input: {postId: $p, authorId: $a, body: "cached?"}) { id } }""",
                  {"p": POST_1, "a": USER_1})
        commented = await run(app, POST, {"id": POST_1})
        assert sql[0] == 4
        assert {"body": "cached?"} in orjson.loads(commented)["data"]["post"]["comments"]
        # A failed or no-op mutation logs nothing and drops nothing.
        await run(app, UPDATE, {"id": POST_1, "title": "Cached No More"})  # no-op
        assert await run(app, POST, {"id": POST_1}) == commented and sql[0] == 4


async def test_a_python_mutation_invalidates_once_it_commits(
        fresh_blog_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ResultCache, "_on_notify", lambda *_: None)
    async with cached_app(fresh_blog_db_url) as app:
        sql = count_sql(app)
        tags = await run(app, TAGS)
        failed = await app.engine.run(
            'mutation($id: ID!) { renameTag(id: $id, name: "fail") { name } }',
            {"id": TAG_PYTHON}, None)
        assert b'"errors"' in failed.body
        assert await run(app, TAGS) == tags and sql[0] == 1  # rolled back: still valid
        await run(app, 'mutation($id: ID!) { renameTag(id: $id, name: "Py") { name } }',
                  {"id": TAG_PYTHON})
        renamed = await run(app, TAGS)
        assert sql[0] == 2 and {"id": TAG_PYTHON, "name": "Py"} \
            in orjson.loads(renamed)["data"]["tags"]


async def test_a_mutation_elsewhere_reaches_every_instance(fresh_blog_db_url: str) -> None:
    async with cached_app(fresh_blog_db_url) as writer, \
            cached_app(fresh_blog_db_url) as reader:
        before = await run(reader, POST, {"id": POST_2})
        assert await run(reader, POST, {"id": POST_2}) == before
        assert len(cache_of(reader)) == 1
        await run(writer, UPDATE, {"id": POST_2, "title": "Seen Everywhere"})
        await eventually(lambda: len(cache_of(reader)) == 0)
        after = orjson.loads(await run(reader, POST, {"id": POST_2}))
        assert after["data"]["post"]["title"] == "Seen Everywhere"


async def test_a_change_logged_by_hand_invalidates(fresh_blog_db_url: str) -> None:
    async with cached_app(fresh_blog_db_url) as app:
        cache = cache_of(app)
        await run(app, TAGS)
        posts = await run(app, POSTS, {"limit": 2})
        # A write that bypasses the API, logged in the same transaction.
        await execute(fresh_blog_db_url, """
            UPDATE tb_tag SET name = 'By Hand' WHERE id = $1::uuid;
            INSERT INTO fraiseql.change_log (entity_type, entity_id, operation, mutation)
            VALUES ('Tag', $1, 'UPDATE', 'psql');""".replace("$1", f"'{TAG_PYTHON}'"))
        # Tag is read by tags and embedded in posts: both dropped.
        await eventually(lambda: len(cache) == 0)
        assert b'"By Hand"' in await run(app, TAGS)
        # A type no cached query reads drops nothing; a null type drops everything.
        await run(app, TAGS)
        await execute(fresh_blog_db_url, "INSERT INTO fraiseql.change_log (entity_type,"
                      " operation, mutation) VALUES ('Invoice', 'CUSTOM', 'psql')")
        await execute(fresh_blog_db_url, "SELECT pg_notify('fraiseql_changes', '[\"User\"]')")
        await asyncio.sleep(0.3)
        assert len(cache) == 1
        await run(app, POSTS, {"limit": 2})
        assert len(cache) == 2
        await execute(fresh_blog_db_url, "INSERT INTO fraiseql.change_log (operation, mutation)"
                      " VALUES ('CUSTOM', 'psql')")
        await eventually(lambda: len(cache) == 0)
        assert posts  # (unchanged posts: tv_post was not refreshed by hand)


async def test_an_answer_read_before_a_change_is_not_stored(blog_db_url: str) -> None:
    async with cached_app(blog_db_url) as app:
        cache, original = cache_of(app), app.engine._run_sql
        read, release = asyncio.Event(), asyncio.Event()

        async def slow(*args: Any) -> Any:
            result = await original(*args)  # the state before the change
            read.set()
            await release.wait()
            return result

        app.engine._run_sql = slow  # type: ignore[method-assign]

        async def read_while(change: Callable[[], None]) -> None:
            read.clear()
            release.clear()
            task = asyncio.create_task(run(app, TAGS))
            await read.wait()
            change()  # arrives while the answer is on its way
            release.set()
            await task

        await read_while(lambda: cache.invalidate(["Tag"]))
        assert len(cache) == 0
        await read_while(cache.flush)  # e.g. the listener reconnected
        assert len(cache) == 0
        await read_while(lambda: cache.invalidate(["Post", "User"]))  # not what it read
        assert len(cache) == 1


async def test_the_trigger_notifies_the_types_of_each_statement(fresh_blog_db_url: str) -> None:
    listener = await asyncpg.connect(fresh_blog_db_url)
    writer = await asyncpg.connect(fresh_blog_db_url)
    received: asyncio.Queue[str] = asyncio.Queue()

    async def next_payload() -> str:
        return await asyncio.wait_for(received.get(), 5)

    try:
        await listener.add_listener(CHANNEL, lambda *args: received.put_nowait(args[3]))
        await listener.execute("SELECT fraiseql.enable_change_notifications()")
        await writer.execute("INSERT INTO fraiseql.change_log (entity_type, operation, mutation)"
                             " SELECT t, 'CUSTOM', 'm' FROM unnest(ARRAY['Tag', 'Post', 'Tag',"
                             " NULL]) AS t")
        assert json.loads(await next_payload()) == ["Post", "Tag", None]
        # Nothing inserted, or rolled back: nothing sent.
        await writer.execute("INSERT INTO fraiseql.change_log (operation, mutation)"
                             " SELECT 'CUSTOM', 'm' WHERE false")
        await writer.execute("BEGIN; INSERT INTO fraiseql.change_log (entity_type, operation,"
                             " mutation) VALUES ('Gone', 'CUSTOM', 'm'); ROLLBACK")
        await writer.execute("SELECT pg_notify($1, 'marker')", CHANNEL)
        assert await next_payload() == "marker"
        # Too many types for one notification: '*'.
        await writer.execute("INSERT INTO fraiseql.change_log (entity_type, operation, mutation)"
                             " SELECT 'Type' || n || repeat('x', 100), 'CUSTOM', 'm'"
                             " FROM generate_series(1, 100) AS n")
        assert await next_payload() == "*"
        await asyncio.sleep(0.1)
        assert received.empty()
    finally:
        await listener.close()
        await writer.close()


# --- the listener -------------------------------------------------------------------------


async def test_no_cache_while_the_listener_is_down(fresh_blog_db_url: str) -> None:
    async with cached_app(fresh_blog_db_url) as app:
        cache, sql = cache_of(app), count_sql(app)
        await run(app, TAGS)
        await run(app, TAGS)
        assert (sql[0], len(cache)) == (1, 1)
        # Cut the listener off and keep it off: its reconnects go nowhere.
        cache.database_url = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
        await execute(fresh_blog_db_url, "SELECT pg_terminate_backend(pid) FROM"
                      " pg_stat_activity WHERE application_name = 'fraiseql-cache-listener'"
                      " AND datname = current_database()")
        await eventually(lambda: not cache.listening)
        assert len(cache) == 0  # flushed: changes from now on would go unheard
        # A change it cannot hear about.
        await execute(fresh_blog_db_url, f"""
            UPDATE tb_tag SET name = 'Unheard' WHERE id = '{TAG_PYTHON}'::uuid;
            INSERT INTO fraiseql.change_log (entity_type, operation, mutation)
            VALUES ('Tag', 'UPDATE', 'psql');""")
        for _ in range(3):  # neither served nor stored
            assert b'"Unheard"' in await run(app, TAGS)
        assert (sql[0], len(cache), cache.bypassed) == (4, 0, 3)
        # Back: flushed again, then serving.
        cache.database_url = fresh_blog_db_url
        await eventually(lambda: cache.listening, within=15)
        await run(app, TAGS)
        assert b'"Unheard"' in await run(app, TAGS)
        assert sql[0] == 5 and len(cache) == 1


async def test_the_cache_needs_the_change_notification(fresh_blog_db_url: str) -> None:
    await execute(fresh_blog_db_url, "DROP TRIGGER change_log_notify ON fraiseql.change_log")
    app = fraiseql.create_app(schema, database_url=fresh_blog_db_url)
    with pytest.raises(ConfigurationError, match="fraiseql install"):
        await app.startup()
    assert app.engine.pool is None
    # Without a result cache the app does not care.
    async with AppClient(fraiseql.create_app(schema, database_url=fresh_blog_db_url,
                                             result_cache=False)) as client:
        assert "tags" in await client.data(TAGS)


async def test_an_engine_without_a_listener_never_serves(blog_db_url: str) -> None:
    app = fraiseql.create_app(schema, database_url=blog_db_url)
    async with AppClient(app):
        cache = cache_of(app)
        await cache.stop()
        sql = count_sql(app)
        await run(app, TAGS)
        await run(app, TAGS)
        assert sql[0] == 2 and len(cache) == 0


# --- bounds -------------------------------------------------------------------------------


async def test_entries_are_bounded_least_recently_used_first(blog_db_url: str) -> None:
    async with cached_app(blog_db_url, result_cache_max_entries=2) as app:
        cache, sql = cache_of(app), count_sql(app)
        await run(app, POSTS, {"limit": 1})
        await run(app, POSTS, {"limit": 2})
        await run(app, POSTS, {"limit": 1})  # a hit: now the most recent
        await run(app, POSTS, {"limit": 3})  # evicts limit 2
        assert (sql[0], len(cache)) == (3, 2)
        await run(app, POSTS, {"limit": 1})
        assert sql[0] == 3
        await run(app, POSTS, {"limit": 2})
        assert sql[0] == 4 and len(cache) == 2


async def test_bytes_are_bounded(blog_db_url: str) -> None:
    async with cached_app(blog_db_url, result_cache_max_bytes=20_000) as app:
        cache = cache_of(app)
        sizes = []
        for limit in range(1, 30):
            sizes.append(len(await run(app, POSTS, {"limit": limit})))
            assert cache.bytes <= 20_000
        assert 0 < len(cache) < 29
        assert cache.bytes == sum(entry.size for entry in cache._entries.values())
        # Larger than the whole budget: answered, never stored.
        big = await run(app, POSTS, {"limit": 200})
        assert len(big) > 20_000
        assert cache.bytes <= 20_000 and all(e.size <= 20_000 for e in cache._entries.values())
        assert len(await run(app, POSTS, {"limit": 1})) == sizes[0]


SWITCH_SQL = "SELECT last_value FROM fraiseql.change_notifications_on"
LOG_SQL = ("INSERT INTO fraiseql.change_log (entity_type, operation, mutation)"
           " VALUES ('Tag', 'CUSTOM', 'm')")


async def test_notifications_are_off_until_a_result_cache_starts(fresh_blog_db_url: str) -> None:
    listener = await asyncpg.connect(fresh_blog_db_url)
    writer = await asyncpg.connect(fresh_blog_db_url)
    received: asyncio.Queue[str] = asyncio.Queue()
    try:
        await listener.add_listener(CHANNEL, lambda *args: received.put_nowait(args[3]))
        assert await writer.fetchval(SWITCH_SQL) == 0
        await writer.execute(LOG_SQL)  # off: a write costs no notification
        await writer.execute("SELECT pg_notify($1, 'marker')", CHANNEL)
        assert await asyncio.wait_for(received.get(), 5) == "marker"
        async with cached_app(fresh_blog_db_url):
            assert await writer.fetchval(SWITCH_SQL) == 1
            await writer.execute(LOG_SQL)
            assert json.loads(await asyncio.wait_for(received.get(), 5)) == ["Tag"]
        await writer.execute(LOG_SQL)  # on for good, even with no cache running now
        assert json.loads(await asyncio.wait_for(received.get(), 5)) == ["Tag"]
    finally:
        await listener.close()
        await writer.close()


async def test_turning_notifications_on_waits_for_writers_that_missed_the_switch(
        fresh_blog_db_url: str) -> None:
    writer = await asyncpg.connect(fresh_blog_db_url)
    enabler = await asyncpg.connect(fresh_blog_db_url)
    try:
        in_flight = writer.transaction()
        await in_flight.start()
        await writer.execute(LOG_SQL)  # read the switch while it was off: no notification
        enabling = asyncio.create_task(
            enabler.execute("SELECT fraiseql.enable_change_notifications()"))
        await asyncio.sleep(0.5)
        assert not enabling.done()  # it waits for that writer to end
        assert await writer.fetchval(SWITCH_SQL) == 1  # yet every new writer sees it on
        await in_flight.commit()
        await asyncio.wait_for(enabling, 5)
    finally:
        await writer.close()
        await enabler.close()
