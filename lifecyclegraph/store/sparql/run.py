"""Running one SPARQL query on an Oxigraph dataset, in the calling process.

This is the whole of a query's work: the safety check, Oxigraph's evaluation, the
result limit and the serialization in the negotiated format. The worker processes
of :class:`lifecyclegraph.store.sparql.QueryPool` call :func:`evaluate` on a checkpoint of
the current dataset; :func:`lifecyclegraph.store.sparql.execute` calls it directly.

>>> from pyoxigraph import Literal, NamedNode, Quad, Store
>>> dataset = Store()
>>> dataset.add(Quad(NamedNode("aip://model/registry/m"), NamedNode(PREFIXES["lg"] + "name"),
...                  Literal("M"), NamedNode("https://w3id.org/lifecyclegraph/snapshot/1")))
>>> result = evaluate(dataset, QueryRequest("SELECT ?n WHERE { ?m lg:name ?n }", "text/csv"))
>>> result.media_type, result.body, result.count
('text/csv', b'n\\r\\nM\\r\\n', 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from pyoxigraph import (
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    Store,
    parse_query_results,
    serialize,
)

from lifecyclegraph.core.errors import (
    NotAcceptableError,
    QueryEvaluationError,
    ResultLimitError,
)
from lifecyclegraph.core.vocab import PREFIXES
from lifecyclegraph.store.sparql.formats import (
    BOOLEAN,
    GRAPH,
    RDF_FORMATS,
    RESULTS_FORMATS,
    SOLUTIONS,
    negotiate,
)
from lifecyclegraph.store.sparql.safety import check_query, oxigraph_syntax_error
from lifecyclegraph.store.sparql_dataset import protocol_options, query_options

__all__ = ["QueryRequest", "QueryResult", "evaluate"]


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """One SPARQL query with its protocol parameters (plain data: it crosses processes).

    Args:
        query: the SPARQL query text; the standard prefixes (``lg:``, ``prov:``…) are
            predeclared.
        accept: the client's ``Accept`` header (``None``: anything).
        default_graphs: ``default-graph-uri`` values: these graphs, merged, are the
            default graph. ``None`` (and no ``named_graphs``) means the query's
            ``FROM`` and ``FROM NAMED``, or without them the current state: the
            union of every graph.
        named_graphs: ``named-graph-uri`` values: the only graphs ``GRAPH`` can see.
        base_iri: the IRI relative IRIs in the query resolve against.
        max_results: refuse a result with more rows (or triples) than this.

    Graph lists may be any sequence; they are kept as tuples.
    """

    query: str
    accept: str | None = None
    default_graphs: Sequence[str] | None = None  # a tuple once made
    named_graphs: Sequence[str] | None = None
    base_iri: str | None = None
    max_results: int | None = None

    def __post_init__(self) -> None:
        for name in ("default_graphs", "named_graphs"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A serialized result: ``body`` in ``media_type``.

    ``kind`` is ``"solutions"`` (SELECT), ``"boolean"`` (ASK) or ``"graph"``
    (CONSTRUCT, DESCRIBE); ``count`` the rows or triples (``None`` for ASK).
    """

    body: bytes
    media_type: str
    kind: str
    count: int | None


