"""Rule engine benchmark: transitive closure beside owlrl and Oxigraph, and incremental
maintenance of a synthetic 100k-entity lifecycle graph.

Run it with ``lifecyclegraph bench rules``; the figures go to ``docs/benchmarks.md``.

(a) **Closure of a random DAG** (default: 5,000 nodes, 10,000 edges ``i -> j`` with
    ``i < j``), with the axioms ``ex:edge rdfs:subPropertyOf ex:anc`` and
    ``ex:anc a owl:TransitiveProperty``:

    * the engine's full materialization on a snapshot store holding the edges (reading
      the edges, deriving, writing ``ex:anc`` to the inferred graph);
    * a hand-written Oxigraph update ``INSERT { ?x ex:anc ?y } WHERE { ?x ex:edge+ ?y }``
      on a store holding the same edges (the speed to aim for);
    * owlrl's OWL RL closure of the same graph (rdflib).

(b) **A synthetic lifecycle graph** (default: 100,000 entities, see
    :mod:`lifecyclegraph.bench.lifecycle`) with the standard rules and the ontology's
    axioms: the full materialization, then single-entity changes written through the
    store (the engine maintains the inferred graph from the change feed), beside a full
    recomputation of the same program in memory.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyoxigraph import NamedNode, Quad, Store

from lifecyclegraph.bench.lifecycle import lifecycle_changes, lifecycle_entities
from lifecyclegraph.core.facts import Facts
from lifecyclegraph.rules.axioms import Axioms
from lifecyclegraph.rules.engine import RuleEngine
from lifecyclegraph.rules.evaluate import Evaluator
from lifecyclegraph.rules.load import build_program, load_program
from lifecyclegraph.rules.program import Program
from lifecyclegraph.store import Observation, SnapshotStore

__all__ = ["DagResult", "LifecycleResult", "random_dag", "run_dag_bench", "run_lifecycle_bench"]

EX = "http://example.com/"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

DAG_ONTOLOGY = """@prefix ex: <http://example.com/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:edge a owl:ObjectProperty ; rdfs:subPropertyOf ex:anc .
ex:anc a owl:ObjectProperty, owl:TransitiveProperty .
"""


def random_dag(nodes: int, edges: int, seed: int = 1) -> list[tuple[int, int]]:
    """``edges`` distinct random edges ``i -> j`` with ``i < j`` among ``nodes`` nodes.

    >>> len(random_dag(100, 300))
    300
    """
    rng = random.Random(seed)
    found: set[tuple[int, int]] = set()
    while len(found) < edges:
        a, b = rng.randrange(nodes), rng.randrange(nodes)
        if a < b:
            found.add((a, b))
    return sorted(found)


@dataclass
class DagResult:
    """Figures of the closure benchmark (seconds; ``closure`` is the number of pairs)."""

    nodes: int
    edges: int
    closure: int
    engine_seconds: float
    engine_timings: dict[str, float]
    engine_core_seconds: float
    property_path_seconds: float
    owlrl_seconds: float | None
    owlrl_closure: int | None
    ratios: list[float] = field(default_factory=list)

    @property
    def vs_property_path(self) -> float:
        """Engine time / property-path INSERT time, the median over the repeats, each
        timing both one after the other (target: at most 2)."""
        return statistics.median(self.ratios)

    @property
    def owlrl_speedup(self) -> float | None:
        """owlrl time / engine time, both ending with the closure in memory (target: at
        least 200)."""
        return self.owlrl_seconds / self.engine_core_seconds if self.owlrl_seconds else None

    @property
    def owlrl_speedup_end_to_end(self) -> float | None:
        """owlrl time / the engine's full materialization on the store."""
        return self.owlrl_seconds / self.engine_seconds if self.owlrl_seconds else None

    def as_dict(self) -> dict[str, Any]:
        speedups = {
            "owlrl_speedup": round(self.owlrl_speedup, 1) if self.owlrl_speedup else None,
            "owlrl_speedup_end_to_end": round(self.owlrl_speedup_end_to_end, 1)
            if self.owlrl_speedup_end_to_end
            else None,
        }
        return {**asdict(self), "vs_property_path": round(self.vs_property_path, 3), **speedups}


