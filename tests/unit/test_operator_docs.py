"""docs/filters.md is exactly what the operator table generates."""

from __future__ import annotations

from pathlib import Path

from fraiseql.schema.operator_docs import render
from fraiseql.schema.operators import OPERATORS, graphql_name

DOC = Path(__file__).resolve().parents[2] / "docs" / "filters.md"


def test_checked_in_filters_doc_is_generated_from_the_table() -> None:
    assert DOC.read_text() == render(), (
        "docs/filters.md is stale: run python -m fraiseql.schema.operator_docs > docs/filters.md")


def test_every_operator_is_documented() -> None:
    text = render()
    for op in OPERATORS.values():
        assert f"| `{graphql_name(op)}` | " in text, op.name
        assert op.description in text, op.name
