"""Hypothesis strategies for random ``where`` trees over a FraiseQL type.

Fields are the type's scalar/enum fields and those of its embedded objects;
operators are the ones the operator table offers for the field's family (and
the model can evaluate); operands come from the fixture's own values, re-spelled
(other case, other offset) plus edge values per scalar.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import itertools
import uuid
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from fraiseql.schema.model import ObjectInfo
from fraiseql.schema.operators import graphql_name, operator_named, operators_for
from tests.property import pg_semantics as pg
from tests.property.where_model import EVALUATORS, Leaf, WhereModel, dig

EDGES: dict[str, list[Any]] = {
    "String": ["", "%", "_", "\\", "'", "a%", "plain ", "PLAIN", "ü", "Ü", "10", "9", "zz"],
    "Int": [0, -1, 9, 10, 11, 100, 2147483647, -2147483648],
    "Float": [0.0, -0.0, 9.99, 1e-05, 0.1, 0.30000000000000004, 1e300, -2.5],
    "Decimal": ["0", "-0", "19.900", "1E+2", "19.9", "9.999999999999999999999", "-0.50",
                "12345678901234567890.1234567890", 10, 19.9],
    "ID": ["", "%", "abc-1 ", "ABC_1"],
    "UUID": ["00000000-0000-0000-0000-000000000000"],
    "DateTime": ["2024-01-01T12:00:00.000001+00:00", "0001-01-01T00:00:00+00:00",
                 "2024-01-01T21:00:00+09:00", "9999-12-31T23:59:59+00:00"],
    "Date": ["0001-01-01", "9999-12-31", "2024-02-28", "2024-03-01"],
    "Time": ["00:00:00", "23:59:59.999999", "12:30:00.000001"],
    "Boolean": [True, False],
    "IPAddress": ["0.0.0.0/0", "::/0", "10.0.0.0/8", "192.168.1.1/32", "2001:db8::1/64",
                  "10.1.2.4", "::2"],
    "CIDR": ["0.0.0.0/0", "::/0", "10.0.0.0/8", "172.16.0.0/12", "2001:db8::/48",
             "10.1.2.3/32", "127.0.0.1/32", "fc00::/8"],
    "MacAddress": ["08:00:2b:01:02:04", "FF-FF-FF-FF-FF-FF", "010203040506"],
    "LTree": ["", "top", "Top", "science", "top.science.physics.quantum.more", "a-b"],
    "DateRange": ["(,)", "empty", "[2024-01-20,2024-01-31)", "[2023-12-31,2024-01-01]",
                  "(2024-02-29,)", "[2024-01-01,)", "(,2024-02-01)", "[2024-03-01,2024-03-02)",
                  "[2024-01-10,2024-01-12]", "(,2023-12-31]"],
    "Vector": [[0.5, -0.5, 0.25], [-3.0, 0.0, 4.0], [0.001, 0.0, 1.0]],
}

# Operands of the operators whose operand is not the field's own type.
TEXT_EDGES = ["", "%", "_", "\\", "a_b", "%_\\", "'", "plain", "PLAIN", "ü", "Ü", "0", "x"]
LIKE_PATTERNS = ["%", "_", "", "%a%", "p%", "P%", "%n", "_lain", "%\\%%", "100\\%", "a\\_b",
                 "a_b", "%\\\\%", "_%_", "%ü%", "%Ü%", "P_AIN", "%\\_%", "%'%", "__", "%日%"]
REGEXES = ["^p", "a$", "P.a", "^$", "l*", ".", "^.*n$", "a*b", "10", "^PL", "^..$", "i.*e",
           "^a b", "plain", "0*$", "^1.*"]
REGEX_ATOMS = list("plainPLAINab10 ") + ["."]
JSON_KEYS = ["a", "b", "c", "n", "tags", "x", "1", "", "missing", "%", "A"]
JSON_EDGES: list[Any] = [{}, [], {"a": 1}, {"a": 1.5}, {"a": "1"}, "a", 1, True, False, 0,
                         {"b": {}}, {"b": {"c": [2]}}, [[2]], ["a"], [1], {"tags": ["x"]},
                         {"n": None}, [{"a": 1}], {"a": 1, "b": {"c": [1, 2]}}, "x", "text",
                         [1, "a"], {"a": [1]}]
DATES = ["2024-01-01", "2024-01-31", "2024-02-01", "2024-02-29", "2023-12-31", "2024-03-01",
         "2024-01-20", "2024-01-15", "0001-01-01", "9999-12-31"]
INTS = [-1, 0, 1, 2, 3, 4]
LANGUAGES = ["SIMPLE", "ENGLISH"]


def plain_json(value: Any) -> Any:
    """A stored JSON value as a client would send it (Decimal -> int or float)."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value % 1 == 0 else float(value)
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    return value


