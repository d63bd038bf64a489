"""Dev tokens: ``fraiseql token --sub alice --role editor`` for ``fraiseql dev``.

HS256 JWTs signed with the project's dev secret, issuer and audience
``fraiseql-dev``. The secret is ``FRAISEQL_DEV_AUTH_SECRET``, else the one
``fraiseql dev`` (or the first ``fraiseql token``) generated in
``.fraiseql/dev-auth-secret``. An app accepts them when its settings carry that
secret (``fraiseql dev`` sets it); with ``FRAISEQL_ENV=production`` the app
refuses to boot instead (fraiseql/config.py).

Claims: ``sub``, ``roles`` (a list), ``scope`` (space-separated, as in OAuth),
``tenant_id``, ``iat``, ``exp``, ``jti``, ``iss``, ``aud``.
"""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fraiseql.auth.principal import AuthenticationError, Principal
from fraiseql.errors import ConfigurationError

DEV_ISSUER = DEV_AUDIENCE = "fraiseql-dev"
SECRET_ENV = "FRAISEQL_DEV_AUTH_SECRET"
SECRET_FILE = Path(".fraiseql") / "dev-auth-secret"
MIN_SECRET_LENGTH = 32  # HS256 wants a key at least as long as its 256-bit output
VALIDATED_CACHE_SIZE = 1024  # tokens whose signature was already checked (per process)
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in ``30m``, ``1h``, ``7d``, ``45s`` or ``3600``; ValueError otherwise."""
    match = _DURATION.match(text.lower())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 1h, 7d)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def dev_secret(project: Path, create: bool = True) -> str | None:
    """The dev secret: the environment's, else the project's file (created if asked)."""
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env
    path = project / SECRET_FILE
    if path.is_file():
        return path.read_text().strip()
    if not create:
        return None
    path.parent.mkdir(exist_ok=True)
    gitignore = path.parent / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n")  # never committed, whatever the project's .gitignore says
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


def make_dev_token(secret: str, subject: str, *, roles: Iterable[str] = (),
                   scopes: Iterable[str] = (), tenant_id: str | None = None,
                   expires_in: int = 3600, now: float | None = None) -> str:
    """A signed dev token for ``subject``."""
    import jwt
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": subject,
                              "iat": issued, "exp": issued + expires_in,
                              "jti": uuid.uuid4().hex, "roles": sorted(set(roles))}
    scope_list = sorted(set(scopes))
    if scope_list:
        claims["scope"] = " ".join(scope_list)
    if tenant_id is not None:
        claims["tenant_id"] = tenant_id
    return jwt.encode(claims, secret, algorithm="HS256")


class DevAuthenticator:
    """Accepts ``Authorization: Bearer <dev token>``; other issuers' tokens are not its own."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigurationError(f"the dev auth secret must be at least {MIN_SECRET_LENGTH} "
                                     "characters")
        self._secret = secret
        # token -> its principal: the same bytes verify the same way, so a token is checked
        # once (~100 µs of PyJWT) and then only its expiry. Only valid tokens are kept.
        self._validated: OrderedDict[str, Principal] = OrderedDict()

    def __repr__(self) -> str:
        return "DevAuthenticator(secret=***)"

    async def start(self) -> None:
        try:
            import jwt  # noqa: F401
        except ImportError:
            raise ConfigurationError("dev tokens need PyJWT: pip install 'fraiseql[auth]'") \
                from None

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        import jwt
        token = bearer_token(headers)
        if token is None:
            return None
        known = self._validated.get(token)
        if known is not None:
            if known.expires_at is not None and known.expires_at > time.time():
                return known
            del self._validated[token]  # expired: validated again below, which says so
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError:
            return None  # not a JWT: another authenticator's credential
        if issuer != DEV_ISSUER:
            return None
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"],
                                audience=DEV_AUDIENCE, issuer=DEV_ISSUER,
                                options={"require": ["exp", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("the token has expired") from None
        except jwt.InvalidTokenError:
            raise AuthenticationError("the token is not valid") from None
        principal = dev_principal(claims)
        self._validated[token] = principal
        if len(self._validated) > VALIDATED_CACHE_SIZE:
            self._validated.popitem(last=False)
        return principal


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def dev_principal(claims: Mapping[str, Any]) -> Principal:
    """The principal a validated dev token names."""
    roles = claims.get("roles") or []
    scope = claims.get("scope") or ""
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles) \
            or not isinstance(scope, str) or not isinstance(claims.get("sub"), str):
        raise AuthenticationError("the token's claims are malformed")
    tenant = claims.get("tenant_id")
    return Principal(subject=claims["sub"], roles=frozenset(roles),
                     scopes=frozenset(scope.split()), tenant_id=None if tenant is None
                     else str(tenant), claims=dict(claims), actor_type="user",
                     token_id=claims.get("jti"), expires_at=float(claims["exp"]),
                     provider="dev")
