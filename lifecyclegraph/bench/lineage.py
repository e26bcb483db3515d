"""The shape of derived lineage, measured: the full closure against one-step edges.

Run it with ``lifecyclegraph bench lineage --entities N``; the figures go to
``docs/benchmarks.md`` (section "Rules", "The shape of derived lineage").

Three shapes of the same lineage, each run in its own process (so that its peak RSS is
its own) on the synthetic lifecycle graph of :mod:`lifecyclegraph.bench.lifecycle` plus
one long chain of datasets:

* ``closure`` -- the shape before issue 17: ``lg:upstream`` and ``lg:downstream`` hold
  the full transitive closure of ``lg:dependsOn`` (materialized in the inferred graph;
  the bench adds the transitive rule and ``owl:TransitiveProperty`` back to copies of
  the shipped files). SPARQL asks ``<x> lg:upstream ?y``.
* ``step`` -- the shipped rules (issue 17's decision): ``lg:upstream`` and
  ``lg:downstream`` hold the one-step edges only; SPARQL asks ``<x> lg:upstream+ ?y``
  (a property path, answered at query time).
* ``none`` -- the compact form: no ``lg:upstream``/``lg:downstream`` at all; SPARQL asks
  ``<x> lg:dependsOn+ ?y`` and ``<x> ^lg:dependsOn+ ?y``.

For each: the derived quads written and how many of them are lineage; the time of the
full materialization and of live writes with the engine on (entities/s); the process's
RSS growth over the materialization and its peak RSS; the engine's facts in memory;
lineage query latency through ``graph.lineage`` (depth 1, 10
and 100, upstream and downstream) and through SPARQL (the full reach); and the cost of
removing and adding back the edge in the middle of the chain. The SPARQL answers are
checked to be the same sets in every shape.

>>> sorted(sparql_questions("none"))
['downstream', 'upstream']
>>> sparql_questions("step")["upstream"].format(root="aip://x/y/z")
'SELECT ?x WHERE { <aip://x/y/z> lg:upstream+ ?x }'
"""

from __future__ import annotations

import gc
import hashlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lifecyclegraph.bench.lifecycle import lifecycle_entities
from lifecyclegraph.core.facts import Facts, Ref
from lifecyclegraph.core.ontology import shipped_dir
from lifecyclegraph.graph.embedded import LifecycleGraph
from lifecyclegraph.rules.engine import RuleEngine
from lifecyclegraph.rules.load import load_program
from lifecyclegraph.store import Observation, SnapshotStore

__all__ = [
    "SHAPES",
    "ShapeResult",
    "run_lineage_bench",
    "shape_folders",
    "sparql_questions",
    "trace_engine_memory",
]

#: The shapes compared, the first being the reference of the ratios (the shape before).
SHAPES = ("closure", "step", "none")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_CHAIN = "aip://dataset/datasets/chain-{}"
_TRANSITIVE_RULE = (
    "\nlg:upstream(?entity, ?source) :- "
    "lg:upstream(?entity, ?input), lg:upstream(?input, ?source).\n"
)
_STEP_RULE = "lg:upstream(?entity, ?input) :- lg:dependsOn(?entity, ?input)."
_INVERSE_RULE = "lg:downstream(?source, ?entity) :- lg:upstream(?entity, ?source)."


def sparql_questions(shape: str) -> dict[str, str]:
    """The SPARQL a user asks for the full upstream and downstream of ``{root}``."""
    if shape == "closure":
        up, down = "lg:upstream", "lg:downstream"
    elif shape == "step":
        up, down = "lg:upstream+", "lg:downstream+"
    else:
        up, down = "lg:dependsOn+", "^lg:dependsOn+"
    return {
        "upstream": "SELECT ?x WHERE {{ <{root}> " + up + " ?x }}",
        "downstream": "SELECT ?x WHERE {{ <{root}> " + down + " ?x }}",
    }


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise ValueError(f"{path.name}: {old!r} not found; the bench's shapes need updating")
    path.write_text(text.replace(old, new), encoding="utf-8")