def json_operands(values: Iterable[Any]) -> list[Any]:
    """Stored JSON values, their parts (one key, one element) and edge values."""
    found: list[Any] = []
    for value in map(plain_json, values):
        parts = [value]
        if isinstance(value, dict):
            parts += [{k: v} for k, v in value.items()]
        if isinstance(value, list):
            parts += [[item] for item in value] + value
        found += [p for p in parts if p not in found and p is not None]
    return found + [v for v in JSON_EDGES if v not in found]


def thresholds(op_name: str, vector: list[float], stored: list[list[float]]) -> list[float]:
    """Bounds at least 1e-3 away from every stored distance, so float rounding can't flip a row.

    pgvector computes in float4; the model in exact double: bounds midway between
    neighbouring distances (and beyond both ends) keep them on the same side.
    """
    distances = sorted({round(pg.DISTANCES[op_name](v, vector), 9) for v in stored})
    found = [distances[0] - 0.5, distances[-1] + 0.5]
    found += [(a + b) / 2 for a, b in itertools.pairwise(distances) if b - a > 2e-3]
    return sorted(found)


def respellings(leaf: Leaf, raw: Any) -> list[Any]:
    """A stored value as GraphQL operands: itself plus spellings that must compare equal."""
    if leaf.field.type.kind == "enum":
        return [member.name for member in leaf.field.type.python if member.value == raw]
    name = leaf.type_name
    if leaf.real_uuid_column:
        value = uuid.UUID(raw)
        return [str(value), str(value).upper(), value.hex, "{" + str(value) + "}"]
    if name in ("ID", "UUID"):
        return [raw, raw.upper(), raw.lower()]
    if name == "DateTime":
        instant = datetime.datetime.fromisoformat(raw)
        tokyo = datetime.timezone(datetime.timedelta(hours=9))
        return [raw, instant.astimezone(datetime.UTC).isoformat(),
                instant.astimezone(tokyo).isoformat()]
    if name == "Int":
        return [int(raw)] if decimal.Decimal(str(raw)) % 1 == 0 else []
    if name == "Float":
        return [float(raw)]
    if name == "Decimal":
        return [str(raw)]
    if name in ("IPAddress", "CIDR"):
        address = ipaddress.ip_interface(raw)
        full = f"{address.ip.exploded}/{address.network.prefixlen}"
        return [raw, full] if address.version == 6 else [raw, full.replace("/32", "")]
    if name == "MacAddress":
        digits = pg.macaddr(raw)
        return [raw, raw.upper(), ":".join(digits[i:i + 2] for i in range(0, 12, 2))]
    if name == "DateRange":
        canonical = pg.daterange(raw)
        spellings = [raw, pg.range_text(canonical)]
        if canonical.empty:
            return [*spellings, "EMPTY", "[2024-01-05,2024-01-05)"]
        if canonical.upper is not None:  # [a,b) is [a,b-1]
            closed = datetime.date.fromordinal(canonical.upper - 1).isoformat()
            spellings.append(pg.range_text(canonical).rsplit(",", 1)[0] + f",{closed}]")
        return spellings
    if name == "Vector":
        return [[float(x) for x in raw]]
    return [raw]


