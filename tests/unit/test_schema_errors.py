"""Declaration mistakes: each names the user's file and line and suggests a fix.

Lines are found through ``# at:<name>`` markers on the declarations (a field error
points at the field), so moving
code around never breaks the assertions. Annotations here are real objects
(no ``from __future__ import annotations``), as most user code writes them.
"""

import enum
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import fraiseql
from fraiseql import ID, DefinitionError, SchemaBuildError
from fraiseql.schema import definitions

SOURCE = Path(__file__).read_text().splitlines()


def line_of(marker: str) -> int:
    """The line carrying ``# at:<marker>``."""
    (line,) = [n for n, text in enumerate(SOURCE, 1) if text.rstrip().endswith(f"# at:{marker}")]
    return line


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    saved = dict(definitions.KNOWN_CLASSES)
    yield
    definitions.KNOWN_CLASSES.clear()
    definitions.KNOWN_CLASSES.update(saved)


def build_errors(*queries: object) -> list[DefinitionError]:
    """The errors build_schema collects for these queries (it must fail)."""
    with pytest.raises(SchemaBuildError) as info:
        fraiseql.build_schema(list(queries))
    error = info.value
    assert isinstance(error, DefinitionError)
    assert str(error).startswith(f"{len(error.errors)} schema definition error(s):")
    for item in error.errors:
        assert str(item) in str(error).replace("\n    ", "\n")
    return error.errors


def assert_points_at(error: DefinitionError, marker: str, *, message: str, fix: str) -> None:
    """The error names this file and the marked line, says what and how to fix."""
    assert error.where is not None
    assert (error.where.file, error.where.line) == (__file__, line_of(marker))
    text = str(error)
    assert text.startswith(f"{__file__}:{line_of(marker)}: ")
    assert re.search(message, error.message), error.message
    assert re.search(fix, error.fix), error.fix
    assert f"\n    fix: {error.fix}" in text


class NotDeclared:
    """An ordinary class used as an annotation."""


class Mood(enum.Enum):
    """An enum nobody decorated."""

    HAPPY = "happy"


def test_unknown_annotation_class() -> None:
    @fraiseql.type(sql_source="v_a")
    class A:
        id: ID
        other: NotDeclared  # at:unknown-class

    @fraiseql.query
    def as_() -> list[A]: ...

    (error,) = build_errors(as_)
    assert_points_at(error, "unknown-class", message=r"^A\.other: NotDeclared is not a GraphQL type",
                     fix=r"decorate NotDeclared with @fraiseql\.type.*str, int")


def test_undecorated_enum() -> None:
    @fraiseql.type(sql_source="v_b")
    class B:
        id: ID
        mood: Mood | None  # at:undecorated-enum

    @fraiseql.query
    def bs() -> list[B]: ...

    (error,) = build_errors(bs)
    assert_points_at(error, "undecorated-enum", message=r"^B\.mood: enum Mood is not declared",
                     fix=r"^decorate Mood with @fraiseql\.enum$")


def test_unresolvable_forward_reference() -> None:
    @fraiseql.type(sql_source="v_c")
    class C:
        id: ID
        reviews: list["NoSuchReview"]  # noqa: F821  # at:forward-ref

    @fraiseql.query
    def cs() -> list[C]: ...

    (error,) = build_errors(cs)
    assert_points_at(error, "forward-ref",
                     message=r"^C\.reviews: the name 'NoSuchReview' .* is not defined",
                     fix=r"declare or import NoSuchReview")


def test_single_object_argument_not_named_after_a_field() -> None:
    @fraiseql.type(sql_source="v_d")
    class D:
        id: ID
        slug: str

    @fraiseql.query  # at:bad-argument
    def d(handle: str) -> D | None: ...

    (error,) = build_errors(d)
    assert_points_at(error, "bad-argument",
                     message=r"argument 'handle' of query d is not a field of D",
                     fix=r"name it after a field \(id, slug\)")


def test_query_returning_a_type_without_sql_source() -> None:
    @fraiseql.type
    class Embedded:
        id: ID

    @fraiseql.query  # at:no-source
    def embedded() -> list[Embedded]: ...

    (error,) = build_errors(embedded)
    assert_points_at(error, "no-source",
                     message=r"^query embedded returns Embedded, which has no sql_source",
                     fix=r"sql_source='v_\.\.\.'.*async def")


def test_query_without_return_annotation() -> None:
    @fraiseql.query  # at:no-return
    def nothing():  # type: ignore[no-untyped-def]
        ...

    (error,) = build_errors(nothing)
    assert_points_at(error, "no-return", message=r"^query nothing has no return annotation",
                     fix=r"def nothing\(\.\.\.\) -> list\[MyType\]")


