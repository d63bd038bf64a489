"""A grant or a revocation takes effect on the next request in every server process.

Two uvicorn processes serve the two-tenant app (tests/tenants_db.py) as an
ordinary role, with ``Authorization(roles=True)``: each caches a caller's access, and
`fraiseql grants add|revoke` (another process) clears every cache by NOTIFY.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from cli_runner import run_fraiseql as cli
from tenants_db import SECRET, tenants  # noqa: F401 - tenants is the fixture

from fraiseql.auth.dev import make_dev_token
from fraiseql.testing.client import ServedApp, serve_in_subprocess

REPO = Path(__file__).resolve().parents[2]
QUERY = {"query": "{ auditProjects(limit: 1) { name } }"}
ALLOWED = (200, {"data": {"auditProjects": [{"name": "acme project 1"}]}})


@contextmanager
def two_servers(database_url: str) -> Iterator[list[ServedApp]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve_in_subprocess(
            "tests.e2e.authz_app:app", env={"FRAISEQL_DATABASE_URL": database_url},
            pythonpath=[str(REPO), str(REPO / "tests")])) for _ in range(2)]


def answer(server: ServedApp, headers: dict[str, str]) -> tuple[int, Any]:
    response = httpx.post(server.graphql_url, json=QUERY, headers=headers, timeout=10)
    return response.status_code, response.json()


def first_change(server: ServedApp, headers: dict[str, str], before: tuple[int, Any]
                 ) -> tuple[int, Any]:
    """The first answer that differs from ``before`` (a NOTIFY takes milliseconds)."""
    deadline = time.monotonic() + 5
    while True:
        now = answer(server, headers)
        if now != before or time.monotonic() > deadline:
            return now
        time.sleep(0.02)


def test_a_grant_and_its_revocation_reach_every_process(tenants: Any) -> None:
    admin_url, url = tenants
    ann = {"authorization": "Bearer " + make_dev_token(SECRET, "ann", tenant_id="acme")}
    with two_servers(url) as servers:
        denied = [answer(server, ann) for server in servers]  # now cached in both
        for status, body in denied:
            assert status == 200 and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert cli("roles", "create", "admin", "--database-url", admin_url).returncode == 0
        done = cli("grants", "add", "ann", "admin", "--tenant", "acme",
                   "--database-url", admin_url)
        assert done.returncode == 0, done.stderr
        for server, before in zip(servers, denied, strict=True):
            assert first_change(server, ann, before) == ALLOWED
        done = cli("grants", "revoke", "ann", "admin", "--tenant", "acme",
                   "--database-url", admin_url)
        assert done.returncode == 0, done.stderr
        for server, before in zip(servers, denied, strict=True):
            assert first_change(server, ann, ALLOWED) == before


def test_explain_binds_the_tenant_it_is_given(tenants: Any) -> None:
    admin_url, _ = tenants
    done = cli("explain", "tests.e2e.authz_app:app", "-q", "{ projects(limit: 2) { name } }",
               "--tenant", "globex", "--analyze", "--database-url", admin_url,
               pythonpath=(REPO / "tests",))
    assert done.returncode == 0, done.stderr
    assert "-- $1 = 'globex'" in done.stdout
    assert "Index Cond: (tenant_id = 'globex'::text)" in done.stdout or \
        "Filter: (tenant_id = 'globex'::text)" in done.stdout
