"""Namespaces and the few vocabulary terms the code itself must name.

The ontology in ``ontology/`` is the source of truth for classes and properties;
this module only holds the IRIs that code writes or reads by name (the store's
bookkeeping terms, and the namespaces used to shorten IRIs for display).

>>> LG.name.value
'https://w3id.org/lifecyclegraph/ontology#name'
>>> compact("https://w3id.org/lifecyclegraph/ontology#Model")
'lg:Model'
>>> expand("prov:Entity")
'http://www.w3.org/ns/prov#Entity'
"""

from __future__ import annotations

from pyoxigraph import NamedNode

__all__ = [
    "INFERRED_GRAPH",
    "LG",
    "PREFIXES",
    "RDF_TYPE",
    "SNAPSHOT_PREFIX",
    "XSD",
    "Namespace",
    "compact",
    "expand",
]


class Namespace:
    """A namespace whose attributes are :class:`pyoxigraph.NamedNode` terms.

    >>> Namespace("http://example.com/ns#").thing
    <NamedNode value=http://example.com/ns#thing>
    """

    def __init__(self, base: str) -> None:
        self.base = base

    def __getattr__(self, local: str) -> NamedNode:
        if local.startswith("__"):
            raise AttributeError(local)
        term = NamedNode(self.base + local)
        setattr(self, local, term)  # terms are immutable: the next lookup is a plain one
        return term

    def __getitem__(self, local: str) -> NamedNode:
        return NamedNode(self.base + local)

    def __contains__(self, iri: object) -> bool:
        value = iri.value if isinstance(iri, NamedNode) else iri
        return isinstance(value, str) and value.startswith(self.base)


PREFIXES: dict[str, str] = {
    "lg": "https://w3id.org/lifecyclegraph/ontology#",
    "lgsh": "https://w3id.org/lifecyclegraph/shapes#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "mls": "http://www.w3.org/ns/mls#",
    "org": "http://www.w3.org/ns/org#",
}

LG = Namespace(PREFIXES["lg"])
XSD = Namespace(PREFIXES["xsd"])
RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")

#: The named graph that holds facts derived by rules (never asserted by a source).
INFERRED_GRAPH = NamedNode("https://w3id.org/lifecyclegraph/graph/inferred")
#: Snapshot graphs are named ``SNAPSHOT_PREFIX + <uuid>``.
SNAPSHOT_PREFIX = "https://w3id.org/lifecyclegraph/snapshot/"


def compact(iri: str) -> str:
    """Shorten an IRI to ``prefix:local`` when a known prefix matches, else return it."""
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and len(iri) > len(base):
            return f"{prefix}:{iri[len(base) :]}"
    return iri


def expand(name: str) -> str:
    """Expand ``prefix:local`` with a known prefix; other text is returned unchanged."""
    prefix, sep, local = name.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return name
