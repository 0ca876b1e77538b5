"""GraphQL execution with a direct path for plain data (the API's answers are read-only data objects).

graphql-core completes every field of an answer through its full machinery — a resolve-info object, an
awaitable check, a nullability check, a coercion — about 7 µs a field in CPython; a search page selects
~600 fields (20 businesses with photos in three sizes, facets), so an answer cost ~4 ms more than its data. No
kept library does this faster (graphql-core has no compiled executor; strawberry only skips the `Info` object
of plain fields), hence this small subclass.

An object whose selected fields are all plain attributes (a strawberry field without resolver, extension or
arguments) is projected here directly: `getattr`, the same `coerce_output_value` for scalars and enums, lists
and nested plain objects the same way, `__typename` by name. Anything else — a field with a resolver (reviews,
children: they charge the cost budget and batch through dataloaders), arguments, `@defer`, an abstract type, or
data that breaks the schema (a null for a non-null field, a value a scalar refuses) — falls back to
graphql-core's own path for that object, so errors, paths and nulls are exactly graphql-core's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from math import isfinite
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.pyutils import Undefined
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.schema.schema_converter import GraphQLCoreConverter

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class _Slow(Exception):
    """This value needs graphql-core's own completion."""


Completer = Callable[[Any], Any]
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_SHARED_MAX = 256


def _leaf(leaf: GraphQLScalarType | GraphQLEnumType, non_null: bool) -> Completer:
    coerce = leaf.coerce_output_value

    def complete(value: Any) -> Any:
        if value is None:
            if non_null:
                raise _Slow
            return None
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _Slow
        return coerced

    # The built-in scalars return these values unchanged: skip the call.
    if leaf is GraphQLString:
        return lambda value: value if type(value) is str else complete(value)
    if leaf is GraphQLBoolean:
        return lambda value: value if type(value) is bool else complete(value)
    if leaf is GraphQLInt:
        return lambda value: value if type(value) is int and _INT_MIN <= value <= _INT_MAX else complete(value)
    if leaf is GraphQLFloat:
        return lambda value: value if type(value) is float and isfinite(value) else complete(value)
    return complete


# Compiled completers shared by the executions of one operation (a partner sends the same query text again and
# again; `ParserCache` hands back the same syntax tree for it): (schema, operation) -> (keep-alive, completers).
# Only for operations without directives: `@skip`/`@include` make the selection depend on the variables.
_SHARED: OrderedDict[tuple[int, int], tuple[Any, Any, dict[Any, Completer]]] = OrderedDict()


def _has_directives(node: Any) -> bool:
    if getattr(node, "directives", None):
        return True
    selection_set = getattr(node, "selection_set", None)
    return selection_set is not None and any(_has_directives(child) for child in selection_set.selections)


class PlainDataExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._completers = self._shared_completers()

    def _shared_completers(self) -> dict[Any, Completer]:
        key = (id(self.schema), id(self.operation))
        found = _SHARED.get(key)
        if found is not None:
            _SHARED.move_to_end(key)
            return found[2]
        completers: dict[Any, Completer] = {}
        if _has_directives(self.operation) or any(_has_directives(f) for f in self.fragments.values()):
            return completers  # this execution's own
        # The schema and the operation stay alive with their completers: the ids in the keys are never reused.
        _SHARED[key] = (self.schema, self.operation, completers)
        if len(_SHARED) > _SHARED_MAX:
            _SHARED.popitem(last=False)
        return completers

    def complete_value(self, return_type, field_details_list, info, path, result, position_context):
        if result is not None and result is not Undefined and not isinstance(result, Exception):
            try:
                return self._completer(return_type, field_details_list)(result)
            except _Slow:
                pass
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    def _completer(self, return_type: GraphQLOutputType, selection: Any) -> Completer:
        key = (id(return_type), *(id(details.node) for details in selection))
        found = self._completers.get(key)
        if found is None:
            found = self._completers[key] = self._compile(return_type, selection)
        return found

    def _compile(self, return_type: GraphQLOutputType, selection: Any) -> Completer:
        non_null = isinstance(return_type, GraphQLNonNull)
        if non_null:
            return_type = return_type.of_type
        if isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
            return _leaf(return_type, non_null)
        if isinstance(return_type, GraphQLList):
            item = self._compile(return_type.of_type, selection)

            def items(value: Any) -> list[Any]:
                if not isinstance(value, list | tuple):
                    raise _Slow
                return [item(x) for x in value]

            inner = items
        elif isinstance(return_type, GraphQLObjectType):
            inner = self._compile_object(return_type, selection)
        else:
            inner = _slow  # interfaces and unions: graphql-core resolves the runtime type
        if non_null:

            def required(value: Any) -> Any:
                if value is None:
                    raise _Slow
                return inner(value)

            return required
        return lambda value: None if value is None else inner(value)

    def _compile_object(self, object_type: GraphQLObjectType, selection: Any) -> Completer:
        grouped, new_defer_usages, *_ = self.collect_subfields(object_type, selection)
        if new_defer_usages:
            return _slow
        fields: list[tuple[str, str, Completer]] = []
        typename: list[str] = []
        for response_name, sub_selection in grouped.items():
            node = sub_selection[0].node
            name = node.name.value
            if name == "__typename":
                typename.append(response_name)
                continue
            field_def = object_type.fields.get(name)
            if field_def is None or field_def.args or node.arguments:
                return _slow
            definition = (field_def.extensions or {}).get(_DEFINITION)
            if (
                definition is None
                or not definition.is_basic_field
                or not getattr(field_def.resolve, "_is_default", False)
            ):
                return _slow
            fields.append((response_name, definition.python_name, self._completer(field_def.type, sub_selection)))
        type_name = object_type.name

        def project(value: Any) -> dict[str, Any]:
            out = {name: complete(getattr(value, attribute)) for name, attribute, complete in fields}
            for name in typename:
                out[name] = type_name
            return out

        return project


def _slow(_value: Any) -> Any:
    raise _Slow


class TextValidationCache(SchemaExtension):
    """Validation results by query text. strawberry's `ValidationCache` keys its LRU by the parsed document,
    whose hash walks the whole syntax tree on every request; the text the document was parsed from (one parse
    per text: `ParserCache`) names it as well, and a string hashes once. The rules (depth limit and the
    standard ones) are the schema's own and the same for every request, so the text alone is the key."""

    def __init__(self, maxsize: int = 256) -> None:
        super().__init__()
        self._maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        cache = _VALIDATED.setdefault(id(context.schema), OrderedDict())
        key = context.query or ""
        errors = cache.get(key)
        if errors is None:
            errors = validate_document(context.schema._schema, context.graphql_document, context.validation_rules)
            cache[key] = errors
            if len(cache) > self._maxsize:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        context.pre_execution_errors = errors
        yield


_VALIDATED: dict[int, OrderedDict[str, list]] = {}
