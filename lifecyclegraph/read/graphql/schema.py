"""The GraphQL schema, generated from the ontology and the shapes at start-up.

No code names an entity type: every class with an ``lg:componentType`` becomes an
object type, and every ``lg`` property whose ``rdfs:domain`` the class falls under
(or that has no domain) becomes a field. The rules, in full (docs/graphql.md):

- names: ``lg:graphqlName`` when the ontology gives one, else the IRI's local name;
  root fields start lower case (``ABTest`` -> ``abTest``, list ``abTests``);
- a field is single-valued when every SHACL property shape on its path says
  ``sh:maxCount 1`` (or the property is an ``owl:FunctionalProperty``, or a property
  chain of single-valued links), otherwise it is a list;
- object properties return the range's type (the ``Entity`` interface when the range
  is not an entity class); lineage properties (``lg:dependsOn``, its sub-properties,
  transitive properties and those read transitively) are Relay connections
  (``edges { node }``) with a plain list beside them (``<field>List``); other
  multi-valued object properties are lists with a connection beside them
  (``<field>Connection``);
- inverse and inferred properties are fields like any other: values are read from
  the current state, asserted and derived alike;
- a property marked ``lg:readTransitively`` (``lg:upstream``, ``lg:downstream``: the
  store holds one step) answers everything its one-step facts reach in any number of
  steps, as the SPARQL property path ``p+`` does (``upstream`` is the full lineage).

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> from lifecyclegraph.core.ontology import Ontology
>>> schema = build_schema(Ontology.load())
>>> graph = LifecycleGraph.in_memory()
>>> _ = graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"),
...                          "lg:name": "M", "lg:sourceId": "m"}), source="registry")
>>> execute(schema, graph, '{ model(id: "aip://model/registry/m") { name } }')
{'data': {'model': {'name': 'M'}}}
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import rdflib
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    execute_sync,
    parse,
    validate,
)
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD

from lifecyclegraph.core.errors import GraphQLTooComplexError, InvalidUriError
from lifecyclegraph.core.ontology import LG, Ontology, data_dir, load_turtle_dir
from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import compact
from lifecyclegraph.graph.door import Graph
from lifecyclegraph.read.graphql.limits import (
    Analysis,
    Budget,
    GraphQLLimits,
    Stop,
    analyse,
    count_tokens,
    paging_variables,
)
from lifecyclegraph.read.graphql.reads import Context, Node
from lifecyclegraph.read.graphql.search import search_fields
from lifecyclegraph.read.views import json_value
from lifecyclegraph.store import HydrationState

__all__ = ["build_schema", "execute", "load_schema"]

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
_RESERVED = {"id", "types", "inferredTypes", "relationships", "freshness"}
#: what the store writes for its own bookkeeping: ``freshness`` shows it.
_BOOKKEEPING = {
    str(LG[n])
    for n in ("hydrationState", "currentSnapshot", "lastSeenAt", "lastHydratedAt", "lastEnrichedAt")
}
_SCALARS = {
    XSD.integer: GraphQLInt,
    XSD.int: GraphQLInt,
    XSD.long: GraphQLInt,
    XSD.nonNegativeInteger: GraphQLInt,
    XSD.positiveInteger: GraphQLInt,
    XSD.decimal: GraphQLFloat,
    XSD.double: GraphQLFloat,
    XSD.float: GraphQLFloat,
    XSD.boolean: GraphQLBoolean,
}


@dataclass(frozen=True)
class Field:
    """One property as a GraphQL field."""

    iri: str
    name: str
    is_object: bool
    single: bool
    connection: bool
    range: str | None
    scalar: Any
    #: read transitively (``lg:readTransitively``): the field answers ``p+``
    transitive: bool = False


class _Vocabulary:
    """What the ontology and shapes say about classes and properties, read once."""

    def __init__(self, ontology: Ontology, shapes: rdflib.Graph) -> None:
        self.ontology = ontology
        self.graph = ontology.graph
        self.shapes = shapes
        self.classes = [c for c in ontology.entity_classes() if _NAME.match(self.type_name(c))]
        self._single: dict[str, bool] = {}
        self.read_transitively = ontology.read_transitively()

    def local(self, iri: str) -> str:
        return re.split(r"[#/]", iri)[-1]

    def graphql_name(self, iri: str) -> str:
        value = self.graph.value(rdflib.URIRef(iri), LG.graphqlName)
        return str(value) if value is not None else self.local(iri)

    def type_name(self, cls: str) -> str:
        return self.graphql_name(cls)

    def is_single(self, prop: str, seen: frozenset[str] = frozenset()) -> bool:
        if prop in self._single:
            return self._single[prop]
        node = rdflib.URIRef(prop)
        single = (node, RDF.type, OWL.FunctionalProperty) in self.graph
        if not single:
            counts = [
                self.shapes.value(shape, SH.maxCount)
                for shape in self.shapes.subjects(SH.path, node)
            ]
            single = bool(counts) and all(c is not None and int(str(c)) <= 1 for c in counts)
        if not single and prop not in seen:
            chains = list(self.graph.objects(node, OWL.propertyChainAxiom))
            if len(chains) == 1:
                links = [str(x) for x in Collection(self.graph, chains[0])]
                single = bool(links) and all(self.is_single(x, seen | {prop}) for x in links)
        self._single[prop] = single
        return single

    def is_lineage(self, prop: str) -> bool:
        node = rdflib.URIRef(prop)
        if (node, RDF.type, OWL.TransitiveProperty) in self.graph:
            return True
        if prop in self.read_transitively:
            return True
        todo: list[rdflib.term.Node] = [node]
        seen: set[rdflib.term.Node] = set()
        while todo:
            current = todo.pop()
            if current == LG.dependsOn:
                return True
            seen.add(current)
            todo.extend(p for p in self.graph.objects(current, RDFS.subPropertyOf) if p not in seen)
        return False

    def fields(self) -> list[tuple[str | None, Field]]:
        """Every property as ``(domain or None, Field)``."""
        found = []
        for prop in self.ontology.properties():
            if prop in _BOOKKEEPING:
                continue
            node = rdflib.URIRef(prop)
            domain = self.graph.value(node, RDFS.domain)
            if domain is not None and str(domain) == str(LG.Snapshot):
                continue
            name = self.graphql_name(prop)
            if not _NAME.match(name) or name in _RESERVED:
                continue
            is_object = (node, RDF.type, OWL.ObjectProperty) in self.graph
            rng = self.graph.value(node, RDFS.range)
            single = self.is_single(prop)
            found.append(
                (
                    str(domain) if domain is not None else None,
                    Field(
                        iri=prop,
                        name=name,
                        is_object=is_object,
                        single=single,
                        connection=is_object and not single and self.is_lineage(prop),
                        range=str(rng) if rng is not None else None,
                        scalar=_SCALARS.get(rng, GraphQLString)
                        if isinstance(rng, rdflib.URIRef)
                        else GraphQLString,
                        transitive=is_object and prop in self.read_transitively,
                    ),
                )
            )
        return found


def _lower(name: str) -> str:
    """``ABTest`` -> ``abTest``, ``ModelInstance`` -> ``modelInstance``."""
    match = re.match(r"^([A-Z]+)(?=[A-Z][a-z])|^([A-Z])", name)
    if not match:
        return name
    head = match.group(0)
    return head.lower() + name[len(head) :]


def _plural(name: str) -> str:
    return name + ("es" if name.endswith("s") else "s")


# -- resolving -------------------------------------------------------------------------


def _objects(
    ctx: Context, node: Node, prop: str, transitive: bool = False
) -> list[tuple[Node, bool]]:
    found = []
    for uri, inferred in node.reach(prop) if transitive else node.links(prop):
        linked = ctx.node(uri)
        if linked is not None:
            found.append((linked, inferred))
    return found


def _cursor(index: int) -> str:
    return base64.b64encode(f"i:{index}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = int(base64.b64decode(cursor).decode().removeprefix("i:")) + 1
    except (ValueError, UnicodeDecodeError) as error:
        raise GraphQLError(f"not a cursor of this API: {cursor!r}") from error
    if offset < 1:
        raise GraphQLError(f"not a cursor of this API: {cursor!r}")
    return offset


def _field_resolver(field: Field, shape: str) -> Callable[..., Any]:
    prop = field.iri

    if not field.is_object:

        def literal(node: Node, info: Any) -> Any:
            values = [json_value(v) for v in node.literals(prop)]
            if field.scalar is GraphQLInt:
                values = [v for v in values if isinstance(v, int)]
            elif field.scalar is GraphQLFloat:
                values = [float(v) for v in values if isinstance(v, int | float)]
            elif field.scalar is GraphQLBoolean:
                values = [v for v in values if isinstance(v, bool)]
            else:
                values = [str(v) for v in values]
            return (values[0] if values else None) if field.single else values

        return literal

    def objects(node: Node, info: Any, first: int | None = None, after: str | None = None) -> Any:
        ctx: Context = info.context
        found = _objects(ctx, node, prop, field.transitive)
        if shape == "single":
            return found[0][0] if found else None
        page = ctx.budget.limits.max_page_size
        if shape == "list":
            if len(found) > page:
                raise ctx.budget.too_long(len(found), info.field_name, info)
            return [node for node, _ in found]
        start = _offset(after)
        end = start + (page if first is None else first)
        edges = [
            {"node": node, "inferred": inferred, "cursor": _cursor(i)}
            for i, (node, inferred) in enumerate(found[start:end], start)
        ]
        return {
            "edges": edges,
            "nodes": [e["node"] for e in edges],
            "totalCount": len(found),
            "pageInfo": {
                "hasNextPage": end < len(found),
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
        }

    return objects


# -- the schema ------------------------------------------------------------------------


def build_schema(ontology: Ontology, shapes_dir: Path | None = None) -> GraphQLSchema:
    """Generate the GraphQL schema from the ontology (and the shapes' cardinalities).

    Args:
        ontology: the loaded ontology.
        shapes_dir: the SHACL shapes (default: :func:`~lifecyclegraph.core.ontology.data_dir`).
    """
    vocab = _Vocabulary(ontology, load_turtle_dir(shapes_dir or data_dir("shapes")))
    fields = vocab.fields()
    types: dict[str, GraphQLObjectType] = {}
    by_class: dict[str, str] = {}
    connections: dict[str, GraphQLObjectType] = {}

    page_info = GraphQLObjectType(
        "PageInfo",
        {
            "hasNextPage": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
            "endCursor": GraphQLField(GraphQLString),
        },
    )
    freshness = GraphQLObjectType(
        "Freshness",
        {
            "state": GraphQLField(GraphQLString),
            "lastHydratedAt": GraphQLField(GraphQLString),
            "lastEnrichedAt": GraphQLField(GraphQLString),
            "lastSeenAt": GraphQLField(GraphQLString),
        },
        description="When the entity was last read from its source, and last enriched.",
    )

    def target(rng: str | None) -> GraphQLObjectType | GraphQLInterfaceType:
        if rng is not None and rng in by_class:
            return types[by_class[rng]]
        return entity_interface

    def connection(of: GraphQLObjectType | GraphQLInterfaceType) -> GraphQLObjectType:
        name = getattr(of, "name", "Entity")
        if name not in connections:
            edge = GraphQLObjectType(
                f"{name}Edge",
                {
                    "node": GraphQLField(GraphQLNonNull(of)),
                    "cursor": GraphQLField(GraphQLNonNull(GraphQLString)),
                    "inferred": GraphQLField(
                        GraphQLNonNull(GraphQLBoolean), description="derived by the rules"
                    ),
                },
            )
            connections[name] = GraphQLObjectType(
                f"{name}Connection",
                {
                    "edges": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(edge)))),
                    "nodes": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(of)))),
                    "totalCount": GraphQLField(GraphQLNonNull(GraphQLInt)),
                    "pageInfo": GraphQLField(GraphQLNonNull(page_info)),
                },
            )
        return connections[name]

    def graphql_fields(field: Field) -> dict[str, GraphQLField]:
        description = vocab.ontology.label(field.iri) or compact(field.iri)
        comment = vocab.graph.value(rdflib.URIRef(field.iri), RDFS.comment)
        if comment is not None:
            description = str(comment)
        if not field.is_object:
            kind = (
                field.scalar
                if field.single
                else GraphQLNonNull(GraphQLList(GraphQLNonNull(field.scalar)))
            )
            return {
                field.name: GraphQLField(
                    kind, resolve=_field_resolver(field, ""), description=description
                )
            }
        of = target(field.range)
        page = {"first": GraphQLArgument(GraphQLInt), "after": GraphQLArgument(GraphQLString)}
        as_list = GraphQLNonNull(GraphQLList(GraphQLNonNull(of)))
        if field.single:
            return {
                field.name: GraphQLField(
                    of, resolve=_field_resolver(field, "single"), description=description
                )
            }
        plain = GraphQLField(
            as_list, resolve=_field_resolver(field, "list"), description=description
        )
        paged = GraphQLField(
            GraphQLNonNull(connection(of)),
            args=page,
            resolve=_field_resolver(field, "connection"),
            description=description,
        )
        if field.connection:
            return {field.name: paged, f"{field.name}List": plain}
        return {field.name: plain, f"{field.name}Connection": paged}

    def common() -> dict[str, GraphQLField]:
        out: dict[str, GraphQLField] = {
            "id": GraphQLField(GraphQLNonNull(GraphQLID), resolve=lambda e, _: e.uri),
            "types": GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLString))),
                resolve=lambda e, _: [compact(t) for t in e.types],
                description="the asserted classes",
            ),
            "inferredTypes": GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLString))),
                resolve=lambda e, _: [compact(t) for t in e.inferred_types],
                description="the classes the rules add",
            ),
            "freshness": GraphQLField(GraphQLNonNull(freshness), resolve=_freshness),
        }
        for domain, field in fields:
            if domain is None:
                for name, gql in graphql_fields(field).items():
                    out.setdefault(name, gql)
        return out

    entity_interface = GraphQLInterfaceType(
        "Entity",
        common,
        description="Anything the graph knows under an AIP URI.",
        resolve_type=lambda value, info, _: _type_of(value, vocab, by_class),
    )

    def class_fields(cls: str) -> Callable[[], dict[str, GraphQLField]]:
        def thunk() -> dict[str, GraphQLField]:
            out = common()
            supers = vocab.ontology.superclasses(cls)
            for domain, field in fields:
                if domain is not None and domain in supers:
                    for name, gql in graphql_fields(field).items():
                        out.setdefault(name, gql)
            return out

        return thunk

    for cls in vocab.classes:
        name = vocab.type_name(cls)
        if name in types:
            continue
        by_class[cls] = name
        description = vocab.graph.value(rdflib.URIRef(cls), RDFS.comment)
        types[name] = GraphQLObjectType(
            name,
            class_fields(cls),
            interfaces=[entity_interface],
            description=str(description) if description is not None else None,
            is_type_of=None,
        )
    types["Thing"] = GraphQLObjectType(
        "Thing", common, interfaces=[entity_interface], description="An entity of no known class."
    )

    as_of_arg = {
        "asOf": GraphQLArgument(
            GraphQLString,
            description="the graph as it was at this time (ISO 8601 with a time zone, e.g. "
            "2026-01-02T00:00:00Z), as graph.as_of(t) reads it: asserted facts only",
        )
    }
    id_arg = {
        "id": GraphQLArgument(GraphQLNonNull(GraphQLID), description="an AIP URI"),
        **as_of_arg,
    }
    list_args = {
        "first": GraphQLArgument(GraphQLInt, description="how many (default: the page size)"),
        "offset": GraphQLArgument(GraphQLInt, default_value=0, description="how many to skip"),
        **as_of_arg,
    }
    root: dict[str, GraphQLField] = {
        "entity": GraphQLField(entity_interface, args=id_arg, resolve=_root_entity),
    }
    for cls, name in by_class.items():
        single = _lower(name)
        root[single] = GraphQLField(
            types[name],
            args=id_arg,
            resolve=_root_of_class(cls, vocab),
            description=f"The {vocab.ontology.label(cls) or name} with this id; for an entity "
            "of another class, the one it links to by a single-valued property.",
        )
        root.setdefault(
            _plural(single),
            GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(types[name]))),
                args=list_args,
                resolve=_root_list(cls),
            ),
        )
    root.update(search_fields(entity_interface))
    query = GraphQLObjectType("Query", root)
    return GraphQLSchema(query, types=list(types.values()))


def _type_of(entity: Node, vocab: _Vocabulary, by_class: dict[str, str]) -> str:
    known = [t for t in (*entity.types, *entity.inferred_types) if t in by_class]
    if not known:
        return "Thing"
    specific = [
        t for t in known if not any(o != t and t in vocab.ontology.superclasses(o) for o in known)
    ]
    return by_class[sorted(specific or known)[0]]


def _freshness(entity: Node, info: Any) -> dict[str, Any]:
    if entity.snapshot is not None:  # a past time: what the snapshot live then says
        seen = json_value(entity.snapshot.observed_at)
        return {
            "state": entity.snapshot.kind.name.lower(),
            "lastHydratedAt": seen if entity.snapshot.kind is HydrationState.HYDRATED else None,
            "lastEnrichedAt": None,
            "lastSeenAt": seen,
        }
    state = entity.state
    return {
        "state": state.state.name.lower() if state else None,
        "lastHydratedAt": json_value(state.last_hydrated_at)
        if state and state.last_hydrated_at
        else None,
        "lastEnrichedAt": json_value(state.last_enriched_at)
        if state and state.last_enriched_at
        else None,
        "lastSeenAt": json_value(state.last_seen_at) if state else None,
    }


def _check(uri: str) -> str:
    try:
        AipUri.parse(uri)
    except InvalidUriError as error:
        raise GraphQLError(str(error)) from None
    return uri


def _context(info: Any, as_of: str | None) -> Context:
    """The request's context, or its view of the past time ``as_of`` names.

    Raises:
        GraphQLError: ``as_of`` is not an ISO 8601 time with a time zone (naming it).
    """
    ctx: Context = info.context
    if as_of is None:
        return ctx
    try:
        when = datetime.fromisoformat(as_of.strip())
    except ValueError:
        raise GraphQLError(
            f"asOf {as_of[:80]!r} is not a time: give ISO 8601 with a time zone, "
            "e.g. 2026-01-02T00:00:00Z"
        ) from None
    if when.tzinfo is None:
        raise GraphQLError(
            f"asOf {as_of[:80]!r} has no time zone: add one, e.g. 2026-01-02T00:00:00Z"
        )
    return ctx.at(when)


def _root_entity(_: Any, info: Any, id: str, asOf: str | None = None) -> Node | None:
    return _context(info, asOf).node(_check(id))


def _root_of_class(cls: str, vocab: _Vocabulary) -> Callable[..., Node | None]:
    # the single-valued properties whose range is the class (lg:instanceOf for lg:Model)
    links = sorted(
        str(p)
        for p in vocab.graph.subjects(RDFS.range, rdflib.URIRef(cls))
        if vocab.is_single(str(p))
    )

    def resolve(_: Any, info: Any, id: str, asOf: str | None = None) -> Node | None:
        ctx = _context(info, asOf)
        node = ctx.node(_check(id))
        if node is None:
            return None
        if vocab.ontology.is_a((*node.types, *node.inferred_types), cls):
            return node
        # an entity of another class answers with the one entity it links to by a
        # single-valued property whose range is the class (an instance -> its model)
        linked = {uri for prop in links for uri, _ in node.links(prop)}
        return ctx.node(linked.pop()) if len(linked) == 1 else None

    return resolve


def _root_list(cls: str) -> Callable[..., list[Node]]:
    def resolve(
        _: Any,
        info: Any,
        first: int | None = None,
        offset: int = 0,
        asOf: str | None = None,
    ) -> list[Node]:
        ctx = _context(info, asOf)
        if first is None:
            first = ctx.budget.limits.max_page_size
        # analyse() refused a first over the page size, or below 0, before any read
        rows = ctx.reads.sparql(
            f"SELECT DISTINCT ?e WHERE {{ ?e a <{cls}> }} ORDER BY ?e LIMIT {first} OFFSET {offset}"
        )
        return [n for n in (ctx.node(row["e"].value) for row in rows) if n is not None]

    return resolve


def load_schema(ontology_dir: str | None = None, shapes_dir: str | None = None) -> GraphQLSchema:
    """The schema of the ontology in ``ontology_dir`` (default: the model in use), cached."""
    return _load_schema(
        str(ontology_dir or data_dir("ontology")), str(shapes_dir or data_dir("shapes"))
    )


@lru_cache(maxsize=4)
def _load_schema(ontology_dir: str, shapes_dir: str) -> GraphQLSchema:
    return build_schema(Ontology.load(Path(ontology_dir)), Path(shapes_dir))


#: Queries up to this length are parsed and validated once per schema, then reused.
CACHED_QUERY_CHARS = 20_000


#: A variable not given at all (its default applies), unlike one given as null.
_ABSENT = object()


@dataclass(eq=False)
class _Prepared:
    """A query text made ready to run: parsed and validated (or what is wrong with it),
    with the analyses made of it so far, by limits and paging variables."""

    document: DocumentNode | None = None
    errors: list[GraphQLError] = dataclasses.field(default_factory=list)
    tokens: int = 0
    paging: frozenset[str] = frozenset()
    analyses: dict[Any, Analysis] = dataclasses.field(default_factory=dict)

    def analyse(
        self,
        schema: GraphQLSchema,
        limits: GraphQLLimits,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> Analysis:
        """:func:`~lifecyclegraph.read.graphql.limits.analyse`, kept for the next request
        with the same limits and the same values of the variables it depends on."""
        assert self.document is not None
        values = variables or {}
        given = tuple((n, values.get(n, _ABSENT)) for n in sorted(self.paging))
        key = (limits, operation_name, given)
        try:
            found = self.analyses.get(key)
        except TypeError:  # a list or object given to first: execution will refuse it
            return analyse(schema, self.document, limits, variables, operation_name)
        if found is None:
            found = analyse(schema, self.document, limits, variables, operation_name)
            if len(self.analyses) >= 64:
                self.analyses.clear()
            self.analyses[key] = found
        return found


@lru_cache(maxsize=256)
def _document(schema: GraphQLSchema, query: str, max_tokens: int) -> _Prepared:
    """The parsed query, or what is wrong with it (syntax or validation errors). When it
    has more than ``max_tokens`` tokens, only their number: it is then neither parsed nor
    validated, which take time in proportion to its size, validation more."""
    tokens = count_tokens(query, max_tokens)
    if tokens > max_tokens:
        return _Prepared(tokens=tokens)
    try:
        document = parse(query)
    except GraphQLError as error:
        return _Prepared(errors=[error], tokens=tokens)
    errors = validate(schema, document)
    if errors:
        return _Prepared(errors=errors, tokens=tokens)
    return _Prepared(document, tokens=tokens, paging=paging_variables(document))


def execute(
    schema: GraphQLSchema,
    graph: Graph,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """Run a GraphQL query on the graph's current state, within limits; the response as a
    dict (``data``, and ``errors`` when there are any).

    The query is refused before any read when it goes over a limit of the budget's
    :class:`~lifecyclegraph.read.graphql.limits.GraphQLLimits` (tokens, depth, aliases, page
    size, cost: see :func:`~lifecyclegraph.read.graphql.limits.analyse`), and stopped while
    it runs when its time is up, its answer too large, or the budget cancelled.

    A query's parse and validation depend on the schema and the text only, so they
    are cached (the last 256 texts up to :data:`CACHED_QUERY_CHARS` characters): a
    client that sends the same query with other variables pays for them once.

    Args:
        schema: the schema (:func:`load_schema`).
        graph: the graph to read.
        query: the GraphQL query text.
        variables: its variables, as JSON values.
        operation_name: the operation to run, when the query has several.
        budget: the limits and the cancel switch; afterwards it holds the query's
            ``cost``, the ``fields`` resolved and the ``answer_bytes`` counted
            (default: the default limits).

    Raises:
        GraphQLTooComplexError: refused before it ran; ``setting`` names the limit.
        GraphQLAnswerTooLargeError: the answer, or a plain list, grew past its limit.
        GraphQLTimeoutError: it ran past the time limit.
        GraphQLCancelledError: the budget was cancelled.
    """
    budget = budget or Budget()
    budget.start()
    limits = budget.limits
    if len(query) <= CACHED_QUERY_CHARS:
        prepared = _document(schema, query, limits.max_tokens)
    else:
        prepared = _document.__wrapped__(schema, query, limits.max_tokens)
    if prepared.tokens > limits.max_tokens:
        raise GraphQLTooComplexError(
            f"the query has more than {limits.max_tokens:,} tokens, this service's limit "
            "(graphql_max_tokens); it was not parsed",
            GraphQLLimits.setting("max_tokens"),
            limits.max_tokens,
            measured=prepared.tokens,
        )
    if prepared.document is None:
        return dict(ExecutionResult(None, prepared.errors).formatted)
    document = prepared.document
    analysis = prepared.analyse(schema, limits, variables, operation_name)
    budget.cost = analysis.cost
    if analysis.errors:
        return dict(ExecutionResult(None, analysis.errors).formatted)
    try:
        result = execute_sync(
            schema,
            document,
            context_value=Context(graph, budget),
            variable_values=variables,
            operation_name=operation_name,
            middleware=[budget],
        )
    except Stop as stop:
        raise stop.error from None
    return dict(result.formatted)
