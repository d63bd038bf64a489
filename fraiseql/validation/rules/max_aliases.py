"""Reject documents with more aliased fields than the configured limit."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLError, ValidationRule, visit
from graphql.language import Visitor


def max_aliases_rule(limit: int) -> type[ValidationRule]:
    """A rule class enforcing at most ``limit`` aliases in a document."""

    class MaxAliasesRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            counter = _AliasCounter()
            visit(node, counter)
            if counter.count > limit:
                self.report_error(GraphQLError(
                    f"The document uses {counter.count} aliases; the limit is {limit}.", node))
            return self.SKIP if counter.count > limit else None

    return MaxAliasesRule


class _AliasCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.count += 1
