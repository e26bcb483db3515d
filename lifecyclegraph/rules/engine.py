"""The rule engine on a snapshot store: derived facts kept up to date as writes arrive.

:class:`RuleEngine` reads the asserted facts of the predicates the program uses from
the store's current snapshots, derives everything in memory, and writes the derived
facts of ontology predicates (not those of helpers, nor facts that are also
asserted) to the store's inferred graph. Once :meth:`RuleEngine.start` ed, it listens
to the store's change feed and maintains the derived facts incrementally after each
committed write, so plain SPARQL over the current state sees asserted and derived
facts together.

>>> from lifecyclegraph.core.facts import Facts, Ref
>>> from lifecyclegraph.store import Observation, SnapshotStore
>>> store = SnapshotStore.in_memory()
>>> engine = RuleEngine(store)
>>> engine.start().derived >= 0
True
>>> seen = Observation.now("registry")
>>> facts = Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model")})
>>> _ = store.write_many([(facts, seen)])
>>> rows = store.query("SELECT ?c WHERE { <aip://model/registry/m> a ?c }")
>>> sorted(compact(row["c"].value) for row in rows)
['lg:Asset', 'lg:Model', 'lg:UnusedAsset', 'prov:Entity']
"""

from __future__ import annotations

import gc
import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, Triple

from lifecyclegraph.core.errors import RuleLimitError
from lifecyclegraph.core.facts import term_value
from lifecyclegraph.core.vocab import INFERRED_GRAPH, RDF_TYPE, compact, expand
from lifecyclegraph.rules.compiler import CompiledProgram
from lifecyclegraph.rules.evaluate import Evaluator, UpdateResult
from lifecyclegraph.rules.explain import Explanation, explain
from lifecyclegraph.rules.load import load_program
from lifecyclegraph.rules.relation import Fact
from lifecyclegraph.store.port import StorePort
from lifecyclegraph.store.values import Delta, SnapshotInfo

__all__ = ["MaterializeReport", "RuleEngine"]

logger = logging.getLogger("lifecyclegraph.rules")

#: From how many derived facts a materialization writes them with the bulk loader.
BULK = 10_000
#: How many derived facts the bulk loader gets at a time (each quad copies its terms).
BULK_CHUNK = 200_000


@dataclass(frozen=True)
class MaterializeReport:
    """What a full materialization did.

    ``counts`` maps each ontology predicate (``prefix:local``) to the number of its
    derived facts now in the inferred graph; ``added`` and ``removed`` count the
    changes written; ``seconds`` is the wall time, and ``timings`` splits it into
    ``read`` (asserted facts from the store), ``derive`` and ``write``.
    """

    counts: dict[str, int]
    added: int
    removed: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def derived(self) -> int:
        """How many derived facts the inferred graph holds."""
        return sum(self.counts.values())


