"""The first measurement: FraiseQL over HTTP vs pgbench running the same SQL.

For each query (``posts`` and ``user`` by default):

* FraiseQL: the blog example (``examples.blog.app:app``) served by uvicorn
  (1 worker, uvloop, httptools, no access log) on 127.0.0.1, loaded by
  ``wrk -t2 -c8 -d10s`` POSTing the GraphQL query. Every response body is
  checked by the Lua script (status 200, no ``"errors"``); a run with a bad
  response is reported as such.
* pgbench: ``pgbench -n -M prepared -c 8 -j 2 -T 10`` with a script running
  exactly the SQL FraiseQL sends for that query, its parameters set with
  ``\\set`` (integers) or ``-D`` (strings: ``\\set`` only takes numbers).

Both hit the same embedded PostgreSQL in the same run, in A B B A order
(``--rounds 2``, the default) so drift is shared; ratio = FraiseQL / pgbench of
the medians. ``--profile`` then records the uvicorn process with py-spy during
one more wrk run (flame graph + raw stacks) and prints the top functions.

``--app`` picks the ASGI app: the blog example as it is by default (FraiseQL's
pool, no query on release), or ``benchmarks.blog_app_reset:app``, the same app
with asyncpg's default pool reset, for comparison. After the first warm-up the
script prints the last statement of the pool's idle connections (from
``pg_stat_activity``), which shows whether the pool reset them.

    cd /work/main && /work/venv/bin/python benchmarks/posts_vs_pgbench.py

Needs ``wrk`` (``apt-get install wrk``) and, for ``--profile``, py-spy
(``pip install py-spy``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import blogdb

QUERIES = {"posts": blogdb.POSTS_QUERY, "user": blogdb.USER_QUERY,
           "filtered": blogdb.FILTERED_QUERY}

WRK_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = %s

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  sample = ""
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) or
     not string.find(body, %s, 1, true) then
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

# A SQL string literal (E'...' with backslash escapes, or '...'), a quoted identifier,
# or a $n parameter: everything pgbench must not misread.
_TOKENS = re.compile(r"""[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\d+)""")


def pgbench_sql(sql: str, names: list[str]) -> str:
    """``sql`` with ``$n`` as ``:name`` and no ``:`` left inside string literals.

    In ``-M prepared`` mode pgbench turns every ``:identifier`` into a parameter,
    even inside a string literal (FraiseQL's sentinel ``E'\\u0001\\u0002fraiseql:null'``
    would become ``$3``). A ``:`` in a literal is written ``\\u003a`` in an E-string:
    the same string for PostgreSQL.
    """
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.group(1) is not None:
            return ":" + names[int(match.group(1)) - 1]
        if token.startswith('"') or ":" not in token:
            return token
        if token[0] in "Ee":
            return token.replace(":", "\\u003a")
        body = token[1:-1].replace("\\", "\\\\").replace(":", "\\u003a")
        return "E'" + body + "'"

    return _TOKENS.sub(replace, sql)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def post(url: str, query: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


class Server:
    """uvicorn serving the blog example in a child process."""

    def __init__(self, database_url: str, workdir: Path, target: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.command = [sys.executable, "-m", "uvicorn", target,
                        "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                        "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                        "--log-level", "warning"]
        env = {**os.environ, "DATABASE_URL": database_url}
        self.cpu_us_per_request = 0.0
        self.log = open(workdir / "uvicorn.log", "w+")  # noqa: SIM115
        self.process = subprocess.Popen(self.command, cwd=blogdb.REPO, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"uvicorn exited:\n{self.log.read()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(server: Server, script: Path, args: argparse.Namespace) -> float:
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
    print(f"    wrk      {rps:9.0f} req/s  (p50 {p50.group(1) if p50 else '?'}, "
          f"p99 {p99.group(1) if p99 else '?'}; server CPU {server.cpu_us_per_request:.0f} µs/req, "
          f"{100 * cpu / args.duration:.0f}% of a core)", flush=True)
    return rps


def run_pgbench(script: Path, defines: list[str], database_url_parts: dict[str, str],
                args: argparse.Namespace) -> float:
    command = [str(blogdb.bin_dir() / "pgbench"), "-n", "-M", "prepared",
               "-c", str(args.clients), "-j", str(args.threads), "-T", str(args.duration),
               *defines, "-f", str(script),
               "-h", database_url_parts["host"], "-p", database_url_parts["port"],
               "-U", "postgres", blogdb.DATABASE]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    out = done.stdout + done.stderr
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if done.returncode != 0 or (failed and failed.group(1) != "0") or "error" in out.lower():
        raise RuntimeError(f"pgbench failed:\n{out}")
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = re.search(r"latency average = ([\d.]+ ms)", out)
    print(f"    pgbench  {tps:9.0f} tx/s   (latency avg {latency.group(1) if latency else '?'})",
          flush=True)
    return tps


async def statement_for(url: str, query: str) -> tuple[str, list[Any], bytes]:
    """FraiseQL's SQL and parameters for ``query``, and the JSON the database returns."""
    import asyncpg
    sql, params = await blogdb.fraiseql_sql(url, query)
    conn = await asyncpg.connect(url)
    try:
        await conn.set_type_codec("json", schema="pg_catalog", encoder=bytes, decoder=bytes,
                                  format="binary")
        expected = await conn.fetchval(sql, *params)
    finally:
        await conn.close()
    return sql, params, expected


