"""What the tenant predicate costs: the blog's posts with and without tenant scoping.

Two uvicorn servers (1 worker each, uvloop, httptools) on the same embedded PostgreSQL
database, a copy of the blog benchmark database whose ``tv_post`` has a ``tenant_id``
column ('blog' on every row) and an index on ``(tenant_id, id)``:

* **plain**: ``examples.blog.app:app``, Post not tenant-scoped;
* **scoped**: ``benchmarks.tenant_app:app``, the same schema with Post declared
  ``tenant_column="tenant_id"``: every statement reading tv_post carries
  ``v.tenant_id = $n`` (the list's id page and its fetch by id, the single object).

Both authenticate every request with the same dev token (tenant ``blog``), so the only
difference is the predicate; every row matches it (the worst case: it filters nothing).
Each query is loaded by ``wrk -t2 -c8 -d10s`` in A B B A order (``--rounds 2``); the ratio
is scoped / plain of the medians. Responses are checked (200, expected root, no errors)
and the two servers must answer byte for byte alike.

``--statements`` measures the database alone instead: the two statements FraiseQL sends
for each query (plain, and scoped with the tenant bound), prepared on one connection and
executed ``--executions`` times each, alternating, for ``--rounds`` rounds; the ratio is
of the median microseconds per execution (the statements must return the same bytes).

    /work/venv/bin/python benchmarks/tenant_predicate.py
    /work/venv/bin/python benchmarks/tenant_predicate.py --statements
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import blogdb
from benchmarks.auth_overhead import SECRET, lua_script, post
from benchmarks.posts_vs_pgbench import Server, run_wrk

DATABASE = "blog_tenant_bench"
QUERIES = {
    "posts": blogdb.POSTS_QUERY,
    "post": "{ post(id: \"%s\") { title author { fullName } } }",
    "filtered": blogdb.FILTERED_QUERY,
}
TARGETS = {"plain": "examples.blog.app:app", "scoped": "benchmarks.tenant_app:app"}


async def tenant_database(pg: object, source_url: str) -> tuple[str, str]:
    """A copy of the blog database with tv_post.tenant_id; its URL and one post id."""
    conn = await asyncpg.connect(source_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        await conn.execute(f"CREATE DATABASE {DATABASE} TEMPLATE {blogdb.DATABASE}")
    finally:
        await conn.close()
    url = source_url.replace(f"/{blogdb.DATABASE}", f"/{DATABASE}")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ALTER TABLE tv_post ADD COLUMN tenant_id text NOT NULL "
                           "DEFAULT 'blog'; "
                           "CREATE INDEX tv_post_tenant_id_idx ON tv_post (tenant_id, id); "
                           "ANALYZE tv_post")
        post_id = str(await conn.fetchval("SELECT id FROM tv_post ORDER BY id LIMIT 1"))
        rows = await conn.fetchval("SELECT count(*) FROM tv_post")
    finally:
        await conn.close()
    print(f"tv_post: {rows} rows, all in tenant 'blog'")
    return url, post_id


async def statements(url: str, queries: dict[str, str], rounds: int, executions: int) -> None:
    """The database alone: each query's plain and scoped statement, timed alternately."""
    import time

    from fraiseql.execution.engine import _bind
    os.environ["DATABASE_URL"] = url

    async def compiled(module: str, query: str) -> tuple[str, list[object]]:
        app = __import__(module, fromlist=["app"]).app
        conn = await asyncpg.connect(url)
        try:
            await app.engine.load_sources(conn)
        finally:
            await conn.close()
        plan = app.engine.compile(query)
        values = [site.values({}) for site in plan.sites]
        return plan.roots[0].sql, _bind(plan.roots[0], values, {"tenant_id": "blog"})

    # The plain app first: the scoped module marks the shared Post class as tenant-scoped.
    plain = {label: await compiled("examples.blog.app", q) for label, q in queries.items()}
    scoped = {label: await compiled("benchmarks.tenant_app", q) for label, q in queries.items()}
    conn = await asyncpg.connect(url)
    try:
        for label in queries:
            prepared = {name: (await conn.prepare(sql), args) for name, (sql, args)
                        in (("plain", plain[label]), ("scoped", scoped[label]))}
            answers = {name: await stmt.fetchval(*args) for name, (stmt, args)
                       in prepared.items()}
            assert answers["plain"] == answers["scoped"], label
            times: dict[str, list[float]] = {"plain": [], "scoped": []}
            for r in range(rounds + 1):  # round 0 warms up
                for name in (("plain", "scoped") if r % 2 == 0 else ("scoped", "plain")):
                    stmt, args = prepared[name]
                    started = time.perf_counter()
                    for _ in range(executions):
                        await stmt.fetchval(*args)
                    if r:
                        times[name].append((time.perf_counter() - started) / executions * 1e6)
            medians = {name: statistics.median(values) for name, values in times.items()}
            print(f"  {label:<9} plain {medians['plain']:7.1f} µs   scoped "
                  f"{medians['scoped']:7.1f} µs   scoped/plain "
                  f"{medians['scoped'] / medians['plain']:.3f}   (rounds: "
                  f"{', '.join(f'{v:.0f}' for v in times['plain'])} / "
                  f"{', '.join(f'{v:.0f}' for v in times['scoped'])})")
    finally:
        await conn.close()


