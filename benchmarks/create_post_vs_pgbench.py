"""The write path: FraiseQL's createPost over HTTP vs pgbench running the same statement.

* FraiseQL: the blog example (``examples.blog.app:app``) served by uvicorn (1
  worker, uvloop, httptools, no access log), loaded by ``wrk -t2 -c8 -d10s``
  POSTing ``createPost`` with variables. The Lua script gives every request a
  unique title (``bench wrk <run> t<thread> n<counter>``) and counts any response
  that is not a 200 ``CreatePostSuccess`` without ``"errors"``; a run with one fails.
* pgbench: ``pgbench -n -M prepared -c 8 -j 2 -T 10`` with a script running the
  statement FraiseQL sends for that mutation (``app.engine.compile(...).roots[0].sql``:
  the function call through ``fraiseql.checked``, the ``fraiseql.change_log`` insert
  and the member's JSON, in one statement), with two substitutions pgbench needs:
  the input parameter is built per transaction as ``(:head::text ||
  md5('user-' || :a::text)::uuid::text || :mid::text || :client_id::text || '-' ||
  :n::text || :tail::text)::jsonb`` (``\\set a random(1, 1000)``, ``\\set n
  random(...)``: pgbench's ``\\set`` makes numbers only), and the three
  request-context parameters (actor, tenant, trace), NULL in FraiseQL's HTTP runs,
  are written ``NULL``.

Both sides spread their posts over the 1,000 seed users (wrk: user
``(counter + 500 * thread) % 1000 + 1``, pgbench: a random one), because
fn_create_post locks the author (``FOR KEY SHARE``) and returns the author's
``v_user`` row, whose ``post_count`` counts that author's posts: with one author
for all, every insert would count a little more (10,000+ posts by the end of a run).

Both run against the same embedded PostgreSQL in the same run, alternating order
(``--rounds 2``: wrk/pgbench, pgbench/wrk); ratio = FraiseQL / pgbench of the
medians. Every run is checked against the database: each success inserted exactly
one post and one change-log row (pgbench cannot see a ``conflict`` result, so a
title collision would show up as a missing row), and the rows are deleted after
each run, the tables rewritten (``VACUUM FULL``) and a ``CHECKPOINT`` taken, so
every run starts from the same tables and indexes.

``--profile`` then records the uvicorn process with py-spy during one more wrk
run (flame graph + raw stacks) and prints the top functions and the request phases.

    cd /work/main && /work/venv/bin/python benchmarks/create_post_vs_pgbench.py

Needs ``wrk`` (``apt-get install wrk``) and, for ``--profile``, py-spy.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import blogdb, posts_vs_pgbench
from benchmarks.posts_vs_pgbench import Server, pgbench_sql, process_cpu_seconds, url_parts

MUTATION = ("mutation($input: CreatePostInput!) { createPost(input: $input) { __typename "
            "... on CreatePostSuccess { post { id title } } "
            "... on CreatePostError { code message } } }")


def seed_id(key: str) -> str:
    """A seed row's id (examples/blog/DATA.md: md5('<kind>-<n>')::uuid)."""
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


AUTHORS = [seed_id(f"user-{n}") for n in range(1, 1001)]  # every seed user; [4] is user-5
BODY = "Benchmark body."
PREFIX = "bench"  # every title starts with it; slugs with "bench-"
_WRK_RUNS = itertools.count(1)

WRK_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  bad = 0
  sample = ""
  counter = 0
end

local authors = {%s}

function request()
  counter = counter + 1
  local author = authors[(counter + 500 * tid) %% 1000 + 1]
  return wrk.format(nil, nil, nil, string.format(%s, author, tid, counter))
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) or
     not string.find(body, '"CreatePostSuccess"', 1, true) then
    bad = bad + 1
    if sample == "" then sample = status .. " " .. string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local total = 0
  local first = ""
  for _, t in ipairs(threads) do
    total = total + t:get("bad")
    if first == "" then first = t:get("sample") end
  end
  io.write(string.format("BAD_RESPONSES %%d\n", total))
  if total > 0 then io.write("BAD_SAMPLE " .. first .. "\n") end
