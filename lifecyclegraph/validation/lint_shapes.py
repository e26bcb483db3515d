"""The lint checks of the shapes: shapes on unknown classes, properties or datatypes,
references to shapes nobody defines, entity types without a shape, and shapes without
labels, comments or messages (see :mod:`lifecyclegraph.validation.lint`)."""

from __future__ import annotations

from pyoxigraph import BlankNode, NamedNode, Triple

from lifecyclegraph.validation.findings import Finding, near_miss
from lifecyclegraph.validation.lint_terms import (
    RDF,
    RDFS,
    SH,
    STANDARD,
    XSD,
    Terms,
    compact,
    english,
    places,
)
from lifecyclegraph.validation.sources import ModelSources
from lifecyclegraph.validation.turtle import Position, RdfDocument

__all__ = ["classes_without_shapes", "shape_documentation", "shape_references", "shape_terms"]

_XSD_TYPES = (
    "string",
    "boolean",
    "decimal",
    "integer",
    "double",
    "float",
    "date",
    "time",
    "dateTime",
    "dateTimeStamp",
    "duration",
    "dayTimeDuration",
    "yearMonthDuration",
    "gYear",
    "gYearMonth",
    "gMonth",
    "gMonthDay",
    "gDay",
    "anyURI",
    "base64Binary",
    "hexBinary",
    "normalizedString",
    "token",
    "language",
    "Name",
    "NCName",
    "NMTOKEN",
    "long",
    "int",
    "short",
    "byte",
    "nonNegativeInteger",
    "positiveInteger",
    "nonPositiveInteger",
    "negativeInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
)
_DATATYPES = {XSD + name for name in _XSD_TYPES} | {
    RDF + "langString",
    RDF + "HTML",
    RDF + "XMLLiteral",
    RDF + "JSON",
}


def shape_documentation(sources: ModelSources) -> list[Finding]:
    out = []
    index = sources.shape_index
    for doc in sources.documents["shapes"]:
        values: dict[tuple[object, str], list[object]] = {}
        for t in doc.triples:
            values.setdefault((t.subject, t.predicate.value), []).append(t.object)
        node_shapes = [
            t.subject
            for t in doc.triples
            if t.predicate.value == RDF + "type"
            and t.object == NamedNode(SH + "NodeShape")
            and isinstance(t.subject, NamedNode | BlankNode)
        ]
        property_shapes = [
            t.subject
            for t in doc.triples
            if t.predicate.value == SH + "path" and isinstance(t.subject, NamedNode | BlankNode)
        ]
        for node in node_shapes:
            name = index.name(node.value)
            where = doc.first_as_subject(node)
            if not english(values.get((node, RDFS + "label"), [])):
                out.append(
                    Finding(
                        "missing-label",
                        "warning",
                        f"the node shape {name} has no English rdfs:label",
                        key=(name,),
                        subject=name,
                        where=where,
                        file=doc.name,
                    )
                )
            if not values.get((node, RDFS + "comment")):
                out.append(
                    Finding(
                        "missing-comment",
                        "warning",
                        f"the node shape {name} has no rdfs:comment",
                        key=(name,),
                        subject=name,
                        where=where,
                        file=doc.name,
                    )
                )
        for node in property_shapes:
            name = index.name(node.value)
            where = doc.first_as_subject(node)
            if not english(values.get((node, SH + "name"), [])):
                out.append(
                    Finding(
                        "missing-label",
                        "warning",
                        f"the property shape {name} has no sh:name",
                        key=(name,),
                        subject=name,
                        where=where,
                        file=doc.name,
                    )
                )
            if not values.get((node, SH + "message")):
                out.append(
                    Finding(
                        "missing-message",
                        "warning",
                        f"the property shape {name} has "
                        "no sh:message: its results will say only which constraint "
                        "failed",
                        key=(name,),
                        subject=name,
                        where=where,
                        file=doc.name,
                    )
                )
    return out


# -- shapes --------------------------------------------------------------------------------------


def shape_references(documents: list[RdfDocument]) -> list[Finding]:
    """``sh:property`` / ``sh:node`` to a named shape that no file describes."""
    described = {t.subject for doc in documents for t in doc.triples}
    shapes = sorted(compact(s.value) for s in described if isinstance(s, NamedNode))
    out = []
    for doc in documents:
        for t, _, _, op in places(doc):
            if t.predicate.value not in (SH + "property", SH + "node"):
                continue
            if not isinstance(t.object, NamedNode) or t.object in described:
                continue
            shown = compact(t.object.value)
            suggestion = near_miss(shown, shapes)
            message = f"unknown shape {shown}: no shapes file defines it"
            if suggestion:
                message += f"; did you mean {suggestion}?"
            out.append(
                Finding(
                    "unknown-shape",
                    "error",
                    message,
                    key=(doc.name, t.object.value),
                    subject=t.object.value,
                    suggestion=suggestion,
                    where=op,
                    file=doc.name,
                )
            )
    return out


