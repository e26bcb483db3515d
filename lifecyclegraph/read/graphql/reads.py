"""What a GraphQL request reads from the store: entities as :class:`Node`, whose
statements are read one predicate at a time, when a selected field asks for them.

An entity of the lifecycle graph has many derived edges (``lg:upstream``,
``lg:downstream``, ...) beside the few statements a query selects; reading only the
predicates of the selected fields keeps a request's cost proportional to what it
asks, not to how much the rules derived. Each (entity, predicate) is read at most
once per request, and each entity's existence (its bookkeeping) once.

The values are those of :func:`lifecyclegraph.graph.entity.build_entity`: literals from the
asserted facts only, links (named nodes) asserted or derived, ``rdf:type`` split into
asserted and inferred classes.

A context may carry a :class:`~lifecyclegraph.read.graphql.limits.Budget`: every read checks
it first, so an execution stops soon after its time limit, or when it is cancelled,
even inside a resolver that reads many entities.

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory()
>>> _ = graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"),
...     "lg:name": "M", "lg:sourceId": "m", "lg:owner": Ref("aip://user/identity/a")}),
...     source="registry", validate=False)  # an owner the graph does not know: unchecked
>>> node = Context(graph).node("aip://model/registry/m")
>>> node.literals("https://w3id.org/lifecyclegraph/ontology#name")
['M']
>>> node.links("https://w3id.org/lifecyclegraph/ontology#owner")
[('aip://user/identity/a', False)]
>>> Context(graph).node("aip://model/registry/nope") is None
True

:meth:`Context.at` is the same request's view of the graph as it was at a past time
(``graph.as_of(t)``): its nodes read the snapshots live then, so the fields under a
root field with ``asOf`` stay at that time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import from_literal
from lifecyclegraph.core.vocab import INFERRED_GRAPH, RDF_TYPE
from lifecyclegraph.graph.door import Graph, PastGraph
from lifecyclegraph.read.graphql.limits import Budget
from lifecyclegraph.store import EntityState, HydrationState, SnapshotInfo

__all__ = ["Context", "Node"]


class Context:
    """One request's view of the graph, with the entities and statements it has read.

    Args:
        graph: the graph to read.
        budget: the limits of the request (default: :class:`Budget` with the default
            limits and no time limit running).
    """

    def __init__(
        self, graph: Graph, budget: Budget | None = None, past: PastGraph | None = None
    ) -> None:
        self.graph = graph
        self.budget = budget or Budget()
        #: The graph as it was at a past time, when this context reads one.
        self.past = past
        self._nodes: dict[str, Node | None] = {}
        self._walked: dict[str, Node] = {}
        self._times: dict[datetime, Context] = {}

    @property
    def reads(self) -> Graph | PastGraph:
        """The graph the nodes read: the past one, or the graph now."""
        return self.past if self.past is not None else self.graph

    def at(self, when: datetime) -> Context:
        """This request's view of the graph as it was at ``when`` (time zone aware),
        made once per time and sharing this context's budget."""
        found = self._times.get(when)
        if found is None:
            past = self.graph.as_of(when)
            found = self._times[when] = Context(self.graph, self.budget, past)
        return found

    def node(self, uri: str) -> Node | None:
        """The entity ``uri``, or ``None`` when the store does not know it or it is deleted
        (for a past time: when it did not exist then, or was deleted by then)."""
        if uri not in self._nodes:
            self.budget.check()
            if self.past is not None:
                snapshot = self.past.snapshot_of(uri)
                alive = snapshot is not None and snapshot.kind is not HydrationState.DELETED
                self._nodes[uri] = Node(self, uri, None, snapshot) if alive else None
            else:
                state = self.graph.state(uri)
                alive = state is not None and state.state is not HydrationState.DELETED
                self._nodes[uri] = Node(self, uri, state) if alive else None
        return self._nodes[uri]

    def links(self, uri: str, predicate: str) -> list[tuple[str, bool]]:
        """:meth:`Node.links` of any node, an entity or not (a walk goes through
        nodes known only from others' links), each read once per request."""
        node = self._nodes.get(uri) or self._walked.get(uri)
        if node is None:
            node = self._walked[uri] = Node(self, uri, None)
        return node.links(predicate)


class Node:
    """An entity as GraphQL resolves it; statements are read on first use, per predicate."""

    __slots__ = ("_context", "_read", "_subject", "_types", "snapshot", "state", "uri")

    def __init__(
        self,
        context: Context,
        uri: str,
        state: EntityState | None,
        snapshot: SnapshotInfo | None = None,
    ) -> None:
        self._context = context
        self._subject = NamedNode(uri)
        self._read: dict[str, list[tuple[Any, bool]]] = {}
        self._types: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self.uri = uri
        self.state = state  #: the bookkeeping now (``None`` for a past time)
        self.snapshot = snapshot  #: for a past time, the snapshot live then

    def _objects(self, predicate: str) -> list[tuple[Any, bool]]:
        """Every ``(object, inferred)`` of the entity's facts with this predicate."""
        found = self._read.get(predicate)
        if found is None:
            self._context.budget.check()
            quads = self._context.reads.quads(self._subject, NamedNode(predicate))
            found = self._read[predicate] = [
                (q.object, q.graph_name == INFERRED_GRAPH) for q in quads
            ]
        return found

    def literals(self, predicate: str) -> list[Any]:
        """The asserted literal values (as Python values), sorted as
        :class:`~lifecyclegraph.graph.entity.Entity` sorts them."""
        values = [
            from_literal(o)
            for o, inferred in self._objects(predicate)
            if not inferred and isinstance(o, Literal)
        ]
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))

    def links(self, predicate: str) -> list[tuple[str, bool]]:
        """``(uri, inferred)`` of the linked entities, sorted by URI; ``inferred`` is true
        when the link is derived only (not also asserted)."""
        inferred: dict[str, bool] = {}
        for o, derived in self._objects(predicate):
            if isinstance(o, NamedNode):
                inferred[o.value] = inferred.get(o.value, True) and derived
        return sorted(inferred.items())

    def reach(self, predicate: str) -> list[tuple[str, bool]]:
        """``(uri, inferred)`` of everything reached by following ``predicate`` one or
        more times (the SPARQL path ``p+``), sorted by URI: a first step says what
        :meth:`links` says, a node further away is inferred. The entity itself is in it
        only when it lies on a cycle."""
        found = dict(self.links(predicate))
        todo = sorted(found)
        while todo:
            for uri, _ in self._context.links(todo.pop(), predicate):
                if uri not in found:
                    found[uri] = True
                    todo.append(uri)
        return sorted(found.items())

    def _classes(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._types is None:
            asserted: set[str] = set()
            derived: set[str] = set()
            for o, inferred in self._objects(RDF_TYPE.value):
                (derived if inferred else asserted).add(o.value)
            self._types = (tuple(sorted(asserted)), tuple(sorted(derived - asserted)))
        return self._types

    @property
    def types(self) -> tuple[str, ...]:
        """The asserted classes."""
        return self._classes()[0]

    @property
    def inferred_types(self) -> tuple[str, ...]:
        """The classes the rules add (not also asserted)."""
        return self._classes()[1]