class _RowLimit:
    """A binary sink for TSV results that stops the query past ``limit`` rows.

    TSV holds one line per row after the header (line breaks inside literals are
    escaped), so counting newlines counts rows; raising from ``write`` stops
    Oxigraph's evaluation there and then.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.lines = 0

    def write(self, chunk: bytes) -> int:
        self.lines += chunk.count(b"\n")
        if self.limit is not None and self.lines - 1 > self.limit:
            raise _TooMany
        self.chunks.append(bytes(chunk))
        return len(chunk)

    def flush(self) -> None:
        pass


class _TooMany(Exception):
    pass


def _too_many(limit: int, what: str) -> ResultLimitError:
    return ResultLimitError(
        f"the result has more than {limit} {what}, this service's limit (max_results); "
        "narrow the query or page through it with LIMIT and OFFSET",
        limit,
    )


def _dataset_options(request: QueryRequest) -> dict[str, Any]:
    if request.default_graphs is None and request.named_graphs is None:
        return query_options(request.query)  # FROM and FROM NAMED, or the union
    return protocol_options(request.default_graphs, request.named_graphs)


def _choose(accept: str | None, offers: tuple[str, ...], what: str) -> str:
    chosen = negotiate(accept, offers)
    if chosen is None:
        raise NotAcceptableError(
            f"{what} can be sent as {', '.join(offers)}; the request accepts none of them "
            f"(Accept: {accept})",
            list(offers),
        )
    return chosen


def evaluate(dataset: Store, request: QueryRequest) -> QueryResult:
    """Run ``request`` on ``dataset`` and serialize its result as the client prefers.

    Raises:
        QueryRefusedError: the query uses ``SERVICE``.
        QuerySyntaxError: the query is not valid SPARQL (with Oxigraph's line and column).
        QueryRequestError: a graph name is not an IRI.
        QueryEvaluationError: the query calls a function Oxigraph does not have, or
            with the wrong number of arguments.
        NotAcceptableError: the result cannot be sent in any accepted media type.
        ResultLimitError: the result has more than ``max_results`` rows or triples.
    """
    check_query(request.query)
    try:
        return _evaluate(dataset, request)
    except RuntimeError as error:
        if str(error).startswith(_QUERY_FAULTS):
            raise QueryEvaluationError(f"the query cannot be evaluated: {error}") from None
        raise


#: How Oxigraph's messages begin when evaluation failed because of the query itself
#: (it raises RuntimeError for these as for its own failures).
_QUERY_FAULTS = (
    "The custom function ",  # unknown function, or a known one with wrong arguments
    "The variable encoding the service name is unbound",
)


def _evaluate(dataset: Store, request: QueryRequest) -> QueryResult:
    try:
        result = dataset.query(
            request.query,
            base_iri=request.base_iri,
            prefixes=PREFIXES,
            **_dataset_options(request),
        )
    except SyntaxError as error:
        raise oxigraph_syntax_error(error) from None
    limit = request.max_results
    if isinstance(result, QueryBoolean):
        media_type = _choose(request.accept, BOOLEAN, "An ASK result")
        body = result.serialize(format=RESULTS_FORMATS[media_type]) or b""
        return QueryResult(body, media_type, "boolean", None)
    if isinstance(result, QuerySolutions):
        media_type = _choose(request.accept, SOLUTIONS, "A SELECT result")
        sink = _RowLimit(limit)
        try:
            result.serialize(sink, format=QueryResultsFormat.TSV)  # type: ignore[arg-type]
        except _TooMany:
            raise _too_many(limit or 0, "rows") from None
        tsv = b"".join(sink.chunks)
        wanted = RESULTS_FORMATS[media_type]
        if wanted != QueryResultsFormat.TSV:
            solutions = parse_query_results(tsv, format=QueryResultsFormat.TSV)
            body = solutions.serialize(format=wanted) or b""
        else:
            body = tsv
        return QueryResult(body, media_type, "solutions", max(sink.lines - 1, 0))
    assert isinstance(result, QueryTriples)
    media_type = _choose(request.accept, GRAPH, "A CONSTRUCT or DESCRIBE result")
    triples = list(islice(result, limit + 1)) if limit is not None else list(result)
    if limit is not None and len(triples) > limit:
        raise _too_many(limit, "triples")
    rdf_format = RDF_FORMATS[media_type]
    if media_type in ("application/trig", "application/n-quads"):
        # Dataset formats take quads: the result is the default graph.
        triples = [Quad(t.subject, t.predicate, t.object) for t in triples]
    prefixes = PREFIXES if media_type in ("text/turtle", "application/trig") else None
    body = serialize(triples, format=rdf_format, prefixes=prefixes) or b""
    return QueryResult(body, media_type, "graph", len(triples))
