"""The two-tenant app with the role store and audit, for tests/e2e/test_authz_processes.py."""

from __future__ import annotations

from tenants_db import SCHEMA, SECRET

import fraiseql
from fraiseql.auth import Auth
from fraiseql.auth.dev import DevAuthenticator
from fraiseql.authz import Authorization

app = fraiseql.create_app(SCHEMA, fraiseql.Settings.from_env(),
                          auth=Auth([DevAuthenticator(SECRET)]),
                          authz=Authorization(roles=True, audit=True))
