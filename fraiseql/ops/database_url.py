"""Where the database URL comes from, and URLs derived from it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import quote, urlsplit, urlunsplit

# Highest priority first: the framework's own variable wins over the generic one
# that hosting platforms (Heroku, Render, Railway...) set.
ENVIRONMENT_VARIABLES = ("FRAISEQL_DATABASE_URL", "DATABASE_URL")


def resolve_database_url(
    cli_value: str | None, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The --database-url value, else FRAISEQL_DATABASE_URL, else DATABASE_URL, else None."""
    if cli_value:
        return cli_value
    for name in ENVIRONMENT_VARIABLES:
        # An empty variable counts as unset: `FOO= cmd` is how shells clear one.
        if environ.get(name):
            return environ[name]
    return None


def url_with_database(url: str, database: str) -> str:
    """The same libpq URL pointing at another database (host, user and query kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))
