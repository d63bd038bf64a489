"""`fraiseql roles ...` and `fraiseql grants ...` end to end, as subprocesses."""

from __future__ import annotations

import getpass

import asyncpg
import pytest
from cli_runner import run_fraiseql as fraiseql


def ok(*args: str) -> str:
    done = fraiseql(*args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def fails(*args: str, status: int = 1) -> str:
    done = fraiseql(*args)
    assert (done.returncode, done.stdout) == (status, ""), done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


async def test_roles_and_grants_end_to_end(fresh_blog_db_url: str) -> None:
    db = ("--database-url", fresh_blog_db_url)
    assert ok("roles", "create", "viewer", "--description", "reads", *db) \
        == "created role viewer\n"
    assert ok("roles", "allow", "viewer", "*:read", *db) == "role viewer allows *:read\n"
    assert ok("roles", "create", "editor", "--inherits", "viewer", *db) \
        == "created role editor inheriting from viewer\n"
    assert ok("roles", "allow", "editor", "post:*", *db) == "role editor allows post:*\n"
    assert ok("roles", "deny", "editor", "post:delete", *db) == "role editor denies post:delete\n"
    assert ok("roles", "create", "editor", "--description", "writes posts", *db) \
        == "updated role editor\n"
    listed = fraiseql("roles", "list", *db)
    assert listed.stdout == ("editor\tinherits viewer\tallow post:*\tdeny post:delete\t"
                             "writes posts\n"
                             "viewer\tinherits -\tallow *:read\tdeny -\treads\n")
    assert listed.stderr == "2 role(s)\n"

    assert ok("grants", "add", "alice", "editor", "--tenant", "acme", "--expires-in", "7d",
              "--granted-by", "ops", *db).startswith("granted editor to alice in tenant acme "
                                                    "until 20")
    assert ok("grants", "add", "bob", "viewer", *db).startswith(
        "granted viewer to bob in every tenant for good (grant ")
    rows = [line.split("\t") for line in ok("grants", "list", *db).splitlines()]
    assert [(r[1], r[2], r[3], r[4][:8], r[6]) for r in rows] == [
        ("alice", "editor", "acme", "expires ", "by ops"),
        ("bob", "viewer", "*", "active", f"by {getpass.getuser()}")]
    only_bob = ok("grants", "list", "--subject", "bob", *db).splitlines()
    assert [line.split("\t")[1] for line in only_bob] == ["bob"]
    in_globex = ok("grants", "list", "--tenant", "globex", *db).splitlines()
    assert [line.split("\t")[1] for line in in_globex] == ["bob"]  # alice's is for acme

    assert ok("grants", "check", "alice", "post:publish", "--tenant", "acme", *db) == (
        "allowed: alice may post:publish in tenant acme\n"
        "  allow post:* from role editor\n"
        "  roles: editor, viewer\n")
    assert ok("grants", "check", "alice", "post:delete", "--tenant", "acme", *db) == (
        "denied: alice may not post:delete in tenant acme\n"
        "  deny post:delete from role editor\n"
        "  allow post:* from role editor\n"
        "  roles: editor, viewer\n")
    assert ok("grants", "check", "alice", "post:publish", "--tenant", "globex", *db) == (
        "denied: alice may not post:publish in tenant globex\n"
        "  no role of theirs allows it\n"
        "  roles: -\n")
    assert ok("grants", "check", "bob", "post:read", "--role", "editor", *db) == (
        "allowed: bob may post:read\n"
        "  allow post:* from role editor\n"
        "  allow *:read from role viewer\n"
        "  roles: editor, viewer\n")

    assert ok("grants", "revoke", "alice", "editor", "--tenant", "acme", *db) \
        == "revoked editor from alice in tenant acme\n"
    assert fails("grants", "revoke", "alice", "editor", "--tenant", "acme", *db) \
        == "error: alice holds no grant of editor in tenant acme\n"
    assert ok("roles", "delete", "viewer", *db) == "deleted role viewer and its 1 grant(s)\n"
    conn = await asyncpg.connect(fresh_blog_db_url)
    try:
        assert await conn.fetch("SELECT name FROM fraiseql.roles") == [("editor",)]
        assert await conn.fetchval("SELECT count(*) FROM fraiseql.role_grants") == 0
        assert await conn.fetchval("SELECT count(*) FROM fraiseql.role_parents") == 0
    finally:
        await conn.close()


async def test_errors_are_one_line_with_status_1(fresh_blog_db_url: str) -> None:
    db = ("--database-url", fresh_blog_db_url)
    ok("roles", "create", "a", *db)
    ok("roles", "create", "b", "--inherits", "a", *db)
    assert fails("roles", "allow", "ghost", "post:read", *db) == "error: unknown role: ghost\n"
    assert fails("roles", "allow", "a", "post", *db) == (
        "error: bad permission 'post': expected resource:action, e.g. post:publish, post:* "
        "or *:read\n")
    assert fails("roles", "create", "a", "--inherits", "b", *db) \
        == "error: role a cannot inherit from b: b already inherits from a\n"
    assert fails("roles", "create", "c", "--inherits", "ghost", *db) \
        == "error: unknown role: ghost\n"
    assert fails("roles", "create", "bad name", *db).startswith("error: bad role name 'bad name'")
    assert fails("roles", "delete", "ghost", *db) == "error: unknown role: ghost\n"
    assert fails("grants", "add", "alice", "ghost", *db) == "error: unknown role: ghost\n"
    assert fails("grants", "add", "alice", "a", "--tenant", "", *db) \
        == "error: the tenant must not be empty (leave it out for every tenant)\n"
    assert fails("grants", "add", "alice", "a", "--expires-in", "soon", *db, status=2) \
        .endswith("error: --expires-in: 'soon' is not a duration like 30d, 12h, 15m, 90s or 2w\n")
    assert fails("grants", "check", "alice", "post:*", *db) == (
        "error: bad permission 'post:*': expected resource:action without *, e.g. "
        "post:publish\n")
    # Nothing was created by the failures (c was refused with its unknown parent).
    assert ok("roles", "list", *db) == "a\tinherits -\tallow -\tdeny -\t-\nb\tinherits a\t" \
                                       "allow -\tdeny -\t-\n"


@pytest.mark.parametrize("args", [("roles",), ("grants",)])
def test_naming_no_action_is_a_usage_error(args: tuple[str, ...]) -> None:
    done = fraiseql(*args)
    assert done.returncode == 2
    assert f"say what to do: fraiseql {args[0]} " in done.stderr


def test_a_database_without_the_framework_is_refused(empty_db_url: str) -> None:
    stderr = fails("roles", "list", "--database-url", empty_db_url)
    assert "has no fraiseql.role_grants: run `fraiseql install` first" in stderr
