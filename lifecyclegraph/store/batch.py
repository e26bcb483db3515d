"""One write of the store, built operation by operation: the quads to insert, delete and
archive, committed as one Oxigraph transaction (:class:`Batch`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, Triple

from lifecyclegraph.core.facts import Facts, Object, Pair, from_literal, to_literal
from lifecyclegraph.core.vocab import LG, RDF_TYPE, SNAPSHOT_PREFIX
from lifecyclegraph.store.layout import (
    BOOKKEEPING,
    BOOKKEEPING_IRIS,
    DEFAULT_GRAPH,
    EVENT_IRI,
    OBSERVED_AT_IRI,
    RDF_TYPE_IRI,
    SNAPSHOT_OF_IRI,
    SOURCE_IRI,
    SUPERSEDES_IRI,
    is_snapshot_graph,
    sparql_update,
    triple_of,
)
from lifecyclegraph.store.values import Delta, Observation, Outcome, WriteResult

__all__ = ["Batch", "with_parents"]


class Batch:
    """Quads to insert, delete and archive in one transaction, built op by op.

    Args:
        current: the current dataset (read for bookkeeping, written by :meth:`commit`).
        archive: the archive dataset (superseded snapshot graphs are copied there).
        results: the results of earlier batches of the same call, continued.

    Each entity it creates, updates, finds unchanged, references or deletes also gets
    :attr:`enriched` as its ``lg:lastEnrichedAt`` when that is set: what
    :meth:`~lifecyclegraph.store.SnapshotStore.mark_enriched` records, in the same
    transaction instead of one of its own.
    """

    #: the ``lg:lastEnrichedAt`` stamp of the entities written (``None``: each keeps its own)
    enriched: Literal | None = None

    def __init__(
        self, current: Store, archive: Store, results: list[WriteResult] | None = None
    ) -> None:
        self.current, self.archive = current, archive
        # Inserts are kept as N-Triples text (subject, predicate, object, graph or ""):
        # Oxigraph parses text faster than Python builds Quad objects.
        self.inserts: list[tuple[str, str, str, str]] = []
        self.added: list[tuple[NamedNode, Facts]] = []
        self.deletes: list[Quad] = []
        self.archived: list[Quad] = []
        self.touched: set[str] = set()
        #: entities written in this batch that were hydrated before: only those can have
        #: parts to retire (a stub or a new entity never had any)
        self.rehydrated: set[str] = set()
        #: each entity given a new snapshot: its asserted pairs now (``None``: deleted)
        self.written: dict[str, frozenset[Pair] | None] = {}
        #: whether the batch changes an entity's current snapshot (a change record's cue)
        self.moved = False
        self.results: list[WriteResult] = results if results is not None else []

    def full(self) -> bool:
        """Whether the next operation should go into a new transaction (never: one
        Oxigraph transaction takes any number of quads)."""
        return False

    @staticmethod
    def uris_of(op: tuple[Any, ...]) -> set[str]:
        if op[0] == "write":
            return {f.uri for f in op[1].flatten()}
        return {op[1]}

    def apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "write":
            facts, obs = op[1], op[2]
            for entity, parent in with_parents(facts):
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
        if state == LG.Hydrated:
            self.rehydrated.add(facts.uri)
        if state == LG.Hydrated and current is not None:
            pairs = {
                (q.predicate, q.object)
                for q in self.current.quads_for_pattern(node, None, None, current)
            }
            if pairs == facts.pairs:
                at = to_literal(obs.observed_at)
                seen: dict[NamedNode, Object] = {LG.lastSeenAt: at, LG.lastHydratedAt: at}
                if self.enriched is not None:
                    seen[LG.lastEnrichedAt] = self.enriched
                self._replace(node, old, seen, complete=False)
                return WriteResult(facts.uri, Outcome.UNCHANGED, current.value)
        snapshot = NamedNode(SNAPSHOT_PREFIX + uuid.uuid4().hex)
        self.moved = True
        self._retire_content(node, current)
        s, g = str(node), str(snapshot)
        self.inserts.extend((s, str(p), str(o), g) for p, o in facts.pairs)
        self.added.append((node, facts))
        self.written[facts.uri] = facts.pairs
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
        self._keep_enriched(old, new)
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
        self.moved = True
        self._retire_content(node, current)
        self._catalogue(tombstone, node, obs, LG.Tombstone, current)
        self.written[uri] = None
        new: dict[NamedNode, Object] = {
            LG.hydrationState: LG.Deleted,
            LG.currentSnapshot: tombstone,
            LG.lastSeenAt: to_literal(obs.observed_at),
        }
        for keep in (LG.lastHydratedAt, LG.partOf):
            if keep.value in old:
                new[keep] = old[keep.value]
        self._keep_enriched(old, new)
        self._replace(node, old, new)
        results.insert(0, WriteResult(uri, Outcome.DELETED, tombstone.value))
        return results

    def _reference(self, uri: str, cls: NamedNode, obs: Observation) -> WriteResult:
        self.touched.add(uri)
        node = NamedNode(uri)
        known = self.current.quads_for_pattern(node, LG.hydrationState, None, DEFAULT_GRAPH)
        if next(known, None) is not None:
            return WriteResult(uri, Outcome.IGNORED)
        snapshot = NamedNode(SNAPSHOT_PREFIX + uuid.uuid4().hex)
        self.moved = True
        self.inserts.append((str(node), RDF_TYPE_IRI, str(cls), str(snapshot)))
        stub = Facts(uri, frozenset({(RDF_TYPE, cls)}))
        self.added.append((node, stub))
        self.written[uri] = stub.pairs
        self._catalogue(snapshot, node, obs, LG.StubSnapshot, None)
        new: dict[NamedNode, Object] = {
            LG.hydrationState: LG.Referenced,
            LG.currentSnapshot: snapshot,
            LG.lastSeenAt: to_literal(obs.observed_at),
        }
        self._keep_enriched({}, new)
        self._replace(node, {}, new)
        return WriteResult(uri, Outcome.REFERENCED, snapshot.value)

    def _retire_lost_parts(self, facts: Facts, obs: Observation) -> None:
        """Tombstone parts the entity had before and no longer has (only an entity
        hydrated before can have had any: the others are not looked up)."""
        for entity in facts.flatten():
            if entity.uri not in self.rehydrated:
                continue
            kept = {part.uri for part in entity.parts}
            for part in self._current_parts(entity.node):
                if part.value not in kept and part.value not in self.touched:
                    self.results.extend(self._delete(part.value, obs))

    # -- helpers ----------------------------------------------------------------------

    def _bookkeeping(self, node: NamedNode) -> dict[str, Any]:
        return {
            q.predicate.value: q.object
            for q in self.current.quads_for_pattern(node, None, None, DEFAULT_GRAPH)
            if q.predicate.value in BOOKKEEPING_IRIS
        }

    def _keep_enriched(self, old: dict[str, Any], new: dict[NamedNode, Object]) -> None:
        """The entity's ``lg:lastEnrichedAt``: :attr:`enriched` if set, else the one it had."""
        if self.enriched is not None:
            new[LG.lastEnrichedAt] = self.enriched
        elif LG.lastEnrichedAt.value in old:
            new[LG.lastEnrichedAt] = old[LG.lastEnrichedAt.value]

    def _is_stale(self, old: dict[str, Any], obs: Observation) -> bool:
        """An observation older than the entity's current source snapshot is stale.

        A stub says nothing about the source, so no observation is stale against one.
        """
        current = old.get(LG.currentSnapshot.value)
        if current is None or old.get(LG.hydrationState.value) == LG.Referenced:
            return False
        for quad in self.current.quads_for_pattern(current, LG.observedAt, None, DEFAULT_GRAPH):
            if isinstance(quad.object, Literal):
                return bool(from_literal(quad.object) > obs.observed_at)
        return False

    def _current_parts(self, node: NamedNode) -> list[NamedNode]:
        parts = []
        for quad in self.current.quads_for_pattern(None, LG.partOf, node, DEFAULT_GRAPH):
            part = quad.subject
            if not isinstance(part, NamedNode):  # entities are IRIs
                continue
            state = next(
                self.current.quads_for_pattern(part, LG.hydrationState, None, DEFAULT_GRAPH),
                None,
            )
            if state is not None and state.object != LG.Deleted:
                parts.append(part)
        return parts

    def _retire_content(self, node: NamedNode, snapshot: NamedNode | None) -> None:
        if snapshot is None:
            return
        content = list(self.current.quads_for_pattern(node, None, None, snapshot))
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
        self.inserts.append((g, RDF_TYPE_IRI, str(kind), ""))
        self.inserts.append((g, SNAPSHOT_OF_IRI, str(node), ""))
        self.inserts.append((g, OBSERVED_AT_IRI, str(to_literal(obs.observed_at)), ""))
        self.inserts.append((g, SOURCE_IRI, str(Literal(obs.source)), ""))
        if obs.event_id:
            self.inserts.append((g, EVENT_IRI, str(Literal(obs.event_id)), ""))
        if previous is not None:
            self.inserts.append((g, SUPERSEDES_IRI, str(previous), ""))

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
        for predicate in BOOKKEEPING if complete else ():
            if predicate.value in old and predicate not in new:
                self.deletes.append(Quad(node, predicate, old[predicate.value]))

    #: whether :meth:`write` needs the batch's :class:`Delta` even with no listener
    #: (a remote store with a writer records it in the shared change feed)
    wants_delta = False

    def delta(self) -> Delta | None:
        """The net change of asserted facts the batch makes (``None``: none)."""
        added = {Triple(n, p, o) for n, facts in self.added for p, o in facts.pairs}
        removed = {triple_of(q) for q in self.deletes if is_snapshot_graph(q.graph_name)}
        return (
            Delta(frozenset(added - removed), frozenset(removed - added), dict(self.written))
            or None
        )

    def write(self, delta: Delta | None = None) -> None:
        """Archive retired snapshot graphs, then write the batch in one transaction
        (``delta``, the batch's :meth:`delta` when :attr:`wants_delta`, is not used
        here)."""
        if self.archived:
            # Copying first is safe: the copy is idempotent, and until the transaction
            # below commits, the current dataset still holds the old snapshot.
            self.archive.extend(self.archived)
        if self.deletes:
            self.current.update(sparql_update(self.deletes, self.inserts))
        elif self.inserts:
            text = "".join(f"{s} {p} {o} {g} .\n" for s, p, o, g in self.inserts)
            self.current.load(text.encode(), format=RdfFormat.N_QUADS)

    def commit(self, *, feed: bool) -> tuple[bool, Delta | None]:
        """Archive retired snapshot graphs, then apply the batch in one transaction.

        Returns:
            Whether anything was written, and (when ``feed``) the net change of
            asserted facts, or ``None`` when there is none.
        """
        delta = self.delta() if feed or self.wants_delta else None
        wrote = bool(self.deletes or self.inserts)
        self.write(delta)
        self.inserts, self.added, self.deletes, self.archived = [], [], [], []
        self.written = {}
        self.rehydrated = set()
        self.moved = False
        return wrote, delta if feed else None


def with_parents(facts: Facts, parent: str | None = None) -> Iterator[tuple[Facts, str | None]]:
    """An entity and each of its parts, depth first, with the URI of its parent."""
    yield facts, parent
    for part in facts.parts:
        yield from with_parents(part, facts.uri)
