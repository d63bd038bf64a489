"""The hash-chained audit log (migration 0009, fraiseql.authz.audit) on a real server."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from fraiseql.authz.audit import (
    AUDIT_COLUMNS,
    GENESIS_HASH,
    ChainBreak,
    VerifyResult,
    recent,
    record,
    verify,
)
from fraiseql.ops.migrations import install_framework


@pytest_asyncio.fixture(loop_scope="session")
async def audit_url(empty_db_url: str) -> str:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await install_framework(conn)
    finally:
        await conn.close()
    return empty_db_url


@pytest_asyncio.fixture(loop_scope="session")
async def db(audit_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(audit_url)
    yield conn
    await conn.close()


async def add(conn: Any, n: int, **overrides: Any) -> int:
    fields: dict[str, Any] = {
        "actor": f"user-{n % 3}", "actor_type": "user", "tenant_id": f"t{n % 2}",
        "operation": "createPost", "kind": "mutation", "outcome": "success",
        "detail": {"n": n}, "trace_id": f"trace-{n}"}
    fields.update(overrides)
    return await record(conn, **fields)


async def add_many(conn: Any, count: int) -> list[int]:
    return [await add(conn, n) for n in range(1, count + 1)]


def canonical_hash(row: Any) -> bytes:
    """The documented formula, computed in Python (the database must agree)."""
    recorded_at: datetime = row["recorded_at"]
    epoch_us = (recorded_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    text = json.dumps([row["id"], epoch_us, row["actor"], row["actor_type"], row["tenant_id"],
                       row["operation"], row["kind"], row["outcome"],
                       json.loads(row["detail"]), row["trace_id"]], ensure_ascii=False)
    return hashlib.sha256(bytes(row["prev_hash"]) + text.encode()).digest()


# --- the chain ---------------------------------------------------------------------


async def test_a_chain_of_100_records_verifies(db: asyncpg.Connection) -> None:
    assert await add_many(db, 100) == list(range(1, 101))
    assert await verify(db) == VerifyResult(100, None)
    rows = await db.fetch("SELECT id, recorded_at, actor, actor_type, tenant_id, operation,"
                          " kind, outcome, detail::text AS detail, trace_id, prev_hash, hash"
                          " FROM fraiseql.audit_log ORDER BY id")
    assert bytes(rows[0]["prev_hash"]) == GENESIS_HASH == bytes(32)
    for previous, row in itertools.pairwise(rows):
        assert bytes(row["prev_hash"]) == bytes(previous["hash"])
    # The hash is exactly sha256(prev_hash || [id, epoch microseconds, ...] as jsonb text).
    assert [bytes(r["hash"]) for r in rows] == [canonical_hash(r) for r in rows]
    assert [r["recorded_at"] for r in rows] == sorted(r["recorded_at"] for r in rows)
    head = await db.fetchrow("SELECT last_id, last_hash FROM fraiseql.audit_log_head")
    assert (head["last_id"], bytes(head["last_hash"])) == (100, bytes(rows[-1]["hash"]))


async def test_an_empty_log_verifies(db: asyncpg.Connection) -> None:
    assert await verify(db) == VerifyResult(0, None)


async def test_what_the_writer_gives_for_the_chain_columns_is_ignored(
        db: asyncpg.Connection) -> None:
    await add(db, 1)
    await db.execute(
        "INSERT INTO fraiseql.audit_log (id, recorded_at, operation, kind, outcome, prev_hash,"
        " hash) VALUES (77, '2000-01-01', 'forged', 'denied', 'denied', '\\x01', '\\x02')")
    row = await db.fetchrow("SELECT id, recorded_at, prev_hash FROM fraiseql.audit_log"
                            " WHERE operation = 'forged'")
    first_hash = await db.fetchval("SELECT hash FROM fraiseql.audit_log WHERE id = 1")
    assert row["id"] == 2 and row["recorded_at"].year > 2000
    assert bytes(row["prev_hash"]) == bytes(first_hash)
    assert await verify(db) == VerifyResult(2, None)


async def test_a_mutation_statement_can_audit_in_a_cte(db: asyncpg.Connection) -> None:
    columns = ", ".join(AUDIT_COLUMNS)
    result = await db.fetch(f"""
        WITH r AS (SELECT n, 'post-' || n AS post FROM generate_series(1, 3) AS n),
        audited AS (
            INSERT INTO fraiseql.audit_log ({columns})
            SELECT 'alice', 'user', 't1', 'createPost', 'mutation', 'success',
                   jsonb_build_object('post', r.post), $1 FROM r)
        SELECT post FROM r ORDER BY n""", "trace-cte")
    assert [r["post"] for r in result] == ["post-1", "post-2", "post-3"]
    rows = await db.fetch("SELECT id, detail::text AS detail, trace_id FROM fraiseql.audit_log"
                          " ORDER BY id")
    assert [(r["id"], json.loads(r["detail"]), r["trace_id"]) for r in rows] == [
        (1, {"post": "post-1"}, "trace-cte"), (2, {"post": "post-2"}, "trace-cte"),
        (3, {"post": "post-3"}, "trace-cte")]
    assert await verify(db) == VerifyResult(3, None)


async def test_unicode_and_nulls_in_every_nullable_column(db: asyncpg.Connection) -> None:
    await add(db, 1)
    odd = "Zoë \U0001F98A 日本 \u202e\t\"quoted\"\\ \u00a0"
    await record(db, actor=None, actor_type=None, tenant_id=None, operation=odd,
                 kind="denied", outcome="denied", detail=None, trace_id=None)
    await record(db, actor=odd, actor_type=odd, tenant_id=odd, operation="op", kind="mutation",
                 outcome=odd, detail={odd: [odd, None, 1.5, {"ü": True}]}, trace_id=odd)
    rows = await recent(db, limit=2)
    assert [(r.id, r.actor, r.actor_type, r.tenant_id, r.operation, r.detail, r.trace_id)
            for r in rows] == [
        (3, odd, odd, odd, "op", {odd: [odd, None, 1.5, {"ü": True}]}, odd),
        (2, None, None, None, odd, {}, None)]
    assert await verify(db) == VerifyResult(3, None)


async def test_session_settings_do_not_change_a_hash(audit_url: str) -> None:
    writer = await asyncpg.connect(audit_url, server_settings={
        "TimeZone": "Pacific/Chatham", "DateStyle": "SQL, DMY", "IntervalStyle": "sql_standard",
        "extra_float_digits": "-3"})
    try:
        for n in range(5):
            await add(writer, n, detail={"x": 1.1 + n, "big": 12345678901234567890})
        assert await verify(writer) == VerifyResult(5, None)
    finally:
        await writer.close()
    checker = await asyncpg.connect(audit_url, server_settings={
        "TimeZone": "UTC", "DateStyle": "ISO, MDY", "extra_float_digits": "3"})
    try:
        assert await verify(checker) == VerifyResult(5, None)
        await checker.execute("SET TimeZone = 'America/St_Johns'; SET DateStyle = 'German'")
        assert await verify(checker) == VerifyResult(5, None)
    finally:
        await checker.close()


async def test_kind_is_mutation_or_denied(db: asyncpg.Connection) -> None:
    with pytest.raises(ValueError, match="audit kind must be one of mutation, denied, got 'x'"):
        await add(db, 1, kind="x")
    with pytest.raises(asyncpg.CheckViolationError, match="audit_log_kind_check"):
        await db.execute("INSERT INTO fraiseql.audit_log (operation, kind, outcome)"
                         " VALUES ('op', 'read', 'success')")
    # The failed insert moved nothing: the next record is still id 1 and chains to genesis.
    assert await add(db, 1) == 1
    assert await verify(db) == VerifyResult(1, None)


# --- tampering (as the superuser) ----------------------------------------------------


async def test_an_updated_field_is_named(db: asyncpg.Connection) -> None:
    await add_many(db, 100)
    await db.execute("UPDATE fraiseql.audit_log SET outcome = 'failure' WHERE id = 42")
    assert await verify(db) == VerifyResult(
        41, ChainBreak(42, "hash does not match its content"))


async def test_an_updated_detail_key_order_is_not_a_change_but_a_value_is(
        db: asyncpg.Connection) -> None:
    await add(db, 1, detail={"a": 1, "b": [1, 2]})
    await db.execute("""UPDATE fraiseql.audit_log SET detail = '{"b": [1, 2], "a": 1}'""")
    assert await verify(db) == VerifyResult(1, None)
    await db.execute("""UPDATE fraiseql.audit_log SET detail = '{"b": [2, 1], "a": 1}'""")
    assert (await verify(db)).broken == ChainBreak(1, "hash does not match its content")


async def test_a_rehashed_record_breaks_the_link_of_the_next(db: asyncpg.Connection) -> None:
    await add_many(db, 10)
    await db.execute("UPDATE fraiseql.audit_log SET actor = 'mallory' WHERE id = 4;"
                     "UPDATE fraiseql.audit_log AS a SET hash = fraiseql.audit_hash(a)"
                     " WHERE id = 4")
    assert await verify(db) == VerifyResult(4, ChainBreak(
        5, "prev_hash does not match record 4's hash (a record was deleted or reordered)"))


async def test_a_deleted_middle_record_is_named_by_the_next(db: asyncpg.Connection) -> None:
    await add_many(db, 100)
    await db.execute("DELETE FROM fraiseql.audit_log WHERE id = 50")
    assert await verify(db) == VerifyResult(49, ChainBreak(
        51, "prev_hash does not match record 49's hash (a record was deleted or reordered)"))


async def test_a_deleted_first_record(db: asyncpg.Connection) -> None:
    await add_many(db, 3)
    await db.execute("DELETE FROM fraiseql.audit_log WHERE id = 1")
    assert await verify(db) == VerifyResult(0, ChainBreak(
        2, "prev_hash is not the genesis hash (records before it were deleted)"))


async def test_deleted_newest_records_are_seen_through_the_head(db: asyncpg.Connection) -> None:
    await add_many(db, 10)
    await db.execute("DELETE FROM fraiseql.audit_log WHERE id > 8")
    assert await verify(db) == VerifyResult(8, ChainBreak(
        8, "the last record is not the head of the chain, record 10 "
           "(the newest records were deleted)"))
    await db.execute("DELETE FROM fraiseql.audit_log")
    assert await verify(db) == VerifyResult(0, ChainBreak(
        10, "the log is empty but its head is record 10 (every record was deleted)"))


async def test_reordered_ids_are_detected(db: asyncpg.Connection) -> None:
    await add_many(db, 20)
    await db.execute("UPDATE fraiseql.audit_log SET id = -id WHERE id IN (10, 11);"
                     "UPDATE fraiseql.audit_log SET id = CASE id WHEN -10 THEN 11 ELSE 10 END"
                     " WHERE id < 0")
    assert await verify(db) == VerifyResult(
        9, ChainBreak(10, "hash does not match its content"))


# --- concurrency -----------------------------------------------------------------------


async def test_concurrent_writers_keep_one_chain(audit_url: str) -> None:
    writers, per_writer = 8, 25
    conns = [await asyncpg.connect(audit_url) for _ in range(writers)]

    class Rollback(Exception):
        pass

    async def write(w: int, conn: asyncpg.Connection) -> int:
        committed = 0
        for i in range(per_writer):
            if i % 5 == 4:  # inside a transaction that rolls back: leaves nothing
                with pytest.raises(Rollback):
                    async with conn.transaction():
                        await add(conn, i, actor=f"w{w}", outcome="rolled back")
                        await asyncio.sleep(0.001)
                        raise Rollback
            elif i % 5 == 2:  # two records in one transaction, holding the head meanwhile
                async with conn.transaction():
                    await add(conn, i, actor=f"w{w}")
                    await asyncio.sleep(0.001)
                    await add(conn, i, actor=f"w{w}")
                committed += 2
            else:
                await add(conn, i, actor=f"w{w}")
                committed += 1
        return committed

    try:
        counts = await asyncio.wait_for(
            asyncio.gather(*(write(w, c) for w, c in enumerate(conns))), timeout=60)
        total = sum(counts)
        assert counts == [25] * writers  # per writer: 15 single + 5 pairs, 5 rolled back
        assert await verify(conns[0]) == VerifyResult(total, None)
        ids = [r["id"] for r in await conns[0].fetch("SELECT id FROM fraiseql.audit_log"
                                                     " ORDER BY id")]
        assert ids == list(range(1, total + 1))  # the head rolls back with the insert
        assert await conns[0].fetchval("SELECT count(*) FROM fraiseql.audit_log"
                                       " WHERE outcome = 'rolled back'") == 0
    finally:
        await asyncio.gather(*(c.close() for c in conns))


async def test_a_repeatable_read_writer_that_missed_a_record_must_retry(audit_url: str) -> None:
    late, other = await asyncpg.connect(audit_url), await asyncpg.connect(audit_url)
    try:
        await add(late, 1)
        transaction = late.transaction(isolation="repeatable_read")
        await transaction.start()
        await late.fetchval("SELECT count(*) FROM fraiseql.audit_log")  # takes the snapshot
        await add(other, 2)  # committed after that snapshot
        with pytest.raises(asyncpg.SerializationError):
            await add(late, 3)
        await transaction.rollback()
        assert await add(late, 3) == 3  # the retry chains after record 2
        assert await verify(late) == VerifyResult(3, None)
    finally:
        await late.close()
        await other.close()


# --- privileges of the application role ----------------------------------------------


def url_as(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))


@pytest_asyncio.fixture(loop_scope="session")
async def app_role(db: asyncpg.Connection, audit_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as an ordinary role with the grants migration 0009 documents."""
    role = f"audit_app_{uuid.uuid4().hex[:10]}"
    await db.execute(f"""
        CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS;
        GRANT USAGE ON SCHEMA fraiseql TO {role};
        GRANT INSERT ON fraiseql.audit_log TO {role};
        GRANT SELECT (id) ON fraiseql.audit_log TO {role};""")
    conn = await asyncpg.connect(url_as(audit_url, role))
    yield conn
    await conn.close()
    await db.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


