"""Checks on a GraphQL document before strawberry runs it, for what strawberry does not answer itself.

Strawberry's `QueryDepthLimiter` measures the document before the standard
validation has reported anything, and raises (instead of reporting) on an
empty selection set (`{ viewer { } }`, which graphql-core 3.3 parses) and on
a spread of a fragment that is not defined. `refusal` finds both first, so
they are answered as the client's mistake, not logged as the app's.

Both limiters, and strawberry's alias counter too, walk every fragment spread
anew: thirty short fragments that each spread the previous one twice (under
the token limit) make them walk a billion fields, for minutes. `refusal`
measures the document as it would be with its fragments expanded, reusing
each fragment's size, and refuses one beyond `MAX_EXPANDED_SELECTIONS`.

A string literal holding NUL (written `"\\u0000"`) is refused too: no text
column can store it, and PostgreSQL fails the whole statement on it.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    Visitor,
    parse,
    visit,
)

# Fields of a document once its fragments are expanded; the Dashboard page's largest query has ~60.
MAX_EXPANDED_SELECTIONS = 2000


class _Unmeasurable(Visitor):
    def __init__(self, fragments: set[str]) -> None:
        super().__init__()
        self.fragments = fragments
        self.problem: str | None = None

    def enter_selection_set(self, node: SelectionSetNode, *_args: Any) -> Any:
        if not node.selections:
            self.problem = "Selection sets may not be empty."
            return BREAK
        return None

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if "\x00" in node.value:  # `"\u0000"`: no column can store it (PostgreSQL refuses NUL)
            self.problem = "Strings may not contain NUL characters."
            return BREAK
        return None

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: Any) -> Any:
        if node.name.value not in self.fragments:
            self.problem = f"Unknown fragment {node.name.value[:64]!r}."
            return BREAK
        return None


class _Refused(Exception):
    pass


class _Expansion:
    """The number of fields of each operation with its fragments expanded, each fragment measured once."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], limit: int) -> None:
        self.fragments = fragments
        self.limit = limit
        self.sizes: dict[str, int] = {}
        self.open: set[str] = set()

    def selections(self, node: SelectionSetNode | None) -> int:
        total = 0
        for selection in node.selections if node is not None else ():
            if isinstance(selection, FieldNode):
                total += 1 + self.selections(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
            if total > self.limit:
                raise _Refused(f"The document is too large once its fragments are expanded (over {self.limit} fields).")
        return total

    def fragment(self, name: str) -> int:
        if name in self.sizes:
            return self.sizes[name]
        if name in self.open:
            raise _Refused(f"Cannot spread fragment {name[:64]!r} within itself.")
        definition = self.fragments.get(name)
        if definition is None:
            raise _Refused(f"Unknown fragment {name[:64]!r}.")
        self.open.add(name)
        self.sizes[name] = self.selections(definition.selection_set)
        self.open.discard(name)
        return self.sizes[name]


def refusal(query: str, max_tokens: int, max_selections: int = MAX_EXPANDED_SELECTIONS) -> str | None:
    """Why this document cannot run, when strawberry would fail on it (or take forever) instead of saying so.

    None otherwise; a syntax error is left to strawberry, which reports it as such.
    """
    try:
        document: DocumentNode = parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    check = _Unmeasurable(set(fragments))
    visit(document, check)
    if check.problem:
        return check.problem
    expansion = _Expansion(fragments, max_selections)
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                expansion.selections(definition.selection_set)
    except _Refused as exc:
        return str(exc)
    except RecursionError:
        return "The document is nested too deeply."
    return None
