"""What each portal page shows, as plain data built from the door alone.

Every function takes the graph (:class:`~lifecyclegraph.graph.door.Graph`) and plain
values and returns a dictionary that a template renders (or ``None`` when the graph
does not know the entity); nothing here writes HTML or touches a store. The page of an
entity is generic: its type, domain and the names of its relationships come from the
ontology, so a type added there gets a page with no code change.

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory(rules=True)
>>> feature, dataset = "aip://feature/featurestore/f", "aip://dataset/datasets/d"
>>> _ = graph.write(Facts.of(dataset, {"rdf:type": Ref("lg:Dataset"), "lg:name": "d",
...                                    "lg:sourceId": "d"}), source="datasets")
>>> _ = graph.write(Facts.of(feature, {"rdf:type": Ref("lg:Feature"), "lg:name": "f",
...                                    "lg:sourceId": "f", "lg:valueType": "float",
...                                    "lg:sourceDataset": Ref(dataset)}),
...                 source="featurestore")
>>> page = entity_page(graph, feature)
>>> page["name"], [t["label"] for t in page["types"]]
('f', ['feature'])
>>> [(g["predicate"], g["direction"], [r["name"] for r in g["items"]])
...  for g in page["groups"] if g["predicate"] == "lg:sourceDataset"]
[('lg:sourceDataset', 'out', ['d'])]
>>> any(r["inferred"] for g in page["groups"] for r in g["items"])
True
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

import rdflib
from pyoxigraph import Literal, NamedNode
from rdflib.namespace import OWL, RDFS

from lifecyclegraph.core.facts import from_literal
from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.core.vocab import LG, RDF_TYPE, compact, expand
from lifecyclegraph.graph.door import Direction, Graph, PastGraph
from lifecyclegraph.graph.lineage import lineage
from lifecyclegraph.portal.sections import sections
from lifecyclegraph.read.views import entity_view, explanation_view, json_value

__all__ = [
    "PALETTE",
    "ago",
    "entity_page",
    "explanation_page",
    "lineage_page",
    "search_page",
    "type_colour",
]

#: The colours of entity types (a type always gets the same one), readable on white.
PALETTE = (
    "#1f6fb2",
    "#b3541e",
    "#2e7d32",
    "#8e24aa",
    "#c62828",
    "#00796b",
    "#5d4037",
    "#ad1457",
    "#3949ab",
    "#6d6d00",
    "#455a64",
    "#bf360c",
)
#: The most related entities listed per relationship group (the rest are counted).
GROUP_LIMIT = 25
#: The most snapshots the history timeline lists (the newest).
HISTORY_LIMIT = 30
#: Properties shown in the page's header rather than in its property table.
HEADER_PROPERTIES = ("lg:name", "lg:description", "lg:tag")


def type_colour(type_name: str) -> str:
    """The colour of an entity type, the same on every page and in the lineage view.

    >>> type_colour("lg:Dataset") == type_colour("lg:Dataset")
    True
    >>> type_colour("lg:Dataset") in PALETTE
    True
    """
    return PALETTE[zlib.crc32(type_name.encode()) % len(PALETTE)]


def ago(when: str | datetime | None, now: datetime | None = None) -> str:
    """How long ago ``when`` was, in words ("2 min ago"); ``""`` for ``None``.

    >>> from datetime import timedelta
    >>> now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    >>> ago(now - timedelta(seconds=130), now), ago("2025-12-30T12:00:00Z", now)
    ('2 min ago', '2 days ago')
    """
    if when is None:
        return ""
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < 0:
        return "in the future"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "min")):
        if seconds >= size:
            count = seconds // size
            plural = "s" if count > 1 and unit != "min" else ""
            return f"{count} {unit}{plural} ago"
    return "just now"


def _ontology() -> Ontology:
    return Ontology.load()


#: (label, comment) of ontology terms, per ontology (rdflib lookups are slow).
_TERMS: dict[tuple[int, str], tuple[Ontology, str | None, str | None]] = {}


def _term(ontology: Ontology, term: str) -> tuple[str | None, str | None]:
    """The ``rdfs:label`` and ``rdfs:comment`` of an ontology term, cached."""
    found = _TERMS.get((id(ontology), term))
    if found is None or found[0] is not ontology:
        value = ontology.graph.value(rdflib.URIRef(term), RDFS.comment)
        comment = str(value) if value is not None else None
        found = _TERMS[(id(ontology), term)] = (ontology, ontology.label(term), comment)
    return found[1], found[2]


_INVERSES: dict[int, tuple[Ontology, dict[str, str]]] = {}


def _inverse(ontology: Ontology, predicate: str) -> str | None:
    """The property the ontology declares ``owl:inverseOf`` ``predicate`` (either way)."""
    found = _INVERSES.get(id(ontology))
    if found is None or found[0] is not ontology:
        pairs: dict[str, str] = {}
        for a, b in ontology.graph.subject_objects(OWL.inverseOf):
            pairs[str(a)] = str(b)
            pairs[str(b)] = str(a)
        found = _INVERSES[id(ontology)] = (ontology, pairs)
    return found[1].get(predicate)


def _comment(ontology: Ontology, term: str) -> str | None:
    return _term(ontology, term)[1]


def _label(ontology: Ontology, term: str) -> str:
    return _term(ontology, term)[0] or _local(term)


def _local(term: str) -> str:
    return compact(term).split(":", 1)[-1]


def _type_info(ontology: Ontology, name: str) -> dict[str, Any]:
    iri = expand(name)
    domain = ontology.domain(iri)
    return {
        "name": compact(iri),
        "label": _label(ontology, iri),
        "comment": _comment(ontology, iri),
        "domain": _label(ontology, domain) if domain else None,
        "colour": type_colour(compact(iri)),
    }


def _summary(graph: Graph | PastGraph, uri: str) -> dict[str, Any]:
    """A related entity's name and first type, for a link to it."""
    node = NamedNode(uri)
    names = [q.object for q in graph.quads(node, LG.name) if isinstance(q.object, Literal)]
    types = sorted(
        compact(q.object.value)
        for q in graph.quads(node, RDF_TYPE)
        if isinstance(q.object, NamedNode) and q.object.value in LG
    )
    kind = next((t for t in types if t not in ("lg:Asset", "lg:UnusedAsset")), None)
    return {
        "uri": uri,
        "name": str(from_literal(names[0])) if names else uri,
        "type": kind,
        "colour": type_colour(kind) if kind else PALETTE[-2],
    }


