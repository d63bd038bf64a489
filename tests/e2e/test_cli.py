"""The `fraiseql` command, run as a subprocess against real databases."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
BLOG = "examples.blog.app:app"
SECOND_NOTE = "6c1b7e0a-2f4d-4c8e-9a1b-000000000002"


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: no inherited database, the repo importable."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FRAISEQL_DATABASE_URL", "DATABASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def fraiseql(*args: str, cwd: Path = REPO, timeout: float = 60,
             **env: str) -> subprocess.CompletedProcess[str]:
    """Run `fraiseql ARGS` to completion."""
    return subprocess.run([sys.executable, "-m", "fraiseql.cli.main", *args], cwd=cwd,
                          env=cli_env(**env), capture_output=True, text=True, timeout=timeout,
                          check=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A `fraiseql dev`/`serve` subprocess on a free port, its output in a file."""

    def __init__(self, args: list[str], cwd: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "fraiseql.cli.main", *args, "--port", str(self.port)],
                cwd=cwd, env=cli_env(**env), stdout=output, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text()

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"server not healthy after {timeout} s:\n{self.output()}")

    def query(self, query: str, timeout: float = 10) -> Any:
        response = httpx.post(self.url + "/graphql", json={"query": query}, timeout=timeout)
        assert response.status_code == 200, response.text
        return response.json()

    def terminate(self, within: float) -> None:
        """SIGTERM; fail unless it shuts down gracefully within ``within`` seconds."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(within)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {within} s after SIGTERM:\n{self.output()}")
        assert time.monotonic() - started < within
        assert code == 0, self.output()
        assert "Application shutdown complete." in self.output()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def project_root() -> Iterator[Path]:
    """A world-readable temp dir (the embedded server may run as another OS user)."""
    root = Path(tempfile.mkdtemp(prefix="fraiseql-cli-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def fetch(url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


# --- usage ----------------------------------------------------------------------------


def test_usage_errors_exit_2_without_traceback() -> None:
    for args in [(), ("serve", BLOG, "--workers", "0"), ("check", "a:b:c"),
                 ("explain", BLOG, "-q", "{ tags { name } }", "--variables", "[1]")]:
        done = fraiseql(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert fraiseql("--version").stdout.startswith("fraiseql ")


def test_unimportable_app_fails_with_a_clear_message() -> None:
    done = fraiseql("schema", "export", "no_such_module:app")
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot import module 'no_such_module'")
    done = fraiseql("schema", "export", "examples.blog.app:nope")
    assert done.stderr == "error: module 'examples.blog.app' has no attribute 'nope'\n"


# --- schema, explain -------------------------------------------------------------------


def test_schema_export_prints_the_sdl(tmp_path: Path) -> None:
    done = fraiseql("schema", "export", BLOG)
    assert done.returncode == 0, done.stderr
    assert "type Post {" in done.stdout
    assert "  author: Author!" in done.stdout
    # Every SQL list root's connection and count, and their types.
    for fragment in ("  postsConnection(\n", "  ): PostConnection!\n", "  postsCount(",
                     "  tagsConnection(", "type PostConnection {", "type PostEdge {",
                     "type PageInfo {", "  author: AuthorOrderBy", "  DESC_NULLS_LAST"):
        assert fragment in done.stdout, fragment
    assert "topPostsConnection" not in done.stdout  # a Python resolver: no companions
    target = tmp_path / "schema.graphql"
    assert fraiseql("schema", "export", BLOG, "-o", str(target)).returncode == 0
    assert target.read_text() == done.stdout


def test_explain_prints_sql_and_bound_parameters() -> None:
    done = fraiseql("explain", BLOG, "-q", "query($id: ID!) { post(id: $id) { title } "
                    "tags { name } }", "--variables", json.dumps({"id": "ABC"}))
    assert done.returncode == 0, done.stderr
    assert "-- post\nSELECT json_build_object('title'" in done.stdout
    assert 'FROM "tv_post"' in done.stdout
    assert "-- tags\n" in done.stdout
    assert "-- $1 = " in done.stdout


def test_explain_rejects_an_invalid_query() -> None:
    done = fraiseql("explain", BLOG, "-q", "{ nope }")
    assert done.returncode == 1
    assert "Cannot query field 'nope' on type 'Query'" in done.stderr


def test_explain_analyze_runs_on_the_database(blog_db_url: str) -> None:
    done = fraiseql("explain", BLOG, "-q", "{ posts(limit: 3) { id title } }", "--analyze",
                    "--database-url", blog_db_url)
    assert done.returncode == 0, done.stderr
    assert "json_build_object" in done.stdout
    assert "-- $1 = 3" in done.stdout
    assert "Buffers: shared" in done.stdout
    assert "Execution Time:" in done.stdout


async def test_explain_shows_a_sql_mutation_and_analyze_keeps_nothing(
        fresh_blog_db_url: str) -> None:
    before = await fetch(fresh_blog_db_url, "SELECT count(*) AS n FROM tb_post")
    document = ('mutation($a: ID!) { createPost(input: {authorId: $a, title: "Explained", '
                'body: "b"}) { ... on CreatePostSuccess { post { title } } } }')
    done = fraiseql("explain", BLOG, "-q", document, "--analyze",
                    "--variables", json.dumps({"a": "40ca0979-0c31-c57a-e9b4-68903f6cd580"}),
                    "--database-url", fresh_blog_db_url)
    assert done.returncode == 0, done.stderr
    assert "-- createPost\n" in done.stdout
    assert "fn_create_post" in done.stdout and "Python resolver" not in done.stdout
    assert "Execution Time:" in done.stdout
    after = await fetch(fresh_blog_db_url, "SELECT count(*) AS n FROM tb_post")
    assert after[0]["n"] == before[0]["n"]


# --- check -----------------------------------------------------------------------------


def test_check_passes_on_the_blog_database(blog_db_url: str) -> None:
    done = fraiseql("check", BLOG, FRAISEQL_DATABASE_URL=blog_db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    for view in ("tv_post", "v_comment", "v_tag", "v_user"):
        assert f"  {view} " in done.stdout
    assert "OK: 4 view(s) match their types" in done.stdout
    for mutation in ("addComment", "createPost", "deletePost", "updatePost"):
        assert f"  {mutation}  fn_" in done.stdout
    assert "; 4 mutation function(s) match their declarations" in done.stdout


async def test_check_reports_each_mismatch_precisely(fresh_blog_db_url: str) -> None:
    await execute(fresh_blog_db_url, """
        CREATE OR REPLACE VIEW v_tag AS
        SELECT t.id, jsonb_build_object('id', t.id, 'name', 42) AS data FROM tb_tag t;
        CREATE OR REPLACE VIEW v_comment AS
        SELECT c.id, c.post_id, c.author_id, c.created_at,
               jsonb_build_object('id', c.id, 'body', c.body, 'created_at', NULL,
                                  'author', jsonb_build_object('id', c.author_id,
                                                               'full_name', 'x')) AS data
        FROM tb_comment c;
    """)
    done = fraiseql("check", BLOG, "--database-url", fresh_blog_db_url)
    assert done.returncode == 1, done.stdout + done.stderr
    problems = [line.strip() for line in done.stdout.splitlines() if line.startswith("  v_")
                and ": " in line]
    assert [p.split(" (in ")[0] for p in problems] == [
        "v_comment: Comment.createdAt: expected DateTime! (not null), found null",
        "v_comment: Comment.author.username: expected key 'username', found no such key",
        "v_tag: Tag.name: expected String! (a JSON string), found number 42",
        "v_tag: Tag.slug: expected key 'slug', found no such key",
    ], done.stdout
    assert all(" sampled rows, e.g. id " in p for p in problems)
    assert "FAILED: 4 problem(s) in 2 of 4 view(s)" in done.stdout


async def test_check_reports_a_missing_view_and_a_bad_data_column(
        fresh_blog_db_url: str) -> None:
    await execute(fresh_blog_db_url, """
        DROP VIEW v_tag;
        CREATE OR REPLACE VIEW v_user AS SELECT u.id, u.created_at, u.username::text AS data
        FROM tb_user u;
    """.replace("CREATE OR REPLACE VIEW v_user", "DROP VIEW v_user; CREATE VIEW v_user"))
    done = fraiseql("check", BLOG, "--database-url", fresh_blog_db_url)
    assert done.returncode == 1
    assert "v_tag: expected a view or table named v_tag, found none" in done.stdout
    assert "v_user: expected a column data of type jsonb, found data of type text" in done.stdout


async def test_check_reports_a_missing_function_and_a_wrong_return_type(
        fresh_blog_db_url: str) -> None:
    await execute(fresh_blog_db_url, """
        DROP FUNCTION fn_create_post(jsonb);
        DROP FUNCTION fn_update_post(jsonb);
        CREATE FUNCTION fn_update_post(input jsonb) RETURNS jsonb
        LANGUAGE sql AS $$ SELECT input $$;
    """)
    done = fraiseql("check", BLOG, "--database-url", fresh_blog_db_url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "  createPost  fn_create_post(jsonb)  1 problem(s)\n" in done.stdout
    assert "  deletePost  fn_delete_post(jsonb)  ok\n" in done.stdout
    problems = done.stdout.split("\nproblems:\n")[1].split("\n\n")[0].splitlines()
    assert problems == [
        ("  createPost: expected a function fn_create_post(jsonb) returning "
         "fraiseql.mutation_result, found none"),
        "  updatePost: fn_update_post(jsonb) returns jsonb, expected fraiseql.mutation_result",
    ]
    assert "FAILED: 2 problem(s) in 0 of 4 view(s) and 2 of 4 mutation function(s)" \
        in done.stdout


CONTEXT_APP = """
import fraiseql
from fraiseql import ID