end
"""


def input_for(title: str, author: str = AUTHORS[4]) -> dict[str, Any]:
    return {"authorId": author, "title": title, "body": BODY}


async def fraiseql_statement(url: str) -> tuple[str, list[Any]]:
    """The SQL and parameters FraiseQL sends for one createPost."""
    os.environ["DATABASE_URL"] = url
    from examples.blog.app import app
    variables = {"input": input_for(f"{PREFIX} probe")}
    plan = app.engine.compile(MUTATION, variables)
    assert len(plan.roots) == 1 and plan.roots[0].kind == "mutation", plan.roots
    [params] = app.engine.bind(plan, variables)
    return plan.roots[0].sql, params


def pgbench_script(workdir: Path, sql: str, params: list[Any], run: str
                   ) -> tuple[Path, list[str]]:
    """The pgbench script for FraiseQL's statement, and its -D definitions."""
    assert len(params) == 4 and all(p is None for p in params[1:]), params
    assert json.loads(params[0]) == {"author_id": AUTHORS[4], "title": f"{PREFIX} probe",
                                     "body": BODY}, params[0]
    text = pgbench_sql(sql, ["input", "actor", "tenant", "trace"])
    assert text.count(":input::jsonb") == 1, text
    text = text.replace(":input::jsonb", "(:head::text || md5('user-' || :a::text)::uuid::text"
                                         " || :mid::text || :client_id::text || '-' || "
                                         ":n::text || :tail::text)::jsonb")
    for name in ("actor", "tenant", "trace"):
        assert text.count(f":{name}::text") == 1
        text = text.replace(f":{name}::text", "NULL::text")
    # {"author_id":"<uuid>","title":"bench pgb <run> c<client>-<n>","body":"..."}
    marker = json.dumps({"author_id": "AUTHOR", "title": "TITLE", "body": BODY},
                        separators=(",", ":"))
    head, rest = marker.split("AUTHOR")
    mid, tail = rest.split("TITLE")
    mid += f"{PREFIX} pgb {run} c"
    script = workdir / "create_post.sql"
    script.write_text("\\set a random(1, 1000)\n\\set n random(1, 9000000000000000000)\n"
                      f"{text};\n")
    return script, ["-D", f"head={head}", "-D", f"mid={mid}", "-D", f"tail={tail}"]


def wrk_script(workdir: Path, run: str) -> Path:
    payload = json.dumps({"query": MUTATION, "variables": {"input": input_for(
        f"{PREFIX} wrk {run} t%d n%d", author="%s")}})
    assert payload.count("%") == 3
    lua = workdir / "create_post.lua"
    lua.write_text(WRK_LUA % (", ".join(f'"{a}"' for a in AUTHORS), json.dumps(payload)))
    return lua


async def cleanup(url: str) -> tuple[int, int, int]:
    """Delete the benchmark's posts and change-log rows; vacuum.

    Returns (posts, change-log rows, distinct authors of those posts)."""
    import asyncpg
    conn = await asyncpg.connect(url)
    try:
        deleted = await conn.fetchrow(
            "WITH d AS (DELETE FROM tb_post WHERE slug LIKE $1 RETURNING author_id) "
            "SELECT count(*), count(DISTINCT author_id) FROM d", f"{PREFIX}-%")
        assert deleted is not None
        posts, authors = deleted
        # The posts were deleted behind the API's back: drop their projection rows too
        # (tv_post is refreshed by the mutation functions, not by triggers).
        await conn.execute("DELETE FROM tv_post WHERE data->>'slug' LIKE $1", f"{PREFIX}-%")
        logged = await conn.fetchval(
            "WITH d AS (DELETE FROM fraiseql.change_log WHERE mutation = 'createPost' "
            "AND entity_after->>'slug' LIKE $1 RETURNING 1) SELECT count(*) FROM d",
            f"{PREFIX}-%")
        # Rewrite the tables and their indexes, so no run inherits the previous run's
        # index bloat, and checkpoint, so no run pays for the previous run's dirty pages.
        await conn.execute(
            "VACUUM (FULL, ANALYZE) tb_post, tb_post_tag, tv_post, fraiseql.change_log")
        await conn.execute("CHECKPOINT")
        return int(posts), int(logged), int(authors)
    finally:
        await conn.close()


