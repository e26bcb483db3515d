"""``POST /api/v1/cluster/work``: work a worker of the cluster hands to the one that owns
it (``[cluster]``, docs/scale-out.md), acknowledged once durably queued.

Only the cluster's workers call it, with the ``[cluster] token`` as bearer token (not a
write token: a client has no business here). The body is a JSON array of work items
``{"uri", "hint", "reason", "not_before", "event_id"}``; each is checked, and a bad one
refuses the whole request with where it is (``items[3].uri``), so the sender keeps it.
The work of a pushed source (OpenLineage) brings the documents the sender's journal
holds for its URI, ``"documents": [{"kind", "text"}]``: each must be a document its
source accepts that concerns the URI; the owner records them (each once) with the work.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.events import EventRejected
from lifecyclegraph.core.jsontext import loads
from lifecyclegraph.core.uris import AipUri, is_aip_uri
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.server.auth import peer_guard
from lifecyclegraph.server.body import not_json, read_body
from lifecyclegraph.server.problems import Problem

__all__ = ["REASONS", "router"]

router = APIRouter(prefix="/api/v1/cluster", tags=["cluster"])

#: The keys of a work item (besides ``documents``, a pushed source's).
KEYS = ("uri", "hint", "reason", "not_before", "event_id")
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
        unknown = sorted(set(item) - {*KEYS, "documents"})
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
        checked: dict[str, Any] = {
            "uri": uri,
            "hint": hint,
            "reason": reason,
            "not_before": None if not_before is None else float(not_before),
            "event_id": event_id,
        }
        if "documents" in item:
            checked["documents"] = _documents(item["documents"], f"{where}.documents")
        items.append(checked)
    return items


def _documents(documents: Any, where: str) -> list[dict[str, str]]:
    """The shape of an item's ``documents``: ``[{"kind", "text"}]``, both strings."""
    if not isinstance(documents, list):
        raise _bad(where, f"must be an array of documents, not {type(documents).__name__}")
    for k, document in enumerate(documents):
        at = f"{where}[{k}]"
        if not isinstance(document, dict):
            raise _bad(at, f"must be an object, not {type(document).__name__}")
        unknown = sorted(set(document) - {"kind", "text"})
        if unknown:
            raise _bad(f"{at}.{unknown[0]}", "unknown key")
        kind = document.get("kind")
        if not isinstance(kind, str) or not 0 < len(kind) <= MAX_TEXT:
            raise _bad(f"{at}.kind", f"must be an event type of 1 to {MAX_TEXT} characters")
        if not isinstance(document.get("text"), str):
            raise _bad(f"{at}.text", "must be a string (the document as JSON text)")
    return documents


def check_documents(items: list[dict[str, Any]], sources: Sources) -> None:
    """Check the documents that come with items: each is a document of the item's
    pushed source, as that source accepts it, and concerns the item's URI.

    Raises:
        Problem: 422 naming the first bad document (``items[0].documents[2].text``).
    """
    for n, item in enumerate(items):
        if "documents" not in item:
            continue
        where = f"items[{n}].documents"
        uri = item["uri"]
        if not sources.pushed(uri):
            raise _bad(where, f"only a pushed source's work carries documents, not {uri}")
        provider = sources.providers[AipUri.parse(uri).platform_id]
        for k, document in enumerate(item["documents"]):
            at = f"{where}[{k}].text"
            try:
                records = provider.records(loads(document["text"]))
            except JsonTextError as error:
                raise _bad(at, f"not JSON: {error}") from None
            except EventRejected as error:
                raise _bad(at, error.reason) from None
            if uri not in {record[0] for record in records}:
                raise _bad(at, f"the document does not concern {uri}")


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
        422: {
            "description": "an item is not a work item, or a document that comes with it is "
            "not its pushed source's: where and what (items[3].uri, items[0].documents[1].text)"
        },
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
    await run_in_threadpool(check_documents, items, service.ingestor.sources)
    taken = await run_in_threadpool(service.ingestor.take_over, items)
    return JSONResponse({"taken": taken}, status_code=202)
