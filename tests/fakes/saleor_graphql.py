"""GraphQL as Saleor runs it, for the fakes: its schema, its `JSON` scalar, and a stand-in without them.

With the reference data (tests/reference.py), documents are validated against
Saleor's own schema and executed by graphql-core on it, with Saleor's `JSON`
scalar: a variable *inside* a `JSON` object or list literal is not
substituted (Saleor's `JSON` is graphene's `GenericScalar`, whose
`parse_literal` never looks at variables), so `data: {returnUrl: $url}`
reaches Saleor as `{"returnUrl": null}`; only `data: $data` carries a value.

Without the reference data, `execute` still runs documents, unchecked: it
calls the root's resolvers with the arguments as written and keeps what the
selection asks for. Nothing is validated then, which the run's header says once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    build_schema,
    execute_sync,
    parse,
    get_named_type,
    validate,
    value_from_ast_untyped,
    visit,
)

from tests import reference

# graphene's GraphQL Int bounds: GenericScalar drops an integer literal outside them.
MIN_INT, MAX_INT = -(2**31), 2**31 - 1


def _generic_literal(node: ValueNode) -> Any:
    """graphene's `GenericScalar.parse_literal`: constants only, a variable becomes None."""
    if isinstance(node, (StringValueNode, BooleanValueNode)):
        return node.value
    if isinstance(node, IntValueNode):
        number = int(node.value)
        return number if MIN_INT <= number <= MAX_INT else None
    if isinstance(node, FloatValueNode):
        return float(node.value)
    if isinstance(node, ListValueNode):
        return [_generic_literal(v) for v in node.values]
    if isinstance(node, ObjectValueNode):
        return {f.name.value: _generic_literal(f.value) for f in node.fields}
    return None


def saleor_json_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> Any:
    """Saleor's `JSON.parse_literal` (saleor/graphql/core/scalars.py): an object or a list, else None."""
    if isinstance(node, (ObjectValueNode, ListValueNode)):
        return _generic_literal(node)
    return None


def saleor_json_value(value: Any) -> Any:
    """Saleor's `JSON.parse_value`, for a `JSON` variable: an object or a list, else None."""
    return value if isinstance(value, (dict, list)) else None


def _follow_saleor_json(schema: GraphQLSchema) -> None:
    scalar = schema.type_map["JSON"]
    assert isinstance(scalar, GraphQLScalarType)
    scalar.parse_literal = saleor_json_literal  # type: ignore[method-assign]
    scalar.parse_value = saleor_json_value  # type: ignore[method-assign]
    if hasattr(scalar, "coerce_input_value"):  # graphql-core ≥ 3.3 calls this one for variables
        scalar.coerce_input_value = saleor_json_value
    # graphql-core ≥ 3.3 would substitute variables before a `coerce_input_literal`; it has none here.
    assert getattr(scalar, "coerce_input_literal", None) is None


@cache
def saleor_schema() -> GraphQLSchema:
    # Saleor's own published schema: checking the SDL itself would only cost a second a run.
    schema = build_schema(reference.SCHEMA_PATH.read_text(), assume_valid_sdl=True)
    _follow_saleor_json(schema)
    return schema


_said_unchecked = False


def _say_unchecked() -> None:
    """Once per process: outside pytest (benchmarks) no header says that nothing is validated."""
    global _said_unchecked
    if not _said_unchecked:
        _said_unchecked = True
        print(f"fake Saleor: {reference.status_line()}", file=sys.stderr)


def validation_errors(document: str) -> list[str]:
    """Why Saleor would refuse `document` (syntax or schema); nothing beyond syntax without the reference data."""
    return list(_checked(document, reference.AVAILABLE)[1])


