"""build_schema: decorated Python -> graphql-core schema (no database).

Classes are declared inside the tests; ``KNOWN_CLASSES`` (the registry that
resolves forward references by name) is restored after each test so one
test's declarations never leak into another's.
"""

import dataclasses
import datetime
import decimal
import enum
import uuid
from collections.abc import Iterator
from typing import Optional

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_introspection_query,
    graphql_sync,
    print_type,
)

import fraiseql
from fraiseql import ID, JSON
from fraiseql.schema import definitions
from fraiseql.schema.model import Schema


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    saved = dict(definitions.KNOWN_CLASSES)
    yield
    definitions.KNOWN_CLASSES.clear()
    definitions.KNOWN_CLASSES.update(saved)


def type_str(gql_type: object) -> str:
    """A type reference as GraphQL writes it, e.g. ``[String!]!``."""
    return str(gql_type)


# --- scalars and nullability ------------------------------------------------------

def test_every_scalar_maps_to_its_graphql_type() -> None:
    @fraiseql.type(sql_source="v_everything")
    class Everything:
        id: ID
        text: str
        count: int
        ratio: float
        flag: bool
        uid: uuid.UUID
        at: datetime.datetime
        day: datetime.date
        clock: datetime.time
        meta: JSON
        amount: decimal.Decimal

    @fraiseql.query
    def everything() -> list[Everything]: ...

    schema = fraiseql.build_schema([everything])
    fields = schema.graphql.get_type("Everything").fields
    assert {name: type_str(f.type) for name, f in fields.items()} == {
        "id": "ID!", "text": "String!", "count": "Int!", "ratio": "Float!",
        "flag": "Boolean!", "uid": "UUID!", "at": "DateTime!", "day": "Date!",
        "clock": "Time!", "meta": "JSON!", "amount": "Decimal!",
    }
    for name in ("UUID", "DateTime", "Date", "Time", "JSON", "Decimal"):
        scalar = schema.graphql.get_type(name)
        assert isinstance(scalar, GraphQLScalarType)
        assert f"scalar {name}" in schema.sdl()


def test_custom_scalars_parse_and_reject_values() -> None:
    @fraiseql.type(sql_source="v_s")
    class S:
        id: ID
        at: datetime.datetime
        amount: decimal.Decimal
        uid: uuid.UUID

    @fraiseql.query
    def ss() -> list[S]: ...

    gql = fraiseql.build_schema([ss]).graphql
    at, amount, uid = (gql.get_type(n) for n in ("DateTime", "Decimal", "UUID"))
    assert at.parse_value("2024-05-31T10:00:00Z") == datetime.datetime(
        2024, 5, 31, 10, tzinfo=datetime.UTC)
    with pytest.raises(ValueError, match="invalid DateTime"):  # lacks an offset
        at.parse_value("2024-05-31T10:00:00")
    assert amount.parse_value("1.10") == decimal.Decimal("1.10")
    assert amount.parse_value(3) == decimal.Decimal(3)
    with pytest.raises(ValueError, match="finite"):
        amount.parse_value("NaN")
    with pytest.raises(TypeError):
        amount.parse_value(True)
    assert amount.serialize(decimal.Decimal("1.10")) == "1.10"
    assert uid.parse_value("9B2E6C3A-1F0B-4D6E-9A55-0C1D2E3F4A5B") == uuid.UUID(
        "9b2e6c3a-1f0b-4d6e-9a55-0c1d2e3f4a5b")
    with pytest.raises(ValueError):
        uid.parse_value("not-a-uuid")


def test_optional_and_union_none_make_fields_nullable() -> None:
    @fraiseql.type(sql_source="v_n")
    class N:
        id: ID
        a: str | None
        b: Optional[int]  # noqa: UP045 - the older spelling must work too
        c: list[str]
        d: list[str | None]
        e: list[str] | None
        f: list[str | None] | None
        g: list[list[int]]

    @fraiseql.query
    def ns() -> list[N]: ...

    fields = fraiseql.build_schema([ns]).graphql.get_type("N").fields
    assert {name: type_str(f.type) for name, f in fields.items()} == {
        "id": "ID!", "a": "String", "b": "Int", "c": "[String!]!", "d": "[String]!",
        "e": "[String!]", "f": "[String]", "g": "[[Int!]!]!",
    }