def _groups(
    graph: Graph | PastGraph, view: dict[str, Any], ontology: Ontology
) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    outgoing = {expand(r["predicate"]) for r in view["relationships"] if r["direction"] == "out"}
    for rel in view["relationships"]:
        key = (rel["predicate"], rel["direction"])
        group = groups.get(key)
        if group is None:
            iri = expand(rel["predicate"])
            label = _label(ontology, iri)
            if rel["direction"] == "in":
                inverse = _inverse(ontology, iri)
                if inverse in outgoing:
                    continue  # the same links, listed under the inverse's outgoing group
                label = _label(ontology, inverse) if inverse else f"{label} (from)"
            group = groups[key] = {
                "predicate": rel["predicate"],
                "direction": rel["direction"],
                "label": label,
                "comment": _comment(ontology, iri),
                "items": [],
                "count": 0,
                "inferred": 0,
            }
        group["count"] += 1
        group["inferred"] += rel["inferred"]
        if len(group["items"]) >= GROUP_LIMIT:
            continue
        other = rel["object"] if rel["direction"] == "out" else rel["subject"]
        if other not in summaries:
            summaries[other] = _summary(graph, other)
        item = {**summaries[other], "inferred": rel["inferred"]}
        item["fact"] = {"s": rel["subject"], "p": rel["predicate"], "o": rel["object"]}
        item["assertedBy"] = rel.get("assertedBy")
        group["items"].append(item)
    # the asserted relations first, then the derived ones; by label within each
    return sorted(
        groups.values(),
        key=lambda g: (g["inferred"] == g["count"], g["direction"], g["label"].lower()),
    )


def _value_text(value: Any) -> str:
    if isinstance(value, dict) and "@id" in value:
        return str(value["@id"])
    return str(json_value(value))