def check_and_clean(url: str, label: str, at_least: int, exactly: bool) -> int:
    """Check the rows a run inserted, delete them; the number of distinct authors."""
    posts, logged, authors = asyncio.run(cleanup(url))
    ok = posts == logged and (posts == at_least if exactly else posts >= at_least)
    if not ok:
        raise RuntimeError(f"{label}: {posts} posts and {logged} change-log rows inserted, "
                           f"expected {'exactly' if exactly else 'at least'} {at_least}")
    return authors


def run_wrk(server: Server, workdir: Path, run: str, args: argparse.Namespace,
            url: str) -> tuple[float, int]:
    """req/s and completed requests of one wrk run (every response checked)."""
    # A new tag per run: wrk's counters restart, and a request still in flight when the
    # previous run's rows were deleted may have committed after that.
    script = wrk_script(workdir, f"{run}w{next(_WRK_RUNS)}")
    command = ["wrk", f"-t{args.threads}", f"-c{args.clients}", f"-d{args.duration}s",
               "--latency", "-s", str(script), server.url]
    cpu0 = process_cpu_seconds(server.process.pid)
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    cpu = process_cpu_seconds(server.process.pid) - cpu0
    out = done.stdout
    bad = int(re.search(r"BAD_RESPONSES (\d+)", out).group(1))  # type: ignore[union-attr]
    if bad or "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failures:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    server.cpu_us_per_request = cpu / requests * 1e6
    # Requests still in flight when wrk stops are not counted but may commit: let them.
    time.sleep(0.5)
    authors = check_and_clean(url, "wrk", requests, exactly=False)
    print(f"    wrk      {rps:9.0f} req/s  (p50 {p50.group(1) if p50 else '?'}, "
          f"p99 {p99.group(1) if p99 else '?'}; server CPU {cpu / requests * 1e6:.0f} µs/req, "
          f"{100 * cpu / args.duration:.0f}% of a core; {requests} posts, {authors} authors)",
          flush=True)
    return rps, requests


# Functions whose inclusive time says where a createPost request's CPU goes.
PHASES = [
    ("HttpToolsProtocol.data_received", "uvicorn: HTTP parsing (httptools callbacks)"),
    ("RequestResponseCycle.run_asgi", "uvicorn: one ASGI task per request (all below)"),
    ("FraiseQLApp._read_body", "app: read body"),
    ("params_from_body", "app: JSON body -> params"),
    ("Engine.prepare", "engine: cached document/operation lookup"),
    ("get_variable_values", "engine: coerce variables (the input object)"),
    ("Engine._plan", "engine: plan cache key + argument values"),
    ("run_mutations", "engine: run the mutation roots (all below)"),
    ("_bind", "engine: bind parameters (input -> JSON text)"),
    ("input_json", "compiler: input object -> JSONB text (check_input + orjson)"),
    ("PoolAcquireContext.__aenter__", "asyncpg: pool acquire"),
    ("Connection.fetchrow", "asyncpg: fetchrow (Python side; protocol is C)"),
    ("PoolAcquireContext.__aexit__", "asyncpg: pool release (shield + release task)"),
    ("_envelope", "engine: splice response bytes"),
    ("respond", "app: send response (uvicorn send, transport write)"),
]


