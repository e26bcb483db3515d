"""The snapshot store: every write of an entity's facts is an immutable, timestamped named graph.

The store is two Oxigraph datasets (see ``docs/dataset-layout.md``, a public
interface):

* the **current** dataset holds, for every live entity, the named graph of its
  current snapshot; the named graph of derived facts (``lifecyclegraph.vocab.INFERRED_GRAPH``);
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
>>> from lifecyclegraph.facts import Facts, Ref
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
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QuerySolutions,
    RdfFormat,
    Store,
    Triple,
)

from lifecyclegraph.errors import InvalidFactsError, StoreError
from lifecyclegraph.facts import Facts, Object, from_literal, term_value, to_literal
from lifecyclegraph.sparql_dataset import query_options
from lifecyclegraph.vocab import INFERRED_GRAPH, LG, PREFIXES, RDF_TYPE, SNAPSHOT_PREFIX

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

LAYOUT_VERSION = 1
_DEFAULT = DefaultGraph()
_BOOKKEEPING = (
    LG.hydrationState,
    LG.currentSnapshot,
    LG.lastSeenAt,
    LG.lastHydratedAt,
    LG.partOf,
    LG.lastEnrichedAt,
)
_BOOKKEEPING_IRIS = frozenset(p.value for p in _BOOKKEEPING)
_RDF_TYPE = str(RDF_TYPE)
_SNAPSHOT_OF = str(LG.snapshotOf)
_OBSERVED_AT = str(LG.observedAt)
_SOURCE = str(LG.source)
_EVENT = str(LG.event)
_SUPERSEDES = str(LG.supersedes)


class HydrationState(StrEnum):
    """Where an entity is in its life, as the store knows it."""

    HYDRATED = "hydrated"  #: its facts were read from its source
    REFERENCED = "referenced"  #: only known from another entity's foreign key (a stub)
    DELETED = "deleted"  #: its source said it is gone; its history stays

    @property
    def term(self) -> NamedNode:
        return LG[self.value.capitalize()]

    @classmethod
    def from_term(cls, term: NamedNode) -> HydrationState:
        return cls(term.value.rsplit("#", 1)[1].lower())


class Outcome(StrEnum):
    """What a write did."""

    CREATED = "created"  #: the first hydrated snapshot (also after a stub or a deletion)
    UPDATED = "updated"  #: a new snapshot replaced a hydrated one
    UNCHANGED = "unchanged"  #: same facts: no snapshot, only "seen again"
    DELETED = "deleted"  #: a tombstone was written
    REFERENCED = "referenced"  #: a stub was written for an entity not seen before
    STALE = "stale"  #: older than the current snapshot: ignored
    IGNORED = "ignored"  #: nothing to do (deleting an unknown entity, re-referencing)


@dataclass(frozen=True, slots=True)
class Observation:
    """Who said something about an entity, when lifecyclegraph saw it, and why.

    Args:
        source: the provider or platform id that supplied the facts.
        observed_at: when the facts were read from the source (time zone aware).
        event_id: the event that caused the read, if any.
    """

    source: str
    observed_at: datetime
    event_id: str | None = None

    def __post_init__(self) -> None:
        if self.observed_at.tzinfo is None:
            raise InvalidFactsError(
                f"observed_at {self.observed_at.isoformat()} has no time zone; use UTC"
            )

    @classmethod
    def now(cls, source: str, event_id: str | None = None) -> Observation:
        """An observation made now."""
        return cls(source, datetime.now(UTC), event_id)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of writing (or deleting, or referencing) one entity."""

    uri: str
    outcome: Outcome
    snapshot: str | None = None


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One entry of an entity's history."""

    iri: str
    entity: str
    observed_at: datetime
    source: str
    event_id: str | None
    kind: HydrationState
    supersedes: str | None


@dataclass(frozen=True, slots=True)
class Delta:
    """The net change of asserted facts made by one committed write."""

    added: frozenset[Triple]
    removed: frozenset[Triple]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True, slots=True)
class EntityState:
    """The store's bookkeeping for one entity."""

    uri: str
    state: HydrationState
    current_snapshot: str
    last_seen_at: datetime
    last_hydrated_at: datetime | None
    part_of: str | None
    last_enriched_at: datetime | None = None


