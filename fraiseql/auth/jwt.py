"""JWT validation: one validator per trusted issuer, an explicit algorithm allow-list.

    validator = JWTValidator(
        issuer="https://auth.example.com/", audience="https://api.example.com",
        algorithms=["RS256"], keys=oidc_provider,       # or an HMAC secret, a PEM public key
    )
    claims = await validator.validate(token)            # raises AuthenticationError

What it refuses, each with a stable message (``AuthenticationError.message``): oversized or
malformed tokens, algorithms outside the allow-list (``none`` can never be allowed), a key
whose type does not match the token's algorithm family (checked here, not only by PyJWT,
so an RSA public key can never serve as an HMAC secret), unknown key ids, bad signatures,
expired / not yet valid tokens, wrong issuer or audience, missing required claims.

Validated tokens are remembered in a bounded LRU keyed by the token's SHA-256, until the
token's ``exp``: a cached answer still re-checks ``exp`` and ``nbf`` with the leeway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, TypeAlias

try:
    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
except ImportError as exc:  # an optional extra: say how to get it
    raise ImportError(f"JWT authentication needs: pip install 'fraiseql[auth]' ({exc})") from exc

from fraiseql.auth.principal import AuthenticationError
from fraiseql.errors import ConfigurationError

PublicKey: TypeAlias = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
# A key that verifies signatures: an HMAC secret (bytes) or a public key.
VerificationKey: TypeAlias = bytes | PublicKey
Claims: TypeAlias = Mapping[str, Any]

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
EC_ALGORITHMS = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1}
EDDSA_ALGORITHMS = frozenset({"EdDSA"})
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | RSA_ALGORITHMS | set(EC_ALGORITHMS) | EDDSA_ALGORITHMS

# An HMAC secret shorter than the hash output is weaker than the hash (RFC 7518 section 3.2).
MIN_HMAC_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
MAX_KID_LENGTH = 256


class KeySource(Protocol):
    """Where the verification key of a token's ``kid`` comes from (a JWKS, an OIDC provider)."""

    async def key_for(self, kid: str | None) -> VerificationKey:
        """The key for this key id; raises AuthenticationError("unknown key id") if none."""
        ...


def key_matches_algorithm(key: VerificationKey, algorithm: str) -> bool:
    """Whether this key may verify a token signed with this algorithm (its family and curve)."""
    if algorithm in HMAC_ALGORITHMS:
        return isinstance(key, bytes)
    if algorithm in RSA_ALGORITHMS:
        return isinstance(key, rsa.RSAPublicKey)
    if algorithm in EC_ALGORITHMS:
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(
            key.curve, EC_ALGORITHMS[algorithm]
        )
    if algorithm in EDDSA_ALGORITHMS:
        return isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    return False


def _as_key(keys: str | bytes | PublicKey) -> VerificationKey:
    """A configured key: a PEM public key (text starting with -----BEGIN) or an HMAC secret."""
    if isinstance(keys, str):
        keys = keys.encode()
    if not isinstance(keys, bytes):
        return keys
    if keys.lstrip().startswith(b"-----BEGIN"):
        try:
            loaded = load_pem_public_key(keys)
        except ValueError as exc:
            raise ConfigurationError(
                "the JWT key looks like PEM but is not a public key (give the issuer's PUBLIC key)"
            ) from exc
        if not isinstance(
            loaded,
            rsa.RSAPublicKey | ec.EllipticCurvePublicKey
            | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey,
        ):
            raise ConfigurationError(f"unsupported JWT public key type {type(loaded).__name__}")
        return loaded
    return keys


@dataclass
class _Cached:
    claims: Claims
    exp: float
    nbf: float | None


