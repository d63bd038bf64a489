"""Provider presets and the BearerAuthenticator, with real tokens from oidc-provider.

One oidc-provider process serves one issuer per preset, each at the preset's issuer form
on loopback: generic ``/generic``, Keycloak ``/realms/acme``, Azure AD ``/{tenant}/v2.0``,
Auth0 ``/`` (``https://{domain}/``), Google ``/google``. Its clients' tokens carry the
claim shapes of each provider (merged by the server's JWT customizer).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import jwt as pyjwt
import pytest
import pytest_asyncio

from fraiseql.auth import AuthenticationError, Principal
from fraiseql.auth.providers import (
    BearerAuthenticator,
    ClaimMapping,
    GitHubProvider,
    JWTProvider,
    auth0,
    azure_ad,
    github,
    google,
    keycloak,
    oidc,
    static_jwt,
)
from fraiseql.errors import ConfigurationError
from tests.auth.helpers import (
    GITHUB_USER,
    HMAC_SECRET,
    FakeGitHub,
    IssuerSpec,
    OIDCServer,
    github_team,
    make_key,
)

AUDIENCE = "https://api.test"
AZURE_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"

GENERIC = IssuerSpec("/generic", [make_key("RS256")], {
    "web": {"sub": "user-42", "roles": ["editor", "viewer"], "tenant_id": "t-9"},
    "batch": {},  # a plain client credentials token: sub = client_id
})
KEYCLOAK = IssuerSpec("/realms/acme", [make_key("RS256")], {
    "portal": {
        "sub": "f1b7c6a0-kc-user", "preferred_username": "alice", "azp": "portal",
        "realm_access": {"roles": ["offline_access", "staff"]},
        "resource_access": {"api": {"roles": ["orders:write"]}, "other": {"roles": ["x"]}},
        "organization": "acme",
    },
    "robot": {"sub": "9c1e-sa", "preferred_username": "service-account-robot",
              "realm_access": {"roles": ["sync"]}},
})
AZURE = IssuerSpec(f"/{AZURE_TENANT}/v2.0", [make_key("RS256")], {
    "spa": {"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "oid": "00000000-0000-0000-66f3",
            "tid": AZURE_TENANT, "roles": ["Orders.Admin"], "groups": ["a1b2c3d4-group"],
            "scp": "Orders.Read Orders.Write", "scope": None, "azp": "spa-client-id"},
    "daemon": {"sub": "d4e5-sp-oid", "oid": "d4e5-sp-oid", "tid": AZURE_TENANT,
               "roles": ["Orders.Sync"], "idtyp": "app", "scope": None},
}, scope="read")
AUTH0 = IssuerSpec("/", [make_key("RS256")], {
    "spa": {"sub": "auth0|64b0f1", "https://example.com/roles": ["admin"],
            "permissions": ["read:orders", "write:orders"], "org_id": "org_abc"},
    "m2m": {"sub": "m2m@clients", "gty": "client-credentials", "permissions": ["sync:orders"]},
})
# Google's audience is the OAuth client id, not a URI: the resource indicator the token
# endpoint wants must be a URI, so the customizer writes the client id into `aud`.
GOOGLE_CLIENT = "1234.apps.googleusercontent.com"
GOOGLE = IssuerSpec("/google", [make_key("RS256")], {
    "workspace": {"sub": "110169484474386276334", "hd": "example.com", "email": "a@example.com",
                  "aud": GOOGLE_CLIENT},
    "gmail": {"sub": "110169484474386276335", "email": "b@gmail.com", "aud": GOOGLE_CLIENT},
})


@pytest.fixture(scope="module")
def server() -> Iterator[OIDCServer]:
    running = OIDCServer([GENERIC, KEYCLOAK, AZURE, AUTH0, GOOGLE])
    running.start()
    yield running
    running.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def started() -> AsyncIterator[list[BearerAuthenticator]]:
    authenticators: list[BearerAuthenticator] = []
    yield authenticators
    for authenticator in authenticators:
        await authenticator.aclose()


async def authenticate(
    started: list[BearerAuthenticator], providers: list[JWTProvider | GitHubProvider], token: str
) -> Principal:
    authenticator = BearerAuthenticator(providers)
    started.append(authenticator)
    await authenticator.start()
    principal = await authenticator.authenticate({"authorization": f"Bearer {token}"})
    assert principal is not None
    return principal


def base(server: OIDCServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def test_generic_oidc_user_and_service(server: OIDCServer, started: list) -> None:
    provider = oidc(
        server.issuer("/generic"), audience=AUDIENCE, name="corp",
        mapping=ClaimMapping(roles=("roles",), scopes=("scope",), tenant="tenant_id"),
    )
    auth = BearerAuthenticator([provider])
    started.append(auth)
    await auth.start()
    token = server.token(GENERIC, "web")
    user = await auth.authenticate({"authorization": f"Bearer {token}"})
    assert user is not None
    assert (user.subject, user.roles, user.scopes, user.tenant_id, user.actor_type) == (
        "user-42", {"editor", "viewer"}, {"read", "write"}, "t-9", "user"
    )
    assert user.provider == "corp" and user.token_id == user.claims["jti"]
    assert user.expires_at == user.claims["exp"] and user.expires_at > time.time()
    service = await auth.authenticate({"authorization": f"Bearer {server.token(GENERIC, 'batch')}"})
    assert service is not None
    assert (service.subject, service.actor_type, service.roles, service.tenant_id) == (
        "batch", "service", frozenset(), None
    )


async def test_keycloak_preset(server: OIDCServer, started: list) -> None:
    provider = keycloak(base(server), realm="acme", audience=AUDIENCE, client_id="api",
                        tenant_claim="organization")
    assert provider.issuers == (f"{base(server)}/realms/acme",)
    user = await authenticate(started, [provider], server.token(KEYCLOAK, "portal"))
    assert (user.subject, user.roles, user.tenant_id, user.actor_type, user.provider) == (
        "f1b7c6a0-kc-user", {"offline_access", "staff", "orders:write"}, "acme", "user", "keycloak"
    )
    robot = await authenticate(started, [provider], server.token(KEYCLOAK, "robot"))
    assert (robot.subject, robot.roles, robot.actor_type) == ("9c1e-sa", {"sync"}, "service")


async def test_azure_ad_preset(server: OIDCServer, started: list) -> None:
    provider = azure_ad(AZURE_TENANT, audience=AUDIENCE, authority=base(server))
    assert provider.issuers == (f"{base(server)}/{AZURE_TENANT}/v2.0",)
    user = await authenticate(started, [provider], server.token(AZURE, "spa"))
    assert (user.subject, user.roles, user.scopes, user.tenant_id, user.actor_type) == (
        "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", {"Orders.Admin", "a1b2c3d4-group"},
        {"Orders.Read", "Orders.Write"}, AZURE_TENANT, "user",
    )
    daemon = await authenticate(started, [provider], server.token(AZURE, "daemon"))
    assert (daemon.subject, daemon.roles, daemon.scopes, daemon.actor_type) == (
        "d4e5-sp-oid", {"Orders.Sync"}, frozenset(), "service"
    )
    no_groups = azure_ad(AZURE_TENANT, audience=AUDIENCE, authority=base(server),
                         groups_as_roles=False)
    user = await authenticate(started, [no_groups], server.token(AZURE, "spa"))
    assert user.roles == {"Orders.Admin"}


async def test_auth0_preset(server: OIDCServer, started: list) -> None:
    provider = auth0(base(server), audience=AUDIENCE, roles_claim="https://example.com/roles")
    assert provider.issuers == (f"{base(server)}/",)
    user = await authenticate(started, [provider], server.token(AUTH0, "spa"))
    assert (user.subject, user.roles, user.scopes, user.tenant_id, user.actor_type) == (
        "auth0|64b0f1", {"admin"}, {"read", "write", "read:orders", "write:orders"}, "org_abc",
        "user",
    )
    m2m = await authenticate(started, [provider], server.token(AUTH0, "m2m"))
    assert (m2m.subject, m2m.scopes, m2m.actor_type) == (
        "m2m@clients", {"read", "write", "sync:orders"}, "service"
    )
    assert auth0("acme.eu.auth0.com", audience="x").issuers == ("https://acme.eu.auth0.com/",)


async def test_google_preset(server: OIDCServer, started: list) -> None:
    provider = google(GOOGLE_CLIENT, issuer=server.issuer("/google"),
                      hosted_domain_as_tenant=True, allowed_domains=["example.com"])
    user = await authenticate(started, [provider], server.token(GOOGLE, "workspace"))
    assert (user.subject, user.tenant_id, user.roles, user.provider) == (
        "110169484474386276334", "example.com", frozenset(), "google"
    )
    with pytest.raises(AuthenticationError, match="domain is not accepted"):
        await authenticate(started, [provider], server.token(GOOGLE, "gmail"))
    # Google's real issuer comes in two spellings; both route to the preset.
    assert google("cid").issuers == ("https://accounts.google.com", "accounts.google.com")


async def test_wrong_audience_through_a_preset(server: OIDCServer, started: list) -> None:
    provider = keycloak(base(server), realm="acme", audience="https://another-api.test")
    with pytest.raises(AuthenticationError, match="audience is not accepted"):
        await authenticate(started, [provider], server.token(KEYCLOAK, "portal"))


async def test_routing_by_issuer_among_several_providers(
    server: OIDCServer, started: list
) -> None:
    auth = BearerAuthenticator([
        keycloak(base(server), realm="acme", audience=AUDIENCE, client_id="api"),
        azure_ad(AZURE_TENANT, audience=AUDIENCE, authority=base(server)),
        auth0(base(server), audience=AUDIENCE, roles_claim="https://example.com/roles"),
    ])
    started.append(auth)
    await auth.start()
    seen = []
    for spec, client in ((KEYCLOAK, "portal"), (AZURE, "spa"), (AUTH0, "spa")):
        token = server.token(spec, client)
        principal = await auth.authenticate({"authorization": f"Bearer {token}"})
        assert principal is not None
        seen.append(principal.provider)
    assert seen == ["keycloak", "azure", "auth0"]
    # A token of an issuer nobody configured (the generic one on the same server).
    with pytest.raises(AuthenticationError, match="issuer is not accepted"):
        await auth.authenticate({"authorization": f"Bearer {server.token(GENERIC, 'web')}"})


async def test_bearer_header_handling() -> None:
    now = int(time.time())
    provider = static_jwt("https://dev.local", audience="app", key=HMAC_SECRET,
                          algorithms=["HS256"], name="dev")
    auth = BearerAuthenticator([provider])
    token = pyjwt.encode({"iss": "https://dev.local", "aud": "app", "sub": "u1", "exp": now + 60,
                          "roles": ["admin"]}, HMAC_SECRET, algorithm="HS256")
    assert await auth.authenticate({}) is None
    assert await auth.authenticate({"authorization": "Basic dXNlcjpwYXNz"}) is None
    principal = await auth.authenticate({"authorization": f"bearer  {token} "})
    assert principal is not None and (principal.subject, principal.roles) == ("u1", {"admin"})
    for header, message in (
        ("Bearer ", "the Bearer token is empty"),
        ("Bearer not-a-jwt", "the token is malformed"),  # no GitHub configured
        ("Bearer a.b.c", "the token is malformed"),
        (f"Bearer {'a' * 9000}", "the token is too large"),
    ):
        with pytest.raises(AuthenticationError) as caught:
            await auth.authenticate({"authorization": header})
        assert caught.value.message == message


def test_configuration_errors() -> None:
    a = static_jwt("https://x", audience="a", key=HMAC_SECRET, algorithms=["HS256"], name="a")
    b = static_jwt("https://x", audience="b", key=HMAC_SECRET, algorithms=["HS256"], name="b")
    with pytest.raises(ConfigurationError, match="two auth providers trust the issuer"):
        BearerAuthenticator([a, b])
    with pytest.raises(ConfigurationError, match="names must be unique"):
        BearerAuthenticator([a, a])
    with pytest.raises(ConfigurationError, match="only one GitHub provider"):
        BearerAuthenticator([github(name="g1"), github(name="g2")])
    with pytest.raises(ConfigurationError, match="must use https://"):
        github(api_url="http://api.github.example")


# --- GitHub ------------------------------------------------------------------------------

ACCOUNTS = {
    "gho_octocat": {
        "user": GITHUB_USER,
        "teams": [github_team("justice-league", "my-org", 1),
                  github_team("avengers", "other-org", 2)],
        "orgs": [{"login": "my-org", "id": 9919}, {"login": "other-org", "id": 77}],
        "scopes": "read:org, repo",
    },
    "gho_outsider": {
        "user": {**GITHUB_USER, "login": "outsider", "id": 1001},
        "teams": [github_team("avengers", "other-org", 2)],
        "orgs": [{"login": "other-org", "id": 77}],
    },
    "ghs_bot": {"user": {**GITHUB_USER, "login": "ci[bot]", "id": 2002, "type": "Bot"}},
}


async def test_github_user_teams_and_cache() -> None:
    with FakeGitHub(ACCOUNTS) as fake:
        provider = github(org="my-org", api_url=fake.url)
        auth = BearerAuthenticator([provider])
        try:
            principal = await auth.authenticate({"authorization": "Bearer gho_octocat"})
            assert principal is not None
            assert (principal.subject, principal.roles, principal.scopes, principal.tenant_id) == (
                "583231", {"my-org/justice-league"}, {"read:org", "repo"}, "my-org"
            )
            assert (principal.actor_type, principal.provider, principal.claims["login"]) == (
                "user", "github", "octocat"
            )
            assert principal.token_id is not None and "gho_octocat" not in principal.token_id
            paths = [p.split("?")[0] for p in fake.requests]
            assert paths == ["/user", "/user/teams", "/user/orgs"]
            again = await auth.authenticate({"authorization": "Bearer gho_octocat"})
            assert again == principal and len(fake.requests) == 3  # answered from the cache

            with pytest.raises(AuthenticationError, match="not a member of my-org"):
                await auth.authenticate({"authorization": "Bearer gho_outsider"})
            for _ in range(2):
                with pytest.raises(AuthenticationError) as caught:
                    await auth.authenticate({"authorization": "Bearer gho_forged"})
                assert caught.value.message == "the GitHub token is not valid"
            assert fake.requests.count("/user") == 3  # octocat, outsider, forged once
        finally:
            await auth.aclose()


async def test_github_without_org_and_bots() -> None:
    with FakeGitHub(ACCOUNTS) as fake:
        provider = github(api_url=fake.url, cache_ttl_s=0)
        try:
            octocat = await provider.authenticate_token("gho_octocat")
            assert octocat.roles == {"my-org/justice-league", "other-org/avengers"}
            assert octocat.tenant_id is None
            bot = await provider.authenticate_token("ghs_bot")
            assert (bot.subject, bot.actor_type, bot.roles) == ("2002", "service", frozenset())
            await provider.authenticate_token("gho_octocat")
            assert fake.requests.count("/user") == 3  # a TTL of 0 caches nothing
        finally:
            await provider.aclose()


async def test_github_and_jwt_providers_together(server: OIDCServer, started: list) -> None:
    with FakeGitHub(ACCOUNTS) as fake:
        auth = BearerAuthenticator([
            keycloak(base(server), realm="acme", audience=AUDIENCE),
            github(api_url=fake.url),
        ])
        started.append(auth)
        await auth.start()
        jwt_user = await auth.authenticate(
            {"authorization": f"Bearer {server.token(KEYCLOAK, 'portal')}"}
        )
        gh_user = await auth.authenticate({"authorization": "Bearer gho_octocat"})
        assert jwt_user is not None and gh_user is not None
        assert (jwt_user.provider, gh_user.provider) == ("keycloak", "github")
        assert fake.requests.count("/user") == 1  # the JWT never went to GitHub


async def test_github_unreachable_is_not_a_bad_token() -> None:
    provider = GitHubProvider(api_url="http://127.0.0.1:9", timeout_s=2)
    try:
        with pytest.raises(AuthenticationError) as caught:
            await provider.authenticate_token("gho_octocat")
        assert caught.value.code == "SERVICE_UNAVAILABLE"
        assert caught.value.message == "GitHub cannot be reached to check the token"
    finally:
        await provider.aclose()