# --- nested types, enums, forward references --------------------------------------

def test_nested_objects_lists_and_enums() -> None:
    @fraiseql.enum
    class Mood(enum.Enum):
        """How it feels."""

        HAPPY = "happy"
        GRUMPY = "grumpy"

    @fraiseql.type
    class Address:
        city: str
        zip_code: str | None

    @fraiseql.type(sql_source="v_person")
    class Person:
        id: ID
        mood: Mood
        moods: list[Mood]
        address: Address | None
        past_addresses: list[Address]

    @fraiseql.query
    def people() -> list[Person]: ...

    schema = fraiseql.build_schema([people])
    person = schema.graphql.get_type("Person")
    assert {n: type_str(f.type) for n, f in person.fields.items()} == {
        "id": "ID!", "mood": "Mood!", "moods": "[Mood!]!", "address": "Address",
        "pastAddresses": "[Address!]!"}
    address = schema.graphql.get_type("Address")
    assert isinstance(address, GraphQLObjectType)
    assert list(address.fields) == ["city", "zipCode"]
    mood = schema.graphql.get_type("Mood")
    assert isinstance(mood, GraphQLEnumType)
    assert list(mood.values) == ["HAPPY", "GRUMPY"]  # member names, not values
    assert mood.values["GRUMPY"].value is Mood.GRUMPY
    assert mood.description == "How it feels."
    assert schema.enums == {"Mood": Mood}
    # Only views are roots; the embedded Address has no source of its own.
    assert schema.objects["Address"].sql_source is None
    assert schema.objects["Person"].sql_source == "v_person"
    # Nested lists take a window; nested objects and scalars take no arguments.
    assert set(person.fields["pastAddresses"].args) == {"limit", "offset"}
    assert set(person.fields["moods"].args) == {"limit", "offset"}
    assert person.fields["address"].args == {}


def test_forward_reference_to_a_type_declared_later() -> None:
    @fraiseql.type(sql_source="v_book")
    class Book:
        id: ID
        reviews: list["Review"]
        best: Optional["Review"]

    @fraiseql.type
    class Review:
        """A reader's opinion."""

        stars: int

    @fraiseql.query
    def books() -> list[Book]: ...

    schema = fraiseql.build_schema([books])
    book = schema.graphql.get_type("Book")
    assert type_str(book.fields["reviews"].type) == "[Review!]!"
    assert type_str(book.fields["best"].type) == "Review"
    assert schema.graphql.get_type("Review").description == "A reader's opinion."
    assert schema.objects["Book"].fields["reviews"].type.of.python is Review


class ShelfReview:
    """Stands in for another module's ``ShelfReview`` (undecorated here)."""


@fraiseql.type
class ModuleShelfReview:
    """The review a module-level shelf means."""

    stars: int


@fraiseql.type(sql_source="v_shelf")
class Shelf:
    id: ID
    reviews: list["ModuleShelfReview"]


@fraiseql.query
def shelves() -> list[Shelf]: ...


def test_forward_reference_prefers_the_declaring_module() -> None:
    def another_module() -> type:
        @fraiseql.type(name="OtherShelfReview")
        class ModuleShelfReview:  # same Python name, different type
            text: str

        return ModuleShelfReview

    another_module()
    schema = fraiseql.build_schema([shelves])
    review = schema.objects["Shelf"].fields["reviews"].type.of
    assert review.python is ModuleShelfReview
    assert review.name == "ModuleShelfReview"


def test_extra_types_are_added_even_when_unreachable() -> None:
    @fraiseql.type(sql_source="v_a")
    class A:
        id: ID

    @fraiseql.type
    class Unused:
        """Only listed in types=[...]."""

        x: int

    @fraiseql.query
    def as_() -> list[A]: ...

    schema = fraiseql.build_schema([as_], types=[Unused])
    assert schema.graphql.get_type("Unused").description == "Only listed in types=[...]."
    assert "type Unused" in schema.sdl()


# --- descriptions -------------------------------------------------------------------

