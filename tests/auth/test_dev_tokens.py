"""`fraiseql token`: dev tokens signed with the project's dev secret."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from fraiseql.auth import AuthenticationError
from fraiseql.auth.dev import DevAuthenticator, dev_principal, parse_duration

REPO = Path(__file__).resolve().parents[2]
SECRET = "cli-secret-" + "k" * 40


def token_command(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("FRAISEQL_DEV_AUTH_SECRET", "FRAISEQL_ENV")}
    environ["PYTHONPATH"] = str(REPO)
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "fraiseql.cli.main", "token", *args], cwd=cwd,
                          env=environ, capture_output=True, text=True, timeout=60, check=False)


def decode(token: str, secret: str) -> dict[str, object]:
    return jwt.decode(token, secret, algorithms=["HS256"], audience="fraiseql-dev",
                      issuer="fraiseql-dev")


def test_token_prints_a_jwt_with_the_requested_claims(tmp_path: Path) -> None:
    done = token_command("--sub", "alice", "--role", "editor", "--role", "admin", "--scope",
                         "posts:write", "--tenant", "t-1", "--expires-in", "2h", cwd=tmp_path,
                         FRAISEQL_DEV_AUTH_SECRET=SECRET)
    assert done.returncode == 0, done.stderr
    claims = decode(done.stdout.strip(), SECRET)
    assert {k: claims[k] for k in ("sub", "roles", "scope", "tenant_id")} == {
        "sub": "alice", "roles": ["admin", "editor"], "scope": "posts:write", "tenant_id": "t-1"}
    assert claims["exp"] == claims["iat"] + 7200  # type: ignore[operator]
    assert abs(claims["iat"] - time.time()) < 60  # type: ignore[operator]
    assert not (tmp_path / ".fraiseql").exists()  # the environment's secret: no file


def test_without_a_secret_one_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = token_command("--sub", "alice", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    secret_file = tmp_path / ".fraiseql" / "dev-auth-secret"
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert (tmp_path / ".fraiseql" / ".gitignore").read_text() == "*\n"
    second = token_command("--sub", "bob", cwd=tmp_path)
    assert decode(first.stdout.strip(), secret)["sub"] == "alice"
    assert decode(second.stdout.strip(), secret)["sub"] == "bob"
    assert secret_file.read_text().strip() == secret


def test_token_is_refused_in_production_and_bad_durations_are_usage_errors(
        tmp_path: Path) -> None:
    done = token_command("--sub", "alice", cwd=tmp_path, FRAISEQL_ENV="production")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("error: dev tokens are for development: FRAISEQL_ENV=production "
                           "never accepts them\n")
    bad = token_command("--sub", "alice", "--expires-in", "soon", cwd=tmp_path)
    assert bad.returncode == 2
    assert "not a duration: 'soon' (use e.g. 30m, 1h, 7d)" in bad.stderr


def test_durations() -> None:
    assert [parse_duration(t) for t in ("45s", "30m", "1h", "7d", "3600")] == [
        45, 1800, 3600, 604800, 3600]
    for text in ("0m", "-1h", "1w", "", "1.5h"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(text)


async def test_the_dev_authenticator_leaves_other_issuers_tokens_alone() -> None:
    dev = DevAuthenticator(SECRET)
    other = jwt.encode({"iss": "https://issuer.example", "sub": "x"}, "k" * 40,
                       algorithm="HS256")
    assert await dev.authenticate({"authorization": f"Bearer {other}"}) is None
    assert await dev.authenticate({"authorization": "Bearer not-a-jwt"}) is None
    assert await dev.authenticate({}) is None
    assert "k" * 40 not in repr(dev) and SECRET not in repr(dev)


def test_malformed_dev_claims_are_refused() -> None:
    with pytest.raises(AuthenticationError, match="the token's claims are malformed"):
        dev_principal({"sub": "alice", "roles": "admin", "exp": 1})
    principal = dev_principal({"sub": "alice", "roles": ["a"], "scope": "r w", "exp": 5,
                               "tenant_id": 7, "jti": "j"})
    assert (principal.subject, principal.roles, principal.scopes, principal.tenant_id,
            principal.token_id, principal.expires_at, principal.provider) == (
        "alice", frozenset({"a"}), frozenset({"r", "w"}), "7", "j", 5.0, "dev")


async def test_a_token_is_verified_once_and_its_expiry_checked_every_time() -> None:
    import asyncio

    from fraiseql.auth.dev import make_dev_token
    dev = DevAuthenticator(SECRET)
    headers = {"authorization": "Bearer " + make_dev_token(SECRET, "alice", expires_in=1)}
    first = await dev.authenticate(headers)
    assert first is not None and first.subject == "alice"
    assert await dev.authenticate(headers) is first  # from the cache of verified tokens
    await asyncio.sleep(max(0.0, (first.expires_at or 0) - time.time()) + 0.05)
    with pytest.raises(AuthenticationError, match="the token has expired"):
        await dev.authenticate(headers)
    forged = headers["authorization"][:-2] + ("AA" if not headers["authorization"].endswith(
        "AA") else "BB")
    with pytest.raises(AuthenticationError, match="the token is not valid"):
        await dev.authenticate({"authorization": forged})
