"""JSON views of the graph for readers: an entity, its history, why a fact holds.

The REST API returns these views as they are; a Python caller gets the same
dictionaries. Every view takes the graph (:class:`~lifecyclegraph.graph.door.Graph`,
or :class:`~lifecyclegraph.graph.door.PastGraph` for a past time) and plain values.

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory(rules=True)
>>> feature, dataset = "aip://feature/featurestore/f", "aip://dataset/datasets/d"
>>> _ = graph.write(Facts.of(feature, {"rdf:type": Ref("lg:Feature"), "lg:name": "f",
...                                    "lg:sourceDataset": Ref(dataset)}), source="featurestore",
...                   validate=False)  # a partial feature: the checks would refuse it
>>> view = entity_view(graph, feature)
>>> view["properties"]["lg:name"], view["freshness"]["state"]
(['f'], 'hydrated')
>>> sorted((r["predicate"], r["inferred"]) for r in view["relationships"]
...        if r["object"] == dataset and r["predicate"].startswith("lg:"))
[('lg:dependsOn', True), ('lg:sourceDataset', False), ('lg:upstream', True)]
>>> tree = explanation_view(graph, feature, "lg:upstream", dataset)
>>> tree["rule"]["location"].startswith("rules/lineage.rules")
True
>>> [leaf["sources"][0]["source"] for leaf in leaves(tree)]
['featurestore']
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from lifecyclegraph.core.facts import from_literal
from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import PREFIXES, compact, expand
from lifecyclegraph.graph.door import Graph, PastGraph
from lifecyclegraph.graph.entity import Entity, Relationship
from lifecyclegraph.store import EntityState, HydrationState, SnapshotInfo

__all__ = [
    "ExplainLink",
    "check_uri",
    "deletion_view",
    "entity_jsonld",
    "entity_view",
    "explanation_view",
    "history_view",
    "json_value",
    "leaves",
    "snapshot_view",
]

#: Builds the link to a fact's explanation from ``(subject, predicate, object)``.
ExplainLink = Callable[[str, str, str], str]


def check_uri(uri: str) -> str:
    """Return ``uri`` if it is a well-formed AIP URI.

    Raises:
        InvalidUriError: saying what is wrong with it.

    >>> check_uri("aip://model/registry/m")
    'aip://model/registry/m'
    >>> check_uri("aip://model/registry")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lifecyclegraph.core.errors.InvalidUriError: an AIP URI has three parts, ...
    """
    AipUri.parse(uri)
    return uri


def json_value(value: Any) -> Any:
    """A Python value of a literal as JSON: times as ISO 8601 text (``Z`` for UTC).

    >>> json_value(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    '2026-01-01T00:00:00Z'
    """
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _time(value: dt.datetime | None) -> str | None:
    return json_value(value) if value is not None else None


def snapshot_view(info: SnapshotInfo) -> dict[str, Any]:
    """One snapshot: its IRI, when, from which source and event, and what it records."""
    return {
        "snapshot": info.iri,
        "observedAt": _time(info.observed_at),
        "source": info.source,
        "event": info.event_id,
        "kind": info.kind.name.lower(),
        "supersedes": info.supersedes,
    }


def deletion_view(graph: Graph | PastGraph, uri: str) -> dict[str, Any] | None:
    """When and by which source an entity was deleted; ``None`` if it is not deleted.

    With a :class:`~lifecyclegraph.graph.door.PastGraph`, as the graph was then: an
    entity deleted later, or never known, is ``None``. The answer is the tombstone's
    :func:`snapshot_view`, so ``observedAt`` is the deletion time.

    >>> from datetime import datetime, timezone
    >>> from lifecyclegraph import Facts, LifecycleGraph, Ref
    >>> graph = LifecycleGraph.in_memory()
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> _ = graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"),
    ...                 "lg:name": "M", "lg:sourceId": "m"}), source="registry", observed_at=t0)
    >>> deletion_view(graph, "aip://model/registry/m") is None
    True
    >>> _ = graph.delete("aip://model/registry/m", source="registry",
    ...                  observed_at=t0.replace(hour=5))
    >>> deletion_view(graph, "aip://model/registry/m")["observedAt"]
    '2026-01-01T05:00:00Z'
    >>> deletion_view(graph.as_of(t0), "aip://model/registry/m") is None
    True
    """
    if isinstance(graph, PastGraph):
        info = graph.snapshot_of(uri)
    else:
        state = graph.state(uri)
        info = graph.snapshot(state.current_snapshot) if state is not None else None
    if info is None or info.kind is not HydrationState.DELETED:
        return None
    return snapshot_view(info)


def _freshness(state: EntityState | None, snapshot: SnapshotInfo | None) -> dict[str, Any]:
    kind = state.state if state else snapshot.kind if snapshot else None
    return {
        "state": kind.name.lower() if kind is not None else None,
        "lastHydratedAt": _time(state.last_hydrated_at) if state else None,
        "lastEnrichedAt": _time(state.last_enriched_at) if state else None,
        "lastSeenAt": _time(state.last_seen_at) if state else None,
        "snapshot": snapshot_view(snapshot) if snapshot else None,
    }


def _relationship(
    rel: Relationship,
    direction: str,
    snapshots: Callable[[str], SnapshotInfo | None],
    link: ExplainLink | None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "predicate": rel.name,
        "direction": direction,
        "subject": rel.subject,
        "object": rel.object,
        "inferred": rel.inferred,
    }
    if rel.inferred:
        if link is not None:
            view["explanation"] = link(rel.subject, rel.name, rel.object)
    elif rel.snapshot:
        info = snapshots(rel.snapshot)
        view["assertedBy"] = snapshot_view(info) if info else {"snapshot": rel.snapshot}
    return view


def entity_view(
    graph: Graph | PastGraph,
    uri: str,
    *,
    explain_link: ExplainLink | None = None,
    limit: int = 1000,
) -> dict[str, Any] | None:
    """An entity as JSON: types, properties, relationships (asserted and inferred, each
    marked) and freshness; ``None`` if the graph does not know it (at that time).

    Args:
        graph: the current graph, or the graph as of a past time.
        uri: the entity's URI.
        explain_link: builds the link to an inferred relationship's explanation.
        limit: the most relationships listed in each direction (``truncated`` says so).
    """
    entity = graph.entity(uri)
    if entity is None:
        return None
    cache: dict[str, SnapshotInfo | None] = {}

    def snapshots(iri: str) -> SnapshotInfo | None:
        if iri not in cache:
            try:
                cache[iri] = graph.snapshot(iri)
            except KeyError:
                cache[iri] = None
        return cache[iri]

    outgoing = [_relationship(r, "out", snapshots, explain_link) for r in entity.outgoing[:limit]]
    incoming = [_relationship(r, "in", snapshots, explain_link) for r in entity.incoming[:limit]]
    return {
        "uri": entity.uri,
        "types": [compact(t) for t in entity.types],
        "inferredTypes": [compact(t) for t in entity.inferred_types],
        "name": json_value(entity.name),
        "properties": {k: [json_value(v) for v in vs] for k, vs in entity.properties.items()},
        "relationships": outgoing + incoming,
        "counts": {"outgoing": len(entity.outgoing), "incoming": len(entity.incoming)},
        "truncated": len(entity.outgoing) > limit or len(entity.incoming) > limit,
        "freshness": _freshness(entity.state, entity.snapshot),
        "asOf": _time(graph.when) if isinstance(graph, PastGraph) else None,
    }


def entity_jsonld(graph: Graph | PastGraph, uri: str) -> dict[str, Any] | None:
    """An entity as a JSON-LD node (asserted and inferred statements), or ``None``."""
    entity: Entity | None = graph.entity(uri)
    if entity is None:
        return None
    node: dict[str, Any] = {
        "@context": dict(sorted(PREFIXES.items())),
        "@id": uri,
        "@type": [compact(t) for t in (*entity.types, *entity.inferred_types)],
    }
    for name, values in entity.properties.items():
        node[name] = [_jsonld_literal(v) for v in values]
    for rel in entity.outgoing:
        node.setdefault(rel.name, []).append({"@id": rel.object})
    return node


def _jsonld_literal(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"@value": json_value(value), "@type": "xsd:dateTime"}
    if isinstance(value, dt.date):
        return {"@value": value.isoformat(), "@type": "xsd:date"}
    return json_value(value)


def history_view(graph: Graph, uri: str, as_of: dt.datetime | None = None) -> dict[str, Any] | None:
    """Every snapshot of an entity, oldest first, with the facts each one holds;
    ``None`` if the entity is unknown. With ``as_of`` (time zone aware), the history as
    it was then: the snapshots observed by that time, the last being the one
    ``graph.as_of(as_of)`` reads (``None`` if there was none yet)."""
    infos = graph.history(uri)
    if as_of is not None:
        infos = [info for info in infos if info.observed_at <= as_of]
    if not infos:
        return None
    snapshots = []
    for info in infos:
        view = snapshot_view(info)
        facts: dict[str, list[Any]] = {}
        for predicate, obj in sorted(graph.snapshot_facts(info.iri), key=str):
            facts.setdefault(compact(predicate.value), []).append(_term(obj))
        view["facts"] = facts
        snapshots.append(view)
    return {"uri": uri, "snapshots": snapshots}


def _term(term: Any) -> Any:
    if isinstance(term, Literal):
        return json_value(from_literal(term))
    if isinstance(term, NamedNode):
        return {"@id": term.value}
    if isinstance(term, BlankNode):
        return {"@id": f"_:{term.value}"}
    return str(term)


def explanation_view(graph: Graph, subject: str, predicate: str, obj: str) -> dict[str, Any] | None:
    """Why a fact holds, as a JSON tree; ``None`` if it does not hold (or the graph runs
    no rules).

    Each node has the ``statement``, whether it is ``asserted``, the ``rule`` that
    derived it (location and the steward's comment) and its ``premises``; asserted
    leaves list the snapshots that assert them (snapshot, source, time, event).
    """
    if not graph.has_rules:
        return None
    term: Any = NamedNode(obj) if _looks_like_iri(obj) else obj
    tree = graph.explain(subject, expand(predicate), term)
    return _explanation(tree) if tree is not None else None


def _looks_like_iri(text: str) -> bool:
    scheme, sep, rest = text.partition(":")
    return bool(sep) and scheme.isalpha() and (rest.startswith("//") or scheme in ("urn",))


def _explanation(node: Any) -> dict[str, Any]:
    terms = [_term(t) for t in node.terms]
    view: dict[str, Any] = {
        "statement": node.statement,
        "predicate": compact(node.predicate),
        "terms": terms,
        "asserted": node.asserted,
    }
    if node.rule is not None:
        view["rule"] = {
            "location": str(node.rule.location),
            "comment": node.rule.comment,
            "origin": node.rule.origin,
            "text": str(node.rule),
        }
        view["premises"] = [_explanation(p) for p in node.premises]
        view["absent"] = list(node.absent)
    else:
        view["sources"] = [snapshot_view(info) for info in node.sources]
    return view


def leaves(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The asserted leaves of an :func:`explanation_view` tree, in order."""
    if tree["asserted"]:
        yield tree
    for premise in tree.get("premises", ()):
        yield from leaves(premise)
