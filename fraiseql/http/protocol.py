"""GraphQL over HTTP: read a request into (query, variables, operationName), choose
the response media type, and decide the status code, as the spec says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class HttpError(Exception):
    """A request that is not a well-formed GraphQL-over-HTTP request."""

    def __init__(self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None,
                 code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.code = status, message, headers or [], code


@dataclass(frozen=True)
class GraphQLParams:
    """The parameters of one GraphQL request."""

    query: str  # "" when only a persisted-query hash was sent (fraiseql.http.persisted)
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None = None


def choose_media_type(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None if none is acceptable."""
    if not accept:
        return JSON
    types = {}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        types[media.strip().lower()] = quality
    if types.get(GRAPHQL_RESPONSE, 0) > 0:
        return GRAPHQL_RESPONSE
    if any(types.get(t, 0) > 0 for t in (JSON, "application/*", "*/*")):
        return JSON
    return None


def params_from_body(body: bytes) -> GraphQLParams:
    """Parse and check a POST body."""
    if not body:
        raise HttpError(400, "The request body is empty; send a JSON object with a query.")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HttpError(400, "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise HttpError(400, "The request body must be a JSON object.")
    return _check_params(payload)


def params_from_query_string(query_string: bytes) -> GraphQLParams:
    """Parse and check GET parameters (variables and extensions are JSON-encoded)."""
    raw = {k: v[0] for k, v in parse_qs(query_string.decode("latin-1"),
                                         keep_blank_values=True).items()}
    payload: dict[str, Any] = dict(raw)
    for name in ("variables", "extensions"):
        if raw.get(name):
            try:
                payload[name] = orjson.loads(raw[name])
            except orjson.JSONDecodeError:
                raise HttpError(400, f"The {name} parameter is not valid JSON.") from None
        else:
            payload.pop(name, None)
    return _check_params(payload)


def _check_params(payload: dict[str, Any]) -> GraphQLParams:
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        extensions = payload.get("extensions")
        if query not in (None, "") or not isinstance(extensions, dict) \
                or "persistedQuery" not in extensions:
            raise HttpError(400, "The request must have a non-empty string `query`.")
        query = ""  # a hash-only persisted query: resolved before execution
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HttpError(400, "`variables` must be a JSON object.")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HttpError(400, "`operationName` must be a string.")
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise HttpError(400, "`extensions` must be a JSON object.")
    return GraphQLParams(query, variables, operation_name or None, extensions)


def error_body(message: str, code: str) -> bytes:
    """A GraphQL-shaped body for a request rejected before execution."""
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