def shape_terms(documents: list[RdfDocument], terms: Terms) -> list[Finding]:
    out: list[Finding] = []
    for doc in documents:
        by_subject: dict[object, list[Triple]] = {}
        for t in doc.triples:
            by_subject.setdefault(t.subject, []).append(t)
        for t, _, _, op in places(doc):
            predicate = t.predicate.value
            if predicate in (SH + "targetClass", SH + "class"):
                out += _class_term(doc, t, op, terms)
            elif predicate == SH + "path":
                for iri in _path_iris(t.object, by_subject):
                    out += _property_term(doc, t, iri, op, terms)
            elif predicate == SH + "datatype" and isinstance(t.object, NamedNode):
                iri = t.object.value
                if iri in _DATATYPES or not (iri.startswith(XSD) or iri.startswith(RDF)):
                    continue
                shown = compact(iri)
                suggestion = near_miss(shown, sorted(compact(d) for d in _DATATYPES))
                message = f"sh:datatype {shown} is not a datatype: every value would fail"
                if suggestion:
                    message += f"; did you mean {suggestion}?"
                out.append(
                    Finding(
                        "shape-unknown-datatype",
                        "error",
                        message,
                        key=(doc.name, iri),
                        subject=iri,
                        suggestion=suggestion,
                        where=op,
                        file=doc.name,
                    )
                )
    return out


def _class_term(doc: RdfDocument, t: Triple, where: Position | None, terms: Terms) -> list[Finding]:
    if not isinstance(t.object, NamedNode):
        return []
    iri = t.object.value
    if iri in terms.vocabulary.classes:
        return []
    shown, via = compact(iri), compact(t.predicate.value)
    if iri in terms.vocabulary.properties:
        message, suggestion = f"{via} {shown}: {shown} is a property, not a class", None
    else:
        suggestion = near_miss(shown, terms.names("class"))
        message = f"{via} {shown}: not a class of the ontology"
        if suggestion:
            message += f"; did you mean {suggestion}?"
    return [
        Finding(
            "shape-unknown-class",
            "error",
            message,
            key=(doc.name, t.predicate.value, iri),
            subject=iri,
            suggestion=suggestion,
            where=where,
            file=doc.name,
        )
    ]


def _property_term(
    doc: RdfDocument, t: Triple, iri: str, where: Position | None, terms: Terms
) -> list[Finding]:
    if iri in terms.vocabulary.properties or iri.startswith(STANDARD):
        return []
    shown = compact(iri)
    level = "error"
    suggestion = None
    if iri in terms.vocabulary.classes:
        message = f"sh:path {shown}: {shown} is a class, not a property"
    else:
        suggestion = near_miss(shown, terms.names("property"))
        if terms.is_own(iri):
            message = f"sh:path {shown}: not a property of the ontology"
        else:
            level = "warning"
            message = f"sh:path {shown}: the ontology neither declares nor uses this property"
        if suggestion:
            message += f"; did you mean {suggestion}?"
    return [
        Finding(
            "shape-unknown-property",
            level,
            message,
            key=(doc.name, iri),
            subject=iri,
            suggestion=suggestion,
            where=where,
            file=doc.name,
        )
    ]


def _path_iris(path: object, by_subject: dict[object, list[Triple]], depth: int = 0) -> list[str]:
    """The property IRIs of a SHACL path (an IRI, or a blank node path expression)."""
    if isinstance(path, NamedNode):
        return [] if path.value == RDF + "nil" else [path.value]
    if not isinstance(path, BlankNode) or depth > 20:
        return []
    out: list[str] = []
    for t in by_subject.get(path, []):
        if (
            t.predicate.value == RDF + "rest"
            or t.predicate.value.startswith(SH)
            or (t.predicate.value == RDF + "first")
        ):
            out += _path_iris(t.object, by_subject, depth + 1)
    return out


def classes_without_shapes(sources: ModelSources, terms: Terms) -> list[Finding]:
    from lifecyclegraph.core.ontology import Ontology

    ontology = Ontology(sources.graph("ontology"))
    targeted = {
        t.object.value
        for doc in sources.documents["shapes"]
        for t in doc.triples
        if t.predicate.value == SH + "targetClass" and isinstance(t.object, NamedNode)
    }
    out = []
    for cls in ontology.entity_classes():
        if ontology.superclasses(cls) & targeted:
            continue
        shown = compact(cls)
        where = terms.first_place(NamedNode(cls))
        out.append(
            Finding(
                "class-without-shape",
                "warning",
                f"{shown} is an entity type (it has lg:componentType) but no node shape "
                "targets it: its entities are stored unchecked",
                key=(cls,),
                where=where,
                file=where.file if where else None,
                subject=cls,
            )
        )
    return out
