"""Where the database URL comes from, and URLs derived from it."""

from __future__ import annotations

import pytest

from fraiseql.ops.database_url import resolve_database_url, url_with_database

CLI = "postgresql://cli/db"
OWN = "postgresql://own/db"
GENERIC = "postgresql://generic/db"


@pytest.mark.parametrize(
    ("cli", "environ", "expected"),
    [
        (CLI, {"FRAISEQL_DATABASE_URL": OWN, "DATABASE_URL": GENERIC}, CLI),
        (None, {"FRAISEQL_DATABASE_URL": OWN, "DATABASE_URL": GENERIC}, OWN),
        (None, {"DATABASE_URL": GENERIC}, GENERIC),
        (None, {}, None),
        # Empty values count as unset, at every level.
        ("", {"FRAISEQL_DATABASE_URL": "", "DATABASE_URL": GENERIC}, GENERIC),
        (None, {"FRAISEQL_DATABASE_URL": "", "DATABASE_URL": ""}, None),
    ],
)
def test_resolution_order(cli: str | None, environ: dict[str, str], expected: str | None) -> None:
    assert resolve_database_url(cli, environ) == expected


def test_reads_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRAISEQL_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", GENERIC)
    assert resolve_database_url(None) == GENERIC
    monkeypatch.setenv("FRAISEQL_DATABASE_URL", OWN)
    assert resolve_database_url(None) == OWN


@pytest.mark.parametrize(
    ("url", "database", "expected"),
    [
        ("postgresql://postgres@/postgres?host=/tmp/pg&port=5432", "blog",
         "postgresql://postgres@/blog?host=/tmp/pg&port=5432"),
        ("postgresql://u:p%40ss@db.example:6543/app?sslmode=require", "other",
         "postgresql://u:p%40ss@db.example:6543/other?sslmode=require"),
        ("postgresql://localhost", "x", "postgresql://localhost/x"),
        ("postgresql://localhost/a", "we/ird name?", "postgresql://localhost/we%2Fird%20name%3F"),
    ],
)
def test_url_with_database(url: str, database: str, expected: str) -> None:
    assert url_with_database(url, database) == expected