def pgbench_script(workdir: Path, label: str, sql: str, params: list[Any]
                   ) -> tuple[Path, list[str]]:
    names = [f"p{i + 1}" for i in range(len(params))]
    lines, defines = [], []
    for name, value in zip(names, params, strict=True):
        if isinstance(value, int) and not isinstance(value, bool):
            lines.append(f"\\set {name} {value}")
        else:  # \set evaluates numeric expressions only; -D defines a string variable
            defines += ["-D", f"{name}={value}"]
    script = workdir / f"{label}.sql"
    script.write_text("\n".join(lines) + "\n" + pgbench_sql(sql, names) + ";\n")
    return script, defines


def check_pgbench_statement(script: Path, defines: list[str], parts: dict[str, str],
                            expected: bytes) -> None:
    """One pgbench transaction with the statement's output logged: same JSON as FraiseQL's."""
    # pgbench discards results; psql runs the rewritten text to prove it is the same query.
    text = script.read_text()
    values = dict(d.split("=", 1) for d in defines[1::2])
    for line in text.splitlines():
        if line.startswith("\\set "):
            _, name, value = line.split(" ", 2)
            values[name] = value
    body = "\n".join(line for line in text.splitlines() if not line.startswith("\\set "))
    psql = [str(blogdb.bin_dir() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            *[f"--variable={k}={v}" for k, v in values.items()],
            "-h", parts["host"], "-p", parts["port"], "-U", "postgres", blogdb.DATABASE]
    # psql substitutes :'name' (quoted) and :name (raw); use quoted for strings.
    for name, value in values.items():
        if not value.lstrip("-").isdigit():
            body = body.replace(f":{name}", f":'{name}'")
    done = subprocess.run(psql, input=body, capture_output=True, text=True, check=True)
    got = json.loads(done.stdout)
    if got != json.loads(expected):
        raise RuntimeError(f"the pgbench statement returns other JSON than FraiseQL's: {got!r:.200}")


def report_pool_reset(url: str) -> None:
    """Print whether the server's pool ran asyncpg's reset query on release."""
    last = asyncio.run(blogdb.idle_app_queries(url))
    resets = sum("RESET ALL" in q for q in last)
    if not last:
        print("  pool: no idle connection seen in pg_stat_activity")
    elif resets == len(last):
        print(f"  pool: asyncpg reset() on release ({len(last)} idle connections ran it last)")
    elif resets == 0:
        print(f"  pool: no query on release ({len(last)} idle connections ran a request last)")
    else:
        print(f"  pool: {resets} of {len(last)} idle connections ran the reset query last")


def url_parts(url: str) -> dict[str, str]:
    from urllib.parse import parse_qs, urlsplit
    query = parse_qs(urlsplit(url).query)
    return {"host": query["host"][0], "port": query.get("port", ["5432"])[0]}


def profile(server: Server, script: Path, workdir: Path, args: argparse.Namespace,
            label: str) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = workdir / f"profile-{label}.txt"
    svg = workdir / f"profile-{label}.svg"
    duration = str(args.duration)
    recorders = [subprocess.Popen([py_spy, "record", "-d", duration, "-r", "200", "-f", fmt,
                                   "-o", str(out), "--pid", str(server.process.pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for fmt, out in (("raw", raw), ("flamegraph", svg))]
    time.sleep(1.0)  # let py-spy attach
    print(f"  profiling {label} (py-spy, 2 recorders at 200 Hz, under wrk)")
    rps = run_wrk(server, script, args)
    for recorder in recorders:
        _, err = recorder.communicate(timeout=60)
        if recorder.returncode != 0:
            print(f"    py-spy failed: {err.strip()[-500:]}")
            return
    print(f"    flame graph: {svg}\n    raw stacks:  {raw}")
    summarize_profile(raw, rps * args.duration, server.cpu_us_per_request)


# Functions whose inclusive time says where a request's CPU goes (the same time can
# be counted under two rows when one calls the other, e.g. _execute holds _run_sql).
PHASES = [
    ("HttpToolsProtocol.data_received", "uvicorn: HTTP parsing (httptools callbacks)"),
    ("RequestResponseCycle.run_asgi", "uvicorn: one ASGI task per request (all below)"),
    ("FraiseQLApp._read_body", "app: read body"),
    ("params_from_body", "app: JSON body -> params"),
    ("Engine.prepare", "engine: cached document/operation lookup"),
    ("get_variable_values", "engine: coerce variables"),
    ("Engine._plan", "engine: plan cache key + argument values"),
    ("_bind", "engine: bind parameters"),
    ("PoolAcquireContext.__aenter__", "asyncpg: pool acquire"),
    ("Connection.fetch", "asyncpg: fetch (Python side; protocol is C)"),
    ("PoolAcquireContext.__aexit__", "asyncpg: pool release (shield + release task)"),
    ("PoolConnectionHolder.release", "asyncpg: release task (+ reset query if any)"),
    ("_envelope", "engine: splice response bytes"),
    ("respond", "app: send response (uvicorn send, transport write)"),
]


def summarize_profile(raw: Path, requests: float, cpu_us: float, top: int = 20) -> None:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    by_name: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [re.sub(r"\(/\S*/(site-packages|python3\.\d+|main)/", "(",
                         re.sub(r":\d+\)$", ")", f)) for f in stack.split(";")]
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for name in {f.split(" (")[0] for f in frames}:
            by_name[name] += count
    if not total:
        print("    no samples")
        return
    print(f"    {total} samples (on-CPU only); server CPU {cpu_us:.0f} µs per request")
    print("    top self time (share of samples, ~µs per request):")
    for frame, count in own.most_common(top):
        print(f"      {100 * count / total:5.1f}%  {cpu_us * count / total:6.1f} µs  {frame}")
    print("    inclusive time by phase:")
    for name, label in PHASES:
        count = by_name.get(name, 0)
        print(f"      {100 * count / total:5.1f}%  {cpu_us * count / total:6.1f} µs  {label} [{name}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", default="posts,user",
                        help="comma-separated: posts,user,filtered")
    parser.add_argument("--rounds", type=int, default=2,
                        help="each round is FraiseQL+pgbench; odd rounds reversed (A B B A)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--app", default="examples.blog.app:app",
                        help="the ASGI app uvicorn serves (module:attribute); "
                             "benchmarks.blog_app_reset:app for asyncpg's default reset")
    parser.add_argument("--profile", action="store_true",
                        help="also record the server with py-spy under wrk load")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    _pg, url = asyncio.run(blogdb.start_blog_database())
    parts = url_parts(url)
    workdir = Path(tempfile.mkdtemp(prefix="fraiseql-bench-"))
    print(f"database {url}\nwork files {workdir}")
    server = Server(url, workdir, args.app)
    print(f"server pid {server.process.pid}: {' '.join(server.command)}")
    results: dict[str, tuple[float, float]] = {}
    try:
        for label in args.queries.split(","):
            query = QUERIES[label]
            sql, params, expected = asyncio.run(statement_for(url, query))
            status, body = post(server.url, query)
            data = json.loads(body)
            assert status == 200 and "errors" not in data, body[:300]
            assert data["data"][label] == json.loads(expected), "FraiseQL != its own SQL"
            script, defines = pgbench_script(workdir, label, sql, params)
            check_pgbench_statement(script, defines, parts, expected)
            first_key = json.dumps(f'"{label}":')
            lua = workdir / f"{label}.lua"
            lua.write_text(WRK_LUA % (json.dumps(json.dumps({"query": query})), first_key))
            print(f"\n== {label}: {query}  ({len(body)} bytes per response)")
            print(f"   pgbench script {script} {' '.join(defines)}")
            run_wrk(server, lua, argparse.Namespace(**{**vars(args), "duration": 2}))  # warm-up
            if not results:
                report_pool_reset(url)
            fraiseql_rps: list[float] = []
            pgbench_tps: list[float] = []
            for r in range(args.rounds):
                steps = ["wrk", "pgbench"] if r % 2 == 0 else ["pgbench", "wrk"]
                print(f"  round {r + 1}")
                for step in steps:
                    if step == "wrk":
                        fraiseql_rps.append(run_wrk(server, lua, args))
                    else:
                        pgbench_tps.append(run_pgbench(script, defines, parts, args))
            f, p = statistics.median(fraiseql_rps), statistics.median(pgbench_tps)
            results[label] = (f, p)
            print(f"  {label}: FraiseQL {f:.0f} req/s, pgbench {p:.0f} tx/s, "
                  f"ratio FraiseQL/pgbench {f / p:.2f}")
            if args.profile:
                profile(server, lua, workdir, args, label)
    finally:
        server.stop()
    print("\nsummary (medians)")
    for label, (f, p) in results.items():
        print(f"  {label:<6} FraiseQL {f:8.0f} req/s   pgbench {p:8.0f} tx/s   "
              f"FraiseQL/pgbench {f / p:.2f}")


if __name__ == "__main__":
    main()
