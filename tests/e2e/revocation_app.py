"""The blog app with every revocable credential, for tests/e2e/test_auth_revocation.py.

Dev tokens (FRAISEQL_DEV_AUTH_SECRET, asked first), session access tokens (signed with
REVOCATION_TEST_SESSION_SECRET), API keys, and revoked token ids on the app's database.
"""

from __future__ import annotations

import os

import fraiseql
from examples.blog.app import schema
from fraiseql.auth import Auth
from fraiseql.auth.api_keys import ApiKeyAuthenticator
from fraiseql.auth.sessions import AccessTokens, SessionAuthenticator, SessionStore

SESSION_SECRET_ENV = "REVOCATION_TEST_SESSION_SECRET"

settings = fraiseql.Settings.from_env()
url = settings.database_url
assert url is not None
app = fraiseql.create_app(schema, settings, auth=Auth(
    [SessionAuthenticator(SessionStore(url), AccessTokens(os.environ[SESSION_SECRET_ENV])),
     ApiKeyAuthenticator(url)],
    revocations=True))
