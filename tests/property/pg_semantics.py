"""PostgreSQL semantics the where model needs, stated plainly in Python.

Each function is written from PostgreSQL's documentation (LIKE, POSIX regex,
jsonb containment and existence, inet/cidr, macaddr, ltree, daterange) and
pgvector's distance definitions, not from FraiseQL's compiler. Parsers raise
``ValueError`` for what PostgreSQL (or FraiseQL's scalar) refuses, and
:class:`NotModelled` for input whose meaning only PostgreSQL can tell.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import math
import re
from dataclasses import dataclass
from typing import Any


class NotModelled(Exception):
    """An operand the model cannot evaluate without re-implementing PostgreSQL."""


# --- text ---------------------------------------------------------------------------------------


def pg_lower(text: str) -> str:
    """lower() of PostgreSQL's UTF-8 locale: one character to one (Python maps İ to two)."""
    return "".join(c.lower()[:1] or c for c in text)


def like_regex(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern (``%`` any text, ``_`` one character, ``\\`` escapes) as a Python regex."""
    out, chars = [], iter(pattern)
    for c in chars:
        if c == "\\":
            escaped = next(chars, None)
            if escaped is None:
                # PostgreSQL: "LIKE pattern must not end with escape character", but only
                # once matching reaches the end of the pattern, which depends on the text.
                raise NotModelled("LIKE pattern ends with an escape character")
            out.append(re.escape(escaped))
        elif c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.DOTALL)


def like_pattern_is_complete(pattern: str) -> bool:
    """Whether a LIKE pattern does not end with an unescaped escape character."""
    return (len(pattern) - len(pattern.rstrip("\\"))) % 2 == 0


def like(text: str, pattern: str, ignore_case: bool = False) -> bool:
    if ignore_case:  # ILIKE lowers both sides, then matches as LIKE
        text, pattern = pg_lower(text), pg_lower(pattern)
    return like_regex(pattern).fullmatch(text) is not None


# Regex operands the model evaluates: literal letters, digits and spaces, ^ $ . and a * after a
# literal or a dot. Both dialects (PostgreSQL's ARE, Python's re) read these the same.
SAFE_REGEX_LITERALS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")


def safe_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    out: list[str] = []
    for i, c in enumerate(pattern):
        if c in SAFE_REGEX_LITERALS:
            out.append(c)
        elif c == ".":
            out.append(".")
        elif c == "^":
            out.append(r"\A")
        elif c == "$":
            out.append(r"\Z")  # PostgreSQL's $ is the end, not "before a final newline"
        elif c == "*" and i > 0 and (pattern[i - 1] in SAFE_REGEX_LITERALS or pattern[i - 1] == "."):
            out.append("*")
        else:
            raise NotModelled(f"regex outside the safe subset: {pattern!r}")
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


# --- jsonb -------------------------------------------------------------------------------------


def jsonb(value: Any) -> Any:
    """A JSON value with numbers as Decimal (jsonb compares 1 and 1.0 equal, true and 1 not)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        return decimal.Decimal(str(value))
    if isinstance(value, str):
        if "\x00" in value:  # jsonb cannot hold \u0000
            raise ValueError("JSON text with NUL")
        return value
    if isinstance(value, list):
        return [jsonb(v) for v in value]
    return {jsonb(k): jsonb(v) for k, v in value.items()}


def _same_scalar(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def jsonb_contains(a: Any, b: Any, top: bool = True) -> bool:
    """``a @> b`` on normalized JSON values (see "jsonb Containment" in the manual)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and all(
            k in a and jsonb_contains(a[k], v, top=False) for k, v in b.items())
    if isinstance(a, list):
        if not isinstance(b, list):
            # The one exception: a top-level array contains a primitive it holds.
            return top and not isinstance(b, dict) and any(_same_scalar(x, b) for x in a)
        return all(any(jsonb_contains(x, item, top=False) for x in a
                       if isinstance(x, (dict, list)) == isinstance(item, (dict, list)))
                   for item in b)
    return not isinstance(b, (dict, list)) and _same_scalar(a, b)


def jsonb_has_key(value: Any, key: str) -> bool:
    """``value ? key``: an object's key, an array's string element, or the string itself."""
    if isinstance(value, dict):
        return key in value
    if isinstance(value, list):
        return any(isinstance(x, str) and x == key for x in value)
    return isinstance(value, str) and value == key


# --- network -----------------------------------------------------------------------------------

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

PRIVATE = [ipaddress.ip_network(n) for n in
           ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]
LOOPBACK = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128")]


def _pg_accepts_address(text: str) -> None:
    # Python also reads scope ids (fe80::1%eth0) and netmask prefixes (/255.0.0.0);
    # PostgreSQL refuses both.
    if "%" in text or "." in text.partition("/")[2]:
        raise ValueError(f"not an inet: {text!r}")


def inet(text: str) -> IPInterface:
    """An inet value: an address with its prefix length (10.0.0.1 is 10.0.0.1/32)."""
    _pg_accepts_address(text)
    return ipaddress.ip_interface(text)


def cidr(text: str) -> IPInterface:
    """A cidr value (no host bits), as an interface so it compares like an inet."""
    _pg_accepts_address(text)
    network = ipaddress.ip_network(text, strict=True)
    return ipaddress.ip_interface(f"{network.network_address}/{network.prefixlen}")


def inside(a: IPInterface, b: IPInterface) -> bool:
    """``a <<= b``: a's network lies within b's (different families never do)."""
    return a.version == b.version and a.network.subnet_of(b.network)  # type: ignore[arg-type]


def inside_any(a: IPInterface, networks: list[Any]) -> bool:
    return any(a.version == n.version and a.network.subnet_of(n) for n in networks)


_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}")


def macaddr(text: str) -> str:
    """12 lowercase hex digits; PostgreSQL skips trailing whitespace, the scalar one newline."""
    body = text.removesuffix("\n")
    if not _MAC.fullmatch(body):
        raise ValueError(f"not a MAC address: {text!r}")
    return re.sub("[:-]", "", body).lower()


# --- ltree -------------------------------------------------------------------------------------

_LTREE = re.compile(r"([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)?")


def ltree(text: str) -> tuple[str, ...]:
    """The labels of a path ('' is the empty path, with no labels)."""
    if not _LTREE.fullmatch(text):
        raise ValueError(f"not an ltree: {text!r}")
    return tuple(text.split(".")) if text else ()


# --- daterange ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    """A canonical date range ``[lower, upper)`` as day ordinals; None is unbounded.

    ``empty`` ranges are all equal, whatever bounds they were written with.
    """

    lower: int | None
    upper: int | None
    empty: bool = False

    def holds(self, day: int) -> bool:
        return not self.empty and (self.lower is None or self.lower <= day) \
            and (self.upper is None or day < self.upper)


EMPTY = DateRange(None, None, True)
_SPACE = "[ \t\n\r\f\v]*"
_BOUND = rf"{_SPACE}([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}|-?infinity)?{_SPACE}"
_RANGE = re.compile(rf"([\[(]){_BOUND},{_BOUND}([\])])\n?", re.IGNORECASE)


def daterange(text: str) -> DateRange:
    """PostgreSQL's daterange input, canonicalized to ``[)`` (after FraiseQL's scalar check)."""
    if text.lower() == "empty":
        return EMPTY
    match = _RANGE.fullmatch(text)
    if not match:
        raise ValueError(f"not a date range: {text!r}")
    opening, low, high, closing = match.groups()
    if "infinity" in (low or "").lower() or "infinity" in (high or "").lower():
        raise NotModelled("infinity is a date value here, not an unbounded end")
    lower = datetime.date.fromisoformat(low).toordinal() if low else None
    upper = datetime.date.fromisoformat(high).toordinal() if high else None
    if lower is not None and upper is not None and lower > upper:
        raise ValueError("range lower bound must be less than or equal to the upper bound")
    if lower is not None and opening == "(":
        lower += 1
    if upper is not None and closing == "]":
        upper += 1
    if lower is not None and upper is not None and lower >= upper:
        return EMPTY
    return DateRange(lower, upper)


def _before(upper: int | None, lower: int | None) -> bool:
    """An upper end at or before a lower start (unbounded ends never are)."""
    return upper is not None and lower is not None and upper <= lower


def range_overlaps(a: DateRange, b: DateRange) -> bool:
    return not a.empty and not b.empty and not _before(a.upper, b.lower) \
        and not _before(b.upper, a.lower)


def range_contains(a: DateRange, b: DateRange) -> bool:
    if b.empty:
        return True
    if a.empty:
        return False
    lower_ok = a.lower is None or (b.lower is not None and a.lower <= b.lower)
    upper_ok = a.upper is None or (b.upper is not None and b.upper <= a.upper)
    return lower_ok and upper_ok


def range_adjacent(a: DateRange, b: DateRange) -> bool:
    if a.empty or b.empty:
        return False
    return (a.upper is not None and a.upper == b.lower) or \
        (b.upper is not None and b.upper == a.lower)


def strictly_left(a: DateRange, b: DateRange) -> bool:
    return not a.empty and not b.empty and _before(a.upper, b.lower)


def range_text(r: DateRange) -> str:
    """The canonical text of a range (as PostgreSQL prints it)."""
    if r.empty:
        return "empty"
    day = datetime.date.fromordinal
    low = day(r.lower).isoformat() if r.lower is not None else ""
    high = day(r.upper).isoformat() if r.upper is not None else ""
    return f"{'[' if r.lower is not None else '('}{low},{high})"


# --- vectors (pgvector) ------------------------------------------------------------------------


def _dot(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def cosine_distance(a: list[float], b: list[float]) -> float:
    return 1 - _dot(a, b) / (math.sqrt(_dot(a, a)) * math.sqrt(_dot(b, b)))


def l2_distance(a: list[float], b: list[float]) -> float:
    return math.dist(a, b)


def negative_inner_product(a: list[float], b: list[float]) -> float:
    return -_dot(a, b)


DISTANCES = {"cosineDistance": cosine_distance, "l2Distance": l2_distance,
             "innerProduct": negative_inner_product}
