"""The SPARQL 1.1 Service Description of the endpoint (what ``GET /sparql`` returns).

>>> body, media_type = service_description("http://localhost:8800/sparql")
>>> media_type
'text/turtle'
>>> b"sd:UnionDefaultGraph" in body
True
"""

from __future__ import annotations

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    Triple,
    serialize,
)

from lifecyclegraph.core.errors import NotAcceptableError
from lifecyclegraph.core.vocab import INFERRED_GRAPH, PREFIXES
from lifecyclegraph.store.sparql.formats import GRAPH, RDF_FORMATS, negotiate

__all__ = ["SD", "service_description"]

#: The Service Description vocabulary.
SD = "http://www.w3.org/ns/sparql-service-description#"
_RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")
_COMMENT = NamedNode(PREFIXES["rdfs"] + "comment")

COMMENT = (
    "The Model Lifecycle Graph. Without default-graph-uri or named-graph-uri, the "
    "default graph is the union of every graph: the current state (see "
    "docs/dataset-layout.md). Read-only: SPARQL Update, SERVICE and LOAD are refused. "
    "Queries are stopped at the server's query_timeout and results are limited to "
    "max_results rows or triples. An extension: the parameter as_of (ISO 8601 with a "
    "time zone) runs a query on the graph as it was at that time, the snapshots live "
    "then (docs/sparql.md)."
)


def _sd(local: str) -> NamedNode:
    return NamedNode(SD + local)


def description_triples(endpoint: str) -> list[Triple]:
    """The service description as triples, for the endpoint at ``endpoint``."""
    service, dataset, default, named = BlankNode(), BlankNode(), BlankNode(), BlankNode()
    formats = [
        f.iri
        for f in (
            QueryResultsFormat.JSON,
            QueryResultsFormat.XML,
            QueryResultsFormat.CSV,
            QueryResultsFormat.TSV,
        )
    ]
    # The W3C registry's IRI for JSON-LD (Oxigraph reports another).
    formats += [
        "http://www.w3.org/ns/formats/JSON-LD" if m == "application/ld+json" else f.iri
        for m, f in RDF_FORMATS.items()
    ]
    triples = [
        Triple(service, _RDF_TYPE, _sd("Service")),
        Triple(service, _sd("endpoint"), NamedNode(endpoint)),
        Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        *(Triple(service, _sd("resultFormat"), NamedNode(iri)) for iri in formats),
        Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        Triple(
            service,
            _sd("defaultEntailmentRegime"),
            NamedNode("http://www.w3.org/ns/entailment/Simple"),
        ),
        Triple(service, _COMMENT, Literal(COMMENT)),
        Triple(service, _sd("defaultDataset"), dataset),
        Triple(dataset, _RDF_TYPE, _sd("Dataset")),
        Triple(dataset, _sd("defaultGraph"), default),
        Triple(default, _RDF_TYPE, _sd("Graph")),
        Triple(dataset, _sd("namedGraph"), named),
        Triple(named, _RDF_TYPE, _sd("NamedGraph")),
        Triple(named, _sd("name"), INFERRED_GRAPH),
    ]
    return triples


def service_description(endpoint: str, accept: str | None = None) -> tuple[bytes, str]:
    """The service description serialized as ``accept`` prefers (Turtle by default).

    Returns:
        The body and its media type.

    Raises:
        NotAcceptableError: ``accept`` accepts no RDF format.
    """
    media_type = negotiate(accept, GRAPH)
    if media_type is None:
        raise NotAcceptableError(
            f"the service description can be sent as {', '.join(GRAPH)}; the request "
            f"accepts none of them (Accept: {accept})",
            list(GRAPH),
        )
    triples = description_triples(endpoint)
    rdf_format = RDF_FORMATS[media_type]
    data: list[Triple] | list[Quad] = triples
    if rdf_format.supports_datasets:
        data = [Quad(t.subject, t.predicate, t.object) for t in triples]
    prefixes = {"sd": SD, "rdfs": PREFIXES["rdfs"]}
    if media_type not in ("text/turtle", "application/trig"):
        prefixes = {}
    return serialize(data, format=rdf_format, prefixes=prefixes) or b"", media_type
