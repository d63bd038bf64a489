"""Golden SQL for the special-type operators, on a small schema of its own.

Same mechanism as test_compiler_golden.py (regenerate with FRAISEQL_UPDATE_GOLDEN=1);
the cases live in golden_filters/. The view has typed columns for some fields
(``ip``, ``tags``) and reads the others from data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import fraiseql
from fraiseql.compiler.context import SourceInfo
from fraiseql.config import Settings
from tests.unit.test_compiler_golden import check_statement, render

GOLDEN = Path(__file__).parent / "golden_filters"
UPDATE = os.environ.get("FRAISEQL_UPDATE_GOLDEN") == "1"


@fraiseql.type
class GoldenNote:
    text: str


@fraiseql.type(sql_source="v_host")
class GoldenHost:
    id: fraiseql.ID
    ip: fraiseql.IPAddress
    network: fraiseql.CIDR | None
    path: fraiseql.LTree
    booked: fraiseql.DateRange | None
    search: fraiseql.TSVector
    embedding: fraiseql.Vector
    tags: list[str]
    ports: list[int]
    meta: fraiseql.JSON
    notes: list[GoldenNote]


@fraiseql.query
def hosts() -> list[GoldenHost]: ...


CASES = {
    "network": '{ hosts(where: {ip: {inSubnet: "10.0.0.0/8", isPrivate: true}, '
               'network: {containsSubnet: "fc00::1", isIPv6: true}}) { id } }',
    "ltree": '{ hosts(where: {path: {descendantOf: "top.a", matchesLquery: "*.b", '
             'depthLt: 4}}) { id } }',
    "daterange": '{ hosts(where: {booked: {containsDate: "2024-01-02", '
                 'overlaps: "[2024-01-01,)"}}) { id } }',
    "fulltext": '{ hosts(where: {search: {websearchQuery: "fox -dog", language: ENGLISH}, '
                '_or: [{search: {matches: "a & b"}}]}) { id } }',
    "vector": '{ hosts(where: {embedding: {cosineDistance: {vector: [1, 0.5], lt: 0.3}}}) '
              '{ id } }',
    "nearest": '{ hosts(where: {tags: {contains: ["a"]}}, nearest: {vector: [1, 0.5], k: 5, '
               'metric: L2}, limit: 3, offset: 1) { id } }',
    "nearest_cosine": '{ hosts(nearest: {vector: [1, 0.5], k: 5}) { id } }',
    "arrays_json": '{ hosts(where: {tags: {contains: ["a"], lenGt: 1}, '
                   'ports: {overlaps: [80, 443]}, meta: {hasAnyKeys: ["x"], '
                   'contains: {a: 1}}, notes: {any: {text: {contains: "%"}}}}) { id } }',
}


@pytest.fixture(scope="module")
def engine() -> Any:
    schema = fraiseql.build_schema([hosts])
    app = fraiseql.create_app(schema, settings=Settings())
    app.engine.sources = {"v_host": SourceInfo({"id": "text", "ip": "inet",
                                                "tags": "text[]"})}
    return app.engine


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_filter_sql(case: str, engine: Any) -> None:
    plan = engine.compile(CASES[case])
    params = engine.bind(plan, None)
    check_statement(plan.roots[0].sql, params[0])
    sql_text, params_text = render(plan, params)
    sql_file, params_file = GOLDEN / f"{case}.sql", GOLDEN / f"{case}.params.json"
    if UPDATE:
        if os.environ.get("CI"):
            pytest.fail("refusing to regenerate golden files when CI is set")
        GOLDEN.mkdir(exist_ok=True)
        sql_file.write_text(sql_text)
        params_file.write_text(params_text)
    assert sql_text == sql_file.read_text()
    assert json.loads(params_text) == json.loads(params_file.read_text())
