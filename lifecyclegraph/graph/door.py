"""The one door to the Model Lifecycle Graph: every read and write above the store.

Callers (the ingest worker, GraphQL, REST, the CLI, notebooks) hold a :class:`Graph`
and nothing else: never a store, never a pyoxigraph ``Store``. Each method is one
question or one write that a graph in another process answers over HTTP too: two
implementations pass the same contract tests (``tests/test_graph_contract.py``),
:class:`~lifecyclegraph.graph.LifecycleGraph` (the graph on a store in this process)
and :class:`~lifecyclegraph.graph.RemoteGraph` (a running ``lifecyclegraph serve``,
one request a call; ``docs/graph-protocol.md``).

>>> from pyoxigraph import NamedNode
>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> from lifecyclegraph.core.vocab import LG
>>> graph: Graph = LifecycleGraph.in_memory()
>>> m = "aip://model/registry/m"
>>> graph.write(Facts.of(m, {"rdf:type": Ref("lg:Model"), "lg:name": "M",
...     "lg:sourceId": "m"}), source="registry").outcome.value
'created'
>>> [q.object.value for q in graph.quads(NamedNode(m), LG.name)]
['M']
>>> graph.state(m).state.value, [s.source for s in graph.history(m)]
('hydrated', ['registry'])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias

from pyoxigraph import NamedNode, Quad

from lifecyclegraph.core.facts import Facts, Object, Pair, term_value
from lifecyclegraph.core.vocab import RDF_TYPE
from lifecyclegraph.graph.entity import Entity
from lifecyclegraph.store.values import (
    EntityState,
    HydrationState,
    Observation,
    SnapshotInfo,
    WriteResult,
)

if TYPE_CHECKING:
    from lifecyclegraph.rules.explain import Explanation
    from lifecyclegraph.search.backend import SearchResults

__all__ = ["MAX_DEPTH", "Direction", "Graph", "PastGraph", "check_depth"]

#: Which way lineage goes: to what an entity depends on, or to what depends on it.
Direction: TypeAlias = Literal["upstream", "downstream"]
#: The most hops :meth:`Graph.lineage` walks (the REST route's bound too).
MAX_DEPTH = 100


def check_depth(depth: int) -> None:
    """Refuse a lineage depth outside 1..:data:`MAX_DEPTH`.

    >>> check_depth(0)
    Traceback (most recent call last):
    ...
    ValueError: depth must be between 1 and 100, not 0
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, not {depth!r}")


class PastGraph(ABC):
    """The graph as it was at :attr:`when`: asserted facts only (derived facts are
    current-only). Made by :meth:`Graph.as_of`."""

    #: The time this view shows (time zone aware).
    when: datetime

    @abstractmethod
    def entity(self, uri: str) -> Entity | None:
        """The entity as it was, or ``None`` if it did not exist then (yet, or any more)."""

    @abstractmethod
    def entities(self) -> list[str]:
        """The URIs of the entities that existed then, sorted."""

    @abstractmethod
    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
    ) -> Iterator[Quad]:
        """The facts of the snapshots live then matching a pattern (``None`` matches
        all), each in its snapshot graph."""

    @abstractmethod
    def snapshot(self, iri: str) -> SnapshotInfo:
        """The catalogue entry of one snapshot (of any time). Raises ``KeyError``."""

    @abstractmethod
    def snapshot_of(self, uri: str) -> SnapshotInfo | None:
        """The snapshot of ``uri`` current then: a tombstone if the entity was deleted
        by then, ``None`` before its first snapshot."""

    @abstractmethod
    def sparql(
        self,
        query: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
    ) -> Any:
        """SPARQL on the union of the snapshots live then (see :meth:`Graph.sparql`)."""


