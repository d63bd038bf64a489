"""Persisted queries (Apollo's APQ protocol) and trusted documents, before execution.

The HTTP layer calls :meth:`PersistedQueries.resolve` only when a request has
``extensions`` or a mode that checks every request is on (``apq_mode=required``,
``trusted_documents=strict``); it turns the request into plain GraphQL
parameters (the query text filled in from the hash) or refuses it. The engine
never sees a hash.

``extensions.persistedQuery = {"version": 1, "sha256Hash": HASH}``:

- hash only: the stored query runs; unknown -> ``PersistedQueryNotFound``
  (code ``PERSISTED_QUERY_NOT_FOUND``), and the client sends hash + query;
- hash + query: sha256(query) must equal the hash (else ``BAD_USER_INPUT``,
  nothing stored); a valid document is stored, then runs.

Modes (``apq_mode``): ``optional``; ``required`` (a request without a hash is
refused, ``BAD_USER_INPUT``); ``disabled`` (a hash is refused with the message
``PersistedQueryNotSupported``, which makes Apollo clients stop sending hashes).

``trusted_documents=strict``: only documents of ``fraiseql.trusted_documents``
run, sent as text or by hash; anything else is ``FORBIDDEN`` and nothing is
registered (hash lookups use the trusted set, not the APQ store).

Status codes: with ``application/json`` these refusals are 200, like every
GraphQL request error (Apollo clients read PersistedQueryNotFound from a 200).
With ``application/graphql-response+json`` a response without ``data`` must be
4xx: unknown hash 404 (as Apollo's router answers; Apollo Client 3 turns APQ off
on a 400), ``BAD_USER_INPUT`` 400, ``FORBIDDEN`` 403,
``SERVICE_UNAVAILABLE`` 503. A malformed extension (not an object, a hash that
is not 64 hex digits) is a malformed request: 400 whatever the media type.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from fraiseql.config import Settings
from fraiseql.errors import ConfigurationError, ErrorCode, RequestError
from fraiseql.execution.persisted_store import SHA256_HEX, create_store, sha256_hex
from fraiseql.execution.trusted_documents import TrustedDocuments
from fraiseql.http.protocol import GRAPHQL_RESPONSE, GraphQLParams, HttpError

logger = logging.getLogger("fraiseql")
NOT_FOUND = "PersistedQueryNotFound"
NOT_SUPPORTED = "PersistedQueryNotSupported"
MISMATCH = "provided sha does not match query"
UNTRUSTED = "only trusted documents are accepted"
REQUIRED = ("only persisted queries are accepted: send extensions.persistedQuery = "
            "{\"version\": 1, \"sha256Hash\": \"<sha256 of the query>\"}")
NOT_LOADED = "the trusted documents are not loaded yet (the database is unreachable)"

# application/graphql-response+json status of each refusal (application/json: 200).
_STATUS = {ErrorCode.PERSISTED_QUERY_NOT_FOUND: 404, ErrorCode.FORBIDDEN: 403,
           ErrorCode.SERVICE_UNAVAILABLE: 503, ErrorCode.TIMEOUT: 504,
           ErrorCode.INTERNAL_SERVER_ERROR: 500}


class PersistedQueryError(RequestError):
    """A request refused by the persisted-query or trusted-document rules."""


def refusal_status(error: RequestError, media_type: str) -> int:
    """The HTTP status of a request refused before execution, in ``media_type``."""
    return _STATUS.get(error.code, 400) if media_type == GRAPHQL_RESPONSE else 200


class PersistedQueries:
    """Resolves hashes to queries and enforces ``apq_mode`` and ``trusted_documents``."""

    def __init__(self, engine: Any, settings: Settings) -> None:
        self.engine = engine
        self.mode = settings.apq_mode
        self.strict = settings.trusted_documents == "strict"
        # True when a request without extensions must be looked at too.
        self.always = self.mode == "required" or self.strict
        self.store = create_store(engine, settings.apq_store, settings.apq_cache_size)
        self.trusted = (TrustedDocuments(settings.database_url, settings.connect_timeout_s)
                        if self.strict else None)

    async def startup(self, pool: Any) -> None:
        """Check the tables the settings need and load the trusted set (database permitting)."""
        check = getattr(self.store, "check", None)
        if check is not None:
            try:
                async with pool.acquire() as conn:
                    await check(conn)
            except ConfigurationError:
                raise
            except Exception as exc:  # noqa: BLE001 - database down: checked when it is back
                logger.warning("could not check the persisted-query table yet: %s", exc)
        if self.trusted is not None:
            await self.trusted.start(pool)

    async def shutdown(self) -> None:
        if self.trusted is not None:
            await self.trusted.stop()

    def ready(self) -> bool:
        """False while a strict server does not know its trusted documents yet."""
        return self.trusted is None or self.trusted.loaded

    async def resolve(self, params: GraphQLParams) -> GraphQLParams:
        """``params`` with the query to run, or PersistedQueryError / HttpError."""
        persisted = params.extensions.get("persistedQuery") if params.extensions else None
        if persisted is None:
            if self.mode == "required":
                raise PersistedQueryError(REQUIRED, ErrorCode.BAD_USER_INPUT)
            if self.strict and params.query not in self._trusted().by_query:
                raise PersistedQueryError(UNTRUSTED, ErrorCode.FORBIDDEN)
            return params
        if self.mode == "disabled":
            raise PersistedQueryError(NOT_SUPPORTED, ErrorCode.BAD_USER_INPUT)
        sha256 = _hash_of(persisted)
        if params.query:
            if sha256_hex(params.query) != sha256:
                raise PersistedQueryError(MISMATCH, ErrorCode.BAD_USER_INPUT)
            if self.strict:
                if sha256 not in self._trusted().by_hash:
                    raise PersistedQueryError(UNTRUSTED, ErrorCode.FORBIDDEN)
            elif self.engine.documents.get(params.query).document is not None:
                # Only documents that parse and validate are kept: the engine
                # reports the others, and the store is not filled with junk.
                await self.store.put(sha256, params.query)
            return params
        if self.strict:
            query = self._trusted().by_hash.get(sha256)
            if query is None:
                raise PersistedQueryError(UNTRUSTED, ErrorCode.FORBIDDEN)
        else:
            query = await self.store.get(sha256)
            if query is None:
                raise PersistedQueryError(NOT_FOUND, ErrorCode.PERSISTED_QUERY_NOT_FOUND)
        return dataclasses.replace(params, query=query)

    def _trusted(self) -> TrustedDocuments:
        assert self.trusted is not None
        if not self.trusted.loaded:
            raise PersistedQueryError(NOT_LOADED, ErrorCode.SERVICE_UNAVAILABLE)
        return self.trusted


def _hash_of(persisted: Any) -> str:
    """The checked sha256Hash of an ``extensions.persistedQuery`` value."""
    if not isinstance(persisted, dict):
        raise HttpError(400, "`extensions.persistedQuery` must be a JSON object.")
    version = persisted.get("version")
    if version != 1 or isinstance(version, bool):
        raise PersistedQueryError(
            f"unsupported persisted query version {version!r}: only version 1 is supported",
            ErrorCode.BAD_USER_INPUT)
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or SHA256_HEX.fullmatch(sha256.lower()) is None:
        raise HttpError(400, "`extensions.persistedQuery.sha256Hash` must be the 64 hex "
                             "digits of the SHA-256 of the query.")
    return sha256.lower()
