"""Identity provider presets and the Bearer authenticator.

    auth = BearerAuthenticator([
        keycloak("https://sso.example.com", realm="main", audience="api", client_id="api"),
        azure_ad(tenant="6e0c...", audience="api://my-api"),
        github(org="my-org"),
    ])
    await auth.start()                                 # discovery + JWKS of every OIDC provider
    principal = await auth.authenticate(headers)       # the Authenticator protocol

Each preset knows its issuer's form and how its claims map onto the Principal (roles,
scopes, tenant). A JWT is routed by its (unverified) ``iss`` to the one provider of that
issuer, which then validates it fully; a Bearer token that is not a JWT goes to GitHub
when GitHub is configured (its OAuth tokens are opaque).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx

from fraiseql.auth.jwt import Claims, JWTValidator, PublicKey, unverified_segment
from fraiseql.auth.oidc import OIDCProvider, require_secure_url
from fraiseql.auth.principal import AuthenticationError, Authenticator, Principal
from fraiseql.errors import ConfigurationError, ErrorCode

# A claim by name ("roles", "https://example.com/roles") or a path into nested objects
# (("realm_access", "roles")). A name is never split on dots: namespaced claims are URLs.
ClaimPath: TypeAlias = str | tuple[str, ...]

DEFAULT_ALGORITHMS = ("RS256",)


@dataclass(frozen=True)
class ClaimMapping:
    """Which claims hold the roles, the scopes and the tenant.

    A claim's value may be a list of strings or one space-separated string ("read write").
    """

    roles: tuple[ClaimPath, ...] = ("roles",)
    scopes: tuple[ClaimPath, ...] = ("scope", "scp")
    tenant: ClaimPath | None = None


def claim_at(claims: Mapping[str, Any], path: ClaimPath) -> Any:
    value: Any = claims
    for name in (path,) if isinstance(path, str) else path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return []


def is_service_token(claims: Mapping[str, Any]) -> bool:
    """A machine's token (client credentials grant) rather than a user's."""
    if claims.get("gty") == "client-credentials":  # Auth0
        return True
    if claims.get("idtyp") == "app":  # Azure AD (optional claim)
        return True
    username = claims.get("preferred_username")
    if isinstance(username, str) and username.startswith("service-account-"):  # Keycloak
        return True
    sub = claims.get("sub")
    if not sub:
        return True
    # RFC 9068 / oidc-provider / Okta: a client credentials token's subject is the client.
    return sub in (claims.get("client_id"), claims.get("azp"), claims.get("appid"))


def principal_from_claims(provider: str, claims: Claims, mapping: ClaimMapping) -> Principal:
    roles = {role for path in mapping.roles for role in _strings(claim_at(claims, path))}
    scopes = {scope for path in mapping.scopes for scope in _strings(claim_at(claims, path))}
    tenant = claim_at(claims, mapping.tenant) if mapping.tenant is not None else None
    subject = claims.get("sub") or claims.get("client_id") or claims.get("azp") or ""
    exp, jti = claims.get("exp"), claims.get("jti")
    return Principal(
        subject=str(subject),
        roles=frozenset(roles),
        scopes=frozenset(scopes),
        tenant_id=str(tenant) if isinstance(tenant, str | int) and tenant != "" else None,
        claims=claims,
        actor_type="service" if is_service_token(claims) else "user",
        token_id=jti if isinstance(jti, str) else None,
        expires_at=float(exp) if isinstance(exp, int | float) else None,
        provider=provider,
    )


@dataclass
class JWTProvider:
    """One trusted JWT issuer: its validator, its claim mapping, its OIDC discovery if any."""

    name: str
    issuers: tuple[str, ...]  # the `iss` values routed here (Google has two forms)
    validator: JWTValidator
    mapping: ClaimMapping = field(default_factory=ClaimMapping)
    oidc: OIDCProvider | None = None
    # Extra acceptance rule after validation (e.g. Google's hosted domain); raises to refuse.
    check: Callable[[Claims], None] | None = None

    async def start(self) -> None:
        if self.oidc is not None:
            await self.oidc.start()

    async def aclose(self) -> None:
        if self.oidc is not None:
            await self.oidc.aclose()

    async def authenticate_token(self, token: str) -> Principal:
        claims = await self.validator.validate(token)
        if self.check is not None:
            self.check(claims)
        return principal_from_claims(self.name, claims, self.mapping)


# --- presets ---------------------------------------------------------------------------


def oidc(
    issuer: str,
    *,
    audience: str | Collection[str] | None,
    name: str = "oidc",
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
    mapping: ClaimMapping = ClaimMapping(),
    leeway_s: float = 30,
    jwks_ttl_s: float = 600,
    refresh_interval_s: float = 30,
    accepted_issuers: Sequence[str] = (),
) -> JWTProvider:
    """Any OpenID Connect issuer: discovery + JWKS, claims mapped by ``mapping``."""
    provider = OIDCProvider(
        issuer, jwks_ttl_s=jwks_ttl_s, refresh_interval_s=refresh_interval_s
    )
    issuers = (issuer, *accepted_issuers)
    validator = JWTValidator(
        issuer=issuers, audience=audience, algorithms=algorithms, keys=provider,
        leeway_s=leeway_s,
    )
    return JWTProvider(name, issuers, validator, mapping, provider)


def static_jwt(
    issuer: str,
    *,
    audience: str | Collection[str] | None,
    key: str | bytes | PublicKey,
    algorithms: Sequence[str],
    name: str = "jwt",
    mapping: ClaimMapping = ClaimMapping(),
    leeway_s: float = 30,
) -> JWTProvider:
    """A JWT issuer with a configured key (HMAC secret or PEM public key), no discovery."""
    validator = JWTValidator(
        issuer=issuer, audience=audience, algorithms=algorithms, keys=key, leeway_s=leeway_s
    )
    return JWTProvider(name, (issuer,), validator, mapping)


def auth0(
    domain: str,
    *,
    audience: str | Collection[str],
    roles_claim: str | None = None,
    tenant_claim: ClaimPath | None = "org_id",
    name: str = "auth0",
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
) -> JWTProvider:
    """Auth0: issuer ``https://{domain}/`` (trailing slash); roles from a namespaced claim
    (an Auth0 Action adds e.g. ``https://example.com/roles``), scopes from ``scope`` and the
    RBAC ``permissions``, tenant from ``org_id`` (Auth0 Organizations) by default.
    ``domain`` may be a full URL (a custom domain, a local test server)."""
    base = domain if "://" in domain else f"https://{domain}"
    mapping = ClaimMapping(
        roles=(roles_claim,) if roles_claim else (),
        scopes=("scope", "permissions"),
        tenant=tenant_claim,
    )
    return oidc(
        base.rstrip("/") + "/", audience=audience, name=name, algorithms=algorithms,
        mapping=mapping,
    )


GOOGLE_ISSUER = "https://accounts.google.com"


def google(
    client_id: str,
    *,
    hosted_domain_as_tenant: bool = False,
    allowed_domains: Collection[str] = (),
    name: str = "google",
    issuer: str = GOOGLE_ISSUER,
) -> JWTProvider:
    """Google ID tokens: audience = your OAuth client id; Google signs them with RS256 and
    writes ``iss`` with or without ``https://``. ``hd`` (the Workspace domain) can be the
    tenant, and ``allowed_domains`` refuses users of any other domain."""
    bare = issuer.removeprefix("https://")
    provider = oidc(
        issuer, audience=client_id, name=name, algorithms=("RS256",),
        mapping=ClaimMapping(roles=(), scopes=(), tenant="hd" if hosted_domain_as_tenant else None),
        accepted_issuers=(bare,) if bare != issuer else (),
    )
    domains = frozenset(allowed_domains)

    def check(claims: Claims) -> None:
        if domains and claims.get("hd") not in domains:
            raise AuthenticationError("the Google account's domain is not accepted")

    provider.check = check
    return provider


def keycloak(
    base_url: str,
    *,
    realm: str,
    audience: str | Collection[str] | None,
    client_id: str | None = None,
    tenant_claim: ClaimPath | None = None,
    name: str = "keycloak",
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
) -> JWTProvider:
    """Keycloak: issuer ``{base_url}/realms/{realm}``; roles = ``realm_access.roles`` plus
    ``resource_access.{client_id}.roles`` (the client's roles, when client_id is given)."""
    roles: tuple[ClaimPath, ...] = (("realm_access", "roles"),)
    if client_id:
        roles += (("resource_access", client_id, "roles"),)
    return oidc(
        f"{base_url.rstrip('/')}/realms/{realm}", audience=audience, name=name,
        algorithms=algorithms,
        mapping=ClaimMapping(roles=roles, scopes=("scope",), tenant=tenant_claim),
    )


def azure_ad(
    tenant: str,
    *,
    audience: str | Collection[str],
    groups_as_roles: bool = True,
    authority: str = "https://login.microsoftonline.com",
    name: str = "azure",
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
) -> JWTProvider:
    """Azure AD / Entra ID v2: issuer ``{authority}/{tenant}/v2.0``; roles from ``roles``
    (app roles) and ``groups`` (object ids), scopes from ``scp``, tenant from ``tid``."""
    roles: tuple[ClaimPath, ...] = ("roles", "groups") if groups_as_roles else ("roles",)
    return oidc(
        f"{authority.rstrip('/')}/{tenant}/v2.0", audience=audience, name=name,
        algorithms=algorithms, mapping=ClaimMapping(roles=roles, scopes=("scp",), tenant="tid"),
    )


# --- GitHub (OAuth, not OIDC) -----------------------------------------------------------


@dataclass
class _GitHubEntry:
    until: float  # monotonic
    principal: Principal | None  # None: GitHub refused the token
    message: str = ""


class GitHubProvider:
    """A GitHub OAuth access token: ``GET {api}/user`` and its teams (``GET {api}/user/teams``,
    filtered to ``org`` when given: ``orgs/{org}/teams`` would list every team of the org,
    not the user's). Roles = ``org/team-slug``, tenant = org; answers are cached by the
    token's SHA-256 for ``cache_ttl_s`` (refusals too, so garbage tokens cost one call)."""

    name: str

    def __init__(
        self,
        *,
        api_url: str = "https://api.github.com",
        org: str | None = None,
        name: str = "github",
        cache_ttl_s: float = 300,
        cache_size: int = 10_000,
        timeout_s: float = 5.0,
        max_pages: int = 10,
    ) -> None:
        require_secure_url(api_url, "GitHub API URL")
        self.api_url, self.org, self.name = api_url.rstrip("/"), org, name
        self.cache_ttl_s, self._cache_size, self.max_pages = cache_ttl_s, cache_size, max_pages
        self._timeout = httpx.Timeout(timeout_s)
        self._client: httpx.AsyncClient | None = None
        self._cache: OrderedDict[bytes, _GitHubEntry] = OrderedDict()
        self.request_count = 0

    async def start(self) -> None:
        """Nothing to load: GitHub is asked per (uncached) token."""

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def authenticate_token(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        entry = self._cache.get(digest)
        if entry is not None and entry.until > now:
            self._cache.move_to_end(digest)
            if entry.principal is None:
                raise AuthenticationError(entry.message)
            return entry.principal
        try:
            principal = await self._ask_github(token, digest.hex())
        except AuthenticationError as exc:
            if exc.code == ErrorCode.UNAUTHENTICATED:
                self._remember(digest, _GitHubEntry(now + self.cache_ttl_s, None, exc.message))
            raise
        self._remember(digest, _GitHubEntry(now + self.cache_ttl_s, principal))
        return principal

    def _remember(self, digest: bytes, entry: _GitHubEntry) -> None:
        self._cache[digest] = entry
        self._cache.move_to_end(digest)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _ask_github(self, token: str, token_hash: str) -> Principal:
        user_rsp = await self._get(token, f"{self.api_url}/user")
        user = user_rsp.json()
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise AuthenticationError(
                "GitHub answered an unexpected user", ErrorCode.SERVICE_UNAVAILABLE
            )
        teams = await self._get_all(token, f"{self.api_url}/user/teams")
        if self.org is not None:
            teams = [t for t in teams if _team_org(t) == self.org.lower()]
            orgs = await self._get_all(token, f"{self.api_url}/user/orgs")
            logins = {o.get("login", "").lower() for o in orgs if isinstance(o, dict)}
            if self.org.lower() not in logins and not teams:
                raise AuthenticationError(f"the GitHub user is not a member of {self.org}")
        roles = {
            f"{t['organization']['login']}/{t['slug']}" for t in teams
            if _team_org(t) and isinstance(t.get("slug"), str)
        }
        # Classic OAuth tokens list their scopes in this header; fine-grained tokens do not.
        scopes = [s.strip() for s in user_rsp.headers.get("x-oauth-scopes", "").split(",")]
        claims = {k: user.get(k) for k in ("id", "login", "name", "email", "type")}
        return Principal(
            subject=str(user["id"]),
            roles=frozenset(roles),
            scopes=frozenset(s for s in scopes if s),
            tenant_id=self.org,
            claims=claims,
            actor_type="service" if user.get("type") == "Bot" else "user",
            token_id=token_hash,  # what a revocation list names: never the token itself
            expires_at=None,
            provider=self.name,
        )

    async def _get(self, token: str, url: str) -> httpx.Response:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        self.request_count += 1
        try:
            rsp = await self._client.get(url, headers={
                "authorization": f"Bearer {token}",
                "accept": "application/vnd.github+json",
                "x-github-api-version": "2022-11-28",
            })
        except httpx.HTTPError:
            raise AuthenticationError(
                "GitHub cannot be reached to check the token", ErrorCode.SERVICE_UNAVAILABLE
            ) from None
        if rsp.status_code == 401:
            raise AuthenticationError("the GitHub token is not valid")
        if rsp.status_code == 403 and url.endswith("/user"):
            raise AuthenticationError("the GitHub token is not allowed to read the user")
        if rsp.status_code != 200:
            raise AuthenticationError(
                f"GitHub answered HTTP {rsp.status_code}", ErrorCode.SERVICE_UNAVAILABLE
            )
        return rsp

    async def _get_all(self, token: str, url: str) -> list[dict[str, Any]]:
        """Every page of a GitHub list (100 a page, at most max_pages pages)."""
        items: list[dict[str, Any]] = []
        next_url: str | None = f"{url}?per_page=100"
        for _ in range(self.max_pages):
            if next_url is None:
                break
            rsp = await self._get(token, next_url)
            page = rsp.json()
            if isinstance(page, list):
                items.extend(item for item in page if isinstance(item, dict))
            next_url = rsp.links.get("next", {}).get("url")
            if next_url is not None and not next_url.startswith(self.api_url + "/"):
                next_url = None  # never send the token anywhere but the configured API
        return items


def _team_org(team: Mapping[str, Any]) -> str:
    org = team.get("organization")
    login = org.get("login") if isinstance(org, dict) else None
    return login.lower() if isinstance(login, str) else ""


def github(
    *, org: str | None = None, api_url: str = "https://api.github.com", name: str = "github",
    cache_ttl_s: float = 300,
) -> GitHubProvider:
    """GitHub OAuth access tokens (not JWTs); teams -> roles ``org/team-slug``."""
    return GitHubProvider(api_url=api_url, org=org, name=name, cache_ttl_s=cache_ttl_s)


# --- the authenticator ------------------------------------------------------------------


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def unverified_issuer(token: str) -> str | None:
    """The ``iss`` a JWT claims (NOT verified: only to pick which provider verifies it)."""
    payload = unverified_segment(token, 1)
    iss = payload.get("iss") if payload is not None else None
    return iss if isinstance(iss, str) else None


class BearerAuthenticator:
    """``authorization: Bearer <token>`` -> a Principal, via the provider of the token."""

    def __init__(
        self, providers: Sequence[JWTProvider | GitHubProvider], *, max_token_bytes: int = 8192
    ) -> None:
        self.providers = list(providers)
        self.max_token_bytes = max_token_bytes
        self._by_issuer: dict[str, JWTProvider] = {}
        self._github: GitHubProvider | None = None
        names = [p.name for p in self.providers]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"auth provider names must be unique: {names}")
        for provider in self.providers:
            if isinstance(provider, GitHubProvider):
                if self._github is not None:
                    raise ConfigurationError("only one GitHub provider can be configured")
                self._github = provider
                continue
            for issuer in provider.issuers:
                if issuer in self._by_issuer:
                    raise ConfigurationError(f"two auth providers trust the issuer {issuer!r}")
                self._by_issuer[issuer] = provider

    async def start(self) -> None:
        """Load every provider's keys at boot (ConfigurationError if one cannot)."""
        for provider in self.providers:
            await provider.start()

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        value = headers.get("authorization")
        if not value:
            return None
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None  # Basic, ApiKey ...: another authenticator's business
        token = token.strip()
        if not token:
            raise AuthenticationError("the Bearer token is empty")
        if len(token) > self.max_token_bytes:
            raise AuthenticationError("the token is too large")
        if looks_like_jwt(token):
            issuer = unverified_issuer(token)
            if issuer is None:
                raise AuthenticationError("the token is malformed")
            provider = self._by_issuer.get(issuer)
            if provider is None:
                raise AuthenticationError("the token's issuer is not accepted")
            return await provider.authenticate_token(token)
        if self._github is not None:
            return await self._github.authenticate_token(token)
        raise AuthenticationError("the token is malformed")


if TYPE_CHECKING:  # mypy checks that BearerAuthenticator implements the protocol
    _authenticator: type[Authenticator] = BearerAuthenticator