class SnapshotStore:
    """Immutable snapshots plus a current view, on two Oxigraph datasets.

    Use :meth:`open` for the on-disk store and :meth:`in_memory` for tests.
    Writes are serialized by a lock; reads may run in parallel with them.
    """

    def __init__(self, current: Store, archive: Store, path: Path | None = None) -> None:
        self.current = current
        self.archive = archive
        self.path = path
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
    def open(cls, path: str | Path) -> SnapshotStore:
        """Open (creating if needed) the store in the directory ``path``.

        A new store's directory is made accessible by its owner only (``0700``): it
        holds raw events and the write token, and Oxigraph (RocksDB) makes its own
        files with the default mode.

        Raises:
            StoreError: if ``path`` holds something that is not a lifecyclegraph store
                of this layout, or Oxigraph cannot open it (for example another
                process has it open).
        """
        root = Path(path)
        marker = root / "lifecyclegraph-store.json"
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
            return cls(Store(str(root / "current")), Store(str(root / "archive")), root)
        except OSError as error:
            if isinstance(error, StoreError):
                raise
            raise StoreError(f"cannot open the store at {root}: {error}") from error

    @classmethod
    def in_memory(cls) -> SnapshotStore:
        """A store that lives in memory only."""
        return cls(Store(), Store())

    # -- writing --------------------------------------------------------------------

    def write_many(self, items: Iterable[tuple[Facts, Observation]]) -> list[WriteResult]:
        """Write each entity's facts (and its parts) as new snapshots where they changed.

        The whole batch is one transaction per flush; an entity is never half written.
        """
        return self._run(("write", facts, obs) for facts, obs in items)

    def delete_many(self, items: Iterable[tuple[str, Observation]]) -> list[WriteResult]:
        """Tombstone entities (and their parts): they leave the current state, history stays."""
        return self._run(("delete", uri, obs) for uri, obs in items)

    def reference_many(
        self, items: Iterable[tuple[str, NamedNode, Observation]]
    ) -> list[WriteResult]:
        """Record stubs for entities known only from a foreign key, with their class.

        An entity the store already knows (in any state) is left as it is.
        """
        return self._run(("reference", uri, cls, obs) for uri, cls, obs in items)

    def _run(self, operations: Iterable[tuple[Any, ...]]) -> list[WriteResult]:
        with self._lock:
            batch = _Batch(self)
            referenced: set[str] = set()
            for op in operations:
                if op[0] == "reference":
                    if op[1] in referenced:  # known since its first reference in this call
                        batch.results.append(WriteResult(op[1], Outcome.IGNORED))
                        continue
                    referenced.add(op[1])
                uris = batch.uris_of(op)
                if batch.touched & uris:
                    batch.commit()
                    batch = _Batch(self, batch.results)
                batch.apply(op)
            batch.commit()
            return batch.results

    # -- reading bookkeeping --------------------------------------------------------

    def state(self, uri: str) -> EntityState | None:
        """The bookkeeping of ``uri``, or ``None`` if the store has never heard of it."""
        values: dict[str, Any] = {}
        for quad in self.current.quads_for_pattern(NamedNode(uri), None, None, _DEFAULT):
            if quad.predicate.value in _BOOKKEEPING_IRIS:
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
        for quad in self.current.quads_for_pattern(node, None, None, _DEFAULT):
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
        for quad in self.current.quads_for_pattern(None, LG.hydrationState, obj, _DEFAULT):
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
            if _is_snapshot(quad.graph_name):
                yield _triple(quad)

    def inferred(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        obj: Object | None = None,
    ) -> Iterator[Triple]:
        """Derived facts matching a pattern."""
        for quad in self.current.quads_for_pattern(subject, predicate, obj, INFERRED_GRAPH):
            yield _triple(quad)

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
        adds = [_inferred_quad(t) for t in added]
        removes = [_inferred_quad(t) for t in removed]
        with self._lock:
            if removes and len(adds) <= _SMALL_CHANGE:
                self.current.update(_sparql_update(removes, [_sparql_terms(q) for q in adds]))
                return
            if removes:
                self.current.update(_sparql_update(removes, []))
            if adds and bulk and not removes:
                self.current.bulk_extend(adds)
            elif adds:
                self.current.extend(adds)
            if removes or adds:
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
                        self.current.quads_for_pattern(node, LG.hydrationState, None, _DEFAULT),
                        None,
                    )
                    is None
                ):
                    continue
                deletes.extend(
                    self.current.quads_for_pattern(node, LG.lastEnrichedAt, None, _DEFAULT)
                )
                inserts.append((str(node), str(LG.lastEnrichedAt), str(stamp), ""))
            if inserts:
                self.current.update(_sparql_update(deletes, inserts))
                self._generation += 1

    def subscribe(self, listener: Callable[[Delta], None]) -> None:
        """Call ``listener`` with the net change of asserted facts after each commit."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Delta], None]) -> None:
        """Stop calling ``listener`` (no error if it was not subscribed)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def query(self, sparql: str, **options: Any) -> Any:
        """Run SPARQL on the current state (the union of current snapshots, inferred
        facts and bookkeeping); the standard prefixes are predeclared.

        The query's ``FROM`` and ``FROM NAMED`` make its dataset, and Oxigraph's
        ``default_graph``/``named_graphs`` options win over them
        (:mod:`lifecyclegraph.sparql_dataset`).
        """
        options.setdefault("prefixes", PREFIXES)
        return self.current.query(sparql, **query_options(sparql, **options))


