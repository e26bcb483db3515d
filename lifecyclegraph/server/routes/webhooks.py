"""``POST /api/v1/webhooks/{platform}``: a source's webhook deliveries (MLflow's registry
webhooks), checked by the source's provider with the shared secret and turned into
thin events, acknowledged once durably recorded.

No bearer token: a source such as MLflow cannot send one. The provider checks the
delivery's signature instead (``403`` when it does not match:
the delivery carries its credential, which is refused; there is no token to ask for).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lifecyclegraph.core.events import WebhookRejected
from lifecyclegraph.server.body import read_body
from lifecyclegraph.server.problems import Problem

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["events"])

TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}


@router.post(
    "/webhooks/{platform}",
    status_code=202,
    summary="Receive a source's signed webhook delivery (MLflow: /api/v1/webhooks/mlflow)",
    responses={
        202: {"description": "recorded durably (the events the delivery means)"},
        400: {"description": "not a delivery of that source"},
        403: {"description": "no signature, one that does not match, or a stale delivery"},
        404: {"description": "no such source, or it takes no webhooks"},
        413: {"description": "too large"},
    },
)
async def post_webhook(request: Request, platform: str) -> JSONResponse:
    """Check a delivery's signature, then record the events it means (202)."""
    service = request.app.state.service
    body = await read_body(request, service.config.server.max_request_bytes)
    try:
        result = await run_in_threadpool(
            service.receive_webhook, platform, dict(request.headers), body
        )
    except WebhookRejected as error:
        raise Problem(error.status, TITLES.get(error.status, "Bad Request"), error.reason) from None
    rejected = [{"index": i, "reason": r} for i, r in result.rejected]
    if rejected and not result.accepted:
        raise Problem(
            400, "Bad Request", "; ".join(r["reason"] for r in rejected), rejected=rejected
        )
    return JSONResponse({"accepted": result.accepted, "rejected": rejected}, status_code=202)
