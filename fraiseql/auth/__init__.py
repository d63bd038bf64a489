"""Authentication: a request becomes a Principal (see principal.py)."""

from fraiseql.auth.principal import ANONYMOUS, AuthenticationError, Authenticator, Principal

__all__ = ["ANONYMOUS", "AuthenticationError", "Authenticator", "Principal"]