def _history(graph: Graph, uri: str, current: str | None) -> list[dict[str, Any]]:
    """The newest :data:`HISTORY_LIMIT` snapshots, newest first, each with what changed
    from the one before it."""
    infos = graph.history(uri)
    shown = infos[-HISTORY_LIMIT - 1 :]
    entries: list[dict[str, Any]] = []
    before: frozenset[Any] = frozenset()
    for n, info in enumerate(shown):
        facts = graph.snapshot_facts(info.iri)
        added = sorted((compact(p.value), _term_text(o)) for p, o in facts - before)
        removed = sorted((compact(p.value), _term_text(o)) for p, o in before - facts)
        before = facts
        if n == 0 and len(shown) > HISTORY_LIMIT:
            continue  # only the base of the next one's changes
        entries.append(
            {
                "snapshot": info.iri,
                "observedAt": json_value(info.observed_at),
                "source": info.source,
                "event": info.event_id,
                "kind": info.kind.name.lower(),
                "added": added,
                "removed": removed,
                "current": info.iri == current,
            }
        )
    entries.reverse()
    return entries


def _term_text(term: Any) -> str:
    if isinstance(term, Literal):
        return str(json_value(from_literal(term)))
    return str(getattr(term, "value", term))


def entity_page(
    graph: Graph, uri: str, *, as_of: datetime | None = None, now: datetime | None = None
) -> dict[str, Any] | None:
    """Everything an entity's page shows; ``None`` if the graph does not know it (then).

    Args:
        graph: the current graph.
        uri: the entity.
        as_of: show the entity as it was at this time (time zone aware): asserted facts
            only, as :meth:`Graph.as_of` keeps them.
        now: the time "2 min ago" counts from (default: now).

    Returns:
        ``uri``, ``name``, ``types`` (label, domain, colour, the class's comment),
        ``description``, ``tags``, ``owners`` and ``teams`` (linked summaries),
        ``freshness`` (times and "ago"), ``properties`` (the rest), ``sections`` (the
        type-specific sections of :data:`~lifecyclegraph.portal.sections.SECTIONS`:
        a model's deployments and A/B tests, a pipeline's runs by outcome, ...),
        ``groups`` (the relationships by relation and direction, inferred ones marked,
        each with the fact whose "why" explains it), ``history`` (newest first, with
        what changed), ``asOf``.
    """
    ontology = _ontology()
    source: Graph | PastGraph = graph.as_of(as_of) if as_of is not None else graph
    view = entity_view(source, uri, limit=1000)
    if view is None:
        return None
    props = view["properties"]
    groups = _groups(source, view, ontology)
    by_predicate = {(g["predicate"], g["direction"]): g for g in groups}
    owners = by_predicate.get(("lg:owner", "out"), {}).get("items", [])
    teams = [
        *by_predicate.get(("lg:owningTeam", "out"), {}).get("items", []),
        *by_predicate.get(("lg:memberOf", "out"), {}).get("items", []),
    ]
    freshness = dict(view["freshness"])
    for key in ("lastHydratedAt", "lastEnrichedAt", "lastSeenAt"):
        freshness[key + "Ago"] = ago(freshness.get(key), now)
    snapshot = freshness.get("snapshot") or {}
    types = [_type_info(ontology, t) for t in view["types"] if t not in ("lg:UnusedAsset",)]
    return {
        "uri": uri,
        "name": view["name"] or uri,
        "types": types,
        "inferredTypes": [_type_info(ontology, t) for t in view["inferredTypes"]],
        "description": [str(v) for v in props.get("lg:description", [])],
        "tags": [str(v) for v in props.get("lg:tag", [])],
        "owners": owners,
        "teams": teams,
        "freshness": freshness,
        "properties": [
            {
                "name": name,
                "label": _label(ontology, expand(name)),
                "values": [_value_text(v) for v in values],
            }
            for name, values in props.items()
            if name not in HEADER_PROPERTIES
        ],
        "sections": sections(
            source,
            uri,
            view["types"],
            summary=_summary,
            label=lambda iri: _label(ontology, iri),
        ),
        "groups": groups,
        "counts": view["counts"],
        "truncated": view["truncated"],
        "history": _history(graph, uri, snapshot.get("snapshot")),
        "asOf": view["asOf"],
    }


