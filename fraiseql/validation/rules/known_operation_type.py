"""Reject an operation whose type (mutation, subscription) the schema does not have.

graphql-core 3.2 validates such documents and fails only at execution; a client
deserves a validation error instead.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, ValidationRule


class KnownOperationTypeRule(ValidationRule):
    """Each operation's type must have a root type in the schema."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        kind = node.operation.value
        if self.context.schema.get_root_type(node.operation) is None:
            self.report_error(GraphQLError(f"The schema has no {kind} operations.", node))