def test_undocumented_dataclass_has_no_description() -> None:
    @fraiseql.type(sql_source="v_point")
    @dataclasses.dataclass
    class Point:
        id: ID
        x: int

    @fraiseql.query
    def points() -> list[Point]: ...

    schema = fraiseql.build_schema([points])
    assert [f.python_name for f in schema.objects["Point"].fields.values()] == ["id", "x"]
    assert schema.graphql.get_type("Point").description is None


def _described_schema() -> Schema:
    @fraiseql.enum
    class Tone(enum.Enum):
        """The tone of a note."""

        CALM = 1

    @fraiseql.type(sql_source="v_note")
    class Note:
        """A short note.

        It has two paragraphs."""

        id: ID
        title: str = fraiseql.field(description="What the note is about.")
        tone: Tone
        old_title: str | None = fraiseql.field(deprecation_reason="Use title.")
        label: str = fraiseql.field(name="caption", description="Shown under it.")

    @fraiseql.type(sql_source="v_memo", description="Given to the decorator.")
    class Memo:
        """Ignored: the decorator's description wins."""

        id: ID

    @fraiseql.query
    def notes() -> list[Note]:
        """Every note."""

    @fraiseql.query(description="One memo.")
    def memo(id: ID) -> Memo | None:
        """Ignored as well."""

    return fraiseql.build_schema([notes, memo])


def test_docstrings_and_field_options_become_descriptions() -> None:
    schema = _described_schema()
    gql = schema.graphql
    note = gql.get_type("Note")
    assert note.description == "A short note.\n\nIt has two paragraphs."
    assert note.fields["title"].description == "What the note is about."
    assert note.fields["id"].description is None
    assert note.fields["oldTitle"].deprecation_reason == "Use title."
    assert "label" not in note.fields
    assert note.fields["caption"].description == "Shown under it."
    assert schema.objects["Note"].fields["caption"].python_name == "label"
    assert gql.get_type("Tone").description == "The tone of a note."
    assert gql.get_type("Memo").description == "Given to the decorator."
    assert gql.query_type.fields["notes"].description == "Every note."
    assert gql.query_type.fields["memo"].description == "One memo."
    assert '"""What the note is about."""' in print_type(note)


def test_descriptions_are_visible_through_introspection() -> None:
    result = graphql_sync(_described_schema().graphql, get_introspection_query())
    assert result.errors is None
    types = {t["name"]: t for t in result.data["__schema"]["types"]}
    note = types["Note"]
    assert note["description"] == "A short note.\n\nIt has two paragraphs."
    fields = {f["name"]: f for f in note["fields"]}
    assert fields["title"]["description"] == "What the note is about."
    assert fields["caption"]["description"] == "Shown under it."
    assert types["Tone"]["description"] == "The tone of a note."
    queries = {f["name"]: f for f in types["Query"]["fields"]}
    assert queries["notes"]["description"] == "Every note."
    deprecated = graphql_sync(_described_schema().graphql,
                              '{ __type(name: "Note") { fields(includeDeprecated: true) '
                              "{ name isDeprecated deprecationReason } } }")
    by_name = {f["name"]: f for f in deprecated.data["__type"]["fields"]}
    assert by_name["oldTitle"] == {"name": "oldTitle", "isDeprecated": True,
                                   "deprecationReason": "Use title."}


# --- root fields ----------------------------------------------------------------------

def _item_schema(max_page_size: int = 1000) -> Schema:
    @fraiseql.enum
    class Kind(enum.Enum):
        BIG = "big"

    @fraiseql.type
    class Maker:
        name: str

    @fraiseql.type(sql_source="v_item")
    class Item:
        id: ID
        slug: str
        kind: Kind
        meta: JSON
        maker: Maker
        parts: list[Maker]

    @fraiseql.query
    def items() -> list[Item]:
        """Nothing declared."""

    @fraiseql.query
    def items_paged(limit: int = 20) -> list[Item]:
        """Only limit declared."""

    @fraiseql.query(max_page_size=50)
    def items_capped(offset: int = 5) -> list[Item]: ...

    @fraiseql.query
    def item(id: ID) -> Item | None: ...

    @fraiseql.query
    def item_by_slug(slug: str, kind: Kind | None = None) -> Item: ...

    return fraiseql.build_schema([items, items_paged, items_capped, item, item_by_slug],
                                 max_page_size=max_page_size)


