"""``Access``: deny beats allow, wildcards, fingerprints, and the format checks (no database)."""

from __future__ import annotations

import pytest

from fraiseql.authz.rbac import (
    Access,
    check_permission,
    check_permission_pattern,
    check_role_name,
    pattern_matches,
)


def access(allowed: set[str], denied: set[str] = frozenset(),  # type: ignore[assignment]
           roles: set[str] = frozenset()) -> Access:  # type: ignore[assignment]
    return Access(roles=frozenset(roles), allowed=frozenset(allowed), denied=frozenset(denied))


@pytest.mark.parametrize(("pattern", "permission", "expected"), [
    ("post:read", "post:read", True),
    ("post:read", "post:write", False),
    ("post:*", "post:publish", True),
    ("post:*", "comment:publish", False),
    ("*:read", "comment:read", True),
    ("*:read", "comment:write", False),
    ("*:*", "anything:at_all", True),
    ("post:read", "posts:read", False),
])
def test_patterns(pattern: str, permission: str, expected: bool) -> None:
    assert pattern_matches(pattern, permission) is expected
    assert access({pattern}).has_permission(permission) is expected


def test_deny_beats_every_allow_whatever_its_shape() -> None:
    granted = access({"*:*", "post:*", "post:delete"}, {"post:delete", "*:purge"})
    assert granted.has_permission("post:read") is True
    assert granted.has_permission("post:delete") is False
    assert granted.has_permission("user:purge") is False
    assert granted.has_permission("user:read") is True
    assert access({"post:delete"}, {"*:*"}).has_permission("post:delete") is False
    assert access({"post:*"}, {"post:*"}).has_permission("post:read") is False


def test_nothing_allowed_means_no() -> None:
    assert access(set()).has_permission("post:read") is False
    assert access(set(), {"post:read"}).has_permission("post:write") is False


def test_repeated_questions_get_the_same_answer() -> None:
    granted = access({"post:*"}, {"post:delete"})
    assert [granted.has_permission("post:delete") for _ in range(3)] == [False] * 3
    assert [granted.has_permission("post:edit") for _ in range(3)] == [True] * 3


@pytest.mark.parametrize("question", ["post", "post:*", "*:read", "post:read:x", ":read",
                                      "post:", "po st:read", ""])
def test_a_malformed_question_is_refused(question: str) -> None:
    granted = access({"*:*"})
    with pytest.raises(ValueError, match="bad permission"):
        granted.has_permission(question)
    # Not remembered as an answer either: it is refused every time.
    with pytest.raises(ValueError, match="bad permission"):
        granted.has_permission(question)


def test_roles_and_from_token() -> None:
    token = Access.from_token(["editor", "viewer"])
    assert token == Access(roles=frozenset({"editor", "viewer"}), allowed=frozenset(),
                           denied=frozenset())
    assert token.has_role("editor") is True
    assert token.has_role("admin") is False
    assert token.has_permission("post:read") is False
    assert token.tenants == frozenset()


def test_fingerprint_is_stable_and_tells_answers_apart() -> None:
    base = access({"post:*"}, {"post:delete"}, {"editor"})
    same = access({"post:*"}, {"post:delete"}, {"editor"})
    assert base.fingerprint == same.fingerprint
    assert len(base.fingerprint) == 16
    others = [access({"post:*"}, {"post:delete"}, {"editor", "viewer"}),
              access({"post:*", "x:y"}, {"post:delete"}, {"editor"}),
              access({"post:*"}, set(), {"editor"}),
              # The same text moved from allowed to denied is a different answer.
              access({"post:delete"}, {"post:*"}, {"editor"})]
    prints = {base.fingerprint} | {other.fingerprint for other in others}
    assert len(prints) == 5


def test_explain_names_the_matching_patterns() -> None:
    granted = access({"*:read", "post:*"}, {"post:delete", "*:delete"})
    assert granted.explain("post:read") == (True, [], ["*:read", "post:*"])
    assert granted.explain("post:delete") == (False, ["*:delete", "post:delete"], ["post:*"])
    assert granted.explain("user:write") == (False, [], [])


@pytest.mark.parametrize("pattern", ["post:read", "post:*", "*:read", "*:*", "blog.post:re-ad",
                                     "Post_2:Read"])
def test_valid_patterns(pattern: str) -> None:
    assert check_permission_pattern(pattern) == pattern


@pytest.mark.parametrize("pattern", ["post", "post:", ":read", "post:read:more", "po*:read",
                                     "post:re*", "**:read", "post :read", "-post:read", ""])
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(ValueError, match="bad permission"):
        check_permission_pattern(pattern)


def test_a_question_has_no_wildcard() -> None:
    assert check_permission("post:read") == "post:read"
    with pytest.raises(ValueError, match="without \\*"):
        check_permission("post:*")


def test_role_names() -> None:
    assert check_role_name("org:admin@acme") == "org:admin@acme"
    for bad in ["", "has space", "-lead", "x" * 101]:
        with pytest.raises(ValueError, match="bad role name"):
            check_role_name(bad)
