"""Fact declarations: the generated GraphQL API, declaration errors with file and line,
and the golden SQL of one aggregate statement (golden/aggregate/, no database).

Lines are found through ``# at:<name>`` markers, as in test_schema_errors.py.
Regenerate the golden files with ``FRAISEQL_UPDATE_GOLDEN=1`` and read the diff.
"""

import datetime
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

import fraiseql
from fraiseql import DefinitionError, SchemaBuildError
from fraiseql.config import Settings

SOURCE = Path(__file__).read_text().splitlines()
GOLDEN = Path(__file__).parent / "golden" / "aggregate"
UPDATE = os.environ.get("FRAISEQL_UPDATE_GOLDEN") == "1"


def line_of(marker: str) -> int:
    (line,) = [n for n, text in enumerate(SOURCE, 1) if text.rstrip().endswith(f"# at:{marker}")]
    return line


@fraiseql.fact(sql_source="tf_sales")
class Sale:
    revenue: Decimal = fraiseql.measure()
    quantity: int = fraiseql.measure()
    occurred_at: datetime.datetime = fraiseql.time_dimension()
    category: str = fraiseql.dimension()
    customer_tier: str = fraiseql.dimension(path="customer.tier")


@fraiseql.fact(sql_source="analytics.tf_visits", dimensions_column="dims", name="Visit",
               query_name="visitStats", max_page_size=10)
class VisitFact:
    seconds: float = fraiseql.measure(column="duration_s")
    page: str = fraiseql.dimension()


def build_errors(*facts: object) -> list[DefinitionError]:
    with pytest.raises(SchemaBuildError) as info:
        fraiseql.build_schema(facts=list(facts))
    return info.value.errors


def assert_points_at(error: DefinitionError, marker: str, message: str, fix: str) -> None:
    assert error.where is not None
    assert (error.where.file, error.where.line) == (__file__, line_of(marker))
    assert re.search(message, error.message), error.message
    assert re.search(fix, error.fix), error.fix


def test_the_root_field_and_its_types() -> None:
    schema = fraiseql.build_schema(facts=[Sale, VisitFact])
    query = schema.graphql.query_type
    assert query is not None
    assert list(query.fields) == ["salesAggregate", "visitStats"]
    sales = query.fields["salesAggregate"]
    assert str(sales.type) == "[SaleGroup!]!"
    assert {name: str(arg.type) for name, arg in sales.args.items()} == {
        "where": "SaleFactWhere", "groupBy": "[SaleDimension!]", "timeBucket": "SaleTimeBucket",
        "having": "SaleHaving", "orderBy": "[SaleGroupOrderBy!]", "limit": "Int"}
    assert sales.args["limit"].default_value == 1000
    group = schema.graphql.get_type("SaleGroup")
    assert {n: str(f.type) for n, f in group.fields.items()} == {  # type: ignore[union-attr]
        "category": "String", "customerTier": "String", "bucket": "DateTime", "count": "Int!",
        "sum": "SaleMeasures", "avg": "SaleAverages", "min": "SaleMeasures",
        "max": "SaleMeasures"}
    averages = schema.graphql.get_type("SaleAverages")
    assert {n: str(f.type) for n, f in averages.fields.items()} == {  # type: ignore[union-attr]
        "revenue": "Decimal", "quantity": "Float"}
    # where reuses the ordinary filters: one filter language.
    where = schema.graphql.get_type("SaleFactWhere")
    assert {n: str(f.type) for n, f in where.fields.items()} == {  # type: ignore[union-attr]
        "revenue": "DecimalFilter", "quantity": "IntFilter", "occurredAt": "DateTimeFilter",
        "category": "StringFilter", "customerTier": "StringFilter", "_and": "[SaleFactWhere!]",
        "_or": "[SaleFactWhere!]", "_not": "SaleFactWhere"}
    visits = query.fields["visitStats"]
    assert list(visits.args) == ["where", "groupBy", "having", "orderBy", "limit"]
    assert visits.args["limit"].default_value == 10
    assert "bucket" not in schema.graphql.get_type("VisitGroup").fields  # type: ignore[union-attr]


