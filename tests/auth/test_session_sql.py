"""How an authenticated request's transaction gets its settings."""

from __future__ import annotations

import asyncpg
import pytest

from fraiseql.auth import ANONYMOUS, Auth, Principal
from fraiseql.errors import ConfigurationError
from fraiseql.execution.session import SESSION_KEY, SqlSession, session_of


async def test_values_are_bound_parameters_and_names_are_checked(blog_db_url: str) -> None:
    tricky = {"fraiseql.user_id": "o'brien", "app.note": "tab\there $1 '; DROP TABLE x; --"}
    session = SqlSession(tricky)
    conn = await asyncpg.connect(blog_db_url)
    try:
        for read_only in (False, True):
            await session.begin(conn, read_only)
            assert conn.is_in_transaction()
            assert await conn.fetchval("SELECT current_setting('app.note', true)") == \
                tricky["app.note"]
            assert await conn.fetchval("SELECT current_setting('fraiseql.user_id', true)") == \
                "o'brien"
            await conn.execute("COMMIT")
        # transaction-local: nothing is left on the connection
        assert await conn.fetchval("SELECT current_setting('fraiseql.user_id', true)") == ""
    finally:
        await conn.close()
    for name in ("user_id", "Fraiseql.user", "fraiseql.user-id", "a.b; DROP TABLE t", "a."):
        with pytest.raises(ConfigurationError, match="dotted lower-case name"):
            SqlSession({name: "x"})
    with pytest.raises(ValueError, match="NUL"):
        SqlSession({"fraiseql.user_id": "a\x00b"})


def test_the_middleware_sets_the_builtin_and_claim_settings() -> None:
    auth = Auth([], session_claims={"fraiseql.org": "org_id", "fraiseql.flags": "flags"})
    context = auth.context(Principal("alice", roles=frozenset({"editor", "admin"}),
                                     scopes=frozenset({"w", "r"}), tenant_id="t-1",
                                     claims={"org_id": "acme", "flags": {"beta": True}}))
    session = session_of(context)
    assert session is not None and session is context[SESSION_KEY]
    assert session.variables == {
        "fraiseql.user_id": "alice", "fraiseql.tenant_id": "t-1",
        "fraiseql.roles": '["admin","editor"]', "fraiseql.scopes": '["r","w"]',
        "fraiseql.actor_type": "user", "fraiseql.org": "acme",
        "fraiseql.flags": '{"beta":true}'}
    anonymous = auth.context(ANONYMOUS)
    assert session_of(anonymous) is None and SESSION_KEY not in anonymous
    assert session_of(Auth([], session_variables=False).context(Principal("bob"))) is None
