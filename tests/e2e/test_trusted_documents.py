"""Trusted documents (trusted_documents=strict): only registered documents run, everywhere."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from fraiseql.errors import ConfigurationError
from fraiseql.http.app import FraiseQLApp
from fraiseql.testing.client import AppClient, free_port

REPO = Path(__file__).resolve().parents[2]
GRAPHQL_RESPONSE = "application/graphql-response+json"
TRUSTED = "query Tags { tags { name } }"
OTHER = "{ tags { slug } }"
LATER = "query Later { tags { name slug } }"
FORBIDDEN = ("FORBIDDEN", "only trusted documents are accepted")


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def apq(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(query)}}


async def post(client: AppClient, query: str | None = None, *, by_hash: str | None = None,
               accept: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {}
    if query is not None:
        body["query"] = query
    if by_hash is not None:
        body["extensions"] = apq(by_hash)
    return await client.post("/graphql", json=body, headers={"accept": accept} if accept else None)


def error(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    assert "data" not in body, body
    [only] = body["errors"]
    return only["extensions"]["code"], only["message"]


async def execute(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def trust(url: str, *queries: str) -> None:
    """Register ``queries`` the way `fraiseql documents register` does (one statement)."""
    await execute(url, "INSERT INTO fraiseql.trusted_documents (hash, query)"
                       " SELECT encode(sha256(convert_to(q, 'UTF8')), 'hex'), q"
                       " FROM unnest($1::text[]) AS q", list(queries))


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Wait until ``check()`` is true (the listener reloads asynchronously)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


@pytest.fixture
def strict_client(make_blog_app: Callable[..., FraiseQLApp]) -> Callable[..., Any]:
    """``async with strict_client(url, **settings) as client``: a strict blog app."""
    @asynccontextmanager
    async def make(url: str, **settings: Any) -> AsyncIterator[AppClient]:
        app = make_blog_app(url, trusted_documents="strict", **settings)
        async with AppClient(app) as client:
            yield client
    return make


async def test_strict_runs_trusted_documents_and_refuses_the_others(
        fresh_blog_db_url: str, strict_client: Any) -> None:
    await trust(fresh_blog_db_url, TRUSTED)
    async with strict_client(fresh_blog_db_url) as client:
        by_text = await post(client, TRUSTED)
        assert by_text.status_code == 200 and "data" in by_text.json(), by_text.json()
        assert (await post(client, by_hash=TRUSTED)).json() == by_text.json()
        assert (await post(client, TRUSTED, by_hash=TRUSTED)).json() == by_text.json()
        over_get = await client.get("/graphql", params={"extensions": json.dumps(apq(TRUSTED))})
        assert over_get.json() == by_text.json()
        assert (await client.get_graphql(TRUSTED)).json() == by_text.json()
        # Anything else: the same text with other whitespace is another document.
        for response in (await post(client, OTHER), await post(client, TRUSTED + " "),
                         await post(client, by_hash=OTHER), await client.get_graphql(OTHER)):
            assert response.status_code == 200
            assert error(response) == FORBIDDEN
        refused = await post(client, OTHER, accept=GRAPHQL_RESPONSE)
        assert refused.status_code == 403  # GraphQL over HTTP: not permitted
        assert error(refused) == FORBIDDEN
        assert (await client.get("/ready")).status_code == 200


async def test_strict_refuses_apq_registration(fresh_blog_db_url: str,
                                               strict_client: Any) -> None:
    await trust(fresh_blog_db_url, TRUSTED)
    async with strict_client(fresh_blog_db_url, apq_store="postgres") as client:
        assert error(await post(client, OTHER, by_hash=OTHER)) == FORBIDDEN
        assert error(await post(client, by_hash=OTHER)) == FORBIDDEN
        assert error(await post(client, OTHER, by_hash=TRUSTED))[0] == "BAD_USER_INPUT"
        assert await execute(fresh_blog_db_url,
                             "SELECT count(*) FROM fraiseql.persisted_queries") == 0
        assert client.app.persisted.trusted is not None
        assert OTHER not in client.app.persisted.trusted.by_query


async def test_every_worker_sees_documents_registered_later(fresh_blog_db_url: str,
                                                           strict_client: Any) -> None:
    await trust(fresh_blog_db_url, TRUSTED)
    async with strict_client(fresh_blog_db_url) as first, \
            strict_client(fresh_blog_db_url) as second:
        for client in (first, second):
            assert error(await post(client, LATER)) == FORBIDDEN
        await trust(fresh_blog_db_url, LATER)  # the trigger notifies every listener
        for client in (first, second):
            async def allowed(client: AppClient = client) -> bool:
                return "data" in (await post(client, by_hash=LATER)).json()
            await eventually(allowed)
        await execute(fresh_blog_db_url, "DELETE FROM fraiseql.trusted_documents WHERE hash = $1",
                      sha(LATER))
        for client in (first, second):
            async def refused(client: AppClient = client) -> bool:
                return "data" not in (await post(client, LATER)).json()
            await eventually(refused)
        assert "data" in (await post(first, TRUSTED)).json()


async def test_a_document_registered_with_the_cli_reaches_a_running_server(
        fresh_blog_db_url: str, strict_client: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({sha(LATER): LATER}))
    async with strict_client(fresh_blog_db_url) as client:
        assert client.app.persisted.trusted is not None
        assert client.app.persisted.trusted.by_hash == {}
        assert error(await post(client, by_hash=LATER)) == FORBIDDEN
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "fraiseql.cli.main", "documents", "register",
                             str(manifest), "--database-url", fresh_blog_db_url],
            env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr

        async def allowed() -> bool:
            return "data" in (await post(client, by_hash=LATER)).json()
        await eventually(allowed)


async def test_strict_with_required_and_disabled_apq(fresh_blog_db_url: str,
                                                     strict_client: Any) -> None:
    await trust(fresh_blog_db_url, TRUSTED)
    async with strict_client(fresh_blog_db_url, apq_mode="required") as client:
        assert error(await post(client, TRUSTED))[0] == "BAD_USER_INPUT"
        assert "data" in (await post(client, by_hash=TRUSTED)).json()
        assert error(await post(client, by_hash=OTHER)) == FORBIDDEN
    async with strict_client(fresh_blog_db_url, apq_mode="disabled") as client:
        assert "data" in (await post(client, TRUSTED)).json()
        assert error(await post(client, by_hash=TRUSTED)) \
            == ("BAD_USER_INPUT", "PersistedQueryNotSupported")


async def test_off_ignores_the_trusted_documents(fresh_blog_db_url: str,
                                                 make_blog_app: Callable[..., FraiseQLApp]
                                                 ) -> None:
    async with AppClient(make_blog_app(fresh_blog_db_url)) as client:
        assert client.app.persisted.trusted is None
        assert "data" in (await post(client, OTHER)).json()


async def test_strict_needs_the_table(fresh_blog_db_url: str,
                                      make_blog_app: Callable[..., FraiseQLApp]) -> None:
    await execute(fresh_blog_db_url, "DROP TABLE fraiseql.trusted_documents CASCADE")
    app = make_blog_app(fresh_blog_db_url, trusted_documents="strict")
    with pytest.raises(ConfigurationError, match="fraiseql install"):
        await app.startup()
    assert app.engine.pool is None


async def test_strict_fails_closed_while_the_database_is_unreachable(
        make_blog_app: Callable[..., FraiseQLApp]) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    app = make_blog_app(url, trusted_documents="strict", connect_timeout_s=1)
    async with AppClient(app) as client:
        response = await post(client, TRUSTED)
        assert error(response) == (
            "SERVICE_UNAVAILABLE",
            "the trusted documents are not loaded yet (the database is unreachable)")
        response = await post(client, by_hash=TRUSTED, accept=GRAPHQL_RESPONSE)
        assert response.status_code == 503
        assert (await client.get("/ready")).status_code == 503
