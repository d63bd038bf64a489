"""`fraiseql audit verify|list`, run as a subprocess against real databases."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest_asyncio
from cli_runner import run_fraiseql as fraiseql

from fraiseql.authz.audit import record
from fraiseql.ops.migrations import install_framework


@pytest_asyncio.fixture(loop_scope="session")
async def audited_url(empty_db_url: str) -> str:
    """An installed database with five audit records."""
    conn = await asyncpg.connect(empty_db_url)
    try:
        await install_framework(conn)
        for n, (actor, tenant, kind) in enumerate([
                ("alice", "t1", "mutation"), ("bob", "t1", "denied"), ("alice", "t2", "denied"),
                (None, None, "denied"), ("alice", "t1", "mutation")], start=1):
            await record(conn, actor=actor, actor_type="user" if actor else None,
                         tenant_id=tenant, operation=f"op{n}", kind=kind,
                         outcome="success" if kind == "mutation" else "denied",
                         detail={"n": n}, trace_id=f"tr{n}" if n != 4 else None)
    finally:
        await conn.close()
    return empty_db_url


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_verify_an_intact_log(audited_url: str) -> None:
    done = fraiseql("audit", "verify", "--database-url", audited_url)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, "audit log: 5 records, chain intact\n", "")


async def test_verify_names_a_changed_record(audited_url: str) -> None:
    await execute(audited_url, "UPDATE fraiseql.audit_log SET actor = 'carol' WHERE id = 3")
    done = fraiseql("audit", "verify", "--database-url", audited_url)
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["audit log: chain broken after 2 intact records",
                                        "record 3: hash does not match its content"]


async def test_verify_names_the_record_after_a_deleted_one(audited_url: str) -> None:
    await execute(audited_url, "DELETE FROM fraiseql.audit_log WHERE id = 2")
    done = fraiseql("audit", "verify", "--database-url", audited_url)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "audit log: chain broken after 1 intact record",
        "record 3: prev_hash does not match record 1's hash (a record was deleted or reordered)"]


def test_list_prints_the_newest_first(audited_url: str) -> None:
    done = fraiseql("audit", "list", "--database-url", audited_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["ID", "RECORDED", "(UTC)", "KIND", "OUTCOME", "OPERATION",
                                "ACTOR", "TENANT", "TRACE", "DETAIL"]
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"
    assert [re.sub(stamp, "<time>", line).split() for line in lines[1:]] == [
        ["5", "<time>", "mutation", "success", "op5", "alice", "(user)", "t1", "tr5", '{"n":5}'],
        ["4", "<time>", "denied", "denied", "op4", "-", "-", "-", '{"n":4}'],
        ["3", "<time>", "denied", "denied", "op3", "alice", "(user)", "t2", "tr3", '{"n":3}'],
        ["2", "<time>", "denied", "denied", "op2", "bob", "(user)", "t1", "tr2", '{"n":2}'],
        ["1", "<time>", "mutation", "success", "op1", "alice", "(user)", "t1", "tr1", '{"n":1}'],
    ]


def test_list_filters(audited_url: str) -> None:
    def ids(*args: str) -> list[str]:
        done = fraiseql("audit", "list", "--database-url", audited_url, *args)
        assert done.returncode == 0, done.stderr
        return [line.split()[0] for line in done.stdout.splitlines()[1:]]

    assert ids("--limit", "2") == ["5", "4"]
    assert ids("--actor", "alice") == ["5", "3", "1"]
    assert ids("--tenant", "t1") == ["5", "2", "1"]
    assert ids("--kind", "denied") == ["4", "3", "2"]
    assert ids("--actor", "alice", "--kind", "denied", "--tenant", "t2") == ["3"]
    none = fraiseql("audit", "list", "--actor", "nobody", "--database-url", audited_url)
    assert (none.returncode, none.stdout) == (0, "no audit records match\n")


def test_bad_usage_exits_2(audited_url: str) -> None:
    limit = fraiseql("audit", "list", "--limit", "0", "--database-url", audited_url)
    assert (limit.returncode, limit.stderr) == (2, "error: --limit must be at least 1\n")
    kind = fraiseql("audit", "list", "--kind", "read", "--database-url", audited_url)
    assert kind.returncode == 2 and "invalid choice: 'read'" in kind.stderr
    bare = fraiseql("audit")
    assert bare.returncode == 2
    assert bare.stderr == "error: say what to do: fraiseql audit verify | fraiseql audit list\n"


def test_without_the_framework_sql_it_says_to_install(empty_db_url: str) -> None:
    for action in ("verify", "list"):
        done = fraiseql("audit", action, "--database-url", empty_db_url)
        assert done.returncode == 1
        assert re.fullmatch(r"error: the database at .* has no fraiseql\.audit_log \(framework "
                            r"SQL older than version 9, or not installed\): run `fraiseql "
                            r"install`\n", done.stderr), done.stderr


async def test_a_role_without_select_is_told_what_to_grant(audited_url: str) -> None:
    role = f"audit_app_{uuid.uuid4().hex[:10]}"
    await execute(audited_url, f"CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA fraiseql TO"
                               f" {role}; GRANT INSERT ON fraiseql.audit_log TO {role}")
    parts = urlsplit(audited_url)
    as_role = urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))
    try:
        done = fraiseql("audit", "verify", "--database-url", as_role)
        assert done.returncode == 1
        assert done.stderr == ("error: permission denied for table audit_log: reading the audit "
                               "log needs SELECT on fraiseql.audit_log and "
                               "fraiseql.audit_log_head\n")
    finally:
        await execute(audited_url, f"DROP OWNED BY {role}; DROP ROLE {role}")
