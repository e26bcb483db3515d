"""The limits a GraphQL request runs under: what it may ask, checked before it runs,
and what it may spend, checked while it runs (``docs/graphql.md``, "Limits").

Before execution, :func:`analyse` walks the validated operation with its variables
applied, fragments and inline fragments expanded, and refuses it
(:class:`~lifecyclegraph.core.errors.GraphQLTooComplexError`) when

- a field is nested deeper than ``max_depth``;
- it has more than ``max_aliases`` aliased fields, counted as executed: a fragment
  spread twice counts its aliases twice;
- a ``first`` asks for more than ``max_page_size`` items;
- its **cost** is over ``max_cost``. The cost counts every field once for each time it
  can be resolved: the product of the sizes of the lists above it. A list's size is
  its ``first`` argument (root lists), or its connection's ``first`` (a connection's
  ``edges`` and ``nodes``), or else the page size ``max_page_size``; an introspection
  list's size is the longest such list in the schema. The cost is an upper bound of
  the fields resolved, since no list is ever longer than its size: a plain list
  (``owners``, ``upstreamList``) longer than the page size stops the request.

``first`` or ``offset`` below 0 is an error of the query, as a validation error is.
While it runs, a :class:`Budget` is checked at every field and every read of the
store: it stops the execution at once when the time limit passes, when its caller
cancels it, or when the answer built so far is larger than ``max_answer_bytes``.

>>> from graphql import parse
>>> from lifecyclegraph.read.graphql.schema import load_schema
>>> query = "{ models(first: 10) { name owners { name } } }"
>>> analyse(load_schema(), parse(query), GraphQLLimits()).cost   # 1 + 10 + 10 + 10 x 100
1021
>>> analyse(load_schema(), parse(query), GraphQLLimits(max_cost=1000))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lifecyclegraph.core.errors.GraphQLTooComplexError: the query's cost is more than 1,000, this ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    Lexer,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    Source,
    TokenKind,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    Undefined,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_abstract_type,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_list_type,
    is_object_type,
    value_from_ast,
)

from lifecyclegraph.core.config import ServerConfig
from lifecyclegraph.core.errors import (
    GraphQLAnswerTooLargeError,
    GraphQLCancelledError,
    GraphQLTimeoutError,
    GraphQLTooComplexError,
    LifecycleGraphError,
)

__all__ = [
    "Analysis",
    "Budget",
    "GraphQLLimits",
    "Stop",
    "analyse",
    "count_tokens",
    "json_bytes",
    "paging_variables",
]


@dataclass(frozen=True, slots=True)
class GraphQLLimits:
    """What one GraphQL request may ask and spend; the server's ``[server] graphql_*``
    settings (``setting()`` gives a limit's key).

    Args:
        max_tokens: lexical tokens in the query text (checked before it is parsed).
        max_depth: fields nested in fields.
        max_aliases: aliased fields, counted as executed.
        max_page_size: the largest ``first``; the size of a list without one.
        max_cost: the cost (see the module's documentation).
        max_answer_bytes: the JSON answer's size, counted while it is built.
        timeout: seconds the request may run (``None``: no limit).
    """

    max_tokens: int = 2_000
    max_depth: int = 20
    max_aliases: int = 30
    max_page_size: int = 100
    max_cost: int = 100_000
    max_answer_bytes: int = 10 * 1024 * 1024
    timeout: float | None = 10.0

    @staticmethod
    def setting(name: str) -> str:
        """The configuration key of the limit ``name``: ``max_cost`` -> ``graphql_max_cost``."""
        return f"graphql_{name}"

    @classmethod
    def of(cls, server: ServerConfig) -> GraphQLLimits:
        """The limits a server's configuration sets (its ``graphql_*`` keys)."""
        return cls(**{name: getattr(server, cls.setting(name)) for name in cls.__slots__})


# -- before execution ------------------------------------------------------------------


def count_tokens(query: str, stop_after: int) -> int:
    """The lexical tokens of ``query`` (comments not counted), counting no further than
    ``stop_after + 1``; 0 when the text cannot be read (the parser will say why).

    >>> count_tokens('{ model(id: "x") { name } }', 100)   # { model ( id : "x" ) { name } }
    11
    """
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
            if count > stop_after:
                break
    except GraphQLError:
        return 0
    return count


@dataclass(frozen=True, slots=True)
class Analysis:
    """What :func:`analyse` found: the cost, depth and aliases of the operation, and the
    errors of its arguments (``first: -1``), to answer as validation errors are."""

    cost: int
    depth: int
    aliases: int
    errors: list[GraphQLError] = field(default_factory=list)


def _locations(node: Any) -> list[tuple[int, int]]:
    loc = getattr(node, "loc", None)
    if loc is None or loc.source is None:
        return []
    location = loc.source.get_location(loc.start)
    return [(location.line, location.column)]


@lru_cache(maxsize=8)
def _introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, ...], int]:
    """How many items the introspection lists of ``schema`` can have, by the chain of
    list fields that leads to them.

    ``("fields",)`` is the most fields a type has; ``("types", "fields")`` the fields of
    all types together, which is what ``__schema { types { fields } }`` returns, far
    fewer than the number of types times the most fields of one.
    """
    # Any: graphql-core 3.2 (which MLflow's server pins, through graphene) has no type
    # guards in is_enum_type and the like; 3.3 has
    types: list[Any] = list(schema.type_map.values())
    composite: list[Any] = [t for t in types if is_object_type(t) or is_interface_type(t)]
    fields = [f for t in composite for f in t.fields.values()]
    lists: dict[str, list[int]] = {
        "fields": [len(t.fields) for t in composite],
        "interfaces": [len(t.interfaces) for t in composite],
        "possibleTypes": [len(schema.get_possible_types(t)) for t in types if is_abstract_type(t)],
        "enumValues": [len(t.values) for t in types if is_enum_type(t)],
        "inputFields": [len(t.fields) for t in types if is_input_object_type(t)],
    }
    field_args = [len(f.args) for f in fields]
    directive_args = [len(d.args) for d in schema.directives]
    sizes: dict[tuple[str, ...], int] = {
        ("types",): len(types),
        ("directives",): len(schema.directives),
        ("args",): max([0, *field_args, *directive_args]),
        ("types", "fields", "args"): sum(field_args),
        ("directives", "args"): sum(directive_args),
    }
    for name, counts in lists.items():
        sizes[(name,)] = max(counts, default=0)
        sizes[("types", name)] = sum(counts)
    return sizes


