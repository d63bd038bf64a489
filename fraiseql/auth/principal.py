"""Who is calling: the Principal every authenticator produces and everything after reads.

One middleware turns a request into a ``Principal`` (or refuses it); resolvers see it as
``info.context["principal"]``, the compiler's context parameters and the change log read
its fields, and SQL sees them as session variables (``fraiseql.user_id`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fraiseql.errors import ErrorCode, FraiseQLError


@dataclass(frozen=True)
class Principal:
    """An authenticated (or anonymous) caller."""

    subject: str  # the user's or service's stable id ("sub"); "" when anonymous
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    tenant_id: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)  # the validated token's claims
    actor_type: str = "user"  # "user" | "service" (API key, client credentials) | "anonymous"
    token_id: str | None = None  # jti, session id or API key id: what revocation names
    expires_at: float | None = None  # epoch seconds; None: does not expire
    provider: str | None = None  # the configured provider that authenticated it

    @property
    def is_authenticated(self) -> bool:
        return self.actor_type != "anonymous"


ANONYMOUS = Principal(subject="", actor_type="anonymous")


class AuthenticationError(FraiseQLError):
    """Credentials were presented and are not acceptable (HTTP 401, UNAUTHENTICATED).

    ``message`` is safe to show to the client: it says what is wrong ("the token has
    expired", "unknown API key") without echoing secrets.
    """

    def __init__(self, message: str, code: ErrorCode = ErrorCode.UNAUTHENTICATED) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class Authenticator(Protocol):
    """One way to authenticate a request (Bearer JWT, X-API-Key, session cookie, ...)."""

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The principal for these (lower-cased) request headers.

        None: the request carries no credentials of this kind (the next authenticator
        is asked). Raises AuthenticationError when it carries some that are invalid.
        """
        ...
