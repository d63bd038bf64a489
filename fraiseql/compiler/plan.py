"""What compiling an operation produces: one statement per root field, and shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fraiseql.compiler.sql import ParamSource


@dataclass(frozen=True)
class ListShape:
    """A list in the response: whether items may be null, and the item's shape."""

    item_nullable: bool
    item: Shape


# A response shape: None for a leaf, a dict {response key: (nullable, shape)} for
# an object, or a ListShape. Used only when a field error must be located.
Shape = dict[str, tuple[bool, Any]] | ListShape | None


@dataclass(frozen=True)
class ArgumentSite:
    """A field with arguments; ``values`` maps coerced variables to its argument values."""

    values: Any  # Callable[[dict[str, Any]], dict[str, Any]], see compiler/binding.py


@dataclass(frozen=True)
class Check:
    """A requirement the caller must meet before the plan runs (fraiseql/authz/rules.py)."""

    rule: Any  # fraiseql.authz.rules.Rule
    what: str  # "running query posts", "reading Post.email", "filtering on Post.email"
    path: tuple[str, ...]  # the root field's response key


@dataclass
class RootPlan:
    """How one root field is answered."""

    key: str  # the response key (alias or name)
    kind: str  # "sql" | "mutation" | "typename" | "graphql"
    nullable: bool = True
    sql: str = ""
    params: list[ParamSource] = field(default_factory=list)
    single: bool = False  # returns one object: 0 rows -> null, 2 rows -> error
    shape: Shape = None
    path_name: str = ""  # GraphQL field name, for messages
    value: bytes = b""  # pre-rendered JSON for kind "typename"
    mutation: Any = None  # compiler.mutation.MutationInfo for kind "mutation"
    document: Any = None  # a document with only this root, for a Python mutation
    stream_sql: str = ""  # one row per item, when the page may be large enough to stream
    stream_limit: int = -1  # index of the limit parameter (-1: the cap applies)

    @property
    def key_json(self) -> bytes:
        """The response key as JSON, ``"key":``, computed once per plan."""
        cached = self.__dict__.get("_key_json")
        if cached is None:
            import orjson
            cached = self.__dict__["_key_json"] = orjson.dumps(self.key) + b":"
        return cached


@dataclass
class Plan:
    """A compiled operation: roots in response order plus their argument sites."""

    operation: str  # "query" | "mutation" | "subscription"
    roots: list[RootPlan]
    sites: list[ArgumentSite]
    graphql_document: Any = None  # a document with only the "graphql" roots, if any
    variable_definitions: Any = ()
    variables: Any = ()  # (name, type, default) per variable, for coerce_variables
    cache: Any = None  # execution.result_cache.CachePolicy when every root may be cached
    # What fraiseql/authz/checkpoint.py checks before any SQL runs.
    checks: tuple[Check, ...] = ()
    tenant_required: bool = False  # reads a required-tenant source or passes tenant_id
    introspection: bool = False  # selects __schema or __type
    introspection_document: Any = None  # a document with only those roots
