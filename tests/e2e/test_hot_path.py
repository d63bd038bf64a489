"""A cached plan is bound and executed without graphql-core's parser, validation,
execution or input coercion: a profiler hook records every Python call made
while the second request runs, and none may land in those packages."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from fraiseql.http.app import FraiseQLApp
from fraiseql.testing.client import AppClient

W2 = """query W2($offset: Int!, $after: DateTime!) {
  posts(where: {createdAt: {gt: $after}}, orderBy: {createdAt: DESC}, limit: 3,
        offset: $offset) { title author { username } comments(limit: 1) { body } }
}"""
USER = "query($id: ID!) { user(id: $id) { username bio } }"
FORBIDDEN = ("/graphql/execution/", "/graphql/validation/", "/graphql/language/",
             "/graphql/utilities/")


async def _calls_into_graphql_core(request: Callable[[], Any]) -> tuple[Any, set[str]]:
    seen: set[str] = set()

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and any(part in frame.f_code.co_filename for part in FORBIDDEN):
            seen.add(f"{frame.f_code.co_filename.split('/graphql/')[-1]}:{frame.f_code.co_name}")

    sys.setprofile(profile)
    try:
        result = await request()
    finally:
        sys.setprofile(None)
    return result, seen


async def test_cached_plans_do_not_touch_graphql_core(
        blog_db_url: str, make_blog_app: Callable[..., FraiseQLApp]) -> None:
    async with AppClient(make_blog_app(blog_db_url)) as client:
        first = await client.data(W2, {"offset": 0, "after": "2024-06-01T00:00:00Z"})
        await client.data(USER, {"id": "39201609-d980-3efb-38f4-1f440309a429"})
        second, calls = await _calls_into_graphql_core(
            lambda: client.data(W2, {"offset": 1, "after": "2024-06-01T00:00:00Z"}))
        assert calls == set()
        assert second["posts"][0] == first["posts"][1]  # new values bound, same plan
        user, calls = await _calls_into_graphql_core(
            lambda: client.data(USER, {"id": "39201609-d980-3efb-38f4-1f440309a429"}))
        assert calls == set() and user["user"]["bio"] is None


async def test_a_cold_request_does_use_graphql_core(
        blog_db_url: str, make_blog_app: Callable[..., FraiseQLApp]) -> None:
    """The probe itself works: the first request parses and validates."""
    async with AppClient(make_blog_app(blog_db_url)) as client:
        _, calls = await _calls_into_graphql_core(
            lambda: client.data(USER, {"id": "39201609-d980-3efb-38f4-1f440309a429"}))
        assert any(call.startswith("language/parser") for call in calls)
        assert any(call.startswith("validation/") for call in calls)
