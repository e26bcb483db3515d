"""Search over HTTP: ``GET /api/v1/search`` (entities) and ``/api/v1/search/owners``.

Each route checks its parameters and calls the door's ``search()`` or
``search_owners()``, so the hits, their order, the totals and the facets are those
``graph.search()`` gives in Python (``docs/search.md``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from lifecyclegraph.core.errors import SearchQueryError
from lifecyclegraph.graph.door import Graph
from lifecyclegraph.graph.wire import dump_search_results
from lifecyclegraph.server.auth import read_guard
from lifecyclegraph.server.models import ProblemModel
from lifecyclegraph.server.problems import Problem
from lifecyclegraph.server.routes.entities import NO_AS_OF

__all__ = ["router"]


_PROBLEM = {"model": ProblemModel, "content": {"application/problem+json": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        **_PROBLEM,
        "description": "an unknown type or domain (with the near miss), a bad page or page size",
    },
    401: {**_PROBLEM, "description": "this server needs a read token"},
    404: {
        **_PROBLEM,
        "description": "search is off on this server ([search] enabled = false): "
        '`"search": "disabled"`',
    },
}
router = APIRouter(
    prefix="/api/v1/search",
    tags=["search"],
    dependencies=[Depends(read_guard)],
    responses=_ERRORS,
)

Text = Annotated[str, Query(max_length=1000, description="the words to find (empty: all)")]
Filter = Annotated[list[str] | None, Query(description="any of these values (repeatable)")]
Page = Annotated[int, Query(ge=1, le=100_000, description="1-based page number")]
PageSize = Annotated[int, Query(ge=1, le=1000, description="hits per page")]


def _graph(request: Request) -> Graph:
    if not request.app.state.service.config.search.enabled:
        raise Problem(
            404,
            "Not Found",
            "search is off on this server ([search] enabled = false in its configuration)",
            search="disabled",
        )
    graph: Graph = request.app.state.service.graph
    return graph


def _filter(values: list[str] | None, name: str) -> list[str] | None:
    for value in values or ():
        if len(value) > 1000:
            raise Problem(400, "Bad Request", f"{name}: a value is over 1000 characters")
    return values or None


@router.get("", summary="Search entities of every type", dependencies=[NO_AS_OF])
def search(
    request: Request,
    q: Text = "",
    type: Filter = None,
    owner: Filter = None,
    tag: Filter = None,
    domain: Filter = None,
    page: Page = 1,
    page_size: PageSize = 20,
    facets: bool = True,
) -> JSONResponse:
    """A page of hits (uri, name, type, score, highlights with ``<mark>``), the total,
    and facet counts by type, owner, tag and domain. ``type``, ``owner``, ``tag`` and
    ``domain`` are repeatable: any of the values of one, all of them together."""
    graph = _graph(request)
    try:
        results = graph.search(
            q,
            type=_filter(type, "type"),
            owner=_filter(owner, "owner"),
            tag=_filter(tag, "tag"),
            domain=_filter(domain, "domain"),
            page=page,
            page_size=page_size,
            facets=facets,
        )
    except SearchQueryError as error:
        raise Problem(400, "Bad Request", str(error)) from None
    return JSONResponse(dump_search_results(results))


@router.get("/owners", summary="Search users and teams", dependencies=[NO_AS_OF])
def search_owners(
    request: Request, q: Text = "", page: Page = 1, page_size: PageSize = 20
) -> JSONResponse:
    """Users and teams by name, id, email or team, as ``/api/v1/search`` answers."""
    graph = _graph(request)
    try:
        results = graph.search_owners(q, page=page, page_size=page_size)
    except SearchQueryError as error:
        raise Problem(400, "Bad Request", str(error)) from None
    return JSONResponse(dump_search_results(results))
