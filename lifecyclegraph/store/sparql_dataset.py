"""The RDF dataset a SPARQL query runs on: the current state, or the one it names.

Every SPARQL entry point (:meth:`LifecycleGraph.sparql`, ``store.query``,
``lifecyclegraph sparql``, the ``/sparql`` endpoint) picks the dataset the same way,
as SPARQL 1.1 says (``docs/sparql.md``):

1. a dataset given by the caller (the protocol's ``default-graph-uri`` and
   ``named-graph-uri``, or Oxigraph's ``default_graph`` option) wins over the query's;
2. otherwise the query's own ``FROM`` and ``FROM NAMED`` make it: the merge of the
   ``FROM`` graphs is the default graph (an empty one when there is only
   ``FROM NAMED``), the ``FROM NAMED`` graphs are the only named graphs;
3. otherwise the default graph is the union of every graph (the current state) and
   every graph is a named graph.

Oxigraph's ``use_default_graph_as_union`` replaces the query's ``FROM``, so it is
only set for a query without one. Whether a query has a dataset clause is read from
its tokens: outside IRIs, strings and comments, the keyword ``FROM`` is a word of
its own, where a variable (``?from``), a prefixed name (``prov:wasDerivedFrom``,
``from:x``), a blank node (``_:from``) or a language tag (``@from``) carry a mark
that keeps them apart. SPARQL has ``FROM`` nowhere else (a sub-query has no
dataset clause), so the check is exact on every query Oxigraph accepts.

>>> has_dataset_clause("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }")
True
>>> has_dataset_clause('SELECT ?from WHERE { ?from prov:wasDerivedFrom "FROM" } # FROM')
False
>>> query_options("SELECT * WHERE { ?s ?p ?o }")
{'use_default_graph_as_union': True}
>>> query_options("SELECT * FROM NAMED <urn:g> WHERE { ?s ?p ?o }")
{}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pyoxigraph import NamedNode

from lifecyclegraph.core.errors import QueryRequestError

__all__ = [
    "DATASET_OPTIONS",
    "has_dataset_clause",
    "protocol_options",
    "query_options",
    "without_dataset_clauses",
]

#: Oxigraph's ``Store.query`` options that choose the default graph.
DATASET_OPTIONS = ("default_graph", "use_default_graph_as_union")

# One token at a time, left to right: what hides words (IRIs, the four string forms,
# comments), then a word (a run of non-delimiters; ``\x`` is an escaped character of
# a local name), then any single other character. The whitespace is SPARQL's own.
_TOKENS = re.compile(
    r"""(?P<opaque><[^<>"{}|^`\\\x00-\x20]*+>"""
    r'''|"""[^"\\]*+(?:(?:\\.|"(?!""))[^"\\]*+)*+(?:"""|$)'''
    r"""|'''[^'\\]*+(?:(?:\\.|'(?!''))[^'\\]*+)*+(?:'''|$)"""
    r"""|"[^"\\\n\r]*+(?:\\.[^"\\\n\r]*+)*+"?"""
    r"""|'[^'\\\n\r]*+(?:\\.[^'\\\n\r]*+)*+'?"""
    r"""|\#[^\n\r]*+)"""
    r"""|(?P<word>(?:\\.|[^ \t\r\n(){}\[\],;<>"'\#=!&|+*/^])++)"""
    r"""|.""",
    re.DOTALL,
)


def has_dataset_clause(query: str) -> bool:
    """Whether a SPARQL query has a ``FROM`` or ``FROM NAMED`` clause.

    >>> has_dataset_clause("SELECT*FROM<urn:g>WHERE{}")
    True
    >>> has_dataset_clause("SELECT * WHERE { ?s lg:from <urn:from> }")
    False
    """
    if "from" not in query.lower():
        return False
    for match in _TOKENS.finditer(query):
        word = match.group("word")
        if word is not None and word.lower() == "from":
            return True
    return False


def without_dataset_clauses(query: str) -> str:
    """A SPARQL query with its ``FROM`` and ``FROM NAMED`` clauses taken out (for a
    store that gets the dataset as protocol parameters and might prefer the query's
    own: Virtuoso does).

    >>> without_dataset_clauses("SELECT*FROM<urn:g>FROM NAMED g:h WHERE{?s <urn:from> 'FROM'}")
    "SELECT*   WHERE{?s <urn:from> 'FROM'}"
    """
    if not has_dataset_clause(query):
        return query
    kept: list[str] = []
    skipping = 0  # 1: after FROM (NAMED may come), 2: the graph's IRI comes
    for match in _TOKENS.finditer(query):
        token = match.group(0)
        word = match.group("word")
        if skipping and token.isspace():
            continue
        if skipping == 1 and word is not None and word.lower() == "named":
            skipping = 2
            continue
        if skipping:  # the IRI, written <...> or as a prefixed name
            skipping = 0
            kept.append(" ")
            continue
        if word is not None and word.lower() == "from":
            skipping = 1
            continue
        kept.append(token)
    return "".join(kept)


def query_options(query: str, **options: Any) -> dict[str, Any]:
    """Oxigraph's query ``options``, with the default graph chosen as the module says.

    Options that already choose the default graph (:data:`DATASET_OPTIONS`) are kept
    as they are; otherwise a query without ``FROM``/``FROM NAMED`` gets the union of
    every graph as its default graph, and one with them its own dataset.

    >>> query_options("ASK { ?s ?p ?o }", default_graph=[])
    {'default_graph': []}
    """
    if any(name in options for name in DATASET_OPTIONS) or has_dataset_clause(query):
        return options
    return {**options, "use_default_graph_as_union": True}


def protocol_options(
    default_graphs: Sequence[str] | None, named_graphs: Sequence[str] | None
) -> dict[str, Any]:
    """Oxigraph's query options for a dataset given by the SPARQL protocol's
    ``default-graph-uri`` and ``named-graph-uri``: it replaces the query's ``FROM`` and
    ``FROM NAMED``, and graphs it does not list are not part of it (SPARQL 1.1
    Protocol, section 2.1.4).

    >>> protocol_options(["urn:g"], None)
    {'default_graph': [<NamedNode value=urn:g>], 'named_graphs': []}

    Raises:
        QueryRequestError: a graph that is not an IRI, named with its parameter.
    """
    return {
        "default_graph": _graphs(default_graphs, "default-graph-uri"),
        "named_graphs": _graphs(named_graphs, "named-graph-uri"),
    }


def _graphs(iris: Sequence[str] | None, parameter: str) -> list[NamedNode]:
    nodes = []
    for iri in iris or ():
        try:
            nodes.append(NamedNode(iri))
        except ValueError as error:
            raise QueryRequestError(f"{parameter} {iri!r} is not an IRI: {error}") from None
    return nodes
