"""``POST /api/v1/events``: events in, acknowledged only once durably recorded."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lifecyclegraph.api.body import read_body
from lifecyclegraph.api.problems import Problem

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["events"])

EXAMPLE = {
    "event_type": "model_instance_created",
    "source": "registry",
    "instance_id": "ranking-model-v5-20XX0101",
    "emitted_at": "2026-01-01T00:00:00Z",
}


def _write_guard(request: Request) -> None:
    request.app.state.guard.require_write(request)


@router.post(
    "/events",
    status_code=202,
    dependencies=[Depends(_write_guard)],
    summary="Send one event or a JSON array of events",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"type": "object"},
                            {"type": "array", "items": {"type": "object"}},
                        ]
                    },
                    "example": EXAMPLE,
                }
            },
        }
    },
    responses={
        202: {"description": "recorded durably; bad ones in the array are listed"},
        400: {"description": "not JSON, or every event is invalid"},
        401: {"description": "no write token"},
        413: {"description": "too large"},
    },
)
async def post_events(request: Request) -> JSONResponse:
    """Record events durably (202), dead-lettering any invalid ones with their reasons.

    A single invalid event, or an array whose events are all invalid, is answered
    with 400 and the reasons; they are kept in the dead-letter record all the same.
    """
    service = request.app.state.service
    raw = await read_body(request, service.config.server.max_request_bytes)
    try:
        data: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        await run_in_threadpool(service.submit_events, [raw])
        raise Problem(400, "Bad Request", f"the body is not JSON: {error}") from None
    batch = data if isinstance(data, list) else [data]
    limit = service.config.ingest.max_batch_events
    if len(batch) > limit:
        raise Problem(413, "Content Too Large", f"{len(batch)} events; at most {limit} at once")
    result = await run_in_threadpool(service.submit_events, batch)
    rejected = [{"index": i, "reason": r} for i, r in result.rejected]
    if batch and not result.accepted:
        raise Problem(
            400, "Bad Request", "; ".join(r["reason"] for r in rejected), rejected=rejected
        )
    return JSONResponse({"accepted": result.accepted, "rejected": rejected}, status_code=202)
