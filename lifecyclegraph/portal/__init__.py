"""The portal: server-rendered pages over the door (:class:`~lifecyclegraph.graph.door.Graph`).

``lifecyclegraph serve`` answers ``/`` with the search page; every entity, of any type
the ontology names, has a page (``/portal/entity?uri=...``) with its relationships
(inferred ones marked, each with its "why"), its history and an as-of control; the
lineage view draws the graph with the vendored cytoscape, the query pages are the
vendored YASGUI and GraphiQL. :mod:`.pages` builds each
page's data from the door alone, :mod:`.render` turns it into HTML with autoescaped
Jinja2 templates; all script is in static files, so the Content-Security-Policy
(:data:`.render.CSP`) forbids inline script. See ``docs/portal.md``.
"""

from __future__ import annotations

from lifecyclegraph.portal.pages import (
    entity_page,
    explanation_page,
    lineage_page,
    search_page,
)
from lifecyclegraph.portal.render import CSP, GRAPHIQL_CSP, SPARQL_CSP, render, static_file

__all__ = [
    "CSP",
    "GRAPHIQL_CSP",
    "SPARQL_CSP",
    "entity_page",
    "explanation_page",
    "lineage_page",
    "render",
    "search_page",
    "static_file",
]
