"""asyncpg vs psycopg 3 on FraiseQL's hot path: one prepared statement, json as bytes.

Each contender runs the SQL FraiseQL generates for a root field N times from
``--tasks`` concurrent tasks over a pool of ``--pool`` connections: acquire a
connection, execute the prepared statement, take the json column as the raw
bytes PostgreSQL sent, release. That is what the engine does per request.

Contenders (``--drivers``):

* ``asyncpg``: an asyncpg pool built with FraiseQL's own ``pool_options`` as
  they are (the binary json codec returning bytes, statement cache on, and
  ``reset=`` a no-op: no query on release) and ``conn.fetch``, exactly as
  ``fraiseql/execution/engine.py`` runs a root.
* ``asyncpg-reset``: the same with the ``reset`` option removed, so asyncpg's
  default applies: ``Connection.reset()``, one extra round trip
  (``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;``) on
  every release. asyncpg's default, for comparison.
* ``psycopg``: psycopg 3 ``AsyncConnectionPool``, autocommit, ``prepare=True``,
  ``AsyncRawCursor`` ($n placeholders, the same SQL text), ``binary=True``
  results and a binary json loader returning bytes.

Rounds alternate the order (A B C, C B A, A B C, ...) so that drift of the
noisy machine is spread over every contender. Figures per contender: median
req/s (wall clock), wall µs per statement, and client CPU µs per statement
(``time.process_time`` of this process: the driver's own cost, which is what
differs between drivers; the database's work is the same for all).

    cd /work/main && /work/venv/bin/python benchmarks/driver_hotpath.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import blogdb


class Contender:
    """One driver setup: opened once, then asked to run a statement N times."""

    name = ""

    async def open(self, url: str, size: int) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def run_one(self, sql: str, params: list[Any]) -> bytes | None:
        raise NotImplementedError


class Asyncpg(Contender):
    """FraiseQL's pool: ``pool_options`` as they are (no query on release)."""

    name = "asyncpg"
    default_reset: bool = False

    async def open(self, url: str, size: int) -> None:
        import asyncpg

        from fraiseql.config import Settings
        from fraiseql.execution.pool import pool_options
        options = pool_options(Settings(database_url=url, pool_min_size=size,
                                        pool_max_size=size))
        options["min_size"] = size
        if self.default_reset:
            options.pop("reset")  # asyncpg's default: Connection.reset() on release
        self.pool = await asyncpg.create_pool(url, **options)

    async def close(self) -> None:
        await self.pool.close()

    async def run_one(self, sql: str, params: list[Any]) -> bytes | None:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(sql, *params)
        return rows[0][0] if rows else None

    async def check_reset(self, url: str) -> None:
        """Fail unless the pool does (or skips) the reset query its name says."""
        async with self.pool.acquire() as conn:  # release awaits the reset, if any
            pid = conn.get_server_pid()
            await conn.fetch("SELECT 1")
        last = await blogdb.last_query(url, pid)
        resets = "RESET ALL" in last
        assert resets == self.default_reset, f"{self.name}: last query on release {last!r}"
        print(f"  {self.name}: query on release: {'asyncpg reset()' if resets else 'none'}"
              f" (pg_stat_activity: {' '.join(last.split())!r})")


class AsyncpgReset(Asyncpg):
    """asyncpg's default reset on release, for comparison."""

    name = "asyncpg-reset"
    default_reset = True


class Psycopg(Contender):
    name = "psycopg"

    async def open(self, url: str, size: int) -> None:
        import psycopg
        from psycopg.adapt import Loader
        from psycopg.pq import Format
        from psycopg_pool import AsyncConnectionPool

        class JsonBytesLoader(Loader):
            format = Format.BINARY

            def load(self, data: Any) -> bytes:
                return bytes(data)

        class JsonBytesTextLoader(JsonBytesLoader):
            format = Format.TEXT

        async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
            conn.adapters.register_loader("json", JsonBytesLoader)
            conn.adapters.register_loader("json", JsonBytesTextLoader)

        self.pool = AsyncConnectionPool(
            url, min_size=size, max_size=size, open=False, configure=configure,
            kwargs={"autocommit": True, "prepare_threshold": 0,
                    "cursor_factory": psycopg.AsyncRawCursor,
                    "application_name": "fraiseql",
                    "options": "-c statement_timeout=30000 -c TimeZone=UTC"})
        await self.pool.open(wait=True)

    async def close(self) -> None:
        await self.pool.close()

    async def run_one(self, sql: str, params: list[Any]) -> bytes | None:
        async with self.pool.connection() as conn:
            cur = conn.cursor(binary=True)
            await cur.execute(sql, params, prepare=True)
            rows = await cur.fetchall()
        return rows[0][0] if rows else None


