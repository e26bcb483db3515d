"""The metadata quality over HTTP: ``GET /api/v1/quality`` and ``GET
/api/v1/suggestions``.

Thin routes over :func:`lifecyclegraph.graph.metadata.metadata_quality` and
:func:`lifecyclegraph.graph.suggest.suggest`, behind the read guard like every other
read; the same answers as ``lifecyclegraph quality --format json`` and
``lifecyclegraph suggest --format json``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from lifecyclegraph.server.auth import read_guard
from lifecyclegraph.server.models import ProblemModel
from lifecyclegraph.server.routes.entities import NO_AS_OF

__all__ = ["router"]


router = APIRouter(prefix="/api/v1", tags=["quality"], dependencies=[Depends(read_guard)])

_PROBLEM = {"model": ProblemModel, "content": {"application/problem+json": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_PROBLEM, "description": "a parameter out of range"},
    401: {**_PROBLEM, "description": "this server needs a read token"},
}

Limit = Annotated[
    int, Query(ge=0, le=100_000, description="the most entities listed, lowest scores first")
]
Kinds = Annotated[
    list[Literal["similar-models", "missing-feature", "unconsumed-output"]] | None,
    Query(description="only these kinds (default: every kind)"),
]
Similarity = Annotated[
    float, Query(gt=0, le=1, description="the least Jaccard similarity of two models")
]
MaxAge = Annotated[float, Query(gt=0, le=36_500, description="days a hydration stays fresh")]


@router.get(
    "/quality", summary="The metadata's quality", responses=_ERRORS, dependencies=[NO_AS_OF]
)
def get_quality(request: Request, limit: Limit = 100, max_age_days: MaxAge = 7.0) -> JSONResponse:
    """Scores per entity, source, team and domain (completeness from the shapes'
    warnings, freshness, dangling references, owners unknown or deactivated), the
    rejected entities with their reasons, the dead letters, and the sources gone silent
    against their usual event rate (see ``docs/stewards.md``)."""
    from lifecyclegraph.graph.metadata import metadata_quality

    service = request.app.state.service
    report = metadata_quality(
        service.graph,
        service.journal,
        validator=service.ingestor.validator,
        max_age=timedelta(days=max_age_days),
    )
    return JSONResponse(report.as_dict(limit))


@router.get(
    "/suggestions",
    summary="Relationships the graph suggests",
    responses=_ERRORS,
    dependencies=[NO_AS_OF],
)
def get_suggestions(
    request: Request, kind: Kinds = None, min_similarity: Similarity = 0.3
) -> JSONResponse:
    """Models that share features (Jaccard similarity), features similar models use and
    a model does not, pipeline outputs nobody consumes: each with a score and the
    reason, marked ``suggested``; never facts of the graph."""
    from lifecyclegraph.graph.suggest import KINDS, suggest

    graph = request.app.state.service.graph
    found = suggest(graph, min_similarity=min_similarity, kinds=kind or KINDS)
    return JSONResponse({"suggestions": [s.as_dict() for s in found]})
