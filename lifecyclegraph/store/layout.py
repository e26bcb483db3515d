"""How the store lays its facts out in Oxigraph (``docs/dataset-layout.md``): the
layout version, the bookkeeping predicates, which graphs hold facts, and the SPARQL
update text that writes quads in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, Quad, Triple

from lifecyclegraph.core.errors import StoreError
from lifecyclegraph.core.vocab import INFERRED_GRAPH, LG, RDF_TYPE, SNAPSHOT_PREFIX

__all__ = [
    "BOOKKEEPING",
    "BOOKKEEPING_IRIS",
    "DEFAULT_GRAPH",
    "LAYOUT_VERSION",
    "inferred_quad",
    "is_fact_graph",
    "is_snapshot_graph",
    "sparql_terms",
    "sparql_update",
    "triple_of",
]

LAYOUT_VERSION = 1
DEFAULT_GRAPH = DefaultGraph()
#: The bookkeeping predicates of an entity (in the default graph of the current dataset).
BOOKKEEPING = (
    LG.hydrationState,
    LG.currentSnapshot,
    LG.lastSeenAt,
    LG.lastHydratedAt,
    LG.partOf,
    LG.lastEnrichedAt,
)
BOOKKEEPING_IRIS = frozenset(p.value for p in BOOKKEEPING)
RDF_TYPE_IRI = str(RDF_TYPE)
SNAPSHOT_OF_IRI = str(LG.snapshotOf)
OBSERVED_AT_IRI = str(LG.observedAt)
SOURCE_IRI = str(LG.source)
EVENT_IRI = str(LG.event)
SUPERSEDES_IRI = str(LG.supersedes)


def is_snapshot_graph(graph: Any) -> bool:
    """Whether a quad's graph is a snapshot (asserted facts of one entity at one time)."""
    return isinstance(graph, NamedNode) and graph.value.startswith(SNAPSHOT_PREFIX)


def is_fact_graph(graph: Any) -> bool:
    """Whether a quad's graph holds facts (a snapshot or the inferred graph), not bookkeeping."""
    return graph == INFERRED_GRAPH or (
        isinstance(graph, NamedNode) and graph.value.startswith(SNAPSHOT_PREFIX)
    )


def inferred_quad(fact: Triple | Quad) -> Quad:
    """A derived fact as a quad of the inferred graph.

    Raises:
        StoreError: if the fact is a quad of another graph.
    """
    if isinstance(fact, Quad):
        if fact.graph_name != INFERRED_GRAPH:
            raise StoreError(f"a derived fact must be in the inferred graph, not {fact.graph_name}")
        return fact
    return Quad(fact.subject, fact.predicate, fact.object, INFERRED_GRAPH)


def triple_of(quad: Quad) -> Triple:
    """A quad's triple (its graph dropped)."""
    return Triple(quad.subject, quad.predicate, quad.object)


def sparql_update(
    deletes: Sequence[Quad],
    inserts: Sequence[tuple[str, str, str, str]],
    *,
    default_graph: str = "",
) -> str:
    """One SPARQL update (one transaction) that deletes then inserts these quads.

    ``default_graph`` (SPARQL syntax, ``<iri>``) names the graph that takes the quads of
    the default graph (``""``: the default graph itself); a remote store keeps its
    bookkeeping so (``lifecyclegraph.store.remote``).
    """
    text = []
    if deletes:
        terms = map(sparql_terms, deletes)
        text.append("DELETE DATA {\n" + _quads_block(terms, default_graph) + "\n}")
    if inserts:
        text.append("INSERT DATA {\n" + _quads_block(inserts, default_graph) + "\n}")
    return " ;\n".join(text)


def sparql_terms(quad: Quad) -> tuple[str, str, str, str]:
    """A quad's terms in SPARQL syntax; the default graph is ``""``."""
    graph = "" if quad.graph_name == DEFAULT_GRAPH else str(quad.graph_name)
    return str(quad.subject), str(quad.predicate), str(quad.object), graph


def _quads_block(quads: Iterable[tuple[str, str, str, str]], default_graph: str = "") -> str:
    by_graph: dict[str, list[str]] = {}
    for s, p, o, g in quads:
        by_graph.setdefault(g or default_graph, []).append(f"{s} {p} {o} .")
    lines = by_graph.pop("", [])
    for graph, triples in by_graph.items():
        lines.append(f"GRAPH {graph} {{ " + " ".join(triples) + " }")
    return "\n".join(lines)
