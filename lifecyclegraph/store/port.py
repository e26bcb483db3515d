"""What the store layer offers the components that maintain the graph beside it.

The embedded graph (:class:`~lifecyclegraph.graph.LifecycleGraph`), the rule engine
and the search index hold a :class:`StorePort` and use nothing of the store's insides
(no pyoxigraph ``Store``, no dataset). :class:`~lifecyclegraph.store.SnapshotStore`
(Oxigraph: a current and an archive dataset) implements it; a store behind the SPARQL
1.1 protocol would be another implementation.

Everything else above the store (the ingest worker, GraphQL, REST, the CLI, notebooks)
uses the door, :class:`~lifecyclegraph.graph.door.Graph`, not the port: the port also
carries what only the maintainers of derived data need (the change feed inside the
write lock, bulk reads of asserted facts, writing derived facts).

>>> from lifecyclegraph.store import SnapshotStore
>>> port: StorePort = SnapshotStore.in_memory()
>>> port.snapshot_count()
0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pyoxigraph import NamedNode, Quad, Triple

from lifecyclegraph.core.facts import Facts, Object
from lifecyclegraph.store.values import (
    Delta,
    EntityState,
    HydrationState,
    Observation,
    SnapshotInfo,
    WriteResult,
)

__all__ = ["StorePort"]


class StorePort(Protocol):
    """The snapshot store as the layers above it may use it (``docs/dataset-layout.md``).

    Each entity (with its parts) is written atomically; reads may run beside writes.
    """

    #: The store's directory (``None``: in memory).
    path: Path | None

    @property
    def generation(self) -> int:
        """Grows with every commit to the current state (asserted, derived or
        bookkeeping), so a reader can tell whether what it copied is out of date."""
        ...

    # -- writes ------------------------------------------------------------------------

    def write_many(
        self,
        items: Iterable[tuple[Facts, Observation]],
        *,
        enriched_at: datetime | None = None,
    ) -> list[WriteResult]:
        """Write entities as new snapshots where they changed; one result per entity
        and part. With ``enriched_at``, each entity written is also marked enriched as
        of then, in the same transaction."""
        ...

    def delete_many(
        self, items: Iterable[tuple[str, Observation]], *, enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        """Tombstone entities and their parts: gone from the current state, history kept."""
        ...

    def reference_many(
        self,
        items: Iterable[tuple[str, NamedNode, Observation]],
        *,
        enriched_at: datetime | None = None,
    ) -> list[WriteResult]:
        """Record stubs (URI, class, observation) for entities known only from a
        foreign key; a known entity is left as it is."""
        ...

    def mark_enriched(self, uris: Iterable[str], at: datetime) -> None:
        """Record that these entities' derived facts and index are up to date as of ``at``."""
        ...

    def apply_inferred(
        self,
        added: Iterable[Triple | Quad],
        removed: Iterable[Triple | Quad],
        *,
        bulk: bool = False,
    ) -> None:
        """Add and remove derived facts (the rule engine's only write)."""
        ...

    # -- the change feed ---------------------------------------------------------------

    def subscribe(self, listener: Callable[[Delta], None]) -> None:
        """Call ``listener`` with the net change of asserted facts after each commit,
        inside the write lock."""
        ...

    def unsubscribe(self, listener: Callable[[Delta], None]) -> None:
        """Stop calling ``listener``."""
        ...

    @property
    def write_lock(self) -> AbstractContextManager[Any]:
        """The lock every write holds, and under which the listeners run (reentrant).

        A listener that takes a lock of its own is called with this one held, so code
        that takes that lock of its own and then writes must take this one first:
        always this lock, then the other (the rule engine's ``materialize`` does).
        """
        ...

    # -- bookkeeping and history -------------------------------------------------------

    def state(self, uri: str) -> EntityState | None:
        """The bookkeeping of ``uri``, or ``None`` if the store never heard of it."""
        ...

    def entities(self, state: HydrationState | None = None) -> Iterator[str]:
        """The URIs of every known entity, or of those in ``state``."""
        ...

    def snapshot(self, iri: str) -> SnapshotInfo:
        """The catalogue entry of one snapshot. Raises ``KeyError`` for an unknown IRI."""
        ...

    def snapshot_pairs(self, iri: str) -> frozenset[tuple[NamedNode, Object]]:
        """The ``(predicate, object)`` facts a snapshot holds (empty for a tombstone)."""
        ...

    def history(self, uri: str) -> list[SnapshotInfo]:
        """Every snapshot of ``uri``, oldest first."""
        ...

    def snapshot_at(self, uri: str, when: datetime) -> SnapshotInfo | None:
        """The snapshot of ``uri`` current at ``when`` (a tombstone if it was deleted
        then), or ``None`` before its first."""
        ...

    def snapshots_at(self, when: datetime) -> list[SnapshotInfo]:
        """The snapshots current at ``when`` of every entity that existed then."""
        ...

    def snapshot_count(self) -> int:
        """How many snapshots were ever written."""
        ...

    # -- facts -------------------------------------------------------------------------

    def asserted(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
    ) -> Iterator[Triple]:
        """Asserted facts of the current state matching a pattern."""
        ...

    def inferred(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
    ) -> Iterator[Triple]:
        """Derived facts matching a pattern."""
        ...

    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
        *,
        inferred: bool | None = None,
    ) -> Iterator[Quad]:
        """Facts of the current state, each in its snapshot graph or the inferred graph;
        never bookkeeping (``inferred``: ``False`` asserted only, ``True`` derived only)."""
        ...

    def history_quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
    ) -> Iterator[Quad]:
        """Facts of every snapshot ever written, current and superseded."""
        ...

    def quad_count(self) -> int:
        """How many quads the current state holds."""
        ...

    def query(self, sparql: str, **options: Any) -> Any:
        """SPARQL on the current state (union default graph, standard prefixes)."""
        ...

    def close(self) -> None:
        """Flush what is written (an on-disk store can then be opened again)."""
        ...
