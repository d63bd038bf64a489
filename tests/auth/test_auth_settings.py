"""FRAISEQL_AUTH_* settings: one configuration builds the app's Auth, or fails the boot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import fraiseql
from examples.blog.app import schema as blog_schema
from fraiseql import Settings
from fraiseql.auth import Auth
from fraiseql.auth.api_keys import ApiKeyAuthenticator
from fraiseql.auth.dev import DevAuthenticator
from fraiseql.auth.settings import SettingsBearerAuthenticator, auth_from_settings
from fraiseql.errors import ConfigurationError
from fraiseql.testing.client import AppClient
from tests.auth.helpers import IssuerSpec, OIDCServer, free_port, make_key

AUDIENCE = "https://api.test"
KEYCLOAK = IssuerSpec("/realms/acme", [make_key("RS256")], {
    "portal": {"sub": "kc-user-1", "preferred_username": "alice",
               "realm_access": {"roles": ["staff"]}},
}, audience=AUDIENCE)
DEV_SECRET = "settings-dev-secret-" + "s" * 40
TAGS = "{ tags(limit: 1, orderBy: {name: ASC}) { name } }"


def settings(**values: object) -> Settings:
    return Settings.from_env({}, database_url="postgresql://localhost/x", **values)


@pytest.fixture(scope="module")
def server() -> Iterator[OIDCServer]:
    running = OIDCServer([KEYCLOAK])
    running.start()
    yield running
    running.stop()


def test_no_auth_settings_no_auth() -> None:
    assert auth_from_settings(settings()) is None
    explicit = Auth([])
    assert auth_from_settings(settings(), explicit=explicit) is explicit


def test_settings_come_from_the_environment() -> None:
    loaded = Settings.from_env({"FRAISEQL_AUTH_PROVIDER": "keycloak",
                                "FRAISEQL_AUTH_ISSUER": "https://sso.test/realms/main",
                                "FRAISEQL_AUTH_AUDIENCE": "api, web",
                                "FRAISEQL_AUTH_API_KEYS": "true",
                                "FRAISEQL_AUTH_REVOCATION": "yes",
                                "FRAISEQL_AUTH_REQUIRED": "1"})
    auth = auth_from_settings(loaded)
    assert auth is not None and auth.required is True
    bearer, api_keys = auth.authenticators
    assert isinstance(bearer, SettingsBearerAuthenticator)
    assert isinstance(api_keys, ApiKeyAuthenticator)
    provider, = bearer.providers
    assert (provider.name, provider.issuers) == ("keycloak", ("https://sso.test/realms/main",))
    assert auth._revocations_option is True


@pytest.mark.parametrize(("values", "issuers"), [
    ({"auth_issuer": "https://idp.test"}, ("https://idp.test",)),
    ({"auth_provider": "auth0", "auth_issuer": "https://acme.eu.auth0.com"},
     ("https://acme.eu.auth0.com/",)),
    ({"auth_provider": "azure_ad",
      "auth_issuer": "https://login.microsoftonline.com/tenant-1/v2.0"},
     ("https://login.microsoftonline.com/tenant-1/v2.0",)),
    ({"auth_provider": "google"},
     ("https://accounts.google.com", "accounts.google.com")),
])
def test_each_provider_name_builds_its_preset(values: dict[str, str],
                                              issuers: tuple[str, ...]) -> None:
    auth = auth_from_settings(settings(auth_audience="api", **values))
    assert auth is not None
    bearer, = auth.authenticators
    assert isinstance(bearer, SettingsBearerAuthenticator)
    assert bearer.providers[0].issuers == issuers


@pytest.mark.parametrize(("values", "message"), [
    ({"auth_issuer": "https://idp.test"},
     "FRAISEQL_AUTH_ISSUER is set but FRAISEQL_AUTH_AUDIENCE is not"),
    ({"auth_audience": "api"},
     "FRAISEQL_AUTH_AUDIENCE or FRAISEQL_AUTH_ALGORITHMS is set but FRAISEQL_AUTH_ISSUER is not"),
    ({"auth_provider": "okta", "auth_issuer": "https://idp.test", "auth_audience": "api"},
     ("FRAISEQL_AUTH_PROVIDER='okta' is not a known provider; use one of oidc, auth0, "
      "keycloak, google, azure_ad")),
    ({"auth_provider": "keycloak", "auth_audience": "api"},
     "FRAISEQL_AUTH_PROVIDER=keycloak needs FRAISEQL_AUTH_ISSUER"),
    ({"auth_provider": "keycloak", "auth_issuer": "https://sso.test/main",
      "auth_audience": "api"},
     ("FRAISEQL_AUTH_ISSUER='https://sso.test/main' is not of the form "
      "https://sso.example.com/realms/main")),
    ({"auth_issuer": "http://idp.example.com", "auth_audience": "api"},
     "FRAISEQL_AUTH_* (oidc, http://idp.example.com): the OIDC issuer"),
    ({"auth_issuer": "https://idp.test", "auth_audience": "api", "auth_algorithms": "none"},
     "FRAISEQL_AUTH_* (oidc, https://idp.test): "),
    ({"auth_required": True},
     "FRAISEQL_AUTH_REQUIRED=true but no way to authenticate is configured"),
])
def test_incomplete_settings_fail_with_a_message_naming_the_setting(
        values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        fraiseql.create_app(blog_schema, settings(**values))
    assert str(caught.value).startswith(message), str(caught.value)


def test_auth_given_twice_fails() -> None:
    with pytest.raises(ConfigurationError, match=r"the app is given auth= and the settings "
                                                 r"FRAISEQL_AUTH_API_KEYS, "
                                                 r"FRAISEQL_AUTH_REVOCATION: configure"):
        fraiseql.create_app(blog_schema, settings(auth_api_keys=True, auth_revocation=True),
                            auth=Auth([]))


def test_dev_tokens_come_first_and_keep_the_settings_auth() -> None:
    app = fraiseql.create_app(blog_schema, settings(dev_auth_secret=DEV_SECRET,
                                                    auth_api_keys=True, auth_revocation=True))
    assert app.auth is not None
    assert [type(a) for a in app.auth.authenticators] == [DevAuthenticator, ApiKeyAuthenticator]
    assert app.auth._revocations_option is True


async def test_an_unreachable_issuer_fails_the_boot_naming_the_setting(
        blog_db_url: str) -> None:
    issuer = f"http://127.0.0.1:{free_port()}/realms/acme"
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url, auth_provider="keycloak",
                              auth_issuer=issuer, auth_audience=AUDIENCE)
    with pytest.raises(ConfigurationError) as caught:
        await app.startup()
    assert str(caught.value).startswith(
        f"FRAISEQL_AUTH_ISSUER: the OIDC provider {issuer} is unreachable or answered badly "
        "at boot"), str(caught.value)
    assert app.engine.pool is None  # nothing was opened


async def test_a_keycloak_configured_by_settings_serves_its_tokens(
        server: OIDCServer, blog_db_url: str) -> None:
    app = fraiseql.create_app(blog_schema, database_url=blog_db_url, auth_provider="keycloak",
                              auth_issuer=server.issuer("/realms/acme"),
                              auth_audience=AUDIENCE, auth_required=True)
    token = server.token(KEYCLOAK, "portal")
    async with AppClient(app) as client:
        ok = await client.post_graphql("{ tags(limit: 1, orderBy: {name: ASC}) { name } }",
                                       headers={"authorization": f"Bearer {token}"})
        assert (ok.status_code, ok.json()) == (200, {"data": {"tags": [{"name": "API Design"}]}})
        anonymous = await client.post_graphql(TAGS)
        assert (anonymous.status_code, anonymous.json()) == (401, {"errors": [{
            "message": "authentication is required",
            "extensions": {"code": "UNAUTHENTICATED"}}]})
