"""The one message that opens an authenticated request's transaction."""

from __future__ import annotations

import pytest

from fraiseql.auth import ANONYMOUS, Auth, Principal
from fraiseql.errors import ConfigurationError
from fraiseql.execution.session import SESSION_KEY, SqlSession, session_of


def test_values_are_literals_and_names_are_checked() -> None:
    session = SqlSession({"fraiseql.user_id": "o'brien", "app.note": "tab\there"})
    assert session.begin_sql() == (
        "BEGIN; SELECT set_config('fraiseql.user_id', 'o''brien', true), "
        "set_config('app.note', E'tab\\u0009here', true)")
    assert session.begin_sql(read_only=True).startswith("BEGIN READ ONLY; SELECT set_config(")
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
