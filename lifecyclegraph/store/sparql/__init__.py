"""SPARQL over the current state, safely: the library behind the ``/sparql`` endpoint.

:func:`execute` runs one query and returns the serialized result; with a
``timeout`` it runs in a worker process that is killed at the deadline. A
:class:`QueryPool` keeps such workers for many queries (the HTTP endpoint uses one).

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory()
>>> _ = graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"),
...                                  "lg:name": "M", "lg:sourceId": "m"}), source="registry")
>>> result = execute(graph.store, "SELECT ?n WHERE { ?m a lg:Model ; lg:name ?n }",
...                  accept="text/tab-separated-values")
>>> result.media_type, result.body
('text/tab-separated-values', b'?n\\n"M"\\n')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lifecyclegraph.core.errors import QueryRequestError
from lifecyclegraph.store import SnapshotStore
from lifecyclegraph.store.past import PastView
from lifecyclegraph.store.sparql.pool import QueryPool
from lifecyclegraph.store.sparql.run import QueryRequest, QueryResult, evaluate

__all__ = ["QueryPool", "QueryRequest", "QueryResult", "evaluate", "execute"]


def execute(
    store: SnapshotStore,
    query: str,
    *,
    accept: str | None = None,
    default_graphs: Sequence[str] | None = None,
    named_graphs: Sequence[str] | None = None,
    base_iri: str | None = None,
    max_results: int | None = None,
    timeout: float | None = None,
    as_of: datetime | None = None,
) -> QueryResult:
    """Run a SPARQL query on the current state of ``store`` (or its state at ``as_of``)
    and serialize the result.

    Without ``default_graphs`` and ``named_graphs`` the default graph is the union of
    every graph (the current state, see ``docs/dataset-layout.md``); the standard
    prefixes are predeclared. ``SERVICE`` is refused.

    Args:
        store: the store (``graph.store`` of a :class:`~lifecyclegraph.LifecycleGraph`).
        query: the SPARQL query.
        accept: an HTTP ``Accept`` value choosing the result format (default: SPARQL
            JSON for SELECT and ASK, Turtle for CONSTRUCT and DESCRIBE).
        default_graphs: graphs whose merge is the default graph.
        named_graphs: the graphs ``GRAPH`` can see.
        base_iri: the IRI relative IRIs resolve against.
        max_results: refuse results with more rows or triples.
        timeout: stop the query after this many seconds. The query then runs in a new
            worker process (about a second to start); for many queries keep a
            :class:`QueryPool`. ``None`` runs it here, with no limit.
        as_of: run it on the graph as it was at this time (time zone aware), as
            ``graph.as_of(as_of).sparql(query)`` does.

    Returns:
        The serialized result with its media type.

    Raises:
        QueryError: a subclass says what went wrong (syntax, refused feature, not
            acceptable, too many results, timeout).
    """
    request = QueryRequest(
        query,
        accept,
        default_graphs,
        named_graphs,
        base_iri,
        max_results,
    )
    if as_of is not None and as_of.tzinfo is None:
        raise QueryRequestError("as_of needs a time zone (use UTC)")
    if timeout is None:
        if as_of is not None:
            return evaluate(PastView(store, as_of).dataset().store, request)
        return evaluate(store.current, request)
    with QueryPool(store, workers=1, timeout=timeout, max_results=max_results) as pool:
        return pool.execute(
            query,
            accept=accept,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            base_iri=base_iri,
            as_of=as_of,
        )
