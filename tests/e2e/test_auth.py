"""Authentication on a real server (uvicorn in a subprocess) and a real database."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from fraiseql.auth.dev import make_dev_token
from fraiseql.testing.client import free_port, serve_in_subprocess

SECRET = "e2e-dev-secret-" + "e" * 40
BLOG = "examples.blog.app:app"
QUERY = {"query": "{ tags(limit: 1, orderBy: {name: ASC}) { name } }"}


def test_a_served_app_with_a_dev_secret_accepts_dev_tokens_only(blog_db_url: str) -> None:
    env = {"FRAISEQL_DATABASE_URL": blog_db_url, "FRAISEQL_DEV_AUTH_SECRET": SECRET}
    with serve_in_subprocess(BLOG, env=env) as server:
        token = make_dev_token(SECRET, "alice", roles=["editor"])
        signed = httpx.post(server.graphql_url, json=QUERY, timeout=10,
                            headers={"authorization": f"Bearer {token}"})
        assert (signed.status_code, signed.json()) == (
            200, {"data": {"tags": [{"name": "API Design"}]}})
        assert httpx.post(server.graphql_url, json=QUERY, timeout=10).status_code == 200
        forged = httpx.post(server.graphql_url, json=QUERY, timeout=10,
                            headers={"authorization": f"Bearer {token[:-3]}abc"})
        assert forged.status_code == 401
        assert forged.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert forged.json() == {"errors": [{"message": "the token is not valid",
                                             "extensions": {"code": "UNAUTHENTICATED"}}]}
        assert token not in forged.text


def test_dev_tokens_in_production_fail_the_boot(blog_db_url: str) -> None:
    env = {**os.environ, "FRAISEQL_DATABASE_URL": blog_db_url,
           "FRAISEQL_DEV_AUTH_SECRET": SECRET, "FRAISEQL_ENV": "production",
           "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get(
               "PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "uvicorn", BLOG, "--port", str(free_port())],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert ("FRAISEQL_DEV_AUTH_SECRET is set but FRAISEQL_ENV=production: dev tokens are never "
            "accepted in production; unset FRAISEQL_DEV_AUTH_SECRET") in done.stderr
    assert SECRET not in done.stderr + done.stdout


@pytest.mark.parametrize("value", ["staging", "PRODUCTION"])
def test_an_unknown_environment_name_fails_the_boot(value: str, blog_db_url: str) -> None:
    env = {**os.environ, "FRAISEQL_DATABASE_URL": blog_db_url, "FRAISEQL_ENV": value}
    done = subprocess.run([sys.executable, "-c", "import examples.blog.app"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "setting env must be one of development, production" in done.stderr