def explanation_page(graph: Graph, subject: str, predicate: str, obj: str) -> dict[str, Any] | None:
    """Why a fact holds: the derivation tree down to the asserted facts (source, time,
    event), with the names of the entities it mentions; ``None`` if it does not hold.

    >>> from lifecyclegraph import Facts, LifecycleGraph, Ref
    >>> graph = LifecycleGraph.in_memory(rules=True)
    >>> f, d = "aip://feature/featurestore/f", "aip://dataset/datasets/d"
    >>> _ = graph.write(Facts.of(d, {"rdf:type": Ref("lg:Dataset"), "lg:name": "d",
    ...                              "lg:sourceId": "d"}), source="datasets")
    >>> _ = graph.write(Facts.of(f, {"rdf:type": Ref("lg:Feature"), "lg:name": "f",
    ...                              "lg:sourceId": "f", "lg:valueType": "float",
    ...                              "lg:sourceDataset": Ref(d)}),
    ...                 source="featurestore")
    >>> page = explanation_page(graph, f, "lg:upstream", d)
    >>> page["tree"]["asserted"], page["tree"]["rule"]["location"].startswith("rules/")
    (False, True)
    """
    tree = explanation_view(graph, subject, predicate, obj)
    if tree is None:
        return None
    names: dict[str, dict[str, Any]] = {}

    def visit(node: dict[str, Any]) -> None:
        for term in node["terms"]:
            if isinstance(term, dict) and str(term.get("@id", "")).startswith("aip://"):
                names.setdefault(term["@id"], _summary(graph, term["@id"]))
        for premise in node.get("premises", ()):
            visit(premise)

    visit(tree)
    return {
        "subject": _summary(graph, subject),
        "predicate": compact(expand(predicate)),
        "object": _summary(graph, obj) if obj.startswith("aip://") else {"name": obj},
        "tree": tree,
        "names": names,
    }


def lineage_page(graph: Graph, uri: str, *, depth: int = 2) -> dict[str, Any] | None:
    """The entities upstream and downstream of ``uri`` up to ``depth`` hops, with the
    direct dependency edges between them; ``None`` if the graph does not know it.

    Each node has its ``uri``, ``name``, ``type``, ``colour``, ``depth`` and
    ``direction`` (``root``, ``upstream`` or ``downstream``); each edge goes from the
    dependent entity to what it depends on.
    """
    if graph.entity(uri) is None:
        return None
    nodes: dict[str, dict[str, Any]] = {uri: {**_summary(graph, uri), "depth": 0}}
    nodes[uri]["direction"] = "root"
    edges: set[tuple[str, str]] = set()
    directions: tuple[Direction, Direction] = ("upstream", "downstream")
    for direction in directions:
        found = lineage(graph, uri, direction=direction, depth=depth)
        for node in found["nodes"]:
            if node["uri"] not in nodes:
                nodes[node["uri"]] = {
                    **_summary(graph, node["uri"]),
                    "depth": node["depth"],
                    "direction": direction,
                }
        edges.update((e["from"], e["to"]) for e in found["edges"])
    ordered = sorted(
        nodes.values(), key=lambda n: (n["direction"] != "root", n["direction"], n["depth"])
    )
    return {
        "root": nodes[uri],
        "depth": depth,
        "nodes": ordered,
        "edges": [{"from": a, "to": b} for a, b in sorted(edges)],
    }


def search_page(
    graph: Graph,
    text: str = "",
    *,
    types: list[str] | None = None,
    owners: list[str] | None = None,
    tags: list[str] | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    """A page of search results with their facets and the filters in use.

    Raises:
        SearchQueryError: a filter names an unknown type, or the page is out of range.
    """
    results = graph.search(
        text,
        type=types or None,
        owner=owners or None,
        tag=tags or None,
        page=page,
        page_size=page_size,
    )
    filters = {"type": types or [], "owner": owners or [], "tag": tags or []}
    return {
        "q": text,
        "filters": filters,
        "total": results.total,
        "page": results.page,
        "pages": max(1, -(-results.total // page_size)),
        "fuzzy": results.fuzzy,
        "hits": [
            {
                "uri": h.uri,
                "name": h.name,
                "type": h.type,
                "colour": type_colour(h.type),
                "highlights": h.highlights,
                "snippet": h.snippet,
            }
            for h in results.hits
        ],
        "facets": {
            facet: [
                {
                    "value": value,
                    "count": count,
                    "chosen": value in filters[facet],
                    # the filters with this value toggled: the facet's link
                    "toggled": {
                        **filters,
                        facet: [v for v in filters[facet] if v != value]
                        if value in filters[facet]
                        else [*filters[facet], value],
                    },
                }
                for value, count in results.facets.get(facet, {}).items()
            ]
            for facet in ("type", "owner", "tag")
        },
    }
