"""Role-based access control in the framework schema (SQL 0008) and RoleStore (issue 7).

Every test gets its own clone of the blog database (framework SQL installed), so the
roles and grants of one test are invisible to the others.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from fraiseql.authz.rbac import Access, RoleStore
from fraiseql.errors import ConfigurationError, DatabaseError, ErrorCode

REPO = Path(__file__).resolve().parents[2]
NONE: frozenset[str] = frozenset()

# viewer <- editor <- admin (each inherits the one before), and an intern who reads
# everything but salaries.
ROLE_TREE = """
SELECT fraiseql.create_role('viewer', 'reads');
SELECT fraiseql.allow('viewer', '*:read');
SELECT fraiseql.deny('viewer', 'secret:read');
SELECT fraiseql.create_role('editor', 'writes posts', '{viewer}');
SELECT fraiseql.allow('editor', 'post:*');
SELECT fraiseql.deny('editor', 'post:delete');
SELECT fraiseql.create_role('admin', NULL, '{editor}');
SELECT fraiseql.allow('admin', '*:*');
SELECT fraiseql.allow('admin', 'secret:read');
SELECT fraiseql.create_role('intern', NULL, '{viewer}');
SELECT fraiseql.deny('intern', 'salary:read');
"""


@pytest_asyncio.fixture(loop_scope="session")
async def db(fresh_blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_blog_db_url)
    await conn.execute(ROLE_TREE)
    yield conn
    await conn.close()


async def effective(db: asyncpg.Connection, subject: str | None, tenant: str | None,
                    token_roles: list[str] | None = None) -> dict[str, Any]:
    row = await db.fetchrow("SELECT * FROM fraiseql.effective_access($1, $2, $3)",
                            subject, tenant, token_roles or [])
    return dict(row)


async def grant(db: asyncpg.Connection, subject: str, role: str, tenant: str | None = None,
                expires_at: datetime | None = None) -> int:
    return int(await db.fetchval("SELECT fraiseql.grant_role($1, $2, $3, $4, 'tests')",
                                 subject, role, tenant, expires_at))


# --- effective_access ---------------------------------------------------------------


async def test_three_levels_of_inheritance(db: asyncpg.Connection) -> None:
    await grant(db, "alice", "admin")
    assert await effective(db, "alice", None) == {
        "roles": ["admin", "editor", "viewer"],
        "allowed": ["*:*", "*:read", "post:*", "secret:read"],
        "denied": ["post:delete", "secret:read"],
        "tenants": [],
        "valid_until": None,
    }
    # The editor's deny, inherited, beats the admin's own *:* and the viewer's allows.
    rows = await db.fetch("SELECT p, fraiseql.permission_matches('post:*', p) AS m"
                          " FROM unnest(ARRAY['post:delete', 'comment:delete']) AS p")
    assert [(r["p"], r["m"]) for r in rows] == [("post:delete", True), ("comment:delete", False)]


async def test_deny_beats_allow_both_ways(db: asyncpg.Connection) -> None:
    await grant(db, "ann", "admin")
    await grant(db, "ian", "intern")
    admin = access_of(await effective(db, "ann", None))
    # A deny inherited from a parent beats an allow on the child...
    assert (admin.has_permission("post:delete"), admin.has_permission("post:publish")) \
        == (False, True)
    # ...even the child's explicit allow of the very same pattern.
    assert admin.has_permission("secret:read") is False
    intern = access_of(await effective(db, "ian", None))
    # ...and a deny on the child beats an allow inherited from the parent.
    assert intern.roles == {"intern", "viewer"}
    assert (intern.has_permission("salary:read"), intern.has_permission("post:read")) \
        == (False, True)


async def test_wildcards(db: asyncpg.Connection) -> None:
    await grant(db, "ed", "editor")
    editor = access_of(await effective(db, "ed", None))
    answers = {p: editor.has_permission(p) for p in
               ["post:publish", "post:read", "comment:read", "comment:write", "post:delete",
                "secret:read"]}
    assert answers == {"post:publish": True, "post:read": True, "comment:read": True,
                       "comment:write": False, "post:delete": False, "secret:read": False}


async def test_tenant_grants_apply_only_in_their_tenant(db: asyncpg.Connection) -> None:
    await grant(db, "tom", "editor", "acme")
    await grant(db, "tom", "intern", "globex")
    await grant(db, "tom", "viewer")  # every tenant
    acme, globex, other, none = [await effective(db, "tom", t)
                                 for t in ("acme", "globex", "initech", None)]
    assert acme["roles"] == ["editor", "viewer"]
    assert globex["roles"] == ["intern", "viewer"]
    assert other["roles"] == none["roles"] == ["viewer"]
    assert acme["tenants"] == globex["tenants"] == none["tenants"] == ["acme", "globex"]
    assert "post:*" in acme["allowed"] and "post:*" not in globex["allowed"]


async def test_expired_grants_never_count(db: asyncpg.Connection) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    await grant(db, "eve", "editor", "acme", expires_at=later)
    await grant(db, "eve", "intern", expires_at=soon)
    await grant(db, "eve", "admin", "globex")
    access = await effective(db, "eve", "acme")
    assert access["roles"] == ["editor", "intern", "viewer"]
    assert access["tenants"] == ["acme", "globex"]
    assert access["valid_until"] == soon
    await db.execute("UPDATE fraiseql.role_grants SET expires_at = now() - interval '1 second'"
                     " WHERE subject = 'eve' AND role IN ('intern', 'admin')")
    access = await effective(db, "eve", "acme")
    assert access["roles"] == ["editor", "viewer"]
    assert access["tenants"] == ["acme"]
    assert access["valid_until"] == later
    assert (await effective(db, "eve", "globex"))["roles"] == []


async def test_token_roles_inherit_too(db: asyncpg.Connection) -> None:
    access = await effective(db, "nobody", None, ["editor", "not-a-stored-role"])
    assert access["roles"] == ["editor", "not-a-stored-role", "viewer"]
    assert access["allowed"] == ["*:read", "post:*"]
    # An anonymous caller (no subject) has its token roles only.
    assert (await effective(db, None, None, ["intern"]))["roles"] == ["intern", "viewer"]


async def test_regranting_updates_the_expiry_and_revoke_says_whether(
        db: asyncpg.Connection) -> None:
    first = await grant(db, "rex", "viewer", "acme", datetime.now(UTC) + timedelta(minutes=1))
    again = await grant(db, "rex", "viewer", "acme", None)
    assert again == first
    assert await db.fetchval("SELECT count(*) FROM fraiseql.role_grants"
                             " WHERE subject = 'rex'") == 1
    assert (await effective(db, "rex", "acme"))["valid_until"] is None
    await grant(db, "rex", "viewer")  # the every-tenant grant is another one
    revoke = "SELECT fraiseql.revoke_role('rex', 'viewer', $1)"
    assert [await db.fetchval(revoke, t) for t in ("acme", "acme", None, None)] \
        == [True, False, True, False]


async def test_cycles_are_refused(db: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.CheckViolationError,
                       match="role viewer cannot inherit from admin: admin already inherits"):
        await db.execute("SELECT fraiseql.create_role('viewer', NULL, '{admin}')")
    with pytest.raises(asyncpg.CheckViolationError, match="role editor cannot inherit from editor"):
        await db.execute("INSERT INTO fraiseql.role_parents VALUES ('editor', 'editor')")
    with pytest.raises(asyncpg.CheckViolationError, match="role viewer cannot inherit"):
        await db.execute("UPDATE fraiseql.role_parents SET role = 'viewer', parent = 'editor'"
                         " WHERE role = 'intern'")
    assert await db.fetch("SELECT role, parent FROM fraiseql.role_parents ORDER BY 1") \
        == [("admin", "editor"), ("editor", "viewer"), ("intern", "viewer")]


async def test_two_halves_of_a_cycle_in_concurrent_transactions(
        db: asyncpg.Connection, fresh_blog_db_url: str) -> None:
    other = await asyncpg.connect(fresh_blog_db_url)
    try:
        mine = db.transaction()
        await mine.start()
        await db.execute("INSERT INTO fraiseql.role_parents VALUES ('intern', 'admin')")
        # The other transaction adds the other half; it waits for this one to finish...
        theirs = asyncio.create_task(other.execute(
            "INSERT INTO fraiseql.role_parents VALUES ('admin', 'intern')"))
        await asyncio.sleep(0.3)
        assert not theirs.done()
        await mine.commit()
        # ...then sees the committed half, and is refused.
        with pytest.raises(asyncpg.CheckViolationError, match="role admin cannot inherit"):
            await asyncio.wait_for(theirs, 5)
    finally:
        await other.close()
    assert await db.fetchval("SELECT count(*) FROM fraiseql.role_parents"
                             " WHERE role IN ('intern', 'admin')") == 3


async def test_bad_permissions_and_unknown_roles_are_refused(db: asyncpg.Connection) -> None:
    for bad in ["post", "post:", "po*:read", "post:read:x", "post: read"]:
        with pytest.raises(asyncpg.CheckViolationError, match="bad permission"):
            await db.execute("SELECT fraiseql.allow('viewer', $1)", bad)
        with pytest.raises(asyncpg.CheckViolationError, match="role_permissions_permission_check"):
            await db.execute("INSERT INTO fraiseql.role_permissions VALUES ('viewer', $1, 'deny')",
                             bad)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="unknown role: ghost"):
        await db.execute("SELECT fraiseql.deny('ghost', 'post:read')")
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="unknown role: ghost"):
        await db.execute("SELECT fraiseql.grant_role('alice', 'ghost')")
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="unknown role: ghost"):
        await db.execute("SELECT fraiseql.create_role('x', NULL, '{ghost}')")
    with pytest.raises(asyncpg.CheckViolationError, match="roles_name_check"):
        await db.execute("SELECT fraiseql.create_role('has space')")
    with pytest.raises(asyncpg.CheckViolationError, match="which has passed"):
        await db.execute("SELECT fraiseql.grant_role('alice', 'viewer', NULL,"
                         " now() - interval '1 minute')")
    # Nothing of the refused calls was stored: the 7 permissions of ROLE_TREE remain.
    assert await db.fetchval("SELECT count(*) FROM fraiseql.role_permissions") == 7
    assert await db.fetchval("SELECT count(*) FROM fraiseql.role_grants") == 0
    assert await db.fetchval("SELECT count(*) FROM fraiseql.roles") == 4


# --- from SQL, as an ordinary role ---------------------------------------------------


def url_as(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))


@pytest_asyncio.fixture(loop_scope="session")
async def app_role(db: asyncpg.Connection, fresh_blog_db_url: str) -> AsyncIterator[str]:
    """An ordinary role (NOSUPERUSER NOBYPASSRLS) allowed to call the two readers only."""
    role = f"rbac_{uuid.uuid4().hex[:10]}"
    await db.execute(f"""
        CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS;
        GRANT USAGE ON SCHEMA fraiseql TO {role};
        GRANT EXECUTE ON FUNCTION fraiseql.effective_access(text, text, text[]),
                                  fraiseql.has_permission(text) TO {role};
        CREATE TABLE tb_memo (id int PRIMARY KEY, title text NOT NULL);
        INSERT INTO tb_memo VALUES (1, 'one'), (2, 'two');
        ALTER TABLE tb_memo ENABLE ROW LEVEL SECURITY;
        CREATE POLICY readers ON tb_memo USING (fraiseql.has_permission('post:read'));
        GRANT SELECT ON tb_memo TO {role};
    """)
    yield url_as(fresh_blog_db_url, role)
    await db.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


async def as_principal(conn: asyncpg.Connection, subject: str, tenant: str,
                       roles: str) -> None:
    await conn.execute("SELECT set_config('fraiseql.user_id', $1, false),"
                       " set_config('fraiseql.tenant_id', $2, false),"
                       " set_config('fraiseql.roles', $3, false)", subject, tenant, roles)


async def test_has_permission_in_sql_as_an_ordinary_role(db: asyncpg.Connection,
                                                         app_role: str) -> None:
    await grant(db, "alice", "editor", "acme")
    await grant(db, "ian", "intern")
    conn = await asyncpg.connect(app_role)
    try:
        ask = ("SELECT fraiseql.has_permission('post:publish') AS publish,"
               " fraiseql.has_permission('post:delete') AS delete,"
               " fraiseql.has_permission('salary:read') AS salary")
        await as_principal(conn, "alice", "acme", "[]")
        assert dict(await conn.fetchrow(ask)) == {"publish": True, "delete": False,
                                                  "salary": True}
        assert await conn.fetch("SELECT id FROM tb_memo ORDER BY id") == [(1,), (2,)]
        await as_principal(conn, "alice", "globex", "[]")  # her grant is for acme only
        assert dict(await conn.fetchrow(ask)) == {"publish": False, "delete": False,
                                                  "salary": False}
        assert await conn.fetch("SELECT id FROM tb_memo") == []
        await as_principal(conn, "ian", "", '["editor"]')  # a token role, plus his grant
        assert dict(await conn.fetchrow(ask)) == {"publish": True, "delete": False,
                                                  "salary": False}
        await as_principal(conn, "", "", "")  # anonymous
        assert dict(await conn.fetchrow(ask)) == {"publish": False, "delete": False,
                                                  "salary": False}
        row = await conn.fetchrow("SELECT * FROM fraiseql.effective_access('alice', 'acme', '{}')")
        assert (row["roles"], row["tenants"]) == (["editor", "viewer"], ["acme"])
        with pytest.raises(asyncpg.InvalidParameterValueError, match="bad permission 'post:\\*'"):
            await conn.fetchval("SELECT fraiseql.has_permission('post:*')")
        for table in ("roles", "role_parents", "role_permissions", "role_grants"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT * FROM fraiseql.{table}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SELECT fraiseql.grant_role('mallory', 'admin')")
    finally:
        await conn.close()


async def test_the_readers_are_not_granted_to_public(db: asyncpg.Connection,
                                                     fresh_blog_db_url: str) -> None:
    role = f"rbac_{uuid.uuid4().hex[:10]}"
    await db.execute(f"CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA fraiseql TO {role}")
    conn = await asyncpg.connect(url_as(fresh_blog_db_url, role))
    try:
        for call in ("fraiseql.has_permission('post:read')",
                     "fraiseql.effective_access('alice', NULL, '{}')"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError,
                               match="permission denied for function"):
                await conn.fetch(f"SELECT * FROM {call}")
    finally:
        await conn.close()
        await db.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


# --- RoleStore ----------------------------------------------------------------------


def access_of(row: dict[str, Any]) -> Access:
    return Access(roles=frozenset(row["roles"]), allowed=frozenset(row["allowed"]),
                  denied=frozenset(row["denied"]), tenants=frozenset(row["tenants"]))


@pytest_asyncio.fixture(loop_scope="session")
async def stores(db: asyncpg.Connection,
                 fresh_blog_db_url: str) -> AsyncIterator[Callable[..., Awaitable[RoleStore]]]:
    started: list[RoleStore] = []

    async def start(**settings: Any) -> RoleStore:
        store = RoleStore(fresh_blog_db_url, **settings)
        await store.start()
        started.append(store)
        return store

    yield start
    for store in started:
        await store.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 2.0) -> float:
    """Seconds until ``await check()`` is true; fails after ``timeout_s``."""
    began = time.monotonic()
    while not await check():
        if time.monotonic() - began > timeout_s:
            raise AssertionError(f"not true within {timeout_s} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - began


async def test_store_answers_and_caches(db: asyncpg.Connection, stores: Any) -> None:
    await grant(db, "alice", "editor", "acme")
    store = await stores(ttl_s=3600)
    assert store.listening
    first = await store.access("alice", "acme", frozenset({"guest"}))
    assert first == Access(roles=frozenset({"editor", "viewer", "guest"}),
                           allowed=frozenset({"*:read", "post:*"}),
                           denied=frozenset({"post:delete", "secret:read"}),
                           tenants=frozenset({"acme"}))
    assert (first.has_permission("post:publish"), first.has_permission("post:delete")) \
        == (True, False)
    assert store.queries == 1
    assert await store.access("alice", "acme", frozenset({"guest"})) is first
    assert store.queries == 1
    # Each part of the key is its own answer.
    other_tenant = await store.access("alice", "globex", frozenset({"guest"}))
    other_roles = await store.access("alice", "acme", NONE)
    assert other_tenant.roles == {"guest"} and other_roles.roles == {"editor", "viewer"}
    assert store.queries == 3


async def test_concurrent_callers_share_one_query(db: asyncpg.Connection, stores: Any) -> None:
    store = await stores(ttl_s=3600)
    answers = await asyncio.gather(*(store.access("bob", None, NONE) for _ in range(10)))
    assert {a.roles for a in answers} == {frozenset()}
    assert store.queries == 1


async def test_cache_holds_for_ttl_and_is_bounded(db: asyncpg.Connection, stores: Any) -> None:
    store = await stores(ttl_s=0.3, max_entries=2)
    for subject in ("a", "b", "a", "c", "a"):
        await store.access(subject, None, NONE)
    # a, b read; a hit; c read, evicting the oldest entry (a); a read again, evicting b.
    assert store.queries == 4
    await store.access("c", None, NONE)
    assert store.queries == 4
    await asyncio.sleep(0.35)
    await store.access("c", None, NONE)
    assert store.queries == 5


async def test_valid_until_bounds_the_cache(db: asyncpg.Connection, stores: Any) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    await grant(db, "tia", "admin", None, expires)
    store = await stores(ttl_s=3600)  # after the grant: its notification is not for this store
    held = await store.access("tia", None, NONE)
    assert held.has_role("admin") and held.valid_until == pytest.approx(expires.timestamp())
    assert (await store.access("tia", None, NONE)) is held
    await asyncio.sleep(max(0.0, expires.timestamp() - time.time()) + 0.05)
    # No notification for an expiry: the answer simply stops being served.
    after = await store.access("tia", None, NONE)
    assert after.roles == frozenset() and store.queries == 2


async def run_cli(*args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FRAISEQL_DATABASE_URL", "DATABASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fraiseql.cli.main", *args, cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_a_grant_by_the_cli_reaches_every_store(db: asyncpg.Connection, stores: Any,
                                                      fresh_blog_db_url: str) -> None:
    one, two = await stores(ttl_s=3600), await stores(ttl_s=3600)
    for store in (one, two):
        assert (await store.access("carol", "acme", NONE)).roles == frozenset()
        assert (await store.access("carol", "acme", NONE)).roles == frozenset()
        assert store.queries == 1  # cached: only a notification can change the answer
    status, out, err = await run_cli("grants", "add", "carol", "editor", "--tenant", "acme",
                                     "--database-url", fresh_blog_db_url)
    assert status == 0, err
    assert out.startswith("granted editor to carol in tenant acme for good (grant ")
    for store in (one, two):
        async def sees_it(store: RoleStore = store) -> bool:
            return (await store.access("carol", "acme", NONE)).has_permission("post:edit")
        await eventually(sees_it)
        # Cached again from then on.
        queries = store.queries
        assert (await store.access("carol", "acme", NONE)).has_role("editor")
        assert store.queries == queries
    # A change to a role (not a grant) clears the caches as well.
    await db.execute("SELECT fraiseql.deny('viewer', 'comment:read')")
    for store in (one, two):
        async def denied(store: RoleStore = store) -> bool:
            return not (await store.access("carol", "acme", NONE)).has_permission("comment:read")
        await eventually(denied)


async def listener_pid(db: asyncpg.Connection) -> int | None:
    pid = await db.fetchval("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND application_name = 'fraiseql-listener'")
    return int(pid) if pid is not None else None


async def test_a_lost_listener_means_no_caching_until_it_is_back(db: asyncpg.Connection,
                                                                 stores: Any) -> None:
    store = await stores(ttl_s=3600)
    await store.access("dan", None, NONE)
    await store.access("dan", None, NONE)
    assert store.queries == 1
    pid = await listener_pid(db)
    assert pid is not None
    assert await db.fetchval("SELECT pg_terminate_backend($1)", pid)

    async def lost() -> bool:
        return not store.listening
    await eventually(lost)
    # Every call reads the database now: a change is seen at once, without a notification.
    await store.access("dan", None, NONE)
    await store.access("dan", None, NONE)
    assert store.queries == 3
    await grant(db, "dan", "viewer")
    assert (await store.access("dan", None, NONE)).has_role("viewer")
    assert store.queries == 4

    async def back() -> bool:
        return store.listening
    await eventually(back, timeout_s=5.0)
    new_pid = await listener_pid(db)
    assert new_pid is not None and new_pid != pid
    await store.access("dan", None, NONE)
    await store.access("dan", None, NONE)
    assert store.queries == 5
    # And it follows changes again.
    await db.execute("SELECT fraiseql.revoke_role('dan', 'viewer')")

    async def revoked() -> bool:
        return not (await store.access("dan", None, NONE)).has_role("viewer")
    await eventually(revoked)


async def test_start_refuses_a_database_without_the_tables(empty_db_url: str) -> None:
    store = RoleStore(empty_db_url)
    with pytest.raises(ConfigurationError, match="run `fraiseql install`"):
        await store.start()


async def test_a_database_that_is_down_is_unavailable_not_misconfigured() -> None:
    store = RoleStore("postgresql://nobody@127.0.0.1:9/none", connect_timeout_s=0.5)
    began = time.monotonic()
    await store.start()  # not an error: the listener keeps retrying
    try:
        assert time.monotonic() - began < 3
        assert not store.listening
        with pytest.raises(DatabaseError) as raised:
            await store.access("alice", None, NONE)
        assert raised.value.code is ErrorCode.SERVICE_UNAVAILABLE
    finally:
        await store.stop()
