"""What lint knows of the ontology: its declared terms, its vocabulary (classes and
properties, as the rule engine reads them), its own namespaces; and small helpers the
lint checks share (:mod:`lifecyclegraph.validation.lint`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from lifecyclegraph.core.vocab import PREFIXES
from lifecyclegraph.rules.axioms import Axioms, Vocabulary
from lifecyclegraph.validation.turtle import Position, RdfDocument

__all__ = ["SHAPE_OBJECTS", "STANDARD", "Terms", "compact", "english", "namespace", "places"]

RDF, RDFS, OWL, XSD, SH = (PREFIXES[p] for p in ("rdf", "rdfs", "owl", "xsd", "sh"))
#: The W3C vocabularies: never the ontology's own namespace.
STANDARD = (RDF, RDFS, OWL, XSD, SH)
#: predicates whose objects the shape checks look at (reported there, not twice)
SHAPE_OBJECTS = {SH + "path", SH + "targetClass", SH + "class"}


@dataclass
class Terms:
    """What the ontology declares (and, for shapes and rules, uses as classes and
    properties), and its own namespaces."""

    declared: set[str]
    vocabulary: Vocabulary
    own: set[str]
    documents: list[RdfDocument] = field(default_factory=list)

    @classmethod
    def of(cls, documents: list[RdfDocument]) -> Terms:
        triples = [t for doc in documents for t in doc.triples]
        ontologies = {
            t.subject
            for t in triples
            if t.predicate.value == RDF + "type" and t.object == NamedNode(OWL + "Ontology")
        }
        declared = {
            t.subject.value
            for t in triples
            if t.predicate.value == RDF + "type"
            and isinstance(t.subject, NamedNode)
            and t.subject not in ontologies
        }
        own = {namespace(term) for term in declared} - set(STANDARD)
        vocabulary = Axioms.from_triples(triples).vocabulary()
        return cls(declared, vocabulary, own, documents)

    def is_own(self, iri: str) -> bool:
        return namespace(iri) in self.own

    def names(self, kind: str = "any") -> list[str]:
        """Known names, compacted, for "did you mean"."""
        pool = {
            "class": self.vocabulary.classes,
            "property": self.vocabulary.properties,
        }.get(kind, self.declared | self.vocabulary.classes | self.vocabulary.properties)
        return sorted({compact(term) for term in pool})

    def first_place(self, term: NamedNode) -> Position | None:
        for doc in self.documents:
            found = doc.first_as_subject(term)
            if found is not None:
                return found
        return None

    def values(self, subject: object, predicate: str) -> list[object]:
        node = NamedNode(predicate)
        return [
            t.object
            for doc in self.documents
            for t in doc.triples
            if t.subject == subject and t.predicate == node
        ]


def namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut >= 0 else iri


def compact(iri: str) -> str:
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and len(iri) > len(base):
            return f"{prefix}:{iri[len(base) :]}"
    return f"<{iri}>"


def places(
    doc: RdfDocument,
) -> Iterator[tuple[Triple, Position | None, Position | None, Position | None]]:
    """Each triple of ``doc`` with the places of its terms (``None`` when unknown)."""
    if doc.located is not None:
        for item in doc.located:
            yield item.triple, item.subject, item.predicate, item.object
    else:
        for t in doc.triples:
            yield t, None, None, None


def english(values: Iterable[object]) -> bool:
    return any(isinstance(v, Literal) and v.language in (None, "en") for v in values)
