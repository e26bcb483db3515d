"""``POST /api/v1/events``: events in, acknowledged only once durably recorded.

The body is one event, a JSON array of events, or JSON lines (``application/x-ndjson``,
one event a line, as ``lifecyclegraph ingest`` reads a file; what ``ingest --server``
sends).
"""

from __future__ import annotations

import io
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.jsontext import array_items, decode_utf8, is_array, json_lines
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


#: The media types of a JSON-lines body.
JSON_LINES = ("application/x-ndjson", "application/jsonl", "application/json-lines")

Name = Annotated[
    str | None,
    Query(
        max_length=1024,
        description="JSON lines only: the file the lines come from; a rejected line's dead "
        "letter then starts with <name>:<line>, as lifecyclegraph ingest writes it",
    ),
]
FirstLine = Annotated[
    int, Query(ge=1, description="JSON lines only: the number of the body's first line")
]


def _body(example: dict[str, Any]) -> dict[str, Any]:
    extra = object_or_array_body(example)
    extra["requestBody"]["content"]["application/x-ndjson"] = {
        "schema": {"type": "string"},
        "example": '{"event_type": "model_instance_created", ...}\n{"event_type": ...}\n',
    }
    return extra


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
    openapi_extra=_body(EXAMPLE),
    responses={
        202: {
            "description": "recorded durably; bad ones in the array are listed (by index, "
            "and for JSON lines by line number too)"
        },
        400: {"description": "not JSON, or every event is invalid"},
        401: {"description": "no write token"},
        413: {"description": "too large"},
    },
)
async def post_events(
    request: Request, name: Name = None, first_line: FirstLine = 1
) -> JSONResponse:
    """Record events durably (202), dead-lettering any invalid ones with their reasons.

    Each item of an array is checked alone, as a line of ``lifecyclegraph ingest`` is
    (its size is that of its own text): the good ones are accepted, the bad ones
    listed. A single invalid event, or an array whose events are all invalid, is
    answered with 400 and the reasons; they are kept in the dead-letter record all
    the same.

    A JSON-lines body (``Content-Type: application/x-ndjson``) is read as
    ``lifecyclegraph ingest`` reads a file: each non-blank line is one event, checked
    alone, even one that is not JSON or not UTF-8; a rejected one is listed with its
    ``line`` (counted from ``first_line``), and with ``name`` its dead letter's
    reason starts with ``<name>:<line>:``.
    """
    service = request.app.state.service
    raw = await read_body(request, service.config.server.max_request_bytes)
    limit = service.config.ingest.max_batch_events
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in JSON_LINES:
        return await _post_lines(service, raw, limit, name, first_line)
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


async def _post_lines(
    service: Any, raw: bytes, limit: int, name: str | None, first: int
) -> JSONResponse:
    """Submit a JSON-lines body's events, naming each rejected one by its line."""
    lines = list(islice(json_lines(io.BytesIO(raw), first), limit + 1))
    if len(lines) > limit:
        raise Problem(
            413,
            "Content Too Large",
            f"more than {limit} events; the limit is {limit} at once (max_batch_events)",
        )
    where = [f"{name}:{number}" for number, _ in lines] if name is not None else None
    result = await run_in_threadpool(service.submit_events, [line for _, line in lines], where)
    rejected = [{"index": i, "line": lines[i][0], "reason": r} for i, r in result.rejected]
    if lines and not result.accepted:
        raise Problem(
            400, "Bad Request", "; ".join(r["reason"] for r in rejected), rejected=rejected
        )
    return JSONResponse({"accepted": result.accepted, "rejected": rejected}, status_code=202)
