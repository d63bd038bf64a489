"""API keys, native sessions and revoked tokens against a real PostgreSQL (issue 6, store)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import pytest
import pytest_asyncio

from fraiseql.auth import api_keys as api_keys_module
from fraiseql.auth import revocation as revocation_module
from fraiseql.auth.api_keys import (
    ApiKeyAuthenticator,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from fraiseql.auth.principal import AuthenticationError, Principal
from fraiseql.auth.revocation import RevocationList, is_revoked, purge_expired, revoke
from fraiseql.auth.sessions import AccessTokens, SessionAuthenticator, SessionStore
from fraiseql.errors import ConfigurationError
from fraiseql.ops.migrations import install_framework
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)

SECRET = "s" * 32
SECOND_PROCESS = Path(__file__).with_name("auth_second_process.py")
REPO = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def auth_url(pg_server: TestServer) -> AsyncIterator[str]:
    """One database with the framework installed; tests use subjects of their own."""
    name = unique_database_name("fraiseql_auth")
    url = await create_database(pg_server, name)
    conn = await asyncpg.connect(url)
    try:
        await install_framework(conn)
    finally:
        await conn.close()
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(loop_scope="session")
async def db(auth_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(auth_url)
    yield conn
    await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def store(auth_url: str) -> AsyncIterator[SessionStore]:
    sessions = SessionStore(auth_url)
    yield sessions
    await sessions.close()


async def refused(call: Any) -> str:
    """The message of the AuthenticationError ``call`` (an awaitable) raises."""
    with pytest.raises(AuthenticationError) as caught:
        await call
    assert caught.value.code.value == "UNAUTHENTICATED"
    return caught.value.message


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --- API keys ------------------------------------------------------------------------


async def test_an_api_key_authenticates_its_service_principal(db: asyncpg.Connection,
                                                              auth_url: str) -> None:
    key, secret_key = await create_api_key(db, name="billing sync", subject="svc-billing",
                                           roles=["writer", "reader", "writer"],
                                           scopes=["orders:read"], tenant_id="t-1",
                                           expires_in=timedelta(days=30))
    prefix, key_id, secret = secret_key[:3], secret_key[3:15], secret_key[16:]
    assert (prefix, key_id, secret_key[15], len(secret)) == ("fq_", key.id, "_", 43)
    authenticator = ApiKeyAuthenticator(auth_url)
    try:
        principal = await authenticator.authenticate({"x-api-key": secret_key})
    finally:
        await authenticator.close()
    assert key.expires_at is not None and key.expires_at - key.created_at == timedelta(days=30)
    assert principal == Principal(
        subject="svc-billing", roles=frozenset({"reader", "writer"}),
        scopes=frozenset({"orders:read"}), tenant_id="t-1", actor_type="service",
        token_id=key.id, provider="api_key", expires_at=key.expires_at.timestamp())
    assert (key.roles, key.scopes) == (("reader", "writer"), ("orders:read",))


async def test_only_the_hash_of_the_secret_is_stored(db: asyncpg.Connection) -> None:
    key, secret_key = await create_api_key(db, name="n", subject="svc-hash")
    secret = secret_key[16:]
    row = await db.fetchrow("SELECT *, to_jsonb(k)::text AS whole FROM fraiseql.api_keys k"
                            " WHERE id = $1", key.id)
    assert row is not None
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).digest()
    assert secret not in row["whole"] and secret_key not in row["whole"]


async def test_no_header_is_none_and_every_bad_key_reads_the_same(
        db: asyncpg.Connection, auth_url: str) -> None:
    _, secret_key = await create_api_key(db, name="n", subject="svc-bad")
    wrong_secret = secret_key[:16] + ("A" if secret_key[16] != "A" else "B") + secret_key[17:]
    unknown_id = "fq_ZZZZZZZZZZZZ_" + secret_key[16:]
    authenticator = ApiKeyAuthenticator(auth_url)
    try:
        assert await authenticator.authenticate({"authorization": "Bearer x"}) is None
        for bad in (wrong_secret, unknown_id, "fq_short", "not a key", secret_key + "x", ""):
            assert await refused(authenticator.authenticate({"x-api-key": bad})) \
                == "invalid API key", bad
        # Surrounding blanks (a pasted key) are not an error.
        principal = await authenticator.authenticate({"x-api-key": f" {secret_key}\n"})
        assert principal is not None and principal.subject == "svc-bad"
    finally:
        await authenticator.close()


async def test_the_hashes_are_compared_in_constant_time(db: asyncpg.Connection, auth_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    key, secret_key = await create_api_key(db, name="n", subject="svc-ct")
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # as api_keys calls it
    stored = await db.fetchval("SELECT secret_hash FROM fraiseql.api_keys WHERE id = $1", key.id)
    authenticator = ApiKeyAuthenticator(auth_url)
    try:
        assert (await authenticator.authenticate({"x-api-key": secret_key})) is not None
        unknown = "fq_ZZZZZZZZZZZZ_" + secret_key[16:]
        await refused(authenticator.authenticate({"x-api-key": unknown}))
    finally:
        await authenticator.close()
    presented = hashlib.sha256(secret_key[16:].encode()).digest()
    # The unknown id went through the same comparison, against a dummy hash.
    assert compared == [(presented, stored), (presented, api_keys_module._DUMMY_HASH)]


async def test_revoked_and_expired_keys_are_refused(db: asyncpg.Connection,
                                                    auth_url: str) -> None:
    revoked, revoked_key = await create_api_key(db, name="n", subject="svc-rev")
    expired, expired_key = await create_api_key(db, name="n", subject="svc-exp",
                                                expires_in=timedelta(hours=1))
    authenticator = ApiKeyAuthenticator(auth_url)
    try:
        assert (await authenticator.authenticate({"x-api-key": revoked_key})) is not None
        assert await revoke_api_key(db, revoked.id) is True
        assert await revoke_api_key(db, revoked.id) is False
        assert await revoke_api_key(db, "nosuchkey123") is False
        assert await refused(authenticator.authenticate({"x-api-key": revoked_key})) \
            == "API key revoked"
        await db.execute("UPDATE fraiseql.api_keys SET expires_at = now() - interval '1 s'"
                         " WHERE id = $1", expired.id)
        assert await refused(authenticator.authenticate({"x-api-key": expired_key})) \
            == "API key expired"
    finally:
        await authenticator.close()


async def test_last_used_is_written_at_most_once_a_minute(db: asyncpg.Connection,
                                                          auth_url: str) -> None:
    key, secret_key = await create_api_key(db, name="n", subject="svc-used")
    pool = await asyncpg.create_pool(auth_url, min_size=1, max_size=2)
    authenticator = ApiKeyAuthenticator(pool)  # the app's pool, not one of its own
    try:
        await authenticator.authenticate({"x-api-key": secret_key})
        first = await db.fetchval("SELECT last_used_at FROM fraiseql.api_keys WHERE id = $1",
                                  key.id)
        assert first is not None
        await authenticator.authenticate({"x-api-key": secret_key})
        assert await db.fetchval("SELECT last_used_at FROM fraiseql.api_keys WHERE id = $1",
                                 key.id) == first
        await db.execute("UPDATE fraiseql.api_keys SET last_used_at = now() - interval '2 min'"
                         " WHERE id = $1", key.id)
        await authenticator.authenticate({"x-api-key": secret_key})
        assert await db.fetchval("SELECT last_used_at > now() - interval '5 s'"
                                 " FROM fraiseql.api_keys WHERE id = $1", key.id) is True
        # A pool that only exists once the app started: passed as a function.
        late = ApiKeyAuthenticator(lambda: pool)
        principal = await late.authenticate({"x-api-key": secret_key})
        assert principal is not None and principal.subject == "svc-used"
    finally:
        await authenticator.close()  # leaves the app's pool open
        assert not pool.is_closing()
        await pool.close()


async def test_list_api_keys_shows_everything_but_the_secret(db: asyncpg.Connection) -> None:
    first, _ = await create_api_key(db, name="one", subject="svc-list", roles=["r"])
    second, _ = await create_api_key(db, name="two", subject="svc-list", tenant_id="t9")
    await revoke_api_key(db, second.id)
    listed = await list_api_keys(db, "svc-list")
    assert [(k.id, k.name, k.roles, k.tenant_id, k.revoked_at is not None) for k in listed] \
        == [(first.id, "one", ("r",), None, False), (second.id, "two", (), "t9", True)]


# --- sessions: refresh rotation ---------------------------------------------------------


async def test_rotation_issues_a_new_single_use_token(store: SessionStore,
                                                      db: asyncpg.Connection) -> None:
    session_id, token = await store.create("alice", roles=["user"], scopes=["read"],
                                           tenant_id="acme")
    stored = await db.fetch("SELECT token_hash, used_at FROM fraiseql.refresh_tokens"
                            " WHERE session_id = $1", session_id)
    assert [r["token_hash"] for r in stored] == [hashlib.sha256(token.encode()).digest()]
    rotation = await store.rotate(token)
    assert rotation.refresh_token != token and len(rotation.refresh_token) == 43
    session = rotation.session
    assert (session.id, session.subject, session.roles, session.scopes, session.tenant_id,
            session.active) == (session_id, "alice", frozenset({"user"}),
                                frozenset({"read"}), "acme", True)
    again = await store.rotate(rotation.refresh_token)
    assert again.session.id == session_id
    assert await db.fetchval("SELECT count(*) FILTER (WHERE used_at IS NULL)::text || '/' ||"
                             " count(*) FROM fraiseql.refresh_tokens WHERE session_id = $1",
                             session_id) == "1/3"


async def test_reusing_a_rotated_token_revokes_the_whole_family(store: SessionStore) -> None:
    session_id, stolen = await store.create("bob")
    current = (await store.rotate(stolen)).refresh_token  # the client moved on
    assert await refused(store.rotate(stolen)) \
        == "refresh token reuse detected: the session is revoked, log in again"
    session = await store.get(session_id)
    assert session is not None
    assert (session.active, session.revoked_reason) == (False, "refresh token reuse")
    # The legitimate client's token died with the family.
    assert await refused(store.rotate(current)) == "the session is revoked, log in again"
    assert await store.is_active(session_id) is False


async def test_an_unknown_refresh_token_is_invalid(store: SessionStore) -> None:
    assert await refused(store.rotate("x" * 43)) == "invalid refresh token"
    assert await refused(store.rotate("")) == "invalid refresh token"


async def test_two_concurrent_rotations_one_wins_and_the_family_is_revoked(
        auth_url: str, db: asyncpg.Connection) -> None:
    first, second = SessionStore(auth_url), SessionStore(auth_url)
    try:
        session_id, token = await first.create("carol")
        token_hash = hashlib.sha256(token.encode()).digest()
        # Hold the token's row so that both rotations are queued on it at once.
        blocker = await asyncpg.connect(auth_url)
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("SELECT FROM fraiseql.refresh_tokens WHERE token_hash = $1"
                              " FOR UPDATE", token_hash)
        both = asyncio.gather(first.rotate(token), second.rotate(token),
                              return_exceptions=True)
        for _ in range(100):  # until both UPDATEs wait on the lock
            waiting = await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE"
                                        " wait_event_type = 'Lock'"
                                        " AND datname = current_database()")
            if waiting == 2:
                break
            await asyncio.sleep(0.05)
        assert waiting == 2
        await transaction.rollback()
        await blocker.close()
        results = await both
    finally:
        await first.close()
        await second.close()
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, AuthenticationError)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].message.startswith("refresh token reuse detected")
    assert await db.fetchval("SELECT revoked_reason FROM fraiseql.sessions WHERE id = $1",
                             session_id) == "refresh token reuse"


async def test_absolute_and_idle_expiry(store: SessionStore, db: asyncpg.Connection) -> None:
    old, old_token = await store.create("dave")
    idle, idle_token = await store.create("dave")
    await db.execute("UPDATE fraiseql.sessions SET expires_at = now() - interval '1 s'"
                     " WHERE id = $1", old)
    await db.execute("UPDATE fraiseql.sessions SET last_used_at = now() - idle_timeout"
                     " - interval '1 s' WHERE id = $1", idle)
    for session_id, token in ((old, old_token), (idle, idle_token)):
        assert await refused(store.rotate(token)) == "the session has expired, log in again"
        assert await store.is_active(session_id) is False
    # The refused rotation did not consume the token (nothing was issued).
    assert await db.fetchval("SELECT count(*) FROM fraiseql.refresh_tokens WHERE session_id"
                             " = ANY($1::uuid[]) AND used_at IS NOT NULL", [old, idle]) == 0
    assert await store.list("dave") == []
    assert {s.id for s in await store.list("dave", include_inactive=True)} == {old, idle}


async def test_configured_lifetime_and_idle_timeout(auth_url: str,
                                                    db: asyncpg.Connection) -> None:
    short = SessionStore(auth_url, lifetime=timedelta(hours=1), idle_timeout=timedelta(minutes=10))
    try:
        session_id, _ = await short.create("erin")
    finally:
        await short.close()
    row = await db.fetchrow("SELECT expires_at - created_at AS lifetime, idle_timeout"
                            " FROM fraiseql.sessions WHERE id = $1", session_id)
    assert row is not None
    assert (row["lifetime"], row["idle_timeout"]) == (timedelta(hours=1), timedelta(minutes=10))


async def test_list_revoke_and_revoke_all(store: SessionStore) -> None:
    a, _ = await store.create("frank", roles=["x"])
    b, b_token = await store.create("frank")
    c, _ = await store.create("frank")
    other, _ = await store.create("grace")
    assert [s.id for s in await store.list("frank")] == [c, b, a]  # newest first
    assert await store.revoke(b) is True
    assert await store.revoke(b) is False
    assert await store.revoke("not-a-uuid") is False
    assert await refused(store.rotate(b_token)) == "the session is revoked, log in again"
    assert [s.id for s in await store.list("frank")] == [c, a]
    assert await store.revoke_all("frank") == 2
    assert await store.list("frank") == []
    assert [s.id for s in await store.list("grace")] == [other]
    revoked = await store.get(b)
    assert revoked is not None and revoked.revoked_reason == "revoked"


async def test_purge_deletes_long_dead_sessions_and_their_tokens(
        store: SessionStore, db: asyncpg.Connection) -> None:
    dead, _ = await store.create("heidi")
    alive, _ = await store.create("heidi")
    await db.execute("UPDATE fraiseql.sessions SET revoked_at = now() - interval '40 days'"
                     " WHERE id = $1", dead)
    assert await store.purge(timedelta(days=30)) >= 1
    assert await store.get(dead) is None
    assert await db.fetchval("SELECT count(*) FROM fraiseql.refresh_tokens WHERE session_id"
                             " = $1", dead) == 0
    assert await store.get(alive) is not None


# --- sessions: access tokens -------------------------------------------------------------


def test_the_signing_secret_must_have_32_bytes() -> None:
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        AccessTokens("too short")
    AccessTokens(b"k" * 32)


async def test_an_access_token_authenticates_until_its_session_is_revoked(
        store: SessionStore) -> None:
    tokens = AccessTokens(SECRET)
    session_id, _ = await store.create("ivan", roles=["admin"], scopes=["a", "b"],
                                       tenant_id="t2")
    session = await store.get(session_id)
    assert session is not None
    token = tokens.issue(session)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="fraiseql")
    assert claims["exp"] - claims["iat"] == 300
    assert {k: claims[k] for k in ("iss", "sub", "sid", "roles", "scopes", "tenant")} == {
        "iss": "fraiseql", "sub": "ivan", "sid": session_id, "roles": ["admin"],
        "scopes": ["a", "b"], "tenant": "t2"}
    authenticator = SessionAuthenticator(store, tokens)
    principal = await authenticator.authenticate(bearer(token))
    assert principal == Principal(subject="ivan", roles=frozenset({"admin"}),
                                  scopes=frozenset({"a", "b"}), tenant_id="t2", claims=claims,
                                  actor_type="user", token_id=claims["jti"],
                                  expires_at=float(claims["exp"]), provider="session")
    await store.revoke(session_id)
    assert await refused(authenticator.authenticate(bearer(token))) \
        == "the session has ended (revoked or expired)"


async def test_bad_access_tokens(store: SessionStore) -> None:
    tokens = AccessTokens(SECRET)
    authenticator = SessionAuthenticator(store, tokens)
    session_id, _ = await store.create("judy")
    session = await store.get(session_id)
    assert session is not None
    now = int(time.time())
    base = {"iss": "fraiseql", "sub": "judy", "sid": session_id, "jti": "j1", "iat": now - 600}
    expired = jwt.encode({**base, "exp": now - 60}, SECRET, algorithm="HS256")
    assert await refused(authenticator.authenticate(bearer(expired))) \
        == "the access token has expired"
    forged = jwt.encode({**base, "exp": now + 60}, "f" * 32, algorithm="HS256")
    assert await refused(authenticator.authenticate(bearer(forged))) \
        == "the access token's signature is invalid"
    no_sid = jwt.encode({k: v for k, v in base.items() if k != "sid"} | {"exp": now + 60},
                        SECRET, algorithm="HS256")
    assert await refused(authenticator.authenticate(bearer(no_sid))) \
        == 'invalid access token: Token is missing the "sid" claim'
    unknown = jwt.encode({**base, "sid": "00000000-0000-0000-0000-000000000000",
                          "exp": now + 60}, SECRET, algorithm="HS256")
    assert await refused(authenticator.authenticate(bearer(unknown))) \
        == "the session has ended (revoked or expired)"
    # Not ours: left to the next authenticator.
    foreign = jwt.encode({**base, "iss": "https://idp.example", "exp": now + 60}, SECRET,
                         algorithm="HS256")
    for headers in (bearer(foreign), bearer("not.a.jwt"), {}, {"authorization": "Basic abc"},
                    {"x-api-key": "fq_x"}):
        assert await authenticator.authenticate(headers) is None, headers
    # The secret never appears in what a client is told.
    assert SECRET not in (await refused(authenticator.authenticate(bearer(forged))))


async def test_a_revoked_jti_is_refused_with_a_revocation_list(store: SessionStore,
                                                               auth_url: str,
                                                               db: asyncpg.Connection) -> None:
    tokens = AccessTokens(SECRET)
    session_id, _ = await store.create("kim")
    session = await store.get(session_id)
    assert session is not None
    token, other = tokens.issue(session), tokens.issue(session)
    revocations = RevocationList(auth_url)
    await revocations.start()
    try:
        authenticator = SessionAuthenticator(store, tokens, revocations)
        jti = jwt.decode(token, options={"verify_signature": False})["jti"]
        await revoke(db, jti, datetime.now(UTC) + timedelta(minutes=5), "logout")
        await wait_until(lambda: revocations.is_revoked(jti))
        assert await refused(authenticator.authenticate(bearer(token))) \
            == "the token has been revoked"
        principal = await authenticator.authenticate(bearer(other))  # same session, other jti
        assert principal is not None and principal.subject == "kim"
    finally:
        await revocations.stop()


# --- revocation -------------------------------------------------------------------------


async def wait_until(condition: Any, timeout_s: float = 5.0) -> float:
    """Seconds until ``condition()`` held (polling); fails after ``timeout_s``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout_s, "condition not met in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_revoke_is_revoked_and_purge(db: asyncpg.Connection) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert await revoke(db, "jti-a", soon, "stolen laptop") is True
    assert await revoke(db, "jti-a", soon) is False
    assert await revoke(db, "jti-old", datetime.now(UTC) - timedelta(seconds=1)) is True
    assert (await is_revoked(db, "jti-a"), await is_revoked(db, "jti-old"),
            await is_revoked(db, "jti-never")) == (True, False, False)
    assert await purge_expired(db) >= 1
    assert await db.fetchval("SELECT array_agg(jti ORDER BY jti) FROM fraiseql.revoked_tokens"
                             " WHERE jti LIKE 'jti-%'") == ["jti-a"]
    assert await db.fetchval("SELECT reason FROM fraiseql.revoked_tokens WHERE jti = 'jti-a'") \
        == "stolen laptop"
    with pytest.raises(ValueError):
        await revoke(db, "", soon)