def test_list_queries_always_get_where_order_by_limit_offset() -> None:
    fields = _item_schema(max_page_size=300).graphql.query_type.fields
    for name in ("items", "itemsPaged", "itemsCapped"):
        assert set(fields[name].args) == {"where", "orderBy", "limit", "offset"}, name
        assert type_str(fields[name].args["where"].type) == "ItemWhereInput"
        assert type_str(fields[name].args["orderBy"].type) == "[ItemOrderBy!]"
    undeclared = fields["items"].args
    assert type_str(undeclared["limit"].type) == "Int"
    assert undeclared["limit"].default_value == 300  # the page cap
    assert undeclared["offset"].default_value == 0
    declared = fields["itemsPaged"].args
    assert type_str(declared["limit"].type) == "Int!"
    assert declared["limit"].default_value == 20
    assert fields["itemsCapped"].args["limit"].default_value == 50
    assert fields["itemsCapped"].args["offset"].default_value == 5
    assert type_str(fields["items"].type) == "[Item!]!"


def test_list_queries_get_a_connection_and_a_count() -> None:
    schema = _item_schema(max_page_size=300)
    fields = schema.graphql.query_type.fields
    for name in ("items", "itemsPaged", "itemsCapped"):
        connection = fields[f"{name}Connection"]
        assert {a: type_str(t.type) for a, t in connection.args.items()} == {
            "first": "Int", "after": "String", "last": "Int", "before": "String",
            "where": "ItemWhereInput", "orderBy": "[ItemOrderBy!]"}, name
        assert type_str(connection.type) == "ItemConnection!"
        count = fields[f"{name}Count"]
        assert {a: type_str(t.type) for a, t in count.args.items()} == {
            "where": "ItemWhereInput"}
        assert type_str(count.type) == "Int!"
    assert "itemConnection" not in fields and "itemBySlugCount" not in fields  # not lists
    assert set(schema.connections) == {"itemsConnection", "itemsPagedConnection",
                                       "itemsCappedConnection"}
    assert schema.counts["itemsCount"] is schema.queries["items"]
    gql = schema.graphql
    shapes = {name: {f: type_str(t.type) for f, t in gql.get_type(name).fields.items()}
              for name in ("ItemConnection", "ItemEdge", "PageInfo")}
    assert shapes == {
        "ItemConnection": {"edges": "[ItemEdge!]!", "pageInfo": "PageInfo!",
                           "totalCount": "Int!"},
        "ItemEdge": {"node": "Item!", "cursor": "String!"},
        "PageInfo": {"hasNextPage": "Boolean!", "hasPreviousPage": "Boolean!",
                     "startCursor": "String", "endCursor": "String"},
    }
    sdl = schema.sdl()
    assert "itemsConnection(" in sdl and "itemsCount(" in sdl and "type PageInfo {" in sdl


def test_companions_keep_declared_filters_and_yield_to_declared_queries() -> None:
    @fraiseql.type(sql_source="v_note")
    class Note:
        id: ID
        topic: str

    @fraiseql.type(sql_source="v_memo")
    class Memo:  # no id: no cursor tiebreak, so no connection (a count still)
        topic: str

    @fraiseql.query
    def notes(topic: str | None = None) -> list[Note]: ...

    @fraiseql.query
    def notes_count() -> list[Note]: ...  # a declared query owns the name

    @fraiseql.query
    def memos() -> list[Memo]: ...

    schema = fraiseql.build_schema([notes, notes_count, memos])
    fields = schema.graphql.query_type.fields
    assert set(fields["notesConnection"].args) == {"first", "after", "last", "before", "topic",
                                                   "where", "orderBy"}
    assert set(fields["notesCount"].args) == {"where", "orderBy", "limit", "offset"}
    assert "notesCount" not in schema.counts and "notesCountCount" in schema.counts
    assert "memosConnection" not in fields and "memosCount" in fields


