"""The type-specific sections of an entity's page: one table, read by one function.

:data:`SECTIONS` says, for each entity type, which sections its page shows above the
generic relationship groups; each section is a relation path in ontology terms
(``lg:hasInstance/lg:associatedAbTest``, ``^lg:usesFeature``,
``lg:writesDataset|^lg:writtenByPipeline``), the properties shown beside each entity
it reaches, how they are ordered, and how they are split (pipeline runs by
``lg:status``). :func:`sections` walks the paths on the door's quads, so an inferred
hop is marked and keeps the fact whose "why" explains it. A type the table does not
name (a type added to the ontology among them) gets the generic page only; a steward
changes the table, never the renderer. ``tests/test_portal.py`` checks that every term
the table names is declared in the shipped ontology.

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory(rules=True)
>>> p, run = "aip://pipeline/orchestrator/etl", "aip://pipeline-run/orchestrator/etl-1"
>>> _ = graph.write(Facts.of(p, {"rdf:type": Ref("lg:Pipeline"), "lg:name": "etl"}),
...                 source="orchestrator", validate=False)
>>> _ = graph.write(Facts.of(run, {"rdf:type": Ref("lg:PipelineRun"), "lg:name": "etl-1",
...                                "lg:runOf": Ref(p), "lg:status": "FAILED"}),
...                 source="orchestrator", validate=False)
>>> runs = next(s for s in sections(graph, p, ["lg:Pipeline"]) if s["title"] == "Runs")
>>> [(part["title"], [i["name"] for i in part["items"]]) for part in runs["parts"]]
[('failed', ['etl-1'])]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import from_literal
from lifecyclegraph.core.vocab import INFERRED_GRAPH, RDF_TYPE, compact, expand
from lifecyclegraph.graph.door import Graph, PastGraph
from lifecyclegraph.read.views import json_value

__all__ = ["SECTIONS", "SECTION_LIMIT", "Section", "parse_path", "reach", "sections"]

#: The most entities a section lists (the rest are counted).
SECTION_LIMIT = 50


@dataclass(frozen=True)
class Section:
    """One section of a type's page.

    Attributes:
        title: the section's heading.
        path: the relation path from the entity, in SPARQL property path syntax
            restricted to alternatives (``|``) of sequences (``/``) of properties
            by compact name, each optionally inverse (``^``).
        show: properties of each reached entity shown beside it (labels from the
            ontology).
        order: the property the entities are sorted by, newest (largest) first;
            by name when ``None``.
        split: the property whose value splits the entities into parts (a run's
            ``lg:status``), with ``parts``.
        parts: ``(title, values)`` pairs: an entity whose ``split`` value is one of
            ``values`` (compared without case) goes in that part; the others go in a
            last part named ``other``.
        skip: types whose entities the section leaves out (listed by another one).
    """

    title: str
    path: str
    show: tuple[str, ...] = ()
    order: str | None = None
    split: str | None = None
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    skip: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """The section's HTML id.

        >>> Section("A/B tests", "lg:associatedAbTest").slug
        's-a-b-tests'
        """
        return "s-" + re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


_RUN_PARTS = (
    ("succeeded", ("SUCCEEDED", "SUCCESS", "SUCCESSFUL", "COMPLETED", "FINISHED")),
    ("failed", ("FAILED", "FAILURE", "ERROR", "KILLED", "TIMED_OUT", "UPSTREAM_FAILED")),
)

#: The sections of each entity type's page (types by their compact name).
SECTIONS: dict[str, tuple[Section, ...]] = {
    "lg:Model": (
        Section(
            "Instances",
            "lg:hasInstance",
            show=("lg:stage", "lg:version", "lg:createdAt"),
            order="lg:createdAt",
        ),
        Section(
            "Deployments",
            "lg:hasInstance/lg:hasDeployment",
            show=("lg:environment", "lg:region", "lg:deployedAt"),
            order="lg:deployedAt",
        ),
        Section(
            "A/B tests",
            "lg:hasInstance/lg:associatedAbTest",
            show=("lg:status", "lg:startDate", "lg:endDate"),
        ),
    ),
    "lg:ModelInstance": (
        Section(
            "Deployments",
            "lg:hasDeployment|^lg:deploymentOf",
            show=("lg:environment", "lg:region", "lg:deployedAt"),
            order="lg:deployedAt",
        ),
        Section(
            "A/B tests",
            "lg:associatedAbTest|^lg:testsInstance",
            show=("lg:status", "lg:startDate", "lg:endDate"),
        ),
    ),
    "lg:Feature": (
        Section("Source datasets", "lg:sourceDataset"),
        Section("Consuming models", "^lg:usesFeature", show=("lg:stage", "lg:version")),
    ),
    "lg:Pipeline": (
        Section("Schedule", "lg:hasSchedule|^lg:scheduleOf", show=("lg:cron", "lg:timezone")),
        Section(
            "Runs",
            "lg:hasRun|^lg:runOf",
            show=("lg:status", "lg:startedAt", "lg:endedAt"),
            order="lg:startedAt",
            split="lg:status",
            parts=_RUN_PARTS,
        ),
        Section("Inputs", "lg:readsDataset"),
        Section("Outputs", "lg:writesDataset|^lg:writtenByPipeline|^lg:trainedByPipeline"),
    ),
    "lg:Dataset": (
        Section(
            "Versions",
            "lg:hasVersion|^lg:versionOf",
            show=("lg:version", "lg:createdAt", "lg:rowCount"),
            order="lg:createdAt",
        ),
        Section("Downstream consumers", "^lg:dependsOn", skip=("lg:DatasetVersion",)),
    ),
    "lg:Team": (
        Section("What the team owns", "^lg:owningTeam"),
        Section("Members", "lg:hasMember|^lg:memberOf"),
    ),
    "lg:User": (
        Section("What they own", "^lg:owner"),
        Section("Teams", "lg:memberOf|^lg:hasMember"),
    ),
}


def parse_path(path: str) -> list[list[tuple[str, bool]]]:
    """A relation path as its alternatives, each a sequence of ``(property IRI,
    inverse)`` steps. As in SPARQL, ``/`` binds tighter than ``|``: ``a/b|c`` is
    ``(a/b)|c``.

    Raises:
        ValueError: a term is not a compact IRI (``prefix:name``).

    >>> [[(compact(p), inv) for p, inv in seq] for seq in parse_path("a/^b|c")]
    Traceback (most recent call last):
    ...
    ValueError: relation path 'a/^b|c': 'a' is not a compact IRI
    >>> [[(compact(p), inv) for p, inv in seq] for seq in parse_path("lg:a/^lg:b|lg:c")]
    [[('lg:a', False), ('lg:b', True)], [('lg:c', False)]]
    """
    alternatives = []
    for sequence in path.split("|"):
        steps = []
        for term in sequence.split("/"):
            term = term.strip()
            inverse = term.startswith("^")
            name = term[1:] if inverse else term
            if ":" not in name or not name.split(":", 1)[1]:
                raise ValueError(f"relation path {path!r}: {name!r} is not a compact IRI")
            steps.append((expand(name), inverse))
        alternatives.append(steps)
    return alternatives


def reach(graph: Graph | PastGraph, uri: str, path: str) -> dict[str, dict[str, Any]]:
    """Every entity (IRI) other than ``uri`` that the relation ``path`` reaches from it,
    each with ``inferred`` (a hop on the way is derived) and ``fact`` (the first derived
    hop as ``s``, ``p``, ``o``, for its "why"; ``None`` if every hop is asserted). An
    entity reached both ways counts as asserted. The same entities as the SPARQL
    property path ``<uri> path ?x`` finds (``tests/test_portal.py`` checks it).

    Raises:
        ValueError: the path is malformed (see :func:`parse_path`).
    """
    reached: dict[str, dict[str, Any]] = {}
    for sequence in parse_path(path):
        for other, how in _walk(graph, uri, sequence).items():
            _keep(reached, other, how)
    reached.pop(uri, None)
    return reached


def _keep(reached: dict[str, dict[str, Any]], uri: str, how: dict[str, Any]) -> None:
    """Note that ``uri`` is reached ``how``, an asserted way beating a derived one."""
    known = reached.get(uri)
    if known is None or (known["inferred"] and not how["inferred"]):
        reached[uri] = how


def _walk(
    graph: Graph | PastGraph, uri: str, steps: Sequence[tuple[str, bool]]
) -> dict[str, dict[str, Any]]:
    frontier: dict[str, dict[str, Any]] = {uri: {"inferred": False, "fact": None}}
    for predicate, inverse in steps:
        reached: dict[str, dict[str, Any]] = {}
        p = NamedNode(predicate)
        for node, how in frontier.items():
            if inverse:
                quads: Iterable[Any] = graph.quads(None, p, NamedNode(node))
            else:
                quads = graph.quads(NamedNode(node), p, None)
            for quad in quads:
                other = quad.subject if inverse else quad.object
                if not isinstance(other, NamedNode):
                    continue
                hop = quad.graph_name == INFERRED_GRAPH
                fact = how["fact"]
                if hop and fact is None:
                    fact = {
                        "s": quad.subject.value,
                        "p": compact(predicate),
                        "o": quad.object.value,
                    }
                _keep(reached, other.value, {"inferred": how["inferred"] or hop, "fact": fact})
        frontier = reached
    return frontier


def _values(graph: Graph | PastGraph, uri: str, predicate: str) -> list[Any]:
    return [
        json_value(from_literal(q.object)) if isinstance(q.object, Literal) else q.object.value
        for q in graph.quads(NamedNode(uri), NamedNode(expand(predicate)), None)
        if isinstance(q.object, Literal | NamedNode)
    ]


def _types(graph: Graph | PastGraph, uri: str) -> set[str]:
    return {
        compact(q.object.value)
        for q in graph.quads(NamedNode(uri), RDF_TYPE, None)
        if isinstance(q.object, NamedNode)
    }


def sections(
    graph: Graph | PastGraph,
    uri: str,
    types: Iterable[str],
    *,
    summary: Any = None,
    label: Any = None,
) -> list[dict[str, Any]]:
    """The sections of the page of ``uri``, whose types (compact names) are ``types``.

    Args:
        graph: the current graph, or the graph as of a past time (asserted facts).
        uri: the entity.
        types: its types; the sections of each, in :data:`SECTIONS` order, once each.
        summary: ``summary(graph, uri)`` gives a reached entity's link data (``uri``,
            ``name``, ``type``, ``colour``); by default its URI and ``lg:name``.
        label: ``label(iri)`` gives a property's label (default: its compact name).

    Returns:
        One dictionary per section: ``title``, ``id``, ``path``, ``count``, ``parts``
        (each a ``title`` or ``None``, ``count`` and ``items``: link data with
        ``inferred``, ``fact`` (the first inferred hop, for its "why") and ``show``
        (``(label, values)`` pairs)).
    """
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for kind in types:
        for section in SECTIONS.get(kind, ()):
            if section.slug in seen:
                continue
            seen.add(section.slug)
            out.append(_section(graph, uri, section, summary, label))
    return out


def _section(
    graph: Graph | PastGraph, uri: str, section: Section, summary: Any, label: Any
) -> dict[str, Any]:
    reached = reach(graph, uri, section.path)
    items = []
    for other, how in reached.items():
        if section.skip and _types(graph, other) & set(section.skip):
            continue
        if summary is not None:
            base = summary(graph, other)
        else:
            names = _values(graph, other, "lg:name")
            base = {"uri": other, "name": str(names[0]) if names else other}
        item = {**base, **how}
        item["show"] = [
            (label(expand(p)) if label else p, [str(v) for v in _values(graph, other, p)])
            for p in section.show
        ]
        item["sortKey"] = (_values(graph, other, section.order) or [""])[0] if section.order else ""
        item["splitValue"] = (
            str((_values(graph, other, section.split) or [""])[0]) if section.split else ""
        )
        items.append(item)
    items.sort(key=lambda i: str(i["name"]).lower())
    if section.order:
        items.sort(key=lambda i: str(i["sortKey"]), reverse=True)
    parts: list[dict[str, Any]] = []
    if section.split:
        rest = list(items)
        for title, values in section.parts:
            wanted = {v.upper() for v in values}
            chosen = [i for i in rest if i["splitValue"].upper() in wanted]
            rest = [i for i in rest if i["splitValue"].upper() not in wanted]
            parts.append({"title": title, "items": chosen})
        parts.append({"title": "other", "items": rest})
        parts = [p for p in parts if p["items"]]
    else:
        parts = [{"title": None, "items": items}]
    for part in parts:
        part["count"] = len(part["items"])
        part["items"] = part["items"][:SECTION_LIMIT]
    return {
        "title": section.title,
        "id": section.slug,
        "path": section.path,
        "count": len(items),
        "parts": parts,
    }
