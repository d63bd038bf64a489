"""Test helpers for FraiseQL apps: real PostgreSQL fixtures (``fraiseql.testing.postgres``)."""
