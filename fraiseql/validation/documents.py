"""Parse and validate a document once; cache the outcome, failures included."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules, validate

from fraiseql.config import Settings
from fraiseql.errors import ErrorCode
from fraiseql.validation.rules.known_operation_type import KnownOperationTypeRule
from fraiseql.validation.rules.max_aliases import max_aliases_rule
from fraiseql.validation.rules.max_depth import max_depth_rule


@dataclass(frozen=True)
class CheckedDocument:
    """A parsed document, or the errors that make it unusable."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()
    code: ErrorCode | None = None


class DocumentCache:
    """LRU of query text -> CheckedDocument."""

    def __init__(self, schema: GraphQLSchema, settings: Settings) -> None:
        self.schema = schema
        self.size = settings.plan_cache_size
        self.rules = [*specified_rules, KnownOperationTypeRule,
                      max_depth_rule(settings.max_query_depth),
                      max_aliases_rule(settings.max_aliases)]
        # Introspection is allowed per caller (fraiseql/authz/checkpoint.py), after this
        # cache: a checked document serves every caller.
        self._entries: OrderedDict[str, CheckedDocument] = OrderedDict()
        # A bound on tokens keeps a hostile document from exhausting the parser.
        self.max_tokens = max(10_000, settings.max_aliases * 50)

    def get(self, query: str) -> CheckedDocument:
        """The checked document for ``query`` (parsed and validated at most once)."""
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry
        entry = self._check(query)
        self._entries[query] = entry
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry

    def _check(self, query: str) -> CheckedDocument:
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError as error:
            return CheckedDocument(None, (error,), ErrorCode.GRAPHQL_PARSE_FAILED)
        errors = validate(self.schema, document, self.rules)
        if errors:
            return CheckedDocument(None, tuple(errors), ErrorCode.GRAPHQL_VALIDATION_FAILED)
        return CheckedDocument(document)


__all__ = ["CheckedDocument", "DocumentCache", "Any"]
