"""Authorization: the audit log (audit.py) and the security checks of ``fraiseql check``."""
