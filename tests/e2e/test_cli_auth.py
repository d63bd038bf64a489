"""`fraiseql apikey create|list|revoke` and `fraiseql sessions list|revoke`, as subprocesses."""

from __future__ import annotations

import pytest
from cli_runner import run_fraiseql as fraiseql

from fraiseql.auth.api_keys import ApiKeyAuthenticator
from fraiseql.auth.principal import AuthenticationError, Principal
from fraiseql.auth.sessions import SessionStore


async def test_apikey_create_list_revoke(fresh_blog_db_url: str) -> None:
    url = fresh_blog_db_url
    created = fraiseql("apikey", "create", "--name", "ci deploy", "--subject", "svc-ci",
                       "--role", "deployer", "--role", "reader", "--scope", "deploy:write",
                       "--tenant", "acme", "--expires-in", "30d", "--database-url", url)
    assert created.returncode == 0, created.stderr
    secret_key = created.stdout.strip()
    assert secret_key.startswith("fq_") and len(secret_key.splitlines()) == 1
    key_id = secret_key[3:15]
    assert f"created API key {key_id} (ci deploy) for svc-ci, expires " in created.stderr
    assert secret_key not in created.stderr

    authenticator = ApiKeyAuthenticator(url)
    try:
        principal = await authenticator.authenticate({"x-api-key": secret_key})
        assert principal is not None and principal.expires_at is not None
        assert principal == Principal(
            subject="svc-ci", roles=frozenset({"deployer", "reader"}),
            scopes=frozenset({"deploy:write"}), tenant_id="acme", actor_type="service",
            token_id=key_id, provider="api_key", expires_at=principal.expires_at)

        listed = fraiseql("apikey", "list", "--database-url", url)
        assert listed.returncode == 0, listed.stderr
        fields = listed.stdout.strip().split("\t")
        assert fields[:6] == [key_id, "ci deploy", "svc-ci", "deployer,reader", "deploy:write",
                              "acme"]
        assert fields[6].startswith("expires ") and fields[7].startswith("last used 20")
        assert secret_key[16:] not in listed.stdout + listed.stderr
        assert "1 API key(s)" in listed.stderr

        revoked = fraiseql("apikey", "revoke", key_id, "--database-url", url)
        assert (revoked.returncode, revoked.stdout) == (0, f"revoked API key {key_id}\n")
        with pytest.raises(AuthenticationError, match="API key revoked"):
            await authenticator.authenticate({"x-api-key": secret_key})
        again = fraiseql("apikey", "revoke", key_id, "--database-url", url)
        assert again.returncode == 1
        assert f"no active API key with id '{key_id}'" in again.stderr
        assert "\trevoked\t" in fraiseql("apikey", "list", "--database-url", url).stdout
    finally:
        await authenticator.close()


def test_apikey_usage_errors(fresh_blog_db_url: str) -> None:
    bad = fraiseql("apikey", "create", "--name", "n", "--subject", "s", "--expires-in", "soon",
                   "--database-url", fresh_blog_db_url)
    assert bad.returncode == 2
    assert "--expires-in: 'soon' is not a duration like 30d" in bad.stderr
    missing = fraiseql("apikey", "create", "--name", "n", "--database-url", fresh_blog_db_url)
    assert missing.returncode == 2 and "--subject" in missing.stderr
    assert fraiseql("apikey").returncode == 2
    assert "Traceback" not in bad.stderr + missing.stderr


def test_apikey_on_a_database_without_the_framework(empty_db_url: str) -> None:
    done = fraiseql("apikey", "list", "--database-url", empty_db_url)
    assert done.returncode == 1
    assert "has no fraiseql.api_keys: run `fraiseql install` first" in done.stderr


async def test_sessions_list_and_revoke(fresh_blog_db_url: str) -> None:
    store = SessionStore(fresh_blog_db_url)
    try:
        first, _ = await store.create("alice", roles=["user"], tenant_id="t1")
        second, token = await store.create("alice")
        await store.create("bob")
        listed = fraiseql("sessions", "list", "--subject", "alice",
                          "--database-url", fresh_blog_db_url)
        assert listed.returncode == 0, listed.stderr
        rows = [line.split("\t") for line in listed.stdout.splitlines()]
        assert [(r[0], r[1], r[2], r[3], r[6]) for r in rows] == [
            (second, "alice", "-", "-", "active"), (first, "alice", "user", "t1", "active")]
        assert "2 session(s)" in listed.stderr

        revoked = fraiseql("sessions", "revoke", second, "--database-url", fresh_blog_db_url)
        assert (revoked.returncode, revoked.stdout) == (0, f"revoked session {second}\n")
        assert await store.is_active(second) is False
        with pytest.raises(AuthenticationError, match="the session is revoked"):
            await store.rotate(token)
        after = fraiseql("sessions", "list", "--subject", "alice", "--database-url",
                         fresh_blog_db_url)
        assert [line.split("\t")[0] for line in after.stdout.splitlines()] == [first]
        every = fraiseql("sessions", "list", "--subject", "alice", "--all", "--database-url",
                         fresh_blog_db_url)
        assert [line.split("\t")[6] for line in every.stdout.splitlines()] \
            == ["revoked revoked by CLI", "active"]
        unknown = fraiseql("sessions", "revoke", second, "--database-url", fresh_blog_db_url)
        assert unknown.returncode == 1 and "no active session with id" in unknown.stderr
    finally:
        await store.close()
