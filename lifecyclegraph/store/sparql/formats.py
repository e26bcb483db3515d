"""Media types of SPARQL results and RDF graphs, and content negotiation (``Accept``).

Each kind of result has its list of offers, the preferred first; :func:`negotiate`
picks the one the client likes best (RFC 9110, section 12.5.1: the most specific
matching range gives an offer its weight; ties go to the server's order).

>>> negotiate("application/sparql-results+xml;q=0.9, text/csv", SOLUTIONS)
'text/csv'
>>> negotiate(None, GRAPH)
'text/turtle'
>>> negotiate("text/html", BOOLEAN) is None
True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from pyoxigraph import QueryResultsFormat, RdfFormat

__all__ = [
    "BOOLEAN",
    "GRAPH",
    "RDF_FORMATS",
    "RESULTS_FORMATS",
    "SOLUTIONS",
    "accepts_any",
    "negotiate",
]

#: The serialization behind each media type of SELECT and ASK results.
RESULTS_FORMATS: dict[str, QueryResultsFormat] = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "text/csv": QueryResultsFormat.CSV,
    "text/tab-separated-values": QueryResultsFormat.TSV,
    "application/json": QueryResultsFormat.JSON,
    "application/xml": QueryResultsFormat.XML,
    "text/xml": QueryResultsFormat.XML,
}

#: The serialization behind each media type of CONSTRUCT and DESCRIBE results.
RDF_FORMATS: dict[str, RdfFormat] = {
    "text/turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/trig": RdfFormat.TRIG,
    "application/n-quads": RdfFormat.N_QUADS,
}

#: What a SELECT result can be sent as, the preferred first.
SOLUTIONS: tuple[str, ...] = tuple(RESULTS_FORMATS)
#: What an ASK result can be sent as (CSV and TSV define no boolean result).
BOOLEAN: tuple[str, ...] = tuple(
    t for t in SOLUTIONS if t not in ("text/csv", "text/tab-separated-values")
)
#: What a CONSTRUCT or DESCRIBE result (and the service description) can be sent as.
GRAPH: tuple[str, ...] = tuple(RDF_FORMATS)


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """``(type, subtype, q)`` for each media range; malformed ranges are skipped."""
    ranges = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0.0 <= q <= 1.0:
            ranges.append((kind, sub, q))
    return ranges


def _weight(offer: str, ranges: list[tuple[str, str, float]]) -> float:
    kind, _, sub = offer.partition("/")
    best, specificity = 0.0, -1
    for r_kind, r_sub, q in ranges:
        if (r_kind, r_sub) == (kind, sub):
            level = 2
        elif r_kind == kind and r_sub == "*":
            level = 1
        elif (r_kind, r_sub) == ("*", "*"):
            level = 0
        else:
            continue
        if level > specificity:
            best, specificity = q, level
    return best


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the ``Accept`` header prefers, or ``None`` if it accepts none of them.

    No header (or one with no valid range) accepts anything: the first offer wins.

    >>> negotiate("application/json, */*;q=0.1", SOLUTIONS)
    'application/json'
    >>> negotiate("text/*", SOLUTIONS)
    'text/csv'
    """
    return _negotiate(accept, tuple(offers))


@functools.lru_cache(maxsize=256)
def _negotiate(accept: str | None, offers: tuple[str, ...]) -> str | None:
    """:func:`negotiate`, remembered: a client sends the same ``Accept`` every time,
    and the endpoint negotiates twice a query (the route, then the result's kind)."""
    ranges = _ranges(accept) if accept else []
    if not ranges:
        return offers[0] if offers else None
    best, weight = None, 0.0
    for offer in offers:
        w = _weight(offer, ranges)
        if w > weight:
            best, weight = offer, w
    return best


def accepts_any(accept: str | None, offers: Sequence[str]) -> bool:
    """Whether the ``Accept`` header accepts at least one of ``offers``."""
    return negotiate(accept, offers) is not None