class _Level(NamedTuple):
    """A selection set to walk, and where it is: its type, how many times it can be
    resolved, its depth, the page size of its field, and for introspection the chain of
    list fields that leads to it with the times before the first of them."""

    selections: SelectionSetNode
    parent: GraphQLNamedType
    times: int
    depth: int
    page: int | None
    chain: tuple[str, ...] = ()
    base: int = 1


def _field_def(schema: GraphQLSchema, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if name == "__typename":
        return TypeNameMetaFieldDef
    if parent is schema.query_type and name == "__schema":
        return SchemaMetaFieldDef
    if parent is schema.query_type and name == "__type":
        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return parent.fields.get(name)
    return None


class _Walk:
    """One walk of an operation: the counts so far, and the limits that stop it."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        limits: GraphQLLimits,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits
        self.introspection = _introspection_sizes(schema)
        self.cost = 0
        self.depth = 0
        self.aliases = 0
        self.visits = 0
        self.errors: list[GraphQLError] = []

    def refuse(self, message: str, name: str, measured: float | None, node: Any) -> None:
        limit = getattr(self.limits, name)
        raise GraphQLTooComplexError(
            message.format(limit=f"{limit:,}", setting=GraphQLLimits.setting(name)),
            GraphQLLimits.setting(name),
            limit,
            measured=measured,
            locations=_locations(node),
        )

    def int_argument(self, node: FieldNode, definition: GraphQLField, name: str) -> int | None:
        """The value of the Int argument ``name`` as execution will see it (``None`` when
        absent, null, or not an Int: execution reports a value that is not)."""
        argument = next((a for a in node.arguments or () if a.name.value == name), None)
        if argument is None:
            default = definition.args[name].default_value
            return default if isinstance(default, int) else None
        value_node = argument.value
        if isinstance(value_node, VariableNode):
            raw = self.variables.get(value_node.name.value)
            if raw is None:
                return None
            try:
                value = GraphQLInt.parse_value(raw)
            except (GraphQLError, TypeError, ValueError):
                return None
        else:
            value = value_from_ast(value_node, GraphQLInt, self.variables)
        return value if isinstance(value, int) and value is not Undefined else None

    def page(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """The page size a field with ``first`` asks for (checked), or ``None``."""
        if "first" not in definition.args:
            return None
        for name in ("first", "offset"):
            if name not in definition.args:
                continue
            value = self.int_argument(node, definition, name)
            if value is not None and value < 0:
                self.errors.append(
                    GraphQLError(
                        f"argument '{name}' of field '{node.name.value}' must be 0 or more, "
                        f"not {value}",
                        node,
                    )
                )
        first = self.int_argument(node, definition, "first")
        if first is not None and first > self.limits.max_page_size:
            self.refuse(
                f"argument 'first' of field '{node.name.value}' is {first:,}, more than "
                "{limit}, this service's page size (graphql_max_page_size); ask for fewer "
                "and page with 'after' (connections) or 'offset' (root lists)",
                "max_page_size",
                first,
                node,
            )
        return self.limits.max_page_size if first is None else max(first, 0)

    def size(self, level: _Level, name: str, own_page: int | None) -> tuple[int, _Level]:
        """How many times the fields under field ``name`` of ``level`` can be resolved,
        and the level they are at (without its selections)."""
        times = level.times
        if level.parent.name.startswith("__"):  # an introspection list: the schema says
            chain = (*level.chain, name)
            base = level.base if level.chain else times
            if chain not in self.introspection:  # start a new chain here
                chain, base = (name,), times
            longest = max(self.introspection.values(), default=0)
            size = self.introspection.get(chain, longest)
            return base * size, level._replace(chain=chain, base=base)
        page = own_page if own_page is not None else level.page
        return times * max(page if page is not None else self.limits.max_page_size, 1), level

    def walk(self, operation: OperationDefinitionNode) -> None:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return
        todo = [_Level(operation.selection_set, root, 1, 0, None)]
        limits = self.limits
        while todo:
            level = todo.pop()
            for selection in level.selections.selections:
                self.visits += 1
                if self.visits > limits.max_cost:
                    self.refuse(
                        "the query expands to more than {limit} selections, this service's "
                        "limit on its cost ({setting})",
                        "max_cost",
                        None,
                        selection,
                    )
                if isinstance(selection, FieldNode):
                    self.field(selection, level, todo)
                    continue
                if isinstance(selection, InlineFragmentNode):
                    condition, selections = selection.type_condition, selection.selection_set
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments.get(selection.name.value)
                    if fragment is None:
                        continue
                    condition, selections = fragment.type_condition, fragment.selection_set
                else:
                    continue
                kind = self.schema.get_type(condition.name.value) if condition else None
                todo.append(level._replace(selections=selections, parent=kind or level.parent))

    def field(self, node: FieldNode, level: _Level, todo: list[_Level]) -> None:
        limits = self.limits
        depth = level.depth + 1
        if depth > self.depth:
            self.depth = depth
            if depth > limits.max_depth:
                self.refuse(
                    f"field '{node.name.value}' is nested {depth} deep, more than {{limit}}, "
                    "this service's limit ({setting})",
                    "max_depth",
                    depth,
                    node,
                )
        if node.alias is not None:
            self.aliases += 1
            if self.aliases > limits.max_aliases:
                self.refuse(
                    "the query has more than {limit} aliased fields (counted as executed: "
                    "a fragment spread twice counts twice), this service's limit ({setting})",
                    "max_aliases",
                    self.aliases,
                    node,
                )
        self.cost += level.times
        if self.cost > limits.max_cost:
            self.refuse(
                "the query's cost is more than {limit}, this service's limit ({setting}): "
                f"it may resolve {self.cost:,} fields or more by the time it reaches "
                f"'{node.name.value}' (each field counts once per item of the lists above "
                "it; a list counts as its 'first', or the page size); ask for fewer items "
                "with 'first', or split the query",
                "max_cost",
                self.cost,
                node,
            )
        definition = _field_def(self.schema, level.parent, node.name.value)
        if definition is None or node.selection_set is None:
            return
        kind = get_named_type(definition.type)
        own_page = self.page(node, definition)
        field_type: Any = definition.type  # graphql-core 3.2 and 3.3 type it apart
        if is_list_type(get_nullable_type(field_type)):
            times, where = self.size(level, node.name.value, own_page)
            todo.append(
                where._replace(
                    selections=node.selection_set, parent=kind, times=times, depth=depth, page=None
                )
            )
        else:  # one object: a connection passes its page size on to its edges and nodes
            todo.append(
                _Level(node.selection_set, kind, level.times, depth, own_page)  # chain ends
            )


def analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: GraphQLLimits,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> Analysis:
    """The cost, depth and aliases of the operation to run, with its variables applied.

    Args:
        schema: the schema ``document`` was validated against.
        document: a parsed and validated query.
        limits: the limits to check.
        variables: the request's variables (raw JSON values, as execution gets them).
        operation_name: the operation to run, when the document has several.

    Raises:
        GraphQLTooComplexError: the operation goes over a limit; its ``setting`` names it.
    """
    operation = get_operation_ast(document, operation_name)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    values = dict(variables or {})
    if operation is not None:
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in values and definition.default_value is not None:
                default = value_from_ast(definition.default_value, GraphQLInt)
                if isinstance(default, int):
                    values[name] = default
    walk = _Walk(schema, fragments, values, limits)
    if operation is not None:
        walk.walk(operation)
    return Analysis(walk.cost, walk.depth, walk.aliases, walk.errors)


def paging_variables(document: DocumentNode) -> frozenset[str]:
    """The variables a document passes to ``first`` or ``offset``: the only ones its
    :func:`analyse` depends on (so an analysis can be kept for other values of the rest).

    >>> from graphql import parse
    >>> sorted(paging_variables(parse("query($n: Int, $id: ID!) { model(id: $id) "
    ...     "{ upstream(first: $n) { totalCount } } }")))
    ['n']
    """
    found: set[str] = set()
    todo = [d.selection_set for d in document.definitions if hasattr(d, "selection_set")]
    while todo:
        for selection in todo.pop().selections:
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    if argument.name.value in ("first", "offset") and isinstance(
                        argument.value, VariableNode
                    ):
                        found.add(argument.value.name.value)
            selections = getattr(selection, "selection_set", None)
            if selections is not None:
                todo.append(selections)
    return frozenset(found)


# -- while it runs -----------------------------------------------------------------------


class Stop(BaseException):
    """Unwinds a running execution at once, carrying the error to raise for it.

    graphql-core turns an ``Exception`` raised by a resolver into an error of that
    field and goes on with its siblings; a ``BaseException`` goes straight through it,
    as ``KeyboardInterrupt`` would.
    """

    def __init__(self, error: LifecycleGraphError) -> None:
        super().__init__(str(error))
        self.error = error


def json_bytes(value: Any) -> int:
    """The length of ``value`` in compact JSON, not counting the fields of objects (they
    count themselves as they are resolved) nor escapes and multi-byte characters.

    >>> json_bytes(["ab", 12, None, True]), len('["ab",12,null,true]')
    (19, 19)
    """
    if value is None or value is True:
        return 4
    if value is False:
        return 5
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, int | float):
        return len(repr(value))
    if isinstance(value, list | tuple):
        return 1 + sum(json_bytes(v) + 1 for v in value) if value else 2
    return 2  # an object: "{}"


class Budget:
    """What one execution may still spend, checked at every field and store read.

    Use it as graphql-core middleware (``middleware=[budget]``); call :meth:`check` in
    readers that may take a while. The counts stay readable afterwards: ``cost`` (from
    :func:`analyse`), ``fields`` resolved and ``answer_bytes`` counted.

    Args:
        limits: the limits to keep.
        cancel: set it (from another thread) to stop the execution.
    """

    def __init__(self, limits: GraphQLLimits | None = None, cancel: threading.Event | None = None):
        self.limits = limits or GraphQLLimits()
        self.cancel = cancel or threading.Event()
        self.deadline: float | None = None
        self._info: Any = None
        self.cost = 0
        self.fields = 0
        self.answer_bytes = 0

    def start(self) -> None:
        """Start the clock: the time limit counts from now."""
        timeout = self.limits.timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout

    def check(self) -> None:
        """Stop the execution (raise :class:`Stop`) if it was cancelled or is out of time."""
        if self.cancel.is_set():
            raise Stop(GraphQLCancelledError("the GraphQL execution was cancelled by its caller"))
        if self.deadline is not None and time.monotonic() > self.deadline:
            timeout = self.limits.timeout
            raise Stop(
                GraphQLTimeoutError(
                    f"the query ran longer than {timeout:g} s, this service's limit "
                    "(graphql_timeout), and was stopped; ask for fewer items with 'first'",
                    "graphql_timeout",
                    timeout or 0,
                    path=self._info.path.as_list() if self._info is not None else None,
                )
            )

    def resolve(self, next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        """The middleware: check, resolve, count the answer's bytes."""
        self._info = info  # where the execution is, for check() in readers
        self.check()
        self.fields += 1
        value = next_(root, info, **args)
        self.answer_bytes += len(str(info.path.key)) + 4 + json_bytes(value)
        if self.answer_bytes > self.limits.max_answer_bytes:
            limit = self.limits.max_answer_bytes
            raise Stop(
                GraphQLAnswerTooLargeError(
                    f"the answer grew past {limit:,} bytes, this service's limit "
                    "(graphql_max_answer_bytes), and the query was stopped; ask for fewer "
                    "items with 'first', or fewer fields",
                    "graphql_max_answer_bytes",
                    limit,
                    measured=self.answer_bytes,
                    path=info.path.as_list(),
                )
            )
        return value

    def too_long(self, items: int, field_name: str, info: Any) -> Stop:
        """The stop for a plain list of ``items`` (over the page size) at ``info``."""
        limit = self.limits.max_page_size
        return Stop(
            GraphQLAnswerTooLargeError(
                f"the list '{field_name}' at {'.'.join(map(str, info.path.as_list()))} has "
                f"{items:,} items, more than {limit:,}, this service's page size "
                f"(graphql_max_page_size); page through it with its connection "
                f"('{_connection_of(field_name)}(first:, after:)')",
                "graphql_max_page_size",
                limit,
                measured=items,
                path=info.path.as_list(),
            )
        )


def _connection_of(field_name: str) -> str:
    if field_name.endswith("List"):
        return field_name.removesuffix("List")
    return f"{field_name}Connection"
