"""``POST /api/v1/lineage``: OpenLineage run events in, as the OpenLineage HTTP transport
sends them (``Authorization: Bearer <write token>``), acknowledged once durably recorded.

``GET /api/v1/lineage`` (lineage queries) is another route, in
:mod:`lifecyclegraph.server.routes.entities`.
"""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.jsontext import loads
from lifecyclegraph.providers.sources import UnknownPlatform
from lifecyclegraph.server.auth import write_guard
from lifecyclegraph.server.body import not_json, object_or_array_body, read_body
from lifecyclegraph.server.problems import Problem

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["lineage"])

EXAMPLE = {
    "eventType": "COMPLETE",
    "eventTime": "2026-01-01T00:00:00Z",
    "run": {"runId": "01a21b81-a83d-788c-a9b0-a28bfe10c6e5"},
    "job": {"namespace": "etl", "name": "daily_viewing"},
    "inputs": [{"namespace": "s3://warehouse", "name": "playback-events"}],
    "outputs": [{"namespace": "s3://warehouse", "name": "viewing-history"}],
    "producer": "https://example.org/etl",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
}


def _gunzip(raw: bytes, limit: int) -> bytes:
    """A gzip body inflated, never past ``limit`` bytes (a small body may inflate a lot).

    Raises:
        Problem: 413 over ``limit`` once inflated; 400 if it is not gzip data.
    """
    inflater = zlib.decompressobj(wbits=31)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as error:
        raise Problem(400, "Bad Request", f"the body is not gzip data: {error}") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise Problem(
            413, "Content Too Large", f"the body inflates to over the limit of {limit} bytes"
        )
    return body


async def _body(request: Request, limit: int) -> Any:
    """The JSON of the body, inflated first when it is sent gzip-compressed (the
    OpenLineage HTTP transport's ``compression: gzip``).

    Raises:
        Problem: 413 over ``limit`` bytes (sent or inflated); 415 for a content coding
            other than gzip; 400 if it is not JSON (what and where) or not gzip data.
    """
    raw = await read_body(request, limit)
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding == "gzip":
        raw = _gunzip(raw, limit)
    elif coding not in ("", "identity"):
        raise Problem(
            415,
            "Unsupported Media Type",
            f"Content-Encoding {coding[:40]!r} is not supported; send gzip or no coding",
        )
    try:
        return loads(raw)
    except JsonTextError as error:
        raise not_json(error) from None


@router.post(
    "/lineage",
    status_code=202,
    dependencies=[Depends(write_guard)],
    summary="Send an OpenLineage run event (or a JSON array of them)",
    openapi_extra=object_or_array_body(EXAMPLE),
    responses={
        202: {"description": "recorded durably; refused ones in an array are listed"},
        400: {"description": "not JSON, or no event is a run event this service takes"},
        401: {"description": "no write token"},
        404: {"description": "OpenLineage is not configured ([sources.openlineage])"},
        413: {"description": "too large, sent or once inflated"},
        415: {"description": "a Content-Encoding other than gzip"},
    },
)
async def post_lineage(request: Request) -> JSONResponse:
    """Record run events durably (202): their jobs, runs and datasets are then folded
    into the graph (``docs/openlineage.md``).

    A refused event is answered 400 with what is wrong and where (``inputs[0].name:
    missing, or not a non-empty string``); in an array, the others are taken and the
    refused ones listed by ``index``.
    """
    service = request.app.state.service
    body = await _body(request, service.config.server.max_request_bytes)
    batch = body if isinstance(body, list) else [body]
    limit = service.config.ingest.max_batch_events
    if len(batch) > limit:
        raise Problem(
            413,
            "Content Too Large",
            f"more than {limit} events; the limit is {limit} at once (max_batch_events)",
        )
    try:
        result = await run_in_threadpool(service.submit_lineage, batch)
    except UnknownPlatform:
        raise Problem(
            404,
            "Not Found",
            "OpenLineage is not enabled on this server: add a [sources.openlineage] table "
            "to its configuration",
        ) from None
    rejected = [{"index": i, "reason": r} for i, r in result.rejected]
    if batch and not result.accepted:
        raise Problem(
            400, "Bad Request", "; ".join(r["reason"] for r in rejected), rejected=rejected
        )
    return JSONResponse({"accepted": result.accepted, "rejected": rejected}, status_code=202)
