"""Property tests: FraiseQL's ``where`` selects exactly the rows a plain-Python model selects.

The fixture (where_fixture.py) is built to catch wrong casts and null handling;
the model (where_model.py) is one evaluator per operator; the strategies
(where_strategies.py) draw random trees of fields, operators and operands.
"""

from __future__ import annotations

import decimal
import functools
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest_asyncio
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import fraiseql
from fraiseql.schema.operators import OPERATORS, graphql_name, operators_for
from fraiseql.testing.client import AppClient
from fraiseql.testing.postgres import (
    TestServer,
    create_database,
    drop_database,
    unique_database_name,
)
from tests.property import where_fixture as fx
from tests.property.pg_semantics import NotModelled
from tests.property.where_model import EVALUATORS, NOT_EVALUATED, WhereModel
from tests.property.where_strategies import JSON_KEYS, WhereTrees

QUERY = """query Q($where: ItemWhereInput) {
  items(where: $where, orderBy: [{id: ASC}], limit: 1000) { id }
}"""

# WHERE_PROPERTY_EXAMPLES=5000 for a longer hunt; the default keeps the module near 30 s.
EXAMPLES = int(os.environ.get("WHERE_PROPERTY_EXAMPLES", "300"))
PROPERTY_SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])


class Fixture:
    """The app, a connection, the model and the strategies over one fixture database.

    A plain class with a short repr: hypothesis prints it with every failing example.
    """

    def __init__(self, client: AppClient, conn: asyncpg.Connection, model: WhereModel,
                 trees: WhereTrees, docs: list[dict[str, Any]], checksum: str) -> None:
        self.client, self.conn, self.model, self.trees = client, conn, model, trees
        self.docs = docs  # as PostgreSQL stored them, JSON numbers as Decimal
        self.checksum = checksum  # of the table's rows, before any test ran

    @functools.cached_property
    def hostile(self) -> st.SearchStrategy[dict[str, Any]]:
        return hostile_filters(self)

    def __repr__(self) -> str:
        return f"Fixture({len(self.docs)} rows)"

    def expected(self, where: dict[str, Any]) -> list[str]:
        """The ids the model selects, in uuid order (PostgreSQL's ORDER BY id)."""
        chosen = [uuid.UUID(doc["id"]) for doc in self.docs if self.model.matches(where, doc)]
        return [str(i) for i in sorted(chosen)]

    async def answer(self, where: dict[str, Any]) -> Any:
        """The response body of the items query filtered by ``where``."""
        response = await self.client.post_graphql(QUERY, {"where": where})
        assert response.status_code in (200, 400), (response.status_code, response.text)
        return response.json()

    async def outcome(self, where: dict[str, Any]) -> tuple[Any, Any]:
        """(what the server answered, what the model expects): ids, or an input error's code.

        An operand the model refuses (a LIKE pattern ending in its escape character)
        must be a BAD_USER_INPUT, not a 500 and not an empty answer.
        """
        body = await self.answer(where)
        got = [e.get("extensions", {}).get("code") for e in body["errors"]] \
            if "errors" in body else [row["id"] for row in body["data"]["items"]]
        try:
            return got, self.expected(where)
        except ValueError:
            return got, ["BAD_USER_INPUT"]

    async def selected(self, where: dict[str, Any]) -> list[str]:
        body = await self.answer(where)
        assert "errors" not in body, (where, body)
        return [row["id"] for row in body["data"]["items"]]


