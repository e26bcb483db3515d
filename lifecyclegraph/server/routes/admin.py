"""``/api/v1/admin``: start the service's own work (reconcile, enrich, reindex, rules)
and follow it. Starting needs a write token; following is a read."""

from __future__ import annotations

import difflib
from typing import Any

from fastapi import APIRouter, Depends, Request
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
async def start_job(request: Request, kind: str) -> JSONResponse:
    """Start reconciliation (every known entity read again), enrichment (stubs
    hydrated), a rebuild of the search index or a rule run; 202 with the job, whose
    progress ``GET /api/v1/admin/jobs/{id}`` follows (``Location``)."""
    jobs = request.app.state.service.jobs
    if kind not in KINDS:
        near = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise Problem(404, "Not Found", f"no job {kind!r} (jobs: {', '.join(KINDS)}){hint}")
    try:
        job = jobs.start(kind)
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
