"""``POST /api/v1/cluster/work``: work a worker of the cluster hands to the one that owns
it (``[cluster]``, docs/scale-out.md), acknowledged once durably queued.

Only the cluster's workers call it, with the ``[cluster] token`` as bearer token (not a
write token: a client has no business here). The body is a JSON array of work items
``{"uri", "hint", "reason", "not_before", "event_id"}``; each is checked, and a bad one
refuses the whole request with where it is (``items[3].uri``), so the sender keeps it.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.jsontext import loads
from lifecyclegraph.core.uris import is_aip_uri
from lifecyclegraph.server.auth import peer_guard
from lifecyclegraph.server.body import not_json, read_body
from lifecyclegraph.server.problems import Problem

__all__ = ["REASONS", "router"]

router = APIRouter(prefix="/api/v1/cluster", tags=["cluster"])

#: Why work may be queued (the journal's reasons): what a peer may hand over.
REASONS = ("event", "stub", "reconcile", "enrich", "replay")
#: The longest class IRI (hint) and event id an item may carry.
MAX_TEXT = 2048

EXAMPLE = [
    {
        "uri": "aip://model/registry/ranking-model",
        "hint": None,
        "reason": "event",
        "not_before": 1767225600.0,
        "event_id": "evt-1",
    }
]


def _bad(where: str, what: str) -> Problem:
    return Problem(422, "Unprocessable Content", f"{where}: {what}", where=where)


def check_items(body: Any, most: int, max_uri_length: int) -> list[dict[str, Any]]:
    """The work items of a request body, each checked.

    Raises:
        Problem: 413 over ``most`` items; 422 naming the first bad item and key.
    """
    if not isinstance(body, list):
        raise _bad("body", f"must be a JSON array of work items, not {type(body).__name__}")
    if len(body) > most:
        raise Problem(
            413, "Content Too Large", f"{len(body)} items, over the limit of {most} in one request"
        )
    items = []
    for n, item in enumerate(body):
        where = f"items[{n}]"
        if not isinstance(item, dict):
            raise _bad(where, f"must be an object, not {type(item).__name__}")
        unknown = sorted(set(item) - {"uri", "hint", "reason", "not_before", "event_id"})
        if unknown:
            raise _bad(f"{where}.{unknown[0]}", "unknown key")
        uri = item.get("uri")
        if not isinstance(uri, str):
            raise _bad(f"{where}.uri", "must be a string (an AIP URI)")
        if len(uri) > max_uri_length:
            raise _bad(f"{where}.uri", f"{len(uri)} characters, over the limit {max_uri_length}")
        if not is_aip_uri(uri):
            raise _bad(f"{where}.uri", f"not an AIP URI in canonical form: {uri[:200]!r}")
        reason = item.get("reason")
        if reason not in REASONS:
            raise _bad(f"{where}.reason", f"must be one of {', '.join(REASONS)}, not {reason!r}")
        hint = item.get("hint")
        if hint is not None and (not isinstance(hint, str) or not 0 < len(hint) <= MAX_TEXT):
            raise _bad(f"{where}.hint", f"must be a class IRI of 1 to {MAX_TEXT} characters")
        if reason == "stub" and hint is None:
            raise _bad(f"{where}.hint", "a stub needs its class")
        event_id = item.get("event_id")
        if event_id is not None and (not isinstance(event_id, str) or len(event_id) > MAX_TEXT):
            raise _bad(f"{where}.event_id", f"must be a string of at most {MAX_TEXT} characters")
        not_before = item.get("not_before")
        if not_before is not None and (
            isinstance(not_before, bool)
            or not isinstance(not_before, int | float)
            or not math.isfinite(not_before)
        ):
            raise _bad(f"{where}.not_before", "must be a Unix time (a number) or null")
        items.append(
            {
                "uri": uri,
                "hint": hint,
                "reason": reason,
                "not_before": None if not_before is None else float(not_before),
                "event_id": event_id,
            }
        )
    return items


@router.post(
    "/work",
    status_code=202,
    dependencies=[Depends(peer_guard)],
    summary="Take work another worker of the cluster hands over (workers only)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "array"}, "example": EXAMPLE}},
        }
    },
    responses={
        202: {"description": 'queued durably in this worker\'s journal: {"taken": n}'},
        400: {"description": "the body is not JSON (line and column given)"},
        401: {"description": "no [cluster] token, or another token"},
        404: {"description": "this server is not a worker of a cluster"},
        409: {"description": "an item belongs to another worker: the peer lists differ"},
        413: {"description": "too large, or too many items"},
        422: {"description": "an item is not a work item: where and what (items[3].uri)"},
    },
)
async def post_work(request: Request) -> JSONResponse:
    """Queue work another worker handed over, in this worker's journal (202).

    Every item must belong to this worker's partition: one that does not (the peers'
    lists differ, a configuration error) refuses the request with 409, and the sender
    keeps the work until the lists agree.
    """
    service = request.app.state.service
    config = service.config
    if config.cluster is None or service.ingestor.forwarder is None:
        raise Problem(404, "Not Found", "this server is not a worker of a cluster ([cluster])")
    raw = await read_body(request, config.server.max_request_bytes)
    try:
        body = await run_in_threadpool(loads, raw)
    except JsonTextError as error:
        raise not_json(error) from None
    items = check_items(body, config.ingest.max_batch_events, config.ingest.max_uri_length)
    partition = service.ingestor.forwarder.partition
    for n, item in enumerate(items):
        if not partition.owns(item["uri"]):
            raise Problem(
                409,
                "Conflict",
                f"items[{n}].uri: {item['uri']} belongs to worker {partition.owner(item['uri'])}, "
                f"not to this one ({partition.me}): do the workers have the same peers?",
                where=f"items[{n}].uri",
            )
    taken = await run_in_threadpool(service.ingestor.take_over, items)
    return JSONResponse({"taken": taken}, status_code=202)