class _Batch:
    """Quads to insert, delete and archive in one transaction, built op by op."""

    def __init__(self, store: SnapshotStore, results: list[WriteResult] | None = None) -> None:
        self.store = store
        # Inserts are kept as N-Triples text (subject, predicate, object, graph or ""):
        # Oxigraph parses text faster than Python builds Quad objects.
        self.inserts: list[tuple[str, str, str, str]] = []
        self.added: list[tuple[NamedNode, Facts]] = []
        self.deletes: list[Quad] = []
        self.archived: list[Quad] = []
        self.touched: set[str] = set()
        self.results: list[WriteResult] = results if results is not None else []

    @staticmethod
    def uris_of(op: tuple[Any, ...]) -> set[str]:
        if op[0] == "write":
            return {f.uri for f in op[1].flatten()}
        return {op[1]}

    def apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "write":
            facts, obs = op[1], op[2]
            for entity, parent in _with_parents(facts):
                self.results.append(self._write(entity, parent, obs))
            self._retire_lost_parts(facts, obs)
        elif kind == "delete":
            self.results.extend(self._delete(op[1], op[2]))
        else:
            self.results.append(self._reference(op[1], op[2], op[3]))

    def _write(self, facts: Facts, parent: str | None, obs: Observation) -> WriteResult:
        self.touched.add(facts.uri)
        node = facts.node
        old = self._bookkeeping(node)
        if old and self._is_stale(old, obs):
            return WriteResult(facts.uri, Outcome.STALE)
        state = old.get(LG.hydrationState.value)
        current = old.get(LG.currentSnapshot.value)
        if state == LG.Hydrated and current is not None:
            pairs = {
                (q.predicate, q.object)
                for q in self.store.current.quads_for_pattern(node, None, None, current)
            }
            if pairs == facts.pairs:
                at = to_literal(obs.observed_at)
                self._replace(node, old, {LG.lastSeenAt: at, LG.lastHydratedAt: at}, complete=False)
                return WriteResult(facts.uri, Outcome.UNCHANGED, current.value)
        snapshot = NamedNode(SNAPSHOT_PREFIX + uuid.uuid4().hex)
        self._retire_content(node, current)
        s, g = str(node), str(snapshot)
        self.inserts.extend((s, str(p), str(o), g) for p, o in facts.pairs)
        self.added.append((node, facts))
        self._catalogue(snapshot, node, obs, LG.Snapshot, current)
        at = to_literal(obs.observed_at)
        new: dict[NamedNode, Object] = {
            LG.hydrationState: LG.Hydrated,
            LG.currentSnapshot: snapshot,
            LG.lastSeenAt: at,
            LG.lastHydratedAt: at,
        }
        if parent is not None:
            new[LG.partOf] = NamedNode(parent)
        if LG.lastEnrichedAt.value in old:
            new[LG.lastEnrichedAt] = old[LG.lastEnrichedAt.value]
        self._replace(node, old, new)
        outcome = Outcome.UPDATED if state == LG.Hydrated else Outcome.CREATED
        return WriteResult(facts.uri, outcome, snapshot.value)

    def _delete(self, uri: str, obs: Observation) -> list[WriteResult]:
        self.touched.add(uri)
        node = NamedNode(uri)
        old = self._bookkeeping(node)
        if not old or old.get(LG.hydrationState.value) == LG.Deleted:
            return [WriteResult(uri, Outcome.IGNORED)]
        if self._is_stale(old, obs):
            return [WriteResult(uri, Outcome.STALE)]
        results = []
        for part in self._current_parts(node):
            results.extend(self._delete(part.value, obs))
        current = old.get(LG.currentSnapshot.value)
        tombstone = NamedNode(SNAPSHOT_PREFIX + uuid.uuid4().hex)
        self._retire_content(node, current)
        self._catalogue(tombstone, node, obs, LG.Tombstone, current)
        new: dict[NamedNode, Object] = {
            LG.hydrationState: LG.Deleted,
            LG.currentSnapshot: tombstone,
            LG.lastSeenAt: to_literal(obs.observed_at),
        }
        for keep in (LG.lastHydratedAt, LG.partOf, LG.lastEnrichedAt):
            if keep.value in old:
                new[keep] = old[keep.value]
        self._replace(node, old, new)
        results.insert(0, WriteResult(uri, Outcome.DELETED, tombstone.value))
        return results

    def _reference(self, uri: str, cls: NamedNode, obs: Observation) -> WriteResult:
        self.touched.add(uri)
        node = NamedNode(uri)
        known = self.store.current.quads_for_pattern(node, LG.hydrationState, None, _DEFAULT)
        if next(known, None) is not None:
            return WriteResult(uri, Outcome.IGNORED)
        snapshot = NamedNode(SNAPSHOT_PREFIX + uuid.uuid4().hex)
        self.inserts.append((str(node), _RDF_TYPE, str(cls), str(snapshot)))
        self.added.append((node, Facts(uri, frozenset({(RDF_TYPE, cls)}))))
        self._catalogue(snapshot, node, obs, LG.StubSnapshot, None)
        self._replace(
            node,
            {},
            {
                LG.hydrationState: LG.Referenced,
                LG.currentSnapshot: snapshot,
                LG.lastSeenAt: to_literal(obs.observed_at),
            },
        )
        return WriteResult(uri, Outcome.REFERENCED, snapshot.value)

    def _retire_lost_parts(self, facts: Facts, obs: Observation) -> None:
        """Tombstone parts the entity had before and no longer has."""
        for entity in facts.flatten():
            kept = {part.uri for part in entity.parts}
            for part in self._current_parts(entity.node):
                if part.value not in kept and part.value not in self.touched:
                    self.results.extend(self._delete(part.value, obs))

    # -- helpers ----------------------------------------------------------------------

    def _bookkeeping(self, node: NamedNode) -> dict[str, Any]:
        return {
            q.predicate.value: q.object
            for q in self.store.current.quads_for_pattern(node, None, None, _DEFAULT)
            if q.predicate.value in _BOOKKEEPING_IRIS
        }

    def _is_stale(self, old: dict[str, Any], obs: Observation) -> bool:
        """An observation older than the entity's current source snapshot is stale.

        A stub says nothing about the source, so no observation is stale against one.
        """
        current = old.get(LG.currentSnapshot.value)
        if current is None or old.get(LG.hydrationState.value) == LG.Referenced:
            return False
        for quad in self.store.current.quads_for_pattern(current, LG.observedAt, None, _DEFAULT):
            if isinstance(quad.object, Literal):
                return bool(from_literal(quad.object) > obs.observed_at)
        return False

    def _current_parts(self, node: NamedNode) -> list[NamedNode]:
        parts = []
        for quad in self.store.current.quads_for_pattern(None, LG.partOf, node, _DEFAULT):
            part = quad.subject
            if not isinstance(part, NamedNode):  # entities are IRIs
                continue
            state = next(
                self.store.current.quads_for_pattern(part, LG.hydrationState, None, _DEFAULT),
                None,
            )
            if state is not None and state.object != LG.Deleted:
                parts.append(part)
        return parts

    def _retire_content(self, node: NamedNode, snapshot: NamedNode | None) -> None:
        if snapshot is None:
            return
        content = list(self.store.current.quads_for_pattern(node, None, None, snapshot))
        self.archived.extend(content)
        self.deletes.extend(content)

    def _catalogue(
        self,
        snapshot: NamedNode,
        node: NamedNode,
        obs: Observation,
        kind: NamedNode,
        previous: NamedNode | None,
    ) -> None:
        g = str(snapshot)
        self.inserts.append((g, _RDF_TYPE, str(kind), ""))
        self.inserts.append((g, _SNAPSHOT_OF, str(node), ""))
        self.inserts.append((g, _OBSERVED_AT, str(to_literal(obs.observed_at)), ""))
        self.inserts.append((g, _SOURCE, str(Literal(obs.source)), ""))
        if obs.event_id:
            self.inserts.append((g, _EVENT, str(Literal(obs.event_id)), ""))
        if previous is not None:
            self.inserts.append((g, _SUPERSEDES, str(previous), ""))

    def _replace(
        self,
        node: NamedNode,
        old: dict[str, Any],
        new: dict[NamedNode, Object],
        complete: bool = True,
    ) -> None:
        """Set bookkeeping values; when ``complete``, drop the ones ``new`` lacks."""
        for predicate, obj in new.items():
            previous = old.get(predicate.value)
            if previous == obj:
                continue
            if previous is not None:
                self.deletes.append(Quad(node, predicate, previous))
            self.inserts.append((str(node), str(predicate), str(obj), ""))
        for predicate in _BOOKKEEPING if complete else ():
            if predicate.value in old and predicate not in new:
                self.deletes.append(Quad(node, predicate, old[predicate.value]))

    def commit(self) -> None:
        """Archive retired snapshot graphs, then apply the batch in one transaction."""
        store = self.store
        if self.archived:
            # Copying first is safe: the copy is idempotent, and until the transaction
            # below commits, the current dataset still holds the old snapshot.
            store.archive.extend(self.archived)
        if self.deletes:
            store.current.update(_sparql_update(self.deletes, self.inserts))
        elif self.inserts:
            text = "".join(f"{s} {p} {o} {g} .\n" for s, p, o, g in self.inserts)
            store.current.load(text.encode(), format=RdfFormat.N_QUADS)
        if self.deletes or self.inserts:
            store._generation += 1
        if store._listeners:
            added = {Triple(n, p, o) for n, facts in self.added for p, o in facts.pairs}
            removed = {_triple(q) for q in self.deletes if _is_snapshot(q.graph_name)}
            delta = Delta(frozenset(added - removed), frozenset(removed - added))
            if delta:
                for listener in store._listeners:
                    listener(delta)
        self.inserts, self.added, self.deletes, self.archived = [], [], [], []


