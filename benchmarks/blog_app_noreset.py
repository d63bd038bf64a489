"""The blog example with one experimental change: asyncpg's pool does not reset on release.

asyncpg's pool runs ``Connection.reset()`` (``SELECT pg_advisory_unlock_all();
CLOSE ALL; UNLISTEN *; RESET ALL``: one more round trip, plus a task and a
timeout) every time a connection goes back to the pool. FraiseQL's engine sets
no session state, so ``reset=`` a no-op (asyncpg still rolls back an open
transaction and drops listeners first) measures what that costs per request.
Used by ``posts_vs_pgbench.py --app benchmarks.blog_app_noreset:app``; not a
change to FraiseQL itself.
"""

from __future__ import annotations

from typing import Any

import fraiseql.execution.pool as pool_module

_original = pool_module.pool_options


async def _no_reset(conn: Any) -> None:
    return None


def _pool_options(settings: Any) -> dict[str, Any]:
    return {**_original(settings), "reset": _no_reset}


pool_module.pool_options = _pool_options

from examples.blog.app import app

__all__ = ["app"]