class JWTValidator:
    """Validates the tokens of one issuer (see the module docstring)."""

    def __init__(
        self,
        *,
        issuer: str | Collection[str] | None,
        audience: str | Collection[str] | None,
        algorithms: Sequence[str],
        keys: str | bytes | PublicKey | KeySource,
        leeway_s: float = 30,
        max_token_bytes: int = 8192,
        required_claims: Sequence[str] = ("exp",),
        cache_size: int = 10_000,
    ) -> None:
        algorithms = list(algorithms)
        if not algorithms:
            raise ConfigurationError("a JWT validator needs at least one allowed algorithm")
        for alg in algorithms:
            if alg.lower() == "none":
                raise ConfigurationError("the JWT algorithm 'none' can never be allowed")
            if alg not in SUPPORTED_ALGORITHMS:
                raise ConfigurationError(
                    f"unsupported JWT algorithm {alg!r}; use one of {sorted(SUPPORTED_ALGORITHMS)}"
                )
        self._static_key: VerificationKey | None = None
        self._key_source: KeySource | None = None
        if isinstance(keys, str | bytes) or not hasattr(keys, "key_for"):
            self._static_key = _as_key(keys)
            wrong = [a for a in algorithms if not key_matches_algorithm(self._static_key, a)]
            if wrong:
                kind = "HMAC secret" if isinstance(self._static_key, bytes) else "public key"
                raise ConfigurationError(
                    f"algorithms {wrong} cannot be verified with the configured {kind} "
                    "(the key type must match the algorithm family)"
                )
            if isinstance(self._static_key, bytes):
                needed = max(MIN_HMAC_SECRET_BYTES[a] for a in algorithms)
                if len(self._static_key) < needed:
                    raise ConfigurationError(
                        f"the JWT HMAC secret must be at least {needed} bytes of random data "
                        f"for {sorted(algorithms)}"
                    )
        else:
            self._key_source = keys
            if HMAC_ALGORITHMS & set(algorithms):
                # A published key set holds public keys: an HMAC algorithm there is key confusion.
                raise ConfigurationError("HMAC algorithms cannot be verified with a key set (JWKS)")
        self.issuer = issuer if issuer is None or isinstance(issuer, str) else list(issuer)
        self.audience = (
            audience if audience is None or isinstance(audience, str) else list(audience)
        )
        self.algorithms = frozenset(algorithms)
        self.leeway_s = leeway_s
        self.max_token_bytes = max_token_bytes
        self.required_claims = list(required_claims)
        self._cache: OrderedDict[bytes, _Cached] = OrderedDict()
        self._cache_size = cache_size

    async def validate(self, token: str) -> Claims:
        """The token's claims (read-only), or AuthenticationError saying what is wrong."""
        if not isinstance(token, str) or not token:
            raise AuthenticationError("the token is malformed")
        if len(token) > self.max_token_bytes:  # str length >= ASCII byte length, checked below
            raise AuthenticationError("the token is too large")
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError:
            raise AuthenticationError("the token is malformed") from None
        digest = hashlib.sha256(raw).digest()
        cached = self._cache.get(digest)
        now = time.time()
        if cached is not None:
            if now > cached.exp + self.leeway_s:
                del self._cache[digest]  # expired for good
            self._check_times(cached.exp, cached.nbf, now)
            self._cache.move_to_end(digest)
            return cached.claims
        claims = await self._decode(token)
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            nbf = claims.get("nbf")
            self._remember(digest, _Cached(claims, float(exp), nbf if _is_number(nbf) else None))
        return claims

    def _check_times(self, exp: float, nbf: float | None, now: float) -> None:
        if now > exp + self.leeway_s:
            raise AuthenticationError("the token has expired")
        if nbf is not None and now + self.leeway_s < nbf:
            raise AuthenticationError("the token is not yet valid")

    def _remember(self, digest: bytes, entry: _Cached) -> None:
        self._cache[digest] = entry
        if len(self._cache) > self._cache_size:
            # Drop the least recently used; expired entries go first when they are touched.
            self._cache.popitem(last=False)

    async def _decode(self, token: str) -> Claims:
        header = unverified_segment(token, 0)
        if header is None:
            raise AuthenticationError("the token is malformed")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise AuthenticationError("the token's algorithm is not allowed")
        key = await self._key(header.get("kid"))
        if not key_matches_algorithm(key, alg):
            raise AuthenticationError("the token's algorithm does not match its key")
        options: dict[str, Any] = {
            "require": self.required_claims,
            "verify_aud": self.audience is not None,
        }
        try:
            claims = pyjwt.decode(
                token, key=key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                leeway=self.leeway_s, options=options,  # type: ignore[arg-type]
            )
        except pyjwt.ExpiredSignatureError:
            raise AuthenticationError("the token has expired") from None
        except pyjwt.ImmatureSignatureError:
            raise AuthenticationError("the token is not yet valid") from None
        except pyjwt.InvalidIssuerError:
            raise AuthenticationError("the token's issuer is not accepted") from None
        except pyjwt.InvalidAudienceError:
            raise AuthenticationError("the token's audience is not accepted") from None
        except pyjwt.InvalidSignatureError:
            raise AuthenticationError("the token's signature is invalid") from None
        except pyjwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(f"the token lacks the required claim {exc.claim!r}") from None
        except pyjwt.InvalidAlgorithmError:
            raise AuthenticationError("the token's algorithm is not allowed") from None
        except (pyjwt.PyJWTError, ValueError, TypeError):
            # DecodeError, a bad claim type (iat, sub, jti), a key PyJWT refuses.
            raise AuthenticationError("the token is malformed") from None
        return MappingProxyType(claims)

    async def _key(self, kid: object) -> VerificationKey:
        if self._static_key is not None:
            return self._static_key  # one configured key: a kid names nothing here
        assert self._key_source is not None
        if kid is not None and (not isinstance(kid, str) or not kid):
            raise AuthenticationError("the token is malformed")
        if isinstance(kid, str) and len(kid) > MAX_KID_LENGTH:
            raise AuthenticationError("the token's key id is unknown")
        return await self._key_source.key_for(kid)


