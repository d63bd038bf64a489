"""The security warnings of ``fraiseql check`` (fraiseql.authz.checks) on a real server.

Run as the superuser and as an ordinary role: the catalog says the same to both, only
the role warning differs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from fraiseql.authz.checks import (
    role_warnings,
    security_warnings,
    source_warnings,
    tenant_scoped_sources,
)
from fraiseql.schema.definitions import definition_of

SETUP = """
CREATE TABLE tb_forced (id int PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL);
ALTER TABLE tb_forced ENABLE ROW LEVEL SECURITY;
ALTER TABLE tb_forced FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON tb_forced
  USING (tenant_id = nullif(current_setting('fraiseql.tenant_id', true), ''));
CREATE TABLE tb_enabled (id int PRIMARY KEY, tenant_id text NOT NULL);
ALTER TABLE tb_enabled ENABLE ROW LEVEL SECURITY;
CREATE TABLE tb_none (id int PRIMARY KEY, tenant_id text NOT NULL);
CREATE SCHEMA other;
CREATE TABLE other.tb_tag (id int PRIMARY KEY, label text);

-- Safe: an invoker view over a forced table.
CREATE VIEW v_safe WITH (security_invoker = on) AS
  SELECT id, jsonb_build_object('id', id, 'name', name) AS data FROM tb_forced;
-- A plain (definer) view over the same table.
CREATE VIEW v_plain AS
  SELECT id, jsonb_build_object('id', id, 'name', name) AS data FROM tb_forced;
CREATE VIEW v_on_enabled WITH (security_invoker = true) AS
  SELECT id, jsonb_build_object('id', id) AS data FROM tb_enabled;
-- A view over a view over a table; the join reaches two more tables.
CREATE VIEW v_inner WITH (security_invoker = true) AS
  SELECT e.id, f.name FROM tb_enabled e JOIN tb_forced f USING (id)
  WHERE EXISTS (SELECT FROM other.tb_tag t WHERE t.id = e.id);
CREATE VIEW v_outer WITH (security_invoker = true) AS
  SELECT id, jsonb_build_object('id', id, 'name', name) AS data FROM v_inner;
-- An invoker view over a definer view: the inner one reads as its owner.
CREATE VIEW v_inner_plain AS SELECT id, name FROM tb_forced;
CREATE VIEW v_outer_of_plain WITH (security_invoker = 1) AS
  SELECT id, jsonb_build_object('id', id, 'name', name) AS data FROM v_inner_plain;
CREATE MATERIALIZED VIEW mv_names AS
  SELECT id, jsonb_build_object('id', id, 'name', name) AS data FROM tb_forced;
"""


def url_as(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def catalog_db(pg_server: Any) -> AsyncIterator[tuple[str, str]]:
    """The objects above, and the URLs of the superuser and of an ordinary role."""
    from fraiseql.testing.postgres import create_database, drop_database, unique_database_name
    name = unique_database_name("fraiseql_seccheck")
    url = await create_database(pg_server, name)
    role = f"seccheck_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(url)
    await conn.execute(SETUP)
    await conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
    yield url, url_as(url, role)
    await conn.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")
    await conn.close()
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(loop_scope="session", params=["superuser", "ordinary"])
async def conn(request: Any, catalog_db: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    url = catalog_db[0] if request.param == "superuser" else catalog_db[1]
    connection = await asyncpg.connect(url)
    yield connection
    await connection.close()


ENABLE_FORCE = "ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY (and add a policy)"


async def test_an_invoker_view_over_a_forced_table_is_fine(conn: asyncpg.Connection) -> None:
    assert await source_warnings(conn, "v_safe") == []
    assert await source_warnings(conn, "tb_forced") == []


async def test_a_plain_view(conn: asyncpg.Connection) -> None:
    assert await source_warnings(conn, "v_plain") == [
        ("view v_plain is not security_invoker, so it reads its tables with its owner's "
        "rights, not the caller's: ALTER VIEW v_plain SET (security_invoker = true)")]


async def test_a_table_with_rls_enabled_but_not_forced(conn: asyncpg.Connection) -> None:
    expected = ("table tb_enabled (read through v_on_enabled) enables row-level security but "
                "does not force it, so its owner reads every row: ALTER TABLE tb_enabled "
                "FORCE ROW LEVEL SECURITY")
    assert await source_warnings(conn, "v_on_enabled") == [expected]
    assert await source_warnings(conn, "tb_enabled") == [
        expected.replace(" (read through v_on_enabled)", "")]
    assert await source_warnings(conn, "tb_none") == [
        (f"table tb_none does not have row-level security enabled: ALTER TABLE tb_none "
        f"{ENABLE_FORCE}")]


async def test_a_view_over_a_view_over_tables(conn: asyncpg.Connection) -> None:
    # Through v_inner: tb_enabled (not forced), tb_forced (fine), other.tb_tag (a subquery
    # in another schema, no RLS); every view is security_invoker.
    assert await source_warnings(conn, "v_outer") == [
        ("table other.tb_tag (read through v_outer) does not have row-level security enabled:"
         f" ALTER TABLE other.tb_tag {ENABLE_FORCE}"),
        ("table tb_enabled (read through v_outer) enables row-level security but does not "
         "force it, so its owner reads every row: ALTER TABLE tb_enabled FORCE ROW LEVEL "
         "SECURITY"),
    ]


async def test_a_definer_view_inside_an_invoker_view(conn: asyncpg.Connection) -> None:
    assert await source_warnings(conn, "v_outer_of_plain") == [
        ("view v_inner_plain (read through v_outer_of_plain) is not security_invoker, so it "
        "reads its tables with its owner's rights, not the caller's: ALTER VIEW v_inner_plain "
        "SET (security_invoker = true)")]


async def test_a_materialized_view_and_missing_or_malformed_sources(
        conn: asyncpg.Connection) -> None:
    assert await source_warnings(conn, "mv_names") == [
        ("materialized view mv_names has no row-level security: its stored rows are returned "
        "to every caller")]
    assert await source_warnings(conn, "v_missing") == []
    assert await source_warnings(conn, "a.b.c.d") == []


async def test_role_warnings(catalog_db: tuple[str, str]) -> None:
    superuser_url, ordinary_url = catalog_db
    superuser = await asyncpg.connect(superuser_url)
    ordinary = await asyncpg.connect(ordinary_url)
    bypass_role = f"bypass_{uuid.uuid4().hex[:10]}"
    await superuser.execute(f"CREATE ROLE {bypass_role} LOGIN NOSUPERUSER BYPASSRLS")
    bypass = await asyncpg.connect(url_as(superuser_url, bypass_role))
    try:
        me = await superuser.fetchval("SELECT current_user")
        fix = "the server should connect as an ordinary role (NOSUPERUSER NOBYPASSRLS)"
        assert await role_warnings(superuser) == [
            f"row-level security does not apply to role {me} (SUPERUSER, BYPASSRLS): {fix}"]
        assert await role_warnings(bypass) == [
            f"row-level security does not apply to role {bypass_role} (BYPASSRLS): {fix}"]
        assert await role_warnings(ordinary) == []
    finally:
        await bypass.close()
        await ordinary.close()
        await superuser.execute(f"DROP ROLE {bypass_role}")
        await superuser.close()


# --- through a schema: which types are tenant-scoped ------------------------------------


@fraiseql.type(sql_source="v_plain")
class Widget:
    """Tenant-scoped, read from a plain view here and from v_safe by one root field."""

    id: int
    name: str


@fraiseql.type(sql_source="tb_none")
class Unscoped:
    """Not tenant-scoped: never warned about, however it is read."""

    id: int


@fraiseql.type(sql_source="v_on_enabled")
class Gadget:
    """Tenant-scoped, read from the same table through two views."""

    id: int


@fraiseql.query
def widgets() -> list[Widget]:
    """From Widget's own source."""