async def test_revocations_notify_their_rows(auth_url: str, db: asyncpg.Connection) -> None:
    listener = await asyncpg.connect(auth_url)
    received: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener("fraiseql_revoked_tokens",
                                lambda *args: received.put_nowait(args[3]))
    try:
        expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        await revoke(db, "notified", expires)
        assert json.loads(await asyncio.wait_for(received.get(), 5)) \
            == [["notified", expires.timestamp()]]
        await revoke(db, "notified", expires)  # inserts nothing: no notification
        await db.execute("UPDATE fraiseql.revoked_tokens SET reason = 'x' WHERE jti = 'notified'")
        assert await asyncio.wait_for(received.get(), 5) == "*"
        await db.execute("INSERT INTO fraiseql.revoked_tokens (jti, expires_at) SELECT"
                         " repeat('j', 100) || g, now() FROM generate_series(1, 100) g")
        assert await asyncio.wait_for(received.get(), 5) == "*"  # too long for a notification
        assert await purge_expired(db) >= 100  # only expired rows: no server needs to know
        await db.execute("DELETE FROM fraiseql.revoked_tokens WHERE jti = 'notified'")
        assert await asyncio.wait_for(received.get(), 5) == "*"  # un-revoked: they do
        await asyncio.sleep(0.2)  # a notification from the purge would be here by now
        assert received.empty()
    finally:
        await listener.close()


