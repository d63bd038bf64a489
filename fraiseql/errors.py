"""Every exception FraiseQL raises.

    FraiseQLError
    ├── DefinitionError            a schema declaration is wrong (import/startup time)
    │   └── SchemaBuildError       every DefinitionError found by build_schema, at once
    ├── ConfigurationError         a setting is unknown, malformed or cannot be enforced
    ├── DatabaseSetupError         the CLI could not prepare a database (embedded, migrations)
    └── RequestError               one request failed; carries a code from ErrorCode
        ├── GraphQLRequestError    parse / validation / bad user input
        └── DatabaseError          translated from PostgreSQL at one boundary (db_errors.py)

Request errors reach the client as GraphQL errors whose ``extensions.code`` is
one of :class:`ErrorCode`; anything else is masked and logged with an error id.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class ErrorCode(str, Enum):
    """The closed set of ``extensions.code`` values a client can see."""

    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    TENANT_REQUIRED = "TENANT_REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    TIMEOUT = "TIMEOUT"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # Error classes of a mutation without an error member, in upper case (the
    # other classes, NOT_FOUND, CONFLICT, FORBIDDEN and TIMEOUT, are above).
    VALIDATION = "VALIDATION"
    UNAUTHORIZED = "UNAUTHORIZED"
    FAILED = "FAILED"


class FraiseQLError(Exception):
    """Root of every FraiseQL exception."""


@dataclass
class SourceLocation:
    """Where in the user's code a declaration lives."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class DefinitionError(FraiseQLError):
    """A declaration is wrong; says where and how to fix it."""

    def __init__(self, message: str, *, where: SourceLocation | None = None, fix: str = "") -> None:
        self.message = message
        self.where = where
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}\n    fix: {self.fix}" if self.fix else text


class SchemaBuildError(DefinitionError):
    """Several definition errors, collected in one pass by build_schema."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        lines = [f"{len(errors)} schema definition error(s):"]
        lines += [f"  - {e}".replace("\n", "\n    ") for e in errors]
        super().__init__("\n".join(lines))

    def __str__(self) -> str:
        return self.message


class ConfigurationError(FraiseQLError):
    """A setting is unknown, malformed, or cannot be enforced."""


class DatabaseSetupError(FraiseQLError):
    """The database could not be prepared (embedded server, install, migrations)."""


class RequestError(FraiseQLError):
    """A request-level failure with a stable code, shown to the client."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(
        self,
        message: str,
        code: ErrorCode | None = None,
        *,
        path: list[str | int] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.path = path
        self.extensions = extensions or {}


class GraphQLRequestError(RequestError):
    """A parse, validation or input-coercion failure."""


class DatabaseError(RequestError):
    """A PostgreSQL failure translated to a client-facing code."""
