"""Lineage and impact: where an entity comes from, and what a change to it would touch.

Lineage walks the direct ``lg:dependsOn`` edges (which the ontology derives from
``lg:usesFeature``, ``lg:sourceDataset``, ``lg:producedByRun``, ...) breadth first, so
each node carries its distance. With the rule engine on, the derived one-step
``lg:upstream`` and ``lg:downstream`` edges give the full reach in one SPARQL property
path, ``<x> lg:upstream+ ?y`` (:func:`reach`); the closure itself is not materialized
(``docs/benchmarks.md``, "The shape of derived lineage").

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory(rules=True)
>>> _ = graph.write(Facts.of("aip://feature/featurestore/f", {"rdf:type": Ref("lg:Feature"),
...     "lg:sourceDataset": Ref("aip://dataset/datasets/d")}), source="featurestore",
...     validate=False)  # partial entities (no name, no source id): unchecked
>>> _ = graph.write(Facts.of("aip://dataset/datasets/d", {"rdf:type": Ref("lg:Dataset"),
...     "lg:upstreamDataset": Ref("aip://dataset/datasets/raw")}), source="datasets",
...     validate=False)
>>> view = lineage(graph, "aip://feature/featurestore/f", direction="upstream", depth=5)
>>> [(n["uri"], n["depth"]) for n in view["nodes"]]
[('aip://dataset/datasets/d', 1), ('aip://dataset/datasets/raw', 2)]
>>> [n["uri"] for n in lineage(graph, "aip://dataset/datasets/raw", direction="downstream",
...                            depth=5, types=["lg:Feature"])["nodes"]]
['aip://feature/featurestore/f']
>>> reach(graph, "aip://feature/featurestore/f")
['aip://dataset/datasets/d', 'aip://dataset/datasets/raw']
>>> lineage(graph, "aip://dataset/datasets/raw", types=["lg:Featur"])
Traceback (most recent call last):
...
lifecyclegraph.graph.lineage.UnknownTypeError: unknown type 'lg:Featur' (did you mean lg:Feature?...
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pyoxigraph import NamedNode

from lifecyclegraph.core.errors import LifecycleGraphError
from lifecyclegraph.core.facts import term_value
from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.core.vocab import INFERRED_GRAPH, LG, PREFIXES, RDF_TYPE, compact, expand
from lifecyclegraph.graph.door import Direction, Graph

__all__ = ["Direction", "UnknownTypeError", "impact", "lineage", "reach"]

_DEPENDS_ON = LG.dependsOn
_LG = PREFIXES["lg"]
#: Counts a walk's reach while the walk runs: Oxigraph evaluates an aggregate inside
#: ``query()``, which releases the GIL, so the count costs the walk little (on the 1M
#: store in process, a depth-10 walk and its count p50 11.5 ms against 12.4 one after
#: the other, p95 23.6 against 27.3; ``docs/benchmarks.md``, Scale, tenth round).
_BESIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lineage-reach")


class UnknownTypeError(LifecycleGraphError, ValueError):
    """A ``types`` filter names classes the ontology does not know.

    The message names each, with its near miss; ``known`` lists the classes a filter
    may name (compact names, sorted).
    """

    def __init__(self, message: str, known: list[str]) -> None:
        super().__init__(message)
        self.known = known


def _wanted(types: Iterable[str], ontology: Ontology) -> set[str]:
    """The class IRIs ``types`` names (``lg:Dataset`` or full IRIs), all known ones.

    Raises:
        UnknownTypeError: naming every unknown one, and what is known.
    """
    import difflib

    known = ontology.known_classes()
    names = sorted(compact(c) for c in known)
    wanted, problems = set(), []
    for name in types:
        iri = expand(name)
        if iri in known:
            wanted.add(iri)
            continue
        near = difflib.get_close_matches(name, names, n=1) or difflib.get_close_matches(
            compact(iri), names, n=1
        )
        problems.append(f"unknown type {name!r}" + (f" (did you mean {near[0]}?)" if near else ""))
    if problems:
        raise UnknownTypeError(f"{'; '.join(problems)}; known types: {', '.join(names)}", names)
    return wanted


def _types(graph: Graph, node: NamedNode) -> tuple[list[str], set[str]]:
    """The asserted ``lg`` classes of ``node``, and every class (asserted or inferred)."""
    asserted, every = set(), set()
    for quad in graph.quads(node, RDF_TYPE):
        cls = term_value(quad.object)
        every.add(cls)
        if quad.graph_name != INFERRED_GRAPH and cls.startswith(_LG):
            asserted.add(cls)
    return sorted(asserted), every


def _values(graph: Graph, node: NamedNode, predicate: NamedNode) -> list[str]:
    return sorted({term_value(q.object) for q in graph.quads(node, predicate)})


def _summary(graph: Graph, uri: str, every: set[str] | None = None) -> dict[str, Any]:
    """An entity's URI, asserted ``lg`` classes and name; ``every``, when given, gets
    all its classes, asserted or inferred.

    Its classes come from one read of every graph, inferred super-classes included,
    rather than from its current snapshot: that read lies beside the node's name and
    one-step edges in the store's subject index, where the snapshot's is elsewhere
    (its graph's index). On a 1M store with the disk cache dropped, a depth-10 walk
    took 43-45 ms at the median against 79-100; warm, 11-13 ms either way
    (``docs/benchmarks.md``, Scale, ninth round).
    """
    node = NamedNode(uri)
    names = _values(graph, node, LG.name)
    asserted, classes = _types(graph, node)
    if every is not None:
        every.update(classes)
    return {
        "uri": uri,
        "types": [compact(t) for t in asserted],
        "name": names[0] if names else None,
    }


def _neighbours(graph: Graph, uri: str, direction: Direction) -> set[str]:
    node = NamedNode(uri)
    if direction == "upstream":
        return {
            q.object.value
            for q in graph.quads(node, _DEPENDS_ON)
            if isinstance(q.object, NamedNode)
        }
    return {
        q.subject.value
        for q in graph.quads(None, _DEPENDS_ON, node)
        if isinstance(q.subject, NamedNode)
    }


def lineage(
    graph: Graph,
    uri: str,
    *,
    direction: Direction = "upstream",
    depth: int = 3,
    types: Iterable[str] = (),
    limit: int = 10_000,
    ontology: Ontology | None = None,
) -> dict[str, Any]:
    """The entities ``uri`` comes from (``upstream``) or feeds (``downstream``).

    Args:
        graph: the graph.
        uri: where to start.
        direction: ``upstream`` follows ``lg:dependsOn``; ``downstream`` follows it backwards.
        depth: how many hops to go (at least 1).
        types: keep only nodes of these classes (``lg:Dataset`` or full IRIs, any class
            of the ontology or a superclass it names, such as ``prov:Entity``); the
            walk still goes through the others.
        limit: the most nodes visited.
        ontology: where the known classes come from (default: the project's).

    Returns:
        ``{"root", "direction", "depth", "nodes": [{uri, types, name, depth}],
        "edges": [{from, to, depth}], "reach", "truncated"}``: edges are the direct
        ``lg:dependsOn`` edges between returned nodes (and the root), pointing from the
        dependent entity to what it depends on; ``reach`` counts the entities the
        derived one-step ``lg:upstream``/``lg:downstream`` edges reach from the root in
        any number of steps (:func:`reach`), or ``None`` when the graph runs no rules.

    Raises:
        UnknownTypeError: ``types`` names a class the ontology does not know.
        ValueError: ``direction`` is neither ``upstream`` nor ``downstream``.
    """
    _check(direction)
    types = list(types)
    wanted = _wanted(types, ontology or Ontology.load()) if types else set()
    counting = _BESIDE.submit(_reach_count, graph, uri, direction) if graph.has_rules else None
    seen: dict[str, int] = {uri: 0}
    frontier = [uri]
    edges: list[tuple[str, str, int]] = []
    truncated = False
    for level in range(1, max(depth, 0) + 1):
        following: list[str] = []
        for current in frontier:
            for other in sorted(_neighbours(graph, current, direction)):
                edge = (current, other) if direction == "upstream" else (other, current)
                edges.append((*edge, level))
                if other not in seen:
                    if len(seen) > limit:
                        truncated = True
                        continue
                    seen[other] = level
                    following.append(other)
        frontier = following
        if not frontier:
            break
    nodes = []
    for node_uri, level in sorted(seen.items(), key=lambda item: (item[1], item[0])):
        if node_uri == uri:
            continue
        classes: set[str] | None = set() if wanted else None
        summary = _summary(graph, node_uri, classes)
        if classes is not None and not wanted & classes:
            continue
        nodes.append({**summary, "depth": level})
    kept = {n["uri"] for n in nodes} | {uri}
    reached = counting.result() if counting is not None else None
    return {
        "root": _summary(graph, uri),
        "direction": direction,
        "depth": depth,
        "nodes": nodes,
        "edges": [
            {"from": a, "to": b, "depth": level} for a, b, level in edges if a in kept and b in kept
        ],
        "reach": reached,
        "truncated": truncated,
    }


def reach(graph: Graph, uri: str, direction: Direction = "upstream") -> list[str]:
    """Every entity the derived one-step ``lg:upstream`` (or ``lg:downstream``) edges
    reach from ``uri`` in one or more steps, sorted: the SPARQL property path
    ``<uri> lg:upstream+ ?x``, which a SPARQL user asks the same way
    (``docs/sparql.md``). ``uri`` itself is in it only when it lies on a cycle. Empty
    when the graph runs no rules (nothing derives the edges).

    Raises:
        ValueError: ``direction`` is neither ``upstream`` nor ``downstream``.
    """
    _check(direction)
    query = f"SELECT DISTINCT ?x WHERE {{ <{NamedNode(uri).value}> lg:{direction}+ ?x }}"
    return sorted(row["x"].value for row in graph.sparql(query) if isinstance(row["x"], NamedNode))


def _check(direction: str) -> None:
    if direction not in ("upstream", "downstream"):
        raise ValueError(f"direction must be upstream or downstream, not {direction!r}")


def _reach_count(graph: Graph, uri: str, direction: Direction) -> int:
    """``len(reach(graph, uri, direction))``, counted by the store: no IRI of the
    reach is decoded, sent or sorted (lineage answers the count only)."""
    query = (
        f"SELECT (COUNT(DISTINCT ?x) AS ?n) "
        f"WHERE {{ <{NamedNode(uri).value}> lg:{direction}+ ?x FILTER(isIRI(?x)) }}"
    )
    return next(int(row["n"].value) for row in graph.sparql(query))


def impact(graph: Graph, uri: str, *, limit: int = 10_000) -> dict[str, Any]:
    """What a change to ``uri`` would touch: every entity downstream of it, with their
    owners, owning teams and the A/B tests running them, and those gathered.

    With the rule engine on, the derived one-step ``lg:downstream`` edges followed any
    number of steps give the entities (:func:`reach`); without it, a walk of
    ``lg:dependsOn`` backwards does.
    """
    if graph.has_rules:
        affected = reach(graph, uri, "downstream")
    else:
        affected = [
            n["uri"] for n in lineage(graph, uri, direction="downstream", depth=1_000)["nodes"]
        ]
    truncated = len(affected) > limit
    entities = []
    owners: set[str] = set()
    teams: set[str] = set()
    tests: set[str] = set()
    for other in affected[:limit]:
        other_node = NamedNode(other)
        entry = _summary(graph, other)
        entry["owners"] = _values(graph, other_node, LG.owner)
        entry["teams"] = _values(graph, other_node, LG.owningTeam)
        entry["abTests"] = _values(graph, other_node, LG.associatedAbTest)
        owners.update(entry["owners"])
        teams.update(entry["teams"])
        tests.update(entry["abTests"])
        entities.append(entry)
    return {
        "root": _summary(graph, uri),
        "entities": entities,
        "owners": [_summary(graph, u) for u in sorted(owners)],
        "teams": [_summary(graph, u) for u in sorted(teams)],
        "abTests": [_summary(graph, u) for u in sorted(tests)],
        "truncated": truncated,
    }
