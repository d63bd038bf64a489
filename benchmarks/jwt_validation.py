"""µs per JWT validation, uncached vs cached, for HS256, RS256, ES256 and EdDSA.

    python benchmarks/jwt_validation.py [--uncached 500] [--cached 20000] [--rounds 3]

"Uncached": every token is new to the validator (parse, key lookup by kid, signature
verification, claims checks, cache insertion). "Cached": the same token again (SHA-256 of
the token, LRU lookup, exp/nbf re-check). Asymmetric keys come from a JWKS, as with an OIDC
provider. Tokens are signed before the clock starts. Rounds alternate the algorithms; the
median round is printed. Targets: < 1 ms cached, < 10 ms uncached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fraiseql.auth.jwt import JWTValidator, KeySource, StaticJWKS

ISSUER, AUDIENCE = "https://issuer.bench/", "https://api.bench"


def setup(alg: str) -> tuple[Any, KeySource | bytes]:
    """(signing key, what the validator verifies with)."""
    if alg == "HS256":
        secret = os.urandom(32)
        return secret, secret
    private: Any
    if alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    jwk = pyjwt.get_algorithm_by_name(alg).to_jwk(private.public_key(), as_dict=True)
    return private, StaticJWKS({"keys": [{**jwk, "kid": "k1", "use": "sig"}]})


def tokens(alg: str, signing_key: Any, count: int) -> list[str]:
    now = int(time.time())
    return [
        pyjwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": f"user-{i}", "exp": now + 3600, "iat": now,
             "jti": f"{alg}-{i}-{os.urandom(4).hex()}", "roles": ["editor"], "scope": "read write"},
            signing_key, algorithm=alg, headers={"kid": "k1"},
        )
        for i in range(count)
    ]


async def measure(alg: str, uncached: int, cached: int) -> tuple[float, float]:
    signing_key, keys = setup(alg)
    validator = JWTValidator(
        issuer=ISSUER, audience=AUDIENCE, algorithms=[alg], keys=keys, cache_size=uncached + 10
    )
    fresh = tokens(alg, signing_key, uncached)
    start = time.perf_counter()
    for token in fresh:
        await validator.validate(token)
    uncached_us = (time.perf_counter() - start) / uncached * 1e6
    token = fresh[0]
    start = time.perf_counter()
    for _ in range(cached):
        await validator.validate(token)
    cached_us = (time.perf_counter() - start) / cached * 1e6
    return uncached_us, cached_us


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uncached", type=int, default=500)
    parser.add_argument("--cached", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    algorithms = ["HS256", "RS256", "ES256", "EdDSA"]
    results: dict[str, list[tuple[float, float]]] = {alg: [] for alg in algorithms}
    for alg in algorithms:  # warm-up (imports, first-use costs), not counted
        await measure(alg, 20, 200)
    for round_no in range(args.rounds):
        order = algorithms if round_no % 2 == 0 else list(reversed(algorithms))
        for alg in order:
            results[alg].append(await measure(alg, args.uncached, args.cached))
    print(f"JWT validation, µs per token (median of {args.rounds} rounds; "
          f"{args.uncached} fresh tokens, {args.cached} cached hits per round)")
    print(f"{'algorithm':<10} {'uncached µs':>12} {'cached µs':>10}   rounds (uncached / cached)")
    for alg in algorithms:
        rounds = results[alg]
        u = statistics.median(r[0] for r in rounds)
        c = statistics.median(r[1] for r in rounds)
        detail = ", ".join(f"{r[0]:.1f}/{r[1]:.2f}" for r in rounds)
        print(f"{alg:<10} {u:>12.1f} {c:>10.2f}   {detail}")


if __name__ == "__main__":
    asyncio.run(main())
