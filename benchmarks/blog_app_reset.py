"""The blog example app with asyncpg's default pool reset, for comparison.

FraiseQL's ``pool_options`` pass ``reset=`` a no-op (no query when a connection
goes back to the pool). This app is ``examples.blog.app:app`` with that option
removed, so asyncpg's default applies: ``Connection.reset()``, one more round
trip (``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;``)
on every release. It patches ``pool_options`` in this process only, nothing on
disk:

    /work/venv/bin/python benchmarks/posts_vs_pgbench.py --app benchmarks.blog_app_reset:app

``posts_vs_pgbench.py`` prints which statement the pool's idle connections ran
last, so the run shows whether the reset happened.
"""

from __future__ import annotations

from typing import Any

import fraiseql.execution.pool as _pool
from examples.blog.app import app, schema
from fraiseql.config import Settings

_fraiseql_pool_options = _pool.pool_options


def _pool_options_with_default_reset(settings: Settings) -> dict[str, Any]:
    options = _fraiseql_pool_options(settings)
    options.pop("reset")  # asyncpg's default: Connection.reset() on every release
    return options


# create_pool looks pool_options up in its module at call time (app startup).
_pool.pool_options = _pool_options_with_default_reset

__all__ = ["app", "schema"]
