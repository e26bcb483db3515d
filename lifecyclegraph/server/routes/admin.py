"""``/api/v1/admin``: start the service's own work (reconcile, enrich, reindex, rules)
and follow it; list the dead letters and replay them. Starting and replaying need a
write token; following and listing are reads."""

from __future__ import annotations

import asyncio
import difflib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from lifecyclegraph.server.auth import read_guard, write_guard
from lifecyclegraph.server.jobs import KINDS, JobRunning
from lifecyclegraph.server.problems import Problem

__all__ = ["router"]

#: The refusals every admin route may answer, as problem documents.
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token, or one not allowed here"},
    403: {"description": "a read token sent to start a job"},
}
router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=_ERRORS)


@router.post(
    "/{kind}",
    status_code=202,
    dependencies=[Depends(write_guard)],
    summary="Start a job: reconcile, enrich, reindex or rules",
    responses={404: {"description": "no such job"}, 409: {"description": "already running"}},
)
async def start_job(
    request: Request,
    kind: str,
    stale_after: Annotated[float | None, Query(gt=0)] = None,
) -> JSONResponse:
    """Start reconciliation (every known entity read again), enrichment (stubs
    hydrated; with ``stale_after``, also entities not hydrated for that many seconds),
    a rebuild of the search index or a rule run; 202 with the job, whose progress
    ``GET /api/v1/admin/jobs/{id}`` follows (``Location``)."""
    jobs = request.app.state.service.jobs
    if kind not in KINDS:
        near = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise Problem(404, "Not Found", f"no job {kind!r} (jobs: {', '.join(KINDS)}){hint}")
    if stale_after is not None and kind != "enrich":
        raise Problem(400, "Bad Request", f"stale_after is for enrich, not {kind}")
    try:
        job = jobs.start(kind, stale_after=stale_after)
    except JobRunning as running:
        raise Problem(409, "Conflict", str(running), job=running.job.as_dict()) from None
    return JSONResponse(
        job.as_dict(), status_code=202, headers={"Location": f"/api/v1/admin/jobs/{job.id}"}
    )


@router.get("/jobs", dependencies=[Depends(read_guard)], summary="Recent jobs")
async def list_jobs(request: Request) -> dict[str, Any]:
    """The last jobs, newest first, and per kind when the next scheduled run is due."""
    jobs = request.app.state.service.jobs
    return {
        "jobs": [job.as_dict() for job in reversed(jobs.jobs.values())],
        "kinds": jobs.last(),
    }


@router.get(
    "/jobs/{job_id}",
    dependencies=[Depends(read_guard)],
    summary="One job",
    responses={404: {"description": "no such job (only the last 100 are kept)"}},
)
async def get_job(request: Request, job_id: str) -> dict[str, Any]:
    """A job: its state, how many entities remain, what it found."""
    job = request.app.state.service.jobs.get(job_id)
    if job is None:
        raise Problem(404, "Not Found", f"no job {job_id!r}")
    return job.as_dict()


@router.get("/deadletters", dependencies=[Depends(read_guard)], summary="Dead letters")
async def dead_letters(request: Request) -> dict[str, Any]:
    """The rejected events and the work given up on, not replayed yet, oldest first,
    each with its reason (``lifecyclegraph deadletters``)."""
    journal = request.app.state.service.journal
    letters = await asyncio.to_thread(journal.dead_letters)
    return {
        "letters": [
            {
                "id": letter.id,
                "kind": letter.kind,
                "received_at": letter.received_at,
                "reason": letter.reason,
                "payload": letter.payload,
            }
            for letter in letters
        ]
    }


@router.post(
    "/deadletters/replay",
    dependencies=[Depends(write_guard)],
    summary="Replay the dead letters",
)
async def replay_dead_letters(request: Request) -> dict[str, int]:
    """Submit the dead letters again (``lifecyclegraph deadletters --replay``): events
    are checked again as any event is, work given up on is queued again; the worker
    processes them as it processes everything."""
    ingestor = request.app.state.service.ingestor
    result = await asyncio.to_thread(ingestor.replay_dead_letters)
    return {
        "accepted": result.accepted,
        "rejected": len(result.rejected),
        "requeued": result.requeued,
    }


@router.get("/search/check", dependencies=[Depends(read_guard)], summary="Check the index")
async def search_check(request: Request) -> dict[str, Any]:
    """Compare the search index with the store: what is missing, stale or extra
    (``lifecyclegraph search --check``, ``reindex --check``)."""
    index = request.app.state.service.graph.search_index
    report = await asyncio.to_thread(index.check)
    found: dict[str, Any] = report.as_dict()
    return found


@router.post("/search/repair", dependencies=[Depends(write_guard)], summary="Repair the index")
async def search_repair(request: Request) -> dict[str, Any]:
    """Re-index what the check finds wrong (``lifecyclegraph reindex --repair``); what
    was found, as the check says it."""
    index = request.app.state.service.graph.search_index
    report = await asyncio.to_thread(index.repair)
    found: dict[str, Any] = report.as_dict()
    return found
