"""OpenID Connect discovery and the provider's signing keys (JWKS), cached.

    provider = OIDCProvider("https://auth.example.com/realms/main")
    await provider.start()          # at boot: discovery + JWKS, ConfigurationError if unreachable
    key = await provider.key_for(kid)   # a KeySource for JWTValidator

Rules:
- ``{issuer}/.well-known/openid-configuration`` must name exactly the configured issuer;
  the issuer and the ``jwks_uri`` must be HTTPS (plain HTTP only on loopback).
- The key set is kept ``jwks_ttl_s`` (10 min); an unknown ``kid`` triggers a refresh, but at
  most one fetch per ``refresh_interval_s`` (30 s) whatever the reason, so a flood of bogus
  kids cannot hammer the provider: between fetches an unknown kid fails closed.
- While the provider is down the last keys keep being served (a failed fetch keeps them).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

try:
    import httpx
except ImportError as exc:  # an optional extra: say how to get it
    raise ImportError(f"OIDC needs: pip install 'fraiseql[auth]' ({exc})") from exc

from fraiseql.auth.jwt import PublicKey, VerificationKey, keys_from_jwks, pick_key
from fraiseql.auth.principal import AuthenticationError
from fraiseql.errors import ConfigurationError

MAX_DOCUMENT_BYTES = 1 << 20  # a discovery document or JWKS larger than 1 MiB is refused


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str, what: str) -> None:
    """HTTPS, or plain HTTP to a loopback address (tests, a local identity provider)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return
    raise ConfigurationError(f"the {what} {url!r} must use https:// (http only on loopback)")


class OIDCProvider:
    """The discovery document and the cached JWKS of one OpenID Connect issuer."""

    def __init__(
        self,
        issuer: str,
        *,
        jwks_ttl_s: float = 600,
        refresh_interval_s: float = 30,
        timeout_s: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        require_secure_url(issuer, "OIDC issuer")
        self.issuer = issuer
        self.jwks_ttl_s = jwks_ttl_s
        self.refresh_interval_s = refresh_interval_s
        self._timeout = httpx.Timeout(timeout_s)
        self._client = client
        self._owns_client = client is None
        self.metadata: Mapping[str, Any] = {}
        self.jwks_uri: str | None = None
        self._keys: dict[str, PublicKey] = {}
        self._fetched_at = float("-inf")  # monotonic time of the last successful JWKS fetch
        self._attempted_at = float("-inf")  # ... of the last JWKS fetch attempt
        self._lock = asyncio.Lock()
        self.fetch_count = 0  # JWKS fetches attempted (observability, tests)

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    async def start(self) -> None:
        """Discovery and the first JWKS; ConfigurationError if either cannot be had."""
        try:
            await self._discover()
            async with self._lock:
                await self._fetch_jwks()
        except ConfigurationError:
            raise
        except (httpx.HTTPError, ValueError) as exc:
            raise ConfigurationError(
                f"the OIDC provider {self.issuer} is unreachable or answered badly at boot: "
                f"{_describe(exc)}"
            ) from None
        if not self._keys:
            raise ConfigurationError(
                f"the OIDC provider {self.issuer} publishes no usable signature key at "
                f"{self.jwks_uri}"
            )

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def key_for(self, kid: str | None) -> VerificationKey:
        now = time.monotonic()
        stale = now - self._fetched_at > self.jwks_ttl_s
        key = pick_key(self._keys, kid)
        if key is not None and (not stale or self._lock.locked()):
            return key  # stale but a refresh is under way: do not make requests wait for it
        # Unknown kid (rotation?) or a stale set: refetch, unless one was tried recently.
        await self._refresh_if_allowed()
        key = pick_key(self._keys, kid)
        if key is None:
            raise AuthenticationError("the token's key id is unknown")
        return key

    async def _refresh_if_allowed(self) -> None:
        async with self._lock:  # one fetch at a time; waiters see its result
            if time.monotonic() - self._attempted_at < self.refresh_interval_s:
                return
            try:
                if self.jwks_uri is None:
                    await self._discover()
                await self._fetch_jwks()
            except (httpx.HTTPError, ValueError, ConfigurationError):
                pass  # keep serving the keys we have; unknown kids fail closed

    async def _discover(self) -> None:
        document = await self._get_json(self.discovery_url)
        if document.get("issuer") != self.issuer:
            raise ConfigurationError(
                f"the OIDC discovery document at {self.discovery_url} names issuer "
                f"{document.get('issuer')!r}, not the configured {self.issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise ConfigurationError(
                f"the OIDC discovery document of {self.issuer} has no jwks_uri"
            )
        require_secure_url(jwks_uri, "OIDC jwks_uri")
        self.metadata, self.jwks_uri = document, jwks_uri

    async def _fetch_jwks(self) -> None:
        assert self.jwks_uri is not None
        self._attempted_at = time.monotonic()
        self.fetch_count += 1
        keys = keys_from_jwks(await self._get_json(self.jwks_uri))
        if keys:  # an empty set is a provider mistake, not a reason to drop the keys we have
            self._keys = keys
            self._fetched_at = time.monotonic()

    async def _get_json(self, url: str) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        async with self._client.stream("GET", url, headers={"accept": "application/json"}) as rsp:
            if rsp.status_code != 200:
                raise ValueError(f"GET {url} answered HTTP {rsp.status_code}")
            body = bytearray()
            async for chunk in rsp.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise ValueError(f"GET {url} answered more than {MAX_DOCUMENT_BYTES} bytes")
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError(f"GET {url} answered no JSON object")  # noqa: TRY004 - bad document
        return document


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc)
