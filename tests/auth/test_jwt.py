"""JWTValidator: every algorithm, the claims checks, the cache, and the JWT attack set.

Tokens here are signed by PyJWT with keys made per test run (no network needed).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization

from fraiseql.auth import AuthenticationError
from fraiseql.auth.jwt import (
    JWTValidator,
    StaticJWKS,
    VerificationKey,
    key_matches_algorithm,
)
from fraiseql.errors import ConfigurationError
from tests.auth.helpers import HMAC_SECRET, b64url, jwks, make_key, raw_token

ISSUER = "https://issuer.test/"
AUDIENCE = "https://api.test"
ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"]
KEYS = {alg: make_key(alg) for alg in ASYMMETRIC}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def hmac_validator(**kw: Any) -> JWTValidator:
    options: dict[str, Any] = {
        "issuer": ISSUER, "audience": AUDIENCE, "algorithms": ["HS256"], "keys": HMAC_SECRET,
    }
    options.update(kw)
    return JWTValidator(**options)


def hs256(payload: dict[str, Any], **header: Any) -> str:
    return pyjwt.encode(payload, HMAC_SECRET, algorithm="HS256", headers=header or None)


async def refused(validator: JWTValidator, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(token)
    assert caught.value.code == "UNAUTHENTICATED"
    return caught.value.message


# --- every algorithm ---------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
async def test_hmac_algorithms_validate(alg: str) -> None:
    validator = hmac_validator(algorithms=[alg])
    token = pyjwt.encode(claims(jti="j-1"), HMAC_SECRET, algorithm=alg)
    assert dict(await validator.validate(token)) == claims(jti="j-1")


@pytest.mark.parametrize("alg", ASYMMETRIC)
async def test_asymmetric_algorithms_validate_with_pem_and_jwks(alg: str) -> None:
    key = KEYS[alg]
    token = key.sign(claims(jti=f"j-{alg}"))
    by_pem = JWTValidator(issuer=ISSUER, audience=AUDIENCE, algorithms=[alg], keys=key.public_pem)
    by_jwks = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=[alg], keys=StaticJWKS(jwks(key))
    )
    assert (await by_pem.validate(token))["jti"] == f"j-{alg}"
    assert dict(await by_jwks.validate(token)) == claims(jti=f"j-{alg}")


# --- claims ------------------------------------------------------------------------------


async def test_expired_and_leeway() -> None:
    validator = hmac_validator(leeway_s=30)
    now = int(time.time())
    assert await refused(validator, hs256(claims(exp=now - 60))) == "the token has expired"
    assert (await validator.validate(hs256(claims(exp=now - 10))))["sub"] == "user-1"


async def test_not_yet_valid() -> None:
    validator = hmac_validator(leeway_s=30)
    future = int(time.time()) + 120
    assert await refused(validator, hs256(claims(nbf=future))) == "the token is not yet valid"
    assert await refused(validator, hs256(claims(iat=future))) == "the token is not yet valid"


async def test_wrong_issuer_and_audience() -> None:
    validator = hmac_validator()
    assert (
        await refused(validator, hs256(claims(iss="https://evil.test/")))
        == "the token's issuer is not accepted"
    )
    assert (
        await refused(validator, hs256(claims(aud="https://other.test")))
        == "the token's audience is not accepted"
    )
    lacks = "the token lacks the required claim"
    assert await refused(validator, hs256(claims(iss=None))) == f"{lacks} 'iss'"
    assert await refused(validator, hs256(claims(aud=None))) == f"{lacks} 'aud'"


async def test_audience_is_required_unless_explicitly_none() -> None:
    with pytest.raises(TypeError):
        JWTValidator(  # type: ignore[call-arg]
            issuer=ISSUER, algorithms=["HS256"], keys=HMAC_SECRET
        )
    anyone = hmac_validator(audience=None)
    assert (await anyone.validate(hs256(claims(aud="https://whatever.test"))))["sub"] == "user-1"
    assert (await anyone.validate(hs256(claims(aud=None, jti="x"))))["jti"] == "x"


async def test_audience_list_accepts_any_of_them() -> None:
    validator = hmac_validator(audience=["https://a.test", AUDIENCE])
    assert (await validator.validate(hs256(claims())))["aud"] == AUDIENCE


async def test_missing_exp_is_refused_by_default() -> None:
    assert await refused(hmac_validator(), hs256(claims(exp=None))) == (
        "the token lacks the required claim 'exp'"
    )
    lax = hmac_validator(required_claims=())
    assert (await lax.validate(hs256(claims(exp=None))))["sub"] == "user-1"


async def test_bad_signature() -> None:
    other = pyjwt.encode(claims(), b"x" * 48, algorithm="HS256")
    assert await refused(hmac_validator(), other) == "the token's signature is invalid"
    rsa_token = KEYS["RS256"].sign(claims())
    header, _payload, signature = rsa_token.split(".")
    tampered = ".".join([header, b64url(json.dumps(claims(sub="admin")).encode()), signature])
    rsa = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], keys=KEYS["RS256"].public_pem
    )
    assert await refused(rsa, tampered) == "the token's signature is invalid"


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_can_never_be_allowed(alg: str) -> None:
    with pytest.raises(ConfigurationError, match="'none' can never be allowed"):
        hmac_validator(algorithms=["HS256", alg])


def test_configuration_refusals() -> None:
    with pytest.raises(ConfigurationError, match="at least one allowed algorithm"):
        hmac_validator(algorithms=[])
    with pytest.raises(ConfigurationError, match="unsupported JWT algorithm 'PS256'"):
        hmac_validator(algorithms=["PS256"])
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        JWTValidator(issuer=ISSUER, audience=AUDIENCE, algorithms=["HS256"], keys="short")
    with pytest.raises(ConfigurationError, match="at least 64 bytes"):
        hmac_validator(algorithms=["HS256", "HS512"], keys=b"k" * 48)
    # Key confusion refused at construction: a public key with an HMAC algorithm ...
    with pytest.raises(ConfigurationError, match=r"\['HS256'\] cannot be verified"):
        JWTValidator(
            issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256", "HS256"],
            keys=KEYS["RS256"].public_pem,
        )
    # ... an HMAC secret with an asymmetric one, a JWKS with HMAC, a curve mismatch.
    with pytest.raises(ConfigurationError, match=r"\['RS256'\] cannot be verified"):
        hmac_validator(algorithms=["RS256"])
    with pytest.raises(ConfigurationError, match="HMAC algorithms cannot be verified with a key"):
        hmac_validator(keys=StaticJWKS(jwks(KEYS["RS256"])))
    with pytest.raises(ConfigurationError, match=r"\['ES384'\] cannot be verified"):
        JWTValidator(
            issuer=ISSUER, audience=AUDIENCE, algorithms=["ES384"], keys=KEYS["ES256"].public_pem
        )
    private_pem = KEYS["RS256"].private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ConfigurationError, match="not a public key"):
        JWTValidator(issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], keys=private_pem)


def test_key_type_must_match_algorithm_family() -> None:
    rsa, ec256, ec384, ed = (KEYS[a].public for a in ("RS256", "ES256", "ES384", "EdDSA"))
    assert key_matches_algorithm(HMAC_SECRET, "HS256")
    assert not key_matches_algorithm(HMAC_SECRET, "RS256")
    assert not any(key_matches_algorithm(k, "HS256") for k in (rsa, ec256, ed))
    assert key_matches_algorithm(rsa, "RS512") and not key_matches_algorithm(rsa, "ES256")
    assert key_matches_algorithm(ec256, "ES256") and not key_matches_algorithm(ec256, "ES384")
    assert key_matches_algorithm(ec384, "ES384") and not key_matches_algorithm(ec384, "EdDSA")
    assert key_matches_algorithm(ed, "EdDSA") and not key_matches_algorithm(ed, "RS256")
    assert not key_matches_algorithm(rsa, "none")


# --- the attack set ----------------------------------------------------------------------


async def test_attack_alg_none() -> None:
    forged = raw_token({"alg": "none", "typ": "JWT"}, claims(sub="admin"))
    assert await refused(hmac_validator(), forged) == "the token's algorithm is not allowed"
    rsa = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], keys=KEYS["RS256"].public_pem
    )
    assert await refused(rsa, forged) == "the token's algorithm is not allowed"
    capitalised = raw_token({"alg": "None"}, claims(sub="admin"))
    assert await refused(rsa, capitalised) == "the token's algorithm is not allowed"


async def test_attack_hs_rs_key_confusion() -> None:
    """HS256 'signed' with the RSA public key PEM as the HMAC secret."""
    pem = KEYS["RS256"].public_pem
    signing_input = ".".join([
        b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
        b64url(json.dumps(claims(sub="admin")).encode()),
    ])
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64url(signature)}"
    rsa = JWTValidator(issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], keys=pem)
    assert await refused(rsa, forged) == "the token's algorithm is not allowed"
    by_jwks = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], keys=StaticJWKS(jwks(KEYS["RS256"]))
    )
    assert await refused(by_jwks, forged) == "the token's algorithm is not allowed"


async def test_attack_key_of_another_family_in_the_key_set() -> None:
    """Both RS256 and ES256 allowed: a token naming the EC key's kid with RS256 is refused
    by the family check before any verification."""
    rsa_key, ec_key = KEYS["RS256"], KEYS["ES256"]
    validator = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256", "ES256"],
        keys=StaticJWKS(jwks(rsa_key, ec_key)),
    )
    token = pyjwt.encode(claims(), rsa_key.private, algorithm="RS256", headers={"kid": ec_key.kid})
    assert await refused(validator, token) == "the token's algorithm does not match its key"


async def test_attack_stripped_signature() -> None:
    token = hs256(claims(sub="admin"))
    stripped = token.rsplit(".", 1)[0] + "."
    assert await refused(hmac_validator(), stripped) == "the token's signature is invalid"
    rsa_token = KEYS["RS256"].sign(claims())
    rsa = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], keys=KEYS["RS256"].public_pem
    )
    unsigned = rsa_token.rsplit(".", 1)[0]
    assert await refused(rsa, unsigned + ".") == "the token's signature is invalid"
    assert await refused(rsa, rsa_token.rsplit(".", 1)[0]) == "the token is malformed"


@pytest.mark.parametrize(
    "kid",
    ["../../../../etc/passwd", "' OR '1'='1' --", "https://evil.test/jwks.json", "a" * 2000,
     "kid\u0000null", "{{7*7}}"],
)
async def test_attack_kid_injection(kid: str) -> None:
    key = KEYS["RS256"]
    calls: list[str | None] = []

    class Recording(StaticJWKS):
        async def key_for(self, kid: str | None) -> VerificationKey:
            calls.append(kid)
            return await super().key_for(kid)

    validator = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], keys=Recording(jwks(key))
    )
    token = pyjwt.encode(claims(), key.private, algorithm="RS256", headers={"kid": kid})
    assert await refused(validator, token) == "the token's key id is unknown"
    # The kid is only ever a dictionary key; an absurdly long one is not even looked up.
    assert calls == ([] if len(kid) > 256 else [kid])


async def test_attack_kid_of_wrong_type() -> None:
    validator = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"], keys=StaticJWKS(jwks(KEYS["RS256"]))
    )
    token = raw_token({"alg": "RS256", "kid": {"$ne": ""}}, claims(), b"x" * 256)
    assert await refused(validator, token) == "the token is malformed"


async def test_attack_ecdsa_zero_signature() -> None:
    """r = s = 0 (the 'psychic signature'): must never verify."""
    key = KEYS["ES256"]
    token = raw_token({"alg": "ES256", "kid": key.kid}, claims(sub="admin"), b"\x00" * 64)
    validator = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256"], keys=StaticJWKS(jwks(key))
    )
    assert await refused(validator, token) == "the token's signature is invalid"
    by_pem = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256"], keys=key.public_pem
    )
    assert await refused(by_pem, token) == "the token's signature is invalid"


async def test_attack_oversized_token() -> None:
    validator = hmac_validator(max_token_bytes=8192)
    big = hs256(claims(padding="x" * 9000))
    assert await refused(validator, big) == "the token is too large"
    small_limit = hmac_validator(max_token_bytes=100)
    assert await refused(small_limit, hs256(claims())) == "the token is too large"


@pytest.mark.parametrize(
    "garbage",
    ["", "garbage", "a.b", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.!!!.abc", "ü.ü.ü",
     b64url(b"[1,2]") + "." + b64url(b"{}") + ".", b64url(b'{"alg":"HS256"}') + ".bm90anNvbg.x"],
)
async def test_attack_garbage(garbage: str) -> None:
    message = await refused(hmac_validator(), garbage)
    assert message in ("the token is malformed", "the token's algorithm is not allowed")


async def test_error_messages_never_echo_the_token_or_secret() -> None:
    token = pyjwt.encode(claims(exp=int(time.time()) - 3600), HMAC_SECRET, algorithm="HS256")
    message = await refused(hmac_validator(), token)
    assert token not in message and HMAC_SECRET.hex() not in message and "eyJ" not in message


# --- the cache ---------------------------------------------------------------------------


class CountingJWKS(StaticJWKS):
    lookups = 0

    async def key_for(self, kid: str | None) -> VerificationKey:
        self.lookups += 1
        return await super().key_for(kid)


async def test_cache_answers_a_validated_token_without_verifying_again() -> None:
    key = KEYS["ES256"]
    source = CountingJWKS(jwks(key))
    validator = JWTValidator(issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256"], keys=source)
    token = key.sign(claims(jti="cached"))
    first = await validator.validate(token)
    second = await validator.validate(token)
    assert first["jti"] == second["jti"] == "cached"
    assert source.lookups == 1
    with pytest.raises(TypeError):
        first["sub"] = "admin"  # type: ignore[index]  # the cached claims are read-only


async def test_cache_still_checks_expiry() -> None:
    validator = hmac_validator(leeway_s=0)
    token = hs256(claims(exp=int(time.time()) + 1))
    assert (await validator.validate(token))["sub"] == "user-1"
    await asyncio.sleep(2.1)
    assert await refused(validator, token) == "the token has expired"
    assert len(validator._cache) == 0  # and forgotten


async def test_cache_is_bounded_and_does_not_keep_refusals() -> None:
    validator = hmac_validator(cache_size=2)
    tokens = [hs256(claims(jti=str(i))) for i in range(3)]
    for token in tokens:
        await validator.validate(token)
    assert len(validator._cache) == 2
    assert [c.claims["jti"] for c in validator._cache.values()] == ["1", "2"]
    await refused(validator, hs256(claims(aud="https://other.test")))
    assert len(validator._cache) == 2
