"""Read views of one entity: its properties and its relationships, marked asserted or inferred."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from lifecyclegraph.core.facts import from_literal, term_value
from lifecyclegraph.core.vocab import INFERRED_GRAPH, RDF_TYPE, SNAPSHOT_PREFIX, compact, expand
from lifecyclegraph.store import EntityState, SnapshotInfo

__all__ = ["Entity", "Relationship"]


@dataclass(frozen=True, slots=True)
class Relationship:
    """An edge between two entities.

    ``inferred`` edges were derived by rules; asserted ones name the ``snapshot``
    (hence the source and time) that holds them.
    """

    subject: str
    predicate: str
    object: str
    inferred: bool
    snapshot: str | None = None

    @property
    def name(self) -> str:
        """The predicate as ``prefix:local``."""
        return compact(self.predicate)


@dataclass(frozen=True)
class Entity:
    """An entity as the graph knows it: types, literal properties and relationships.

    ``properties`` maps ``prefix:local`` predicate names to Python values (sorted).
    """

    uri: str
    types: tuple[str, ...]
    properties: dict[str, list[Any]]
    outgoing: tuple[Relationship, ...]
    incoming: tuple[Relationship, ...]
    state: EntityState | None = None
    snapshot: SnapshotInfo | None = None
    inferred_types: tuple[str, ...] = field(default=())

    def get(self, name: str, default: Any = None) -> Any:
        """The first value of a property (``lg:name`` or ``name`` for ``lg:name``)."""
        key = name if ":" in name else f"lg:{name}"
        values = self.properties.get(compact(expand(key)))
        return values[0] if values else default

    @property
    def name(self) -> str | None:
        return self.get("lg:name")

    def related(self, predicate: str, *, incoming: bool = False) -> list[str]:
        """URIs linked by ``predicate`` (``prefix:local`` or full IRI)."""
        iri = expand(predicate)
        edges = self.incoming if incoming else self.outgoing
        return sorted({e.subject if incoming else e.object for e in edges if e.predicate == iri})


def build_entity(
    uri: str,
    outgoing: Iterable[Quad],
    incoming: Iterable[Quad],
    state: EntityState | None = None,
    snapshot: SnapshotInfo | None = None,
) -> Entity:
    """Assemble an :class:`Entity` from the quads around it (asserted or inferred)."""
    types: set[str] = set()
    inferred_types: set[str] = set()
    properties: dict[str, list[Any]] = {}
    out: set[Relationship] = set()
    for quad in outgoing:
        inferred = quad.graph_name == INFERRED_GRAPH
        if quad.predicate == RDF_TYPE:
            (inferred_types if inferred else types).add(term_value(quad.object))
        elif isinstance(quad.object, Literal):
            if not inferred:
                properties.setdefault(compact(quad.predicate.value), []).append(
                    from_literal(quad.object)
                )
        elif isinstance(quad.object, NamedNode):
            out.add(_edge(quad, inferred))
    inc = {_edge(q, q.graph_name == INFERRED_GRAPH) for q in incoming if q.predicate != RDF_TYPE}
    for values in properties.values():
        values.sort(key=lambda v: (type(v).__name__, str(v)))
    return Entity(
        uri=uri,
        types=tuple(sorted(types)),
        properties=dict(sorted(properties.items())),
        outgoing=tuple(sorted(out, key=_order)),
        incoming=tuple(sorted(inc, key=_order)),
        state=state,
        snapshot=snapshot,
        inferred_types=tuple(sorted(inferred_types - types)),
    )


def is_fact_graph(graph: Any) -> bool:
    """Whether a quad's graph holds facts (a snapshot or the inferred graph), not bookkeeping."""
    return graph == INFERRED_GRAPH or (
        isinstance(graph, NamedNode) and graph.value.startswith(SNAPSHOT_PREFIX)
    )


def _edge(quad: Quad, inferred: bool) -> Relationship:
    return Relationship(
        subject=term_value(quad.subject),
        predicate=quad.predicate.value,
        object=term_value(quad.object),
        inferred=inferred,
        snapshot=None if inferred else term_value(quad.graph_name),
    )


def _order(rel: Relationship) -> tuple[str, str, str, bool]:
    return (rel.predicate, rel.subject, rel.object, rel.inferred)