def run_dag_bench(
    nodes: int = 5000, edges: int = 10_000, owlrl: bool = True, repeat: int = 5
) -> DagResult:
    """Run (a): the engine, the property-path INSERT and owlrl on the same random DAG.

    The engine and the INSERT run ``repeat`` times each, one after the other, on fresh
    stores (best times kept, and the median of the ratios); owlrl runs once.
    """
    dag = random_dag(nodes, edges)
    names = [NamedNode(f"{EX}n{i}") for i in range(nodes)]
    edge, anc = NamedNode(EX + "edge"), NamedNode(EX + "anc")
    program = build_program(Program(()), Axioms.from_turtle(DAG_ONTOLOGY, "dag.ttl"))

    engine_times, core_times, path_times = [], [], []
    timings: list[dict[str, float]] = []
    ratios: list[float] = []
    closure = 0
    for _ in range(repeat):
        store = SnapshotStore.in_memory()
        out: dict[int, list[NamedNode]] = {}
        for a, b in dag:
            out.setdefault(a, []).append(names[b])
        seen = Observation("bench", T0)
        store.write_many(
            (Facts.of(names[a].value, {EX + "edge": targets}), seen) for a, targets in out.items()
        )
        gc.collect()
        began = time.perf_counter()
        report = RuleEngine(store, program).materialize()
        engine_times.append(time.perf_counter() - began)
        timings.append(report.timings)
        closure = report.counts.get(EX + "anc", 0)

        evaluator = Evaluator(program)
        ids = [evaluator.table.id(n) for n in names]
        evaluator.load({EX + "edge": {(ids[a], ids[b]) for a, b in dag}})
        gc.collect()
        began = time.perf_counter()
        evaluator.materialize()
        core_times.append(time.perf_counter() - began)

        plain = Store()
        plain.extend(Quad(names[a], edge, names[b]) for a, b in dag)
        gc.collect()
        began = time.perf_counter()
        plain.update(f"INSERT {{ ?x {anc} ?y }} WHERE {{ ?x {edge}+ ?y }}")
        path_times.append(time.perf_counter() - began)
        ratios.append(engine_times[-1] / path_times[-1])
        if sum(1 for _ in plain.quads_for_pattern(None, anc, None, None)) != closure:
            raise AssertionError("the engine and Oxigraph disagree on the closure")

    owlrl_seconds = owlrl_closure = None
    if owlrl:
        owlrl_seconds, owlrl_closure = _owlrl(dag)
        if owlrl_closure != closure:
            raise AssertionError(f"owlrl closure {owlrl_closure} != engine closure {closure}")
    best = engine_times.index(min(engine_times))
    return DagResult(
        nodes,
        edges,
        closure,
        engine_times[best],
        timings[best],
        min(core_times),
        min(path_times),
        owlrl_seconds,
        owlrl_closure,
        ratios,
    )


def _owlrl(dag: list[tuple[int, int]]) -> tuple[float, int]:
    import owlrl
    from rdflib import Graph, URIRef

    graph = Graph()
    graph.parse(data=DAG_ONTOLOGY, format="turtle")
    edge, anc = URIRef(EX + "edge"), URIRef(EX + "anc")
    for a, b in dag:
        graph.add((URIRef(f"{EX}n{a}"), edge, URIRef(f"{EX}n{b}")))
    began = time.perf_counter()
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    seconds = time.perf_counter() - began
    return seconds, sum(1 for _ in graph.triples((None, anc, None)))


