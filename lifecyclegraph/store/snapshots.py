"""The snapshot store: every write of an entity's facts is an immutable, timestamped named graph.

The store is two Oxigraph datasets (see ``docs/dataset-layout.md``, a public
interface):

* the **current** dataset holds, for every live entity, the named graph of its
  current snapshot; the named graph of derived facts (``lifecyclegraph.core.vocab.INFERRED_GRAPH``);
  and, in the default graph, the bookkeeping: each entity's lifecycle state and
  the catalogue of every snapshot ever written (time, source, event). Queries on
  the current state run with the *union* of these graphs as their default graph,
  so plain SPARQL with no ``GRAPH`` clause sees the current state, and ``GRAPH ?g``
  gives the snapshot (hence the source and time) each fact came from;
* the **archive** dataset holds superseded snapshot graphs, moved there verbatim
  when a newer snapshot or a tombstone replaces them.

Each write is one Oxigraph transaction, so an entity (with its parts) is either
fully written or not at all. A snapshot graph is never changed after it is
written: it is only moved, unchanged, from the current dataset to the archive.

>>> from datetime import datetime, timezone
>>> from lifecyclegraph.core.facts import Facts, Ref
>>> store = SnapshotStore.in_memory()
>>> seen = Observation("registry", datetime(2026, 1, 1, tzinfo=timezone.utc), "e-1")
>>> facts = Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"), "lg:name": "M"})
>>> [r.outcome.value for r in store.write_many([(facts, seen)])]
['created']
>>> [r.outcome.value for r in store.write_many([(facts, seen)])]
['unchanged']
>>> len(store.history("aip://model/registry/m"))
1
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyoxigraph import (
    NamedNode,
    Quad,
    QuerySolutions,
    Store,
    Triple,
)

from lifecyclegraph.core.errors import StoreError
from lifecyclegraph.core.facts import Facts, Object, from_literal, term_value, to_literal
from lifecyclegraph.core.vocab import INFERRED_GRAPH, LG, PREFIXES, RDF_TYPE
from lifecyclegraph.store.batch import Batch
from lifecyclegraph.store.layout import (
    BOOKKEEPING_IRIS,
    DEFAULT_GRAPH,
    LAYOUT_VERSION,
    inferred_quad,
    is_fact_graph,
    is_snapshot_graph,
    sparql_terms,
    sparql_update,
    triple_of,
)
from lifecyclegraph.store.sparql_dataset import query_options
from lifecyclegraph.store.values import (
    Delta,
    EntityState,
    HydrationState,
    Observation,
    Outcome,
    SnapshotInfo,
    WriteResult,
)

if TYPE_CHECKING:
    from lifecyclegraph.store.port import StorePort

__all__ = [
    "Delta",
    "EntityState",
    "HydrationState",
    "Observation",
    "Outcome",
    "SnapshotInfo",
    "SnapshotStore",
    "WriteResult",
]

#: Up to how many added derived facts a change with removals is one SPARQL update.
SMALL_CHANGE = 256

#: Quads written to an on-disk dataset between two flushes of its write buffers
#: (:meth:`SnapshotStore._written`).
FLUSH_EVERY = 200_000


class SnapshotStore:
    """Immutable snapshots plus a current view, on two Oxigraph datasets.

    Use :meth:`open` for the on-disk store and :meth:`in_memory` for tests.
    Writes are serialized by a lock; reads may run in parallel with them.
    """

    def __init__(
        self,
        current: Store,
        archive: Store,
        path: Path | None = None,
        *,
        flush_every: int = FLUSH_EVERY,
    ) -> None:
        self.current = current
        self.archive = archive
        self.path = path
        #: quads written between two flushes of the on-disk datasets' write buffers
        #: (:data:`FLUSH_EVERY`; 0: never flush, RocksDB's own limits only)
        self.flush_every = flush_every if path is not None else 0
        self._unflushed = {"current": 0, "archive": 0}
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Delta], None]] = []
        self._generation = 0

    @property
    def generation(self) -> int:
        """A counter that grows with every commit to the current dataset.

        Unlike :meth:`subscribe`, which reports asserted facts only, it also moves for
        bookkeeping-only writes ("seen again") and derived facts, so a reader can tell
        cheaply whether anything it copied from the current dataset is out of date.
        Writes made directly on :attr:`current` (not through this class) do not move it.
        """
        return self._generation

    # -- opening --------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path, *, create: bool = True, flush_every: int = FLUSH_EVERY
    ) -> SnapshotStore:
        """Open (creating if needed, unless ``create`` is false) the store in the
        directory ``path``, flushing its write buffers every ``flush_every`` quads
        written (:meth:`_written`).

        A new store's directory is made accessible by its owner only (``0700``): it
        holds raw events and the write token, and Oxigraph (RocksDB) makes its own
        files with the default mode.

        Raises:
            StoreError: if ``path`` holds something that is not a lifecyclegraph store
                of this layout, or Oxigraph cannot open it (for example another
                process has it open); with ``create=False``, also if there is no store
                at ``path`` yet.
        """
        root = Path(path)
        marker = root / "lifecyclegraph-store.json"
        if not create:
            cls.require(root)
        try:
            if root.exists() and any(root.iterdir()) and not marker.exists():
                raise StoreError(
                    f"{root} is not empty and is not a lifecyclegraph store "
                    "(no lifecyclegraph-store.json)"
                )
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            if marker.exists():
                layout = json.loads(marker.read_text()).get("layout")
                if layout != LAYOUT_VERSION:
                    raise StoreError(
                        f"{root} has store layout {layout!r}; this version reads layout "
                        f"{LAYOUT_VERSION}"
                    )
            else:
                root.chmod(0o700)  # a new store, also in an empty directory made before
                marker.write_text(json.dumps({"layout": LAYOUT_VERSION}) + "\n")
            return cls(
                Store(str(root / "current")),
                Store(str(root / "archive")),
                root,
                flush_every=flush_every,
            )
        except OSError as error:
            if isinstance(error, StoreError):
                raise
            raise StoreError(f"cannot open the store at {root}: {error}") from error

    @staticmethod
    def require(path: str | Path) -> None:
        """Raise :class:`StoreError` unless a lifecyclegraph store is at ``path``
        (what a reader checks before it opens one)."""
        root = Path(path)
        if not (root / "lifecyclegraph-store.json").exists():
            raise StoreError(
                f"{root} is not a lifecyclegraph store ("
                + ("no such directory" if not root.exists() else "no lifecyclegraph-store.json")
                + "): point --store (or [store] path) at one, or make one with "
                "`lifecyclegraph ingest`, `serve` or `demo`"
            )

    @classmethod
    def in_memory(cls) -> SnapshotStore:
        """A store that lives in memory only."""
        return cls(Store(), Store())

    # -- writing --------------------------------------------------------------------

    def write_many(
        self,
        items: Iterable[tuple[Facts, Observation]],
        *,
        enriched_at: datetime | None = None,
    ) -> list[WriteResult]:
        """Write each entity's facts (and its parts) as new snapshots where they changed.

        The whole batch is one transaction per flush; an entity is never half written.
        With ``enriched_at``, each entity written (created, updated or unchanged) is
        also marked enriched as of then, in the same transaction (:meth:`mark_enriched`
        without a write of its own).
        """
        return self._run((("write", facts, obs) for facts, obs in items), enriched_at)

    def delete_many(
        self, items: Iterable[tuple[str, Observation]], *, enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        """Tombstone entities (and their parts): they leave the current state, history
        stays. ``enriched_at`` as in :meth:`write_many`, for each one tombstoned."""
        return self._run((("delete", uri, obs) for uri, obs in items), enriched_at)

    def reference_many(
        self,
        items: Iterable[tuple[str, NamedNode, Observation]],
        *,
        enriched_at: datetime | None = None,
    ) -> list[WriteResult]:
        """Record stubs for entities known only from a foreign key, with their class.

        An entity the store already knows (in any state) is left as it is.
        ``enriched_at`` as in :meth:`write_many`, for each new stub.
        """
        return self._run((("reference", uri, cls, obs) for uri, cls, obs in items), enriched_at)

    def _run(
        self, operations: Iterable[tuple[Any, ...]], enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        stamp = None if enriched_at is None else to_literal(enriched_at)
        with self._lock:
            batch = self._batch()
            batch.enriched = stamp
            referenced: set[str] = set()
            for op in operations:
                if op[0] == "reference":
                    if op[1] in referenced:  # known since its first reference in this call
                        batch.results.append(WriteResult(op[1], Outcome.IGNORED))
                        continue
                    referenced.add(op[1])
                uris = batch.uris_of(op)
                if batch.touched & uris or batch.full():
                    self._commit(batch)
                    batch = self._batch(batch.results)
                    batch.enriched = stamp
                batch.apply(op)
            self._commit(batch)
            return batch.results

    def _batch(self, results: list[WriteResult] | None = None) -> Batch:
        """A new write (results of earlier ones of the same call continued)."""
        return Batch(self.current, self.archive, results)

    def _update_text(self, deletes: list[Quad], inserts: list[tuple[str, str, str, str]]) -> str:
        """The SPARQL update that deletes then inserts these quads of the current state."""
        return sparql_update(deletes, inserts)

    def _written(self, quads: int, dataset: str = "current") -> None:
        """Count ``quads`` written to a dataset; past :attr:`flush_every` since the last
        flush, flush that dataset's write buffers (RocksDB's memtables) to disk.

        Oxigraph gives each of its twelve column families write buffers of 128 MB, up
        to six, flushed two at a time: left alone they grow to gigabytes, and inserts
        into a large buffer are slower (the skip list is deeper). Flushing keeps them
        small: 2M quads written 1.8x faster with 263 MB of RSS instead of 1,560. Each
        flush makes small table files that RocksDB then compacts. At 1M entities, every
        200,000 quads rather than 100,000 made the backfill 1,738 s instead of 2,019
        with its peak RSS 3,671 MB instead of 3,638; every 400,000 was no faster (1,759
        s) and went over the 4 GB target (4,151 MB), so the default is 200,000
        (docs/benchmarks.md, Scale, eleventh and twelfth rounds).
        """
        if not self.flush_every:
            return
        self._unflushed[dataset] += quads
        if self._unflushed[dataset] >= self.flush_every:
            self._unflushed[dataset] = 0
            (self.current if dataset == "current" else self.archive).flush()

    def _commit(self, batch: Batch) -> None:
        written = len(batch.inserts) + len(batch.deletes), len(batch.archived)
        wrote, delta = batch.commit(feed=bool(self._listeners))
        self._written(written[0])
        if written[1]:
            self._written(written[1], "archive")
        if wrote:
            self._generation += 1
        if delta is not None:
            for listener in self._listeners:
                listener(delta)

    # -- reading bookkeeping --------------------------------------------------------

    def state(self, uri: str) -> EntityState | None:
        """The bookkeeping of ``uri``, or ``None`` if the store has never heard of it."""
        values: dict[str, Any] = {}
        for quad in self.current.quads_for_pattern(NamedNode(uri), None, None, DEFAULT_GRAPH):
            if quad.predicate.value in BOOKKEEPING_IRIS:
                values[quad.predicate.value] = quad.object
        if LG.hydrationState.value not in values:
            return None
        last_hydrated = values.get(LG.lastHydratedAt.value)
        last_enriched = values.get(LG.lastEnrichedAt.value)
        part_of = values.get(LG.partOf.value)
        return EntityState(
            uri=uri,
            state=HydrationState.from_term(values[LG.hydrationState.value]),
            current_snapshot=values[LG.currentSnapshot.value].value,
            last_seen_at=from_literal(values[LG.lastSeenAt.value]),
            last_hydrated_at=from_literal(last_hydrated) if last_hydrated else None,
            part_of=part_of.value if part_of else None,
            last_enriched_at=from_literal(last_enriched) if last_enriched else None,
        )

    def snapshot(self, iri: str) -> SnapshotInfo:
        """The catalogue entry of one snapshot.

        Raises:
            KeyError: if no snapshot has that IRI.
        """
        node = NamedNode(iri)
        values: dict[str, Any] = {}
        for quad in self.current.quads_for_pattern(node, None, None, DEFAULT_GRAPH):
            values[quad.predicate.value] = quad.object
        if LG.snapshotOf.value not in values:
            raise KeyError(iri)
        kind = {
            LG.Tombstone.value: HydrationState.DELETED,
            LG.StubSnapshot.value: HydrationState.REFERENCED,
        }.get(values[RDF_TYPE.value].value, HydrationState.HYDRATED)
        event = values.get(LG.event.value)
        previous = values.get(LG.supersedes.value)
        return SnapshotInfo(
            iri=iri,
            entity=values[LG.snapshotOf.value].value,
            observed_at=from_literal(values[LG.observedAt.value]),
            source=values[LG.source.value].value,
            event_id=event.value if event else None,
            kind=kind,
            supersedes=previous.value if previous else None,
        )

    def snapshot_pairs(self, iri: str) -> frozenset[tuple[NamedNode, Object]]:
        """The ``(predicate, object)`` facts a snapshot holds (empty for a tombstone)."""
        graph = NamedNode(iri)
        for dataset in (self.current, self.archive):
            pairs = frozenset(
                (q.predicate, q.object) for q in dataset.quads_for_pattern(None, None, None, graph)
            )
            if pairs:
                return pairs  # type: ignore[return-value]
        return frozenset()

    def history(self, uri: str) -> list[SnapshotInfo]:
        """Every snapshot of ``uri``, oldest first (empty if the entity is unknown)."""
        state = self.state(uri)
        if state is None:
            return []
        chain = []
        iri: str | None = state.current_snapshot
        while iri is not None:
            info = self.snapshot(iri)
            chain.append(info)
            iri = info.supersedes
        chain.reverse()
        return chain

    def snapshot_at(self, uri: str, when: datetime) -> SnapshotInfo | None:
        """The snapshot of ``uri`` that was current at ``when`` (``None`` before the first)."""
        for info in reversed(self.history(uri)):
            if info.observed_at <= when:
                return info
        return None

    def snapshots_at(self, when: datetime) -> list[SnapshotInfo]:
        """The snapshots current at ``when`` for every entity that existed then."""
        query = """
            SELECT ?s WHERE {
              ?s lg:snapshotOf ?e ; lg:observedAt ?t .
              FILTER (?t <= WHEN)
              FILTER NOT EXISTS {
                ?next lg:supersedes ?s ; lg:observedAt ?t2 . FILTER (?t2 <= WHEN) }
              FILTER NOT EXISTS { ?s a lg:Tombstone }
            }""".replace("WHEN", str(to_literal(when)))
        rows = self.current.query(query, prefixes=PREFIXES)
        assert isinstance(rows, QuerySolutions)  # a SELECT
        return [self.snapshot(row["s"].value) for row in rows]

    def entities(self, state: HydrationState | None = None) -> Iterator[str]:
        """The URIs of every known entity, or of those in ``state``."""
        obj = state.term if state else None
        for quad in self.current.quads_for_pattern(None, LG.hydrationState, obj, DEFAULT_GRAPH):
            yield term_value(quad.subject)

    def asserted(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
    ) -> Iterator[Triple]:
        """Asserted facts of the current state matching a pattern (``None`` matches all).

        These are the facts of current snapshots: what sources said, without bookkeeping
        or derived facts.
        """
        for quad in self.current.quads_for_pattern(subject, predicate, obj, None):
            if is_snapshot_graph(quad.graph_name):
                yield triple_of(quad)

    def inferred(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
    ) -> Iterator[Triple]:
        """Derived facts matching a pattern."""
        for quad in self.current.quads_for_pattern(subject, predicate, obj, INFERRED_GRAPH):
            yield triple_of(quad)

    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
        *,
        inferred: bool | None = None,
    ) -> Iterator[Quad]:
        """The facts of the current state matching a pattern, each in the graph that
        holds it: a current snapshot (asserted) or the inferred graph (derived).

        ``inferred=False`` keeps asserted facts only, ``True`` derived ones only.
        Bookkeeping and superseded snapshots are never included.
        """
        if inferred:
            return self.current.quads_for_pattern(subject, predicate, obj, INFERRED_GRAPH)
        if inferred is False and isinstance(subject, NamedNode):
            return iter(self._asserted_quads(subject, predicate, obj))
        found = self.current.quads_for_pattern(subject, predicate, obj, None)
        if inferred is None:
            return (q for q in found if is_fact_graph(q.graph_name))
        return (q for q in found if is_snapshot_graph(q.graph_name))

    def _asserted_quads(
        self, subject: NamedNode, predicate: NamedNode | None, obj: Object | None
    ) -> list[Quad]:
        """One entity's asserted quads matching a pattern, read from its current
        snapshot graph, which holds them all: a read of the few quads asked for, not of
        every quad of the subject in every graph (each decoded term is a lookup).

        The two reads are not one transaction: when the second finds nothing, the
        entity's current snapshot is read again, and if a write moved it meanwhile the
        read starts over (so an entity never looks empty half-way through a write).
        """
        while True:
            graph = self._current_snapshot(subject)
            if graph is None:
                return []
            found = list(self.current.quads_for_pattern(subject, predicate, obj, graph))
            if found or self._current_snapshot(subject) == graph:
                return found

    def _current_snapshot(self, subject: NamedNode) -> NamedNode | None:
        quad = next(
            self.current.quads_for_pattern(subject, LG.currentSnapshot, None, DEFAULT_GRAPH), None
        )
        return quad.object if quad is not None and isinstance(quad.object, NamedNode) else None

    def history_quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
    ) -> Iterator[Quad]:
        """The facts of every snapshot ever written (current and superseded) matching a
        pattern, each in its snapshot graph: what a view of a past time filters."""
        for dataset in (self.current, self.archive):
            for quad in dataset.quads_for_pattern(subject, predicate, obj, None):
                if is_snapshot_graph(quad.graph_name):
                    yield quad

    def apply_inferred(
        self,
        added: Iterable[Triple | Quad],
        removed: Iterable[Triple | Quad],
        *,
        bulk: bool = False,
    ) -> None:
        """Add and remove derived facts in one transaction.

        Facts are triples, or quads already in ``INFERRED_GRAPH`` (which saves a copy
        when a rule engine writes many facts at once). With ``bulk=True`` and nothing
        to remove, the additions go through Oxigraph's bulk loader: several times
        faster for millions of facts (on disk above all), but not atomic; after a
        crash the inferred graph may hold part of them, which the next full
        materialization repairs.

        A large change that also removes facts is written as two transactions,
        removals then additions (one SPARQL update carrying thousands of added facts
        costs ten times as much as adding them); like the rest of the inferred
        graph, the additions then follow a moment later.

        Raises:
            StoreError: if a quad names another graph.
        """
        adds = [inferred_quad(t) for t in added]
        removes = [inferred_quad(t) for t in removed]
        with self._lock:
            if removes and len(adds) <= SMALL_CHANGE:
                self.current.update(self._update_text(removes, [sparql_terms(q) for q in adds]))
                self._written(len(removes) + len(adds))
                return
            if removes:
                self.current.update(self._update_text(removes, []))
            if adds and bulk and not removes:
                self.current.bulk_extend(adds)  # written as files, not through the buffers
            elif adds:
                self.current.extend(adds)
                self._written(len(adds))
            if removes or adds:
                self._written(len(removes))
                self._generation += 1

    def mark_enriched(self, uris: Iterable[str], at: datetime) -> None:
        """Record that these entities' derived facts and index are up to date as of ``at``."""
        stamp = to_literal(at)
        deletes: list[Quad] = []
        inserts: list[tuple[str, str, str, str]] = []
        with self._lock:
            for uri in set(uris):
                node = NamedNode(uri)
                if (
                    next(
                        self.current.quads_for_pattern(
                            node, LG.hydrationState, None, DEFAULT_GRAPH
                        ),
                        None,
                    )
                    is None
                ):
                    continue
                deletes.extend(
                    self.current.quads_for_pattern(node, LG.lastEnrichedAt, None, DEFAULT_GRAPH)
                )
                inserts.append((str(node), str(LG.lastEnrichedAt), str(stamp), ""))
            if inserts:
                self.current.update(self._update_text(deletes, inserts))
                self._written(len(deletes) + len(inserts))
                self._generation += 1

    def subscribe(self, listener: Callable[[Delta], None]) -> None:
        """Call ``listener`` with the net change of asserted facts after each commit."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Delta], None]) -> None:
        """Stop calling ``listener`` (no error if it was not subscribed)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def write_lock(self) -> threading.RLock:
        """The lock every write holds, and under which the listeners run (reentrant):
        code that takes a lock a listener also takes, and then writes, takes this one
        first (see :class:`~lifecyclegraph.store.port.StorePort`)."""
        return self._lock

    def query(self, sparql: str, **options: Any) -> Any:
        """Run SPARQL on the current state (the union of current snapshots, inferred
        facts and bookkeeping); the standard prefixes are predeclared.

        The query's ``FROM`` and ``FROM NAMED`` make its dataset, and Oxigraph's
        ``default_graph``/``named_graphs`` options win over them
        (:mod:`lifecyclegraph.store.sparql_dataset`).
        """
        options.setdefault("prefixes", PREFIXES)
        return self.current.query(sparql, **query_options(sparql, **options))

    def snapshot_count(self) -> int:
        """How many snapshots were ever written (every change makes one)."""
        rows = self.current.query(
            "SELECT (COUNT(*) AS ?n) WHERE { ?s lg:snapshotOf ?e }", prefixes=PREFIXES
        )
        assert isinstance(rows, QuerySolutions)  # a SELECT
        return int(next(iter(rows))["n"].value)

    def quad_count(self) -> int:
        """How many quads the current dataset holds (facts, derived facts, bookkeeping)."""
        return len(self.current)

    def close(self) -> None:
        """Flush both datasets to disk (an on-disk store can then be opened again once
        the last reference to it is gone)."""
        self.current.flush()
        self.archive.flush()


if TYPE_CHECKING:

    def _implements_the_port(store: SnapshotStore) -> StorePort:
        return store  # mypy checks that SnapshotStore implements StorePort