def profile(server: Server, workdir: Path, run: str, args: argparse.Namespace,
            url: str) -> None:
    """py-spy on the server during one more wrk run; top functions and phases."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw, svg = workdir / "profile-create-post.txt", workdir / "profile-create-post.svg"
    recorders = [subprocess.Popen([py_spy, "record", "-d", str(args.duration), "-r", "200",
                                   "-f", fmt, "-o", str(out), "--pid", str(server.process.pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for fmt, out in (("raw", raw), ("flamegraph", svg))]
    time.sleep(1.0)  # let py-spy attach
    print("  profiling createPost (py-spy, 2 recorders at 200 Hz, under wrk)")
    _, requests = run_wrk(server, workdir, run, args, url)
    for recorder in recorders:
        _, err = recorder.communicate(timeout=60)
        if recorder.returncode != 0:
            print(f"    py-spy failed: {err.strip()[-500:]}")
            return
    print(f"    flame graph: {svg}\n    raw stacks:  {raw}")
    posts_vs_pgbench.PHASES = PHASES  # summarize_profile reads its module's PHASES
    posts_vs_pgbench.summarize_profile(raw, requests, server.cpu_us_per_request)


def run_pgbench(script: Path, defines: list[str], parts: dict[str, str],
                args: argparse.Namespace, url: str, transactions: int | None = None) -> float:
    limit = ["-t", str(transactions)] if transactions else ["-T", str(args.duration)]
    clients = 1 if transactions else args.clients
    threads = 1 if transactions else args.threads
    command = [str(blogdb.bin_dir() / "pgbench"), "-n", "-M", "prepared",
               "-c", str(clients), "-j", str(threads), *limit, *defines, "-f", str(script),
               "-h", parts["host"], "-p", parts["port"], "-U", "postgres", blogdb.DATABASE]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    out = done.stdout + done.stderr
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if done.returncode != 0 or (failed and failed.group(1) != "0") or "error" in out.lower():
        raise RuntimeError(f"pgbench failed:\n{out}")
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    processed = int(re.search(  # type: ignore[union-attr]
        r"number of transactions actually processed: (\d+)", out).group(1))
    latency = re.search(r"latency average = ([\d.]+ ms)", out)
    authors = check_and_clean(url, "pgbench", processed, exactly=True)
    if not transactions:
        print(f"    pgbench  {tps:9.0f} tx/s   (latency avg {latency.group(1) if latency else '?'}"
              f"; {processed} posts, {authors} authors)", flush=True)
    return tps


def post_json(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2,
                        help="each round is FraiseQL+pgbench; odd rounds reversed (A B B A)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--app", default="examples.blog.app:app")
    parser.add_argument("--profile", action="store_true",
                        help="also record the server with py-spy under wrk load")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    _pg, url = asyncio.run(blogdb.start_blog_database())
    parts = url_parts(url)
    run = f"r{int(time.time())}"
    workdir = Path(tempfile.mkdtemp(prefix="fraiseql-bench-"))
    print(f"database {url}\nwork files {workdir}")
    leftover = asyncio.run(cleanup(url))
    if leftover[:2] != (0, 0):
        print(f"removed {leftover[0]} posts / {leftover[1]} change-log rows of an earlier run")
    sql, params = asyncio.run(fraiseql_statement(url))
    script, defines = pgbench_script(workdir, sql, params, run)
    print(f"pgbench script {script} {' '.join(defines)}\n"
          f"wrk script {wrk_script(workdir, run + 'w0')} (one per run, its tag changes)")
    server = Server(url, workdir, args.app)
    print(f"server pid {server.process.pid}: {' '.join(server.command)}")
    fraiseql_rps: list[float] = []
    pgbench_tps: list[float] = []
    try:
        # Both sides write what they should: one request, five pgbench transactions.
        answer = post_json(server.url, {"query": MUTATION, "variables": {
            "input": input_for(f"{PREFIX} check {run}")}})
        assert answer["data"]["createPost"]["__typename"] == "CreatePostSuccess", answer
        assert answer["data"]["createPost"]["post"]["title"] == f"{PREFIX} check {run}"
        check_and_clean(url, "check request", 1, exactly=True)
        run_pgbench(script, defines, parts, args, url, transactions=5)
        print(f"\n== createPost: {MUTATION}")
        run_wrk(server, workdir, run, argparse.Namespace(**{**vars(args), "duration": 2}),
                url)  # warm-up
        for r in range(args.rounds):
            steps = ["wrk", "pgbench"] if r % 2 == 0 else ["pgbench", "wrk"]
            print(f"  round {r + 1}")
            for step in steps:
                if step == "wrk":
                    fraiseql_rps.append(run_wrk(server, workdir, run, args, url)[0])
                else:
                    pgbench_tps.append(run_pgbench(script, defines, parts, args, url))
        if args.profile:
            profile(server, workdir, run, args, url)
    finally:
        server.stop()
        asyncio.run(cleanup(url))
    f, p = statistics.median(fraiseql_rps), statistics.median(pgbench_tps)
    print(f"\nsummary (medians of {args.rounds} rounds)\n"
          f"  createPost FraiseQL {f:8.0f} req/s   pgbench {p:8.0f} tx/s   "
          f"FraiseQL/pgbench {f / p:.2f}")


if __name__ == "__main__":
    main()
