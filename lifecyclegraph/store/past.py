"""The store as it was at a past time: which snapshots were live, and their facts.

A snapshot is live at ``when`` if it was observed by then and no snapshot of the same
entity observed by then superseded it; a tombstone is never live. Derived facts are
current-only, so a past view holds asserted facts only.

>>> from datetime import datetime, timezone
>>> from lifecyclegraph.core.facts import Facts, Ref
>>> from lifecyclegraph.store import Observation, SnapshotStore
>>> store = SnapshotStore.in_memory()
>>> t0, t1 = (datetime(2026, 1, d, tzinfo=timezone.utc) for d in (1, 2))
>>> m = "aip://model/registry/m"
>>> for name, t in (("M", t0), ("M2", t1)):
...     _ = store.write_many([(Facts.of(m, {"rdf:type": Ref("lg:Model"), "lg:name": name}),
...                            Observation("registry", t))])
>>> past = PastView(store, t0)
>>> [row["n"].value for row in past.query("SELECT ?n WHERE { ?m lg:name ?n }")]
['M']
>>> past.entities()
['aip://model/registry/m']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from pyoxigraph import NamedNode, Quad, Store

from lifecyclegraph.core.facts import Object
from lifecyclegraph.core.vocab import PREFIXES
from lifecyclegraph.store.port import StorePort
from lifecyclegraph.store.sparql_dataset import query_options
from lifecyclegraph.store.values import SnapshotInfo

__all__ = ["PastDataset", "PastView"]


class PastView:
    """The snapshots live at ``when`` and their facts; SPARQL on them runs on an
    in-memory copy made on first use (its cost grows with the graph).

    Args:
        store: the store.
        when: the time (time zone aware).

    Raises:
        ValueError: for a naive ``when``.
    """

    def __init__(self, store: StorePort, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("as_of needs a time zone aware datetime (use UTC)")
        self.store = store
        self.when = when
        self._live: dict[str, SnapshotInfo] | None = None
        self._graphs: frozenset[str] | None = None
        self._dataset: PastDataset | None = None

    @property
    def live(self) -> dict[str, SnapshotInfo]:
        """The snapshot of each entity that existed at this time, by entity URI."""
        if self._live is None:
            self._live = {info.entity: info for info in self.store.snapshots_at(self.when)}
        return self._live

    def entities(self) -> list[str]:
        """The URIs of the entities that existed at this time, sorted."""
        return sorted(self.live)

    def snapshot_at(self, uri: str) -> SnapshotInfo | None:
        """The snapshot of ``uri`` current at this time: a tombstone if the entity was
        deleted by then; ``None`` before its first snapshot."""
        return self.store.snapshot_at(uri, self.when)

    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
    ) -> Iterator[Quad]:
        """The facts of the snapshots live then matching a pattern, each in its snapshot
        graph (read from the current and the archive dataset)."""
        if self._graphs is None:
            self._graphs = frozenset(info.iri for info in self.live.values())
        graphs = self._graphs
        for quad in self.store.history_quads(subject, predicate, obj):
            graph = quad.graph_name
            if isinstance(graph, NamedNode) and graph.value in graphs:
                yield quad

    def query(self, sparql: str, **options: Any) -> Any:
        """Run SPARQL on the graph as it was: the union of the live snapshots, or the
        query's ``FROM`` and ``FROM NAMED`` graphs; the standard prefixes predeclared."""
        return self.dataset().query(sparql, **options)

    def dataset(self) -> PastDataset:
        """The in-memory copy of the live snapshots that :meth:`query` runs on (made on
        first use, then kept): each snapshot's facts in its own graph."""
        if self._dataset is None:
            quads: list[Quad] = []
            for info in self.live.values():
                node, graph = NamedNode(info.entity), NamedNode(info.iri)
                quads.extend(
                    Quad(node, p, o, graph) for p, o in self.store.snapshot_pairs(info.iri)
                )
            self._dataset = PastDataset(quads)
        return self._dataset


class PastDataset:
    """An in-memory dataset of snapshot quads, queried as the current state is (the
    union of its graphs as the default graph, the standard prefixes predeclared): what
    SPARQL on a past time runs on, here and in a remote graph.

    >>> from pyoxigraph import Literal
    >>> from lifecyclegraph.core.vocab import LG
    >>> g = NamedNode("urn:lifecyclegraph:snapshot:1")
    >>> past = PastDataset([Quad(NamedNode("aip://model/registry/m"), LG.name, Literal("M"), g)])
    >>> [row["n"].value for row in past.query("SELECT ?n { ?m lg:name ?n }")]
    ['M']
    """

    def __init__(self, quads: Iterable[Quad]) -> None:
        #: The Oxigraph store holding the quads (the SPARQL workers evaluate on it).
        self.store = Store()
        self.store.bulk_extend(quads)

    def query(self, sparql: str, **options: Any) -> Any:
        """Run SPARQL on the dataset (``options`` as for Oxigraph's ``Store.query``)."""
        options.setdefault("prefixes", PREFIXES)
        return self.store.query(sparql, **query_options(sparql, **options))
