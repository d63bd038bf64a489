"""`fraiseql tv rebuild|list`, run as a subprocess against real databases."""

from __future__ import annotations

import hashlib
import re
import uuid

import asyncpg
from cli_runner import run_fraiseql as fraiseql

from fraiseql.ops.migrations import install_framework


def seed_id(key: str) -> str:
    """The id of a seed row (examples/blog/DATA.md: md5('<kind>-<n>')::uuid)."""
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


POST_1, POST_2 = seed_id("post-1"), seed_id("post-2")

# tv_post is in step with v_post: no row missing on either side, none different.
IN_STEP_SQL = """
SELECT NOT EXISTS (
    SELECT FROM tv_post t FULL JOIN v_post v ON v.id = t.id
    WHERE t.id IS NULL OR v.id IS NULL OR t.data::text <> v.data::text OR t.status <> v.status)
"""


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, server_settings={"TimeZone": "UTC"})
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def fetchval(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url, server_settings={"TimeZone": "UTC"})
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_list_shows_the_blog_projection(blog_db_url: str) -> None:
    done = fraiseql("tv", "list", "--database-url", blog_db_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["TABLE", "SOURCE", "KEY", "REBUILT"]
    assert re.fullmatch(r"tv_post  v_post  id   \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", lines[1])
    assert len(lines) == 2


async def test_rebuild_all_brings_a_tampered_table_back_in_step(fresh_blog_db_url: str) -> None:
    await execute(fresh_blog_db_url, f"""
        UPDATE tv_post SET data = data || '{{"title": "tampered"}}' WHERE id = '{POST_1}';
        DELETE FROM tv_post WHERE id = '{POST_2}';
        UPDATE tb_post SET title = 'Changed behind its back' WHERE id = '{POST_2}';
    """)
    assert await fetchval(fresh_blog_db_url, IN_STEP_SQL) is False
    done = fraiseql("tv", "rebuild", "--database-url", fresh_blog_db_url)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"rebuilt tv_post from v_post in \d+\.\d\d s: "
                        r"1 inserted, 1 updated, 0 deleted\n", done.stdout), done.stdout
    assert await fetchval(fresh_blog_db_url, IN_STEP_SQL) is True
    again = fraiseql("tv", "rebuild", "tv_post", "--database-url", fresh_blog_db_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.endswith(": 0 inserted, 0 updated, 0 deleted\n")


def test_rebuild_reports_each_name_it_cannot_rebuild(fresh_blog_db_url: str) -> None:
    done = fraiseql("tv", "rebuild", "nope", "v_post", "tv_post", "public.tv_post",
                    "--database-url", fresh_blog_db_url)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: nope: no such table",
        ("error: v_post is not a registered projection table (register it with SELECT "
         "fraiseql.register_projection('v_post', '<source view>'))"),
    ]
    # The registered one is still rebuilt, once, though named twice.
    assert done.stdout.count("rebuilt tv_post from v_post") == 1


async def test_a_dropped_table_or_source_is_reported(fresh_blog_db_url: str) -> None:
    await execute(fresh_blog_db_url, """
        CREATE TABLE tv_dropped (id uuid PRIMARY KEY, data jsonb);
        SELECT fraiseql.register_projection('tv_dropped', 'v_tag');
        DROP TABLE tv_dropped;
        CREATE VIEW v_orphan_source AS SELECT id, data FROM v_tag;
        CREATE TABLE tv_orphan (id uuid PRIMARY KEY, data jsonb);
        SELECT fraiseql.register_projection('tv_orphan', 'v_orphan_source');
        DROP VIEW v_orphan_source;
    """)
    listed = fraiseql("tv", "list", "--database-url", fresh_blog_db_url)
    assert listed.returncode == 1
    assert re.search(r"^\(dropped, OID \d+\)\s+v_tag\s+id\s+never$", listed.stdout, re.MULTILINE)
    assert re.search(r"^tv_orphan\s+\(dropped, OID \d+\)\s+id\s+never$", listed.stdout, re.MULTILINE)
    assert re.search(r"^error: the table registered with OID \d+ was dropped; forget it with "
                     r"DELETE FROM fraiseql.projections WHERE tv = \d+$", listed.stderr, re.MULTILINE)
    assert re.search(r"^error: tv_orphan: its source \(OID \d+\) was dropped", listed.stderr,
                     re.MULTILINE)
    rebuilt = fraiseql("tv", "rebuild", "--database-url", fresh_blog_db_url)
    assert rebuilt.returncode == 1
    assert "rebuilt tv_post from v_post" in rebuilt.stdout
    assert len(rebuilt.stderr.splitlines()) == 2


async def test_nothing_registered(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await install_framework(conn)
    finally:
        await conn.close()
    listed = fraiseql("tv", "list", "--database-url", empty_db_url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("no projection tables registered")
    rebuilt = fraiseql("tv", "rebuild", "--database-url", empty_db_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout == "no projection tables registered: nothing to rebuild\n"


def test_without_the_framework_sql_it_says_to_install(empty_db_url: str) -> None:
    for action in ("list", "rebuild"):
        done = fraiseql("tv", action, "--database-url", empty_db_url)
        assert done.returncode == 1
        assert done.stderr.startswith("error: the database at ")
        assert done.stderr.rstrip().endswith("run `fraiseql install`")


def test_usage_errors() -> None:
    done = fraiseql("tv")
    assert done.returncode == 2
    assert done.stderr == ("error: say what to do: fraiseql tv rebuild [NAME ...] | "
                           "fraiseql tv list\n")
    assert fraiseql("tv", "nope").returncode == 2
    assert "rebuild" in fraiseql("--help").stdout + fraiseql("tv", "--help").stdout
