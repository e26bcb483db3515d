"""The portal's pages: ``/`` (search), ``/portal/entity``, ``/portal/why``,
``/portal/lineage``, ``/portal/quality``, ``/portal/sparql``, ``/portal/graphql`` and
the static files under ``/portal/static/``.

Each page calls one function of :mod:`lifecyclegraph.portal` on the door and renders
its template; every answer carries the portal's Content-Security-Policy (no inline
script). The pages are behind the read guard like every other read (``docs/portal.md``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from lifecyclegraph.core.errors import InvalidUriError, SearchQueryError
from lifecyclegraph.graph.door import Graph
from lifecyclegraph.portal import (
    CSP,
    GRAPHIQL_CSP,
    SPARQL_CSP,
    entity_page,
    explanation_page,
    lineage_page,
    render,
    search_page,
    static_file,
)
from lifecyclegraph.portal.examples import GRAPHQL_EXAMPLES, SPARQL_EXAMPLES, with_prefixes
from lifecyclegraph.read.views import check_uri, deletion_view
from lifecyclegraph.server.auth import read_guard

__all__ = ["router"]

_HTML: dict[str, Any] = {"content": {"text/html": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_HTML, "description": "a malformed AIP URI, time or filter: the page says which"},
    401: {"description": "this server needs a read token"},
    404: {**_HTML, "description": "the graph does not know the entity (or the fact)"},
    410: {**_HTML, "description": "the entity was deleted: the page says when and by whom"},
}
router = APIRouter(tags=["portal"], responses=_ERRORS, include_in_schema=False)

Text = Annotated[str, Query(max_length=1000)]
Filter = Annotated[list[str] | None, Query()]
Page = Annotated[int, Query(ge=1, le=100_000)]
Depth = Annotated[int, Query(ge=1, le=6)]

#: Headers of every portal page and file.
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


Guard = Depends(read_guard)


def _graph(request: Request) -> Graph:
    graph: Graph = request.app.state.service.graph
    return graph


def _page(
    template: str, code: int = 200, headers: dict[str, str] = HEADERS, **context: Any
) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=code, headers=headers)


def _error(status: int, title: str, message: str) -> HTMLResponse:
    return _page("error.html", status, title=title, message=message)


def _check(uri: str) -> str | HTMLResponse:
    try:
        return check_uri(uri)
    except InvalidUriError as error:
        return _error(400, "Bad request", f"uri: {error}")


def _missing(graph: Graph, uri: str, when: str = "") -> HTMLResponse:
    tombstone = deletion_view(graph, uri)
    if tombstone is None:
        return _error(404, "Not found", f"The graph does not know {uri}{when}.")
    return _error(
        410,
        "Deleted",
        f"{uri} was deleted at {tombstone['observedAt']} by {tombstone['source']}.",
    )


def _as_of(text: str) -> datetime:
    """A time from the as-of control: ISO 8601, a time without a zone taken as UTC."""
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@router.get("/", dependencies=[Guard], response_class=HTMLResponse)
def search(
    request: Request,
    q: Text = "",
    type: Filter = None,
    owner: Filter = None,
    tag: Filter = None,
    page: Page = 1,
) -> HTMLResponse:
    """The search page: one box (suggestions as you type), facets, filters, highlights."""
    values = {"type": type or [], "owner": owner or [], "tag": tag or []}
    if not request.app.state.service.config.search.enabled:
        return _error(404, "Search is off", "search is off on this server ([search] enabled)")
    try:
        found = search_page(_graph(request), q, types=type, owners=owner, tags=tag, page=page)
    except SearchQueryError as error:
        empty: dict[str, list[Any]] = {"type": [], "owner": [], "tag": []}
        return _page(
            "search.html", 400, q=q, filters=values, error=str(error), total=0, hits=[],
            facets=empty, fuzzy=False, page=1, pages=1,
        )  # fmt: skip
    return _page("search.html", error=None, **found)


@router.get("/portal/entity", dependencies=[Guard], response_class=HTMLResponse)
def entity(request: Request, uri: Text, as_of: Text = "") -> HTMLResponse:
    """An entity's page, of any type: as it is now, or as of a past time."""
    checked = _check(uri)
    if isinstance(checked, HTMLResponse):
        return checked
    when = None
    if as_of.strip():
        try:
            when = _as_of(as_of)
        except ValueError:
            return _error(400, "Bad request", f"as_of: not a time: {as_of!r}")
    graph = _graph(request)
    page = entity_page(graph, checked, as_of=when)
    if page is None:
        if when is not None:
            return _error(404, "Not found", f"{checked} did not exist at {when.isoformat()}.")
        return _missing(graph, checked)
    return _page("entity.html", e=page)


@router.get("/portal/why", dependencies=[Guard], response_class=HTMLResponse)
def why(request: Request, s: Text, p: Text, o: Text) -> HTMLResponse:
    """Why a derived fact holds, down to the facts the sources asserted."""
    checked = _check(s)
    if isinstance(checked, HTMLResponse):
        return checked
    try:
        page = explanation_page(_graph(request), checked, p, o)
    except (ValueError, KeyError) as error:
        return _error(400, "Bad request", f"p: {error}")
    if page is None:
        return _error(404, "Not found", f"The graph does not derive {s} {p} {o}.")
    return _page("why.html", p=page)


@router.get("/portal/lineage", dependencies=[Guard], response_class=HTMLResponse)
def lineage(request: Request, uri: Text, depth: Depth = 2) -> HTMLResponse:
    """The lineage view: upstream and downstream, drawn and listed."""
    checked = _check(uri)
    if isinstance(checked, HTMLResponse):
        return checked
    page = lineage_page(_graph(request), checked, depth=depth)
    if page is None:
        return _missing(_graph(request), checked)
    return _page("lineage.html", l=page)


@router.get("/portal/quality", dependencies=[Guard], response_class=HTMLResponse)
def quality(request: Request) -> HTMLResponse:
    """The metadata's quality: SHACL warnings, stale and dangling entities, by team."""
    from lifecyclegraph.graph.metadata import metadata_quality

    service = request.app.state.service
    report = metadata_quality(
        service.graph, service.journal, validator=service.ingestor.validator,
        max_age=timedelta(days=7),
    )  # fmt: skip
    return _page("quality.html", q=report.as_dict(100))


@router.get("/portal/sparql", dependencies=[Guard], response_class=HTMLResponse)
def sparql_editor() -> HTMLResponse:
    """YASGUI with examples, running on ``/sparql`` (its table needs inline styles)."""
    examples = [(title, with_prefixes(text)) for title, text in SPARQL_EXAMPLES]
    headers = {**HEADERS, "Content-Security-Policy": SPARQL_CSP}
    return _page("sparql.html", headers=headers, examples=examples)


@router.get("/portal/graphql", dependencies=[Guard], response_class=HTMLResponse)
def graphql_editor() -> HTMLResponse:
    """GraphiQL with examples, running on ``/graphql`` (its fonts need a wider policy)."""
    headers = {**HEADERS, "Content-Security-Policy": GRAPHIQL_CSP}
    return _page("graphql.html", headers=headers, examples=GRAPHQL_EXAMPLES)


@router.get("/portal/static/{name:path}", dependencies=[Guard], response_model=None)
def static(name: str) -> Response:
    """The portal's scripts, styles and vendored libraries (guarded like the pages that
    load them)."""
    path = static_file(name)
    if path is None:
        return _error(404, "Not found", f"no portal file {name!r}")
    return FileResponse(path, headers={**HEADERS, "Cache-Control": "max-age=3600"})