def stored_values(leaf: Leaf, docs: Iterable[dict[str, Any]]) -> list[Any]:
    """The leaf's non-null values in the fixture (each item, for a list of scalars)."""
    sources: list[Any] = list(docs)
    if leaf.elements_at is not None:  # a field of an embedded list's elements
        lists = [dig(doc, leaf.elements_at) for doc in sources]
        sources = [item for items in lists if isinstance(items, list)
                   for item in items if isinstance(item, dict)]
    values = [dig(source, leaf.json_path) for source in sources]
    if leaf.family == "array":
        values = [item for items in values if isinstance(items, list) for item in items]
    return [v for v in values if v is not None]


def candidates(leaf: Leaf, docs: Iterable[dict[str, Any]]) -> list[Any]:
    """Every operand worth trying for ``leaf``: fixture values re-spelled, plus edges."""
    found: list[Any] = []
    if leaf.type_name in ("JSON", "TSVector"):
        return found  # no operator takes the field's own type
    for raw in stored_values(leaf, docs):
        found += [v for v in respellings(leaf, raw) if v not in found]
    if leaf.field.type.kind != "enum" and not leaf.real_uuid_column:
        found += [v for v in EDGES.get(leaf.type_name, []) if v not in found]
    if leaf.field.type.kind == "enum":
        found += [m.name for m in leaf.field.type.python if m.name not in found]
    return found