CONTENDERS = {c.name: c for c in (Asyncpg, AsyncpgReset, Psycopg)}


async def measure(contender: Contender, sql: str, params: list[Any], n: int,
                  tasks: int) -> tuple[float, float]:
    """Run the statement n times from ``tasks`` tasks; (wall seconds, CPU seconds)."""
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await contender.run_one(sql, params)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return time.perf_counter() - wall0, time.process_time() - cpu0


async def bench_statement(label: str, sql: str, params: list[Any], contenders: list[Contender],
                          n: int, rounds: int, tasks: int) -> dict[str, dict[str, float]]:
    # Same bytes from every driver, and everything prepared and warm before timing.
    answers = {c.name: await c.run_one(sql, params) for c in contenders}
    first = next(iter(answers.values()))
    assert first, f"{label}: empty result"
    for name, value in answers.items():
        assert value == first, f"{label}: {name} returned different bytes"
    for c in contenders:
        await measure(c, sql, params, max(n // 10, 200), tasks)

    walls: dict[str, list[float]] = {c.name: [] for c in contenders}
    cpus: dict[str, list[float]] = {c.name: [] for c in contenders}
    print(f"\n== {label}: {n} statements per round, {tasks} tasks, {len(first)} bytes per result")
    for r in range(rounds):
        order = contenders if r % 2 == 0 else contenders[::-1]
        line = []
        for c in order:
            wall, cpu = await measure(c, sql, params, n, tasks)
            walls[c.name].append(wall)
            cpus[c.name].append(cpu)
            line.append(f"{c.name} {n / wall:8.0f} req/s")
        print(f"  round {r + 1}: " + " | ".join(line), flush=True)

    summary: dict[str, dict[str, float]] = {}
    print(f"  {'driver':<16} {'req/s (median)':>15} {'wall µs/stmt':>13} {'client CPU µs/stmt':>19}")
    for c in contenders:
        wall = statistics.median(walls[c.name])
        cpu = statistics.median(cpus[c.name])
        summary[c.name] = {"rps": n / wall, "wall_us": wall / n * 1e6, "cpu_us": cpu / n * 1e6}
        s = summary[c.name]
        print(f"  {c.name:<16} {s['rps']:15.0f} {s['wall_us']:13.1f} {s['cpu_us']:19.1f}")
    if "psycopg" in summary:
        base = summary["psycopg"]
        for name, s in summary.items():
            if name != "psycopg":
                print(f"  ratio {name}/psycopg: req/s x{s['rps'] / base['rps']:.2f}, "
                      f"client CPU per statement x{s['cpu_us'] / base['cpu_us']:.2f}")
    return summary


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--statement", choices=["posts", "user", "both"], default="both")
    parser.add_argument("-n", type=int, default=0,
                        help="statements per round (default: 4000 posts, 20000 user)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--drivers", default="asyncpg,asyncpg-reset,psycopg",
                        help=f"comma-separated, from {', '.join(CONTENDERS)}")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop (as uvicorn does)")
    args = parser.parse_args()

    _pg, url = await blogdb.start_blog_database()
    statements = []
    if args.statement in ("posts", "both"):
        statements.append(("posts", blogdb.POSTS_QUERY, args.n or 4000))
    if args.statement in ("user", "both"):
        statements.append(("user", blogdb.USER_QUERY, args.n or 20000))

    contenders: list[Contender] = [CONTENDERS[name]() for name in args.drivers.split(",")]
    for c in contenders:
        await c.open(url, args.pool)
    try:
        print(f"python {sys.version.split()[0]}, loop "
              f"{type(asyncio.get_running_loop()).__module__}, pool {args.pool}, "
              f"tasks {args.tasks}, rounds {args.rounds}")
        for c in contenders:
            if isinstance(c, Asyncpg):
                await c.check_reset(url)
        for label, query, n in statements:
            sql, params = await blogdb.fraiseql_sql(url, query)
            print(f"\n{label}: {query}\n  params {params}")
            await bench_statement(label, sql, params, contenders, n, args.rounds, args.tasks)
    finally:
        for c in contenders:
            await c.close()


if __name__ == "__main__":
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.run(main())
    else:
        asyncio.run(main())