async def strings_sort_by_code_point(conn: asyncpg.Connection) -> bool:
    """Whether text sorts like Python str (C / C.UTF-8 collation); else skip gt/lt on strings."""
    sample = [v for v in fx.COLUMNS["name"] if isinstance(v, str)]
    ordered = await conn.fetchval("SELECT array_agg(s ORDER BY s) FROM unnest($1::text[]) s",
                                  sample)
    return list(ordered) == sorted(sample)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fixture(pg_server: TestServer) -> AsyncIterator[Fixture]:
    name = unique_database_name("fraiseql_where_props")
    url = await create_database(pg_server, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(fx.SETUP_SQL)
        await conn.executemany(fx.INSERT_SQL, fx.fixture_rows())
        stored = await conn.fetch("SELECT data::text AS data FROM tb_item ORDER BY id")
        docs = [json.loads(row["data"], parse_float=decimal.Decimal) for row in stored]
        root = fx.schema.objects["Item"]
        model = WhereModel(fx.schema, root, real_columns=["id"])
        ordered_strings = await strings_sort_by_code_point(conn)
        skip = [] if ordered_strings else [(op, "string") for op in ("gt", "gte", "lt", "lte")]
        async with AppClient(fraiseql.create_app(fx.schema, database_url=url)) as client:
            checksum = await conn.fetchval(fx.CHECKSUM_SQL)
            yield Fixture(client, conn, model, WhereTrees(model, docs, skip), docs, checksum)
    finally:
        await conn.close()
        await drop_database(pg_server, name)


# --- the model covers the operator table -------------------------------------------------------


def test_every_operator_family_has_an_evaluator() -> None:
    missing = sorted((op.name, family) for op in OPERATORS.values() for family in op.families
                     if (op.name not in EVALUATORS or family not in EVALUATORS[op.name].families)
                     and (op.name, family) not in NOT_EVALUATED)
    assert missing == [], ("add these to EVALUATORS in tests/property/where_model.py "
                           "(or, if truly untestable, to NOT_EVALUATED)")


def test_the_exceptions_and_evaluators_name_real_operators() -> None:
    stale = sorted({name for name, _ in NOT_EVALUATED} - set(OPERATORS))
    extra = sorted((name, family) for name, ev in EVALUATORS.items() for family in ev.families
                   if name not in OPERATORS or family not in OPERATORS[name].families)
    assert (stale, extra) == ([], [])


# --- the fixture is what it claims ---------------------------------------------------------------


async def test_fixture_has_nulls_absent_keys_and_equal_instants(fixture: Fixture) -> None:
    docs = fixture.docs
    assert len(docs) == fx.ROW_COUNT
    for column in fx.COLUMNS:
        assert any(column not in d for d in docs), f"no row lacks {column}"
        assert any(column in d and d[column] is None for d in docs), f"no null {column}"
    # jsonb keeps a decimal's scale, and a number stored as a JSON string stays a string.
    prices = {repr(d.get("price")) for d in docs}
    assert {"Decimal('19.9')", "Decimal('19.90')", "'19.90'"} <= prices
    assert {(d.get("owner") or {}).get("name") for d in docs} >= {"Ada", "ada", None}


async def test_isnull_on_json_counts_a_json_null_as_null(fixture: Fixture) -> None:
    # Regression: `data->'meta'` is jsonb 'null' (not SQL NULL) for {"meta": null}, so
    # isnull missed those rows although the field reads as null.
    ids = [str(fx.row_id(i)) for i in range(fx.ROW_COUNT)]
    null_or_absent = sorted(i for i, d in zip(ids, map(fx.document, range(fx.ROW_COUNT)))
                            if d.get("meta") is None)
    json_null = [i for i, d in zip(ids, map(fx.document, range(fx.ROW_COUNT)))
                 if "meta" in d and d["meta"] is None]
    assert len(null_or_absent) == 14 and len(json_null) == 7
    assert await fixture.selected({"meta": {"isnull": True}}) == sorted(
        null_or_absent, key=uuid.UUID)
    assert await fixture.selected({"meta": {"isnull": False}}) == sorted(
        set(ids) - set(null_or_absent), key=uuid.UUID)


# --- exhaustive: every leaf x operator x operand, one query each --------------------------------


async def test_each_operator_on_each_field_matches_the_model(fixture: Fixture) -> None:
    mismatches: list[Any] = []
    for path, leaf in fixture.model.leaves.items():
        for op_name in fixture.trees.operators(leaf):
            for operand in fixture.trees.examples(leaf, op_name):
                where = nest(path, {op_name: operand})
                got, expected = await fixture.outcome(where)
                if got != expected:
                    mismatches.append((where, got[:2], len(got), expected[:2], len(expected)))
    assert mismatches == []


async def test_embedded_lists_any_and_is_empty_match_the_model(fixture: Fixture) -> None:
    cases: list[dict[str, Any]] = [
        {"comments": {"isEmpty": True}}, {"comments": {"isEmpty": False}},
        {"comments": {"any": {}}}, {"comments": {"any": {"body": {"eq": "great"}}}},
        {"comments": {"any": {"body": {"isnull": True}}}},
        {"comments": {"any": {"score": {"gt": 3}}, "isEmpty": False}},
        {"comments": {"any": {"_not": {"score": {"gte": 4}}}}},
        {"comments": {"any": {"body": {"icontains": "GREAT"}, "score": {"lt": 10}}}},
        {"_not": {"comments": {"any": {"score": {"isnull": False}}}}}]
    got = [await fixture.selected(where) for where in cases]
    assert got == [fixture.expected(where) for where in cases]
    assert all(got[:2]) and len(got[0]) + len(got[1]) == fx.ROW_COUNT


def nest(path: tuple[str, ...], leaf_filter: dict[str, Any]) -> dict[str, Any]:
    where: dict[str, Any] = leaf_filter
    for name in reversed(path):
        where = {name: where}
    return where


# --- the property ----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(data=st.data())
async def test_where_selects_what_the_model_selects(fixture: Fixture, data: st.DataObject) -> None:
    where = data.draw(fixture.trees.where(), label="where")
    got, expected = await fixture.outcome(where)
    assert got == expected


# --- injection: hostile operands never change data and compare literally ------------------------

PAYLOADS = ["'; DROP TABLE tb_item; --", "' OR '1'='1", "1; DELETE FROM tb_item", "$1",
            "\\'; TRUNCATE tb_item; --", "$$; DROP TABLE tb_item; $$", "') OR true --",
            "*/ OR 1=1 /*", "%' OR 'x' LIKE '%", '"; DROP TABLE tb_item; --', "E'\\x27'",
            "1 UNION SELECT id, data FROM tb_item", "plain' --", "'::uuid", "0); --"]
PIECES = ["'", '"', ";", "--", "/*", "*/", "\\", "%", "_", "$1", "$$", " ", "OR 1=1",
          "DROP TABLE tb_item", "::text", ")", "(", "E'", "\n", "\x00", "{", "}", "-"]
# Text a payload is glued to, so it also rides on a value valid for the scalar.
PREFIXES = ["", "plain", "19.90", "10", "2024-01-01", "2024-01-01T12:00:00+00:00", "12:30:00",
            "abc-1", "4f1c0b8e-9a7d-4c1e-8b2a-0d3e5f6a7b8c", "top.science", "10.0.0.1",
            "10.0.0.0/8", "2001:db8::1", "08:00:2b:01:02:03", "[2024-01-01,2024-02-01)", "empty",
            "'fox':1"]
HOSTILE = st.tuples(st.sampled_from(PREFIXES), st.one_of(
    st.sampled_from(PAYLOADS),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join),
    st.text(max_size=12))).map("".join)