@fraiseql.type(sql_source="v_item")
class Item:
    id: ID
    name: str


@fraiseql.query
def items(limit: int = 20) -> list[Item]:
    ...


@fraiseql.input
class RenameInput:
    id: ID
    name: str


@fraiseql.mutation(function="app.fn_rename", context_params=("tenant_id", "user_id"))
class Rename:
    input: RenameInput
    success: Item


@fraiseql.mutation(function="fn_touch")
class Touch:
    input: RenameInput
    success: Item


schema = fraiseql.build_schema(queries=[items], mutations=[Rename, Touch])
app = fraiseql.create_app(schema)
"""


async def test_check_expects_context_params_as_leading_text_arguments(
        empty_db_url: str, tmp_path: Path) -> None:
    (tmp_path / "ctxapp.py").write_text(CONTEXT_APP)
    assert fraiseql("install", "--database-url", empty_db_url).returncode == 0
    await execute(empty_db_url, """
        CREATE VIEW v_item AS SELECT '1' AS id, jsonb_build_object('id', '1', 'name', 'a') AS data;
        CREATE SCHEMA app;
        CREATE FUNCTION app.fn_rename(tenant_id uuid, user_id text, input jsonb)
        RETURNS fraiseql.mutation_result LANGUAGE sql
        AS $$ SELECT fraiseql.noop('Item', '1', input) $$;
        CREATE FUNCTION app.fn_touch(input jsonb) RETURNS fraiseql.mutation_result LANGUAGE sql
        AS $$ SELECT fraiseql.noop('Item', '1', input) $$;
    """)
    done = fraiseql("check", "ctxapp:app", "--database-url", empty_db_url, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "  rename  app.fn_rename(text, text, jsonb)  1 problem(s)\n" in done.stdout
    assert (
        "  rename: expected a function app.fn_rename(text, text, jsonb) returning "
        "fraiseql.mutation_result (context params tenant_id, user_id, then the input), "
        "found app.fn_rename(uuid, text, jsonb)\n") in done.stdout
    assert (
        "  touch: expected a function fn_touch(jsonb) returning fraiseql.mutation_result, "
        "found none on the search_path (\"$user\", public), only app.fn_touch(jsonb)\n"
    ) in done.stdout
    await execute(empty_db_url, """
        DROP FUNCTION app.fn_rename(uuid, text, jsonb);
        CREATE FUNCTION app.fn_rename(tenant_id text, user_id text, input jsonb)
        RETURNS fraiseql.mutation_result LANGUAGE sql
        AS $$ SELECT fraiseql.noop('Item', '1', input) $$;
        ALTER FUNCTION app.fn_touch(jsonb) SET SCHEMA public;
    """)
    done = fraiseql("check", "ctxapp:app", "--database-url", empty_db_url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "; 2 mutation function(s) match their declarations" in done.stdout


def test_unreachable_database_is_named_with_its_password_masked() -> None:
    url = f"postgresql://bob:s3cret@127.0.0.1:{free_port()}/nowhere"
    for args in (("check", BLOG), ("migrate", "--dir", "examples/blog/db")):
        done = fraiseql(*args, "--database-url", url)
        assert done.returncode == 1, args
        assert "error: cannot connect to the database at postgresql://bob:***@127.0.0.1:" \
            in done.stderr
        assert "s3cret" not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr


def test_dev_refuses_to_run_in_production(tmp_path: Path) -> None:
    done = fraiseql("dev", cwd=tmp_path, FRAISEQL_ENV="production")
    assert done.returncode == 1
    assert done.stderr == ("error: `fraiseql dev` accepts dev tokens and never runs with "
                           "FRAISEQL_ENV=production; use `fraiseql serve`\n")


def test_no_database_at_all_is_a_clear_error(tmp_path: Path) -> None:
    done = fraiseql("dev", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == f"error: cannot import module 'app' from {tmp_path} (no app.py there?)\n"
    assert not (tmp_path / ".fraiseql").exists()  # nothing started for a project that is not
    done = fraiseql("migrate", cwd=tmp_path)
    assert done.returncode == 1
    assert "no migrations folder" in done.stderr
    (tmp_path / "db").mkdir()
    done = fraiseql("migrate", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: no database: pass --database-url")


# --- migrate, install -------------------------------------------------------------------


async def test_migrate_applies_pending_files_then_is_up_to_date(empty_db_url: str,
                                                                tmp_path: Path) -> None:
    (tmp_path / "001_a.sql").write_text("CREATE TABLE a (id int);")
    (tmp_path / "002_b.sql").write_text("INSERT INTO a VALUES (1), (2);")
    done = fraiseql("migrate", "--dir", str(tmp_path), "--database-url", empty_db_url)
    assert (done.returncode, done.stdout) == (0, "applied 001_a.sql\napplied 002_b.sql\n")
    assert [r[0] for r in await fetch(empty_db_url, "SELECT id FROM a ORDER BY id")] == [1, 2]
    done = fraiseql("migrate", "--dir", str(tmp_path), DATABASE_URL=empty_db_url)
    assert (done.returncode, done.stdout) == (0, "up to date\n")
    (tmp_path / "003_c.sql").write_text("INSERT INTO a VALUES (3);")
    done = fraiseql("migrate", "--dir", str(tmp_path), "--dry-run", "--database-url", empty_db_url)
    assert done.stdout == "pending 003_c.sql\n"
    (tmp_path / "004_bad.sql").write_text("INSERT INTO missing VALUES (1);")
    done = fraiseql("migrate", "--dir", str(tmp_path), "--database-url", empty_db_url)
    assert done.returncode == 1
    assert "004_bad.sql" in done.stderr and 'relation "missing" does not exist' in done.stderr
    assert "Traceback" not in done.stderr


async def test_install_is_idempotent(empty_db_url: str) -> None:
    from fraiseql.ops.migrations import framework_files, framework_version
    version, files = framework_version(), ", ".join(f.filename for f in framework_files())
    done = fraiseql("install", "--database-url", empty_db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"installed the framework SQL version {version} ({files}) in ")
    done = fraiseql("install", "--database-url", empty_db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"the framework SQL is up to date (version {version}) in ")
    rows = await fetch(empty_db_url, "SELECT to_regclass('fraiseql.migrations') IS NOT NULL")
    assert rows[0][0] is True


# --- serve -----------------------------------------------------------------------------


async def test_serve_answers_and_drains_in_flight_requests_on_sigterm(
        fresh_blog_db_url: str, tmp_path: Path) -> None:
    # v_tag takes a second to read: a request is in flight when SIGTERM arrives.
    await execute(fresh_blog_db_url, """
        CREATE OR REPLACE VIEW v_tag AS
        SELECT t.id, jsonb_build_object('id', t.id, 'name', t.name, 'slug', t.slug) AS data
        FROM tb_tag t WHERE (SELECT pg_sleep(1)::text) IS NOT NULL;
    """)
    names = sorted(r[0] for r in await fetch(fresh_blog_db_url, "SELECT name FROM tb_tag"))
    server = Server(["serve", BLOG, "--workers", "1"], REPO, tmp_path / "serve.log",
                    FRAISEQL_DATABASE_URL=fresh_blog_db_url)
    try:
        server.wait_healthy(15)
        assert "with 1 worker(s) (uvloop, httptools)" in server.output()
        in_flight: dict[str, Any] = {}
        request = threading.Thread(target=lambda: in_flight.update(
            body=server.query("{ tags { name } }", timeout=10)))
        request.start()
        await asyncio.sleep(0.3)
        server.terminate(within=8)
        request.join(5)
        assert sorted(tag["name"] for tag in in_flight["body"]["data"]["tags"]) == names
    finally:
        server.close()


def test_serve_without_a_database_refuses_to_start() -> None:
    done = fraiseql("serve", BLOG, "--port", str(free_port()))
    assert done.returncode == 1
    assert done.stderr == "error: no database: set FRAISEQL_DATABASE_URL or DATABASE_URL\n"


# --- init, dev -------------------------------------------------------------------------


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("")
    done = fraiseql("init", "taken", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "error: taken already exists and is not empty; choose another name\n"


def test_init_then_dev_on_your_own_database(project_root: Path, empty_db_url: str) -> None:
    assert fraiseql("init", "notes", cwd=project_root).returncode == 0
    project = project_root / "notes"
    server = Server(["dev", "--no-reload", "--database-url", empty_db_url], project,
                    project_root / "dev.log")
    try:
        server.wait_healthy(20)
        body = server.query(f'{{ note(id: "{SECOND_NOTE}") {{ title isDone }} }}')
        assert body == {"data": {"note": {"title": "Add a field", "isDone": False}}}
        assert "migrations  applied 001_schema.sql" in server.output()
        assert "auth        dev tokens accepted: fraiseql token --sub alice" in server.output()
        # `fraiseql token` signs with the secret `dev` generated: the server accepts it.
        token = fraiseql("token", "--sub", "alice", "--role", "editor", cwd=project)
        assert token.returncode == 0, token.stderr
        query = {"query": "{ notes { title } }"}
        signed = httpx.post(server.url + "/graphql", json=query, timeout=10,
                            headers={"authorization": f"Bearer {token.stdout.strip()}"})
        assert signed.status_code == 200 and len(signed.json()["data"]["notes"]) == 3
        forged = httpx.post(server.url + "/graphql", json=query, timeout=10,
                            headers={"authorization": f"Bearer {token.stdout.strip()}x"})
        assert forged.status_code == 401
        assert forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        server.terminate(within=8)
    finally:
        server.close()
    # A given database: nothing embedded, only the dev-token secret.
    assert sorted(p.name for p in (project / ".fraiseql").iterdir()) == [
        ".gitignore", "dev-auth-secret"]
    done = fraiseql("check", cwd=project, DATABASE_URL=empty_db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: 1 view(s) match their types (3 rows sampled)" in done.stdout


def test_init_then_dev_with_the_embedded_database(project_root: Path) -> None:
    done = fraiseql("init", "my-notes", cwd=project_root)
    assert done.returncode == 0, done.stderr
    project = project_root / "my-notes"
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == [
        ".gitignore", "README.md", "app.py", "db", "db/001_schema.sql"]
    server = Server(["dev"], project, project_root / "dev.log")
    try:
        server.wait_healthy(45)
        body = server.query("{ notes { title isDone } }")
        assert body["data"]["notes"][0] == {"title": "Welcome to FraiseQL", "isDone": True}
        assert len(body["data"]["notes"]) == 3
        output = server.output()
        assert "postgresql://postgres@/my_notes?host=" in output
        assert f"GraphiQL    {server.url}/graphql" in output
        assert "curl -s " in output and "{ notes { id title body isDone } }" in output
        server.terminate(within=8)
        # The embedded server outlives `dev`: check finds the dev database by itself.
        done = fraiseql("check", cwd=project)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "OK: 1 view(s) match their types (3 rows sampled)" in done.stdout
        assert (project / ".fraiseql" / ".gitignore").read_text() == "*\n"
    finally:
        server.close()
        stopped = fraiseql("dev", "--stop-db", cwd=project)
    assert stopped.stdout == "stopped the embedded PostgreSQL\n"