@dataclass
class LifecycleResult:
    """Figures of the lifecycle benchmark (seconds unless said otherwise)."""

    entities: int
    asserted_triples: int
    write_seconds: float
    derived: int
    facts_in_memory: int
    materialize_seconds: float
    materialize_timings: dict[str, float]
    recompute_seconds: float
    changes: int
    engine_ms: list[float] = field(repr=False)
    write_ms: list[float] = field(repr=False)
    by_kind: dict[str, list[float]] = field(repr=False)
    verified: bool
    peak_rss_mb: float

    @staticmethod
    def _quantile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def engine_p50_ms(self) -> float:
        return statistics.median(self.engine_ms)

    @property
    def engine_p95_ms(self) -> float:
        return self._quantile(self.engine_ms, 0.95)

    @property
    def write_p50_ms(self) -> float:
        return statistics.median(self.write_ms)

    @property
    def write_p95_ms(self) -> float:
        return self._quantile(self.write_ms, 0.95)

    @property
    def speedup(self) -> float:
        """Full recomputation time / incremental p50 (target: at least 100)."""
        return self.recompute_seconds * 1000 / self.engine_p50_ms

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("engine_ms")
        data.pop("write_ms")
        data["by_kind_p50_ms"] = {
            k: round(statistics.median(v), 2) for k, v in self.by_kind.items()
        }
        data.pop("by_kind")
        return {
            **data,
            "engine_p50_ms": round(self.engine_p50_ms, 2),
            "engine_p95_ms": round(self.engine_p95_ms, 2),
            "write_p50_ms": round(self.write_p50_ms, 2),
            "write_p95_ms": round(self.write_p95_ms, 2),
            "speedup": round(self.speedup, 1),
        }


def run_lifecycle_bench(
    entities: int = 100_000, changes: int = 50, path: str | None = None
) -> LifecycleResult:
    """Run (b): write the synthetic graph, materialize, then apply single-entity changes.

    Args:
        entities: about how many entities (with parts) to write.
        changes: how many single-entity changes to time.
        path: an empty folder for an on-disk store (default: in memory).
    """
    program = load_program()
    store = SnapshotStore.open(path) if path else SnapshotStore.in_memory()
    graph_entities = lifecycle_entities(entities)
    seen = Observation("bench", T0)
    began = time.perf_counter()
    for start in range(0, len(graph_entities), 1000):
        store.write_many((facts, seen) for facts in graph_entities[start : start + 1000])
    write_seconds = time.perf_counter() - began
    asserted = sum(len(f.pairs) for e in graph_entities for f in e.flatten())
    count = sum(len(e.flatten()) for e in graph_entities)

    engine = RuleEngine(store, program)
    gc.collect()
    report = engine.start()

    engine_ms: list[float] = []
    write_ms: list[float] = []
    by_kind: dict[str, list[float]] = {}
    for number, change in enumerate(lifecycle_changes(entities, changes)):
        when = Observation("bench", T0 + timedelta(minutes=number + 1), f"change-{number}")
        began = time.perf_counter()
        store.write_many([(change.facts, when)])
        write_ms.append((time.perf_counter() - began) * 1000)
        engine_ms.append(engine.last_update_seconds * 1000)
        by_kind.setdefault(change.kind, []).append(engine.last_update_seconds * 1000)

    fresh = Evaluator(program, table=engine.table)
    fresh.load({p: engine.evaluator.asserted(p) for p in program.base_relation})
    recompute = []
    for _ in range(3):
        gc.collect()
        began = time.perf_counter()
        fresh.materialize()
        recompute.append(time.perf_counter() - began)
    verified = all(
        relation.rows == fresh.relations[name].rows
        for name, relation in engine.evaluator.relations.items()
    )
    return LifecycleResult(
        entities=count,
        asserted_triples=asserted,
        write_seconds=write_seconds,
        derived=report.derived,
        facts_in_memory=engine.evaluator.size(),
        materialize_seconds=report.seconds,
        materialize_timings=report.timings,
        recompute_seconds=statistics.median(recompute),
        changes=changes,
        engine_ms=engine_ms,
        write_ms=write_ms,
        by_kind=by_kind,
        verified=verified,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