class WhereTrees:
    """Strategies for where trees of one root type."""

    def __init__(self, model: WhereModel, docs: list[dict[str, Any]],
                 skip: Iterable[tuple[str, str]] = ()) -> None:
        self.model = model
        self.skip = set(skip)  # (operator, family) pairs not to generate
        self.operands = {path: candidates(leaf, docs) for path, leaf in model.leaves.items()}
        self.stored = {path: stored_values(leaf, docs) for path, leaf in model.leaves.items()}
        self._built: dict[tuple[str, tuple[str, ...], int], st.SearchStrategy[Any]] = {}

    def operators(self, leaf: Leaf) -> list[str]:
        """The GraphQL names of the operators to generate for ``leaf``."""
        return [graphql_name(op) for op in operators_for(leaf.family)
                if op.name in EVALUATORS and leaf.family in EVALUATORS[op.name].families
                and (op.name, leaf.family) not in self.skip]

    def examples(self, leaf: Leaf, op_name: str) -> list[Any]:
        """A finite list of operands for ``op_name`` (a GraphQL name) on ``leaf``."""
        op = operator_named(leaf.family, op_name)
        values = self.operands[leaf.path]
        if op.operand == "boolean":
            return [True, False]
        if op.operand == "list":
            return [[], values[:1], values[:3], values[-2:], values[1::3]] if values else []
        if op.operand == "string":
            if leaf.family == "json":
                return JSON_KEYS
            if op.name in ("like", "ilike"):
                return [p for p in LIKE_PATTERNS + values if pg.like_pattern_is_complete(p)]
            if op.name in ("regex", "iregex"):
                return REGEXES
            return values + [v for v in TEXT_EDGES if v not in values]
        if op.operand == "strings":
            return [[], ["a"], ["a", "missing"], ["tags", "n"], ["x", "b"], ["1", "a", "c"]]
        if op.operand == "int":
            return INTS
        if op.operand == "json":
            return json_operands(self.stored[leaf.path])
        if op.operand == "date":
            return DATES
        if op.operand == "language":
            return LANGUAGES
        if op.operand == "distance":
            return [{"vector": v, key: bound} for v in values[::2]
                    for key, bound in zip(("lt", "gte", "lte", "gt"),
                                          thresholds(op.name, v, self._vectors(leaf))[1::2])]
        return values

    def _vectors(self, leaf: Leaf) -> list[list[float]]:
        return [[float(x) for x in v] for v in self.stored[leaf.path]]

    def operand(self, leaf: Leaf, op_name: str) -> st.SearchStrategy[Any]:
        op = operator_named(leaf.family, op_name)
        if op.operand == "boolean":
            return st.booleans()
        if op.operand == "list":
            values = self.operands[leaf.path]
            return st.lists(st.sampled_from(values), max_size=4) if values else st.nothing()
        if op.operand == "strings":
            return st.lists(st.sampled_from(JSON_KEYS), max_size=3)
        if op.operand == "string" and op.name in ("regex", "iregex"):
            return st.one_of(st.sampled_from(REGEXES), random_regex())
        if op.operand == "distance":
            return st.sampled_from(self.operands[leaf.path]).flatmap(
                lambda v: self._distance(op.name, v, self._vectors(leaf)))
        examples = self.examples(leaf, op_name)
        return st.sampled_from(examples) if examples else st.nothing()

    @staticmethod
    def _distance(op_name: str, vector: list[float],
                  stored: list[list[float]]) -> st.SearchStrategy[dict[str, Any]]:
        bounds = st.sampled_from(thresholds(op_name, vector, stored))
        return st.lists(st.sampled_from(["lt", "lte", "gt", "gte"]), min_size=1, max_size=2,
                        unique=True).flatmap(lambda keys: st.fixed_dictionaries(
                            {"vector": st.just(vector), **{key: bounds for key in keys}}))

    def scalar_filter(self, leaf: Leaf) -> st.SearchStrategy[dict[str, Any]]:
        ops = self.operators(leaf)
        return st.lists(st.sampled_from(ops), min_size=1, max_size=2, unique=True).flatmap(
            lambda chosen: st.fixed_dictionaries({op: self.operand(leaf, op) for op in chosen}))

    def where(self, obj: ObjectInfo | None = None, prefix: tuple[str, ...] = (),
              depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
        """A where input for ``obj`` (the root type by default), nesting up to ``depth``."""
        obj = obj or self.model.root
        key = (obj.name, prefix, depth)
        if key not in self._built:  # built once: rebuilding strategies per draw is slow
            self._built[key] = self._where(obj, prefix, depth)
        return self._built[key]

    def _where(self, obj: ObjectInfo, prefix: tuple[str, ...],
               depth: int) -> st.SearchStrategy[dict[str, Any]]:
        entries: list[st.SearchStrategy[tuple[str, Any]]] = []
        for name, f in obj.fields.items():
            named = f.type.named()
            if f.type.kind == "object":
                nested = self.model.schema.objects[f.type.name]
                entries.append(st.tuples(st.just(name),
                                         self.where(nested, (*prefix, name), max(depth - 1, 0))))
            elif f.type.kind == "list" and named.kind == "object":
                element = self.model.schema.objects[named.name]
                ops = {"any": self.where(element, (*prefix, name, "any"), max(depth - 1, 0)),
                       "isEmpty": st.booleans()}
                entries.append(st.tuples(st.just(name), st.lists(
                    st.sampled_from(sorted(ops)), min_size=1, max_size=2, unique=True).flatmap(
                        lambda chosen, ops=ops: st.fixed_dictionaries(
                            {op: ops[op] for op in chosen}))))
            elif (*prefix, name) in self.model.leaves:
                leaf = self.model.leaves[(*prefix, name)]
                if self.operators(leaf):
                    entries.append(st.tuples(st.just(name), self.scalar_filter(leaf)))
        if depth > 0:
            sub = self.where(obj, prefix, depth - 1)
            entries += [st.tuples(st.just("_and"), st.lists(sub, max_size=3)),
                        st.tuples(st.just("_or"), st.lists(sub, max_size=3)),
                        st.tuples(st.just("_not"), sub)]
        return st.lists(st.one_of(entries), max_size=3).map(dict)


def random_regex() -> st.SearchStrategy[str]:
    """Patterns of the safe subset: literals and dots, each maybe starred, maybe anchored."""
    atom = st.tuples(st.sampled_from(REGEX_ATOMS), st.booleans()).map(
        lambda a: a[0] + ("*" if a[1] else ""))
    return st.tuples(st.booleans(), st.lists(atom, max_size=4), st.booleans()).map(
        lambda t: ("^" if t[0] else "") + "".join(t[1]) + ("$" if t[2] else ""))
