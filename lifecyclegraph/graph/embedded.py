"""The graph on a store in this process: :class:`LifecycleGraph`, the embedded door.

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory()
>>> facts = Facts.of(
...     "aip://model/registry/ranking-model",
...     {"rdf:type": Ref("lg:Model"), "lg:name": "Ranking model", "lg:sourceId": "ranking-model"},
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
...                                    "lg:sourceDataset": Ref(dataset)}), source="featurestore",
...                   validate=False)  # a partial feature: the checks would refuse it
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

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyoxigraph import NamedNode, Quad

from lifecyclegraph.core.config import SearchConfig, StoreConfig
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.facts import Facts, Object, Pair
from lifecyclegraph.graph import lineage as _lineage
from lifecyclegraph.graph.door import Direction, Graph, check_depth
from lifecyclegraph.graph.entity import Entity, build_entity
from lifecyclegraph.graph.past import GraphAsOf
from lifecyclegraph.store.snapshots import FLUSH_EVERY, SnapshotStore
from lifecyclegraph.store.sparql.safety import oxigraph_syntax_error
from lifecyclegraph.store.sparql_dataset import protocol_options
from lifecyclegraph.store.values import (
    EntityState,
    HydrationState,
    Observation,
    SnapshotInfo,
    WriteResult,
)

if TYPE_CHECKING:
    from lifecyclegraph.rules.compiler import CompiledProgram
    from lifecyclegraph.rules.engine import MaterializeReport, RuleEngine
    from lifecyclegraph.rules.explain import Explanation
    from lifecyclegraph.search import SearchIndex, SearchResults
    from lifecyclegraph.store.changes import ChangeFollower

__all__ = ["LifecycleGraph"]


class LifecycleGraph(Graph):
    """The Model Lifecycle Graph on an Oxigraph snapshot store in this process.

    Open one with :meth:`open` (on disk, the default) or :meth:`in_memory`; use it as a
    context manager, or call :meth:`close`, to release an on-disk store. Beside the
    door's methods (:class:`~lifecyclegraph.graph.door.Graph`) it gives what only the
    process that holds the store can do: :attr:`store` (for the service that composes
    the SPARQL workers, and for benchmarks), :attr:`rules`, :meth:`materialize` and
    the search index (:attr:`search_index`, :meth:`open_search`).

    Args:
        store: the snapshot store.
        rules: run the rule engine (``rules/`` and the ontology's axioms): derive every
            fact now, then keep the derived facts up to date after each write. If the
            rules would derive more facts than ``rule_limit``, now or after a write,
            the engine stops (``graph.rules.error`` says why, and it is logged) and
            the graph goes on without keeping derived facts up to date.
        rule_limit: the most facts a rule run may hold (default: 20 per asserted fact,
            and at least 10M; see :class:`~lifecyclegraph.core.errors.RuleLimitError`).
        search: the search index's settings (``<path>/search`` by default), opened on
            the first search or by :attr:`search_index`.
        owns: in a cluster (``[cluster]``), whether this worker owns a subject: the
            rule engine derives every fact but writes and removes only the derived
            facts of the subjects it owns (docs/scale-out.md). ``None``: all of them.
        follower: in a cluster, the follower of the store's change feed, made before
            the engine materializes (so that no other worker's write is missed); it is
            started by :meth:`follow` and stopped by :meth:`close`.
    """

    def __init__(
        self,
        store: SnapshotStore,
        *,
        rules: bool = False,
        rule_limit: int | None = None,
        search: SearchConfig | None = None,
        owns: Callable[[str], bool] | None = None,
        follower: ChangeFollower | None = None,
    ) -> None:
        self.store = store
        self._owns = owns
        #: the change feed's follower, in a cluster (``None`` alone)
        self.follower = follower
        self.search_config = search or SearchConfig()
        self._search_index: SearchIndex | None = None
        self._engine: RuleEngine | None = None
        self._rule_limit = rule_limit
        #: Names this opening of the store: generations compare within one epoch only.
        self.epoch = secrets.token_hex(4)
        if rules:
            from lifecyclegraph.core.errors import RuleLimitError

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
        create: bool = True,
        store: StoreConfig | None = None,
        writer: str | None = None,
        owns: Callable[[str], bool] | None = None,
    ) -> LifecycleGraph:
        """Open the graph stored in the directory ``path``, creating it there unless
        ``create`` is false (readers pass ``False``: a mistyped path is then an error,
        not a new empty graph).

        With ``store`` (the ``[store]`` table) naming a ``url``, the graph is on that
        remote SPARQL 1.1 store (:class:`~lifecyclegraph.store.remote.RemoteStore`) and
        ``path`` only keeps what stays beside it (journal, search index, write token).
        With a ``writer`` name too (a worker of a cluster: ``w<me>``), each write adds a
        record to the store's change feed, and the graph gets a :attr:`follower` of the
        other workers' records, placed before the rule engine materializes; ``owns``
        says which subjects' derived facts this worker writes (docs/scale-out.md).

        Raises:
            StoreError: if ``path`` is not a lifecyclegraph store (or, with
                ``create=False``, holds none yet) or cannot be opened, or the remote
                store does not answer (the error names its URL).
        """
        if store is not None and store.url is not None:
            from lifecyclegraph.store.remote import RemoteEndpoint, RemoteStore

            endpoint = RemoteEndpoint(
                store.url,
                query_path=store.query_path,
                update_path=store.update_path,
                user=store.user,
                password=store.password.get_secret_value() if store.password else None,
                digest=store.digest,
                timeout=store.timeout,
            )
            remote = RemoteStore.connect(endpoint, path, writer=writer)
            follower = None
            if writer is not None:
                from lifecyclegraph.store.changes import ChangeFollower

                follower = ChangeFollower(remote)  # where each writer stands: read first
            return cls(
                remote,
                rules=rules,
                rule_limit=rule_limit,
                search=search,
                owns=owns,
                follower=follower,
            )
        if writer is not None:
            raise ConfigError("a change feed writer needs a remote store ([store] url)")
        opened = SnapshotStore.open(
            path, create=create, flush_every=store.flush_every if store else FLUSH_EVERY
        )
        return cls(opened, rules=rules, rule_limit=rule_limit, search=search, owns=owns)

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

    @property
    def path(self) -> Path | None:
        """The store's directory (``None`` in memory)."""
        return self.store.path

    @property
    def generation(self) -> str:
        """How far the graph has come: ``<epoch>:<n>``, where ``n`` grows with every
        commit. A remote client sends it back to ``/sparql`` to read its own writes."""
        return f"{self.epoch}:{self.store.generation}"

    def follow(self, timeout: float = 30.0) -> bool:
        """Start publishing the other workers' writes here (a cluster's change feed),
        after catching up with what they wrote so far: call it once the rule engine
        materialized and the search index is attached. Returns whether it caught up
        within ``timeout`` seconds (``True`` without a follower)."""
        if self.follower is None:
            return True
        caught_up = self.follower.catch_up(timeout)
        self.follower.start()
        return caught_up

    def close(self) -> None:
        """Release the store (an on-disk store can then be opened again)."""
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        if self._search_index is not None:
            self._search_index.close()
            self._search_index = None
        if self._engine is not None:
            self._engine.stop()
            self._engine = None
        self.store.close()
        del self.store

    # -- writing ----------------------------------------------------------------------

    def write_many(
        self,
        items: Iterable[tuple[Facts, Observation]],
        *,
        validate: bool = True,
        enriched_at: datetime | None = None,
    ) -> list[WriteResult]:
        """Write many entities at once (each atomically), each checked first unless
        ``validate=False``; one result per entity and part (see :meth:`Graph.write_many`)."""
        if not validate:
            return self.store.write_many(items, enriched_at=enriched_at)
        from lifecyclegraph.graph.checks import with_warnings

        items = list(items)
        warnings = self.check(facts for facts, _ in items)
        return with_warnings(self.store.write_many(items, enriched_at=enriched_at), warnings)

    def delete_many(
        self, items: Iterable[tuple[str, Observation]], *, enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        """Tombstone entities and their parts: gone from the current state, history kept."""
        return self.store.delete_many(items, enriched_at=enriched_at)

    def reference_many(
        self, items: Iterable[tuple[str, str, Observation]], *, enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        """Record stubs for entities known only from a foreign key (no-op if known)."""
        return self.store.reference_many(
            ((uri, NamedNode(cls), obs) for uri, cls, obs in items), enriched_at=enriched_at
        )

    def mark_enriched(self, uris: Iterable[str], at: datetime) -> None:
        """Record that these entities' derived facts and index are up to date as of ``at``."""
        self.store.mark_enriched(uris, at)

    # -- reading ----------------------------------------------------------------------

    def entity(self, uri: str) -> Entity | None:
        """The current view of an entity, or ``None`` if it is unknown or deleted.

        Relationships are marked asserted (with their snapshot) or inferred.
        """
        state = self.store.state(uri)
        if state is None or state.state is HydrationState.DELETED:
            return None
        node = NamedNode(uri)
        return build_entity(
            uri,
            self.store.quads(node),
            self.store.quads(None, None, node),
            state,
            self.store.snapshot(state.current_snapshot),
        )

    def state(self, uri: str) -> EntityState | None:
        """The bookkeeping of an entity, or ``None`` if the graph never heard of it."""
        return self.store.state(uri)

    def entities(self, state: HydrationState | None = None) -> Iterator[str]:
        """URIs of every known entity, or of those in ``state``."""
        return self.store.entities(state)

    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
        *,
        inferred: bool | None = None,
    ) -> Iterator[Quad]:
        """The facts of the current state that match a pattern (see :meth:`Graph.quads`)."""
        return self.store.quads(subject, predicate, object, inferred=inferred)

    def history(self, uri: str) -> list[SnapshotInfo]:
        """Every snapshot of an entity, oldest first, with time, source and event."""
        return self.store.history(uri)

    def snapshot(self, iri: str) -> SnapshotInfo:
        """The catalogue entry of one snapshot (``KeyError`` for an unknown IRI)."""
        return self.store.snapshot(iri)

    def snapshot_facts(self, iri: str) -> frozenset[Pair]:
        """The ``(predicate, object)`` facts held by one snapshot."""
        return self.store.snapshot_pairs(iri)

    def as_of(self, when: datetime) -> GraphAsOf:
        """The graph as it was at ``when`` (asserted facts; derived facts are current-only)."""
        return GraphAsOf(self.store, when)

    def lineage(
        self,
        uri: str,
        *,
        direction: Direction = "upstream",
        depth: int = 3,
        types: Iterable[str] = (),
        limit: int = 10_000,
    ) -> dict[str, Any] | None:
        """What ``uri`` comes from or feeds (:func:`lifecyclegraph.graph.lineage.lineage`);
        ``None`` if the entity is unknown or deleted.

        Raises:
            ValueError: ``depth`` outside 1..100 (:data:`~lifecyclegraph.graph.door.MAX_DEPTH`).
        """
        check_depth(depth)
        if not self._alive(uri):
            return None
        return _lineage.lineage(
            self, uri, direction=direction, depth=depth, types=types, limit=limit
        )

    def impact(self, uri: str, *, limit: int = 10_000) -> dict[str, Any] | None:
        """What a change to ``uri`` would touch (:func:`lifecyclegraph.graph.lineage.impact`);
        ``None`` if the entity is unknown or deleted."""
        if not self._alive(uri):
            return None
        return _lineage.impact(self, uri, limit=limit)

    def _alive(self, uri: str) -> bool:
        state = self.store.state(uri)
        return state is not None and state.state is not HydrationState.DELETED

    def sparql(
        self,
        query: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
        **options: Any,
    ) -> Any:
        """Run a SPARQL query on the current state; no ``GRAPH`` clause is needed.

        The prefixes ``lg``, ``prov``, ``dcat``, ``rdf``, ``rdfs``, ``xsd``, ... are
        predeclared. ``GRAPH ?g`` binds the snapshot each asserted fact came from.
        ``FROM`` and ``FROM NAMED`` make the dataset as SPARQL 1.1 says: ``FROM <g>``
        queries graph ``g`` alone (see ``docs/sparql.md``); ``default_graphs`` and
        ``named_graphs`` win over them, as the protocol's parameters do. Other
        ``options`` go to Oxigraph's ``Store.query`` as they are.

        Raises:
            QuerySyntaxError: with the line and column (a ``SyntaxError``).
        """
        if base_iri is not None:
            options["base_iri"] = base_iri
        if default_graphs is not None or named_graphs is not None:
            options.update(protocol_options(default_graphs, named_graphs))
        try:
            return self.store.query(query, **options)
        except SyntaxError as error:
            raise oxigraph_syntax_error(error) from None

    # -- rules ------------------------------------------------------------------------

    @property
    def rules(self) -> RuleEngine | None:
        """The running rule engine, or ``None`` when the graph was opened without rules."""
        return self._engine

    @property
    def has_rules(self) -> bool:
        """Whether the rule engine keeps the derived facts up to date."""
        return self._engine is not None

    def _new_engine(
        self, program: CompiledProgram | None = None, limit: int | None = None
    ) -> RuleEngine:
        from lifecyclegraph.rules.engine import RuleEngine

        limit = limit or self._rule_limit
        if self._owns is None:
            return RuleEngine(self.store, program, limit=limit)
        return RuleEngine(self.store, program, limit=limit, owns=self._owns)

    def materialize(
        self, *, program: CompiledProgram | None = None, limit: int | None = None
    ) -> MaterializeReport:
        """Derive every fact from the current asserted facts and write the derived ones to
        the inferred graph (what ``lifecyclegraph rules run`` does).

        Args:
            program: the rules to run (default: the running engine's, or the
                project's rules and the ontology's axioms).
            limit: the most facts the run may hold (default: the graph's rule limit).

        Raises:
            RuleSyntaxError, RuleAnalysisError: if the rule files are bad.
            RuleLimitError: if the run would derive more facts than the limit.
        """
        if program is None and limit is None and self._engine is not None:
            return self._engine.materialize()
        return self._new_engine(program, limit).materialize()

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
        """Full-text search over entities of every type (see :meth:`SearchIndex.search`).

        A change is searchable within a second of being written.
        """
        return self.search_index.search(
            text,
            type=type,
            owner=owner,
            tag=tag,
            domain=domain,
            page=page,
            page_size=page_size,
            facets=facets,
        )

    def search_owners(self, text: str = "", *, page: int = 1, page_size: int = 20) -> SearchResults:
        """Search users and teams (``page``, ``page_size``)."""
        return self.search_index.search_owners(text, page=page, page_size=page_size)