def test_two_fields_with_the_same_graphql_name() -> None:
    @fraiseql.type(sql_source="v_e")  # at:same-name
    class E:
        id: ID
        full_name: str
        fullName: str

    @fraiseql.query
    def es() -> list[E]: ...

    (error,) = build_errors(es)
    assert_points_at(error, "same-name",
                     message=r"'full_name' and 'fullName' both become GraphQL field 'fullName'",
                     fix=r"fraiseql\.field\(name=\.\.\.\)")


def test_two_fields_renamed_to_the_same_graphql_name() -> None:
    @fraiseql.type(sql_source="v_f")  # at:same-rename
    class F:
        id: ID
        first: str = fraiseql.field(name="label")
        second: str = fraiseql.field(name="label")

    @fraiseql.query
    def fs() -> list[F]: ...

    (error,) = build_errors(fs)
    assert_points_at(error, "same-rename",
                     message=r"'first' and 'second' both become GraphQL field 'label'",
                     fix=r"rename one")


@pytest.mark.parametrize("bad", ["v_g; DROP TABLE users", "v g", "1view", 'v_"g"', "a.b.c", ""])
def test_invalid_sql_source_on_a_type(bad: str) -> None:
    @fraiseql.type(sql_source=bad or None)  # at:bad-type-source
    class G:
        id: ID

    @fraiseql.query(sql_source=bad) if bad else fraiseql.query
    def gs() -> list[G]: ...

    if not bad:  # an empty name means "no source": the query then has none
        (error,) = build_errors(gs)
        assert "has no sql_source" in error.message
        return
    type_error, query_error = build_errors(gs)
    assert_points_at(type_error, "bad-type-source",
                     message=rf"^G: sql_source {re.escape(repr(bad))} is not a plain SQL name",
                     fix=r"view or table name")
    assert query_error.where is not None and query_error.where.file == __file__
    assert f"query gs: sql_source {bad!r} is not a plain SQL name" in query_error.message


def test_valid_sql_source_names_are_accepted() -> None:
    @fraiseql.type(sql_source="app.v_h")
    class H:
        id: ID

    @fraiseql.query
    def hs() -> list[H]: ...

    assert fraiseql.build_schema([hs]).queries["hs"].sql_source == "app.v_h"


def test_enum_decorator_on_a_non_enum_fails_at_once() -> None:
    with pytest.raises(DefinitionError) as info:
        @fraiseql.enum  # at:not-an-enum
        class Colour:
            RED = "red"
    assert_points_at(info.value, "not-an-enum", message=r"needs an enum\.Enum subclass",
                     fix=r"class Colour\(enum\.Enum\)")


def test_undecorated_query_function() -> None:
    def plain() -> None: ...  # at:plain-function

    (error,) = build_errors(plain)
    assert_points_at(error, "plain-function", message=r"is not a query",
                     fix=r"@fraiseql\.query")


def test_all_errors_are_collected_in_one_pass() -> None:
    @fraiseql.type(sql_source="v_many")
    class Many:
        id: ID
        other: NotDeclared  # at:many-type
        slug: str

    @fraiseql.query  # at:many-arg
    def many(handle: str) -> Many | None: ...

    @fraiseql.query  # at:many-return
    def unannotated():  # type: ignore[no-untyped-def]
        ...

    errors = build_errors(many, unannotated)
    assert len(errors) == 3
    lines = sorted(e.where.line for e in errors if e.where is not None)
    assert lines == [line_of("many-type"), line_of("many-arg"), line_of("many-return")]
    messages = " | ".join(e.message for e in errors)
    assert "NotDeclared is not a GraphQL type" in messages
    assert "argument 'handle' of query many" in messages
    assert "query unannotated has no return annotation" in messages
    with pytest.raises(SchemaBuildError, match=r"^3 schema definition error\(s\):"):
        fraiseql.build_schema([many, unannotated])


def test_default_limit_above_the_page_cap() -> None:
    @fraiseql.type(sql_source="v_i")
    class I:
        id: ID

    @fraiseql.query  # at:big-limit
    def is_(limit: int = 5000) -> list[I]: ...

    (error,) = build_errors(is_)
    assert_points_at(error, "big-limit", message=r"limit", fix=r"1000")


def test_two_queries_with_the_same_graphql_name() -> None:
    @fraiseql.type(sql_source="v_j")
    class J:
        id: ID

    @fraiseql.query
    def jList() -> list[J]: ...

    @fraiseql.query  # at:second-query
    def j_list() -> list[J]: ...

    assert "two queries are named 'jList'" in build_errors(j_list, jList)[0].message
    (error,) = build_errors(jList, j_list)
    assert_points_at(error, "second-query", message=r"two queries are named 'jList'",
                     fix=r"rename one")
