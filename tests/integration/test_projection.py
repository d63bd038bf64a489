"""Every projection shape, over the app, on the real blog database.

Answers are checked against exact values from examples/blog/DATA.md's notable
rows, and filters/ordering/paging against the same question asked in plain SQL.
"""

from __future__ import annotations

import decimal
import enum
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql import ID
from fraiseql.testing.client import AppClient


def seed_id(key: str) -> str:
    """The id of a seed row, e.g. seed_id("post-9999") (DATA.md: md5('<kind>-<n>')::uuid)."""
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


POST_META = "0801ad8c-fdeb-1662-4742-70cacc395e66"  # post-9999
POST_NO_COMMENTS = "b2413443-379e-88bb-fd48-ed62fd33d26c"  # post-9974
POST_DRAFT = "41b06946-fc10-c667-b828-c9f6c727b341"  # post-9951
POST_8_COMMENTS = "9b945516-c16e-a460-b14d-0efcd56d18f9"  # post-9996
USER_NULL_BIO = "39201609-d980-3efb-38f4-1f440309a429"  # user-5
USER_BOBBY = "13ca05f7-945e-7659-a51d-a6abfd2eddac"  # user-13
USER_1 = "d6d77053-92bc-7af6-3332-8bea8c4c6904"


def test_notable_ids_are_the_seed_formula() -> None:
    assert seed_id("post-9999") == POST_META
    assert seed_id("user-13") == USER_BOBBY


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(blog_db_url: str) -> AsyncIterator[AppClient]:
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url)
    async with AppClient(app) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(blog_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(blog_db_url, server_settings={"TimeZone": "UTC"})
    yield conn
    await conn.close()


async def ids(db: asyncpg.Connection, sql: str, *args: Any) -> list[str]:
    return [str(r[0]) for r in await db.fetch(sql, *args)]


# --- nested objects and lists ---------------------------------------------------------


async def test_single_object_with_every_nested_shape(client: AppClient) -> None:
    data = await client.data(f"""{{ post(id: "{POST_NO_COMMENTS}") {{
        id title slug status publishedAt viewCount rating createdAt
        author {{ id username fullName bio }}
        tags {{ id name slug }}
        comments {{ id }} }} }}""")
    assert data == {"post": {
        "id": POST_NO_COMMENTS,
        "title": "Linux Rate Limiters: Lessons Learned",
        "slug": "linux-rate-limiters-lessons-learned-9974",
        "status": "PUBLISHED",
        "publishedAt": "2024-12-31T14:53:45+00:00",
        "viewCount": 681,
        "rating": "1.88",
        "createdAt": "2024-12-29T23:26:40+00:00",
        "author": {"id": "a961cbc7-cd3e-1cb2-9afc-eae46405545c", "username": "ximena.petrov540",
                   "fullName": "Ximena Petrov", "bio": None},
        "tags": [
            {"id": "9a168fbf-5135-e7eb-4727-b5650157aca1", "name": "Architecture",
             "slug": "architecture"},
            {"id": "e2f019e0-722a-b921-ee8c-74fdf0664b33", "name": "Linux", "slug": "linux"},
            {"id": "b14de252-0c36-14a7-9493-4b48b827e4dd", "name": "Machine Learning",
             "slug": "machine-learning"},
        ],
        "comments": [],
    }}


async def test_meta_character_values_come_back_verbatim(client: AppClient,
                                                        db: asyncpg.Connection) -> None:
    data = await client.data(f"""{{ post(id: "{POST_META}") {{
        title slug body rating viewCount status
        comments(limit: 1) {{ id body author {{ username }} }} }} }}""")
    post = data["post"]
    assert post["title"] == """O'Reilly "quotes" -- ; DROP TABLE tb_post; \\ % _"""
    assert post["slug"] == "o-reilly-quotes-drop-table-tb-post-9999"
    assert post["body"] == await db.fetchval("SELECT body FROM tb_post WHERE id = $1",
                                             uuid.UUID(POST_META))
    assert (post["rating"], post["viewCount"], post["status"]) == ("4.25", 1234, "PUBLISHED")
    first = post["comments"][0]
    assert first["id"] == seed_id("comment-9999-1") == "472be126-a43d-76d5-0350-9969782b8559"
    assert first["body"].startswith("Nice post! ') DELETE FROM tb_comment; --\n")
    assert first["body"].endswith('"quoted" \\\\ 100% _under_ 👍')


async def test_nested_list_limit_and_offset(client: AppClient, db: asyncpg.Connection) -> None:
    every = (await client.data(f'{{ post(id: "{POST_8_COMMENTS}") {{ comments {{ id }} }} }}'
                               ))["post"]["comments"]
    expected = await ids(db, "SELECT id FROM tb_comment WHERE post_id = $1 "
                             "ORDER BY created_at, id", uuid.UUID(POST_8_COMMENTS))
    assert [c["id"] for c in every] == expected and len(expected) == 8
    data = await client.data(f"""{{ post(id: "{POST_8_COMMENTS}") {{
        page: comments(limit: 3, offset: 2) {{ id }}
        head: comments(limit: 2) {{ id }}
        tail: comments(offset: 6) {{ id }}
        none: comments(limit: 0) {{ id }}
        past: comments(offset: 20) {{ id }} }} }}""")
    post = data["post"]
    assert [c["id"] for c in post["page"]] == expected[2:5]
    assert [c["id"] for c in post["head"]] == expected[:2]
    assert [c["id"] for c in post["tail"]] == expected[6:]
    assert post["none"] == [] and post["past"] == []


async def test_aliases_of_nested_fields(client: AppClient) -> None:
    data = await client.data(f"""{{ p: post(id: "{POST_NO_COMMENTS}") {{
        heading: title
        writer: author {{ handle: username name: fullName }}
        first: tags(limit: 1) {{ label: name }}
        rest: tags(offset: 1) {{ name }} }} }}""")
    assert data == {"p": {
        "heading": "Linux Rate Limiters: Lessons Learned",
        "writer": {"handle": "ximena.petrov540", "name": "Ximena Petrov"},
        "first": [{"label": "Architecture"}],
        "rest": [{"name": "Linux"}, {"name": "Machine Learning"}],
    }}


async def test_two_root_fields_are_two_statements(client: AppClient) -> None:
    query = f"""{{ user(id: "{USER_NULL_BIO}") {{ username }}
                  tags(where: {{slug: {{eq: "cpp"}}}}) {{ name }} }}"""
    plan = client.app.engine.compile(query)
    assert len([r for r in plan.roots if r.kind == "sql"]) == 2
    assert await client.data(query) == {"user": {"username": "alice.costa5"},
                                        "tags": [{"name": "C++"}]}


async def test_named_and_inline_fragments(client: AppClient) -> None:
    query = f"""
      query Q($withBody: Boolean!) {{
        post(id: "{POST_NO_COMMENTS}") {{
          ...PostHead
          ... on Post {{ viewCount }}
          ... {{ rating }}
          ... @include(if: $withBody) {{ status }}
          author {{ ...Who }}
        }}
      }}
      fragment PostHead on Post {{ slug title }}
      fragment Who on Author {{ username ... on Author {{ bio }} }}
    """
    with_body = await client.data(query, {"withBody": True})
    assert with_body == {"post": {
        "slug": "linux-rate-limiters-lessons-learned-9974",
        "title": "Linux Rate Limiters: Lessons Learned",
        "viewCount": 681, "rating": "1.88", "status": "PUBLISHED",
        "author": {"username": "ximena.petrov540", "bio": None}}}
    without = await client.data(query, {"withBody": False})
    assert "status" not in without["post"]
    assert list(without["post"]) == ["slug", "title", "viewCount", "rating", "author"]


async def test_typename_at_root_and_nested(client: AppClient) -> None:
    data = await client.data(f"""{{ __typename
        post(id: "{POST_META}") {{ __typename author {{ __typename }}
            tags(limit: 1) {{ __typename }} comments(limit: 1) {{ __typename author {{ t: __typename }} }} }}
        users(limit: 1) {{ __typename }} }}""")
    assert data == {
        "__typename": "Query",
        "post": {"__typename": "Post", "author": {"__typename": "Author"},
                 "tags": [{"__typename": "Tag"}],
                 "comments": [{"__typename": "Comment", "author": {"t": "CommentAuthor"}}]},
        "users": [{"__typename": "User"}],
    }


async def test_null_values_and_empty_lists(client: AppClient) -> None:
    data = await client.data(f"""{{
        user(id: "{USER_NULL_BIO}") {{ id username email fullName bio isActive createdAt postCount }}
        draft: post(id: "{POST_DRAFT}") {{ status publishedAt rating viewCount comments {{ id }} }}
        lonely: userByUsername(username: "lucia.silva1000") {{ bio postCount }} }}""")
    assert data == {
        "user": {"id": USER_NULL_BIO, "username": "alice.costa5",
                 "email": "alice.costa5@example.com", "fullName": "Alice Costa", "bio": None,
                 "isActive": True, "createdAt": "2022-01-02T18:01:02+00:00", "postCount": 92},
        "draft": {"status": "DRAFT", "publishedAt": None, "rating": None, "viewCount": 0,
                  "comments": []},
        "lonely": {"bio": None, "postCount": 0},
    }


async def test_enum_and_decimal_output(client: AppClient, db: asyncpg.Connection) -> None:
    data = await client.data("""{ posts(limit: 50, orderBy: {createdAt: DESC}) {
        id status rating } }""")
    rows = {str(r["id"]): r for r in await db.fetch(
        "SELECT id, status, rating FROM tb_post ORDER BY created_at DESC LIMIT 50")}
    assert len(data["posts"]) == 50
    statuses = set()
    for post in data["posts"]:
        row = rows[post["id"]]
        assert post["status"] == row["status"].upper()
        statuses.add(post["status"])
        # Decimal is a JSON string with the exact digits, never a float.
        assert post["rating"] == (None if row["rating"] is None else str(row["rating"]))
        if post["rating"] is not None:
            assert isinstance(post["rating"], str)
            assert decimal.Decimal(post["rating"]) == row["rating"]
    assert statuses <= {"PUBLISHED", "DRAFT", "ARCHIVED"}
    assert "PUBLISHED" in statuses


async def test_key_order_is_selection_order(client: AppClient) -> None:
    response = await client.post_graphql(f"""{{ zz: tags(limit: 1) {{ slug name id }}
        post(id: "{POST_META}") {{ viewCount title author {{ fullName id }} id
            comments(limit: 1) {{ createdAt author {{ username }} body }} }}
        aa: __typename }}""")
    body = response.json()
    assert list(body["data"]) == ["zz", "post", "aa"]
    assert list(body["data"]["zz"][0]) == ["slug", "name", "id"]
    post = body["data"]["post"]
    assert list(post) == ["viewCount", "title", "author", "id", "comments"]
    assert list(post["author"]) == ["fullName", "id"]
    assert list(post["comments"][0]) == ["createdAt", "author", "body"]
    # The raw bytes too (not just Python's dict order).
    text = response.text
    assert text.index('"viewCount"') < text.index('"title"') < text.index('"author"')


# --- filters and ordering against plain SQL ------------------------------------------

# Filters on keys inside `data` make PostgreSQL build `data` for every candidate row
# (DATA.md); on posts (tv_post, which stores v_post's rows) the cases also filter on
# the real `created_at`/`status` columns so only a slice of the 10,000 posts is read. The expected answers are
# computed from the tables.
FILTER_CASES = [
    pytest.param(
        'users(limit: 1000, where: {username: {eq: "bobby.tables"}})',
        "SELECT id FROM tb_user WHERE username = 'bobby.tables' ORDER BY id",
        id="eq"),
    pytest.param(
        "users(limit: 1000, where: {isActive: {neq: true}})",
        "SELECT id FROM tb_user WHERE NOT is_active ORDER BY id",
        id="neq"),
    pytest.param(
        'users(limit: 1000, where: {bio: {neq: "x"}, postCount: {lt: 1}})',
        "SELECT u.id FROM tb_user u WHERE u.bio IS DISTINCT FROM 'x' AND NOT EXISTS (SELECT FROM tb_post p "
        "WHERE p.author_id = u.id) ORDER BY id",
        id="neq-null-counts-as-different"),
    pytest.param(
        'posts(limit: 1000, where: {createdAt: {gte: "2024-12-01T00:00:00Z"}, '
        "viewCount: {gt: 2500}})",
        "SELECT id FROM tb_post WHERE created_at >= '2024-12-01T00:00:00Z' "
        "AND view_count > 2500 ORDER BY id",
        id="gt"),
    pytest.param(
        'posts(limit: 1000, where: {rating: {gte: "4.9"}, status: {eq: ARCHIVED}})',
        "SELECT id FROM tb_post WHERE rating >= 4.9 AND status = 'archived' ORDER BY id",
        id="gte-decimal-and-enum"),
    pytest.param(
        'tags(where: {slug: {in: ["cpp", "i18n", "no-such-tag"]}})',
        "SELECT id FROM tb_tag WHERE slug IN ('cpp', 'i18n') ORDER BY id",
        id="in"),
    pytest.param(
        'tags(where: {name: {nin: ["C++", "PostgreSQL"]}})',
        "SELECT id FROM tb_tag WHERE name NOT IN ('C++', 'PostgreSQL') ORDER BY id",
        id="nin"),
    pytest.param(
        "tags(where: {name: {in: []}})", "SELECT id FROM tb_tag WHERE false", id="in-empty"),
    pytest.param(
        "tags(where: {name: {nin: []}})", "SELECT id FROM tb_tag ORDER BY id", id="nin-empty"),
    pytest.param(
        "posts(limit: 1000, where: {status: {in: [DRAFT, ARCHIVED]}, "
        'createdAt: {gte: "2024-12-20T00:00:00Z"}})',
        "SELECT id FROM tb_post WHERE status IN ('draft', 'archived') "
        "AND created_at >= '2024-12-20T00:00:00Z' ORDER BY id",
        id="in-enum"),
    pytest.param(
        "users(limit: 1000, where: {bio: {isnull: true}})",
        "SELECT id FROM tb_user WHERE bio IS NULL ORDER BY id",
        id="isnull-true"),
    pytest.param(
        "posts(limit: 1000, where: {rating: {isnull: false}, viewCount: {gte: 4000}, "
        'createdAt: {gte: "2024-10-01T00:00:00Z"}})',
        "SELECT id FROM tb_post WHERE rating IS NOT NULL AND view_count >= 4000 "
        "AND created_at >= '2024-10-01T00:00:00Z' ORDER BY id",
        id="isnull-false"),
    pytest.param(
        "posts(limit: 1000, where: {_and: [{viewCount: {gte: 3000}}, {viewCount: {lt: 4000}}],"
        ' _or: [{status: {eq: ARCHIVED}}, {rating: {gt: "4.5"}}],'
        ' createdAt: {gte: "2024-10-01T00:00:00Z"}})',
        "SELECT id FROM tb_post WHERE view_count BETWEEN 3000 AND 3999 "
        "AND (status = 'archived' OR rating > 4.5) "
        "AND created_at >= '2024-10-01T00:00:00Z' ORDER BY id",
        id="and-or"),
    pytest.param(
        "users(limit: 1000, where: {_not: {_or: [{isActive: {eq: true}},"
        " {username: {eq: \"george.cohen83\"}}]}})",
        "SELECT id FROM tb_user WHERE NOT (is_active OR username = 'george.cohen83') "
        "ORDER BY id",
        id="not"),
    pytest.param(
        'posts(limit: 1000, where: {author: {username: {eq: "bobby.tables"}}, '
        'createdAt: {gte: "2024-07-01T00:00:00Z"}})',
        "SELECT p.id FROM tb_post p JOIN tb_user u ON u.id = p.author_id "
        "WHERE u.username = 'bobby.tables' AND p.created_at >= '2024-07-01T00:00:00Z' "
        "ORDER BY p.id",
        id="nested-author"),
    pytest.param(
        'posts(limit: 1000, where: {author: {bio: {isnull: true}, _not: {username: {in: '
        '["alice.costa5"]}}}, status: {eq: DRAFT}, viewCount: {eq: 0}})',
        "SELECT p.id FROM tb_post p JOIN tb_user u ON u.id = p.author_id "
        "WHERE u.bio IS NULL AND u.username <> 'alice.costa5' AND p.status = 'draft' "
        "ORDER BY p.id",
        id="nested-author-combined"),
    pytest.param(
        'comments(limit: 1000, where: {author: {username: {eq: "bobby.tables"}}, '
        'createdAt: {gt: "2024-06-01T00:00:00Z"}})',
        "SELECT c.id FROM tb_comment c JOIN tb_user u ON u.id = c.author_id "
        "WHERE u.username = 'bobby.tables' AND c.created_at > '2024-06-01T00:00:00Z' "
        "ORDER BY c.id",
        id="comment-author-and-datetime"),
    pytest.param(
        f'posts(limit: 1000, where: {{id: {{eq: "{POST_META.upper()}"}}}})',
        f"SELECT id FROM tb_post WHERE id = '{POST_META}'",
        id="id-case-insensitive"),
]


@pytest.mark.parametrize(("field", "sql"), FILTER_CASES)
async def test_filters_match_plain_sql(client: AppClient, db: asyncpg.Connection,
                                       field: str, sql: str) -> None:
    data = await client.data(f"{{ rows: {field} {{ id }} }}")
    expected = await ids(db, sql)
    assert [r["id"] for r in data["rows"]] == expected
    assert len(expected) < 1000  # no case is truncated by the page cap


ORDER_CASES = [
    pytest.param("posts(limit: 100, orderBy: {createdAt: DESC})",
                 "SELECT id FROM v_post ORDER BY created_at DESC LIMIT 100", id="single-object"),
    pytest.param("posts(limit: 100, orderBy: [{createdAt: ASC}])",
                 "SELECT id FROM v_post ORDER BY created_at LIMIT 100", id="list-asc"),
    pytest.param('posts(limit: 100, where: {createdAt: {gte: "2024-11-01T00:00:00Z"}}, '
                 "orderBy: [{viewCount: DESC}, {rating: ASC}])",
                 "SELECT id FROM tb_post WHERE created_at >= '2024-11-01T00:00:00Z' "
                 "ORDER BY view_count DESC, rating ASC NULLS LAST, id LIMIT 100", id="two-keys"),
    pytest.param("posts(limit: 100, where: {status: {eq: DRAFT}}, orderBy: {rating: DESC})",
                 "SELECT id FROM tb_post WHERE status = 'draft' "
                 "ORDER BY rating DESC NULLS FIRST, id LIMIT 100",
                 id="nulls-tiebreak-on-id"),
    pytest.param("users(limit: 1000, orderBy: [{postCount: DESC}, {id: DESC}])",
                 "SELECT id FROM v_user ORDER BY (data->>'post_count')::int DESC, id DESC",
                 id="explicit-id-desc"),
    pytest.param("tags(orderBy: {name: ASC})",
                 "SELECT id FROM v_tag ORDER BY data->>'name', id", id="text"),
    pytest.param("tags(orderBy: {slug: DESC}, limit: 7, offset: 3)",
                 "SELECT id FROM v_tag ORDER BY data->>'slug' DESC, id LIMIT 7 OFFSET 3",
                 id="text-desc-paged"),
]


@pytest.mark.parametrize(("field", "sql"), ORDER_CASES)
async def test_order_by_matches_plain_sql(client: AppClient, db: asyncpg.Connection,
                                          field: str, sql: str) -> None:
    data = await client.data(f"{{ rows: {field} {{ id }} }}")
    assert [r["id"] for r in data["rows"]] == await ids(db, sql)


async def test_default_order_is_id(client: AppClient, db: asyncpg.Connection) -> None:
    data = await client.data("{ posts { id } users(limit: 5) { id } }")
    assert [p["id"] for p in data["posts"]] == await ids(
        db, "SELECT id FROM v_post ORDER BY id LIMIT 20")
    assert [u["id"] for u in data["users"]] == await ids(
        db, "SELECT id FROM v_user ORDER BY id LIMIT 5")


async def test_offset_limit_paging_is_consistent(client: AppClient,
                                                 db: asyncpg.Connection) -> None:
    query = """query Page($limit: Int!, $offset: Int!) {
        posts(limit: $limit, offset: $offset, where: {status: {eq: PUBLISHED}},
              orderBy: [{createdAt: DESC}]) { id } }"""
    whole = [p["id"] for p in (await client.data(query, {"limit": 60, "offset": 0}))["posts"]]
    pages: list[str] = []
    for offset in range(0, 60, 13):
        page = (await client.data(query, {"limit": 13, "offset": offset}))["posts"]
        assert len(page) == min(13, 60 - offset) or offset + 13 > 60
        pages += [p["id"] for p in page]
    assert pages[:60] == whole
    assert whole == await ids(db, "SELECT id FROM v_post WHERE status = 'published' "
                                  "ORDER BY created_at DESC LIMIT 60")
    assert whole[:2] == [seed_id("post-10000"), POST_META]
    end = await client.data(query, {"limit": 10, "offset": 7005})
    assert len(end["posts"]) == 3  # 7,008 published posts
    assert (await client.data(query, {"limit": 10, "offset": 7008}))["posts"] == []


async def test_single_object_by_id_and_unknown_id(client: AppClient) -> None:
    data = await client.data(f"""{{
        known: user(id: "{USER_BOBBY}") {{ username fullName bio }}
        upper: user(id: "{USER_BOBBY.upper()}") {{ username }}
        unknown: user(id: "{uuid.UUID(int=0)}") {{ username }}
        missingPost: post(id: "{seed_id('post-10001')}") {{ id }}
        byName: userByUsername(username: "zoe.angstrom") {{ fullName postCount }}
        noName: userByUsername(username: "nobody") {{ id }} }}""")
    assert data == {
        "known": {"username": "bobby.tables", "fullName": "Robert \"Bobby\" O'Brien",
                  "bio": "Robert') DROP TABLE tb_user;-- \\ % _"},
        "upper": {"username": "bobby.tables"},
        "unknown": None,
        "missingPost": None,
        "byName": {"fullName": "Zoë Ångström-Müller", "postCount": 53},
        "noName": None,
    }


TOP_SELECTION = """title viewCount rating publishedAt
    author { username bio } tags(limit: 2) { name } comments(offset: 1, limit: 1) { body }"""


async def test_top_posts_resolver_uses_the_same_projection(client: AppClient,
                                                           db: asyncpg.Connection) -> None:
    # The Python resolver reads tv_post through info.context["db"].find; its answer has
    # the shape (keys, order, nested arguments) of the same selection on a SQL root.
    data = await client.data(f"{{ top: topPosts(count: 7) {{ {TOP_SELECTION} }} }}")
    rows = await db.fetch(
        "SELECT id FROM tb_post WHERE status = 'published' ORDER BY view_count DESC, id LIMIT 7")
    expected = await client.data(
        "query($ids: [ID!]) { posts(where: {id: {in: $ids}}, orderBy: {viewCount: DESC}) "
        f"{{ {TOP_SELECTION} }} }}", {"ids": [str(r["id"]) for r in rows]})
    assert len(data["top"]) == 7
    assert data["top"] == expected["posts"]
    assert list(data["top"][0]) == ["title", "viewCount", "rating", "publishedAt", "author",
                                    "tags", "comments"]
    assert all(len(p["tags"]) <= 2 and len(p["comments"]) <= 1 for p in data["top"])


async def test_top_posts_resolver_serializes_enums(client: AppClient) -> None:
    body = (await client.post_graphql("{ topPosts(count: 1) { status } }")).json()
    assert body == {"data": {"topPosts": [{"status": "PUBLISHED"}]}}


# --- null propagation (a fresh database we may damage) -------------------------------


@fraiseql.enum
class Mood(enum.Enum):
    HAPPY = "happy"


@fraiseql.type
class Person:
    name: str


@fraiseql.type(sql_source="v_team")
class Team:
    id: ID
    name: str
    mood: Mood | None
    lead: Person | None
    members: list[Person | None]
    staff: list[Person]


@fraiseql.query
def teams(limit: int = 20, offset: int = 0) -> list[Team]:
    """Teams."""


@fraiseql.query
def team(id: ID) -> Team | None:
    """One team."""


def team_id(n: int) -> str:
    return str(uuid.UUID(int=n))


TEAMS_SQL = f"""
CREATE VIEW v_team AS
SELECT t.id, t.data FROM (VALUES
  ('{team_id(1)}'::uuid, '{{"id": "{team_id(1)}", "name": "fine", "mood": "happy",
     "lead": {{"name": "Ann"}}, "members": [{{"name": "Bo"}}], "staff": [{{"name": "Cy"}}]}}'::jsonb),
  ('{team_id(2)}'::uuid, '{{"id": "{team_id(2)}", "name": "nullable holes", "mood": "sad",
     "lead": {{"name": null}}, "members": [{{"name": "Di"}}, {{"name": null}}],
     "staff": [{{"name": "Ed"}}]}}'::jsonb),
  ('{team_id(3)}'::uuid, '{{"id": "{team_id(3)}", "name": "bad staff", "mood": null,
     "lead": null, "members": [], "staff": [{{"name": "Fa"}}, {{"name": null}}]}}'::jsonb),
  ('{team_id(4)}'::uuid, '{{"id": "{team_id(4)}", "lead": null, "members": [],
     "staff": []}}'::jsonb)
) AS t(id, data);
"""


def error_at(body: dict[str, Any], path: list[Any]) -> dict[str, Any]:
    found = [e for e in body.get("errors", []) if e.get("path") == path]
    assert found, f"no error at {path}: {body.get('errors')}"
    return found[0]


async def test_null_in_non_null_field_propagates_to_nearest_nullable_parent(
        fresh_blog_db_url: str) -> None:
    conn = await asyncpg.connect(fresh_blog_db_url)
    try:
        await conn.execute("ALTER TABLE tb_user ALTER COLUMN full_name DROP NOT NULL;"
                           "UPDATE tb_user SET full_name = NULL WHERE username = 'bobby.tables';"
                           # Posts read tv_post, which embeds authors and commenters:
                           # bring the posts Bobby wrote or commented on in step.
                           "SELECT fraiseql.refresh_projection('tv_post', ARRAY("
                           " SELECT id FROM tb_post WHERE author_id = u.id UNION"
                           " SELECT post_id FROM tb_comment WHERE author_id = u.id))"
                           " FROM tb_user u WHERE u.username = 'bobby.tables';"
                           + TEAMS_SQL)
    finally:
        await conn.close()
    blog_app = fraiseql.create_app(blog_schema, database_url=fresh_blog_db_url)
    async with AppClient(blog_app) as client:
        # User.fullName is String!; the root `user` is nullable: it absorbs the null,
        # the sibling root is untouched.
        body = (await client.post_graphql(f"""{{
            bad: user(id: "{USER_BOBBY}") {{ username fullName }}
            good: user(id: "{USER_1}") {{ username fullName }} }}""")).json()
        assert body["data"] == {"bad": None,
                                "good": {"username": "liam.nguyen1", "fullName": "Liam Nguyen"}}
        error = error_at(body, ["bad", "fullName"])
        assert error["message"] == "Cannot return null for non-nullable field."
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert len(body["errors"]) == 1

        # The nullable bio next to it is a plain null, no error.
        body = (await client.post_graphql(
            f'{{ user(id: "{USER_NULL_BIO}") {{ bio fullName }} }}')).json()
        assert body == {"data": {"user": {"bio": None, "fullName": "Alice Costa"}}}

        # [User!]! at the root: the null spreads through the item and the list to data.
        body = (await client.post_graphql(
            '{ users(where: {username: {in: ["alice.costa5", "bobby.tables"]}}) '
            '{ username fullName } }')).json()
        assert body["data"] is None
        bobby_index = 1 if USER_NULL_BIO < USER_BOBBY else 0
        assert error_at(body, ["users", bobby_index, "fullName"])["extensions"]["code"] == \
            "INTERNAL_SERVER_ERROR"

        # Deep inside a post: Author.fullName! -> Post.author! -> nullable root `post`.
        bobby_post = await _first_post_of(fresh_blog_db_url, USER_BOBBY)
        body = (await client.post_graphql(
            f'{{ post(id: "{bobby_post}") {{ title author {{ username fullName }} }} '
            f'other: post(id: "{POST_NO_COMMENTS}") {{ author {{ fullName }} }} }}')).json()
        assert body["data"] == {"post": None, "other": {"author": {"fullName": "Ximena Petrov"}}}
        error_at(body, ["post", "author", "fullName"])
        # Not selecting the broken field: no error at all.
        body = (await client.post_graphql(
            f'{{ post(id: "{bobby_post}") {{ author {{ username }} }} }}')).json()
        assert body == {"data": {"post": {"author": {"username": "bobby.tables"}}}}

    team_schema = fraiseql.build_schema(queries=[teams, team])
    team_app = fraiseql.create_app(team_schema, database_url=fresh_blog_db_url)
    async with AppClient(team_app) as client:
        # A nullable object (lead) and a nullable list item (members[1]) absorb the nulls;
        # an enum value the database has but the schema has not is an error too.
        body = (await client.post_graphql(f"""{{ team(id: "{team_id(2)}") {{
            name mood lead {{ name }} members {{ name }} staff {{ name }} }} }}""")).json()
        assert body["data"] == {"team": {"name": "nullable holes", "mood": None, "lead": None,
                                         "members": [{"name": "Di"}, None],
                                         "staff": [{"name": "Ed"}]}}
        assert sorted(e["path"] for e in body["errors"]) == sorted([
            ["team", "lead", "name"], ["team", "members", 1, "name"], ["team", "mood"]])
        assert error_at(body, ["team", "mood"])["message"] == \
            "The database returned a value that is not in the enum."

        # A null in [Person!]! climbs through staff to the nullable root.
        body = (await client.post_graphql(
            f'{{ team(id: "{team_id(3)}") {{ name staff {{ name }} }} }}')).json()
        assert body["data"] == {"team": None}
        assert [e["path"] for e in body["errors"]] == [["team", "staff", 1, "name"]]

        # A missing non-null key is a null too.
        body = (await client.post_graphql(
            f'{{ team(id: "{team_id(4)}") {{ id name }} }}')).json()
        assert body["data"] == {"team": None}
        assert [e["path"] for e in body["errors"]] == [["team", "name"]]

        # In a list of non-null teams, one bad team nulls the whole (non-null) root: data null.
        body = (await client.post_graphql("{ teams { name } }")).json()
        assert body["data"] is None
        assert [e["path"] for e in body["errors"]] == [["teams", 3, "name"]]
        # Selecting only fields that are fine: no errors.
        body = (await client.post_graphql("{ teams { id lead { name } } }")).json()
        assert "errors" in body  # team 2's lead.name is null: lead becomes null
        assert body["data"]["teams"][1] == {"id": team_id(2), "lead": None}
        assert body["data"]["teams"][0] == {"id": team_id(1), "lead": {"name": "Ann"}}
        body = (await client.post_graphql("{ teams { id members { name } } }")).json()
        assert body["data"]["teams"][1]["members"] == [{"name": "Di"}, None]
        assert [e["path"] for e in body["errors"]] == [["teams", 1, "members", 1, "name"]]


async def _first_post_of(url: str, author: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval(
            "SELECT id FROM tb_post WHERE author_id = $1 ORDER BY id LIMIT 1", uuid.UUID(author)))
    finally:
        await conn.close()