def _is_snapshot(graph: Any) -> bool:
    return isinstance(graph, NamedNode) and graph.value.startswith(SNAPSHOT_PREFIX)


#: Up to how many added derived facts a change with removals is one SPARQL update.
_SMALL_CHANGE = 256


def _inferred_quad(fact: Triple | Quad) -> Quad:
    if isinstance(fact, Quad):
        if fact.graph_name != INFERRED_GRAPH:
            raise StoreError(f"a derived fact must be in the inferred graph, not {fact.graph_name}")
        return fact
    return Quad(fact.subject, fact.predicate, fact.object, INFERRED_GRAPH)


def _triple(quad: Quad) -> Triple:
    return Triple(quad.subject, quad.predicate, quad.object)


def _with_parents(facts: Facts, parent: str | None = None) -> Iterator[tuple[Facts, str | None]]:
    yield facts, parent
    for part in facts.parts:
        yield from _with_parents(part, facts.uri)


def _sparql_update(deletes: Sequence[Quad], inserts: Sequence[tuple[str, str, str, str]]) -> str:
    """One SPARQL update (one transaction) that deletes then inserts these quads."""
    text = []
    if deletes:
        text.append("DELETE DATA {\n" + _quads_block(map(_sparql_terms, deletes)) + "\n}")
    if inserts:
        text.append("INSERT DATA {\n" + _quads_block(inserts) + "\n}")
    return " ;\n".join(text)


def _sparql_terms(quad: Quad) -> tuple[str, str, str, str]:
    """A quad's terms in SPARQL syntax; the default graph is ``""``."""
    graph = "" if quad.graph_name == _DEFAULT else str(quad.graph_name)
    return str(quad.subject), str(quad.predicate), str(quad.object), graph


def _quads_block(quads: Iterable[tuple[str, str, str, str]]) -> str:
    by_graph: dict[str, list[str]] = {}
    for s, p, o, g in quads:
        by_graph.setdefault(g, []).append(f"{s} {p} {o} .")
    lines = by_graph.pop("", [])
    for graph, triples in by_graph.items():
        lines.append(f"GRAPH {graph} {{ " + " ".join(triples) + " }")
    return "\n".join(lines)
