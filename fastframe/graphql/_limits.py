"""Limits against abusive queries, checked before execution."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


def query_depth(document: DocumentNode, operation: OperationDefinitionNode) -> int:
    """Nesting depth of fields in `operation`, fragments expanded (a cycle counts once)."""
    fragments = {node.name.value: node for node in document.definitions if isinstance(node, FragmentDefinitionNode)}

    def depth(selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                below = depth(selection.selection_set, seen)
                deepest = max(deepest, 1 + below)
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, depth(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    deepest = max(deepest, depth(fragment.selection_set, seen | {name}))
        return deepest

    return depth(operation.selection_set, frozenset())


def check_depth(document: DocumentNode, operation: OperationDefinitionNode, max_depth: int | None) -> None:
    if max_depth is None:
        return
    found = query_depth(document, operation)
    if found > max_depth:
        raise GraphQLError(f"Query depth {found} exceeds the maximum allowed depth of {max_depth}.")


def check_size(query: str, max_query_size: int | None) -> None:
    if max_query_size is not None and len(query) > max_query_size:
        raise GraphQLError(
            f"Query is {len(query)} characters long, more than the maximum allowed size of {max_query_size}."
        )
