"""Apply schema.sql (idempotent) to $DATABASE_URL and load fraiseql_bench into shared_buffers.

Run by start.sh after `fraiseql install`; uses asyncpg, which FraiseQL already depends on,
so no psql is needed.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys
import time

import asyncpg

HERE = pathlib.Path(__file__).resolve().parent

# Housekeeping before a run: the harness deletes W5's comments after each W5 run, but not
# the change-log rows FraiseQL wrote for them, nor can it vacuum our tables.
HOUSEKEEPING = """
DELETE FROM fraiseql.change_log
WHERE entity_type = 'Comment' AND entity_after->>'body' LIKE 'bench-w5%'
"""

# Load tv_user and the indexes into shared_buffers (tv_post's heap, ~600 MB, is left to the
# warm-up: prewarming it would push the other targets' tables out of the 1 GB of buffers).
PREWARM = """
SELECT count(pg_prewarm(oid)) FROM (
    SELECT c.oid FROM pg_class c
    WHERE c.relnamespace = 'fraiseql_bench'::regnamespace
      AND (c.relkind = 'i' OR c.relname = 'tv_user')) AS r
"""


async def main() -> None:
    url = os.environ["DATABASE_URL"]
    t0 = time.time()
    conn = await asyncpg.connect(url)
    try:
        conn.add_log_listener(lambda _c, msg: print(f"  {msg.message}", file=sys.stderr))
        await conn.execute((HERE / "schema.sql").read_text())
        await conn.execute(HOUSEKEEPING)
        for table in ("fraiseql.change_log", "fraiseql_bench.tv_post", "fraiseql_bench.tv_user"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        pages = await conn.fetchval(PREWARM)
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM fraiseql_bench.tv_user) AS users, "
            "(SELECT count(*) FROM fraiseql_bench.tv_post) AS posts")
    finally:
        await conn.close()
    print(f"fraiseql_bench ready in {time.time() - t0:.1f}s: {counts['users']} tv_user, "
          f"{counts['posts']} tv_post rows; prewarmed {pages} relations", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
