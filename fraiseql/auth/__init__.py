"""Authentication: a request becomes a Principal (see principal.py, middleware.py)."""

from fraiseql.auth.middleware import Auth
from fraiseql.auth.principal import ANONYMOUS, AuthenticationError, Authenticator, Principal

__all__ = ["ANONYMOUS", "Auth", "AuthenticationError", "Authenticator", "Principal"]
