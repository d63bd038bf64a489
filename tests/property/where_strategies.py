"""Hypothesis strategies for random ``where`` trees over a FraiseQL type.

Fields are the type's scalar/enum fields and those of its embedded objects;
operators are the ones the operator table offers for the field's family (and
the model can evaluate); operands come from the fixture's own values, re-spelled
(other case, other offset) plus edge values per scalar.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from fraiseql.schema.model import ObjectInfo
from fraiseql.schema.operators import OPERATORS, operators_for
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
}


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
        return [int(raw)]
    if name == "Float":
        return [float(raw)]
    if name == "Decimal":
        return [str(raw)]
    return [raw]


def candidates(leaf: Leaf, docs: Iterable[dict[str, Any]]) -> list[Any]:
    """Every operand worth trying for ``leaf``: fixture values re-spelled, plus edges."""
    found: list[Any] = []
    for doc in docs:
        raw = dig(doc, leaf.json_path)
        if raw is not None:
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
        self._built: dict[tuple[str, tuple[str, ...], int], st.SearchStrategy[Any]] = {}

    def operators(self, leaf: Leaf) -> list[str]:
        return [op.name for op in operators_for(leaf.family)
                if op.name in EVALUATORS and leaf.family in EVALUATORS[op.name].families
                and (op.name, leaf.family) not in self.skip]

    def operand(self, leaf: Leaf, op_name: str) -> st.SearchStrategy[Any]:
        shape = OPERATORS[op_name].operand
        if shape == "boolean":
            return st.booleans()
        values = self.operands[leaf.path]
        if not values:  # e.g. JSON: only isnull today
            return st.nothing()
        if shape == "list":
            return st.lists(st.sampled_from(values), max_size=4)
        return st.sampled_from(values)

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
            if f.type.kind == "object":
                nested = self.model.schema.objects[f.type.name]
                entries.append(st.tuples(st.just(name),
                                         self.where(nested, (*prefix, name), max(depth - 1, 0))))
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