async def test_the_revocation_list_fails_closed_until_loaded() -> None:
    revocations = RevocationList("postgresql://nobody@127.0.0.1:1/none", connect_timeout_s=0.5)
    assert revocations.is_revoked("any") is True
    with pytest.raises(AuthenticationError, match="not known yet"):
        revocations.check("any")
    revocations.check(None)  # a token without a jti is not this list's business
    await revocations.start()  # the database is unreachable: still unknown
    try:
        assert revocations.loaded is False
        with pytest.raises(AuthenticationError, match="not known yet"):
            revocations.check("any")
    finally:
        await revocations.stop()


async def test_the_revocation_list_follows_the_table(auth_url: str,
                                                     db: asyncpg.Connection) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    await revoke(db, "pre-existing", soon)
    await revoke(db, "pre-expired", datetime.now(UTC) - timedelta(seconds=1))
    revocations = RevocationList(auth_url)
    await revocations.start()
    try:
        assert revocations.loaded is True
        assert "pre-existing" in revocations.expiry and "pre-expired" not in revocations.expiry
        revocations.check("fresh")
        reloads = revocations.reloads
        await revoke(db, "fresh", soon)
        took = await wait_until(lambda: revocations.is_revoked("fresh"))
        assert took < 2.0
        with pytest.raises(AuthenticationError, match="has been revoked"):
            revocations.check("fresh")
        assert revocations.reloads == reloads  # added from the notification, not reloaded
        assert revocations.expiry["fresh"] == soon.timestamp()
        # Any other change: the digest differs, the list reloads.
        await db.execute("DELETE FROM fraiseql.revoked_tokens WHERE jti = 'fresh'")
        await wait_until(lambda: not revocations.is_revoked("fresh"))
        assert revocations.reloads == reloads + 1
    finally:
        await revocations.stop()


