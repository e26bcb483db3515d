"""The embedded graph as it was at a past time: :class:`GraphAsOf`.

>>> from datetime import datetime, timezone
>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory()
>>> t0, t1 = (datetime(2026, 1, d, tzinfo=timezone.utc) for d in (1, 2))
>>> m = "aip://model/registry/m"
>>> for name, t in (("M", t0), ("M2", t1)):
...     _ = graph.write(Facts.of(m, {"rdf:type": Ref("lg:Model"), "lg:name": name,
...                                  "lg:sourceId": "m"}),
...                     source="registry", observed_at=t)
>>> graph.as_of(t0).entity(m).name, graph.entity(m).name
('M', 'M2')
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from pyoxigraph import NamedNode, Quad

from lifecyclegraph.core.facts import Object
from lifecyclegraph.graph.door import PastGraph
from lifecyclegraph.graph.entity import Entity, build_entity
from lifecyclegraph.store.past import PastView
from lifecyclegraph.store.port import StorePort
from lifecyclegraph.store.sparql.safety import oxigraph_syntax_error
from lifecyclegraph.store.sparql_dataset import protocol_options
from lifecyclegraph.store.values import HydrationState, SnapshotInfo

__all__ = ["GraphAsOf"]


class GraphAsOf(PastGraph):
    """A read-only view of the graph at a past time.

    ``entity`` reads straight from the snapshots live at that time; ``sparql`` copies
    those snapshots into an in-memory dataset on first use (cost grows with the graph).

    Raises:
        ValueError: for a naive ``when`` (no time zone).
    """

    def __init__(self, store: StorePort, when: datetime) -> None:
        self._view = PastView(store, when)
        self.store = store
        self.when = when

    @property
    def live(self) -> dict[str, SnapshotInfo]:
        """The snapshot of each entity that existed at this time, by entity URI."""
        return self._view.live

    def entities(self) -> list[str]:
        """URIs of the entities that existed at this time."""
        return self._view.entities()

    def entity(self, uri: str) -> Entity | None:
        """The entity as it was, or ``None`` if it did not exist (yet, or any more)."""
        info = self._view.snapshot_at(uri)
        if info is None or info.kind is HydrationState.DELETED:
            return None
        node = NamedNode(uri)
        graph = NamedNode(info.iri)
        outgoing = [Quad(node, p, o, graph) for p, o in self.store.snapshot_pairs(info.iri)]
        incoming = set(self._view.quads(None, None, node))
        return build_entity(uri, outgoing, incoming, snapshot=info)

    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
    ) -> Iterator[Quad]:
        """The facts of the snapshots live then matching a pattern."""
        return self._view.quads(subject, predicate, object)

    def snapshot(self, iri: str) -> SnapshotInfo:
        """The catalogue entry of one snapshot (``KeyError`` for an unknown IRI)."""
        return self.store.snapshot(iri)

    def snapshot_of(self, uri: str) -> SnapshotInfo | None:
        """The snapshot of ``uri`` current then (a tombstone if deleted by then)."""
        return self._view.snapshot_at(uri)

    def sparql(
        self,
        query: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
        **options: Any,
    ) -> Any:
        """Run SPARQL on the graph as it was (union of the live snapshots, or the
        query's ``FROM`` and ``FROM NAMED`` graphs, or ``default_graphs`` and
        ``named_graphs``)."""
        if base_iri is not None:
            options["base_iri"] = base_iri
        if default_graphs is not None or named_graphs is not None:
            options.update(protocol_options(default_graphs, named_graphs))
        try:
            return self._view.query(query, **options)
        except SyntaxError as error:
            raise oxigraph_syntax_error(error) from None