def start(url: str, workdir: Path, name: str) -> Server:
    folder = workdir / name
    folder.mkdir()
    os.environ["FRAISEQL_DEV_AUTH_SECRET"] = SECRET
    try:
        return Server(url, folder, TARGETS[name])
    finally:
        os.environ.pop("FRAISEQL_DEV_AUTH_SECRET", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", default="posts,post,filtered")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--statements", action="store_true",
                        help="time the statements in the database alone (no HTTP)")
    parser.add_argument("--executions", type=int, default=2000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    pg, source_url = asyncio.run(blogdb.start_blog_database())
    url, post_id = asyncio.run(tenant_database(pg, source_url))
    if args.statements:
        chosen = {label: QUERIES[label] % post_id if "%s" in QUERIES[label] else QUERIES[label]
                  for label in args.queries.split(",")}
        asyncio.run(statements(url, chosen, args.rounds, args.executions))
        return
    from fraiseql.auth.dev import make_dev_token
    authorization = "Bearer " + make_dev_token(SECRET, "bench-user", tenant_id="blog",
                                               expires_in=86400)
    workdir = Path(tempfile.mkdtemp(prefix="fraiseql-tenant-bench-"))
    print(f"database {url}\nwork files {workdir}")
    servers = {name: start(url, workdir, name) for name in TARGETS}
    headers = {"Authorization": authorization}
    results: dict[str, dict[str, float]] = {}
    try:
        for label in args.queries.split(","):
            query = QUERIES[label] % post_id if "%s" in QUERIES[label] else QUERIES[label]
            bodies = {name: post(server.url, query, headers) for name, server in servers.items()}
            assert bodies["plain"] == bodies["scoped"], (bodies["plain"][:200],
                                                         bodies["scoped"][:200])
            assert b'"errors"' not in bodies["scoped"], bodies["scoped"][:300]
            without_tenant = post(servers["scoped"].url, query, {})
            assert b"TENANT_REQUIRED" in without_tenant, without_tenant[:200]
            scripts = {name: lua_script(workdir / f"{label}-{name}.lua", label, query,
                                        authorization) for name in servers}
            print(f"\n== {label}: {query}  ({len(bodies['plain'])} bytes per response)")
            warm = argparse.Namespace(**{**vars(args), "duration": 2})
            for name, server in servers.items():
                run_wrk(server, scripts[name], warm)
            rps: dict[str, list[float]] = {name: [] for name in servers}
            for r in range(args.rounds):
                order = ["plain", "scoped"] if r % 2 == 0 else ["scoped", "plain"]
                for name in order:
                    print(f"   round {r + 1} {name}")
                    rps[name].append(run_wrk(servers[name], scripts[name], args))
            medians = {name: statistics.median(values) for name, values in rps.items()}
            results[label] = medians
    finally:
        for server in servers.values():
            server.stop()
    print("\nsummary (medians)")
    for label, medians in results.items():
        print(f"  {label:<9} plain {medians['plain']:8.0f} req/s   scoped "
              f"{medians['scoped']:8.0f} req/s   scoped/plain "
              f"{medians['scoped'] / medians['plain']:.3f}")


if __name__ == "__main__":
    main()
