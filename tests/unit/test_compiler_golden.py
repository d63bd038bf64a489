"""Compiler golden files: GraphQL in, SQL and bound parameters out (no database).

For each ``golden/<case>.graphql`` (variables in ``<case>.variables.json``) the
blog example schema compiles one statement per root field. ``<case>.sql`` holds
them, each after a ``-- root: <key>`` line (so the file fixes how many
statements run); roots answered without SQL are listed as ``-- <kind>: <key>``.
``<case>.params.json`` holds each statement's bound parameters.

The files are checked in. Regenerate them with ``FRAISEQL_UPDATE_GOLDEN=1``
(refused when ``CI`` is set), then read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import fraiseql
from fraiseql.compiler.context import SourceInfo
from fraiseql.compiler.plan import Plan
from fraiseql.config import Settings
from fraiseql.execution.engine import Engine

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in GOLDEN.glob("*.graphql"))
UPDATE = os.environ.get("FRAISEQL_UPDATE_GOLDEN") == "1"

# What load_sources would learn from the blog views' real columns, fixed so the
# output does not depend on a database. v_tag is left without columns on
# purpose: it covers the path that reads everything from ``data``. Post reads
# tv_post (the projection table of v_post, same columns); top_posts reads v_post.
SOURCES = {
    "tv_post": {"id": "uuid", "author_id": "uuid", "created_at": "timestamptz", "status": "text"},
    "v_post": {"id": "uuid", "author_id": "uuid", "created_at": "timestamptz", "status": "text"},
    "v_user": {"id": "uuid", "created_at": "timestamptz"},
    "v_comment": {"id": "uuid", "post_id": "uuid", "author_id": "uuid",
                  "created_at": "timestamptz"},
    "v_tag": {},
}

# Characters that would change a statement's meaning if a value reached SQL text
# (and non-ASCII, which no schema-derived text here contains).
_META = re.compile(r"['\";\\$]|--|/\*|[^\x00-\x7f]")


def blog_schema() -> Any:
    """The schema of examples/blog/app.py."""
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:  # the repository root holds the examples package
        sys.path.insert(0, root)
    from examples.blog.app import schema
    return schema


@pytest.fixture
def engine() -> Engine:
    """A fresh engine on the blog schema with default settings and fixed sources."""
    app = fraiseql.create_app(blog_schema(), settings=Settings())
    app.engine.sources = {name: SourceInfo(dict(cols)) for name, cols in SOURCES.items()}
    return app.engine


def render(plan: Plan, params: list[list[Any]]) -> tuple[str, str]:
    """The .sql and .params.json texts for a compiled plan."""
    sql_lines: list[str] = []
    by_key: dict[str, list[Any]] = {}
    bound = iter(params)
    for root in plan.roots:
        if root.kind in ("sql", "mutation"):
            sql_lines += [f"-- root: {root.key}", root.sql]
            by_key[root.key] = next(bound)
        else:
            sql_lines.append(f"-- {root.kind}: {root.key}")
    return "\n".join(sql_lines) + "\n", json.dumps(by_key, indent=2, ensure_ascii=False) + "\n"


def flatten(values: list[Any]) -> list[Any]:
    """Parameter values with lists expanded."""
    return [item for v in values for item in (v if isinstance(v, list) else [v])]


def check_statement(sql: str, values: list[Any]) -> None:
    """Placeholders are exactly $1..$n, and no client value is in the SQL text."""
    used = {int(n) for n in re.findall(r"\$(\d+)", sql)}
    assert used == set(range(1, len(values) + 1)), (used, values)
    text = re.sub(r"\$\d+::", "", sql)  # "$1" the placeholder is not "$1" the value
    for value in flatten(values):
        if isinstance(value, str) and len(value) >= 3 and _META.search(value):
            assert value not in text, f"client value {value!r} reached SQL text"


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, engine: Engine) -> None:
    query = (GOLDEN / f"{case}.graphql").read_text()
    variables_file = GOLDEN / f"{case}.variables.json"
    variables = json.loads(variables_file.read_text()) if variables_file.exists() else None
    plan = engine.compile(query, variables)
    params = engine.bind(plan, variables)
    sql_roots = [root for root in plan.roots if root.kind in ("sql", "mutation")]
    assert len(params) == len(sql_roots)
    for root, values in zip(sql_roots, params):
        check_statement(root.sql, values)
    sql_text, params_text = render(plan, params)

    sql_file, params_file = GOLDEN / f"{case}.sql", GOLDEN / f"{case}.params.json"
    if UPDATE:
        if os.environ.get("CI"):
            pytest.fail("refusing to regenerate golden files when CI is set")
        sql_file.write_text(sql_text)
        params_file.write_text(params_text)
    assert sql_file.exists(), f"{sql_file.name} missing: run with FRAISEQL_UPDATE_GOLDEN=1"
    expected_sql = sql_file.read_text()
    assert len(sql_roots) == expected_sql.count("\n-- root: ") + expected_sql.startswith(
        "-- root: "), "number of SQL statements changed"
    assert sql_text == expected_sql
    assert json.loads(params_text) == json.loads(params_file.read_text())


def test_every_golden_case_is_complete() -> None:
    """No case without its outputs, and no output left behind by a removed case."""
    assert len(CASES) >= 20
    stems = {p.name.split(".")[0] for p in GOLDEN.iterdir() if p.is_file()}
    assert stems == set(CASES), sorted(stems ^ set(CASES))
    for case in CASES:
        assert (GOLDEN / f"{case}.sql").exists(), case
        assert (GOLDEN / f"{case}.params.json").exists(), case


def test_values_never_change_the_sql(engine: Engine) -> None:
    """Two different hostile values: same statement, different parameters."""
    query = 'query ($s: String!) { posts(where: {slug: {eq: $s}}) { id } }'
    first = engine.compile(query, {"s": "a'b"})
    second = engine.compile(query, {"s": "'); DELETE FROM tb_post; --"})
    assert first.roots[0].sql == second.roots[0].sql
    assert engine.bind(first, {"s": "a'b"})[0][0] == "a'b"
    assert engine.bind(second, {"s": "x"})[0][0] == "x"


def test_bind_coerces_enum_variables(engine: Engine) -> None:
    query = "query ($s: PostStatus!) { posts(where: {status: {eq: $s}}) { id } }"
    plan = engine.compile(query, {"s": "PUBLISHED"})
    literal = engine.compile("{ posts(where: {status: {eq: PUBLISHED}}) { id } }")
    assert engine.bind(literal) == [["published", 20, 0]]
    assert engine.bind(plan, {"s": "PUBLISHED"}) == [["published", 20, 0]]


def test_non_null_scalar_list_projection_has_one_json_type() -> None:
    from fraiseql.schema import definitions
    saved = dict(definitions.KNOWN_CLASSES)
    try:
        @fraiseql.type(sql_source="v_labelled")
        class Labelled:
            id: fraiseql.ID
            labels: list[str]
            maybe_labels: list[str | None]

        @fraiseql.query
        def labelled() -> list[Labelled]: ...

        schema = fraiseql.build_schema([labelled])
    finally:
        definitions.KNOWN_CLASSES.clear()
        definitions.KNOWN_CLASSES.update(saved)
    app = fraiseql.create_app(schema, settings=Settings())
    (root,) = app.engine.compile("{ labelled { labels maybeLabels } }").roots
    # The passthrough branch is jsonb, so the null-list sentinel must be jsonb too.
    assert "ELSE (d.data->'labels') END ELSE to_json(" not in root.sql
    assert "THEN (d.data->'maybe_labels') ELSE to_json(" not in root.sql
