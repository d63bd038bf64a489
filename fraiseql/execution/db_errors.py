"""The one boundary where database failures become FraiseQL errors (SQLSTATE -> code)."""

from __future__ import annotations

from typing import Any

from fraiseql.errors import DatabaseError, ErrorCode

# SQLSTATE classes and codes a client may see, mapped to our closed set.
_BY_SQLSTATE: dict[str, tuple[ErrorCode, str]] = {
    "57014": (ErrorCode.TIMEOUT, "the statement took longer than the configured timeout"),
    "22P02": (ErrorCode.BAD_USER_INPUT, "a value is not valid for its type"),
    "22007": (ErrorCode.BAD_USER_INPUT, "a date or time value is not valid"),
    "22008": (ErrorCode.BAD_USER_INPUT, "a date or time value is out of range"),
    "22003": (ErrorCode.BAD_USER_INPUT, "a number is out of range"),
    "22021": (ErrorCode.BAD_USER_INPUT, "a string contains a character PostgreSQL cannot "
                                        "store (such as NUL)"),
    "2201B": (ErrorCode.BAD_USER_INPUT, "an invalid regular expression"),
    # jsonb cannot hold \u0000 (a JSON operand such as {"a": "\u0000"}).
    "22P05": (ErrorCode.BAD_USER_INPUT, ("a JSON value holds a character PostgreSQL cannot "
                                         "store (\\u0000)")),
    # Only a client's like/ilike pattern can end with the escape character.
    "22025": (ErrorCode.BAD_USER_INPUT, ("a LIKE pattern is not valid (it must not end with "
                                         "the escape character \\)")),
    "23505": (ErrorCode.CONFLICT, "a row with the same key already exists"),
    "23503": (ErrorCode.CONFLICT, "a referenced row does not exist or is still referenced"),
    "40001": (ErrorCode.CONFLICT, "a concurrent update conflicted; retry"),
    "40P01": (ErrorCode.CONFLICT, "a deadlock was detected; retry"),
    "42501": (ErrorCode.FORBIDDEN, "permission denied"),
    "53300": (ErrorCode.SERVICE_UNAVAILABLE, "the database has too many connections"),
    "57P01": (ErrorCode.SERVICE_UNAVAILABLE, "the database is shutting down"),
    "57P02": (ErrorCode.SERVICE_UNAVAILABLE, "the database is shutting down"),
    "57P03": (ErrorCode.SERVICE_UNAVAILABLE, "the database is starting up"),
}
_UNAVAILABLE_CLASSES = ("08",)  # connection exceptions

# Client values PostgreSQL parses with its own grammar (filter operands) report a bad
# value as a syntax error (42601) or a generic data exception (22000); only these
# messages are the client's input, any other such error is a bug in the SQL we wrote.
_VALUE_SYNTAX: tuple[tuple[str, str, str], ...] = (
    ("42601", "tsquery", "a full-text search query is not valid (to_tsquery syntax)"),
    ("42601", "ltxtquery", "an ltxtquery is not valid"),
    ("42601", "operand syntax error", "an ltxtquery is not valid"),
    ("42601", "lquery", "an lquery (ltree pattern) is not valid"),
    ("42601", "ltree", "an ltree path is not valid"),
    ("22000", "vector dimensions", "the vector's dimension differs from the stored vectors'"),
    ("22000", "dimensions, not", "the vector's dimension differs from the stored vectors'"),
    ("22000", "range lower bound must be less than or equal",
     "a range's lower bound is after its upper bound"),
)


def _value_syntax(sqlstate: Any, message: str, source: Any = None) -> str | None:
    for state, fragment, explanation in _VALUE_SYNTAX:
        if sqlstate == state and fragment in message:
            return explanation
    # ltxtquery's parser also reports a bare "syntax error"; told apart from one in our
    # SQL (which says "at or near") by the server source file that raised it.
    if sqlstate == "42601" and source == "ltxtquery_io.c":
        return "an ltxtquery is not valid"
    return None


def translate(exc: BaseException) -> DatabaseError | None:
    """The client-facing error for a database failure, or None if it is a bug."""
    sqlstate: Any = getattr(exc, "sqlstate", None)
    value_error = _value_syntax(sqlstate, str(exc), getattr(exc, "server_source_filename", None))
    if value_error is not None:
        error = DatabaseError(value_error, ErrorCode.BAD_USER_INPUT)
    elif sqlstate in _BY_SQLSTATE:
        code, message = _BY_SQLSTATE[sqlstate]
        error = DatabaseError(message, code)
    elif (isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_CLASSES)) or \
            _is_connection_failure(exc):
        error = DatabaseError("the database is unavailable", ErrorCode.SERVICE_UNAVAILABLE)
    else:
        return None
    error.__cause__ = exc
    return error


def _is_connection_failure(exc: BaseException) -> bool:
    import asyncio

    import asyncpg
    return isinstance(exc, (OSError, ConnectionError, asyncio.TimeoutError,
                            asyncpg.exceptions.ConnectionDoesNotExistError,
                            asyncpg.exceptions.InterfaceError,
                            asyncpg.exceptions.CannotConnectNowError))


# How a database error raised inside a mutation function maps onto an error class.
# 42501: a privilege or a row-level security policy refused the caller (auth, not a bug).
_MUTATION_CLASSES = {"23505": "conflict", "23503": "validation", "23514": "validation",
                     "23502": "validation", "57014": "timeout", "42501": "forbidden"}


def mutation_error_class(exc: BaseException) -> str | None:
    """The error class for a failure inside a mutation function, or None (a bug: mask it)."""
    sqlstate = getattr(exc, "sqlstate", None)
    if not isinstance(sqlstate, str):
        return None
    if sqlstate in _MUTATION_CLASSES:
        return _MUTATION_CLASSES[sqlstate]
    return "validation" if sqlstate.startswith("22") else None
