"""What authentication costs per request: the blog example with and without auth.

Two uvicorn servers (1 worker each, uvloop, httptools, no access log) serve
``examples.blog.app:app`` on the same embedded PostgreSQL:

* **anonymous**: as it is, no auth: one statement per request on a pooled connection;
* **auth**: the same app with ``FRAISEQL_DEV_AUTH_SECRET`` set, so the dev-token
  authenticator is configured, and every request carries a dev token
  (``Authorization: Bearer``, HS256, subject + one role): the middleware validates it
  with PyJWT, builds the request context, and the statement runs in a transaction that
  sets the SQL session variables (``BEGIN; SELECT set_config(...) x5`` in one
  simple-protocol message, the statement, ``COMMIT``).

Each query (``user(id)`` and ``posts(limit: 20)`` by default) is loaded by
``wrk -t2 -c8 -d10s`` in A B B A order (``--rounds 2``) so drift is shared;
the ratio is auth / anonymous of the medians. Every response is checked by the
Lua script (200, expected root key, no ``"errors"``). After the warm-up the
script prints the last statement of each server's idle pool connections
(``pg_stat_activity``): ``COMMIT`` for the auth server shows the session path ran.

    cd /work/wt/auth-http && /work/venv/bin/python benchmarks/auth_overhead.py

Needs ``wrk`` (``apt-get install wrk``) and PyJWT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import blogdb
from benchmarks.posts_vs_pgbench import WRK_LUA, Server, run_wrk

QUERIES = {"user": blogdb.USER_QUERY, "posts": blogdb.POSTS_QUERY}
SECRET = "benchmark-dev-secret-" + "0123456789" * 4


def token() -> str:
    from fraiseql.auth.dev import make_dev_token
    return make_dev_token(SECRET, "bench-user", roles=["reader"], expires_in=86400)


def post(url: str, query: str, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        body: bytes = response.read()
        return body


def lua_script(path: Path, label: str, query: str, authorization: str | None) -> Path:
    text = WRK_LUA % (json.dumps(json.dumps({"query": query})), json.dumps(f'"{label}":'))
    if authorization:
        text = text.replace('wrk.headers["Content-Type"] = "application/json"\n',
                            'wrk.headers["Content-Type"] = "application/json"\n'
                            f'wrk.headers["Authorization"] = {json.dumps(authorization)}\n')
    path.write_text(text)
    return path


def start_server(url: str, workdir: Path, with_auth: bool) -> Server:
    folder = workdir / ("auth" if with_auth else "anonymous")
    folder.mkdir()
    saved = os.environ.get("FRAISEQL_DEV_AUTH_SECRET")
    os.environ.pop("FRAISEQL_DEV_AUTH_SECRET", None)
    if with_auth:
        os.environ["FRAISEQL_DEV_AUTH_SECRET"] = SECRET
    try:
        return Server(url, folder, "examples.blog.app:app")
    finally:
        os.environ.pop("FRAISEQL_DEV_AUTH_SECRET", None)
        if saved is not None:
            os.environ["FRAISEQL_DEV_AUTH_SECRET"] = saved


async def idle_last_statements(url: str) -> list[str]:
    return await blogdb.idle_app_queries(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", default="user,posts", help="comma-separated: user,posts")
    parser.add_argument("--rounds", type=int, default=2,
                        help="each round is anonymous+auth; odd rounds reversed (A B B A)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    _pg, url = asyncio.run(blogdb.start_blog_database())
    workdir = Path(tempfile.mkdtemp(prefix="fraiseql-auth-bench-"))
    authorization = f"Bearer {token()}"
    print(f"database {url}\nwork files {workdir}")
    servers = {"anonymous": start_server(url, workdir, False),
               "auth": start_server(url, workdir, True)}
    headers = {"anonymous": {}, "auth": {"Authorization": authorization}}
    results: dict[str, dict[str, float]] = {}
    try:
        for label in args.queries.split(","):
            query = QUERIES[label]
            bodies = {name: post(server.url, query, headers[name])
                      for name, server in servers.items()}
            assert bodies["anonymous"] == bodies["auth"], "the two servers answer differently"
            assert b'"errors"' not in bodies["auth"], bodies["auth"][:300]
            # Proof that the auth server really authenticates: a forged token is refused.
            try:
                post(servers["auth"].url, query, {"Authorization": authorization + "x"})
                raise AssertionError("the auth server accepted a forged token")
            except urllib.error.HTTPError as exc:
                assert exc.code == 401, exc.code
            scripts = {name: lua_script(workdir / f"{label}-{name}.lua", label, query,
                                        authorization if name == "auth" else None)
                       for name in servers}
            print(f"\n== {label}: {query}  ({len(bodies['auth'])} bytes per response)")
            warm = argparse.Namespace(**{**vars(args), "duration": 2})
            for name, server in servers.items():
                print(f"  warm-up {name}")
                run_wrk(server, scripts[name], warm)
            if not results:
                last = asyncio.run(idle_last_statements(url))
                print(f"  idle pool connections' last statements: {sorted(set(last))}")
            rps: dict[str, list[float]] = {name: [] for name in servers}
            for r in range(args.rounds):
                order = ["anonymous", "auth"] if r % 2 == 0 else ["auth", "anonymous"]
                print(f"  round {r + 1}")
                for name in order:
                    print(f"   {name}")
                    rps[name].append(run_wrk(servers[name], scripts[name], args))
            medians = {name: statistics.median(values) for name, values in rps.items()}
            results[label] = medians
            print(f"  {label}: anonymous {medians['anonymous']:.0f} req/s, auth "
                  f"{medians['auth']:.0f} req/s, auth/anonymous "
                  f"{medians['auth'] / medians['anonymous']:.2f}  (rounds: "
                  f"{', '.join(f'{v:.0f}' for v in rps['anonymous'])} / "
                  f"{', '.join(f'{v:.0f}' for v in rps['auth'])})")
    finally:
        for server in servers.values():
            server.stop()
    print("\nsummary (medians)")
    for label, medians in results.items():
        print(f"  {label:<6} anonymous {medians['anonymous']:8.0f} req/s   auth "
              f"{medians['auth']:8.0f} req/s   auth/anonymous "
              f"{medians['auth'] / medians['anonymous']:.2f}")


if __name__ == "__main__":
    main()
