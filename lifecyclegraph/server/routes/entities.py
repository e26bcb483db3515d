"""The read API under ``/api/v1``: an entity, its history, lineage, impact, explanations.

Each route checks its parameters and calls one function of :mod:`lifecyclegraph.read.views`
or :mod:`lifecyclegraph.graph.lineage`. An entity's URI goes in the path
(``/api/v1/entities/aip://model/registry/m``) or, for URIs whose resource id holds an
escaped ``/``, in the query (``/api/v1/entity?uri=...``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from lifecyclegraph.core.errors import InvalidUriError
from lifecyclegraph.graph.door import Graph, PastGraph
from lifecyclegraph.graph.lineage import UnknownTypeError
from lifecyclegraph.read.views import (
    check_uri,
    deletion_view,
    entity_jsonld,
    entity_view,
    explanation_view,
    history_view,
)
from lifecyclegraph.server.auth import read_guard
from lifecyclegraph.server.models import (
    EntityModel,
    ExplanationModel,
    HistoryModel,
    ImpactModel,
    LineageModel,
    ProblemModel,
)
from lifecyclegraph.server.problems import Problem

__all__ = ["router"]

JSONLD = "application/ld+json"


router = APIRouter(prefix="/api/v1", tags=["entities"], dependencies=[Depends(read_guard)])

_PROBLEM = {"model": ProblemModel, "content": {"application/problem+json": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        **_PROBLEM,
        "description": "a malformed AIP URI or parameter, or an unknown lineage `type` "
        "(`known` lists the types)",
    },
    401: {**_PROBLEM, "description": "this server needs a read token"},
    404: {**_PROBLEM, "description": "the graph does not know the entity"},
    410: {
        **_PROBLEM,
        "description": "the entity was deleted: `deleted_at` says when, `deleted_by` "
        "which source, `snapshot` its tombstone",
    },
}
EXAMPLE_URI = "aip://model/registry/ranking-model-v5-20XX0101"


def refuse_as_of(request: Request) -> None:
    """Refuse ``as_of`` on a route that can only answer for now (a dependency).

    Lineage, impact, explanations, search, quality and suggestions read what the rules
    derived and the search index: both hold the current state only, and answering
    for now what was asked for a past time would mislead.

    Raises:
        Problem: 400 naming the parameter and where the past can be read.
    """
    if "as_of" in request.query_params:
        raise Problem(
            400,
            "Bad Request",
            f"as_of is not offered by {request.url.path}: it answers from derived facts "
            "or the search index, which hold the current state only; the graph as it was "
            "is read by /api/v1/entity?as_of=, /api/v1/history?as_of=, /sparql?as_of= "
            "and GraphQL's asOf",
            parameter="as_of",
        )


NO_AS_OF = Depends(refuse_as_of)

UriQuery = Annotated[str, Query(description="the entity's AIP URI", examples=[EXAMPLE_URI])]
AsOf = Annotated[
    datetime | None,
    Query(description="the entity as it was at this time (ISO 8601 with a zone)"),
]
Limit = Annotated[int, Query(ge=1, le=100_000, description="relationships listed per direction")]
Direction = Annotated[str, Query(pattern="^(upstream|downstream)$")]
Depth = Annotated[int, Query(ge=1, le=100)]
Types = Annotated[list[str] | None, Query(description="keep only these classes")]


def _graph(request: Request) -> Graph:
    return request.app.state.service.graph


def _uri(uri: str) -> str:
    try:
        return check_uri(uri)
    except InvalidUriError as error:
        raise Problem(400, "Bad Request", str(error)) from None


def _missing(graph: Graph | PastGraph, uri: str, when: str = "") -> Problem:
    """``410 Gone`` for a deleted entity (with when, and which source said so), else
    ``404 Not Found``."""
    tombstone = deletion_view(graph, uri)
    if tombstone is None:
        return Problem(404, "Not Found", f"the graph does not know {uri}{when}")
    return Problem(
        410,
        "Gone",
        f"{uri} was deleted at {tombstone['observedAt']} (source {tombstone['source']})",
        deleted_at=tombstone["observedAt"],
        deleted_by=tombstone["source"],
        snapshot=tombstone["snapshot"],
    )


def _explain_link(request: Request) -> Any:
    base = str(request.url_for("explain_fact").path)

    def link(s: str, p: str, o: str) -> str:
        return f"{base}?{urlencode({'s': s, 'p': p, 'o': o})}"

    return link


def _entity(request: Request, uri: str, as_of: datetime | None, limit: int) -> JSONResponse:
    uri = _uri(uri)
    graph: Any = _graph(request)
    if as_of is not None:
        if as_of.tzinfo is None:
            raise Problem(400, "Bad Request", "as_of needs a time zone, e.g. 2026-01-02T00:00:00Z")
        graph = graph.as_of(as_of)
    when = f" at {as_of.isoformat()}" if as_of else ""
    if JSONLD in request.headers.get("accept", ""):
        node = entity_jsonld(graph, uri)
        if node is None:
            raise _missing(graph, uri, when)
        return JSONResponse(node, media_type=JSONLD)
    view = entity_view(graph, uri, explain_link=_explain_link(request), limit=limit)
    if view is None:
        raise _missing(graph, uri, when)
    return JSONResponse(view)


_ENTITY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": EntityModel,
        "description": "the entity; JSON-LD with `Accept: application/ld+json`",
        "content": {JSONLD: {"schema": {"type": "object"}}},
    },
    **_ERRORS,
}


@router.get(
    "/entities/{uri:path}/history",
    summary="Every snapshot of an entity",
    response_model=HistoryModel,
    responses=_ERRORS,
)
def get_history_by_path(request: Request, uri: str, as_of: AsOf = None) -> JSONResponse:
    """Every snapshot of the entity, oldest first: when, from which source and event,
    and the facts it held (with ``as_of``, those observed by then)."""
    return get_history(request, uri, as_of)


@router.get(
    "/entities/{uri:path}/lineage",
    dependencies=[NO_AS_OF],
    summary="Where an entity comes from, or what it feeds",
    response_model=LineageModel,
    responses=_ERRORS,
)
def get_lineage_by_path(
    request: Request,
    uri: str,
    direction: Direction = "upstream",
    depth: Depth = 3,
    type: Types = None,
) -> JSONResponse:
    """The lineage of the entity: nodes with their distance, and the direct edges."""
    return get_lineage(request, uri, direction, depth, type)


@router.get(
    "/entities/{uri:path}/impact",
    dependencies=[NO_AS_OF],
    summary="What a change to an entity would touch",
    response_model=ImpactModel,
    responses=_ERRORS,
)
def get_impact_by_path(request: Request, uri: str) -> JSONResponse:
    """Everything downstream, with their owners, teams and the A/B tests running them."""
    return get_impact(request, uri)


@router.get(
    "/entities/{uri:path}",
    summary="An entity, with its relationships and freshness",
    response_model=EntityModel,
    responses=_ENTITY_RESPONSES,
)
def get_entity_by_path(
    request: Request, uri: str, as_of: AsOf = None, limit: Limit = 1000
) -> JSONResponse:
    """The entity's types, properties, relationships (asserted ones with the snapshot
    that asserts them, inferred ones with a link to their explanation) and freshness."""
    return _entity(request, uri, as_of, limit)


@router.get(
    "/entity",
    summary="An entity (URI in the query)",
    response_model=EntityModel,
    responses=_ENTITY_RESPONSES,
)
def get_entity(
    request: Request, uri: UriQuery, as_of: AsOf = None, limit: Limit = 1000
) -> JSONResponse:
    """As ``GET /api/v1/entities/{uri}``, with the URI in the query string."""
    return _entity(request, uri, as_of, limit)


@router.get(
    "/history",
    summary="Every snapshot of an entity",
    response_model=HistoryModel,
    responses=_ERRORS,
)
def get_history(request: Request, uri: UriQuery, as_of: AsOf = None) -> JSONResponse:
    """Every snapshot of the entity, oldest first (with ``as_of``, those observed by
    then)."""
    graph = _graph(request)
    if as_of is not None and as_of.tzinfo is None:
        raise Problem(400, "Bad Request", "as_of needs a time zone, e.g. 2026-01-02T00:00:00Z")
    view = history_view(graph, _uri(uri), as_of)
    if view is None:
        known = f"did not know {uri} at {as_of.isoformat()}" if as_of else f"does not know {uri}"
        raise Problem(404, "Not Found", f"the graph {known}")
    return JSONResponse(view)


@router.get(
    "/lineage",
    dependencies=[NO_AS_OF],
    summary="Where an entity comes from, or what it feeds",
    response_model=LineageModel,
    responses=_ERRORS,
)
def get_lineage(
    request: Request,
    uri: UriQuery,
    direction: Direction = "upstream",
    depth: Depth = 3,
    type: Types = None,
) -> JSONResponse:
    """Nodes up to ``depth`` hops away along ``lg:dependsOn``, each with its distance,
    and the direct edges between them; ``type`` (repeatable) keeps nodes of those
    classes only."""
    graph = _graph(request)
    try:
        view = graph.lineage(_uri(uri), direction=direction, depth=depth, types=type or ())  # type: ignore[arg-type]
    except UnknownTypeError as error:
        raise Problem(400, "Bad Request", str(error), known=error.known) from None
    if view is None:
        raise _missing(graph, uri)
    return JSONResponse(view)


@router.get(
    "/impact",
    dependencies=[NO_AS_OF],
    summary="What a change to an entity would touch",
    response_model=ImpactModel,
    responses=_ERRORS,
)
def get_impact(request: Request, uri: UriQuery) -> JSONResponse:
    """Every entity downstream, their owners and teams, and the A/B tests running them."""
    graph = _graph(request)
    view = graph.impact(_uri(uri))
    if view is None:
        raise _missing(graph, uri)
    return JSONResponse(view)


@router.get(
    "/explain",
    dependencies=[NO_AS_OF],
    name="explain_fact",
    summary="Why a fact holds",
    response_model=ExplanationModel,
    responses={
        **_ERRORS,
        404: {**_PROBLEM, "description": "the fact does not hold (or rules are off)"},
    },
)
def explain_fact(
    request: Request,
    s: Annotated[str, Query(description="the subject's URI", examples=[EXAMPLE_URI])],
    p: Annotated[
        str,
        Query(description="the property (prefix:local or IRI)", examples=["lg:associatedAbTest"]),
    ],
    o: Annotated[
        str,
        Query(
            description="the object: a URI or a literal's text",
            examples=["aip://ab-test/experimentation/12345"],
        ),
    ],
) -> JSONResponse:
    """The derivation tree of a fact, down to the asserted facts, each with the
    snapshot, source and time that asserts it."""
    graph = _graph(request)
    _uri(s)
    try:
        view = explanation_view(graph, s, p, o)
    except ValueError as error:
        raise Problem(400, "Bad Request", f"not a fact: {error}") from None
    if view is None:
        why = "" if graph.has_rules else " (the rule engine is off on this server)"
        raise Problem(404, "Not Found", f"the fact does not hold{why}: <{s}> {p} {o}")
    return JSONResponse(view)
