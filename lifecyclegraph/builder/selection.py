"""What a query selects: a tree of fields, written as Python or as a GraphQL selection.

``select("name", owners="name", currentInstance={"version": None, "features": ["name"]})``
and ``select("name owners { name } currentInstance { version features { name } }")``
make the same tree. The GraphQL form takes the design's query as it is: a connection's
``edges { node { ... } }`` (or ``nodes``), a ``fooList`` or ``fooConnection`` field,
and ``... on Type { ... }`` fragments are read as the field they wrap.

>>> from lifecyclegraph.builder.names import Names
>>> names = Names.load()
>>> tree = parse_selection(names, names.type("Model"), ("name owners { name }",), {})
>>> {key: (sel.field.name if sel.field else None, sel.children is not None)
...  for key, sel in tree.items()}
{'name': ('name', False), 'owners': ('owners', True)}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecyclegraph.builder.names import PSEUDO_FIELDS, FieldName, Names, TypeName

if TYPE_CHECKING:
    from graphql import FieldNode, SelectionSetNode

__all__ = ["Selected", "parse_selection"]

#: A selection: output key -> what it selects.
Tree = dict[str, "Selected"]


@dataclass(frozen=True)
class Selected:
    """One selected field: the ontology's field (``None`` for ``id`` and ``types``), and
    for a link with a sub-selection, the sub-selection and the linked entities' type."""

    key: str
    field: FieldName | None
    children: Tree | None = None
    type: TypeName | None = None


def _leaf(names: Names, of: TypeName | None, name: str, key: str) -> Selected:
    if name in PSEUDO_FIELDS:
        return Selected(key, None)
    return Selected(key, names.field(name, of))


def _nested(names: Names, of: TypeName | None, name: str, key: str, spec: Any) -> Selected:
    if spec is None or spec is True:
        return _leaf(names, of, name, key)
    field = names.field(name, of)
    if not field.is_object:
        raise ValueError(f"field {name!r} is a value, not a link: it has no fields to select")
    target = names.type_of_class(field.range)
    if isinstance(spec, str):
        spec = (spec,)
    if isinstance(spec, Mapping):
        children = parse_selection(names, target, (), spec)
    elif isinstance(spec, list | tuple):
        children = parse_selection(names, target, tuple(spec), {})
    else:
        raise TypeError(f"the selection of {name!r} must be a name, a list or a dict: {spec!r}")
    return Selected(key, field, children, target)


def parse_selection(
    names: Names, of: TypeName | None, fields: tuple[Any, ...], nested: Mapping[str, Any]
) -> Tree:
    """The selection tree of ``select(*fields, **nested)`` on entities of type ``of``.

    ``fields`` holds names, GraphQL selections (text with spaces or braces), and dicts
    (like ``nested``); ``nested`` maps a link's name to its sub-selection (a name, a
    list, a dict, or ``None`` for the linked URIs only).

    Raises:
        UnknownNameError: a name the type does not have (with the near miss).
        ValueError: a sub-selection under a value field, a GraphQL text that does not parse.
    """
    tree: Tree = {}
    for item in fields:
        if isinstance(item, Mapping):
            tree.update(parse_selection(names, of, (), item))
        elif isinstance(item, str) and (set(item) & set("{} \n\t,")):
            tree.update(_graphql(names, of, item))
        elif isinstance(item, str):
            tree[item] = _leaf(names, of, item, item)
        elif isinstance(item, list | tuple):
            tree.update(parse_selection(names, of, tuple(item), {}))
        else:
            raise TypeError(f"cannot select {item!r}: give a field name, a list or a dict")
    for name, spec in nested.items():
        tree[name] = _nested(names, of, name, name, spec)
    return tree


def _graphql(names: Names, of: TypeName | None, text: str) -> Tree:
    from graphql import GraphQLError, parse

    try:
        document = parse("{ " + text + " }")
    except GraphQLError as error:
        raise ValueError(f"the selection is not GraphQL: {error.message}") from None
    operation = document.definitions[0]
    return _selection_set(names, of, operation.selection_set)  # type: ignore[attr-defined]


def _unwrap(node: FieldNode) -> SelectionSetNode | None:
    """A connection's ``edges { node { ... } }`` or ``nodes { ... }``: the entities' selection."""
    from graphql import FieldNode

    selections = node.selection_set.selections if node.selection_set else ()
    fields = [s for s in selections if isinstance(s, FieldNode)]
    if fields and {f.name.value for f in fields} <= {"edges", "nodes", "totalCount", "pageInfo"}:
        for wrapper in fields:
            if wrapper.name.value == "nodes":
                return wrapper.selection_set
            if wrapper.name.value == "edges" and wrapper.selection_set:
                for inner in wrapper.selection_set.selections:
                    if isinstance(inner, FieldNode) and inner.name.value == "node":
                        return inner.selection_set
        return None
    return node.selection_set


def _selection_set(names: Names, of: TypeName | None, selection: SelectionSetNode) -> Tree:
    from graphql import FieldNode, InlineFragmentNode

    tree: Tree = {}
    for node in selection.selections:
        if isinstance(node, InlineFragmentNode):
            narrowed = names.type(node.type_condition.name.value) if node.type_condition else of
            tree.update(_selection_set(names, narrowed, node.selection_set))
            continue
        if not isinstance(node, FieldNode):
            raise ValueError("named fragments are not supported in a selection; inline them")
        name = node.name.value
        key = node.alias.value if node.alias else name
        if node.arguments:
            raise ValueError(
                f"{name}: a selection takes no arguments "
                f"({', '.join(a.name.value for a in node.arguments)}); "
                "filter and page the query itself (where, limit, page)"
            )
        if name not in PSEUDO_FIELDS and name not in names.fields(of):
            for suffix in ("List", "Connection"):
                if name.endswith(suffix) and name.removesuffix(suffix) in names.fields(of):
                    name = name.removesuffix(suffix)
        if node.selection_set is None:
            tree[key] = _leaf(names, of, name, key)
            continue
        field = names.field(name, of)
        if not field.is_object:
            raise ValueError(f"field {name!r} is a value, not a link: it has no fields to select")
        target = names.type_of_class(field.range)
        inner = _unwrap(node)
        children = _selection_set(names, target, inner) if inner is not None else {}
        tree[key] = Selected(key, field, children, target)
    return tree
