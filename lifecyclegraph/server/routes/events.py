"""``POST /api/v1/events``: events in, acknowledged only once durably recorded."""

from __future__ import annotations

from itertools import islice
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.jsontext import array_items, decode_utf8, is_array
from lifecyclegraph.server.auth import write_guard
from lifecyclegraph.server.body import not_json, object_or_array_body, read_body
from lifecyclegraph.server.problems import Problem

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["events"])

EXAMPLE = {
    "event_type": "model_instance_created",
    "source": "registry",
    "instance_id": "ranking-model-v5-20XX0101",
    "emitted_at": "2026-01-01T00:00:00Z",
}


def _events_of(body: bytes, most: int) -> list[Any]:
    """The events a body holds (at most ``most``): its array's items, each as its own
    text, or the body as one event.

    Raises:
        JsonTextError: the body is an array that is not UTF-8 or not well formed.
    """
    if not is_array(body):
        return [body]
    return list(islice(array_items(decode_utf8(body)), most))


@router.post(
    "/events",
    status_code=202,
    dependencies=[Depends(write_guard)],
    summary="Send one event or a JSON array of events",
    openapi_extra=object_or_array_body(EXAMPLE),
    responses={
        202: {"description": "recorded durably; bad ones in the array are listed"},
        400: {"description": "not JSON, or every event is invalid"},
        401: {"description": "no write token"},
        413: {"description": "too large"},
    },
)
async def post_events(request: Request) -> JSONResponse:
    """Record events durably (202), dead-lettering any invalid ones with their reasons.

    Each item of an array is checked alone, as a line of ``lifecyclegraph ingest`` is
    (its size is that of its own text): the good ones are accepted, the bad ones
    listed. A single invalid event, or an array whose events are all invalid, is
    answered with 400 and the reasons; they are kept in the dead-letter record all
    the same.
    """
    service = request.app.state.service
    raw = await read_body(request, service.config.server.max_request_bytes)
    limit = service.config.ingest.max_batch_events
    try:
        batch = await run_in_threadpool(_events_of, raw, limit + 1)
    except JsonTextError as error:
        await run_in_threadpool(service.submit_events, [raw])
        raise not_json(error) from None
    if len(batch) > limit:
        raise Problem(
            413,
            "Content Too Large",
            f"more than {limit} events; the limit is {limit} at once (max_batch_events)",
        )
    result = await run_in_threadpool(service.submit_events, batch)
    rejected = [{"index": i, "reason": r} for i, r in result.rejected]
    if batch and not result.accepted:
        raise Problem(
            400, "Bad Request", "; ".join(r["reason"] for r in rejected), rejected=rejected
        )
    return JSONResponse({"accepted": result.accepted, "rejected": rejected}, status_code=202)
