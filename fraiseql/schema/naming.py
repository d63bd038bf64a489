"""The one camelCase <-> snake_case converter.

Python and SQL speak snake_case, GraphQL speaks camelCase. Every name crosses
the boundary through these two functions so the mapping is the same for the
schema, the compiler and error messages. Digits stay glued to the word before
them (``dns_1_id`` -> ``dns1Id`` -> ``dns_1_id``) and acronyms keep their
letters together (``HTTPServer`` -> ``http_server``).
"""

from __future__ import annotations

import re
from functools import lru_cache

_LEADING_UNDERSCORES = re.compile(r"^_*")
# A boundary: lower/digit -> upper, or an acronym's end (upper -> upper+lower).
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# Digits after letters become their own word, so dns1Id -> dns_1_id.
_DIGIT_BOUNDARY = re.compile(r"(?<=[A-Za-z])(?=[0-9])")


@lru_cache(maxsize=4096)
def to_camel(name: str) -> str:
    """Convert a snake_case Python name to its camelCase GraphQL name."""
    prefix = _LEADING_UNDERSCORES.match(name).group(0)  # type: ignore[union-attr]
    words = [w for w in name[len(prefix):].split("_") if w]
    if not words:
        return name
    head, *tail = words
    return prefix + head[:1].lower() + head[1:] + "".join(w[:1].upper() + w[1:] for w in tail)


@lru_cache(maxsize=4096)
def to_snake(name: str) -> str:
    """Convert a camelCase GraphQL name to its snake_case Python/SQL name."""
    prefix = _LEADING_UNDERSCORES.match(name).group(0)  # type: ignore[union-attr]
    body = _CAMEL_BOUNDARY.sub("_", name[len(prefix):])
    body = _DIGIT_BOUNDARY.sub("_", body)
    return prefix + body.lower()