class Graph(ABC):
    """The Model Lifecycle Graph: entities, their history, lineage, SPARQL, search,
    explanations, and the writes that keep it current.

    Reads see the current state unless they say otherwise; every write makes
    immutable, timestamped snapshots (``docs/dataset-layout.md``). Use it as a context
    manager, or call :meth:`close`.
    """

    # -- entities ----------------------------------------------------------------------

    @abstractmethod
    def entity(self, uri: str) -> Entity | None:
        """The current view of an entity: types, properties, relationships both ways
        (asserted with their snapshot, or inferred) and freshness; ``None`` if the
        entity is unknown or deleted."""

    @abstractmethod
    def state(self, uri: str) -> EntityState | None:
        """The bookkeeping of an entity (a stub's and a deleted one's too), or ``None``
        if the graph never heard of it."""

    @abstractmethod
    def entities(self, state: HydrationState | None = None) -> Iterator[str]:
        """The URIs of every known entity, or of those in ``state``."""

    @abstractmethod
    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
        *,
        inferred: bool | None = None,
    ) -> Iterator[Quad]:
        """The facts of the current state that match a pattern (``None`` matches all),
        each in the graph that holds it: its snapshot (asserted) or ``lg:inferred``
        (derived, :data:`~lifecyclegraph.core.vocab.INFERRED_GRAPH`). ``inferred=False``
        keeps asserted facts only, ``True`` derived ones only. Bookkeeping and
        superseded snapshots are never included."""

    # -- history -----------------------------------------------------------------------

    @abstractmethod
    def history(self, uri: str) -> list[SnapshotInfo]:
        """Every snapshot of an entity, oldest first, with time, source and event
        (empty if the entity is unknown)."""

    @abstractmethod
    def snapshot(self, iri: str) -> SnapshotInfo:
        """The catalogue entry of one snapshot.

        Raises:
            KeyError: if no snapshot has that IRI.
        """

    @abstractmethod
    def snapshot_facts(self, iri: str) -> frozenset[Pair]:
        """The ``(predicate, object)`` facts one snapshot holds (empty for a tombstone
        or an unknown IRI)."""

    @abstractmethod
    def as_of(self, when: datetime) -> PastGraph:
        """The graph as it was at ``when`` (asserted facts; derived facts are
        current-only).

        Raises:
            ValueError: for a naive ``when`` (no time zone).
        """

    # -- relationships -----------------------------------------------------------------

    @abstractmethod
    def lineage(
        self,
        uri: str,
        *,
        direction: Direction = "upstream",
        depth: int = 3,
        types: Iterable[str] = (),
        limit: int = 10_000,
    ) -> dict[str, Any] | None:
        """What ``uri`` comes from or feeds, as :func:`lifecyclegraph.graph.lineage.lineage`
        answers it; ``None`` if the entity is unknown or deleted.

        Raises:
            UnknownTypeError: ``types`` names a class the ontology does not know.
            ValueError: ``depth`` outside 1..100 (:data:`MAX_DEPTH`).
        """

    @abstractmethod
    def impact(self, uri: str, *, limit: int = 10_000) -> dict[str, Any] | None:
        """What a change to ``uri`` would touch (:func:`~lifecyclegraph.graph.lineage.impact`);
        ``None`` if the entity is unknown or deleted."""

    # -- queries -----------------------------------------------------------------------

    @abstractmethod
    def sparql(
        self,
        query: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
    ) -> Any:
        """Run SPARQL on the current state: no ``GRAPH`` clause needed, the standard
        prefixes (``lg``, ``prov``, ``rdf``, ...) predeclared, the dataset chosen as
        ``/sparql`` chooses it (``docs/sparql.md``): ``default_graphs`` and
        ``named_graphs`` (the protocol's ``default-graph-uri`` and ``named-graph-uri``),
        else the query's ``FROM`` and ``FROM NAMED``, else every graph.

        Returns:
            SELECT: rows (``row["var"]``); ASK: a truthy answer; CONSTRUCT and
            DESCRIBE: an iterable of triples (pyoxigraph's result types).

        Raises:
            QuerySyntaxError: with the line and column of the mistake.
            QueryRequestError: a graph that is not an IRI.
        """

    @abstractmethod
    def search(
        self,
        text: str = "",
        *,
        type: str | Sequence[str] | None = None,
        owner: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        domain: str | Sequence[str] | None = None,
        page: int = 1,
        page_size: int = 20,
        facets: bool = True,
    ) -> SearchResults:
        """Full-text search over entities of every type (``docs/search.md``); a change
        is searchable within a second of being written.

        Raises:
            SearchQueryError: an unknown type or domain (with the near miss), a bad page.
        """

    @abstractmethod
    def search_owners(self, text: str = "", *, page: int = 1, page_size: int = 20) -> SearchResults:
        """Search users and teams by name, id, email or team."""

    @abstractmethod
    def explain_all(
        self,
        subject: Any = None,
        predicate: Any = None,
        obj: Any = None,
        limit: int | None = None,
    ) -> list[Explanation]:
        """Explain every fact matching a pattern (``None`` matches anything), each down
        to the asserted facts with the snapshot (source, time, event) of each.

        Terms are IRIs (``prefix:local`` accepted), pyoxigraph terms, or for the object
        a literal's text; ``rdf:type`` (or ``a``) with a class explains membership.
        """

    @property
    @abstractmethod
    def has_rules(self) -> bool:
        """Whether the rule engine keeps the derived facts up to date."""

    # -- writes ------------------------------------------------------------------------

    @abstractmethod
    def write_many(
        self,
        items: Iterable[tuple[Facts, Observation]],
        *,
        validate: bool = True,
        enriched_at: datetime | None = None,
    ) -> list[WriteResult]:
        """Write entities (each with its parts, atomically): a change makes a new
        snapshot, unchanged facts only record that the entity was seen again, an
        observation older than the current one is ignored. One result per entity and
        part.

        Args:
            items: ``(facts, observation)`` pairs.
            validate: check every entity first as ingested ones are
                (:func:`~lifecyclegraph.graph.checks.check_many`): unknown classes and
                properties (with the near miss), then the shapes; a link to an entity
                of the same batch is checked with its classes. ``validate=False`` is
                the opt-out for bulk loads of data already validated (the ingestion
                worker, which validates through its own gate).
            enriched_at: also mark each entity written (created, updated or
                unchanged) enriched as of then, in the same write: what
                :meth:`mark_enriched` records, without a write of its own. For a
                writer whose derived facts and index follow each write (the
                ingestion worker).

        Returns:
            One result per entity and part; an entity's result carries its
            validation ``warnings``.

        Raises:
            WriteRefusedError: (``validate=True``) naming every refused entity, with
                the near misses and the SHACL report; nothing is written.
            InvalidFactsError: malformed facts, before anything is written.
        """

    @abstractmethod
    def delete_many(
        self, items: Iterable[tuple[str, Observation]], *, enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        """Tombstone entities and their parts: gone from the current state, history
        kept. ``enriched_at`` as in :meth:`write_many`, for each one tombstoned."""

    @abstractmethod
    def reference_many(
        self, items: Iterable[tuple[str, str, Observation]], *, enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        """Record stubs ``(uri, class IRI, observation)`` for entities known only from a
        foreign key; an entity the graph knows (in any state) is left as it is.
        ``enriched_at`` as in :meth:`write_many`, for each new stub."""

    @abstractmethod
    def mark_enriched(self, uris: Iterable[str], at: datetime) -> None:
        """Record that these entities' derived facts and index are up to date as of
        ``at`` (unknown URIs are skipped)."""

    @abstractmethod
    def close(self) -> None:
        """Release the store (or the connection)."""

    # -- conveniences: one implementation for every graph ------------------------------

    def write(
        self,
        facts: Facts,
        *,
        source: str,
        observed_at: datetime | None = None,
        event_id: str | None = None,
        validate: bool = True,
    ) -> WriteResult:
        """Record an entity's current facts (with its parts) as seen by ``source``,
        checked first as ingested ones are.

        Args:
            facts: the complete normalized description of the entity.
            source: the provider or platform id that supplied the facts.
            observed_at: when the facts were read (default: now, in UTC).
            event_id: the event that caused the read, if any.
            validate: check the facts first
                (:func:`~lifecyclegraph.graph.checks.check_write`): unknown classes
                and properties, then the shapes. ``validate=False`` is the opt-out for
                bulk loads of data already validated.

        Returns:
            The outcome for the entity itself (its parts' outcomes are in
            :meth:`write_many`'s result), with the validation's ``warnings``.

        Raises:
            WriteRefusedError: an unknown name, with its near miss, or SHACL
                violations, with the report; nothing is written.

        >>> from lifecyclegraph import Facts, LifecycleGraph, Ref
        >>> graph = LifecycleGraph.in_memory()
        >>> graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Modle")}),
        ...             source="registry")
        Traceback (most recent call last):
        ...
        lifecyclegraph.graph.checks.WriteRefusedError: ...lg:Modle (did you mean lg:Model?)...
        >>> graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Modle")}),
        ...             source="bulk", validate=False).outcome.value
        'created'
        """
        obs = Observation(source, observed_at or datetime.now(UTC), event_id)
        return self.write_many([(facts, obs)], validate=validate)[0]

    def check(self, facts: Iterable[Facts]) -> dict[str, tuple[Any, ...]]:
        """Check entities as :meth:`write_many` would, without writing them: against the
        model in use in this process (:func:`~lifecyclegraph.graph.checks.check_many`),
        links with the graph's asserted classes or the batch's own. For a bulk load
        checked once, then written with ``validate=False``.

        Returns:
            The validation warnings of each entity that has any, by URI.

        Raises:
            WriteRefusedError: naming every refused entity, with the near misses and
                the SHACL report.
        """
        from lifecyclegraph.graph.checks import check_many

        return check_many(facts, self._asserted_types)

    def _asserted_types(self, iri: str) -> set[str]:
        """The asserted classes of ``iri`` (what a checked write's links are checked with)."""
        return {term_value(q.object) for q in self.quads(NamedNode(iri), RDF_TYPE, inferred=False)}

    def delete(
        self,
        uri: str,
        *,
        source: str,
        observed_at: datetime | None = None,
        event_id: str | None = None,
    ) -> WriteResult:
        """Tombstone an entity and its parts: gone from the current state, kept in history."""
        obs = Observation(source, observed_at or datetime.now(UTC), event_id)
        return self.delete_many([(uri, obs)])[0]

    def reference(
        self,
        uri: str,
        cls: str,
        *,
        source: str,
        observed_at: datetime | None = None,
        event_id: str | None = None,
    ) -> WriteResult:
        """Record a stub for an entity known only from a foreign key (no-op if known)."""
        obs = Observation(source, observed_at or datetime.now(UTC), event_id)
        return self.reference_many([(uri, cls, obs)])[0]

    def explain(self, subject: Any, predicate: Any, obj: Any) -> Explanation | None:
        """Why a fact holds: its derivation tree down to the asserted facts, each with
        the source, time and event of the snapshot that asserts it; ``None`` if the
        fact does not hold in the current state (``str()`` renders the tree).

        For a property read transitively (``lg:upstream``, ``lg:downstream``: the store
        holds one step, the full lineage is ``lg:upstream+``), a pair more than one step
        apart is explained by a shortest chain of one-step facts, each with its own
        tree (:func:`~lifecyclegraph.graph.paths.explain_path`).
        """
        found = self.explain_all(subject, predicate, obj, limit=1)
        if found:
            return found[0]
        from lifecyclegraph.graph.paths import explain_path

        return explain_path(self, subject, predicate, obj)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
