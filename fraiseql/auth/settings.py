"""Authentication from settings: ``FRAISEQL_AUTH_*`` builds the app's Auth.

    FRAISEQL_AUTH_PROVIDER=keycloak        oidc (the default with an issuer), auth0,
                                           keycloak, google, azure_ad
    FRAISEQL_AUTH_ISSUER=https://sso.example.com/realms/main
    FRAISEQL_AUTH_AUDIENCE=api             comma-separated when several are accepted
    FRAISEQL_AUTH_ALGORITHMS=RS256         comma-separated
    FRAISEQL_AUTH_API_KEYS=true            X-API-Key keys (fraiseql apikey create)
    FRAISEQL_AUTH_REVOCATION=true          revoked token ids (fraiseql tokens revoke)
    FRAISEQL_AUTH_REQUIRED=true            anonymous requests get 401

Used only when the app is created without ``auth=``; both at once fail the boot, as
do incomplete settings (an issuer without an audience, an unknown provider) and an
issuer whose discovery or keys cannot be fetched at boot. Dev tokens stay configured
by ``FRAISEQL_DEV_AUTH_SECRET`` and are asked first (fraiseql/http/app.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fraiseql.auth.providers import BearerAuthenticator
from fraiseql.config import Settings
from fraiseql.errors import ConfigurationError

if TYPE_CHECKING:
    from fraiseql.auth.middleware import Auth
    from fraiseql.auth.principal import Authenticator
    from fraiseql.auth.providers import JWTProvider

PROVIDERS = ("oidc", "auth0", "keycloak", "google", "azure_ad")
DEFAULTS = Settings()
AUTH_SETTINGS = ("auth_provider", "auth_issuer", "auth_audience", "auth_algorithms",
                 "auth_api_keys", "auth_required", "auth_revocation")


def env_name(setting: str) -> str:
    return f"FRAISEQL_{setting.upper()}"


def auth_from_settings(settings: Settings, *, explicit: Auth | None = None,
                       pool: Callable[[], Any] | None = None) -> Auth | None:
    """The Auth the settings describe (None: none); ``explicit`` when that was given.

    ``pool`` returns the app's pool once it is open (API keys are looked up there).
    """
    from fraiseql.auth.middleware import Auth
    configured = [env_name(name) for name in AUTH_SETTINGS
                  if getattr(settings, name) != getattr(DEFAULTS, name)]
    if explicit is not None:
        if configured:
            raise ConfigurationError(
                f"the app is given auth= and the settings {', '.join(configured)}: configure "
                "authentication one way (unset the settings, or drop auth=)")
        return explicit
    if not configured:
        return None
    authenticators: list[Authenticator] = []
    provider = jwt_provider(settings)
    if provider is not None:
        authenticators.append(SettingsBearerAuthenticator([provider]))
    if settings.auth_api_keys:
        from fraiseql.auth.api_keys import ApiKeyAuthenticator
        authenticators.append(ApiKeyAuthenticator(pool if pool is not None
                                                  else settings.database_url))
    if settings.auth_required and not authenticators and not settings.dev_auth_secret:
        raise ConfigurationError(
            "FRAISEQL_AUTH_REQUIRED=true but no way to authenticate is configured: set "
            "FRAISEQL_AUTH_ISSUER and FRAISEQL_AUTH_AUDIENCE, or FRAISEQL_AUTH_API_KEYS=true")
    return Auth(authenticators, settings.auth_required, revocations=settings.auth_revocation)


def jwt_provider(settings: Settings) -> JWTProvider | None:
    """The JWT issuer the settings name, or None; ConfigurationError naming the setting."""
    from fraiseql.auth import providers
    name, issuer = settings.auth_provider, settings.auth_issuer
    audiences = [a.strip() for a in (settings.auth_audience or "").split(",") if a.strip()]
    algorithms = [a.strip() for a in settings.auth_algorithms.split(",") if a.strip()]
    if name is None and issuer is None:
        if audiences or settings.auth_algorithms != DEFAULTS.auth_algorithms:
            raise ConfigurationError("FRAISEQL_AUTH_AUDIENCE or FRAISEQL_AUTH_ALGORITHMS is set "
                                     "but FRAISEQL_AUTH_ISSUER is not: which issuer's tokens?")
        return None
    name = name or "oidc"
    if name not in PROVIDERS:
        raise ConfigurationError(f"FRAISEQL_AUTH_PROVIDER={name!r} is not a known provider; "
                                 f"use one of {', '.join(PROVIDERS)}")
    if issuer is None and name != "google":
        raise ConfigurationError(f"FRAISEQL_AUTH_PROVIDER={name} needs FRAISEQL_AUTH_ISSUER "
                                 "(the issuer URL its tokens carry in `iss`)")
    if not audiences:
        raise ConfigurationError(
            "FRAISEQL_AUTH_ISSUER is set but FRAISEQL_AUTH_AUDIENCE is not: tokens are only "
            "accepted for a named audience (your API's identifier, or Google's client id)")
    if not algorithms:
        raise ConfigurationError("FRAISEQL_AUTH_ALGORITHMS is empty")
    audience: str | list[str] = audiences[0] if len(audiences) == 1 else audiences
    try:
        if name == "oidc":
            assert issuer is not None
            return providers.oidc(issuer, audience=audience, algorithms=algorithms)
        if name == "auth0":
            assert issuer is not None
            return providers.auth0(issuer, audience=audience, algorithms=algorithms)
        if name == "keycloak":
            base, realm = _split(issuer, "/realms/", "https://sso.example.com/realms/main")
            return providers.keycloak(base, realm=realm, audience=audience,
                                      algorithms=algorithms)
        if name == "google":
            if len(audiences) != 1:
                raise ConfigurationError("FRAISEQL_AUTH_AUDIENCE: Google needs one client id")
            return providers.google(audiences[0], issuer=issuer or providers.GOOGLE_ISSUER)
        authority, tenant = _split((issuer or "").removesuffix("/v2.0"), "/",
                                   "https://login.microsoftonline.com/<tenant>/v2.0",
                                   last=True)
        return providers.azure_ad(tenant, audience=audience, authority=authority,
                                  algorithms=algorithms)
    except ConfigurationError as exc:
        if str(exc).startswith("FRAISEQL_AUTH_"):
            raise
        raise ConfigurationError(f"FRAISEQL_AUTH_* ({name}, {issuer}): {exc}") from None


def _split(issuer: str | None, separator: str, example: str, last: bool = False) -> tuple[str, str]:
    head, found, tail = (issuer or "").rpartition(separator) if last \
        else (issuer or "").partition(separator)
    if not found or not head or not tail or "/" in tail:
        raise ConfigurationError(f"FRAISEQL_AUTH_ISSUER={issuer!r} is not of the form {example}")
    return head, tail


class SettingsBearerAuthenticator(BearerAuthenticator):
    """A BearerAuthenticator whose boot errors name the settings that configured it."""

    async def start(self) -> None:
        try:
            await super().start()
        except ConfigurationError as exc:
            raise ConfigurationError(f"FRAISEQL_AUTH_ISSUER: {exc}") from None