# Scalars whose operands are strings in GraphQL, so any text reaches the server.
TEXT_OPERAND_TYPES = {"String", "ID", "UUID", "Decimal", "DateTime", "Date", "Time", "JSON",
                      "IPAddress", "CIDR", "MacAddress", "LTree", "DateRange", "TSVector"}
INPUT_ERROR_CODES = {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}


def hostile_operand(fixture: Fixture, path: tuple[str, ...],
                    shape: str) -> st.SearchStrategy[Any] | None:
    """A hostile operand of ``shape`` (None: the shape carries no text)."""
    if shape in ("value", "string", "query", "date"):
        return HOSTILE
    if shape == "list":
        return st.lists(st.one_of(HOSTILE, st.sampled_from(fixture.trees.operands[path])),
                        min_size=1, max_size=3)
    if shape == "strings":  # JSON keys
        return st.lists(st.one_of(HOSTILE, st.sampled_from(JSON_KEYS)), min_size=1, max_size=3)
    if shape == "json":  # a hostile key or value, at the top or nested
        return st.one_of(HOSTILE, st.dictionaries(HOSTILE, HOSTILE, min_size=1, max_size=2),
                         st.lists(HOSTILE, min_size=1, max_size=2),
                         HOSTILE.map(lambda h: {"b": {"c": [h]}}))
    return None


def hostile_filters(fixture: Fixture) -> st.SearchStrategy[dict[str, Any]]:
    """One operator on one text-operand field, with a hostile operand (alone or in a list).

    Every operator is tried, also those the model does not evaluate (lquery, tsquery):
    for them only "no data changed, and an answer or an input error" is checked.
    """
    choices = []
    for path, leaf in fixture.model.leaves.items():
        if leaf.type_name not in TEXT_OPERAND_TYPES:
            continue
        for op in operators_for(leaf.family):
            operand = hostile_operand(fixture, path, op.operand)
            if operand is not None and (op.name, leaf.family) not in fixture.trees.skip:
                name = graphql_name(op)
                choices.append(operand.map(lambda o, p=path, n=name: nest(p, {n: o})))
    return st.one_of(choices)


def model_accepts(fixture: Fixture, where: dict[str, Any]) -> bool | None:
    """Whether every operand is a valid value of its scalar (as the model parses it).

    None: the model cannot tell (an operator PostgreSQL's own grammar decides).
    """
    try:
        fixture.expected(where)
    except NotModelled:
        return None
    except (ValueError, KeyError, decimal.InvalidOperation):
        return False
    return True


@PROPERTY_SETTINGS
@given(data=st.data())
async def test_hostile_operands_change_nothing_and_compare_literally(
        fixture: Fixture, data: st.DataObject) -> None:
    where = data.draw(fixture.hostile, label="where")
    note(f"where = {where!r}")
    body = await fixture.answer(where)
    accepted = model_accepts(fixture, where)
    event({True: "a valid value of its scalar", False: "not a valid value of its scalar",
           None: "not evaluated by the model"}[accepted])
    if accepted:
        assert "errors" not in body, body
        assert [row["id"] for row in body["data"]["items"]] == fixture.expected(where)
    elif accepted is None:  # either answer is right; a server error is not
        codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
        assert "errors" not in body or codes <= INPUT_ERROR_CODES, body
    else:
        codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
        assert body.get("data") in (None, {"items": None}) and codes and codes <= INPUT_ERROR_CODES, body
    assert await fixture.conn.fetchval(fx.CHECKSUM_SQL) == fixture.checksum
