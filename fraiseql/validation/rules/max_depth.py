"""Reject operations nested deeper than the configured limit (fragments followed)."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
)


def max_depth_rule(limit: int) -> type[ValidationRule]:
    """A rule class enforcing a maximum selection depth of ``limit``."""

    class MaxDepthRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = _depth(node.selection_set, self.context, set())
            if depth > limit:
                self.report_error(GraphQLError(
                    f"The operation is nested {depth} levels deep; the limit is {limit}.",
                    node))

    return MaxDepthRule


def _depth(selection_set: Any, context: ValidationContext, seen: set[str]) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            inner = 0 if selection.selection_set is None else _depth(
                selection.selection_set, context, seen)
            deepest = max(deepest, 1 + inner)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, context, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:
                deepest = max(deepest, _depth(fragment.selection_set, context, seen | {name}))
    return deepest
