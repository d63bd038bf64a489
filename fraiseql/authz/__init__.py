"""Authorization: who may run which operation and read which field, in which tenant.

rules.py: the requirements declared on operations and fields (roles, permissions,
scopes) and the checkpoint every request passes before any SQL runs; tenancy.py:
the tenant predicate and tenant resolution; rbac.py: roles, permissions and grants
stored in the framework schema; audit.py: the hash-chained audit log.
"""