def test_generated_where_and_order_by_inputs() -> None:
    gql = _item_schema().graphql
    where = gql.get_type("ItemWhereInput")
    assert isinstance(where, GraphQLInputObjectType)
    # Scalars, enums, nested objects and lists of objects (any/isEmpty) filter.
    assert list(where.fields) == ["id", "slug", "kind", "meta", "maker", "parts", "_and", "_or",
                                  "_not"]
    assert type_str(where.fields["maker"].type) == "MakerWhereInput"
    assert type_str(where.fields["parts"].type) == "MakerListFilter"
    assert {n: type_str(f.type) for n, f in gql.get_type("MakerListFilter").fields.items()} == {
        "any": "MakerWhereInput", "isEmpty": "Boolean"}
    assert type_str(where.fields["_and"].type) == "[ItemWhereInput!]"
    assert type_str(where.fields["_not"].type) == "ItemWhereInput"
    operators = {name: list(gql.get_type(name).fields) for name in
                 ("IDFilter", "StringFilter", "KindFilter", "JSONFilter")}
    assert operators == {
        "IDFilter": ["eq", "neq", "in", "nin", "isnull"],
        "StringFilter": ["eq", "neq", "gt", "gte", "lt", "lte", "in", "nin", "isnull",
                         "contains", "icontains", "startsWith", "istartsWith", "endsWith",
                         "iendsWith", "like", "ilike", "regex", "iregex"],
        "KindFilter": ["eq", "neq", "in", "nin", "isnull"],
        "JSONFilter": ["isnull", "hasKey", "hasAnyKeys", "hasAllKeys", "contains",
                       "containedBy"],
    }
    assert type_str(gql.get_type("StringFilter").fields["in"].type) == "[String!]"
    assert type_str(gql.get_type("KindFilter").fields["eq"].type) == "Kind"
    order = gql.get_type("ItemOrderBy")
    # Scalars, enums and embedded objects (by their own OrderBy); no JSON, no lists.
    assert list(order.fields) == ["id", "slug", "kind", "maker"]
    assert type_str(order.fields["slug"].type) == "OrderDirection"
    assert type_str(order.fields["maker"].type) == "MakerOrderBy"
    assert list(gql.get_type("OrderDirection").values) == [
        "ASC", "DESC", "ASC_NULLS_FIRST", "ASC_NULLS_LAST", "DESC_NULLS_FIRST",
        "DESC_NULLS_LAST"]


def test_single_object_queries_take_their_declared_arguments_only() -> None:
    schema = _item_schema()
    fields = schema.graphql.query_type.fields
    assert {n: type_str(a.type) for n, a in fields["item"].args.items()} == {"id": "ID!"}
    assert type_str(fields["item"].type) == "Item"
    by_slug = fields["itemBySlug"]
    assert {n: type_str(a.type) for n, a in by_slug.args.items()} == {
        "slug": "String!", "kind": "Kind"}
    assert by_slug.args["kind"].default_value is None
    assert type_str(by_slug.type) == "Item!"
    root = schema.queries["itemBySlug"]
    assert not root.is_list
    assert root.sql_source == "v_item"
    assert [a.python_name for a in root.arguments.values()] == ["slug", "kind"]


def test_query_sql_source_overrides_the_types() -> None:
    @fraiseql.type(sql_source="v_thing")
    class Thing:
        id: ID

    @fraiseql.query(sql_source="v_archived_thing", name="archivedThings")
    def archived() -> list[Thing]: ...

    schema = fraiseql.build_schema([archived])
    assert list(schema.queries) == ["archivedThings"]
    assert schema.queries["archivedThings"].sql_source == "v_archived_thing"
    assert "archivedThings(" in schema.sdl()


def test_sdl_is_stable_and_complete() -> None:
    sdl = _item_schema().sdl()
    assert sdl == _item_schema().sdl()
    for fragment in ("type Item {", "enum Kind {", "input ItemWhereInput {",
                     "input ItemOrderBy {", "type Query {", "item(id: ID!): Item",
                     "itemBySlug(slug: String!, kind: Kind = null): Item!"):
        assert fragment in sdl, fragment
    nonnull_list = _item_schema().graphql.query_type.fields["items"].type
    assert isinstance(nonnull_list, GraphQLNonNull)
    assert isinstance(nonnull_list.of_type, GraphQLList)