def test_declaration_errors_name_the_file_and_line() -> None:
    @fraiseql.fact(sql_source="tf_bad")
    class Bad:
        ok: int = fraiseql.measure()
        label: str = fraiseql.measure()  # at:label
        at: datetime.date = fraiseql.time_dimension()  # at:at
        count: int = fraiseql.measure()  # at:count
        tier: str = fraiseql.dimension(path="customer..tier")  # at:tier
        payload: dict = fraiseql.dimension()  # at:payload
        plain: int  # at:plain
        price: Decimal = fraiseql.measure(column="bad column")  # at:price

    errors = build_errors(Bad)
    assert len(errors) == 7, errors
    by_member = dict(zip(["label", "at", "count", "tier", "payload", "plain", "price"], errors,
                         strict=True))
    assert_points_at(by_member["label"], "label", r"measure 'label' must be int, float or "
                     r"Decimal, got String", "annotate it")
    assert_points_at(by_member["at"], "at", r"time dimension 'at' must be datetime.datetime",
                     "datetime.datetime")
    assert_points_at(by_member["count"], "count", r"clash with the group's own 'count'",
                     "rename")
    assert_points_at(by_member["tier"], "tier", r"path 'customer..tier' is not dotted names",
                     "customer.tier")
    assert_points_at(by_member["payload"], "payload", r"dimension 'payload' must be str",
                     "annotate")
    assert_points_at(by_member["plain"], "plain", r"neither a measure nor a dimension",
                     r"fraiseql.measure\(\)")
    assert_points_at(by_member["price"], "price", r"column 'bad column' is not a column name",
                     "real column")


def test_source_names_root_clashes_and_undecorated_classes() -> None:
    @fraiseql.fact(sql_source="tf_sales; DROP TABLE x", dimensions_column="a-b")  # at:injected
    class Injected:
        n: int = fraiseql.measure()

    class Plain:  # at:plain_class
        n: int = fraiseql.measure()

    @fraiseql.fact(sql_source="tf_sales")  # at:again
    class Again:
        n: int = fraiseql.measure()

    errors = build_errors(Injected, Plain, Sale, Again)
    assert [e.message.split(":")[0] for e in errors] == [
        "Injected", "Injected", ("facts=[<class 'test_aggregate_schema."
                                 "test_source_names_root_clashes_and_undecorated_classes"
                                 ".<locals>.Plain'>]"),
        "fact Again"]
    assert_points_at(errors[0], "injected", r"sql_source .* is not a plain SQL name", "tf_sales")
    assert_points_at(errors[1], "injected", r"dimensions_column 'a-b'", "column name")
    assert_points_at(errors[2], "plain_class", "not a @fraiseql.fact class", "@fraiseql.fact")
    assert_points_at(errors[3], "again", "root field 'salesAggregate' is already taken",
                     "query_name")


def test_generated_type_names_may_not_clash() -> None:
    @fraiseql.type
    class SaleGroup:
        id: fraiseql.ID

    @fraiseql.query
    async def groups(info: object) -> list[SaleGroup]: ...

    @fraiseql.fact(sql_source="tf_other")  # at:same_name
    class Sale:
        n: int = fraiseql.measure()

    with pytest.raises(SchemaBuildError) as info:
        fraiseql.build_schema([groups], facts=[Sale])
    (error,) = info.value.errors
    assert_points_at(error, "same_name", "generated type 'SaleGroup' is already declared",
                     "name=")
    with pytest.raises(SchemaBuildError) as info:
        fraiseql.build_schema(facts=[globals()["Sale"], VisitFact, Sale])
    (error,) = info.value.errors
    assert_points_at(error, "same_name", "generated type 'SaleDimension' is already declared",
                     "name=")  # two facts named Sale


GOLDEN_QUERY = """query ($tier: String!, $top: Decimal!) {
  salesAggregate(
    where: {customerTier: {eq: $tier}, occurredAt: {gte: "2024-01-01T00:00:00Z"}}
    groupBy: [CATEGORY]
    timeBucket: {unit: WEEK}
    having: {count: {gt: 1}, sum: {revenue: {gte: $top}}}
    orderBy: [{sum: {revenue: DESC}}, {bucket: ASC}]
    limit: 20
  ) { category bucket count sum { revenue } avg { quantity } }
}"""


def test_golden_aggregate_statement() -> None:
    """One statement; every client value is a parameter, none reaches the SQL text."""
    schema = fraiseql.build_schema(facts=[Sale])
    engine = fraiseql.create_app(schema, settings=Settings()).engine
    variables = {"tier": "gold'; --", "top": "100.5"}
    plan = engine.compile(GOLDEN_QUERY, variables)
    (params,) = engine.bind(plan, variables)
    (root,) = plan.roots
    assert params == ["2024-01-01T00:00:00+00:00", "gold'; --", "1", "100.5", 20]
    assert "gold'" not in root.sql
    sql_file, params_file = GOLDEN / "weekly_sales.sql", GOLDEN / "weekly_sales.params.json"
    comment = "".join(f"-- {line}\n" for line in GOLDEN_QUERY.splitlines())
    sql_text = f"{comment}{root.sql}\n"
    params_text = json.dumps(params, indent=2) + "\n"
    if UPDATE:
        if os.environ.get("CI"):
            pytest.fail("refusing to regenerate golden files when CI is set")
        sql_file.write_text(sql_text)
        params_file.write_text(params_text)
    assert sql_text == sql_file.read_text()
    assert json.loads(params_text) == json.loads(params_file.read_text())