async def test_the_digest_check_catches_a_missed_notification(
        auth_url: str, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(revocation_module, "CHECK_INTERVAL_S", 0.2)
    revocations = RevocationList(auth_url)
    await revocations.start()
    try:
        # As if written through PgBouncer or while the listener was reconnecting.
        async with db.transaction():
            await db.execute("SET LOCAL session_replication_role = replica")  # no triggers
            await revoke(db, "silent", datetime.now(UTC) + timedelta(minutes=5))
        await wait_until(lambda: revocations.is_revoked("silent"))
        assert revocations.reloads >= 2
    finally:
        await revocations.stop()


# --- a second process ----------------------------------------------------------------------


class SecondProcess:
    """auth_second_process.py: a long-lived process checking credentials on request."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def ask(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        reply = await asyncio.wait_for(self.process.stdout.readline(), 20)
        return reply.decode().strip()


@pytest_asyncio.fixture(loop_scope="session")
async def second_process(auth_url: str) -> AsyncIterator[SecondProcess]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SECOND_PROCESS), auth_url, SECRET, cwd=REPO,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    other = SecondProcess(process)
    assert process.stdout is not None
    assert (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip() == "ready"
    yield other
    assert process.stdin is not None
    process.stdin.write(b"\n")
    await process.stdin.drain()
    await asyncio.wait_for(process.wait(), 10)
    assert process.returncode == 0


async def test_revocations_reach_a_second_process_on_its_next_check(
        second_process: SecondProcess, store: SessionStore, db: asyncpg.Connection) -> None:
    key, secret_key = await create_api_key(db, name="n", subject="svc-remote")
    assert await second_process.ask(f"apikey {secret_key}") == "ok svc-remote"
    await revoke_api_key(db, key.id)
    assert await second_process.ask(f"apikey {secret_key}") == "error API key revoked"

    session_id, _ = await store.create("remote-user")
    session = await store.get(session_id)
    assert session is not None
    token = AccessTokens(SECRET).issue(session)
    assert await second_process.ask(f"bearer {token}") == "ok remote-user"
    await store.revoke(session_id)
    assert await second_process.ask(f"bearer {token}") \
        == "error the session has ended (revoked or expired)"

    assert await second_process.ask("jti remote-jti") == "valid"
    await revoke(db, "remote-jti", datetime.now(UTC) + timedelta(minutes=5))
    # The list learns it by notification: poll a little (milliseconds in practice).
    deadline = time.monotonic() + 5
    while (answer := await second_process.ask("jti remote-jti")) != "revoked":
        assert time.monotonic() < deadline, answer
        await asyncio.sleep(0.01)
