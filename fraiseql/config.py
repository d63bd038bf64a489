"""Settings: one frozen dataclass, the environment read in one place.

Every setting has a ``FRAISEQL_<NAME>`` environment variable. An unknown
``FRAISEQL_*`` variable or keyword fails the boot: configuration that is
accepted must be enforced, so a typo must not be silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from fraiseql.errors import ConfigurationError

# Variables that share the prefix but are not Settings fields (read by the CLI).
_NON_SETTING_VARIABLES = frozenset({
    "FRAISEQL_DATA_DIR", "FRAISEQL_HOME", "FRAISEQL_TEST_DATABASE_URL", "FRAISEQL_UPDATE_GOLDEN"})

# Settings whose value is one of a few words.
_CHOICES: dict[str, tuple[str, ...]] = {
    "apq_mode": ("optional", "required", "disabled"),
    "apq_store": ("memory", "postgres"),
    "trusted_documents": ("off", "strict"),
    "env": ("development", "production"),
    "introspection": ("public", "authenticated", "disabled"),
}
# Earlier boolean spellings of the introspection setting.
_INTROSPECTION_ALIASES = {"true": "public", "1": "public", "yes": "public", "on": "public",
                          "false": "disabled", "0": "disabled", "no": "disabled",
                          "off": "disabled"}


@dataclass(frozen=True)
class Settings:
    """Everything a FraiseQL app can be told; immutable once built."""

    database_url: str | None = None
    pool_min_size: int = 2
    pool_max_size: int = 16
    # Server-side prepared statements; turn off behind PgBouncer in transaction mode.
    prepared_statements: bool = True
    statement_timeout_ms: int = 30_000
    connect_timeout_s: float = 5.0
    max_page_size: int = 1000
    max_body_bytes: int = 1_000_000
    max_query_depth: int = 15
    max_aliases: int = 100
    plan_cache_size: int = 1000
    graphiql: bool = True
    # Who may run __schema / __type: public, authenticated (not anonymous) or disabled.
    # Callers who may not also get no "Did you mean ...?" in validation messages.
    introspection: str = "public"
    # Automatic persisted queries (Apollo protocol): optional, required or disabled;
    # stored per process (memory) or in fraiseql.persisted_queries (postgres).
    apq_mode: str = "optional"
    apq_store: str = "memory"
    apq_cache_size: int = 1000
    # strict: only documents registered with `fraiseql documents register` run.
    trusted_documents: str = "off"
    # The result cache of queries declared with @fraiseql.query(cache_ttl=...): per
    # process, bounded in entries and bytes (LRU); false turns it off entirely.
    result_cache: bool = True
    result_cache_max_bytes: int = 64 * 1024 * 1024
    result_cache_max_entries: int = 10_000
    # production: development conveniences (dev tokens) refuse to boot.
    env: str = "development"
    # Set by `fraiseql dev` (or by you): HS256 dev tokens from `fraiseql token` are accepted.
    dev_auth_secret: str | None = dataclasses.field(default=None, repr=False)
    # Authentication without code (fraiseql/auth/settings.py), used when the app is
    # created without auth=: a JWT issuer, X-API-Key keys, revoked token ids.
    auth_provider: str | None = None  # oidc (default with an issuer), auth0, keycloak, ...
    auth_issuer: str | None = None
    auth_audience: str | None = None  # comma-separated when several are accepted
    auth_algorithms: str = "RS256"  # comma-separated
    auth_api_keys: bool = False
    auth_required: bool = False
    auth_revocation: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.introspection, bool) or str(self.introspection).lower() in \
                _INTROSPECTION_ALIASES:
            spelled = str(self.introspection).lower()
            object.__setattr__(self, "introspection", _INTROSPECTION_ALIASES[spelled])
        for name in ("pool_max_size", "max_page_size", "max_body_bytes", "max_query_depth",
                     "max_aliases", "plan_cache_size", "statement_timeout_ms",
                     "apq_cache_size", "result_cache_max_bytes", "result_cache_max_entries"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"setting {name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.pool_min_size <= self.pool_max_size:
            raise ConfigurationError("setting pool_min_size must be between 0 and pool_max_size")
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigurationError(f"setting {name} must be one of {', '.join(allowed)}, "
                                         f"got {getattr(self, name)!r}")
        if self.env == "production" and self.dev_auth_secret:
            raise ConfigurationError(
                "FRAISEQL_DEV_AUTH_SECRET is set but FRAISEQL_ENV=production: dev tokens are "
                "never accepted in production; unset FRAISEQL_DEV_AUTH_SECRET")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from FRAISEQL_* variables, then keyword overrides."""
        env = os.environ if environ is None else environ
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in env.items():
            if not key.startswith("FRAISEQL_") or key in _NON_SETTING_VARIABLES:
                continue
            name = key[len("FRAISEQL_"):].lower()
            if name not in known:
                raise ConfigurationError(f"unknown setting {key}; known: {', '.join(sorted(known))}")
            values[name] = _parse(known[name], raw, key)
        if "database_url" not in values and env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        unknown = set(overrides) - set(known)
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)


def _parse(field: dataclasses.Field[Any], raw: str, key: str) -> Any:
    kind = str(field.type)
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return lowered in ("1", "true", "yes", "on")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigurationError(f"{key}={raw!r} is not a valid {kind}") from None
    return raw
