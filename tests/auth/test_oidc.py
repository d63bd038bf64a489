"""OIDC discovery, JWKS caching, rotation and outages, against npm oidc-provider on loopback.

The provider issues real client-credentials access tokens (JWT, signed with its keystore);
each issuer is mounted under the path of its issuer URL, so the issuer forms of the presets
(``{base}/realms/{realm}``, ``{authority}/{tenant}/v2.0``, ``https://{domain}/``) are real.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator

import jwt as pyjwt
import pytest

from fraiseql.auth import AuthenticationError
from fraiseql.auth.jwt import JWTValidator
from fraiseql.auth.oidc import OIDCProvider, require_secure_url
from fraiseql.errors import ConfigurationError
from tests.auth.helpers import IssuerSpec, JSONServer, OIDCServer, free_port, make_key

AUDIENCE = "https://api.test"


def validator_for(provider: OIDCProvider, alg: str = "RS256") -> JWTValidator:
    return JWTValidator(
        issuer=provider.issuer, audience=AUDIENCE, algorithms=[alg], keys=provider
    )


@pytest.fixture(scope="module")
def es_spec() -> IssuerSpec:
    return IssuerSpec("/realms/main", [make_key("ES256")], {"svc": {}})


@pytest.fixture(scope="module")
def server(es_spec: IssuerSpec) -> Iterator[OIDCServer]:
    running = OIDCServer([
        es_spec,
        IssuerSpec("/ed", [make_key("EdDSA")], {"svc": {}}),
        IssuerSpec("/rsa", [make_key("RS256")], {"svc": {}}),
    ])
    running.start()
    yield running
    running.stop()


async def test_discovery_and_jwks(server: OIDCServer, es_spec: IssuerSpec) -> None:
    provider = OIDCProvider(server.issuer("/realms/main"))
    await provider.start()
    try:
        assert provider.metadata["issuer"] == server.issuer("/realms/main")
        assert provider.jwks_uri == server.issuer("/realms/main") + "/jwks"
        assert list(provider._keys) == [es_spec.keys[0].kid]
        token = server.token(es_spec, "svc")
        claims = await validator_for(provider, "ES256").validate(token)
        assert (claims["iss"], claims["sub"], claims["client_id"], claims["aud"]) == (
            server.issuer("/realms/main"), "svc", "svc", AUDIENCE
        )
        assert provider.fetch_count == 1
    finally:
        await provider.aclose()


@pytest.mark.parametrize(("mount", "alg"), [("/ed", "EdDSA"), ("/rsa", "RS256")])
async def test_real_tokens_of_each_algorithm(server: OIDCServer, mount: str, alg: str) -> None:
    spec = next(s for s in server.issuers if s.mount == mount)
    provider = OIDCProvider(server.issuer(mount))
    await provider.start()
    try:
        claims = await validator_for(provider, alg).validate(server.token(spec, "svc"))
        assert claims["iss"] == server.issuer(mount) and claims["scope"] == "read write"
        # The provider's own tokens, checked against another algorithm: refused.
        other = "ES256" if alg != "ES256" else "RS256"
        with pytest.raises(AuthenticationError, match="algorithm is not allowed"):
            await validator_for(provider, other).validate(server.token(spec, "svc"))
    finally:
        await provider.aclose()


async def test_issuer_in_discovery_must_match(server: OIDCServer) -> None:
    # Same server reached as "localhost": its document names 127.0.0.1, so it is refused.
    provider = OIDCProvider(f"http://localhost:{server.port}/realms/main")
    with pytest.raises(ConfigurationError, match="names issuer 'http://127.0.0.1:.*/realms/main'"):
        await provider.start()
    await provider.aclose()


async def test_unreachable_provider_fails_the_boot() -> None:
    provider = OIDCProvider(f"http://127.0.0.1:{free_port()}/realms/none", timeout_s=2)
    with pytest.raises(ConfigurationError, match="unreachable or answered badly at boot"):
        await provider.start()
    await provider.aclose()


async def test_missing_issuer_path_fails_the_boot(server: OIDCServer) -> None:
    provider = OIDCProvider(server.issuer("/nothing-here"))
    with pytest.raises(ConfigurationError, match="HTTP 404"):
        await provider.start()
    await provider.aclose()


def test_https_required_except_loopback() -> None:
    for url in ("http://auth.example.com", "http://10.0.0.1/realms/x", "ftp://127.0.0.1/",
                "http://127.0.0.1.example.com/"):
        with pytest.raises(ConfigurationError, match="must use https://"):
            OIDCProvider(url)
    for url in ("https://auth.example.com", "http://127.0.0.1:8080/x", "http://[::1]:9/",
                "http://localhost/", "http://127.0.0.2/"):
        require_secure_url(url, "issuer")


async def test_jwks_rotation_unknown_kid_refreshes() -> None:
    old, new = make_key("RS256"), make_key("RS256")
    spec = IssuerSpec("/rot", [old], {"svc": {}})
    server = OIDCServer([spec])
    server.start()
    provider = OIDCProvider(server.issuer("/rot"), refresh_interval_s=0.2)
    try:
        await provider.start()
        validator = validator_for(provider)
        assert (await validator.validate(server.token(spec, "svc")))["sub"] == "svc"
        # The provider's keystore changes (restart with the new key on the same port).
        server.stop()
        spec.keys = [new]
        server.start()
        await asyncio.sleep(0.3)
        rotated = server.token(spec, "svc")
        assert (await validator.validate(rotated))["sub"] == "svc"
        assert provider.fetch_count == 2 and list(provider._keys) == [new.kid]
        # A token of the retired key (signed by us, never seen before) is now refused.
        now = int(time.time())
        retired = old.sign({"iss": provider.issuer, "aud": AUDIENCE, "sub": "x", "exp": now + 60})
        with pytest.raises(AuthenticationError, match="key id is unknown"):
            await validator.validate(retired)
    finally:
        server.stop()
        await provider.aclose()


async def test_bogus_kid_flood_is_rate_limited_and_fails_closed(
    server: OIDCServer, es_spec: IssuerSpec
) -> None:
    provider = OIDCProvider(server.issuer("/realms/main"), refresh_interval_s=30)
    await provider.start()
    try:
        validator = validator_for(provider, "ES256")
        key = es_spec.keys[0]
        now = int(time.time())
        for i in range(50):
            bogus = key.sign({"iss": provider.issuer, "aud": AUDIENCE, "exp": now + 60},
                             kid=f"bogus-{i}")
            with pytest.raises(AuthenticationError, match="key id is unknown"):
                await validator.validate(bogus)
        assert provider.fetch_count == 1  # the boot fetch only
    finally:
        await provider.aclose()


async def test_refresh_after_the_interval_when_kid_unknown(
    server: OIDCServer, es_spec: IssuerSpec
) -> None:
    provider = OIDCProvider(server.issuer("/realms/main"), refresh_interval_s=0.2)
    await provider.start()
    try:
        await asyncio.sleep(0.3)
        key = es_spec.keys[0]
        bogus = key.sign({"iss": provider.issuer, "aud": AUDIENCE, "exp": int(time.time()) + 60},
                         kid="bogus")
        results = await asyncio.gather(
            *(validator_for(provider, "ES256").validate(bogus) for _ in range(10)),
            return_exceptions=True,
        )
        assert all(isinstance(r, AuthenticationError) for r in results)
        assert provider.fetch_count == 2  # ten concurrent unknown kids: one refetch
    finally:
        await provider.aclose()


async def test_provider_down_cached_keys_keep_working_unknown_kids_fail_closed() -> None:
    key = make_key("ES256")
    spec = IssuerSpec("/down", [key], {"svc": {}})
    server = OIDCServer([spec])
    server.start()
    # A TTL of 0: every validation finds the key set stale and tries to refetch.
    provider = OIDCProvider(server.issuer("/down"), jwks_ttl_s=0, refresh_interval_s=0)
    try:
        await provider.start()
        validator = validator_for(provider, "ES256")
        token = server.token(spec, "svc")
        server.stop()  # the provider is down from here on
        now = int(time.time())
        for jti in ("a", "b"):
            fresh = key.sign({"iss": provider.issuer, "aud": AUDIENCE, "sub": "u", "exp": now + 60,
                              "jti": jti})
            assert (await validator.validate(fresh))["jti"] == jti
        assert (await validator.validate(token))["sub"] == "svc"
        assert provider.fetch_count >= 3  # it did try, and failed, each time
        unknown = key.sign({"iss": provider.issuer, "aud": AUDIENCE, "exp": now + 60}, kid="new")
        with pytest.raises(AuthenticationError, match="key id is unknown"):
            await validator.validate(unknown)
    finally:
        server.stop()
        await provider.aclose()


def discovery(issuer: str, jwks_uri: str) -> dict[str, str]:
    return {"issuer": issuer, "jwks_uri": jwks_uri, "token_endpoint": issuer + "/token"}


async def test_hand_made_provider_documents_are_checked() -> None:
    key = make_key("RS256")
    well_known = "/.well-known/openid-configuration"
    with JSONServer({}) as idp:
        cases = [
            # jwks_uri on a non-loopback plain-HTTP host: refused before any fetch.
            ({"/a" + well_known: discovery(idp.url + "/a", "http://keys.example.com/jwks")},
             "/a", "jwks_uri 'http://keys.example.com/jwks' must use https://"),
            ({"/b" + well_known: discovery(idp.url + "/b", idp.url + "/b/jwks"),
              "/b/jwks": {"keys": [{**key.jwk(private=False), "use": "enc"}]}},
             "/b", "publishes no usable signature key"),
            ({"/c" + well_known: b"x" * (2 << 20)}, "/c", "more than 1048576 bytes"),
            ({"/d" + well_known: b"not json"}, "/d", "unreachable or answered badly"),
            ({"/e" + well_known: {"issuer": idp.url + "/e"}}, "/e", "has no jwks_uri"),
        ]
        for documents, path, message in cases:
            idp.documents = documents
            provider = OIDCProvider(idp.url + path)
            with pytest.raises(ConfigurationError, match=re.escape(message)):
                await provider.start()
            await provider.aclose()
        # And a good one: a kid-less single key is used for kid-less tokens.
        kidless = {k: v for k, v in key.jwk(private=False).items() if k != "kid"}
        idp.documents = {"/f" + well_known: discovery(idp.url + "/f", idp.url + "/f/jwks"),
                         "/f/jwks": {"keys": [kidless, {"kty": "oct", "k": "c2VjcmV0"}]}}
        provider = OIDCProvider(idp.url + "/f")
        await provider.start()
        try:
            token = pyjwt.encode(
                {"iss": idp.url + "/f", "aud": AUDIENCE, "exp": int(time.time()) + 60, "sub": "u"},
                key.private, algorithm="RS256",
            )
            assert (await validator_for(provider).validate(token))["sub"] == "u"
        finally:
            await provider.aclose()
