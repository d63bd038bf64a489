"""A statement over the configured timeout becomes TIMEOUT at its own path; the
other root fields of the same request still answer, and the app keeps serving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from fraiseql.http.app import FraiseQLApp
from fraiseql.testing.client import AppClient


async def test_slow_statement_is_a_timeout_error(
        fresh_blog_db_url: str, make_blog_app: Callable[..., FraiseQLApp]) -> None:
    conn = await asyncpg.connect(fresh_blog_db_url)
    try:
        # Make every read of v_user sleep: the view now calls pg_sleep per row.
        await conn.execute("""
            ALTER VIEW v_user RENAME TO v_user_fast;
            CREATE VIEW v_user AS SELECT * FROM v_user_fast WHERE pg_sleep(0.2) IS NOT NULL;
        """)
    finally:
        await conn.close()
    app = make_blog_app(fresh_blog_db_url, statement_timeout_ms=100)
    async with AppClient(app) as client:
        body: dict[str, Any] = (await client.post_graphql(
            '{ user(id: "39201609-d980-3efb-38f4-1f440309a429") { username } tags { name } }'
        )).json()
        assert body["data"]["user"] is None  # nullable: only this field is lost
        assert len(body["data"]["tags"]) == 30
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] \
            == [(["user"], "TIMEOUT")]
        # A non-null root (a list) that times out takes data down with it, per the spec.
        listed = (await client.post_graphql("{ users(limit: 3) { username } }")).json()
        assert listed["data"] is None
        assert listed["errors"][0]["extensions"]["code"] == "TIMEOUT"
        again = (await client.post_graphql("{ tags { slug } }")).json()
        assert "errors" not in again and len(again["data"]["tags"]) == 30
