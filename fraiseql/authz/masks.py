"""What a masked field shows a caller who may not read it, computed in SQL.

    email: str | None = fraiseql.field(requires_scope="read:pii", on_deny="mask",
                                       mask="email")

``mask=None`` (the default) shows null, and needs a nullable field. The named masks
work on the field's text: ``"email"`` keeps the first character and the domain
(``alice@example.com`` -> ``a***@example.com``), ``"last4"`` keeps the last four
characters (``****1234``), ``"redact"`` shows ``***``. Any other name must be a
schema-qualified SQL function ``text -> text`` (``"app.mask_phone"``).

Python resolvers' objects are masked in Python with the same rules (a SQL function
mask shows null there: it cannot run outside the database).
"""

from __future__ import annotations

from fraiseql.compiler.sql import ident
from fraiseql.errors import ConfigurationError

_SQL = {
    "email": ("CASE WHEN strpos({t}, '@') > 1 THEN left({t}, 1) || '***' || "
              "substr({t}, strpos({t}, '@')) ELSE '***' END"),
    "last4": "CASE WHEN length({t}) > 4 THEN '****' || right({t}, 4) ELSE '****' END",
    "redact": "'***'",
}


def check_mask(mask: str | None) -> None:
    """Refuse a mask that is neither a named one nor a qualified SQL function name."""
    if mask is None or mask in _SQL:
        return
    if "." not in mask:
        raise ConfigurationError(f"mask={mask!r}: use one of {', '.join(sorted(_SQL))}, None, "
                                 "or a schema-qualified SQL function such as 'app.mask_phone'")
    try:
        ident(mask)
    except ValueError:
        raise ConfigurationError(f"mask={mask!r} is not a valid SQL function name") from None


def masked_sql(mask: str | None, as_text: str) -> str:
    """The masked value as SQL (text, or NULL), from the field's text ``as_text``."""
    if mask is None:
        return "NULL"
    template = _SQL.get(mask)
    expression = template.format(t=as_text) if template else f"{ident(mask)}({as_text})"
    return f"(CASE WHEN {as_text} IS NULL THEN NULL ELSE ({expression})::text END)"


def masked_value(mask: str | None, value: object) -> object:
    """The same mask in Python, for objects a Python resolver returned."""
    if value is None or mask is None or mask not in _SQL:
        return None
    text = str(value)
    if mask == "email":
        at = text.find("@")
        return text[0] + "***" + text[at:] if at > 0 else "***"
    if mask == "last4":
        return "****" + text[-4:] if len(text) > 4 else "****"
    return "***"
