"""The public face of the Model Lifecycle Graph: :class:`LifecycleGraph`.

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory()
>>> facts = Facts.of(
...     "aip://model/registry/ranking-model",
...     {"rdf:type": Ref("lg:Model"), "lg:name": "Ranking model",
...      "lg:owner": Ref("aip://user/identity/alice")},
... )
>>> graph.write(facts, source="registry").outcome.value
'created'
>>> graph.entity("aip://model/registry/ranking-model").name
'Ranking model'
>>> [row["n"].value for row in graph.sparql("SELECT ?n WHERE { ?m a lg:Model ; lg:name ?n }")]
['Ranking model']

With ``rules=True`` the rule engine keeps derived facts up to date as writes arrive,
and :meth:`LifecycleGraph.explain` says why a derived fact holds:

>>> graph = LifecycleGraph.in_memory(rules=True)
>>> feature, dataset = "aip://feature/featurestore/f", "aip://dataset/datasets/d"
>>> _ = graph.write(Facts.of(feature, {"rdf:type": Ref("lg:Feature"),
...                                    "lg:sourceDataset": Ref(dataset)}), source="featurestore")
>>> bool(graph.sparql(f"ASK {{ <{dataset}> lg:downstream <{feature}> }}"))
True
>>> print(graph.explain(feature, "lg:upstream", dataset))  # doctest: +ELLIPSIS
<aip://feature/featurestore/f> lg:upstream <aip://dataset/datasets/d>
  by rules/lineage.rules:14:1 Whatever an entity depends on directly is upstream of it. ...
  └── <aip://feature/featurestore/f> lg:dependsOn <aip://dataset/datasets/d>
        by ontology/features.ttl:...
        └── <aip://feature/featurestore/f> lg:sourceDataset ... [asserted by featurestore at ...]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyoxigraph import NamedNode, Quad, Store

from lifecyclegraph.config import SearchConfig
from lifecyclegraph.entity import Entity, build_entity, is_fact_graph
from lifecyclegraph.facts import Facts
from lifecyclegraph.sparql_dataset import query_options
from lifecyclegraph.store import (
    HydrationState,
    Observation,
    SnapshotInfo,
    SnapshotStore,
    WriteResult,
)
from lifecyclegraph.vocab import PREFIXES

if TYPE_CHECKING:
    from lifecyclegraph.rules.engine import MaterializeReport, RuleEngine
    from lifecyclegraph.rules.explain import Explanation
    from lifecyclegraph.search import SearchIndex, SearchResults

__all__ = ["GraphAsOf", "LifecycleGraph"]


class LifecycleGraph:
    """The Model Lifecycle Graph on an Oxigraph snapshot store.

    Open one with :meth:`open` (on disk, the default) or :meth:`in_memory`; use it as a
    context manager, or call :meth:`close`, to release an on-disk store.

    Args:
        store: the snapshot store.
        rules: run the rule engine (``rules/`` and the ontology's axioms): derive every
            fact now, then keep the derived facts up to date after each write. If the
            rules would derive more facts than ``rule_limit``, now or after a write,
            the engine stops (``graph.rules.error`` says why, and it is logged) and
            the graph goes on without keeping derived facts up to date.
        rule_limit: the most facts a rule run may hold (see
            :class:`~lifecyclegraph.errors.RuleLimitError`).
    """

    def __init__(
        self,
        store: SnapshotStore,
        *,
        rules: bool = False,
        rule_limit: int | None = None,
        search: SearchConfig | None = None,
    ) -> None:
        self.store = store
        self.search_config = search or SearchConfig()
        self._search_index: SearchIndex | None = None
        self._engine: RuleEngine | None = None
        self._rule_limit = rule_limit
        if rules:
            from lifecyclegraph.errors import RuleLimitError

            self._engine = self._new_engine()
            try:
                self._engine.start()
            except RuleLimitError as error:
                # The graph stays usable; the engine says why it stopped (graph.rules.error).
                self._engine.fail(error)

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        rules: bool = False,
        rule_limit: int | None = None,
        search: SearchConfig | None = None,
    ) -> LifecycleGraph:
        """Open or create the graph stored in the directory ``path``.

        ``search`` configures the search index (``<path>/search`` by default), opened
        on the first search or by :attr:`search_index`.

        Raises:
            StoreError: if ``path`` is not a lifecyclegraph store or cannot be opened.
        """
        return cls(SnapshotStore.open(path), rules=rules, rule_limit=rule_limit, search=search)

    @classmethod
    def in_memory(
        cls,
        *,
        rules: bool = False,
        rule_limit: int | None = None,
        search: SearchConfig | None = None,
    ) -> LifecycleGraph:
        """A graph that lives in memory only (for tests and notebooks)."""
        return cls(SnapshotStore.in_memory(), rules=rules, rule_limit=rule_limit, search=search)

    def close(self) -> None:
        """Release the store (an on-disk store can then be opened again)."""
        if self._search_index is not None:
            self._search_index.close()
            self._search_index = None
        if self._engine is not None:
            self._engine.stop()
            self._engine = None
        self.store.current.flush()
        self.store.archive.flush()
        del self.store

    def __enter__(self) -> LifecycleGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------

    def write(
        self,
        facts: Facts,
        *,
        source: str,
        observed_at: datetime | None = None,
        event_id: str | None = None,
    ) -> WriteResult:
        """Record an entity's current facts (with its parts) as seen by ``source``.

        A change makes a new immutable snapshot; unchanged facts only record that the
        entity was seen again; an observation older than the current one is ignored.

        Args:
            facts: the complete normalized description of the entity.
            source: the provider or platform id that supplied the facts.
            observed_at: when the facts were read (default: now, in UTC).
            event_id: the event that caused the read, if any.

        Returns:
            The outcome for the entity itself (its parts' outcomes are in
            :meth:`write_many`'s result).
        """
        obs = Observation(source, observed_at or _now(), event_id)
        return self.store.write_many([(facts, obs)])[0]

    def write_many(self, items: Iterable[tuple[Facts, Observation]]) -> list[WriteResult]:
        """Write many entities at once (each atomically); one result per entity and part."""
        return self.store.write_many(items)

    def delete(
        self,
        uri: str,
        *,
        source: str,
        observed_at: datetime | None = None,
        event_id: str | None = None,
    ) -> WriteResult:
        """Tombstone an entity and its parts: gone from the current state, kept in history."""
        obs = Observation(source, observed_at or _now(), event_id)
        return self.store.delete_many([(uri, obs)])[0]

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
        obs = Observation(source, observed_at or _now(), event_id)
        return self.store.reference_many([(uri, NamedNode(cls), obs)])[0]

    # -- reading ----------------------------------------------------------------------

    def entity(self, uri: str) -> Entity | None:
        """The current view of an entity, or ``None`` if it is unknown or deleted.

        Relationships are marked asserted (with their snapshot) or inferred.
        """
        state = self.store.state(uri)
        if state is None or state.state is HydrationState.DELETED:
            return None
        node = NamedNode(uri)
        current = self.store.current
        outgoing = (
            q for q in current.quads_for_pattern(node, None, None) if is_fact_graph(q.graph_name)
        )
        incoming = (
            q for q in current.quads_for_pattern(None, None, node) if is_fact_graph(q.graph_name)
        )
        return build_entity(
            uri, outgoing, incoming, state, self.store.snapshot(state.current_snapshot)
        )

    def history(self, uri: str) -> list[SnapshotInfo]:
        """Every snapshot of an entity, oldest first, with time, source and event."""
        return self.store.history(uri)

    def snapshot_facts(self, snapshot: str) -> frozenset[Any]:
        """The ``(predicate, object)`` facts held by one snapshot."""
        return self.store.snapshot_pairs(snapshot)

    def as_of(self, when: datetime) -> GraphAsOf:
        """The graph as it was at ``when`` (asserted facts; derived facts are current-only)."""
        if when.tzinfo is None:
            raise ValueError("as_of needs a time zone aware datetime (use UTC)")
        return GraphAsOf(self.store, when)

    def sparql(self, query: str, **options: Any) -> Any:
        """Run a SPARQL query on the current state; no ``GRAPH`` clause is needed.

        The prefixes ``lg``, ``prov``, ``dcat``, ``rdf``, ``rdfs``, ``xsd``, ... are
        predeclared. ``GRAPH ?g`` binds the snapshot each asserted fact came from.
        ``FROM`` and ``FROM NAMED`` make the dataset as SPARQL 1.1 says: ``FROM <g>``
        queries graph ``g`` alone (see ``docs/sparql.md``).
        """
        return self.store.query(query, **options)

    def entities(self, state: HydrationState | None = None) -> Iterator[str]:
        """URIs of every known entity, or of those in ``state``."""
        return self.store.entities(state)

    # -- rules ------------------------------------------------------------------------

    @property
    def rules(self) -> RuleEngine | None:
        """The running rule engine, or ``None`` when the graph was opened without rules."""
        return self._engine

    def _new_engine(self) -> RuleEngine:
        from lifecyclegraph.rules.engine import RuleEngine
        from lifecyclegraph.rules.evaluate import DEFAULT_LIMIT

        return RuleEngine(self.store, limit=self._rule_limit or DEFAULT_LIMIT)

    def materialize(self) -> MaterializeReport:
        """Derive every fact from the current asserted facts and write the derived ones to
        the inferred graph (what ``lifecyclegraph rules run`` does).

        Raises:
            RuleSyntaxError, RuleAnalysisError: if the rule files are bad.
            RuleLimitError: if the run would derive more facts than the limit.
        """
        engine = self._engine or self._new_engine()
        return engine.materialize()

    def explain(self, subject: Any, predicate: Any, obj: Any) -> Explanation | None:
        """Why a fact holds: its derivation tree down to the asserted facts, each with
        the source, time and event of the snapshot that asserts it.

        Args:
            subject, predicate, obj: the fact, as IRIs (``prefix:local`` accepted),
                pyoxigraph terms, or for the object a literal's text; ``rdf:type``
                (or ``a``) with a class explains class membership.

        Returns:
            The tree (``str()`` renders it as text), or ``None`` if the fact does not
            hold in the current state.
        """
        found = self.explain_all(subject, predicate, obj, limit=1)
        return found[0] if found else None

    def explain_all(
        self, subject: Any = None, predicate: Any = None, obj: Any = None, limit: int | None = None
    ) -> list[Explanation]:
        """Explain every fact matching a pattern (``None`` matches anything)."""
        engine = self._engine or self._new_engine()
        return engine.match(subject, predicate, obj, limit=limit)

    # -- searching --------------------------------------------------------------------

    @property
    def search_index(self) -> SearchIndex:
        """The search index, attached (and brought up to date) on first use."""
        if self._search_index is None:
            return self.open_search()
        return self._search_index

    def open_search(self, *, rebuild: bool = False, update: bool = True) -> SearchIndex:
        """Attach the search index now (see :meth:`SearchIndex.attach` for the options).

        From then on every write is indexed in the background.
        """
        from lifecyclegraph.search import SearchIndex

        if self._search_index is not None:
            self._search_index.close()
        self._search_index = SearchIndex.attach(
            self.store, self.search_config, rebuild=rebuild, update=update
        )
        return self._search_index

    def search(self, text: str = "", **options: Any) -> SearchResults:
        """Full-text search over entities of every type (see :meth:`SearchIndex.search`).

        Options: ``type``, ``owner``, ``tag``, ``domain`` (a value or a list), ``page``,
        ``page_size``. A change is searchable within a second of being written.
        """
        return self.search_index.search(text, **options)

    def search_owners(self, text: str = "", **options: Any) -> SearchResults:
        """Search users and teams (``page``, ``page_size``)."""
        return self.search_index.search_owners(text, **options)


class GraphAsOf:
    """A read-only view of the graph at a past time.

    ``entity`` reads straight from the snapshots live at that time; ``sparql`` copies
    those snapshots into an in-memory dataset on first use (cost grows with the graph).
    """

    def __init__(self, store: SnapshotStore, when: datetime) -> None:
        self.store = store
        self.when = when
        self._live: dict[str, SnapshotInfo] | None = None
        self._dataset: Store | None = None

    @property
    def live(self) -> dict[str, SnapshotInfo]:
        """The snapshot of each entity that existed at this time, by entity URI."""
        if self._live is None:
            self._live = {info.entity: info for info in self.store.snapshots_at(self.when)}
        return self._live

    def entities(self) -> list[str]:
        """URIs of the entities that existed at this time."""
        return sorted(self.live)

    def entity(self, uri: str) -> Entity | None:
        """The entity as it was, or ``None`` if it did not exist (yet, or any more)."""
        info = self.store.snapshot_at(uri, self.when)
        if info is None or info.kind is HydrationState.DELETED:
            return None
        node = NamedNode(uri)
        graph = NamedNode(info.iri)
        outgoing = [Quad(node, p, o, graph) for p, o in self.store.snapshot_pairs(info.iri)]
        live_graphs = {snap.iri for snap in self.live.values()}
        incoming = [
            q
            for dataset in (self.store.current, self.store.archive)
            for q in dataset.quads_for_pattern(None, None, node)
            if isinstance(q.graph_name, NamedNode) and q.graph_name.value in live_graphs
        ]
        return build_entity(uri, outgoing, set(incoming), snapshot=info)

    def sparql(self, query: str, **options: Any) -> Any:
        """Run SPARQL on the graph as it was (union of the live snapshots, or the
        query's ``FROM`` and ``FROM NAMED`` graphs)."""
        if self._dataset is None:
            dataset = Store()
            quads: list[Quad] = []
            for info in self.live.values():
                node, graph = NamedNode(info.entity), NamedNode(info.iri)
                quads.extend(
                    Quad(node, p, o, graph) for p, o in self.store.snapshot_pairs(info.iri)
                )
            dataset.bulk_extend(quads)
            self._dataset = dataset
        options.setdefault("prefixes", PREFIXES)
        return self._dataset.query(query, **query_options(query, **options))


def _now() -> datetime:
    return datetime.now(UTC)