def shape_folders(shape: str, into: Path) -> tuple[Path, Path]:
    """Copies of the project's ``rules/`` and ``ontology/`` made into ``shape``.

    Returns:
        ``(rules_dir, ontology_dir)`` under ``into``.

    Raises:
        ValueError: an unknown shape, or the shipped files no longer hold the text the
            shape edits.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    rules = into / "rules"
    ontology = into / "ontology"
    shutil.copytree(shipped_dir("rules"), rules)
    shutil.copytree(shipped_dir("ontology"), ontology)
    lineage_rules, lineage_ttl = rules / "lineage.rules", ontology / "lineage.ttl"
    if shape == "closure":
        _replace(lineage_rules, _STEP_RULE, _STEP_RULE + _TRANSITIVE_RULE)
        for name in ("upstream", "downstream"):
            _replace(
                lineage_ttl,
                f"lg:{name}\n    a owl:ObjectProperty ;",
                f"lg:{name}\n    a owl:ObjectProperty, owl:TransitiveProperty ;",
            )
        return rules, ontology
    if shape == "none":
        _replace(lineage_rules, _STEP_RULE, "")
        _replace(lineage_rules, _INVERSE_RULE, "")
        _replace(lineage_ttl, "prov:wasInfluencedBy, lg:upstream ;", "prov:wasInfluencedBy ;")
        _replace(lineage_ttl, "owl:inverseOf lg:downstream ;", "")
    return rules, ontology


def _chain(length: int, cut: bool = False) -> list[Facts]:
    """A chain of datasets, each derived from the one before (``cut``: the middle link
    missing)."""
    out = []
    for i in range(length):
        pairs: dict[str, Any] = {"rdf:type": Ref("lg:Dataset"), "lg:name": f"chain_{i}"}
        if i and not (cut and i == length // 2):
            pairs["lg:upstreamDataset"] = Ref(_CHAIN.format(i - 1))
        out.append(Facts.of(_CHAIN.format(i), pairs))
    return out


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss / 2**20)


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 3), "p95": round(p95, 3)}


def _timed(call: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    value = call()
    return (time.perf_counter() - began) * 1000, value


def measure_shape(
    shape: str, entities: int, chain: int = 100, live: int = 1000, samples: int = 20
) -> dict[str, Any]:
    """Measure one shape in this process (the parent runs each in a fresh one)."""
    with tempfile.TemporaryDirectory(prefix=f"lg-lineage-{shape}-") as folder:
        rules_dir, ontology_dir = shape_folders(shape, Path(folder))
        program = load_program(rules_dir, ontology_dir)
    world = lifecycle_entities(entities) + _chain(chain)
    first, rest = world[: len(world) - chain - live], world[len(world) - chain - live :]
    store = SnapshotStore.in_memory()
    graph = LifecycleGraph(store)
    seen = Observation("bench", T0)
    began = time.perf_counter()
    for start in range(0, len(first), 1000):
        graph.write_many(((facts, seen) for facts in first[start : start + 1000]), validate=False)
    write_seconds = time.perf_counter() - began

    gc.collect()
    rss_before = _rss_mb()
    engine = RuleEngine(store, program)
    report = engine.start()
    # The graph answers with the engine running (as LifecycleGraph.open(rules=True) does).
    graph._engine = engine
    gc.collect()
    rss_after = _rss_mb()

    later = Observation("bench", T0 + timedelta(minutes=1), "live")
    began = time.perf_counter()
    for start in range(0, len(rest), 100):
        graph.write_many(((facts, later) for facts in rest[start : start + 100]), validate=False)
    live_seconds = time.perf_counter() - began
    live_count = sum(len(f.flatten()) for f in rest)

    # Roots: the chain's ends, model instances (deep upstream), datasets (wide downstream).
    step = max(1, (entities * 15 // 100) // samples)
    instances = [f"aip://model/registry/instance-{i * step}" for i in range(samples)]
    step = max(1, (entities * 14 // 100) // samples)
    datasets = [f"aip://dataset/datasets/dataset-{i * step}" for i in range(samples)]
    roots = {
        "upstream": [_CHAIN.format(chain - 1), *instances],
        "downstream": [_CHAIN.format(0), *datasets],
    }
    api: dict[str, dict[str, float]] = {}
    sparql: dict[str, dict[str, float]] = {}
    answers = hashlib.sha256()
    reach: dict[str, int] = {}
    questions = sparql_questions(shape)
    for direction, starts in roots.items():
        for depth in (1, 10, 100):
            times = []
            for root in starts:
                ms, _ = _timed(
                    lambda root=root, depth=depth, direction=direction: graph.lineage(
                        root, direction=direction, depth=depth
                    )
                )
                times.append(ms)
            api[f"{direction} depth {depth}"] = _quantiles(times)
        times = []
        for root in starts:
            query = questions[direction].format(root=root)
            ms, rows = _timed(
                lambda query=query: sorted(row["x"].value for row in graph.sparql(query))
            )
            times.append(ms)
            answers.update(json.dumps([root, rows]).encode())
            reach[f"{direction} {root}"] = len(rows)
        sparql[f"{direction} full"] = _quantiles(times)

    middle = Facts.of(
        _CHAIN.format(chain // 2),
        {
            "rdf:type": Ref("lg:Dataset"),
            "lg:name": f"chain_{chain // 2}",
            "lg:upstreamDataset": Ref(_CHAIN.format(chain // 2 - 1)),
        },
    )
    cut = Facts.of(
        _CHAIN.format(chain // 2), {"rdf:type": Ref("lg:Dataset"), "lg:name": f"chain_{chain // 2}"}
    )
    updates: dict[str, list[float]] = {
        "remove": [],
        "add": [],
        "remove engine": [],
        "add engine": [],
    }
    for number in range(5):
        for kind, facts in (("remove", cut), ("add", middle)):
            when = Observation("bench", T0 + timedelta(hours=1, minutes=number), f"{kind}{number}")
            ms, _ = _timed(
                lambda facts=facts, when=when: graph.write_many([(facts, when)], validate=False)
            )
            updates[kind].append(ms)
            updates[f"{kind} engine"].append(engine.last_update_seconds * 1000)
    lineage_counts = {
        p: n for p, n in report.counts.items() if p in ("lg:upstream", "lg:downstream")
    }
    return {
        "shape": shape,
        "entities": sum(len(f.flatten()) for f in world),
        "write_seconds": round(write_seconds, 2),
        "derived": report.derived,
        "derived_lineage": sum(lineage_counts.values()),
        "materialize_seconds": round(report.seconds, 2),
        "materialize_timings": {k: round(v, 2) for k, v in report.timings.items()},
        "facts_in_memory": engine.evaluator.size(),
        "rss_growth_mb": round(rss_after - rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "live_entities_per_second": round(live_count / live_seconds, 1),
        "api_ms": api,
        "sparql_ms": sparql,
        "update_ms": {k: _quantiles(v) for k, v in updates.items()},
        "answers": answers.hexdigest(),
        "reach_chain": {k: v for k, v in reach.items() if "chain" in k},
    }


def trace_engine_memory(shape: str, entities: int, top: int = 10) -> dict[str, Any]:
    """The rule engine's memory after a full materialization, traced by ``tracemalloc``.

    The store is written first (untraced); only what the engine allocates while it reads
    the asserted facts and derives is traced.

    Returns:
        ``{"shape", "facts", "terms", "traced_mb", "peak_mb", "top": [[MB, blocks,
        "file:line"], ...]}`` (the largest allocations by line).
    """
    import tracemalloc

    with tempfile.TemporaryDirectory(prefix=f"lg-lineage-{shape}-") as folder:
        program = load_program(*shape_folders(shape, Path(folder)))
    store = SnapshotStore.in_memory()
    world = lifecycle_entities(entities)
    seen = Observation("bench", T0)
    for start in range(0, len(world), 1000):
        store.write_many((facts, seen) for facts in world[start : start + 1000])
    del world
    gc.collect()
    tracemalloc.start(1)
    engine = RuleEngine(store, program)
    engine.start()
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    traced, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = []
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        where = frame.filename.split("lifecyclegraph/")[-1]
        lines.append([round(stat.size / 2**20, 1), stat.count, f"{where}:{frame.lineno}"])
    return {
        "shape": shape,
        "facts": engine.evaluator.size(),
        "terms": len(engine.table),
        "traced_mb": round(traced / 2**20, 1),
        "peak_mb": round(peak / 2**20, 1),
        "top": lines,
    }


@dataclass
class ShapeResult:
    """The figures of one shape (see :func:`measure_shape` for the keys)."""

    figures: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.figures[key]


def run_lineage_bench(
    entities: int = 100_000,
    chain: int = 100,
    shapes: tuple[str, ...] = SHAPES,
    trace_memory: bool = False,
) -> list[ShapeResult]:
    """Measure each shape in a fresh process, one after the other.

    Args:
        entities: about how many entities the synthetic graph has.
        chain: the length of the extra chain of datasets.
        shapes: which shapes, in order (the first is the reference of the ratios).
        trace_memory: instead of the comparison, trace the engine's allocations
            (:func:`trace_engine_memory`; slower, no timings).

    Raises:
        RuntimeError: a shape's process failed (its error output is in the message).
    """
    results = []
    for shape in shapes:
        code = "import json, sys\nfrom lifecyclegraph.bench.lineage import measure_shape\n" + (
            f"from lifecyclegraph.bench.lineage import trace_engine_memory\n"
            f"print(json.dumps(trace_engine_memory({shape!r}, {entities})))\n"
            if trace_memory
            else f"print(json.dumps(measure_shape({shape!r}, {entities}, {chain})))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"shape {shape} failed:\n{done.stderr[-4000:]}")
        results.append(ShapeResult(json.loads(done.stdout.strip().splitlines()[-1])))
    return results
