"""Revocation across server processes: two uvicorn servers on one database, the CLI between.

A dev token revoked by jti (`fraiseql tokens revoke`), an API key (`fraiseql apikey
revoke`) and a session (`fraiseql sessions revoke`) are refused by BOTH servers on the
next request: the state is in PostgreSQL, not in either process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest
from cli_runner import run_fraiseql as fraiseql

from fraiseql.auth.dev import make_dev_token
from fraiseql.auth.sessions import AccessTokens, SessionStore
from fraiseql.testing.client import ServedApp, serve_in_subprocess

REPO = Path(__file__).resolve().parents[2]
DEV_SECRET = "e2e-revocation-dev-secret-" + "d" * 40
SESSION_SECRET = "e2e-revocation-session-secret-" + "s" * 40
QUERY = {"query": "{ tags(limit: 1, orderBy: {name: ASC}) { name } }"}
DATA = {"data": {"tags": [{"name": "API Design"}]}}


def post(server: ServedApp, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(server.graphql_url, json=QUERY, headers=headers, timeout=10)


def refused(message: str) -> tuple[int, dict[str, object]]:
    return 401, {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}


def first_refusal(server: ServedApp, headers: dict[str, str]) -> httpx.Response:
    """The first non-200 answer: a revoked jti reaches a process by LISTEN/NOTIFY (ms)."""
    deadline = time.monotonic() + 5
    while True:
        response = post(server, headers)
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


@contextmanager
def two_servers(database_url: str) -> Iterator[list[ServedApp]]:
    env = {"FRAISEQL_DATABASE_URL": database_url, "FRAISEQL_DEV_AUTH_SECRET": DEV_SECRET,
           "REVOCATION_TEST_SESSION_SECRET": SESSION_SECRET}
    with ExitStack() as stack:
        yield [stack.enter_context(serve_in_subprocess("tests.e2e.revocation_app:app", env=env,
                                                       pythonpath=[str(REPO)]))
               for _ in range(2)]


async def test_revocations_reach_every_server_process(fresh_blog_db_url: str) -> None:
    url = fresh_blog_db_url
    revoked_token = make_dev_token(DEV_SECRET, "alice", roles=["editor"])
    kept_token = make_dev_token(DEV_SECRET, "alice", roles=["editor"])
    created = fraiseql("apikey", "create", "--name", "e2e", "--subject", "svc",
                       "--database-url", url)
    assert created.returncode == 0, created.stderr
    api_key = created.stdout.strip()
    store = SessionStore(url)
    try:
        session_id, _ = await store.create("bob", roles=["reader"])
        session = await store.get(session_id)
    finally:
        await store.close()
    assert session is not None
    session_token = AccessTokens(SESSION_SECRET).issue(session)
    credentials = {
        "dev token": {"authorization": f"Bearer {revoked_token}"},
        "other dev token": {"authorization": f"Bearer {kept_token}"},
        "API key": {"x-api-key": api_key},
        "session": {"authorization": f"Bearer {session_token}"},
    }

    with two_servers(url) as servers:
        for server in servers:
            for name, headers in credentials.items():
                response = post(server, headers)
                assert (response.status_code, response.json()) == (200, DATA), name

        jti = jwt.decode(revoked_token, options={"verify_signature": False})["jti"]
        done = fraiseql("tokens", "revoke", jti, "--expires-in", "2h", "--reason", "e2e",
                        "--database-url", url)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"revoked token {jti} until 20")
        for server in servers:
            response = first_refusal(server, credentials["dev token"])
            assert (response.status_code, response.json()) \
                == refused("the token has been revoked")
            response = post(server, credentials["other dev token"])
            assert (response.status_code, response.json()) == (200, DATA)

        key_id = api_key[3:15]
        done = fraiseql("apikey", "revoke", key_id, "--database-url", url)
        assert (done.returncode, done.stdout) == (0, f"revoked API key {key_id}\n")
        for server in servers:  # looked up per request: refused at once
            response = post(server, credentials["API key"])
            assert (response.status_code, response.json()) == refused("API key revoked")

        done = fraiseql("sessions", "revoke", session_id, "--database-url", url)
        assert (done.returncode, done.stdout) == (0, f"revoked session {session_id}\n")
        for server in servers:
            response = post(server, credentials["session"])
            assert (response.status_code, response.json()) \
                == refused("the session has ended (revoked or expired)")

        for server in servers:  # nothing else was affected
            response = post(server, credentials["other dev token"])
            assert (response.status_code, response.json()) == (200, DATA)


async def test_tokens_revoke_and_purge(fresh_blog_db_url: str) -> None:
    url = fresh_blog_db_url
    at = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    done = fraiseql("tokens", "revoke", "jti-1", "--expires-at", at.isoformat(),
                    "--reason", "stolen laptop", "--database-url", url)
    assert (done.returncode, done.stdout) == (
        0, f"revoked token jti-1 until {at.isoformat(timespec='seconds')}\n")
    again = fraiseql("tokens", "revoke", "jti-1", "--database-url", url)
    assert (again.returncode, again.stdout) == (0, "token jti-1 was already revoked\n")
    default = fraiseql("tokens", "revoke", "jti-2", "--database-url", url)
    assert default.returncode == 0, default.stderr
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT jti, expires_at, reason FROM fraiseql.revoked_tokens"
                                " ORDER BY jti")
        assert [(r["jti"], r["reason"]) for r in rows] == [("jti-1", "stolen laptop"),
                                                           ("jti-2", None)]
        assert rows[0]["expires_at"] == at
        in_30_days = datetime.now(UTC) + timedelta(days=30)
        assert abs((rows[1]["expires_at"] - in_30_days).total_seconds()) < 60
        await conn.execute("INSERT INTO fraiseql.revoked_tokens (jti, expires_at)"
                           " VALUES ('old-1', now() - interval '1 hour'),"
                           " ('old-2', now() - interval '1 day')")
        purged = fraiseql("tokens", "purge", "--database-url", url)
        assert (purged.returncode, purged.stdout) == (0, "purged 2 expired revocation(s)\n")
        assert await conn.fetchval("SELECT array_agg(jti ORDER BY jti)"
                                   " FROM fraiseql.revoked_tokens") == ["jti-1", "jti-2"]
    finally:
        await conn.close()


@pytest.mark.parametrize(("args", "message"), [
    (["--expires-at", "tomorrow"], "error: --expires-at: 'tomorrow' is not an ISO 8601 date"),
    (["--expires-at", "2030-01-01T00:00:00"],
     "error: --expires-at: '2030-01-01T00:00:00' has no time zone; add Z or +HH:MM"),
    (["--expires-at", "2001-01-01T00:00:00Z"],
     "error: --expires-at: 2001-01-01T00:00:00Z is in the past"),
    (["--expires-in", "soon"], "error: --expires-in: 'soon' is not a duration"),
    (["--expires-in", "1h", "--expires-at", "2030-01-01T00:00:00Z"], "not allowed with"),
])
def test_tokens_revoke_refuses_bad_expiries(args: list[str], message: str,
                                            blog_db_url: str) -> None:
    done = fraiseql("tokens", "revoke", "jti-x", *args, "--database-url", blog_db_url)
    assert done.returncode == 2
    assert message in done.stderr, done.stderr


def test_tokens_without_the_table_says_to_install(empty_db_url: str) -> None:
    done = fraiseql("tokens", "purge", "--database-url", empty_db_url)
    assert done.returncode == 1
    assert "has no fraiseql.revoked_tokens: run `fraiseql install` first" in done.stderr