async def test_the_app_role_appends_and_cannot_change(db: asyncpg.Connection,
                                                      app_role: asyncpg.Connection) -> None:
    await add(db, 1)
    assert await add(app_role, 2, actor="app") == 2
    columns = ", ".join(AUDIT_COLUMNS)
    await app_role.execute(f"INSERT INTO fraiseql.audit_log ({columns}) VALUES"
                           " ('app', 'user', 't', 'op', 'denied', 'denied', '{}', null)")
    assert await verify(db) == VerifyResult(3, None)
    refused = [
        "UPDATE fraiseql.audit_log SET outcome = 'failure' WHERE id = 1",
        "DELETE FROM fraiseql.audit_log WHERE id = 1",
        "TRUNCATE fraiseql.audit_log",
        "SELECT actor FROM fraiseql.audit_log",
        "SELECT * FROM fraiseql.audit_log_head",
        "UPDATE fraiseql.audit_log_head SET last_id = 0",
        ("INSERT INTO fraiseql.audit_log (operation, kind, outcome) VALUES ('x', 'denied', 'd')"
         " ON CONFLICT (id) DO UPDATE SET outcome = 'changed'"),
    ]
    for sql in refused:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await app_role.execute(sql)
    assert await db.fetchval("SELECT string_agg(outcome, ',' ORDER BY id)"
                             " FROM fraiseql.audit_log") == "success,success,denied"
    assert await verify(db) == VerifyResult(3, None)


# --- recent ----------------------------------------------------------------------------


async def test_recent_filters_by_actor_tenant_and_kind(db: asyncpg.Connection) -> None:
    await add(db, 1, actor="alice", tenant_id="t1")
    await add(db, 2, actor="bob", tenant_id="t1", kind="denied", outcome="denied")
    await add(db, 3, actor="alice", tenant_id="t2", kind="denied", outcome="denied")
    await add(db, 4, actor="alice", tenant_id="t1")

    async def ids(**filters: Any) -> list[int]:
        return [r.id for r in await recent(db, **filters)]

    assert await ids() == [4, 3, 2, 1]
    assert await ids(limit=2) == [4, 3]
    assert await ids(actor="alice") == [4, 3, 1]
    assert await ids(tenant_id="t1") == [4, 2, 1]
    assert await ids(kind="denied") == [3, 2]
    assert await ids(actor="alice", tenant_id="t1", kind="mutation") == [4, 1]
    assert await ids(actor="nobody") == []
