"""What a plan records for the checkpoint, without a database: checks, tenant, introspection.

Every place a restricted field is read (selected, filtered, ordered, searched by,
compared by an argument) becomes a Check of the plan; reading a tenant-scoped source
marks the plan as needing a tenant; __schema/__type mark it as introspecting.
"""

from __future__ import annotations

import fraiseql
from fraiseql import Vector
from fraiseql.compiler.plan import Plan


@fraiseql.type(sql_source="v_doc", tenant_column="tenant_id")
class Doc:
    """A tenant's document with restricted fields."""

    id: int
    title: str
    owner: str | None = fraiseql.field(requires_role="admin", on_deny="mask")
    embedding: Vector | None = fraiseql.field(requires_scope="search", on_deny="mask")
    secret: str | None = fraiseql.field(requires="doc:read_secret")


@fraiseql.type(sql_source="v_open")
class Open:
    """A source without tenant or rules."""

    id: int
    name: str


@fraiseql.query
def docs(limit: int = 10) -> list[Doc]:
    """Documents."""


@fraiseql.query
def doc_by_owner(owner: str) -> Doc | None:
    """A document found by its (restricted) owner."""


@fraiseql.query(requires_role="auditor")
def opens() -> list[Open]:
    """Auditors only."""


ENGINE = fraiseql.create_app(fraiseql.build_schema(queries=[docs, doc_by_owner, opens]),
                             settings=fraiseql.Settings()).engine


def checks(query: str) -> list[str]:
    plan: Plan = ENGINE.compile(query)
    return [check.what for check in plan.checks]


def test_selecting_a_masked_field_records_no_check_a_rejected_one_does() -> None:
    assert checks("{ docs { id owner } }") == []
    assert checks("{ docs { id secret } }") == ["reading Doc.secret"]


def test_filtering_ordering_searching_and_arguments_read_the_field() -> None:
    assert checks('{ docs(where: {owner: {eq: "x"}}) { id } }') == \
        ["filtering or ordering on Doc.owner"]
    assert checks("{ docs(orderBy: [{owner: ASC}]) { id } }") == \
        ["filtering or ordering on Doc.owner"]
    assert checks("{ docsCount(where: {_not: {secret: {isnull: true}}}) }") == \
        ["filtering or ordering on Doc.secret"]
    assert checks('{ docByOwner(owner: "x") { id } }') == ["filtering on Doc.owner"]
    assert checks("{ docs(nearest: {field: EMBEDDING, vector: [1, 0], k: 2}) { id } }") == \
        ["searching by Doc.embedding"]


def test_operation_rules_cover_generated_companions() -> None:
    for query in ("{ opens { id } }", "{ opensCount }", "{ opensConnection { totalCount } }"):
        assert checks(query)[0].startswith("running query opens"), query


def test_tenant_and_introspection_flags() -> None:
    assert ENGINE.compile("{ docs { id } }").tenant_required
    assert not ENGINE.compile("{ opens { id } }").tenant_required
    assert ENGINE.compile("{ __schema { queryType { name } } }").introspection
    assert not ENGINE.compile("{ __typename }").introspection


def test_an_implementation_may_not_restrict_a_field_its_interface_leaves_open() -> None:
    import pytest

    from fraiseql.errors import SchemaBuildError

    @fraiseql.interface
    class Person:
        """Someone."""

        email: str | None

    @fraiseql.type(sql_source="v_employee")
    class Employee(Person):
        """An employee; the email is restricted here only."""

        email: str | None = fraiseql.field(requires_role="hr", on_deny="mask")

    @fraiseql.query
    def people() -> list[Person]:
        """Everyone."""

    with pytest.raises(SchemaBuildError) as raised:
        fraiseql.build_schema(queries=[people], types=[Employee])
    assert "Employee.email: its requires*/on_deny/mask differ from interface Person's" in \
        str(raised.value)


def test_every_statement_reading_a_tenant_scoped_source_carries_the_predicate() -> None:
    for query in ("{ docs { id title } }", "{ docs(nearest: {field: EMBEDDING, "
                  "vector: [1, 0], k: 2}) { id } }", "{ docsCount }",
                  "{ docsConnection(first: 2) { totalCount edges { node { title } } } }",
                  '{ docByOwner(owner: "x") { id } }'):
        plan = ENGINE.compile(query)
        sql = plan.roots[0].sql
        assert plan.tenant_required, query
        assert 'v."tenant_id" = $' in sql, query
        # one parameter, bound from the request context, however often the SQL reads it
        assert [p.context_key for p in plan.roots[0].params].count("tenant_id") == 1, query
