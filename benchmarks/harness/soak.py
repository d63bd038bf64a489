"""Soak: the harness's read workloads W1-W4, mixed, at 64 connections for 10 minutes,
sampling the server's resident memory, to show that it does not grow (bounded caches).

    cd /tmp/bench && .venv/bin/python /work/main/benchmarks/harness/soak.py \
        [--minutes 10] [--conns 64] [--port 5112]

Needs the harness copied to /tmp/bench and set up (its database running: `db/pgctl.py
start`). Starts `start.sh PORT 1` (one worker), writes one mixed bodies file (1,000 bodies
per workload from the harness's own parameters, in random order), runs wrk with the
harness's driver, samples the RSS of the server's process tree every 10 s, and prints the
series, the first and last minute's median and the wrk summary.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HARNESS = Path.cwd()
HERE = Path(__file__).resolve().parent
WORKLOADS = ["W1", "W2", "W3", "W4"]
SAMPLE_S = 10.0


def bodies_file(path: Path) -> Path:
    sys.path.insert(0, str(HARNESS / "workloads"))
    import params  # the harness's deterministic request parameters

    lines = []
    for w in WORKLOADS:
        doc = (HARNESS / "workloads" / "canonical" / f"{w}.graphql").read_text()
        lines += [json.dumps({"query": doc, "variables": params.variables(w, s, "fraiseql")})
                  for s in params.seeds(w, 1000)]
    random.Random(7).shuffle(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in kB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def wait_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    body = b'{"query":"{ __typename }"}'
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"server at {url} not ready after {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--conns", type=int, default=64)
    parser.add_argument("--port", type=int, default=5112)
    args = parser.parse_args()

    uri = subprocess.run([".venv/bin/python", "db/pgctl.py", "uri"], check=True,
                         capture_output=True, text=True).stdout.strip()
    env = {**os.environ, "DATABASE_URL": uri, "PG_POOL_MAX": "16"}
    log = open(f"/tmp/fraiseql-soak-{args.port}.log", "w")  # noqa: SIM115 - lives as long as main
    server = subprocess.Popen(["./start.sh", str(args.port), "1"], cwd=HERE, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{args.port}/graphql"
    samples: list[tuple[float, int]] = []
    try:
        wait_ready(url, 600)
        bodies = bodies_file(Path(f"/tmp/fraiseql-soak-{args.port}.jsonl"))
        stop = threading.Event()
        start = time.monotonic()

        def sample() -> None:
            while not stop.is_set():
                samples.append((time.monotonic() - start, tree_rss_kb(server.pid)))
                stop.wait(SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        seconds = int(args.minutes * 60)
        wrk = subprocess.run(
            ["wrk", "-t2", f"-c{args.conns}", f"-d{seconds}s", "--latency",
             "-s", str(HARNESS / "driver" / "graphql.lua"), url, "--", str(bodies), "1"],
            capture_output=True, text=True, check=True)
        stop.set()
        sampler.join()
        samples.append((time.monotonic() - start, tree_rss_kb(server.pid)))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    summary = json.loads(wrk.stdout.split("WRK_JSON ", 1)[1].splitlines()[0])
    print("t (s)   RSS (MB)")
    for t, kb in samples:
        print(f"{t:6.0f}   {kb / 1024:7.1f}")
    first = [kb for t, kb in samples if t <= 60]
    last = [kb for t, kb in samples if t >= samples[-1][0] - 60]
    errors = sum(summary["errors"].values())
    print(f"requests {summary['requests']:,} in {summary['duration_us'] / 1e6:.0f} s "
          f"({summary['requests'] / (summary['duration_us'] / 1e6):,.0f} req/s), errors {errors}, "
          f"p50 {summary['latency_us']['p50'] / 1000:.1f} ms, "
          f"p99 {summary['latency_us']['p99'] / 1000:.1f} ms")
    print(f"RSS median first minute {statistics.median(first) / 1024:.1f} MB, "
          f"last minute {statistics.median(last) / 1024:.1f} MB, "
          f"peak {max(kb for _, kb in samples) / 1024:.1f} MB")


if __name__ == "__main__":
    main()
