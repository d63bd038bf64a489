"""Peak RSS of one FraiseQL worker while it streams a 100,000-row export.

Starts the benchmark PostgreSQL (benchmarks/blogdb.py), creates database
`export_bench` with a 100,000-row view, serves a schema whose query has a raised
page cap with uvicorn (one worker) and reads the worker's VmHWM (peak RSS) from
/proc after start-up, after a small page, and after the whole export.

    /work/venv/bin/python benchmarks/export_rss.py
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
APP = '''
import fraiseql

@fraiseql.type(sql_source="v_export")
class Row:
    id: int
    label: str
    note: str

@fraiseql.query(max_page_size=100_000)
def rows(limit: int = 100) -> list[Row]: ...

app = fraiseql.create_app(fraiseql.build_schema(queries=[rows]))
'''
SQL = """
DROP VIEW IF EXISTS v_export; DROP TABLE IF EXISTS tb_export;
CREATE TABLE tb_export (id int PRIMARY KEY, label text, note text);
INSERT INTO tb_export SELECT n, 'row ' || n, repeat(md5(n::text), 4) FROM generate_series(1, 100000) n;
CREATE VIEW v_export AS SELECT id, jsonb_build_object('id', id, 'label', label, 'note', note) AS data
FROM tb_export;
"""


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def database() -> str:
    import asyncpg
    sys.path.insert(0, str(ROOT))
    from benchmarks.blogdb import server
    pg = server()
    pg.start()
    if not pg.database_exists("export_bench"):
        pg.create_database("export_bench")
    url = pg.url("export_bench")
    conn = await asyncpg.connect(url)
    await conn.execute(SQL)
    await conn.close()
    return url


def main() -> None:
    url = asyncio.run(database())
    workdir = Path("/tmp/fraiseql-export-rss")
    workdir.mkdir(exist_ok=True)
    (workdir / "export_app.py").write_text(APP)
    env = {**os.environ, "FRAISEQL_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "export_app:app", "--port", "5177", "--loop", "uvloop",
         "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        cwd=workdir, env=env)
    try:
        for _ in range(100):
            try:
                httpx.get("http://127.0.0.1:5177/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        started = peak_rss_mb(server.pid)
        query = "{ rows(limit: %d) { id label note } }"
        small = httpx.post("http://127.0.0.1:5177/graphql", json={"query": query % 100})
        after_small = peak_rss_mb(server.pid)
        begin = time.perf_counter()
        size = 0
        with httpx.stream("POST", "http://127.0.0.1:5177/graphql",
                          json={"query": query % 100_000}, timeout=120) as response:
            chunks = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                chunks += 1
        elapsed = time.perf_counter() - begin
        after_export = peak_rss_mb(server.pid)
        assert small.status_code == 200 and response.status_code == 200
        print(f"peak RSS after start-up {started:.1f} MB, after a 100-row page "
              f"{after_small:.1f} MB, after the 100,000-row export {after_export:.1f} MB")
        print(f"export: {size / 1e6:.1f} MB of JSON in {chunks} chunks, {elapsed:.2f} s")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
