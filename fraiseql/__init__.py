"""FraiseQL: database-first GraphQL for PostgreSQL.

Declare types bound to views, build a schema, serve it: each GraphQL root field
becomes one SQL statement whose JSON PostgreSQL builds and FraiseQL passes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fraiseql.config import Settings
from fraiseql.errors import (
    DefinitionError,
    ErrorCode,
    FraiseQLError,
    RequestError,
    SchemaBuildError,
)
from fraiseql.schema.builder import build_schema
from fraiseql.schema.decorators import (
    enum,
    error,
    input,
    interface,
    mutation,
    query,
    success,
    type,
)
from fraiseql.schema.definitions import UNSET
from fraiseql.schema.definitions import field_options as field
from fraiseql.schema.facts import dimension, fact, measure, time_dimension
from fraiseql.schema.scalars import (
    CIDR,
    ID,
    JSON,
    DateRange,
    IPAddress,
    LTree,
    MacAddress,
    TSVector,
    Vector,
)

if TYPE_CHECKING:
    from fraiseql.auth.login import LoginFlow
    from fraiseql.auth.middleware import Auth
    from fraiseql.authz.authorization import Authorization
    from fraiseql.http.app import FraiseQLApp

__version__ = "0.1.0"


def create_app(schema: Any, settings: Settings | None = None, *, auth: Auth | None = None,
               login: LoginFlow | None = None, authz: Authorization | None = None,
               **overrides: Any) -> FraiseQLApp:
    """The ASGI app serving ``schema``; settings from the environment unless given.

    ``auth=fraiseql.auth.Auth([...authenticators])`` authenticates each GraphQL request
    (fraiseql/auth/middleware.py); without it every request is anonymous.
    ``login=fraiseql.auth.login.LoginFlow(...)`` serves the browser login routes under
    /auth/ and accepts their session access tokens (fraiseql/auth/login.py).
    ``authz=fraiseql.authz.authorization.Authorization(roles=True, audit=True)`` adds the
    role store, the X-Tenant-ID header and the audit log (docs/authorization.md).
    """
    from fraiseql.http.app import FraiseQLApp
    return FraiseQLApp(schema, settings or Settings.from_env(**overrides), auth, login, authz)


__all__ = [
    "CIDR", "ID", "JSON", "UNSET", "DateRange", "IPAddress", "LTree", "MacAddress", "TSVector",
    "Vector", "DefinitionError", "ErrorCode", "FraiseQLError", "RequestError",
    "SchemaBuildError", "Settings", "build_schema", "create_app", "dimension", "enum", "error",
    "fact", "field", "input", "interface", "measure", "mutation", "query", "success",
    "time_dimension", "type",
]
