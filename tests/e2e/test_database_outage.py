"""The database goes away and comes back; the server is told to stop mid-request.

These tests run their own embedded PostgreSQL (stopping the session's server
would break every other test) with a tiny schema: one table, two views (one
of them slow, through pg_sleep) and one type.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import fraiseql
from fraiseql import ID
from fraiseql.http.app import FraiseQLApp
from fraiseql.testing.client import serve_in_subprocess, serve_in_thread

DATABASE = "outage"
ONE = "00000000-0000-0000-0000-000000000001"
TWO = "00000000-0000-0000-0000-000000000002"
SLEEP_SECONDS = 1.0

SCHEMA_SQL = f"""
CREATE TABLE tb_item (id uuid PRIMARY KEY, name text NOT NULL);
INSERT INTO tb_item VALUES ('{ONE}', 'one'), ('{TWO}', 'two');
CREATE VIEW v_item AS
    SELECT id, jsonb_build_object('id', id, 'name', name) AS data FROM tb_item;
CREATE VIEW v_slow_item AS
    SELECT id, jsonb_build_object('id', id,
                                  'name', name || (SELECT '' FROM pg_sleep({SLEEP_SECONDS})))
           AS data
    FROM tb_item;
"""


@fraiseql.type(sql_source="v_item")
class Item:
    id: ID
    name: str


@fraiseql.query
def items(limit: int = 20, offset: int = 0) -> list[Item]:
    """Every item."""


@fraiseql.query
def item(id: ID) -> Item | None:
    """One item."""


@fraiseql.query(sql_source="v_slow_item")
def slow_item(id: ID) -> Item | None:
    """One item, after a pause in the database."""


schema = fraiseql.build_schema(queries=[items, item, slow_item])


def make_app() -> FraiseQLApp:
    """The app factory for `uvicorn --factory` (database from FRAISEQL_DATABASE_URL)."""
    return fraiseql.create_app(schema)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    """A private embedded server with the tiny schema in database "outage"."""
    from fraiseql.ops.embedded import EmbeddedPostgres
    # Not tmp_path: when we run as root the server's OS user must reach its data dir.
    root = Path(tempfile.mkdtemp(prefix="fraiseql-test-outage-"))
    server = EmbeddedPostgres(root / "data", fast_unsafe=True)
    try:
        server.start()
        server.create_database(DATABASE)
        server.psql(SCHEMA_SQL, database=DATABASE)
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


QUERY = f'{{ items {{ id name }} one: item(id: "{ONE}") {{ name }} }}'
ANSWER = {"data": {"items": [{"id": ONE, "name": "one"}, {"id": TWO, "name": "two"}],
                   "one": {"name": "one"}}}


def post(url: str, query: str, timeout: float = 10.0) -> httpx.Response:
    return httpx.post(url, json={"query": query}, timeout=timeout)


def wait_for(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def test_queries_fail_fast_while_the_database_is_down_and_recover(postgres: Any) -> None:
    app = fraiseql.create_app(schema, database_url=postgres.url(DATABASE))
    with serve_in_thread(app) as server:
        assert post(server.graphql_url, QUERY).json() == ANSWER
        assert httpx.get(server.url + "/ready").status_code == 200
        postgres.stop()
        try:
            for _ in range(3):  # the pool's dead connections, then refused new ones
                started = time.monotonic()
                response = post(server.graphql_url, QUERY)
                elapsed = time.monotonic() - started
                assert elapsed < 2.0, f"took {elapsed:.2f}s"
                assert response.status_code == 200
                body = response.json()
                assert body["data"] is None  # `items` is non-null: the whole data is null
                assert {(tuple(e["path"]), e["extensions"]["code"]) for e in body["errors"]} \
                    == {(("items",), "SERVICE_UNAVAILABLE"), (("one",), "SERVICE_UNAVAILABLE")}
                assert all("errorId" not in e["extensions"] for e in body["errors"])
            single = post(server.graphql_url, f'{{ item(id: "{TWO}") {{ name }} }}').json()
            assert single["data"] == {"item": None}
            # One error per field, never a duplicate from the retry.
            assert {(tuple(e["path"]), e["extensions"]["code"]) for e in single["errors"]} \
                == {(("item",), "SERVICE_UNAVAILABLE")}
            started = time.monotonic()
            ready = httpx.get(server.url + "/ready", timeout=5)
            assert ready.status_code == 503 and ready.json() == {"status": "unavailable"}
            assert time.monotonic() - started < 2.0
            assert httpx.get(server.url + "/health").status_code == 200  # still alive
        finally:
            postgres.start()
        assert wait_for(lambda: httpx.get(server.url + "/ready").status_code == 200, 10)
        # The same app, no restart: the pool reconnects.
        assert post(server.graphql_url, QUERY).json() == ANSWER
        assert post(server.graphql_url, QUERY).json() == ANSWER


def test_one_error_per_root_field_while_the_database_is_down(postgres: Any) -> None:
    app = fraiseql.create_app(schema, database_url=postgres.url(DATABASE))
    with serve_in_thread(app) as server:
        postgres.stop()
        try:
            body = post(server.graphql_url, f'{{ item(id: "{TWO}") {{ name }} }}').json()
        finally:
            postgres.start()
    assert body == {"errors": [{"message": "the database is unavailable", "path": ["item"],
                                "extensions": {"code": "SERVICE_UNAVAILABLE"}}],
                    "data": {"item": None}}


def test_app_started_while_the_database_is_down_serves_once_it_is_up(postgres: Any) -> None:
    url = postgres.url(DATABASE)
    postgres.stop()
    try:
        app = fraiseql.create_app(schema, database_url=url)
        with serve_in_thread(app) as server:
            assert httpx.get(server.url + "/ready").status_code == 503
            body = post(server.graphql_url, QUERY).json()
            assert body["data"] is None
            assert {e["extensions"]["code"] for e in body["errors"]} == {"SERVICE_UNAVAILABLE"}
            postgres.start()
            assert wait_for(lambda: httpx.get(server.url + "/ready").status_code == 200, 10)
            assert post(server.graphql_url, QUERY).json() == ANSWER
    finally:
        postgres.start()


def test_sigterm_drains_the_request_in_flight(postgres: Any) -> None:
    env = {"FRAISEQL_DATABASE_URL": postgres.url(DATABASE)}
    here = str(Path(__file__).resolve().parent)
    with serve_in_subprocess(f"{Path(__file__).stem}:make_app", factory=True, env=env,
                             pythonpath=[here]) as server:
        assert server.process is not None
        assert post(server.graphql_url, QUERY).json() == ANSWER
        responses: list[httpx.Response | BaseException] = []

        def slow_request() -> None:
            try:
                responses.append(post(server.graphql_url,
                                      f'{{ slowItem(id: "{ONE}") {{ id name }} }}'))
            except BaseException as exc:  # noqa: BLE001 - reported below
                responses.append(exc)

        started = time.monotonic()
        thread = threading.Thread(target=slow_request)
        thread.start()
        # SIGTERM once the statement is running in PostgreSQL.
        assert wait_for(lambda: postgres.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fraiseql' "
            "AND state = 'active' AND query LIKE '%v_slow_item%'").strip() == "1", 5, 0.02)
        server.process.send_signal(signal.SIGTERM)
        thread.join(timeout=15)
        assert responses, "no response to the in-flight request"
        response = responses[0]
        assert isinstance(response, httpx.Response), repr(response)
        assert time.monotonic() - started >= SLEEP_SECONDS
        assert response.status_code == 200
        assert response.json() == {"data": {"slowItem": {"id": ONE, "name": "one"}}}
        assert int(response.headers["content-length"]) == len(response.content)
        # uvicorn re-raises the signal it handled once it has shut down cleanly.
        assert server.process.wait(timeout=10) in (0, -signal.SIGTERM)
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url + "/health", timeout=1)