class RuleEngine:
    """Derives facts from a store's asserted facts and keeps them in its inferred graph.

    Args:
        store: the snapshot store.
        program: the compiled rules (default: the project's ``rules/`` and ontology).
        limit: the most facts a run may hold (asserted plus derived; ``None``: 20 per
            asserted fact and at least 10M, see
            :meth:`~lifecyclegraph.rules.evaluate.Evaluator.cap`); see
            :class:`~lifecyclegraph.core.errors.RuleLimitError`.
        owns: given a derived fact's subject IRI, whether this engine writes it
            (``None``: every one). Several processes on one store, each owning a
            partition of the subjects, all derive everything (the rules' joins cross
            partitions) but each writes and removes only the derived facts of its own
            subjects, so the inferred graph is the union of their parts
            (``docs/remote-store.md``).

    >>> from lifecyclegraph.core.facts import Facts, Ref
    >>> from lifecyclegraph.store import Observation, SnapshotStore
    >>> store = SnapshotStore.in_memory()
    >>> engine = RuleEngine(store, owns=lambda iri: iri.endswith("/a"))
    >>> _ = engine.start()
    >>> _ = store.write_many([(Facts.of(f"aip://model/registry/{n}",
    ...     {"rdf:type": Ref("lg:Model")}), Observation.now("registry")) for n in "ab"])
    >>> sorted({t.subject.value for t in store.inferred()})
    ['aip://model/registry/a']
    """

    def __init__(
        self,
        store: StorePort,
        program: CompiledProgram | None = None,
        *,
        limit: int | None = None,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self.owns = owns
        self._owned: dict[int, bool] = {}  # term id -> owns(its IRI), asked once
        self.program = program if program is not None else load_program()
        self.evaluator = Evaluator(self.program, limit=limit)
        self.table = self.evaluator.table
        self.running = False
        self.evaluated = False
        #: Why the engine stopped maintaining derived facts, if it did (see :meth:`fail`).
        self.error: Exception | None = None
        #: How long the last incremental update took (deriving and writing), in seconds.
        self.last_update_seconds = 0.0
        self._timings: dict[str, float] = {}
        self._lock = threading.RLock()
        self._listener: _Listener | None = None
        arity = self.program.arity
        public = [p for p in self.program.base_relation if p in arity]
        self._classes: dict[Any, str] = {NamedNode(p): p for p in public if arity[p] == 1}
        self._properties: dict[Any, str] = {NamedNode(p): p for p in public if arity[p] == 2}
        self._nodes = {p: NamedNode(p) for p in public}
        self._stored = sorted(self.program.stored_predicates & set(public))

    # -- running -----------------------------------------------------------------------------

    def start(self) -> MaterializeReport:
        """Materialize now, then keep the inferred graph up to date after every write."""
        # the store's lock first, as a write calling the listener takes them: a
        # materialization beside a write (or a change follower's publish) cannot deadlock
        with self.store.write_lock, self._lock:
            report = self.materialize()
            self.evaluator.prepare()
            self.running = True
            self.error = None
            if self._listener is None:
                # A weak reference: the store must not keep the engine (and itself, in a
                # cycle the frozen collector would never free) alive.
                self._listener = _Listener(self)
                self.store.subscribe(self._listener)
            return report

    def stop(self) -> None:
        """Stop maintaining the inferred graph (it keeps what it holds) and stop
        listening to the store."""
        self.running = False
        if self._listener is not None:
            self.store.unsubscribe(self._listener)
            self._listener = None

    def evaluate(self) -> int:
        """Read the asserted facts and derive everything, in memory only.

        The cyclic garbage collector is paused meanwhile, and the facts are then moved
        out of its way (:func:`gc.freeze`): millions of long-lived tuples and sets would
        otherwise make every full collection, hence some incremental updates, slow.

        Returns:
            The number of facts held (asserted and derived).
        """
        with self._lock, _collector_paused():
            began = time.perf_counter()
            self.evaluated = False
            facts: dict[str, set[Fact]] = {}
            tid = self.table.id
            for node, predicate in self._classes.items():
                facts[predicate] = {
                    (tid(t.subject),) for t in self.store.asserted(None, RDF_TYPE, node)
                }
            for node, predicate in self._properties.items():
                facts[predicate] = {
                    (tid(t.subject), tid(t.object)) for t in self.store.asserted(None, node, None)
                }
            self.evaluator.load(facts)
            del facts
            read = time.perf_counter()
            self.evaluator.materialize()
            self.evaluated = True
            self._timings = {"read": read - began, "derive": time.perf_counter() - read}
            return self.evaluator.size()

    def materialize(self) -> MaterializeReport:
        """Derive every fact from the store's asserted facts and make the inferred graph
        hold exactly the derived facts of ontology predicates.

        Raises:
            RuleLimitError: if the run would hold more facts than the limit.
        """
        began = time.perf_counter()
        # the store's lock first (see start): writes wait for the materialization
        with self.store.write_lock, self._lock, _collector_paused():
            self.evaluate()
            existing: dict[str, set[Fact]] = {}
            stale: list[Triple | Quad] = []
            for triple in self.store.inferred():
                if self.owns is not None and not self.owns(term_value(triple.subject)):
                    continue  # another process's part of the inferred graph
                key = self._key(triple, intern=False)
                if key is None:
                    stale.append(triple)
                else:
                    existing.setdefault(key[0], set()).add(key[1])
            counts: dict[str, int] = {}
            added: list[Triple | Quad] = []
            # A first materialization (nothing derived yet) writes millions of facts: from
            # BULK on, they go to the bulk loader in chunks as they are made, which is
            # several times faster and never holds them all as quads; a crash half way
            # is repaired by the next materialization.
            fresh = not existing and not stale
            pending: list[tuple[str, AbstractSet[Fact]]] = []
            written = 0
            for predicate in self._stored:
                derived = self._derived(predicate)
                if self.owns is not None:
                    derived = {fact for fact in derived if self._own(fact[0])}
                if derived:
                    counts[compact(predicate)] = len(derived)
                if fresh:
                    pending.append((predicate, derived))
                    written += len(derived)
                    if written > BULK:
                        for name, facts in pending:
                            self._bulk_write(name, facts)
                        pending = []
                    continue
                old = existing.pop(predicate, set())
                added.extend(self._quads(predicate, derived - old if old else derived))
                stale.extend(self._quads(predicate, old - derived))
            for predicate, old in existing.items():
                stale.extend(self._quads(predicate, old))
            for predicate, facts in pending:  # a small first materialization: one transaction
                added.extend(self._quads(predicate, facts))
            if added or stale:
                self.store.apply_inferred(added, stale, bulk=not stale and len(added) > BULK)
            seconds = time.perf_counter() - began
            timings = {
                **self._timings,
                "write": seconds - self._timings["read"] - self._timings["derive"],
            }
            return MaterializeReport(
                dict(sorted(counts.items())),
                written if fresh else len(added),
                len(stale),
                seconds,
                timings,
            )

    def _bulk_write(self, predicate: str, facts: AbstractSet[Fact]) -> None:
        """Add derived facts with the bulk loader, :data:`BULK_CHUNK` quads at a time."""
        chunk = iter(facts)
        while part := list(itertools.islice(chunk, BULK_CHUNK)):
            self.store.apply_inferred(self._quads(predicate, part), (), bulk=True)

    def _quads(self, predicate: str, facts: Iterable[Fact]) -> list[Quad]:
        """Derived facts as quads of the inferred graph (facts about a literal, which RDF
        cannot state, are left out)."""
        terms = self.table.terms
        node = self._nodes[predicate]
        graph = INFERRED_GRAPH
        literals = self.table.literals
        if self.owns is not None:
            facts = [f for f in facts if self._own(f[0])]
        if self.program.arity[predicate] == 1:
            return [Quad(terms[f[0]], RDF_TYPE, node, graph) for f in facts if f[0] not in literals]
        return [Quad(terms[f[0]], node, terms[f[1]], graph) for f in facts if f[0] not in literals]

    def _own(self, term: int) -> bool:
        """Whether this engine writes the derived facts of the subject with id ``term``."""
        found = self._owned.get(term)
        if found is None:
            assert self.owns is not None
            found = self._owned[term] = bool(self.owns(self.table.terms[term].value))
        return found

    def derived_triples(self) -> set[Triple]:
        """The triples the inferred graph should hold: the derived facts of ontology
        predicates that are not also asserted (from the last evaluation)."""
        with self._lock:
            if not self.evaluated:
                self.evaluate()
            out = set()
            for predicate in self._stored:
                for fact in self._derived(predicate):
                    triple = self._triple(predicate, fact)
                    if triple is not None:
                        out.add(triple)
            return out

    def _derived(self, predicate: str) -> AbstractSet[Fact]:
        # RDF cannot state a fact about a literal; the facts stay packed until written
        return self.evaluator.derived(predicate, self.table.literals)

    # -- incremental maintenance ------------------------------------------------------------

    def _on_delta(self, delta: Delta) -> None:
        if not self.running:
            return
        try:
            self.apply(delta.added, delta.removed)
        except Exception as error:  # the asserted write is committed: never undo or break it
            self.fail(error)

    def fail(self, error: Exception) -> None:
        """Stop maintaining derived facts after ``error`` (kept in :attr:`error`).

        The store keeps working and its asserted facts stay right; derived facts are
        no longer kept up to date until a :meth:`materialize` (or :meth:`start`)
        succeeds.
        """
        self.running = False
        self.evaluated = False
        self.error = error
        logger.error(
            "the rule engine stopped; derived facts are not kept up to date any more "
            "(fix the rules or raise the limit, then run 'lifecyclegraph rules run'): %s",
            error,
            exc_info=not isinstance(error, RuleLimitError),
        )

    def apply(self, added: Iterable[Triple], removed: Iterable[Triple]) -> UpdateResult:
        """Maintain the derived facts after asserted triples were added and removed, and
        write the change to the inferred graph (what the change feed listener does)."""
        began = time.perf_counter()
        with self._lock:
            plus: dict[str, set[Fact]] = {}
            minus: dict[str, set[Fact]] = {}
            for triple in added:
                key = self._key(triple, intern=True)
                if key is not None:
                    plus.setdefault(key[0], set()).add(key[1])
            for triple in removed:
                key = self._key(triple, intern=False)
                if key is not None:
                    minus.setdefault(key[0], set()).add(key[1])
            result = self.evaluator.update(plus, minus)
            self._write(result)
            self.last_update_seconds = time.perf_counter() - began
            return result

    def _write(self, result: UpdateResult) -> None:
        added: list[Fact] = []
        removed: list[Fact] = []
        written: list[Quad | Triple] = []
        gone: list[Quad | Triple] = []
        evaluator = self.evaluator
        for predicate in self._stored:
            base_key = evaluator.relation_of(predicate)
            change = result.changes.get(predicate)
            base_added = result.base_added.get(base_key, set())
            base_removed = result.base_removed.get(base_key, set())
            if change is None and not base_added and not base_removed:
                continue
            gained = change.added if change else set()
            lost = change.removed if change else set()
            rows = evaluator.facts(predicate)
            base = evaluator.asserted(predicate)
            added.clear()
            removed.clear()
            for fact in gained | lost | base_added | base_removed:
                now = fact in rows and fact not in base
                was_held = (fact in rows and fact not in gained) or fact in lost
                was_base = (fact in base and fact not in base_added) or fact in base_removed
                before = was_held and not was_base
                if now != before:
                    (added if now else removed).append(fact)
            written.extend(self._quads(predicate, added))
            gone.extend(self._quads(predicate, removed))
        if written or gone:
            self.store.apply_inferred(written, gone)

    # -- terms ---------------------------------------------------------------------------------

    def _key(self, triple: Triple, intern: bool) -> tuple[str, Fact] | None:
        """The predicate and fact of a triple, if the program uses its predicate."""
        convert = self.table.id if intern else self.table.lookup
        if triple.predicate == RDF_TYPE:
            predicate = self._classes.get(triple.object)
            if predicate is None:
                return None
            subject = convert(triple.subject)
            return None if subject is None else (predicate, (subject,))
        predicate = self._properties.get(triple.predicate)
        if predicate is None:
            return None
        subject = convert(triple.subject)
        obj = convert(triple.object)
        if subject is None or obj is None:
            return None
        return predicate, (subject, obj)

    def _triple(self, predicate: str, fact: Fact) -> Triple | None:
        terms = self.table.terms
        subject = terms[fact[0]]
        if isinstance(subject, Literal):
            return None
        if len(fact) == 1:
            return Triple(subject, RDF_TYPE, self._nodes[predicate])
        return Triple(subject, self._nodes[predicate], terms[fact[1]])

    # -- explaining ----------------------------------------------------------------------------

    def explain(self, subject: Any, predicate: Any, obj: Any) -> Explanation | None:
        """Why ``subject predicate obj`` holds: its derivation tree down to asserted facts,
        each with the snapshots (source, time, event) that assert it.

        Terms may be pyoxigraph terms or strings (``prefix:local``, an IRI, or for the
        object a literal's text). ``rdf:type`` (or ``a``) with a class as the object
        explains class membership. Returns ``None`` if the fact does not hold.
        """
        found = self.match(subject, predicate, obj)
        return found[0] if found else None

    def match(
        self, subject: Any = None, predicate: Any = None, obj: Any = None, limit: int | None = None
    ) -> list[Explanation]:
        """Explain every fact (asserted or derived) matching a pattern; ``None`` matches
        anything."""
        with self._lock:
            if self.error is not None:
                raise self.error
            if not self.evaluated:
                self.evaluate()
            results = []
            for key, fact in self._matching(_node(subject), _node(predicate), _term(obj)):
                tree = explain(self.evaluator, key, fact, self._provenance)
                if tree is not None:
                    results.append(tree)
                    if limit is not None and len(results) >= limit:
                        break
            return results

    def _matching(self, subject: Any, predicate: Any, obj: Any) -> list[tuple[str, Fact]]:
        lookup = self.table.lookup
        s = lookup(subject) if subject is not None else None
        if subject is not None and s is None:
            return []
        wanted: list[tuple[str, int | None]] = []  # (predicate, required object id)
        if predicate is None or predicate == RDF_TYPE:
            for node, key in sorted(self._classes.items(), key=lambda item: item[1]):
                if obj is None or obj == node:
                    wanted.append((key, None))
        if predicate is None or predicate in self._properties:
            o = lookup(obj) if obj is not None else None
            if obj is None or o is not None:
                keys = (
                    [self._properties[predicate]]
                    if predicate is not None
                    else sorted(self._properties.values())
                )
                wanted.extend((key, o) for key in keys)
        found: list[tuple[str, Fact]] = []
        for key, o in wanted:
            relation = self.evaluator.relations[key]
            rows = relation.index((0,)).get(s, ()) if s is not None else relation.rows
            found.extend((key, fact) for fact in sorted(rows) if o is None or fact[1] == o)
        return found

    def _provenance(self, predicate: str, fact: Fact) -> tuple[SnapshotInfo, ...]:
        triple = self._triple(predicate, fact)
        if triple is None:
            return ()
        infos = []
        subject, obj = triple.subject, triple.object
        if not isinstance(subject, NamedNode) or not isinstance(obj, NamedNode | Literal):
            return ()  # asserted facts are about IRIs, with an IRI or a literal
        for quad in self.store.quads(subject, triple.predicate, obj, inferred=False):
            graph = quad.graph_name
            if isinstance(graph, NamedNode):  # a snapshot graph
                infos.append(self.store.snapshot(graph.value))
        return tuple(sorted(infos, key=lambda i: i.observed_at))


class _Listener:
    """Forwards the store's change feed to an engine while the engine exists."""

    def __init__(self, engine: RuleEngine) -> None:
        self.engine = weakref.ref(engine)

    def __call__(self, delta: Delta) -> None:
        engine = self.engine()
        if engine is not None:
            engine._on_delta(delta)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during a bulk job, then freeze what exists."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def _node(value: Any) -> Any:
    if value is None or isinstance(value, NamedNode | Literal):
        return value
    text = str(value)
    if text in ("a", "rdf:type"):
        return RDF_TYPE
    if text.startswith("<") and text.endswith(">"):
        return NamedNode(text[1:-1])
    return NamedNode(expand(text))


def _term(value: Any) -> Any:
    if value is None or isinstance(value, NamedNode | Literal):
        return value
    text = str(value)
    if text.startswith("<") and text.endswith(">"):
        return NamedNode(text[1:-1])
    expanded = expand(text)
    if expanded != text or "://" in text or text.startswith("urn:"):
        return NamedNode(expanded)
    return Literal(text)
