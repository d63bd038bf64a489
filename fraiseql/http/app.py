"""The ASGI application: routes, body limits, and the response bytes.

Pure ASGI, no framework: the hot path reads the body, hands it to the engine
and writes the engine's bytes. Routes: POST/GET /graphql, GraphiQL and its
assets, /health (liveness) and /ready (database reachable).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from graphql import OperationDefinitionNode, OperationType, parse

from fraiseql.auth.middleware import Auth, challenge, principal_context
from fraiseql.auth.principal import ANONYMOUS, AuthenticationError
from fraiseql.authz.authorization import Authorization, TenantRefused
from fraiseql.config import Settings
from fraiseql.errors import DatabaseSetupError, ErrorCode, RequestError
from fraiseql.execution.engine import Engine
from fraiseql.http.persisted import PersistedQueries, refusal_status
from fraiseql.http.protocol import (
    GRAPHQL_RESPONSE,
    GraphQLParams,
    HttpError,
    choose_media_type,
    error_body,
    params_from_body,
    params_from_query_string,
)
from fraiseql.schema.model import Schema

if TYPE_CHECKING:
    from fraiseql.auth.login import LoginFlow

logger = logging.getLogger("fraiseql")
GRAPHQL_PATH = "/graphql"
STATIC_PREFIX = "/graphql/static/"
JSON_TYPES = (b"application/json",)


class FraiseQLApp:
    """An ASGI app serving one schema."""

    def __init__(self, schema: Schema, settings: Settings, auth: Auth | None = None,
                 login: LoginFlow | None = None, authz: Authorization | None = None) -> None:
        self.schema, self.settings = schema, settings
        self.login = login  # the browser login routes under /auth/ (fraiseql/auth/login.py)
        # None: every request is anonymous. Without auth=, the FRAISEQL_AUTH_* settings may
        # configure one (fraiseql/auth/settings.py).
        auth = _auth_from_settings(auth, settings, self)
        if login is not None:
            auth = _with_login_auth(auth, login)
        self.auth = _with_dev_auth(auth, settings)
        self.engine = Engine(schema, settings)
        # Roles store, tenant header, audit (fraiseql/authz/authorization.py); the schema's
        # requires*/tenant_column declarations apply with or without it.
        self.authz = authz
        if authz is not None and authz.audit:
            from fraiseql.authz.trail import AuditTrail
            self.engine.audit = AuditTrail()
        self.persisted = PersistedQueries(self.engine, settings)
        self.started = False

    # --- lifecycle --------------------------------------------------------------------

    async def startup(self) -> None:
        """Open the pool and learn the views (tolerating a database that is down)."""
        from fraiseql.execution.pool import create_pool
        if self.auth is not None:
            # boot checks: auth that cannot work fails the boot
            await self.auth.start(self.settings.database_url)
        if self.login is not None:
            await self.login.start()
        if self.authz is not None:
            await self.authz.start(self.settings.database_url)
        self.engine.pool = await create_pool(self.settings)
        try:
            await self.persisted.startup(self.engine.pool)
            if self.engine.result_cache is not None:
                await self.engine.result_cache.start(self.engine.pool)
        except BaseException:
            await self.shutdown()  # a setting that cannot be enforced: nothing left open
            raise
        try:
            await self._ensure_sources()
        except DatabaseSetupError:
            await self.shutdown()
            raise
        self.started = True

    async def shutdown(self) -> None:
        """Close the pool after in-flight requests (the server drains them first)."""
        await self.persisted.shutdown()
        if self.auth is not None:
            await self.auth.stop()
        if self.login is not None:
            await self.login.stop()
        if self.authz is not None:
            await self.authz.stop()
        if self.engine.result_cache is not None:
            await self.engine.result_cache.stop()
        if self.engine.pool is not None:
            await self.engine.pool.close()
            self.engine.pool = None
        self.started = False

    async def _ensure_sources(self) -> bool:
        if self.engine.sources is not None:
            return True
        try:
            async with self.engine.pool.acquire() as conn:
                await self.engine.load_sources(conn)
            return True
        except DatabaseSetupError:  # the database lacks what the schema needs: do not boot
            raise
        except Exception as exc:  # noqa: BLE001 - database down: retried on next request
            logger.warning("could not read the views' columns yet: %s", exc)
            return False

    # --- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:  # noqa: BLE001 - reported to the server
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path, method = scope["path"], scope["method"]
        try:
            if path == GRAPHQL_PATH:
                await self._graphql(scope, receive, send, method)
            elif path.startswith(STATIC_PREFIX) and method in ("GET", "HEAD"):
                await self._static(path[len(STATIC_PREFIX):], send)
            elif self.login is not None and path.startswith("/auth/"):
                await self._login(scope, path, method, send)
            elif path == "/health":
                await respond(send, 200, b'{"status":"ok"}')
            elif path == "/ready":
                ready = await self.ready()
                await respond(send, 200 if ready else 503,
                              b'{"status":"ready"}' if ready else b'{"status":"unavailable"}')
            else:
                await respond(send, 404, error_body("Not found.", "NOT_FOUND"))
        except HttpError as exc:
            await respond(send, exc.status, error_body(exc.message, exc.code), headers=exc.headers)
        except Exception as exc:  # noqa: BLE001 - masked for the client, logged with an id
            error_id = uuid.uuid4().hex
            logger.error("unexpected error %s", error_id, exc_info=exc)
            await respond(send, 500, error_body(f"Internal server error (id {error_id}).",
                                                ErrorCode.INTERNAL_SERVER_ERROR.value))

    async def _login(self, scope: dict[str, Any], path: str, method: str, send: Any) -> None:
        assert self.login is not None
        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in scope["headers"]}
        response = await self.login.handle(method, path, scope.get("query_string", b""),
                                           headers)
        await respond(send, response.status, response.body, response.content_type,
                      response.headers)

    async def ready(self) -> bool:
        """True when a database round trip succeeds within a second."""
        if self.engine.pool is None:
            return False
        try:
            async with asyncio.timeout(1.0):
                async with self.engine.pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
            return await self._ensure_sources() and self.persisted.ready()
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False

    # --- GraphQL ----------------------------------------------------------------------

    async def _graphql(self, scope: dict[str, Any], receive: Any, send: Any, method: str) -> None:
        headers = dict(scope["headers"])
        accept = headers.get(b"accept", b"").decode("latin-1")
        if method == "GET":
            query_string = scope.get("query_string", b"")
            if self.settings.graphiql and b"query=" not in query_string \
                    and b"extensions=" not in query_string and _wants_html(accept):
                await self._graphiql(send)
                return
            context = await self._authenticate(headers)
            params = params_from_query_string(query_string)
        elif method == "POST":
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if content_type not in JSON_TYPES:
                raise HttpError(415, "Send the request as Content-Type: application/json.",
                                code="BAD_USER_INPUT")
            context = await self._authenticate(headers)  # before reading the body
            params = params_from_body(await self._read_body(headers, receive))
        else:
            raise HttpError(405, "Use GET or POST.", [(b"allow", b"GET, POST")])
        if params.extensions or self.persisted.always:
            try:
                params = await self.persisted.resolve(params)
            except RequestError as exc:
                media_type = _media_type(accept)
                await respond(send, refusal_status(exc, media_type),
                              error_body(exc.message, exc.code.value),
                              media_type.encode() + b"; charset=utf-8")
                return
        if method == "GET":
            _refuse_mutation_over_get(params)
        await self._execute(params, _media_type(accept), send, context)

    async def _authenticate(self, headers: dict[bytes, bytes]) -> dict[str, Any]:
        """The request context of the caller; 401 when its credentials are refused,
        403 when it names a tenant it may not act for."""
        if self.auth is None and self.authz is None:
            return principal_context(ANONYMOUS)
        text_headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                        for name, value in headers.items()}
        try:
            principal = ANONYMOUS if self.auth is None else \
                await self.auth.authenticate(text_headers)
            if self.authz is None:
                assert self.auth is not None
                return self.auth.context(principal)
            return await self._authorize(principal, text_headers)
        except AuthenticationError as exc:  # the message never contains the credential
            if exc.code is ErrorCode.SERVICE_UNAVAILABLE:  # the identity provider is down
                raise HttpError(503, exc.message, [(b"retry-after", b"5")],
                                code=exc.code.value) from None
            raise HttpError(401, exc.message, challenge(exc), code=exc.code.value) from None

    async def _authorize(self, principal: Any, headers: dict[str, str]) -> dict[str, Any]:
        """The context of an authorized caller: acting tenant, access, trace id."""
        assert self.authz is not None
        trace_id = trace_id_of(headers)
        try:
            principal, access = await self.authz.resolve(principal, headers)
        except RequestError as exc:  # the role store's database is down: retry soon
            if exc.code is not ErrorCode.SERVICE_UNAVAILABLE:
                raise
            raise HttpError(503, exc.message, [(b"retry-after", b"5")],
                            code=exc.code.value) from None
        except TenantRefused as exc:
            if self.engine.audit is not None:
                context = {**principal_context(principal), "trace_id": trace_id}
                await self.engine.audit.write(
                    self.engine.pool, context, operation="X-Tenant-ID", kind="denied",
                    outcome="denied", detail={"error": exc.message, "code": "FORBIDDEN"})
            raise HttpError(403, exc.message, code=exc.code.value) from None
        context = self.auth.context(principal) if self.auth is not None \
            else principal_context(principal)
        context["access"], context["trace_id"] = access, trace_id
        return context

    async def _execute(self, params: GraphQLParams, media_type: str, send: Any,
                       context: dict[str, Any] | None = None) -> None:
        if self.engine.sources is None:
            await self._ensure_sources()
        outcome = await self.engine.run(params.query, params.variables, params.operation_name,
                                        context)
        status = 400 if outcome.request_error and media_type == GRAPHQL_RESPONSE else 200
        content_type = media_type.encode() + b"; charset=utf-8"
        if outcome.stream is not None:
            await stream_response(send, status, outcome.stream, content_type)
            return
        await respond(send, status, outcome.body, content_type)

    async def _read_body(self, headers: dict[bytes, bytes], receive: Any) -> bytes:
        limit = self.settings.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HttpError(413, f"The request body is larger than {limit} bytes.")
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise HttpError(413, f"The request body is larger than {limit} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _graphiql(self, send: Any) -> None:
        from fraiseql.http.graphiql import graphiql_html
        page = graphiql_html(GRAPHQL_PATH, STATIC_PREFIX)
        await respond(send, 200, page, b"text/html; charset=utf-8",
                      [(b"cache-control", b"no-cache")])

    async def _static(self, name: str, send: Any) -> None:
        from fraiseql.http.graphiql import static_file
        found = static_file(name) if "/" not in name else None
        if found is None:
            await respond(send, 404, error_body("Not found.", "NOT_FOUND"))
            return
        content, content_type = found
        await respond(send, 200, content, content_type.encode(),
                      [(b"cache-control", b"public, max-age=31536000, immutable")])


def trace_id_of(headers: dict[str, str]) -> str:
    """The W3C ``traceparent`` header's trace id, or a new one (what the audit log keeps)."""
    parts = headers.get("traceparent", "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32 and parts[1] != "0" * 32 \
            and all(c in "0123456789abcdef" for c in parts[1]):
        return parts[1]
    return uuid.uuid4().hex


def _auth_from_settings(auth: Auth | None, settings: Settings, app: Any) -> Auth | None:
    from fraiseql.auth.settings import auth_from_settings
    return auth_from_settings(settings, explicit=auth, pool=lambda: app.engine.pool)


def _with_dev_auth(auth: Auth | None, settings: Settings) -> Auth | None:
    """``auth`` with the dev-token authenticator first when the settings carry a dev secret.

    Settings refuse a dev secret together with env=production, so this never runs there.
    """
    if not settings.dev_auth_secret:
        return auth
    from fraiseql.auth.dev import DevAuthenticator
    return (auth or Auth()).with_first(DevAuthenticator(settings.dev_auth_secret))


def _with_login_auth(auth: Auth | None, login: LoginFlow) -> Auth:
    """``auth`` accepting the login's session access tokens (asked first: a cheap ``iss`` check)."""
    from fraiseql.auth.sessions import SessionAuthenticator
    if auth is None:
        return Auth([login.authenticator()])
    if any(isinstance(a, SessionAuthenticator) for a in auth.authenticators):
        return auth
    return auth.with_first(login.authenticator())


def _media_type(accept: str) -> str:
    media_type = choose_media_type(accept)
    if media_type is None:
        raise HttpError(406, "Accept application/graphql-response+json or application/json.")
    return media_type


def _wants_html(accept: str) -> bool:
    return "text/html" in accept


def _refuse_mutation_over_get(params: GraphQLParams) -> None:
    """A mutation over GET is refused with 405 before any validation."""
    try:
        document = parse(params.query)
    except Exception:  # noqa: BLE001 - the engine reports parse errors properly
        return
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if params.operation_name is None
              or (o.name is not None and o.name.value == params.operation_name)]
    if any(o.operation != OperationType.QUERY for o in chosen):
        raise HttpError(405, "Mutations and subscriptions are only accepted over POST.",
                        [(b"allow", b"POST")])


async def respond(send: Any, status: int, body: bytes,
                  content_type: bytes = b"application/json; charset=utf-8",
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send one complete HTTP response."""
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
        *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


async def stream_response(send: Any, status: int, chunks: Any, content_type: bytes) -> None:
    """Send a response body as it is produced (chunked transfer encoding)."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type)]})
    async for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