@fraiseql.query(sql_source="v_outer")
def joined_widgets() -> list[Widget]:
    """From another view."""


@fraiseql.query
def unscoped() -> list[Unscoped]:
    """Not checked."""


@fraiseql.query
def gadgets() -> list[Gadget]:
    """From v_on_enabled."""


@fraiseql.query(sql_source="tb_enabled")
def raw_gadgets() -> list[Gadget]:
    """The same table directly."""


@pytest.fixture
def scoped_schema(monkeypatch: pytest.MonkeyPatch) -> Any:
    # Set the attribute as @fraiseql.type(..., tenant_column=...) will once it exists.
    monkeypatch.setattr(definition_of(Widget), "tenant_column", "tenant_id", raising=False)
    monkeypatch.setattr(definition_of(Gadget), "tenant_column", "org", raising=False)
    return fraiseql.build_schema(queries=[widgets, joined_widgets, unscoped, gadgets,
                                          raw_gadgets])


def test_tenant_scoped_sources(scoped_schema: Any) -> None:
    assert tenant_scoped_sources(scoped_schema) == {
        "Gadget": ("org", ["v_on_enabled", "tb_enabled"]),
        "Widget": ("tenant_id", ["v_plain", "v_outer"]),
    }


def test_no_type_is_tenant_scoped_without_the_declaration() -> None:
    schema = fraiseql.build_schema(queries=[widgets, unscoped])
    assert tenant_scoped_sources(schema) == {}


async def test_security_warnings_of_a_schema(conn: asyncpg.Connection,
                                             scoped_schema: Any) -> None:
    warnings = await security_warnings(conn, scoped_schema)
    role = await role_warnings(conn)
    assert warnings[:len(role)] == role
    not_forced = ("enables row-level security but does not force it, so its owner reads every "
                  "row: ALTER TABLE tb_enabled FORCE ROW LEVEL SECURITY")
    assert warnings[len(role):] == [
        f"Gadget (tenant_column org): table tb_enabled (read through v_on_enabled) {not_forced}",
        f"Gadget (tenant_column org): table tb_enabled {not_forced}",
        ("Widget (tenant_column tenant_id): view v_plain is not security_invoker, so it reads "
         "its tables with its owner's rights, not the caller's: ALTER VIEW v_plain SET "
         "(security_invoker = true)"),
        ("Widget (tenant_column tenant_id): table other.tb_tag (read through v_outer) does not "
         f"have row-level security enabled: ALTER TABLE other.tb_tag {ENABLE_FORCE}"),
        f"Widget (tenant_column tenant_id): table tb_enabled (read through v_outer) {not_forced}",
    ]
    assert not any("tb_none" in line for line in warnings)
