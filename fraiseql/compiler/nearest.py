"""``nearest`` -> ORDER BY distance, a predicate and a LIMIT (see fraiseql/schema/nearest.py).

The ORDER BY leads with ``x <op> $n::text::vector``, exactly the form pgvector's
HNSW/IVFFlat indexes serve, where ``x`` is the real vector column when the view has
one (else ``data``'s value cast to vector). A tiebreak on id follows; PostgreSQL
adds it with an incremental sort over the index's order.

Rows without a distance are left out rather than sorted last: a null vector (an
index does not hold it either) and, for cosine, an all-zero vector, whose cosine
distance pgvector reports as NaN (and which its cosine indexes skip too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraiseql.compiler.context import SourceInfo, bad_input, param
from fraiseql.compiler.order import id_key
from fraiseql.compiler.sql import Params
from fraiseql.compiler.values import bounded, to_text
from fraiseql.compiler.where import comparable
from fraiseql.schema.model import ObjectInfo
from fraiseql.schema.nearest import METRIC_BY_VALUE


@dataclass(frozen=True)
class NearestSql:
    """The pieces of a list statement that ``nearest`` sets."""

    order: str  # ORDER BY terms: the distance, then id
    predicate: str  # keeps the rows that have a distance
    k: str  # the bound k parameter

    def limit(self, limit: str, offset: str | None) -> str:
        """The page within the k nearest: ``limit`` rows from ``offset``, never past k."""
        if offset is None:
            return f"least({limit}, {self.k})"
        return f"least({limit}, greatest({self.k} - {offset}, 0))"


def nearest_sql(nearest: dict[str, Any], obj: ObjectInfo, source: SourceInfo, params: Params,
                site: int, cap: int, root_name: str) -> NearestSql:
    """Compile a coerced ``nearest`` value (field and metric already defaulted)."""
    metric = METRIC_BY_VALUE[nearest["metric"]]
    f = obj.fields[nearest["field"]]
    lhs, _, _ = comparable(f, "v.data", source)
    check_vector = _nonzero if metric.value == "cosine" else to_text
    vector = param(params, site, ("nearest", "vector"), check_vector, "text::vector")
    k = param(params, site, ("nearest", "k"), bounded(f"nearest.k on {root_name}", 1, cap),
              "int8")
    order = f"({lhs} {metric.operator} {vector})"
    tiebreak = id_key(obj, source, "v")
    if tiebreak is not None:
        order += f", {tiebreak.sql()}"
    predicate = f"vector_norm({lhs}) > 0" if metric.value == "cosine" else f"{lhs} IS NOT NULL"
    return NearestSql(order, predicate, k)


def _nonzero(vector: list[float]) -> str:
    """The cosine distance to an all-zero vector is undefined (pgvector says NaN)."""
    if not any(vector):
        raise bad_input("nearest.vector must not be all zeros for the COSINE metric "
                        "(a zero vector has no direction)")
    return to_text(vector)