def unverified_segment(token: str, index: int) -> dict[str, Any] | None:
    """The JSON object of a JWT's header (0) or payload (1), NOT verified; None if unreadable.

    Only to choose the algorithm, key or provider: PyJWT parses and verifies it again.
    (PyJWT's own get_unverified_header costs as much as the whole verification.)
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    segment = parts[index]
    try:
        data = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return None
    return data if isinstance(data, dict) else None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, PublicKey]:
    """The usable signature public keys of a JWKS document, by kid.

    Skipped: keys for encryption (``use`` other than ``sig``), symmetric (``oct``) keys,
    private keys, and keys PyJWT cannot read. Keys without a kid are stored under "".
    """
    keys: dict[str, PublicKey] = {}
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise ValueError("the JWKS has no 'keys' list")  # noqa: TRY004 - a bad document
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") == "oct" or "d" in entry:
            continue
        try:
            key = pyjwt.PyJWK(entry).key
        except (pyjwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        if isinstance(
            key,
            rsa.RSAPublicKey | ec.EllipticCurvePublicKey
            | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey,
        ):
            kid = entry.get("kid")
            keys[kid if isinstance(kid, str) else ""] = key
    return keys


def pick_key(keys: Mapping[str, PublicKey], kid: str | None) -> PublicKey | None:
    """The key for kid; a token without kid is accepted only when the set has one key."""
    if kid is None:
        return next(iter(keys.values())) if len(keys) == 1 else None
    return keys.get(kid)


class StaticJWKS:
    """A fixed JWKS (no fetching): for issuers whose keys are configured, and for tests."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self.keys = keys_from_jwks(jwks)
        if not self.keys:
            raise ConfigurationError("the JWKS holds no usable signature public key")

    async def key_for(self, kid: str | None) -> VerificationKey:
        key = pick_key(self.keys, kid)
        if key is None:
            raise AuthenticationError("the token's key id is unknown")
        return key
