"""Validation by pySHACL: the reference the compiled checks are compared with, and the
fallback for shapes the compiler does not support."""

from __future__ import annotations

from collections.abc import Callable

import pyshacl
import rdflib
from pyoxigraph import NamedNode
from rdflib.namespace import RDF, SH

from lifecyclegraph.core.facts import Facts
from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.core.vocab import XSD
from lifecyclegraph.validation.compiler import CompiledShapes, to_oxigraph
from lifecyclegraph.validation.report import ValidationResult

__all__ = ["data_graph", "pyshacl_results"]


def data_graph(facts: Facts, classes: Callable[[str], set[str]]) -> rdflib.Graph:
    """The entity, its parts, and the classes of every IRI they refer to, as rdflib."""
    graph = rdflib.Graph()
    referenced = set()
    for entity in facts.flatten():
        subject = rdflib.URIRef(entity.uri)
        for predicate, obj in entity.pairs:
            graph.add((subject, rdflib.URIRef(predicate.value), to_rdflib(obj)))
            if isinstance(obj, NamedNode):
                referenced.add(obj.value)
    local = {e.uri for e in facts.flatten()}
    for iri in referenced - local:
        for cls in classes(iri):
            graph.add((rdflib.URIRef(iri), RDF.type, rdflib.URIRef(cls)))
    return graph


def to_rdflib(term: object) -> rdflib.term.Node:
    """A pyoxigraph term as rdflib's (``xsd:string`` literals become plain literals)."""
    value = term.value  # type: ignore[attr-defined]
    datatype = getattr(term, "datatype", None)
    if datatype is None:
        return rdflib.URIRef(value)
    if term.language:  # type: ignore[attr-defined]
        return rdflib.Literal(value, lang=term.language)  # type: ignore[attr-defined]
    if datatype.value == XSD.string.value:
        return rdflib.Literal(value)
    return rdflib.Literal(value, datatype=rdflib.URIRef(datatype.value))


def pyshacl_results(
    facts: Facts,
    shapes: CompiledShapes,
    ontology: Ontology,
    classes: Callable[[str], set[str]],
    only: set[str] | None = None,
) -> list[ValidationResult]:
    """Validate with pySHACL and return its results in lifecyclegraph's form.

    Only the entity and its parts are focus nodes: the entities they refer to are in
    the data graph for their classes alone and are validated when they are hydrated.
    ``only`` restricts the results to those of the given node shapes (and the property
    shapes they hold).
    """
    focus = {e.uri for e in facts.flatten()}
    assert shapes.graph is not None
    _, report, _ = pyshacl.validate(
        data_graph(facts, classes),
        shacl_graph=shapes.graph,
        ont_graph=ontology.graph,
        inference="none",
        advanced=False,
        allow_warnings=True,
    )
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        source = report.value(result, SH.sourceShape)
        if str(report.value(result, SH.focusNode)) not in focus:
            continue
        if only is not None and not _belongs(shapes.graph, source, only):
            continue
        value = report.value(result, SH.value)
        path = report.value(result, SH.resultPath)
        out.append(
            ValidationResult(
                focus=str(report.value(result, SH.focusNode)),
                path=str(path) if path is not None else None,
                severity=str(report.value(result, SH.resultSeverity)),
                component=str(report.value(result, SH.sourceConstraintComponent)),
                shape=str(source),
                message=str(report.value(result, SH.resultMessage) or ""),
                value=_nt(value) if value is not None else None,
            )
        )
    return out


def _belongs(graph: rdflib.Graph, shape: rdflib.term.Node | None, node_shapes: set[str]) -> bool:
    if shape is None:
        return False
    if str(shape) in node_shapes:
        return True
    return any(str(owner) in node_shapes for owner in graph.subjects(SH.property, shape))


def _nt(term: rdflib.term.Node) -> str:
    """N-Triples text of a term, written as pyoxigraph writes it."""
    return str(to_oxigraph(term))