# The app sends the same few documents thousands of times in a run: parsing and validating
# each once saves seconds of the suite (graphql-core's ASTs are immutable, safe to share).
@lru_cache(maxsize=512)
def _checked(document: str, against_schema: bool) -> tuple[DocumentNode | None, tuple[str, ...]]:
    try:
        ast = parse(document)
    except GraphQLError as exc:
        return None, (exc.message,)
    if not against_schema:
        _say_unchecked()
        return ast, ()
    return ast, tuple(e.message for e in validate(saleor_schema(), ast))


def execute(document: str, variables: dict[str, Any], root: Any, context: dict[str, Any]) -> dict[str, Any]:
    """Runs a valid document: `{"data": …}`, with `"errors"` when a resolver raised a GraphQLError.

    Each root field is resolved by `root`'s method of that name, called with
    (info, **arguments) as Saleor's resolvers would receive them.
    """
    if reference.AVAILABLE:
        ast, errors = _checked(document, True)
        if ast is None or errors:  # as graphql_sync answers a document it cannot run
            return {"data": None, "errors": [{"message": m} for m in errors]}
        result = execute_sync(saleor_schema(), ast, root_value=root, context_value=context, variable_values=variables)
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        return payload
    _say_unchecked()
    return _execute_unchecked(document, variables, root, context)


def variables_inside_json_literals(document: str) -> list[str]:
    """Variables written inside a `JSON` object or list literal: Saleor reads each of them as null."""
    found: set[str] = set()
    type_info = TypeInfo(saleor_schema())

    class Finder(Visitor):
        def enter_object_value(self, node: ObjectValueNode, *_args: Any) -> None:
            self.check(node)

        def enter_list_value(self, node: ListValueNode, *_args: Any) -> None:
            self.check(node)

        def check(self, node: ValueNode) -> None:
            expected = type_info.get_input_type()
            if expected is not None and get_named_type(expected).name == "JSON":
                found.update(_variable_names(node))

    visit(parse(document), TypeInfoVisitor(type_info, Finder()))
    return sorted(found)


def _variable_names(node: ValueNode) -> list[str]:
    names: list[str] = []

    class Collector(Visitor):
        def enter_variable(self, variable: VariableNode, *_args: Any) -> None:
            names.append(variable.name.value)

    visit(node, Collector())
    return names


def _execute_unchecked(document: str, variables: dict[str, Any], root: Any, context: dict[str, Any]) -> dict[str, Any]:
    ast = parse(document)
    fragments = {d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)}
    [operation] = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
    info = SimpleNamespace(context=context)
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for field in _fields(operation.selection_set, fragments, None):
        key = field.alias.value if field.alias else field.name.value
        resolver: Callable[..., Any] = getattr(root, field.name.value)
        arguments = {a.name.value: value_from_ast_untyped(a.value, variables) for a in field.arguments or ()}
        try:
            value = resolver(info, **arguments)
        except GraphQLError as exc:
            data[key] = None
            errors.append({"message": exc.message, "path": [key], "extensions": exc.extensions or {}})
            continue
        data[key] = _select(value, field.selection_set, fragments)
    payload: dict[str, Any] = {"data": data}
    if errors:
        payload["errors"] = errors
    return payload


def _fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], typename: str | None
) -> list[FieldNode]:
    fields: list[FieldNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields.append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            condition, nested = fragment.type_condition, fragment.selection_set
        else:
            assert isinstance(selection, InlineFragmentNode)
            condition, nested = selection.type_condition, selection.selection_set
        # Without a schema only a value's own __typename tells which fragments apply to it.
        if condition is None or typename is None or condition.name.value == typename:
            fields.extend(_fields(nested, fragments, typename))
    return fields


def _select(value: Any, selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]) -> Any:
    if selection_set is None or value is None:
        return value
    if isinstance(value, list):
        return [_select(v, selection_set, fragments) for v in value]
    typename = value.get("__typename")
    selected: dict[str, Any] = {}
    for field in _fields(selection_set, fragments, typename):
        key = field.alias.value if field.alias else field.name.value
        selected[key] = _select(value.get(field.name.value), field.selection_set, fragments)
    return selected
