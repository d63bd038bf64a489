"""`fraiseql check` prints the security warnings, and they do not change its exit status."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from cli_runner import run_fraiseql as fraiseql

APP = """
import fraiseql
from fraiseql.schema.definitions import definition_of


@fraiseql.type(sql_source="v_item")
class Item:
    id: int
    name: str


# What @fraiseql.type(..., tenant_column="tenant_id") declares, once it exists.
definition_of(Item).tenant_column = "tenant_id"


@fraiseql.query
def items(limit: int = 20) -> list[Item]:
    ...


app = fraiseql.create_app(fraiseql.build_schema(queries=[items]))
"""

SETUP = """
CREATE TABLE tb_item (id int PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL);
INSERT INTO tb_item VALUES (1, 't1', 'a');
CREATE VIEW v_item AS
  SELECT id, jsonb_build_object('id', id, 'name', name) AS data FROM tb_item;
"""


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def warnings_of(stdout: str) -> list[str]:
    if "\nwarnings:\n" not in stdout:
        return []
    return stdout.split("\nwarnings:\n")[1].split("\n\n")[0].splitlines()


async def test_check_warns_and_still_passes(empty_db_url: str, tmp_path: Path) -> None:
    (tmp_path / "secapp.py").write_text(APP)
    assert fraiseql("install", "--database-url", empty_db_url, cwd=tmp_path).returncode == 0
    await execute(empty_db_url, SETUP)
    done = fraiseql("check", "secapp:app", "--database-url", empty_db_url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert warnings_of(done.stdout) == [
        ("  warning: row-level security does not apply to role postgres (SUPERUSER, "
         "BYPASSRLS): the server should connect as an ordinary role (NOSUPERUSER NOBYPASSRLS)"),
        ("  warning: Item (tenant_column tenant_id): view v_item is not security_invoker, so it "
         "reads its tables with its owner's rights, not the caller's: ALTER VIEW v_item SET "
         "(security_invoker = true)"),
        ("  warning: Item (tenant_column tenant_id): table tb_item (read through v_item) does "
         "not have row-level security enabled: ALTER TABLE tb_item ENABLE ROW LEVEL SECURITY, "
         "FORCE ROW LEVEL SECURITY (and add a policy)"),
    ]
    assert "OK: 1 view(s) match their types (1 rows sampled)" in done.stdout

    # Fixed, and checked as the ordinary role the server would use: no warning at all.
    role = f"secapp_{uuid.uuid4().hex[:10]}"
    await execute(empty_db_url, f"""
        ALTER VIEW v_item SET (security_invoker = true);
        ALTER TABLE tb_item ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
        CREATE POLICY everyone ON tb_item USING (true);
        CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS;
        GRANT SELECT ON tb_item, v_item TO {role};""")
    parts = urlsplit(empty_db_url)
    as_role = urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))
    try:
        done = fraiseql("check", "secapp:app", "--database-url", as_role, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert warnings_of(done.stdout) == []
        assert "warning" not in done.stdout
        assert "OK: 1 view(s) match their types (1 rows sampled)" in done.stdout
    finally:
        await execute(empty_db_url, f"DROP OWNED BY {role}; DROP ROLE {role}")
